#!/usr/bin/env bash
# Benchmarks/compare.sh: klogs side by side with GoAccess and DuckDB on the same generated access log.
#
# Generates LINES lines (default 1,000,000) with `klogs generate --seed 42`, gzips them (one member), and times:
#   - klogs ingest, plain and gzip input; with --threads 1 and --threads $(nproc) when `klogs ingest --help` lists
#     --threads, otherwise the single pipeline there is (the table says so);
#   - GoAccess (Debian package goaccess), --log-format=COMBINED, JSON output, every panel;
#   - DuckDB (the duckdb Python module): read_csv of the raw lines, regexp_extract parsing, an hourly aggregation,
#     an LZ4 Parquet write (the SQL is below, in DUCKDB_JOB_SQL);
#   - zlib inflating the gzip file to nowhere (Benchmarks/Compare/inflate-to-nowhere.c): the issue's target is klogs
#     gzip ingest at >= 85% of its speed;
#   - ISA-L inflating it to nowhere (Benchmarks/Compare/isal-inflate-to-nowhere.c), the inflate klogs uses, so the
#     speed limit of gzip ingest.
# Peers that are not installed are skipped with a note (--install installs them). Each command runs RUNS times
# (default 3); the table shows the median wall time and the largest peak RSS (/usr/bin/time -v). Lines/s and MB/s
# are of the uncompressed log for every row, gzip ones included.
#
# The table's rows are timed one after the other, so on a machine whose speed drifts (a VM whose neighbours come
# and go) the zlib row and the gzip rows can see different machines. The gzip target is therefore also timed
# interleaved: PAIRS rounds (default 7) of zlib then klogs gzip on every core, the ratio of the two medians
# printed with the lowest and highest ratio of a single round.
#
# Then DuckDB reads the `events` rows klogs wrote and writes them again as LZ4 Parquet with its default settings:
# the issue's size target is ours no larger than that.
#
# Usage: Benchmarks/compare.sh [--install] [--keep]
#   --install   apt-get install goaccess, and pip-install duckdb into the project's git-ignored .venv
#   --keep      keep the work directory (the log, the outputs) instead of deleting it at the end
# Environment:
#   LINES=1000000   lines to generate          RUNS=3        runs per command
#   PAIRS=7         interleaved rounds of zlib and klogs gzip for the gzip target (0: none)
#   KLOGS=path      the klogs binary (default: this checkout's release build, as `make release` makes it)
#   PYTHON=path     a Python with duckdb (default: $KLOGS_PYTHON, else .venv/bin/python, else python3)
#   WORK=dir        the work directory (default: a new /tmp/klogs-compare.XXXXXX)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LINES=${LINES:-1000000}
RUNS=${RUNS:-3}
PAIRS=${PAIRS:-7}
SEED=42
INSTALL=false
KEEP=false
for argument in "$@"; do
    case $argument in
        --install) INSTALL=true ;;
        --keep) KEEP=true ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "compare.sh: unknown argument '$argument'; see --help" >&2; exit 64 ;;
    esac
done

note() { printf '%s\n' "$*" >&2; }

# ---------------------------------------------------------------------------------------------------------------
# Tools

install_peers() {
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    if ! command -v goaccess >/dev/null; then
        $sudo apt-get update -qq
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq goaccess
    fi
    if ! "$ROOT/.venv/bin/python" -c 'import duckdb' 2>/dev/null; then
        [ -x "$ROOT/.venv/bin/python" ] || python3 -m venv "$ROOT/.venv"
        "$ROOT/.venv/bin/python" -m pip install -q --disable-pip-version-check \
            "$(grep -i '^duckdb' "$ROOT/Tests/interop/requirements.txt" || echo duckdb)"
    fi
}

# The first Python that imports duckdb, or nothing.
find_python() {
    local candidate
    for candidate in "${PYTHON:-}" "${KLOGS_PYTHON:-}" "$ROOT/.venv/bin/python" python3; do
        [ -n "$candidate" ] || continue
        if "$candidate" -c 'import duckdb' 2>/dev/null; then
            command -v "$candidate"
            return
        fi
    done
}

if $INSTALL; then install_peers; fi
[ -x /usr/bin/time ] || { note "compare.sh: /usr/bin/time is missing (Debian package 'time'); it measures peak RSS."; exit 69; }

if [ -z "${KLOGS:-}" ]; then
    # The binary `make release` ships: the Swift runtime linked in, which also starts faster (no dynamic
    # relocation of libswiftCore and Foundation: about 17 M instructions, 5 ms, before any line is read).
    note "Building klogs (release, as make release builds it)..."
    (cd "$ROOT" && swift build -c release --static-swift-stdlib --product klogs >/dev/null)
    KLOGS="$ROOT/.build/release/klogs"
fi
PYTHON=$(find_python)
GOACCESS=$(command -v goaccess || true)

WORK=${WORK:-$(mktemp -d /tmp/klogs-compare.XXXXXX)}
mkdir -p "$WORK"
if ! $KEEP; then trap 'rm -rf "$WORK"' EXIT; fi
LOG="$WORK/access.log"
GZ="$WORK/access.log.gz"

# ---------------------------------------------------------------------------------------------------------------
# Measuring

# Result rows, tab-separated: name, seconds, peak RSS in KiB, output bytes.
RESULTS="$WORK/results.tsv"
: >"$RESULTS"

# The median of numbers on standard input.
median() { sort -g | awk '{ value[NR] = $1 } END { printf "%.6f\n", (NR % 2) ? value[(NR + 1) / 2] : (value[NR / 2] + value[NR / 2 + 1]) / 2 }'; }

# measure NAME OUTPUT PREPARE -- COMMAND...: runs PREPARE (e.g. removing the last run's output; not timed) and then
# COMMAND, RUNS times; records the median wall time, the largest peak RSS and the size of OUTPUT (a file or a
# directory; Parquet files only when it is a directory) after the last run.
measure() {
    local name=$1 output=$2 prepare=$3
    shift 4
    local times="$WORK/times.txt" rss=0 run start end peak
    : >"$times"
    for ((run = 1; run <= RUNS; run++)); do
        eval "$prepare"
        start=$(date +%s%N)
        if ! /usr/bin/time -v -o "$WORK/time-v.txt" "$@" >"$WORK/stdout.txt" 2>"$WORK/stderr.txt"; then
            note "compare.sh: '$name' failed:"
            cat "$WORK/stderr.txt" >&2
            return 1
        fi
        end=$(date +%s%N)
        echo "$(( (end - start) / 1000 ))e-6" >>"$times"
        peak=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/time-v.txt")
        ((peak > rss)) && rss=$peak
    done
    printf '%s\t%s\t%s\t%s\n' "$name" "$(median <"$times")" "$rss" "$(output_bytes "$output")" >>"$RESULTS"
    note "  $name: $(median <"$times") s"
}

# The size of a file, or of the Parquet files under a directory, in bytes.
output_bytes() {
    if [ -d "$1" ]; then
        find "$1" -name '*.parquet' -printf '%s\n' | awk '{ total += $1 } END { print total + 0 }'
    elif [ -f "$1" ]; then
        stat -c %s "$1"
    else
        echo 0
    fi
}

# ---------------------------------------------------------------------------------------------------------------
# The input

note "Generating $LINES lines (seed $SEED) in $WORK..."
"$KLOGS" generate --lines "$LINES" --seed "$SEED" --output "$LOG"
gzip -6 -c "$LOG" >"$GZ"
LOG_BYTES=$(stat -c %s "$LOG")
GZ_BYTES=$(stat -c %s "$GZ")

# ---------------------------------------------------------------------------------------------------------------
# zlib alone: the issue's gzip target is relative to it (klogs itself inflates with ISA-L, below)

INFLATE_TOOL=""
if cc -O2 -o "$WORK/inflate-to-nowhere" "$ROOT/Benchmarks/Compare/inflate-to-nowhere.c" -lz 2>"$WORK/cc.txt"; then
    INFLATE_TOOL="zlib inflate to nowhere (Benchmarks/Compare/inflate-to-nowhere.c, one thread)"
    note "Timing $INFLATE_TOOL..."
    measure "zlib inflate" /dev/null : -- "$WORK/inflate-to-nowhere" "$GZ"
elif command -v pigz >/dev/null; then
    INFLATE_TOOL="pigz -dc > /dev/null (zlib's inflate, with reader and writer threads; no C compiler for the tool)"
    measure "zlib inflate" /dev/null : -- sh -c 'pigz -dc "$1" >/dev/null' sh "$GZ"
else
    INFLATE_TOOL="gzip -dc > /dev/null (GNU gzip's own inflate, slower than zlib: a lenient target; no C compiler)"
    measure "zlib inflate" /dev/null : -- sh -c 'gzip -dc "$1" >/dev/null' sh "$GZ"
fi

# ISA-L alone: the inflate klogs uses (libisal-dev, from `make deps`).
if cc -O2 -o "$WORK/isal-inflate-to-nowhere" "$ROOT/Benchmarks/Compare/isal-inflate-to-nowhere.c" -lisal \
    2>"$WORK/cc-isal.txt"; then
    note "Timing ISA-L inflate to nowhere (Benchmarks/Compare/isal-inflate-to-nowhere.c, one thread)..."
    measure "ISA-L inflate" /dev/null : -- "$WORK/isal-inflate-to-nowhere" "$GZ"
else
    note "compare.sh: no ISA-L inflate row (cannot build Benchmarks/Compare/isal-inflate-to-nowhere.c; libisal-dev?)"
fi

# ---------------------------------------------------------------------------------------------------------------
# klogs

THREADS_NOTE=""
if "$KLOGS" ingest --help 2>&1 | grep -q -- '--threads'; then
    THREAD_COUNTS=(1 "$(nproc)")
else
    THREAD_COUNTS=("")
    THREADS_NOTE="This klogs has no --threads option: the klogs rows are its single pipeline."
fi
note "Timing klogs ingest ($("$KLOGS" --version 2>/dev/null || echo 'version unknown'))..."
# The same run plain and gzip, for every thread count; a fresh data directory each time (the ledger would skip
# a file already ingested). --retention-days 0: the generated days are in the past.
for input in plain gzip; do
    file=$LOG
    [ "$input" = gzip ] && file=$GZ
    for threads in "${THREAD_COUNTS[@]}"; do
        name="klogs $input"
        thread_flag=()
        if [ -n "$threads" ]; then
            name="$name, $threads thread$([ "$threads" = 1 ] || echo s)"
            thread_flag=(--threads "$threads")
        fi
        data="$WORK/klogs-$input-${threads:-default}"
        measure "$name" "$data" "rm -rf '$data'" -- \
            "$KLOGS" ingest --quiet --retention-days 0 "${thread_flag[@]}" --data "$data" "$file"
    done
done
# The gzip target interleaved (when the zlib tool was built): zlib, then klogs gzip on every core, PAIRS times;
# each pair sees the same machine.
PAIRED="$WORK/paired.tsv"
: >"$PAIRED"
if [ -x "$WORK/inflate-to-nowhere" ] && ((PAIRS > 0)); then
    threads=${THREAD_COUNTS[${#THREAD_COUNTS[@]} - 1]}
    note "Timing the gzip target interleaved: $PAIRS rounds of zlib inflate and klogs gzip${threads:+, $threads threads}..."
    data="$WORK/klogs-paired"
    for ((pair = 1; pair <= PAIRS; pair++)); do
        start=$(date +%s%N)
        "$WORK/inflate-to-nowhere" "$GZ" >/dev/null
        middle=$(date +%s%N)
        rm -rf "$data"
        "$KLOGS" ingest --quiet --retention-days 0 ${threads:+--threads "$threads"} --data "$data" "$GZ"
        end=$(date +%s%N)
        printf '%s\t%s\n' "$(( (middle - start) / 1000 ))e-6" "$(( (end - middle) / 1000 ))e-6" >>"$PAIRED"
    done
fi

# The events written by the first plain run, for the size comparison below.
KLOGS_EVENTS="$WORK/klogs-plain-${THREAD_COUNTS[0]:-default}/events"

# ---------------------------------------------------------------------------------------------------------------
# GoAccess

PEER_NOTES=()
if [ -n "$GOACCESS" ]; then
    GOACCESS_VERSION=$("$GOACCESS" --version | sed -n '1s/.* \([0-9][0-9.]*[0-9]\).*/\1/p')
    note "Timing GoAccess $GOACCESS_VERSION..."
    # No configuration file, so every panel is on (GoAccess's default); the JSON report is the output.
    measure "GoAccess $GOACCESS_VERSION" "$WORK/goaccess.json" : -- \
        "$GOACCESS" "$LOG" --no-global-config --log-format=COMBINED --output="$WORK/goaccess.json"
else
    PEER_NOTES+=("GoAccess is not installed (apt-get install goaccess, or run with --install): skipped.")
fi

# ---------------------------------------------------------------------------------------------------------------
# DuckDB

# The DuckDB job: parse every line with a regular expression, drop what does not parse, count hits and bytes per
# hour, path (without query) and status, and write the result as LZ4 Parquet. All cores (DuckDB's default).
DUCKDB_JOB_SQL=$(cat <<'SQL'
SET enable_progress_bar = false;
COPY (
    WITH parsed AS (
        SELECT regexp_extract(line,
                '^(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+)[^"]*" (\d{3}) (\d+|-) "([^"]*)" "([^"]*)"',
                ['client', 'time', 'method', 'path', 'status', 'bytes', 'referrer', 'agent']) AS field
        FROM read_csv(@log@, columns = {'line': 'VARCHAR'}, delim = '\x01', quote = '', escape = '',
                      header = false, auto_detect = false, strict_mode = false)
    )
    SELECT date_trunc('hour', try_strptime(field.time, '%d/%b/%Y:%H:%M:%S %z')) AS hour,
           split_part(field.path, '?', 1) AS path,
           field.status::INTEGER AS status,
           count(*) AS hits,
           sum(CASE WHEN field.bytes = '-' THEN 0 ELSE field.bytes::BIGINT END) AS bytes
    FROM parsed
    WHERE field.client <> '' AND hour IS NOT NULL
    GROUP BY ALL
) TO @output@ (FORMAT parquet, COMPRESSION lz4);
SQL
)

# The size reference: klogs's events rows, read back and written by DuckDB as LZ4 Parquet, default settings.
DUCKDB_EVENTS_SQL=$(cat <<'SQL'
SET enable_progress_bar = false;
COPY (SELECT * FROM read_parquet(@events@, hive_partitioning = false))
    TO @output@ (FORMAT parquet, COMPRESSION lz4);
SQL
)

# The DuckDB runner: SQL (the first argument) with @name@ replaced by the quoted values of name=value arguments.
DUCKDB_RUNNER="$WORK/run-duckdb.py"
cat >"$DUCKDB_RUNNER" <<'PYTHON'
import sys
import duckdb

sql = sys.argv[1]
for assignment in sys.argv[2:]:
    name, value = assignment.split("=", 1)
    sql = sql.replace(f"@{name}@", "'" + value.replace("'", "''") + "'")
duckdb.connect().execute(sql)
PYTHON

DUCKDB_EVENTS_BYTES=""
if [ -n "$PYTHON" ]; then
    DUCKDB_VERSION=$("$PYTHON" -c 'import duckdb; print(duckdb.__version__)')
    note "Timing DuckDB $DUCKDB_VERSION ($PYTHON)..."
    measure "DuckDB $DUCKDB_VERSION" "$WORK/duckdb-hourly.parquet" "rm -f '$WORK/duckdb-hourly.parquet'" -- \
        "$PYTHON" "$DUCKDB_RUNNER" "$DUCKDB_JOB_SQL" "log=$LOG" "output=$WORK/duckdb-hourly.parquet"
    # What the DuckDB row holds besides the job: starting Python, importing duckdb, connecting.
    measure "DuckDB start-up" /dev/null : -- "$PYTHON" "$DUCKDB_RUNNER" "SELECT 1"
    "$PYTHON" "$DUCKDB_RUNNER" "$DUCKDB_EVENTS_SQL" "events=$KLOGS_EVENTS/**/*.parquet" \
        "output=$WORK/duckdb-events.parquet"
    DUCKDB_EVENTS_BYTES=$(stat -c %s "$WORK/duckdb-events.parquet")
else
    PEER_NOTES+=("DuckDB's Python module is not installed (pip install duckdb, or run with --install): skipped.")
fi

# ---------------------------------------------------------------------------------------------------------------
# The table

# The klogs row the peers are compared with: plain input, the most threads measured.
REFERENCE=$(awk -F'\t' '$1 ~ /^klogs plain/ { name = $1 } END { print name }' "$RESULTS")
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
MEMORY=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)

echo
echo "$LINES lines (klogs generate --seed $SEED), $(awk -v b="$LOG_BYTES" 'BEGIN { printf "%.1f", b / 1e6 }') MB" \
    "plain, $(awk -v b="$GZ_BYTES" 'BEGIN { printf "%.1f", b / 1e6 }') MB gzip -6 (one member)."
echo "Machine: $CPU, $(nproc) cores, $MEMORY, $(uname -sr); load average $(cut -d' ' -f1-3 /proc/loadavg) at the end;" \
    "$(date -u +%F)."
echo "Median of $RUNS runs; peak RSS is the largest of them; lines/s and MB/s of the uncompressed log."
echo
echo "| tool / mode | wall time | lines/s | MB/s | peak RSS | output | time ÷ $REFERENCE |"
echo "|---|---|---|---|---|---|---|"
awk -F'\t' -v lines="$LINES" -v bytes="$LOG_BYTES" -v reference="$REFERENCE" '
    function rate(value) {
        if (value >= 1e6) return sprintf("%.2f M", value / 1e6)
        if (value >= 1e3) return sprintf("%.0f k", value / 1e3)
        return sprintf("%.0f", value)
    }
    function size(value) {
        if (value == 0) return "—"
        if (value >= 1e6) return sprintf("%.1f MB", value / 1e6)
        return sprintf("%.0f kB", value / 1e3)
    }
    $1 == "DuckDB start-up" { next }
    { rows++; name[rows] = $1; seconds[rows] = $2; rss[rows] = $3; output[rows] = $4; if ($1 == reference) base = $2 }
    END {
        for (row = 1; row <= rows; row++) {
            ratio = (base > 0 && name[row] != reference) ? sprintf("%.1f×", seconds[row] / base) : "—"
            if (name[row] ~ /inflate$/) { lps = "—"; ratio = "—" } else lps = rate(lines / seconds[row])
            printf "| %s | %.3f s | %s | %.0f | %.0f MB | %s | %s |\n", name[row], seconds[row], lps,
                bytes / 1e6 / seconds[row], rss[row] / 1024, size(output[row]), ratio
        }
    }' "$RESULTS"
echo
echo "klogs output: the Parquet files of events and hits. GoAccess: its JSON report. DuckDB: the hourly Parquet."
awk -F'\t' '$1 == "DuckDB start-up" {
    printf "The DuckDB row includes starting Python, importing duckdb and connecting: %.3f s on its own.\n", $2 }' "$RESULTS"
[ -n "$THREADS_NOTE" ] && echo "$THREADS_NOTE"
for line in "${PEER_NOTES[@]+"${PEER_NOTES[@]}"}"; do echo "$line"; done

# The gzip target: klogs's fastest gzip ingest against zlib alone; and against ISA-L alone, the inflate it uses.
awk -F'\t' -v tool="$INFLATE_TOOL" '
    $1 == "zlib inflate" { inflate = $2 }
    $1 == "ISA-L inflate" { isal = $2 }
    $1 ~ /^klogs gzip/ && (best == "" || $2 < best) { best = $2; name = $1 }
    END {
        if (inflate == "" || best == "") exit
        printf "gzip target: %s takes %.3f s; ingest at >= 85%% of its speed means <= %.3f s; %s took %.3f s (%.0f%%): %s.\n",
            tool, inflate, inflate / 0.85, name, best, 100 * inflate / best, (inflate / best >= 0.85) ? "met" : "missed"
        if (isal != "")
            printf "ISA-L alone (the inflate klogs uses) takes %.3f s: %s runs at %.0f%% of its speed.\n",
                isal, name, 100 * isal / best
    }' "$RESULTS"

if [ -s "$PAIRED" ]; then
    inflate=$(cut -f1 "$PAIRED" | median)
    ingest=$(cut -f2 "$PAIRED" | median)
    awk -F'\t' -v inflate="$inflate" -v ingest="$ingest" -v pairs="$PAIRS" '
        { ratio = $1 / $2; if (NR == 1 || ratio < low) low = ratio; if (NR == 1 || ratio > high) high = ratio }
        END {
            printf "gzip target, interleaved (%d rounds of zlib then klogs): medians %.3f s and %.3f s, %.0f%% (one round: %.0f%% to %.0f%%): %s.\n",
                pairs, inflate, ingest, 100 * inflate / ingest, 100 * low, 100 * high, (inflate / ingest >= 0.85) ? "met" : "missed"
        }' "$PAIRED"
fi

# The size target: our events against DuckDB's LZ4 Parquet of the same rows.
if [ -n "$DUCKDB_EVENTS_BYTES" ]; then
    OUR_EVENTS_BYTES=$(output_bytes "$KLOGS_EVENTS")
    awk -v ours="$OUR_EVENTS_BYTES" -v theirs="$DUCKDB_EVENTS_BYTES" 'BEGIN {
        printf "events size: klogs %d bytes, DuckDB (the same rows, LZ4, default settings) %d bytes: ours is %.0f%% of theirs (%s).\n",
            ours, theirs, 100 * ours / theirs, (ours <= theirs) ? "target met" : "target missed"
    }'
fi
if $KEEP; then echo "Kept: $WORK"; fi
