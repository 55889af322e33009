#!/bin/sh
# Writes the build's git commit into Sources/KlogsIngest/Pipeline/BuildInfo.swift, or puts the committed copy back.
#   packaging/build-info.sh stamp     before a release build
#   packaging/build-info.sh restore   after it (the Makefile runs it even when the build fails)
# The committed copy says "unknown", so `swift build` needs neither make nor git.
set -eu
file=Sources/KlogsIngest/Pipeline/BuildInfo.swift
case "${1:-}" in
stamp)
    commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
    if [ "$commit" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no -- Sources Package.swift 2>/dev/null | grep -v "$file" || true)" ]; then
        commit="$commit-dirty"
    fi
    sed "s/static let commit = \"[^\"]*\"/static let commit = \"$commit\"/" "$file" > "$file.tmp"
    if cmp -s "$file" "$file.tmp"; then rm -f "$file.tmp"; else mv "$file.tmp" "$file"; fi
    echo "build-info: commit $commit"
    ;;
restore)
    sed 's/static let commit = "[^"]*"/static let commit = "unknown"/' "$file" > "$file.tmp"
    if cmp -s "$file" "$file.tmp"; then rm -f "$file.tmp"; else mv "$file.tmp" "$file"; fi
    ;;
*)
    echo "usage: $0 stamp|restore" >&2
    exit 64
    ;;
esac
