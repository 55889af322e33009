#!/usr/bin/env bash
# Instructions (valgrind callgrind) to split and parse generated lines with the built-in combined parser and with
# a compiled format string, and their ratio: the loop of the IngestBenchmarks "Split and parse" benchmarks, counted
# instead of timed, so that a loaded machine still gives a figure (issue 5 asks a compiled format to stay within 10%).
#
#   scripts/parse-instructions.sh [FORMAT] [LINES]
#
# FORMAT defaults to nginx's `log_format combined` string, LINES to 100000 (`klogs generate --seed 42`, one day,
# made in memory outside the counted function). Builds a scratch release package in ${TMPDIR:-/tmp} over this
# tree's Sources/KlogsCore and Sources/KlogsGenerator (linked, not copied; the same compiler flags as Package.swift).
set -euo pipefail

format=${1:-'$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"'}
lines=${2:-100000}
root=$(cd "$(dirname "$0")/.." && pwd)
work=${TMPDIR:-/tmp}/klogs-parse-instructions
mkdir -p "$work/Sources/driver"
ln -sfn "$root/Sources/KlogsCore" "$work/Sources/KlogsCore"
ln -sfn "$root/Sources/KlogsGenerator" "$work/Sources/KlogsGenerator"
cat > "$work/Package.swift" <<'EOF'
// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "parse-instructions",
    targets: [
        .target(name: "KlogsCore"),
        .target(name: "KlogsGenerator"),
        .executableTarget(name: "driver", dependencies: ["KlogsCore", "KlogsGenerator"]),
    ]
)
for target in package.targets {
    target.swiftSettings = [
        .enableUpcomingFeature("ExistentialAny"), .enableUpcomingFeature("MemberImportVisibility"),
        .unsafeFlags(["-cross-module-optimization", "-enforce-exclusivity=unchecked"]),
    ]
}
EOF
cat > "$work/Sources/driver/main.swift" <<'EOF'
import KlogsCore
import KlogsGenerator

// driver builtin|compiled LINES FORMAT
let arguments = CommandLine.arguments
var generator = LogGenerator(LogGenerator.Configuration(lines: Int(arguments[2])!, seed: 42, days: 1))
let log = generator.generateAll()
var parser =
    arguments[1] == "builtin"
    ? AccessLogParser(format: .combined)
    : AccessLogParser(format: .custom(try CompiledFormat(arguments[3], allowsBuiltIn: false)))

/// The counted work, as in the benchmark: split the log into lines and parse each.
@inline(never)
func splitAndParse(_ parser: inout AccessLogParser) -> Int {
    var record = AccessRecord()
    var splitter = LineSplitter()
    var accepted = 0
    log.withUnsafeBytes { bytes in
        splitter.feed(bytes) { _, line in
            if case .complete(let line) = line, parser.parse(line, into: &record) == nil { accepted += 1 }
        }
    }
    return accepted
}
print(arguments[1], "accepted", splitAndParse(&parser), "lines")
EOF
swift build -c release --package-path "$work" 2>&1 | grep -E "error|warning: unre" || true
driver=$(swift build -c release --package-path "$work" --show-bin-path)/driver
counted=$(nm "$driver" | awk '/ \$s6driver13splitAndParse.*F$/ && !found { print $3; found = 1 }')
count() {
    valgrind --tool=callgrind --toggle-collect="$counted" --callgrind-out-file="$work/callgrind.$1" \
        "$driver" "$1" "$lines" "$format" 2>&1 | grep -v '^==' >&2
    awk '/^summary:/ { print $2 }' "$work/callgrind.$1"
}
builtin=$(count builtin)
compiled=$(count compiled)
echo "built-in combined: $builtin instructions; compiled: $compiled; ratio $(awk "BEGIN { printf \"%.3f\", $compiled / $builtin }")"
echo "format: $format"
