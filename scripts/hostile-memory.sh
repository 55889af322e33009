#!/usr/bin/env bash
# Peak memory of `klogs ingest` on hostile inputs too big for the test suite (issue 9), with /usr/bin/time -v.
#
#   scripts/hostile-memory.sh [KLOGS_BINARY]     (default: .build/release/klogs, else .build/debug/klogs)
#
# Each input is generated on the fly into a temporary directory, ingested once, and deleted:
#   paths   1,000,000 lines with 1,000,000 distinct paths in one day: memory stays bounded, and the summary warns
#           about the path cardinality
#   zeros   a 1 MB gzip that inflates to 4 GiB of zeros (one endless line): streams, rejected as line_too_long
#   repeat  a gzip that inflates to 1 GiB of one repeated line (about 4.3 million lines): counted exactly
#   long    ten 10 MB lines among good ones: each rejected as line_too_long, never buffered
#   classes 1,000,000 lines, each with its own Firefox version (and every tenth with its own Android version),
#           with 1 thread and with 2: the user-agent classes stop at their limit, and the summary warns
# Prints one line per case: its peak resident memory, wall time, exit status, and what the summary says.
set -euo pipefail

klogs=${1:-}
if [[ -z $klogs ]]; then
    klogs=.build/release/klogs
    [[ -x $klogs ]] || klogs=.build/debug/klogs
fi
[[ -x $klogs ]] || { echo "no klogs binary at $klogs: run swift build first" >&2; exit 64; }
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time is missing: apt-get install time" >&2; exit 64; }
work=$(mktemp -d /tmp/klogs-hostile-memory-XXXXXX)
trap 'rm -rf "$work"' EXIT

# run NAME INPUT: ingests INPUT into a fresh data directory and reports the peak memory and the summary.
run() {
    local name=$1 input=$2
    shift 2
    local status=0
    /usr/bin/time -v "$klogs" ingest --retention-days 0 --format combined --data "$work/data-$name" \
        --summary-json "$work/$name.json" "$@" "$input" 2>"$work/$name.err" >/dev/null || status=$?
    local peak wall
    peak=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/$name.err")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/$name.err")
    python3 - "$work/$name.json" "$name" "$peak" "$wall" "$status" <<'EOF'
import json, sys
path, name, peak, wall, status = sys.argv[1:]
summary = json.load(open(path))
warnings = [w.split(";")[0] for w in summary["warnings"]]
print(f"{name:7} peak {int(peak) // 1024:5} MiB  wall {wall:>8}  exit {status}  read {summary['lines_read']:,} lines "
      f"({summary['bytes_read'] / 2**20:,.0f} MiB)  ingested {summary['lines_ingested']:,}  "
      f"rejected {summary['rejected']}  warnings {warnings}")
EOF
    rm -rf "$work/data-$name" "$input"
}

python3 - "$work/paths.log" <<'EOF'
import sys
with open(sys.argv[1], "w") as out:
    for i in range(1_000_000):
        out.write(f'192.0.2.{i % 250} - - [01/Nov/2026:{i // 60000 % 24:02d}:{i // 1000 % 60:02d}:{i % 60:02d} +0000] '
                  f'"GET /item/{i:07d}/{(i * 2654435761) % 2**32:08x} HTTP/1.1" 200 {i % 5000} "-" "Mozilla/5.0"\n')
EOF
run paths "$work/paths.log"

# bomb PATH COPIES LINE: a gzip file of COPIES identical members, each 1 MiB of LINE repeated (zeros when empty).
bomb() {
    python3 - "$@" <<'EOF'
import gzip, sys
path, copies, line = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
block = line * ((1 << 20) // len(line)) if line else b"\0" * (1 << 20)
with open(path, "wb") as out:
    out.write(gzip.compress(block, compresslevel=9) * copies)
EOF
}

bomb "$work/zeros.gz" 4096 ""
run zeros "$work/zeros.gz"

bomb "$work/repeat.gz" 1024 $'192.0.2.1 - - [01/Nov/2026:10:00:00 +0000] "GET /same HTTP/1.1" 200 123 "-" "Mozilla/5.0 (X11; Linux x86_64)"\n'
run repeat "$work/repeat.gz"

python3 - "$work/long.log" <<'EOF'
import sys
good = b'192.0.2.1 - - [01/Nov/2026:10:00:00 +0000] "GET /ok HTTP/1.1" 200 1 "-" "-"\n'
with open(sys.argv[1], "wb") as out:
    for _ in range(10):
        out.write(good * 100)
        out.write(b'192.0.2.1 - - [01/Nov/2026:10:00:00 +0000] "GET /' + b"A" * (10 << 20) + b' HTTP/1.1" 200 1 "-" "-"\n')
EOF
run long "$work/long.log"

# classes THREADS: a fresh copy of the classes input, ingested with THREADS threads.
classes() {
    python3 - "$work/classes-$1.log" <<'EOF'
import sys
with open(sys.argv[1], "w") as out:
    for i in range(1_000_000):
        system = f"Linux; Android {i}" if i % 10 == 0 else "X11; Linux x86_64"
        out.write(f'192.0.2.{i % 250} - - [01/Nov/2026:{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d} +0000] '
                  f'"GET /page/{i % 100} HTTP/1.1" 200 {i % 5000} "-" '
                  f'"Mozilla/5.0 ({system}; rv:{i}.0) Gecko/20100101 Firefox/{i}.0"\n')
EOF
    run "classes-$1" "$work/classes-$1.log" --threads "$1"
}
classes 1
classes 2
