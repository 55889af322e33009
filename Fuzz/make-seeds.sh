#!/usr/bin/env bash
# Rebuilds the committed seed corpus under Fuzz/corpus/<target>/ from fixtures/, ../shared/corpus and the presets.
# Needs gzip, lz4 and a built klogs (KLOGS_BIN, default .build/debug/klogs) for the Parquet seeds. Run from the
# repository root: Fuzz/make-seeds.sh
set -euo pipefail
SHARED=${SHARED:-../shared/corpus/logs}
KLOGS_BIN=${KLOGS_BIN:-.build/debug/klogs}
OUT=Fuzz/corpus
rm -rf "$OUT" && mkdir -p "$OUT"/{FuzzLineParser,FuzzCustomFormat,FuzzFormatCompiler,FuzzInputReader,FuzzParquetReader,FuzzUserAgent,FuzzConfig}

# Log lines: a few of each format the presets read, plus the odd files (bad lines, CRLF, invalid UTF-8).
lines() { head -n "$2" "$1" > "$OUT/FuzzLineParser/$3"; }
lines fixtures/sample-access.log 4 combined
lines "$SHARED/nasa-http/NASA_access_log_Jul95.first4000" 3 common
lines "$SHARED/elastic-beats/apache-test-vhost.log" 3 vhost_combined
lines "$SHARED/elastic-beats/nginx-test-with-host.log" 3 nginx-vhost
lines "$SHARED/nielsbasjes-logparser/hackers-access.log" 6 hackers
lines "$SHARED/lnav/logfile_bad_access_log.0" 4 bad
lines "$SHARED/lnav/logfile_crlf.0" 3 crlf
lines "$SHARED/lnav/logfile_invalid_utf8.0" 3 invalid-utf8
printf '%s\n' '203.0.113.9 - - [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.1" 200 5 "-" "curl/8" "198.51.100.2, 10.0.0.1"' > "$OUT/FuzzLineParser/combined-xff"
cat > "$OUT/FuzzLineParser/nginx-json" <<'JSON'
{"time_local":"10/Oct/2000:13:55:36 -0700","remote_addr":"203.0.113.5","request":"GET /x\u0022 HTTP/1.1","status":"200","body_bytes_sent":"5","http_referer":"","http_user_agent":"ua \"q\"","http_x_forwarded_for":"198.51.100.2"}
JSON
cat > "$OUT/FuzzLineParser/caddy-json" <<'JSON'
{"level":"info","ts":1646861401.52,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"127.0.0.1","client_ip":"127.0.0.1","proto":"HTTP/1.1","method":"GET","host":"a.test","uri":"/","headers":{"User-Agent":["curl/8"]}},"size":5,"status":200}
JSON
cat > "$OUT/FuzzLineParser/traefik-json" <<'JSON'
{"ClientHost":"192.168.1.5","DownstreamContentSize":19,"DownstreamStatus":404,"RequestHost":"whoami.example.com","RequestMethod":"GET","RequestPath":"/missing?x=1","RequestProtocol":"HTTP/1.1","StartUTC":"2024-05-01T10:20:30.123456789Z","request_User-Agent":"Mozilla/5.0","time":"2024-05-01T10:20:30Z"}
JSON

# Format strings: nginx and Apache, bare and as directives, and JSON mappings.
definitions=(
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"'
  '$host $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time uct="$upstream_connect_time"'
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for"'
  "log_format j escape=json '{\"ip\":\"\$remote_addr\",\"t\":\"\$time_local\",\"r\":\"\$request\",\"s\":\$status,\"b\":\$body_bytes_sent}';"
  '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"'
  '%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i" %D'
  'LogFormat "%h %l %u %{%d/%b/%Y:%H:%M:%S %z}t \"%m %U%q %H\" %>s %B" custom'
  'client=remote_addr,time=time_iso8601|time_local|msec,request=request,status=status,bytes=body_bytes_sent,user_agent=http_user_agent'
)
for index in "${!definitions[@]}"; do
  printf '%s' "${definitions[$index]}" > "$OUT/FuzzFormatCompiler/definition-$index"
done
custom() { { printf '%s\n' "$1"; head -n 3 "$2"; } > "$OUT/FuzzCustomFormat/$3"; }
custom "${definitions[0]}" fixtures/sample-access.log nginx-combined
custom "${definitions[4]}" fixtures/sample-access.log apache-combined
custom "${definitions[1]}" "$SHARED/elastic-beats/nginx-test-with-host.log" nginx-host
custom "${definitions[5]}" "$SHARED/elastic-beats/apache-test-vhost.log" apache-vhost
custom "${definitions[2]}" "$OUT/FuzzLineParser/combined-xff" nginx-xff
custom "${definitions[7]}" "$OUT/FuzzLineParser/nginx-json" json-mapping

# Compressed and plain inputs: plain, gzip (one and two members, trailing garbage, header fields), LZ4 frames.
head -n 5 fixtures/sample-access.log > "$OUT/FuzzInputReader/plain"
gzip -9nc "$OUT/FuzzInputReader/plain" > "$OUT/FuzzInputReader/gzip"
cat "$OUT/FuzzInputReader/gzip" "$OUT/FuzzInputReader/gzip" > "$OUT/FuzzInputReader/gzip-two-members"
{ cat "$OUT/FuzzInputReader/gzip"; printf 'garbage'; } > "$OUT/FuzzInputReader/gzip-trailing-garbage"
# A member whose header has every optional field (extra, name, comment, header CRC), for klogs' own header reader.
python3 - "$OUT/FuzzInputReader/gzip" > "$OUT/FuzzInputReader/gzip-header-fields" <<'PYTHON'
import struct, sys, zlib
member = open(sys.argv[1], "rb").read()
header = bytearray(member[:10])
header[3] = 0x04 | 0x08 | 0x10 | 0x02
header += struct.pack("<H", 4) + b"klog" + b"access.log\0" + b"comment\0"
header += struct.pack("<H", zlib.crc32(header) & 0xFFFF)
sys.stdout.buffer.write(bytes(header) + member[10:])
PYTHON
lz4 -9qc "$OUT/FuzzInputReader/plain" > "$OUT/FuzzInputReader/lz4"
lz4 -qc --content-size -BD -B4 "$OUT/FuzzInputReader/plain" > "$OUT/FuzzInputReader/lz4-linked-checksummed"
{ printf '\x50\x2a\x4d\x18\x04\x00\x00\x00skip'; cat "$OUT/FuzzInputReader/lz4"; } > "$OUT/FuzzInputReader/lz4-skippable"

# Parquet files klogs writes: the events and a rollup of a few lines.
data=$(mktemp -d /tmp/klogs-fuzz-seeds-XXXXXX)
trap 'rm -rf "$data"' EXIT
head -n 20 fixtures/sample-access.log > "$data/access.log"
"$KLOGS_BIN" ingest -q --retention-days 0 --data "$data/data" "$data/access.log"
index=0
while IFS= read -r file; do
  cp "$file" "$OUT/FuzzParquetReader/$(basename "$(dirname "$(dirname "$file")")")-$index.parquet"
  index=$((index + 1))
done < <(find "$data/data" -name '*.parquet' -size -16k | sort | head -n 4)

# User agents: a browser of each kind and some bots, from the sample log.
grep -o '"[^"]*"$' fixtures/sample-access.log | tr -d '"' | sort -u | head -n 12 | split -l 1 -d - "$OUT/FuzzUserAgent/ua-"
for file in "$OUT"/FuzzUserAgent/ua-*; do printf '%s' "$(cat "$file")" > "$file"; done

# Configuration: the example file and a small one with every type of value.
cp docs/klogs.example.toml "$OUT/FuzzConfig/example.toml"
cat > "$OUT/FuzzConfig/small.toml" <<'TOML'
data = "/var/lib/klogs"
retention_days = 30
flush_interval = 2.5
events = true
trusted_proxies = ["10.0.0.0/8"]
[[path_rewrites]]
pattern = "^/user/[0-9]+"
replacement = "/user/:id"
TOML
du -sh "$OUT"; find "$OUT" -type f | wc -l
