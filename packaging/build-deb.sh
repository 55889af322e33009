#!/bin/sh
# Builds the klogs Debian package with dpkg-deb (no debhelper needed).
#   packaging/build-deb.sh VERSION BINARY GENERATED_DIR CONFIG
# GENERATED_DIR holds klogs.1 and completions/ (from `make man completions`). Writes .build/deb/klogs_VERSION_ARCH.deb.
# Depends: is read off the binary: the Debian package of every shared library `ldd` shows, plus uap-core (the user
# agent rules klogs reads at run time).
set -eu
version=$1 binary=$2 generated=$3 config=$4
arch=$(dpkg --print-architecture)
out=.build/deb
root=$out/klogs_${version}_$arch
rm -rf "$root"
mkdir -p "$root/DEBIAN"

install -Dm755 "$binary" "$root/usr/bin/klogs"
strip --strip-unneeded "$root/usr/bin/klogs" 2>/dev/null || true
install -d "$root/usr/share/man/man1"
gzip -9n < "$generated/klogs.1" > "$root/usr/share/man/man1/klogs.1.gz"
install -Dm644 "$generated/completions/klogs.bash" "$root/usr/share/bash-completion/completions/klogs"
install -Dm644 "$generated/completions/_klogs" "$root/usr/share/zsh/vendor-completions/_klogs"
install -Dm644 "$generated/completions/klogs.fish" "$root/usr/share/fish/vendor_completions.d/klogs.fish"
install -Dm644 "$config" "$root/etc/klogs/klogs.toml"
install -d "$root/lib/systemd/system" "$root/usr/share/doc/klogs/examples"
sed 's|@BINDIR@|/usr/bin|g' packaging/systemd/klogs-ingest.service > "$root/lib/systemd/system/klogs-ingest.service"
install -m644 packaging/systemd/klogs-ingest.timer "$root/lib/systemd/system/klogs-ingest.timer"
sed 's|@BINDIR@|/usr/bin|g' packaging/logrotate/nginx-klogs > "$root/usr/share/doc/klogs/examples/logrotate-nginx"
install -m644 "$config" "$root/usr/share/doc/klogs/examples/klogs.toml"
[ -f README.md ] && gzip -9n < README.md > "$root/usr/share/doc/klogs/README.md.gz"
cat > "$root/usr/share/doc/klogs/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: klogs
Files: *
Copyright: klogs maintainers
License: see the project repository. The binary includes the Swift runtime and Foundation
 (Apache-2.0 with Runtime Library Exception), swift-argument-parser, swift-log (Apache-2.0) and Yams (MIT).
COPYRIGHT

# Depends: the package owning each shared library the binary loads.
packages=""
for library in $(ldd "$binary" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }'); do
    owner=$(dpkg -S "$library" 2>/dev/null || dpkg -S "$(readlink -f "$library")" 2>/dev/null \
        || dpkg -S "/usr$library" 2>/dev/null || true)
    owner=${owner%%:*}
    [ -n "$owner" ] && packages="$packages $owner"
done
packages="$(echo $packages uap-core | tr ' ' '\n' | sort -u)"
libc_version=$(dpkg-query -W -f='${Version}' libc6 | sed 's/-.*//')
depends=""
for package in $packages; do
    case $package in
    libc6) entry="libc6 (>= $libc_version)" ;;
    *) entry=$package ;;
    esac
    depends="${depends:+$depends, }$entry"
done

installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@DEPENDS@|$depends|" \
    -e "s|@INSTALLED_SIZE@|$installed_size|" packaging/debian/control.in > "$root/DEBIAN/control"
echo /etc/klogs/klogs.toml > "$root/DEBIAN/conffiles"
install -m755 packaging/debian/postinst packaging/debian/postrm "$root/DEBIAN/"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | sort | xargs md5sum) > "$root/DEBIAN/md5sums"

dpkg-deb --root-owner-group -Zxz --build "$root" "$out/klogs_${version}_$arch.deb" >/dev/null
echo "built $out/klogs_${version}_$arch.deb ($(du -h "$out/klogs_${version}_$arch.deb" | cut -f1)); Depends: $depends"
