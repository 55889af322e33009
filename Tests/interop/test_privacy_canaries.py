"""Issue 3 leak test through the real binary: no canary address, user agent or query value reaches any byte under
the data directory, stdout, stderr, the summary JSON or the reject report, in any mode; pyarrow and DuckDB read the
anonymised columns independently. Key files and directories have the documented permissions.

Run: KLOGS_BIN=.build/debug/klogs /work/main/.venv/bin/python -m pytest Tests/interop/test_privacy_canaries.py
"""

import json
import os
import stat
import subprocess
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[2]
KLOGS = os.environ.get("KLOGS_BIN", str(ROOT / ".build" / "debug" / "klogs"))

IPV4 = [f"198.18.41.{n}" for n in range(70, 100)]
IPV6 = [f"2001:db8:c0ff:ee::{n:x}" for n in range(0x70, 0x80)]
SPELLINGS = [
    ("2001:0db8:c0ff:00ee:0000:0000:0000:0090", "2001:db8:c0ff:ee::90"),
    ("::ffff:198.18.41.100", "198.18.41.100"),
    ("FD12:3456:789A::9", "fd12:3456:789a::9"),
]
UA_TOKEN = "zq81x"
QUERY_VALUE = "canaryqv"
NEEDLES = IPV4 + IPV6 + [s for pair in SPELLINGS for s in pair] + [UA_TOKEN, QUERY_VALUE]


def canary_log() -> str:
    lines = []

    def line(client, request, referrer, agent, day="21"):
        lines.append(f'{client} - - [{day}/Nov/2026:10:00:00 +0000] "{request}" 200 512 "{referrer}" "{agent}"')

    for i in range(10):
        addr, other, more = IPV4[i], IPV4[10 + i], IPV4[20 + i]
        line(addr, f"GET /lookup/{other}?ip={more}&utm_source=x&token={QUERY_VALUE}{i} HTTP/1.1",
             f"http://{other}/from?ip={more}",
             f"Mozilla/5.0 (X11; Linux x86_64; {UA_TOKEN}-{i}; +{more}) Gecko/20100101 Firefox/115.0")
    for i in range(8):
        addr, other = IPV6[i], IPV6[8 + i]
        line(addr, f"GET /v6/{other}/x?addr={other}&q={QUERY_VALUE}{i} HTTP/2.0",
             f"https://[{other}]:8443/p?q={QUERY_VALUE}", f"Mozilla/5.0 (compatible; {UA_TOKEN}{i}bot/2.{i})")
    for spelling, _ in SPELLINGS:
        line(spelling, f"GET /u/{spelling} HTTP/1.1", f"http://{IPV4[0]}.nip.io/", f"curl/8.0 {UA_TOKEN}")
    line(f"{IPV4[1]}, {IPV4[2]}, 10.0.0.1", "GET /xff HTTP/1.1", "-", f"{UA_TOKEN}-xff/1.0")
    line("-", f"GET /?{QUERY_VALUE}=1 HTTP/1.1", "-", UA_TOKEN)
    line(IPV4[4], f"GET /?ip={IPV4[5]} HTTP/1.1", "-", UA_TOKEN, day="99")
    lines.append(f"{IPV4[8]} garbage {QUERY_VALUE} {UA_TOKEN}")
    return "\n".join(lines) + "\n"


def all_bytes(directory: Path) -> bytes:
    out = b""
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            out += path.read_bytes()
    return out


def assert_no_canary(blob: bytes, where: str):
    for needle in NEEDLES:
        for variant in {needle, needle.lower(), needle.upper()}:
            assert variant.encode() not in blob, f"{variant} reached {where}"


@pytest.mark.parametrize("client_from", ["client", "x-forwarded-for"])
@pytest.mark.parametrize("mode", ["hash", "truncate", "drop", "hash,truncate"])
@pytest.mark.parametrize("compression", ["uncompressed", "lz4-raw"])
def test_no_canary_anywhere(tmp_path, mode, client_from, compression):
    log = tmp_path / "canaries.log"
    log.write_text(canary_log())
    data = tmp_path / "data"
    summary = tmp_path / "summary.json"
    rejects = tmp_path / "rejects.txt"
    args = [KLOGS, "ingest", "--data", str(data), "--ip-mode", mode, "--compression", compression,
            "--client-ip-from", client_from, "--keep-query-params", "utm_source",
            "--summary-json", str(summary), "--rejects", str(rejects), str(log)]
    if client_from == "x-forwarded-for":
        args += ["--trusted-proxies", "10.0.0.0/8"]
    run = subprocess.run(args, capture_output=True)
    assert run.returncode == 0, run.stderr.decode()
    report = json.loads(summary.read_text())
    assert report["lines_rejected"] == 2
    for key in ["late_lines_ephemeral_key", "keys_expired", "clients_invalid", "paths_address_masked",
                "queries_dropped", "rejects_reported"]:
        assert key in report
    assert report["rejects_reported"] == 2
    assert rejects.read_text().splitlines() == [f"{log}:{n}: {r}" for n, r in [(24, "bad_timestamp"), (25, "missing_field")]]
    assert_no_canary(run.stdout + run.stderr, "stdout/stderr")
    assert_no_canary(summary.read_bytes(), "the summary JSON")
    assert_no_canary(rejects.read_bytes(), "the reject report")
    assert_no_canary(all_bytes(data), "the data directory")

    # Independent readers see the same: no canary in any string column.
    table = pq.read_table(data / "events")
    for name in table.column_names:
        if str(table.schema.field(name).type) in ("string", "large_string"):
            for value in table.column(name).to_pylist():
                if value is not None:
                    assert_no_canary(value.encode(), f"events.{name}")
    paths = {row[0] for row in duckdb.sql(f"select path from read_parquet('{data}/events/*/*.parquet')").fetchall()}
    assert "/lookup/:ip?utm_source=x" in paths
    if "truncate" in mode:
        nets = duckdb.sql(f"select distinct client_net from read_parquet('{data}/events/*/*.parquet')").fetchall()
        assert ("198.18.41.0/24",) in nets


def test_key_permissions_and_a_readable_key_directory_is_refused(tmp_path):
    log = tmp_path / "a.log"
    log.write_text(canary_log())
    data = tmp_path / "data"
    old_umask = os.umask(0o022)
    try:
        run = subprocess.run([KLOGS, "ingest", "-q", "--data", str(data), str(log)], capture_output=True)
    finally:
        os.umask(old_umask)
    assert run.returncode == 0, run.stderr.decode()
    keys = data / "_klogs" / "keys"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    key_files = list(keys.iterdir())
    assert key_files and all(stat.S_IMODE(k.stat().st_mode) == 0o600 for k in key_files)
    for path in (data / "events").rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o027 == 0, f"{path} is {oct(mode)}"
    os.chmod(keys, 0o755)
    run = subprocess.run([KLOGS, "ingest", "--data", str(data), str(log)], capture_output=True)
    assert run.returncode != 0
    assert b"chmod 700" in run.stderr
    assert_no_canary(run.stdout + run.stderr, "stderr of a refused run")
