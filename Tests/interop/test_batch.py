"""Process-level tests of issue 6: ledger, crash atomicity, lock, full disk, compact, purge, pipe mode.

Run with `KLOGS_BIN=.build/debug/klogs .venv/bin/python -m pytest -q Tests/interop/test_batch.py`.
"""
import gzip
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

KLOGS = os.environ.get("KLOGS_BIN", str(Path(__file__).resolve().parents[2] / ".build/debug/klogs"))


def klogs(*args, check=True, **kwargs):
    if args[0] == "ingest" and "--retention-days" not in args:
        # The logs have fixed dates: keep them whatever today is (retention has its own test).
        args = ("ingest", "--retention-days", "0", *args[1:])
    result = subprocess.run([KLOGS, *map(str, args)], capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"klogs {' '.join(map(str, args))} exited {result.returncode}:\n{result.stderr}")
    return result


def generate(path, lines, seed, start="2026-11-01", days=2):
    klogs("generate", "--lines", lines, "--seed", seed, "--start", start, "--days", days, "--output", path)


def sums(data):
    """Per-hour, per-path sums of hits and bytes, and the events row count, as comparable values."""
    data = Path(data)
    if not list(data.glob("hits/*/*.parquet")):
        return [], 0
    con = duckdb.connect()
    rows = con.execute(
        f"select epoch_ms(hour) as hour, path, sum(hits), sum(bytes) from read_parquet('{data}/hits/*/*.parquet', "
        "hive_partitioning=1) group by all order by all").fetchall()
    events = con.execute(f"select count(*) from read_parquet('{data}/events/*/*.parquet')").fetchone()[0]
    return rows, events


def assert_verifies(data):
    result = klogs("verify", "--data", data, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def logset(tmp_path):
    """Three log files (one gzip) over two days."""
    logs = tmp_path / "logs"
    logs.mkdir()
    generate(logs / "a.log", 3000, 1)
    generate(logs / "b.log", 3000, 2)
    generate(logs / "c.log", 3000, 3)
    with open(logs / "c.log", "rb") as source, gzip.open(logs / "c.log.gz", "wb") as target:
        shutil.copyfileobj(source, target)
    (logs / "c.log").unlink()
    return sorted(logs.iterdir())


def test_rerun_ingests_nothing_twice(tmp_path, logset):
    data = tmp_path / "data"
    klogs("ingest", "--data", data, *logset)
    first = sums(data)
    result = klogs("ingest", "--data", data, *logset)
    assert "already ingested" in result.stderr
    assert sums(data) == first
    dry = klogs("ingest", "--data", data, "--dry-run", *logset)
    assert dry.stdout.count("would be skipped") == 3
    assert_verifies(data)


def test_rotation_counts_every_line_once(tmp_path):
    all_lines = tmp_path / "all.log"
    generate(all_lines, 8000, 7)
    lines = all_lines.read_bytes().splitlines(keepends=True)
    logs = tmp_path / "logs"
    logs.mkdir()
    data = tmp_path / "data"
    reference = tmp_path / "reference"
    klogs("ingest", "--data", reference, all_lines)

    access = logs / "access.log"
    access.write_bytes(b"".join(lines[:3000]))
    klogs("ingest", "--data", data, *sorted(logs.iterdir()))
    with open(access, "ab") as out:  # append
        out.write(b"".join(lines[3000:5000]))
    klogs("ingest", "--data", data, *sorted(logs.iterdir()))
    with open(access, "ab") as out:  # lines written after the last run, before the rotation
        out.write(b"".join(lines[5000:5500]))
    access.rename(logs / "access.log.1")  # rotate
    access.write_bytes(b"".join(lines[5500:7000]))
    klogs("ingest", "--data", data, *sorted(logs.iterdir()))
    with open(logs / "access.log.1", "rb") as source, gzip.open(logs / "access.log.2.gz", "wb") as target:
        shutil.copyfileobj(source, target)  # compress
    (logs / "access.log.1").unlink()
    with open(access, "ab") as out:
        out.write(b"".join(lines[7000:]))
    klogs("ingest", "--data", data, *sorted(logs.iterdir()))
    klogs("ingest", "--data", data, *sorted(logs.iterdir()))
    assert sums(data) == sums(reference)
    assert_verifies(data)


def test_kill_9_at_random_moments_never_loses_or_doubles(tmp_path, logset):
    reference = tmp_path / "reference"
    klogs("ingest", "--data", reference, *logset)
    expected = sums(reference)
    # How long a clean run takes, to spread the kills over it.
    started = time.monotonic()
    klogs("ingest", "--data", tmp_path / "timing", *logset)
    duration = time.monotonic() - started
    rng = random.Random(6)
    for iteration in range(int(os.environ.get("KLOGS_CRASH_ITERATIONS", "20"))):
        data = tmp_path / f"data{iteration}"
        # Sometimes a first run commits part of the set, so the kill hits a run with a non-empty ledger.
        if iteration % 3 == 1:
            klogs("ingest", "--data", data, logset[0])
        for _ in range(1 + iteration % 2):
            process = subprocess.Popen(
                [KLOGS, "ingest", "--retention-days", "0", "--data", data, *map(str, logset)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0, duration * 1.1))
            process.send_signal(signal.SIGKILL)
            process.wait()
        klogs("ingest", "--data", data, *logset)
        assert sums(data) == expected, f"iteration {iteration}"
        assert_verifies(data)


def test_crash_right_after_the_commit_point_rolls_forward(tmp_path, logset):
    data = tmp_path / "data"
    env = dict(os.environ, KLOGS_TEST_CRASH_AFTER_MANIFEST="1")
    crashed = klogs("ingest", "--data", data, *logset, check=False, env=env)
    assert crashed.returncode == -signal.SIGKILL
    assert list((data / "_klogs/pending").iterdir())
    assert not list(data.glob("hits/*/*.parquet"))  # nothing visible yet
    result = klogs("ingest", "--data", data, *logset)
    assert "recovered" in result.stderr
    reference = tmp_path / "reference"
    klogs("ingest", "--data", reference, *logset)
    assert sums(data) == sums(reference)
    assert_verifies(data)


def test_two_concurrent_runs_neither_corrupt_nor_double_count(tmp_path, logset):
    data = tmp_path / "data"
    runs = [
        subprocess.Popen(
            [KLOGS, "ingest", "--retention-days", "0", "--data", data, "--wait", "120", *map(str, logset)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    assert [run.wait() for run in runs] == [0, 0]
    reference = tmp_path / "reference"
    klogs("ingest", "--data", reference, *logset)
    assert sums(data) == sums(reference)
    assert_verifies(data)


def test_a_second_writer_without_wait_exits_75(tmp_path, logset):
    data = tmp_path / "data"
    first = subprocess.Popen([KLOGS, "ingest", "--retention-days", "0", "--data", data, *map(str, logset)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lock = data / "_klogs/lock"
    for _ in range(100):
        if lock.exists():
            break
        time.sleep(0.02)
    time.sleep(0.2)
    second = klogs("ingest", "--data", data, *logset, check=False)
    assert first.wait() == 0
    assert second.returncode == 75, second.stderr
    assert "--wait" in second.stderr


def test_a_file_size_limit_fails_cleanly(tmp_path):
    small = tmp_path / "small.log"
    big = tmp_path / "big.log"
    generate(small, 500, 11)
    generate(big, 20000, 12, days=1)
    data = tmp_path / "data"
    klogs("ingest", "--data", data, small)
    before = sums(data)
    ledger = (data / "_klogs/ledger.json").read_bytes()
    result = subprocess.run(
        ["bash", "-c", f"ulimit -f 128 && exec {KLOGS} ingest --retention-days 0 --data {data} --compression uncompressed {big}"],
        capture_output=True, text=True)
    assert result.returncode == 3, result.stderr
    assert sums(data) == before
    assert (data / "_klogs/ledger.json").read_bytes() == ledger
    assert_verifies(data)


def test_full_disk_fails_cleanly_and_leaves_the_dataset_as_it_was(tmp_path, small_filesystem):
    data = small_filesystem / "data"
    small = tmp_path / "small.log"
    big = tmp_path / "big.log"
    generate(small, 500, 11)
    generate(big, 60000, 12, days=20)
    klogs("ingest", "--data", data, small)
    before = sums(data)
    ledger = (data / "_klogs/ledger.json").read_bytes()
    result = klogs("ingest", "--data", data, "--compression", "uncompressed", big, check=False)
    assert result.returncode == 3, result.stderr
    assert "no space left" in result.stderr.lower()
    assert sums(data) == before
    assert (data / "_klogs/ledger.json").read_bytes() == ledger
    assert not [p for p in data.rglob(".*") if p.is_file()]
    assert_verifies(data)


def test_compact_keeps_sums_and_leaves_one_file_per_partition(tmp_path, logset):
    data = tmp_path / "data"
    for path in logset:
        klogs("ingest", "--data", data, path)
    before = sums(data)
    klogs("compact", "--data", data)
    assert sums(data) == before
    for partition in list(data.glob("hits/*")) + list(data.glob("events/*")):
        assert len(list(partition.glob("*.parquet"))) == 1
    assert_verifies(data)
    again = klogs("compact", "--data", data)
    assert "nothing to do" in again.stdout


def test_purge_removes_exactly_the_partitions_and_keys_past_retention(tmp_path):
    data = tmp_path / "data"
    old = tmp_path / "old.log"
    generate(old, 2000, 21, start="2025-06-01", days=3)
    recent = tmp_path / "recent.log"
    today = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 3 * 86400))
    generate(recent, 2000, 22, start=today, days=2)
    klogs("ingest", "--data", data, "--retention-days", "0", old, recent)
    dry = klogs("purge", "--data", data, "--dry-run")
    assert "events/date=2025-06-01: would delete" in dry.stdout
    assert list(data.glob("events/date=2025-06-0*"))
    klogs("purge", "--data", data)
    remaining = sorted(p.name for p in data.glob("events/*"))
    assert remaining and all(name >= "date=2026" for name in remaining)
    keys = sorted(p.name for p in (data / "_klogs/keys").iterdir())
    assert keys and all(not name.startswith("2025-06") for name in keys)
    assert_verifies(data)
    # Ingest refuses lines past the retention period.
    refused = klogs("ingest", "--retention-days", "365", "--data", tmp_path / "data2", old)
    assert "older_than_retention" in refused.stderr
    assert not list((tmp_path / "data2").glob("events/*"))


def test_pipe_mode_commits_on_interval_and_on_sigterm(tmp_path):
    log = tmp_path / "log"
    generate(log, 2000, 31)
    lines = log.read_bytes().splitlines(keepends=True)
    data = tmp_path / "data"
    process = subprocess.Popen([KLOGS, "ingest", "--retention-days", "0", "--data", data, "--flush-interval", "0.5"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdin.write(b"".join(lines[:1000]))
    process.stdin.flush()
    deadline = time.monotonic() + 30
    while not list(data.glob("hits/*/*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list(data.glob("hits/*/*.parquet")), "nothing committed after the flush interval"
    # The pipe holds the lock only while it commits: the nightly compact can run meanwhile.
    compact = klogs("compact", "--data", data, "--wait", "30", check=False)
    assert compact.returncode == 0, compact.stderr
    process.stdin.write(b"".join(lines[1000:]))
    process.stdin.flush()
    time.sleep(0.3)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    reference = tmp_path / "reference"
    klogs("ingest", "--data", reference, log)
    assert sums(data) == sums(reference)
    assert_verifies(data)


def test_a_pipe_that_runs_for_long_never_reaches_the_user_agent_class_limit(tmp_path):
    # A run stores at most so many distinct user-agent classes (a memory bound against crafted agents); a pipe
    # that runs for months starts its classes again after each commit, so new browser versions keep their
    # versions. Here the limit is 6 and 30 lines each bring a new class: a file run collapses them, the pipe,
    # committing every 3 lines, does not.
    small_rules = Path(__file__).resolve().parents[2] / "fixtures" / "small-ua-rules.yaml"
    lines = [f'192.0.2.{i} - - [01/Nov/2026:10:{i // 60:02d}:{i % 60:02d} +0000] "GET /p HTTP/1.1" 200 1 "-" '
             f'"Mozilla/5.0 (X11; Linux x86_64) Firefox/{i + 1}.0"\n'.encode() for i in range(30)]
    options = ["--ua-rules", small_rules, "--user-agent-class-limit", "6", "--format", "combined"]
    log = tmp_path / "log"
    log.write_bytes(b"".join(lines))
    whole = klogs("ingest", "--data", tmp_path / "file", *options, log)
    assert "more than 6 distinct user-agent classes" in whole.stderr

    data = tmp_path / "pipe"
    process = subprocess.Popen([KLOGS, "ingest", "--retention-days", "0", "--data", data, *map(str, options),
                                "--flush-lines", "3", "--flush-interval", "60"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for start in range(0, len(lines), 3):
        process.stdin.write(b"".join(lines[start:start + 3]))
        process.stdin.flush()
        # Each commit adds an events file: wait for it, so that no read holds more than 3 lines.
        deadline = time.monotonic() + 30
        while len(list(data.glob("events/*/*.parquet"))) <= start // 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    _, errors = process.communicate(timeout=60)
    assert process.returncode == 0, errors
    assert b"distinct user-agent classes" not in errors
    con = duckdb.connect()
    def majors(directory):
        return con.execute(f"select count(distinct browser_major), count(*) - count(browser_major) "
                           f"from read_parquet('{directory}/events/*/*.parquet')").fetchone()
    assert majors(data) == (30, 0)
    kept, collapsed = majors(tmp_path / "file")
    assert kept == 5 and collapsed == 25


def test_configuration_file_sets_defaults_flags_override_and_unknown_keys_fail(tmp_path):
    log = tmp_path / "log"
    generate(log, 500, 41, start="2025-01-01")
    data = tmp_path / "data"
    data.mkdir()
    (data / "klogs.toml").write_text("retention_days = 0\nip_mode = \"truncate\"\n")
    klogs("ingest", "--data", data, log)
    assert list(data.glob("events/*/*.parquet"))  # retention 0 kept the old lines
    con = duckdb.connect()
    assert con.execute(f"select count(visitor) from read_parquet('{data}/events/*/*.parquet')").fetchone()[0] == 0
    refused = klogs("ingest", "--data", tmp_path / "data", "--retention-days", "30", "--dry-run", log)
    assert refused.returncode == 0
    (data / "klogs.toml").write_text("retension_days = 3\n")
    bad = klogs("ingest", "--data", data, log, check=False)
    assert bad.returncode == 64
    assert "retension_days" in bad.stderr


def test_configuration_file_holds_the_address_path_report_and_log_settings(tmp_path):
    log = tmp_path / "access.log"
    long_path = "/" + "a" * 300
    log.write_text(
        f'10.1.2.3 - - [01/Nov/2026:10:00:00 +0000] "GET {long_path} HTTP/1.1" 200 5 "-" "curl/8.0" "198.51.100.7"\n'
        "this line is not an access log line\n")
    data = tmp_path / "data"
    data.mkdir()
    rejects = tmp_path / "rejects.txt"
    metrics = tmp_path / "klogs.prom"
    (data / "klogs.toml").write_text(
        'format = "combined-xff"\nip_mode = "truncate"\nclient_ip_from = "x-forwarded-for"\n'
        'trusted_proxies = ["10.0.0.0/8"]\nmax_path_length = 64\nkey_grace = "2d"\n'
        f'rejects = "{rejects}"\nmetrics_file = "{metrics}"\nlog_level = "info"\n')
    run = klogs("ingest", "--data", data, log)
    assert "ingest finished" in run.stderr  # log_level = "info"
    assert "access.log:2:" in rejects.read_text()
    assert "klogs_ingest_lines_rejected" in metrics.read_text()
    con = duckdb.connect()
    client, path = con.execute(f"select client_net, path from read_parquet('{data}/events/*/*.parquet')").fetchone()
    assert client == "198.51.100.0/24"  # the forwarded-for address, not the trusted proxy 10.1.2.3
    assert len(path.encode()) <= 64

    # A flag overrides the key.
    klogs("ingest", "--data", tmp_path / "flagged", "--config", data / "klogs.toml", "--max-path-length", "128", log)
    path = con.execute(f"select path from read_parquet('{tmp_path}/flagged/events/*/*.parquet')").fetchone()[0]
    assert 64 < len(path.encode()) <= 128

    for text, key in [
        ('trusted_proxies = ["10.0.0.0/8"]\n', "trusted_proxies"),
        ('key_grace = "two days"\n', "key_grace"),
        ('client_ip_from = "header"\n', "client_ip_from"),
        ("max_path_length = 8\n", "max_path_length"),
        ('log_level = "loud"\n', "log_level"),
        (f'metrics_file = "{tmp_path}/missing/klogs.prom"\n', "metrics_file"),
    ]:
        (data / "klogs.toml").write_text(text)
        bad = klogs("ingest", "--data", data, log, check=False)
        assert bad.returncode == 64, (text, bad.stderr)
        assert key in bad.stderr, (text, bad.stderr)
        assert "10.1.2.3" not in bad.stderr and "198.51.100.7" not in bad.stderr


def test_two_different_files_of_equal_length_in_separate_runs_both_count(tmp_path):
    log = tmp_path / "a.log"
    generate(log, 300, 51)
    text = log.read_bytes()
    other = tmp_path / "b.log"
    other.write_bytes(text.replace(b"HTTP/1.1", b"HTTP/1.0"))  # same length, different content
    assert len(other.read_bytes()) == len(text) and other.read_bytes() != text
    data = tmp_path / "data"
    klogs("ingest", "--data", data, log)
    _, events_once = sums(data)
    klogs("ingest", "--data", data, other)
    _, events = sums(data)
    assert events == 2 * events_once
    assert_verifies(data)


def rewrite_as_schema_version_1(path):
    """Rewrites a klogs file as version 1 wrote it: without the `kind` column (uncompressed, by pyarrow)."""
    table = pq.read_table(path)
    metadata = {key: value for key, value in (pq.read_metadata(path).metadata or {}).items()
                if key.startswith(b"klogs.")}
    metadata[b"klogs.schema_version"] = b"1"
    table = table.drop_columns(["kind"]).replace_schema_metadata(metadata)
    pq.write_table(table, path, compression="none")


def test_files_of_schema_version_1_without_kind_verify_compact_and_export_with_kind_null(tmp_path):
    generate(tmp_path / "a.log", 800, 61, days=1)
    generate(tmp_path / "b.log", 800, 62, days=1)
    data = tmp_path / "data"
    klogs("ingest", "--data", data, tmp_path / "a.log")
    _, old_rows = sums(data)
    for path in data.glob("*/*/*.parquet"):
        rewrite_as_schema_version_1(path)
    klogs("ingest", "--data", data, tmp_path / "b.log")
    assert_verifies(data)
    before = sums(data)
    new_rows = before[1] - old_rows
    klogs("compact", "--data", data)
    assert sums(data) == before
    assert_verifies(data)
    con = duckdb.connect()
    for dataset, count in (("events", "count(*)"), ("hits", "sum(hits)")):
        (path,) = data.glob(f"{dataset}/*/*.parquet")
        assert pq.read_metadata(path).metadata[b"klogs.schema_version"] == b"2"
        nulls, kinds = con.execute(
            f"select {count} filter (where kind is null), {count} filter (where kind is not null) "
            f"from read_parquet('{path}')").fetchone()
        assert (nulls, kinds) == (old_rows, new_rows), dataset
    exported = klogs("export", "--data", data, "--dataset", "events", "--from", "2026-11-01", "--to",
                     "2026-11-01", "--format", "csv").stdout.splitlines()
    assert exported[0].endswith(",is_bot,kind") and len(exported) == 1 + old_rows + new_rows
    assert sum(1 for line in exported[1:] if line.endswith(",")) == old_rows
