"""Hostile input and failing machines (issue 9), on the real binary.

Every case ends the same way: no crash or hang, a message naming the file and the reason (never a client address
or a raw user agent), a documented exit status (README), the good data kept, and a dataset `klogs verify` accepts.
Big inputs are generated on the fly and deleted with the test's directory. Peak memory on big inputs is measured
by `scripts/hostile-memory.sh`, not here; the bounds asserted here are loose (a leak or a buffered 10 MB line
would still break them).

Run: KLOGS_BIN=$PWD/.build/debug/klogs .venv/bin/python -m pytest -q Tests/interop/test_hostile.py
"""
from __future__ import annotations

import gzip
import json
import os
import random
import resource
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

KLOGS = os.environ.get("KLOGS_BIN", str(Path(__file__).resolve().parents[2] / ".build/debug/klogs"))
# Six user-agent rules instead of uap-core's 1,200 where the classification does not matter: start-up in
# milliseconds instead of 0.6 s of CPU per run of a debug build (fixtures/README.md).
SMALL_RULES = str(Path(__file__).resolve().parents[2] / "fixtures" / "small-ua-rules.yaml")
# `klogs ingest` as most cases run it: every date kept, the small rule set.
INGEST = ["ingest", "--retention-days", "0", "--ua-rules", SMALL_RULES]

# Canaries: neither may appear in any output byte, message or file.
CANARY_IP = "198.51.100.77"
CANARY_AGENT = "CanaryBrowser/9.9 (hostile-test-agent)"
# What a crash of the Swift runtime prints.
CRASH_MARKERS = ("Fatal error", "Program crashed", "Backtracing", "Segmentation fault", "Illegal instruction")
# Loose peak-memory bound for one debug-build ingest (it starts at about 50 MB). An AddressSanitizer build
# (`make test-hostile-asan`, which sets KLOGS_SANITIZER) adds shadow memory, red zones and a quarantine of freed
# blocks (capped there at 64 MB): the bound grows by what those cost, and still catches memory that grows with
# the input.
MEMORY_BOUND_KB = (400 + (400 if os.environ.get("KLOGS_SANITIZER") == "address" else 0)) * 1024


# MARK: - Helpers


def line(path: bytes | str = "/", time_text: str = "01/Nov/2026:10:00:00 +0000", request: bytes | None = None,
         status: str = "200", size: str = "123", referrer: bytes | str = "-", agent: bytes | str = CANARY_AGENT,
         client: bytes | str = CANARY_IP, user: bytes | str = "-") -> bytes:
    """One combined-format line (with its newline); any field may be raw bytes."""
    def raw(value):
        return value if isinstance(value, bytes) else value.encode()
    request = request if request is not None else b"GET " + raw(path) + b" HTTP/1.1"
    return (raw(client) + b" - " + raw(user) + b" [" + time_text.encode() + b'] "' + request + b'" '
            + status.encode() + b" " + size.encode() + b' "' + raw(referrer) + b'" "' + raw(agent) + b'"\n')


def good_lines(count: int, prefix: str = "/good", day: str = "01/Nov/2026") -> bytes:
    return b"".join(line(f"{prefix}/{index}", f"{day}:{index // 3600 % 24:02d}:{index // 60 % 60:02d}:"
                         f"{index % 60:02d} +0000") for index in range(count))


def run(*args, stdin=None, timeout=120, env=None, user: int | None = None) -> subprocess.CompletedProcess:
    """Runs klogs (as `user` when given: an unprivileged uid, through setpriv)."""
    command = [KLOGS, *map(str, args)]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    return subprocess.run(command, input=stdin, capture_output=True, timeout=timeout, env=env)


def ingest(data, *inputs, options=(), user=None, timeout=120, full_rules=False) \
        -> tuple[subprocess.CompletedProcess, dict]:
    """`klogs ingest --retention-days 0` with a summary (and the small rule set unless `full_rules`); returns the
    process and the summary."""
    summary = Path(tempfile.mkdtemp(prefix="klogs-hostile-summary-")) / "summary.json"
    os.chmod(summary.parent, 0o777)
    command = INGEST[:3] if full_rules else INGEST
    result = run(*command, "--data", data, "--summary-json", summary, *options, *inputs, user=user, timeout=timeout)
    summary_data = json.loads(summary.read_text()) if summary.exists() else {}
    shutil.rmtree(summary.parent, ignore_errors=True)
    assert_no_crash_and_no_leak(result)
    return result, summary_data


def assert_no_crash_and_no_leak(result: subprocess.CompletedProcess):
    output = result.stdout + result.stderr
    for marker in CRASH_MARKERS:
        assert marker.encode() not in output, output.decode(errors="replace")
    assert result.returncode >= 0, f"killed by signal {-result.returncode}: {output.decode(errors='replace')}"
    assert CANARY_IP.encode() not in output
    assert CANARY_AGENT.encode() not in output
    assert b"hostile-test-agent" not in output


def assert_verifies(data):
    result = run("verify", "--data", data)
    assert result.returncode == 0, (result.stdout + result.stderr).decode(errors="replace")


def assert_dataset_clean(data):
    """verify passes, every string column is valid UTF-8 for pyarrow, and no canary is stored anywhere."""
    assert_verifies(data)
    for path in Path(data).rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert CANARY_IP.encode() not in content, path
            assert b"hostile-test-agent" not in content, path
            if path.suffix == ".parquet":
                pq.read_table(path).validate(full=True)  # full validation checks UTF-8 of every string


def events(data, where: str = "true") -> list[tuple]:
    if not list(Path(data).glob("events/*/*.parquet")):
        return []
    return duckdb.connect().execute(
        f"select path, epoch_ms(ts), status from read_parquet('{data}/events/*/*.parquet') where {where} "
        "order by all").fetchall()


def sums(data) -> list[tuple]:
    """Per-hour, per-path sums of hits: equal for two datasets holding the same lines once."""
    if not list(Path(data).glob("hits/*/*.parquet")):
        return []
    return duckdb.connect().execute(
        f"select epoch_ms(hour), path, status, sum(hits), sum(bytes) from read_parquet('{data}/hits/*/*.parquet') "
        "group by all order by all").fetchall()


def assert_same_as_one_clean_run(data, *logs, events_too: bool = False):
    """The dataset holds every line of `logs` exactly once: the same sums as one clean ingest of them, and
    `klogs verify` and pyarrow accept it."""
    reference = Path(tempfile.mkdtemp(prefix="klogs-hostile-reference-"))
    try:
        ingest(reference / "data", *logs)
        assert sums(data) == sums(reference / "data")
        if events_too:
            assert len(events(data)) == len(events(reference / "data"))
    finally:
        shutil.rmtree(reference, ignore_errors=True)
    assert_dataset_clean(data)


def two_day_logs(directory: Path) -> tuple[Path, Path]:
    """Two readable logs of 20 lines each, on 2026-11-01 and 2026-11-02."""
    first = directory / "first.log"
    first.write_bytes(good_lines(20))
    second = directory / "second.log"
    second.write_bytes(good_lines(20, prefix="/second", day="02/Nov/2026"))
    for path in (first, second):
        os.chmod(path, 0o644)
    return first, second


def generate(path: Path, lines: int, seed: int, days: int = 1) -> Path:
    result = run("generate", "--lines", lines, "--seed", seed, "--start", "2026-11-01", "--days", days,
                 "--output", path)
    assert result.returncode == 0, result.stderr
    return path


def peak_memory_kb(args, stdin_path=None) -> tuple[int, bytes]:
    """Runs klogs and returns its own peak resident memory (from wait4) and its standard error."""
    with tempfile.TemporaryFile() as errors, open(stdin_path or os.devnull, "rb") as stdin:
        process = subprocess.Popen([KLOGS, *map(str, args)], stdin=stdin, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        return usage.ru_maxrss, process.returncode, errors.read()


def wait_until_reading(process: subprocess.Popen, path: Path, timeout: float = 60):
    """Waits until `process` has read some of `path` (its position in /proc/PID/fdinfo), so that what follows
    happens while the file is being read rather than while the rules load."""
    deadline = time.monotonic() + timeout
    target = str(path.resolve())
    while time.monotonic() < deadline and process.poll() is None:
        try:
            for descriptor in os.listdir(f"/proc/{process.pid}/fd"):
                try:
                    if os.readlink(f"/proc/{process.pid}/fd/{descriptor}") != target:
                        continue
                    with open(f"/proc/{process.pid}/fdinfo/{descriptor}") as info:
                        if int(info.readline().split()[1]) > 0:
                            return
                except (FileNotFoundError, ValueError, IndexError):
                    continue
        except FileNotFoundError:
            return
        time.sleep(0.01)


def unprivileged_user() -> int | None:
    """A uid without root's powers for permission tests: `nobody` when running as root with setpriv, else None
    (then the test runs as the current, already unprivileged user)."""
    if os.geteuid() != 0:
        return None
    if not shutil.which("setpriv"):
        pytest.skip("running as root, where permissions do not stop reads or writes, and setpriv is missing")
    return 65534


@pytest.fixture
def open_dir():
    """A directory under /tmp that an unprivileged user may enter (pytest's tmp_path is 0700 to root)."""
    path = Path(tempfile.mkdtemp(prefix="klogs-hostile-"))
    os.chmod(path, 0o777)
    yield path
    subprocess.run(["chmod", "-R", "u+rwx", str(path)])
    shutil.rmtree(path, ignore_errors=True)


# MARK: - Hostile input


def test_binary_garbage_tls_hellos_nul_bytes_and_invalid_utf8_are_counted_and_good_lines_kept(tmp_path):
    rng = random.Random(9)
    garbage = bytes(rng.choice([b for b in range(256) if b != 10]) for _ in range(300))
    client_hello = bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]) + bytes(
        rng.choice([b for b in range(256) if b not in (10, 34)]) for _ in range(120))
    hostile = [
        garbage + b"\n",
        client_hello + b"\n",  # the handshake as the whole line
        line(request=client_hello, status="400", size="0"),  # as the request, raw
        line(request=rb"\x16\x03\x01\x00\xF4\x01\x00\x00\xF0\x03\x03", status="400", size="0"),  # as nginx escapes it
        b"\x00" * 200 + b"\n",
        b"\x00" + line("/nul-first")[:-1] + b"\n",
        line(b"/nul\x00path"),
        line("/nul-agent", agent=b"Mozilla\x00/5.0 " + CANARY_AGENT.encode()),
        line(b"/caf\xe9-latin1"),
        line(b"/overlong-\xc0\xaf-slash"),
        line(b"/surrogate-\xed\xa0\x80"),
        line(b"/truncated-\xe2\x82"),
        line("/bad-referrer", referrer=b"http://ex\xff\xfeample.com/\xc3"),
        line("/bad-agent", agent=b"Mozilla/5.0 \xff\xfe " + CANARY_AGENT.encode()),
        line("/bad-user", user=b"j\xf6rg"),
        line("/bad-method", request=b"G\xffT /bad-method HTTP/1.1"),
        line("/bad-client", client=b"198.51.100.\xff"),
        line("/bad-protocol", request=b"GET /bad-protocol HTTP/\xff.1"),
        b"\xef\xbb\xbf" + line("/bom"),
    ]
    good = good_lines(50)
    log = tmp_path / "hostile.log"
    log.write_bytes(good[: len(good) // 2] + b"".join(hostile) + good[len(good) // 2:])
    result, summary = ingest(tmp_path / "data", log, options=("--format", "combined"), full_rules=True)
    assert result.returncode == 0, result.stderr
    assert summary["lines_read"] == 50 + len(hostile)
    assert summary["lines_ingested"] + summary["lines_rejected"] == summary["lines_read"]
    assert len(events(tmp_path / "data", "path like '/good/%'")) == 50
    paths = {row[0] for row in events(tmp_path / "data")}
    # Invalid UTF-8 is stored percent-encoded, never dropped or passed through.
    assert "/caf%E9-latin1" in paths
    assert any(path.startswith("/surrogate-%ED%A0%80") for path in paths)
    assert_dataset_clean(tmp_path / "data")


def test_format_detection_is_not_fooled_by_a_tls_hello_on_the_first_line(tmp_path):
    log = tmp_path / "first.log"
    log.write_bytes(bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]) + b"\xfc\x03\x03garbage\n" + good_lines(30))
    result, summary = ingest(tmp_path / "data", log)
    assert result.returncode == 0, result.stderr
    assert summary["format"] == "combined" and summary["lines_ingested"] == 30
    assert_dataset_clean(tmp_path / "data")


@pytest.mark.parametrize("compressed", [False, True])
def test_a_10_mb_line_is_rejected_as_overlong_and_never_buffered(tmp_path, compressed):
    log = tmp_path / ("long.log.gz" if compressed else "long.log")
    opener = gzip.open if compressed else open
    with opener(log, "wb") as output:
        output.write(good_lines(5))
        output.write(b'198.51.100.77 - - [01/Nov/2026:10:00:00 +0000] "GET /')
        block = b"A" * (1 << 20)
        for _ in range(10):
            output.write(block)
        output.write(b' HTTP/1.1" 200 1 "-" "-"\n')
        output.write(good_lines(5, prefix="/after"))
        output.write(b"\x00" * (10 << 20))  # and 10 MB of zeros without a newline at the very end
    memory, status, errors = peak_memory_kb([*INGEST, "--format", "combined", "--data", tmp_path / "data", log])
    assert status == 0, errors
    assert memory < MEMORY_BOUND_KB, f"peak memory {memory} KB"
    text = errors.decode()
    assert "line_too_long" in text
    assert len(events(tmp_path / "data")) == 10
    if not compressed:
        # A plain file's unterminated last line is left for the next run (it may still be being written).
        assert "have no newline yet" in text
    assert_dataset_clean(tmp_path / "data")


def test_crlf_lines_and_a_last_line_without_newline(tmp_path):
    log = tmp_path / "crlf.log"
    lines = good_lines(20).replace(b"\n", b"\r\n")
    last = line("/last")[:-1]
    log.write_bytes(lines + last)
    data = tmp_path / "data"
    result, summary = ingest(data, log)
    assert result.returncode == 0
    assert summary["lines_ingested"] == 20
    assert not [path for path, _, _ in events(data) if "\r" in path]
    assert any("no newline yet" in note for note in [result.stderr.decode()])
    # Once the line is complete, the next run reads exactly it.
    with open(log, "ab") as output:
        output.write(b"\r\n")
    result, summary = ingest(data, log)
    assert result.returncode == 0 and summary["lines_read"] == 1 and summary["lines_ingested"] == 1
    assert ("/last", 1_793_527_200_000, 200) in events(data)
    # A compressed file is finished: its unterminated last line is read at once.
    gz = tmp_path / "last.log.gz"
    gz.write_bytes(gzip.compress(good_lines(3, prefix="/gz") + line("/gz-last")[:-1]))
    result, summary = ingest(tmp_path / "gzdata", gz)
    assert result.returncode == 0 and summary["lines_ingested"] == 4
    assert_dataset_clean(data)


# Times at the edges, with --retention-days 0 (keep everything): (time, kept, expected epoch ms when kept).
EDGE_TIMES = [
    ("01/Jan/1970:00:00:00 +0000", True, 0),
    ("31/Dec/1969:19:00:00 -0500", True, 0),  # the epoch, logged in New York
    ("31/Dec/1969:23:59:59 +0000", False, None),  # before 1970 UTC
    ("01/Jan/1970:00:30:00 +0100", False, None),  # 1969-12-31T23:30Z
    ("19/Jan/2038:03:14:07 +0000", True, 2_147_483_647_000),
    ("19/Jan/2038:03:14:08 +0000", True, 2_147_483_648_000),  # past 32-bit time_t
    ("29/Feb/2024:12:00:00 +0000", True, 1_709_208_000_000),
    ("29/Feb/2023:12:00:00 +0000", False, None),
    ("31/Feb/2026:12:00:00 +0000", False, None),
    ("31/Apr/2026:12:00:00 +0000", False, None),
    ("00/Jan/2026:12:00:00 +0000", False, None),
    ("01/Nov/2026:24:00:00 +0000", False, None),
    ("01/Nov/2026:23:60:00 +0000", False, None),
    ("01/Nov/2026:23:59:60 +0000", True, 1_793_577_600_000),  # a leap second as logged
    ("01/Nov/2026:12:00:00 +1400", True, 1_793_484_000_000),  # Kiribati
    ("01/Nov/2026:12:00:00 -1200", True, 1_793_577_600_000),  # Baker Island
    ("01/Nov/2026:12:00:00 +1401", False, None),
    ("01/Nov/2026:12:00:00 +1500", False, None),
    ("01/Nov/2026:12:00:00 +0560", False, None),
    ("01/Nov/2026:12:00:00 +14a0", False, None),
    ("01/Nov/2026:12:00:00 UTC+0", False, None),
    ("01/Nov/2026:12:00:00 0000 ", False, None),
    ("01/Foo/2026:12:00:00 +0000", False, None),
    ("01/nov/2026:12:00:00 +0000", False, None),
    ("31/Dec/9999:23:59:59 +0000", True, 253_402_300_799_000),
    ("31/Dec/9999:12:00:00 -1100", True, 253_402_300_800_000 - 3_600_000),
    ("31/Dec/9999:23:59:59 -1200", False, None),  # year 10000 in UTC
    ("01/Jan/0000:00:00:00 +0000", False, None),
]


def test_timestamps_at_the_edges(tmp_path):
    log = tmp_path / "edges.log"
    log.write_bytes(b"".join(line(f"/t/{index}", text) for index, (text, _, _) in enumerate(EDGE_TIMES)))
    data = tmp_path / "data"
    result, summary = ingest(data, log, options=("--format", "combined"))
    assert result.returncode == 0, result.stderr
    stored = {path: ms for path, ms, _ in events(data)}
    expected = {f"/t/{index}": ms for index, (_, kept, ms) in enumerate(EDGE_TIMES) if kept}
    assert stored == expected
    assert summary["rejected"] == {"bad_timestamp": sum(1 for _, kept, _ in EDGE_TIMES if not kept)}
    partitions = sorted(p.name for p in (data / "events").iterdir())
    assert partitions[0] == "date=1970-01-01" and partitions[-1] == "date=9999-12-31"
    assert_dataset_clean(data)


def test_other_time_fields_at_the_edges_never_overflow(tmp_path):
    log = tmp_path / "msec.log"
    values = ["999999999999999999.999", "18446744073709551616", "253402300799.999", "253402300800.000", "0.000",
              "1793527200.5", "-1", "1e9", "", "12.34.56"]
    log.write_bytes(b"".join(f'{CANARY_IP} [{value}] "GET /m/{index} HTTP/1.1" 200 1\n'.encode()
                             for index, value in enumerate(values)))
    data = tmp_path / "data"
    result, summary = ingest(data, log, options=(
        "--log-format", '$remote_addr [$msec] "$request" $status $body_bytes_sent'))
    assert result.returncode == 0, result.stderr
    assert {path: ms for path, ms, _ in events(data)} == {
        "/m/2": 253_402_300_799_999, "/m/4": 0, "/m/5": 1_793_527_200_500}
    iso = tmp_path / "iso.log"
    iso.write_bytes(b"".join(f'{CANARY_IP} [{value}] "GET /i/{index} HTTP/1.1" 200 1\n'.encode() for index, value in
                             enumerate(["9999-12-31T23:59:59-12:00", "9999-12-31T23:59:59.999Z",
                                        "1969-12-31T23:59:59Z", "2026-02-31T00:00:00Z", "2026-11-01T12:00:00+14:00"])))
    result, summary = ingest(tmp_path / "iso-data", iso, options=(
        "--log-format", '$remote_addr [$time_iso8601] "$request" $status $body_bytes_sent'))
    assert result.returncode == 0, result.stderr
    assert sorted(path for path, _, _ in events(tmp_path / "iso-data")) == ["/i/1", "/i/4"]
    assert_dataset_clean(data)


def test_dates_far_outside_the_retention_window_are_refused_and_counted(tmp_path):
    now = time.time()

    def logged(seconds_from_now: float) -> str:
        return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now + seconds_from_now))

    log = tmp_path / "window.log"
    log.write_bytes(line("/old", logged(-400 * 86400)) + line("/ancient", "01/Jan/1971:00:00:00 +0000")
                    + line("/now", logged(0)) + line("/clock-ahead", logged(3600))
                    + line("/next-week", logged(7 * 86400)) + line("/far-future", "31/Dec/9999:23:59:59 +0000"))
    data = tmp_path / "data"
    result = run("ingest", "--ua-rules", SMALL_RULES, "--format", "combined", "--data", data, log)  # 365 days
    assert_no_crash_and_no_leak(result)
    assert result.returncode == 0
    text = result.stderr.decode()
    assert "older_than_retention 2" in text and "in_the_future 2" in text
    assert sorted(path for path, _, _ in events(data)) == ["/clock-ahead", "/now"]
    # Nothing made for a far day: no partition that no purge would ever reach, and no key that never expires.
    assert not [p for p in data.rglob("*9999*")]
    assert_dataset_clean(data)


def test_a_decompression_bomb_of_zeros_streams_in_bounded_memory(tmp_path):
    # 1 GiB of zeros in 1,024 gzip members of 1 MiB each: a 1 MB file.
    member = gzip.compress(b"\x00" * (1 << 20), compresslevel=9)
    bomb = tmp_path / "bomb.gz"
    with open(bomb, "wb") as output:
        output.write(gzip.compress(good_lines(10)))
        for _ in range(1024):
            output.write(member)
    assert bomb.stat().st_size < 2 << 20
    summary_path = tmp_path / "summary.json"
    memory, status, errors = peak_memory_kb([*INGEST, "--format", "combined", "--data", tmp_path / "data",
                                             "--summary-json", summary_path, bomb])
    assert status == 0, errors
    assert memory < MEMORY_BOUND_KB, f"peak memory {memory} KB"
    summary = json.loads(summary_path.read_text())
    assert summary["bytes_read"] == 1024 * (1 << 20) + len(good_lines(10))
    assert summary["lines_ingested"] == 10 and summary["rejected"] == {"line_too_long": 1}
    assert_dataset_clean(tmp_path / "data")


def test_a_bomb_of_one_repeated_line_is_counted_exactly(tmp_path):
    one = line("/same", "01/Nov/2026:10:00:00 +0000")
    member = gzip.compress(one * 10_000, compresslevel=9)
    bomb = tmp_path / "repeat.gz"
    bomb.write_bytes(member * 4)
    result, summary = ingest(tmp_path / "data", bomb, options=("--format", "combined", "--no-events"))
    assert result.returncode == 0
    assert summary["lines_ingested"] == 40_000
    assert sums(tmp_path / "data") == [(1_793_527_200_000, "/same", 200, 40_000, 40_000 * 123)]
    assert_dataset_clean(tmp_path / "data")


def test_gzip_with_trailing_garbage_keeps_everything_and_warns(tmp_path):
    log = tmp_path / "trailing.log.gz"
    log.write_bytes(gzip.compress(good_lines(40)) + b"this is not gzip \xff\xfe" + CANARY_IP.encode())
    result, summary = ingest(tmp_path / "data", log)
    assert result.returncode == 0
    assert summary["lines_ingested"] == 40
    assert any("trailing garbage ignored" in warning and "trailing.log.gz" in warning
               for warning in summary["warnings"])
    assert_dataset_clean(tmp_path / "data")


def lz4_compress(data: bytes) -> bytes:
    if not shutil.which("lz4"):
        pytest.skip("the lz4 command is not installed (make deps installs it)")
    return subprocess.run(["lz4", "-c", "-B4"], input=data, capture_output=True, check=True).stdout


@pytest.mark.parametrize("compression", ["gzip", "lz4"])
def test_a_truncated_compressed_file_keeps_what_came_before_and_a_complete_copy_adds_exactly_the_rest(
        tmp_path, compression):
    content = bytes(generate(tmp_path / "source.log", 3000, 5).read_bytes())
    compressed = gzip.compress(content) if compression == "gzip" else lz4_compress(content)
    cut = tmp_path / f"cut.log.{compression}"
    cut.write_bytes(compressed[: len(compressed) * 2 // 3])
    data = tmp_path / "data"
    result, summary = ingest(data, cut)
    assert result.returncode == 2, result.stderr
    message = result.stderr.decode()
    assert str(cut) in message and "ends after" in message and "decompressed" in message
    assert 0 < summary["lines_ingested"] < 3000
    assert_dataset_clean(data)
    # The complete file (its head is the same) is read from where the cut one stopped.
    whole = tmp_path / f"whole.log.{compression}"
    whole.write_bytes(compressed)
    result, _ = ingest(data, whole)
    assert result.returncode == 0
    assert_same_as_one_clean_run(data, tmp_path / "source.log")


def test_empty_file_directory_missing_file_and_dev_null(tmp_path):
    good = tmp_path / "good.log"
    good.write_bytes(good_lines(10))
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    directory = tmp_path / "logs.d"
    directory.mkdir()
    missing = tmp_path / "missing.log"
    data = tmp_path / "data"
    result, summary = ingest(data, empty, directory, missing, "/dev/null", good)
    assert result.returncode == 2
    text = result.stderr.decode()
    assert f"{empty}: empty; skipped" in text
    assert f"{directory}: is a directory" in text
    assert f"{missing}: no such file" in text
    assert summary["lines_ingested"] == 10 and len(summary["input_errors"]) == 2
    assert_dataset_clean(data)
    result, summary = ingest(tmp_path / "data2", empty)
    assert result.returncode == 0 and summary["lines_read"] == 0


def test_a_fifo_is_read_once_like_a_pipe(tmp_path):
    fifo = tmp_path / "access.fifo"
    os.mkfifo(fifo)
    content = good_lines(30) + line("/unterminated")[:-1]

    def writer(payload):
        with open(fifo, "wb") as output:
            output.write(payload)

    data = tmp_path / "data"
    thread = threading.Thread(target=writer, args=(content,))
    thread.start()
    result, summary = ingest(data, fifo, timeout=60)
    thread.join(timeout=10)
    assert result.returncode == 0, result.stderr
    assert summary["lines_ingested"] == 31  # the stream ended: its last line is complete
    assert "read once" in result.stderr.decode()
    # A FIFO carrying gzip, and process substitution (/dev/fd/N), work the same way.
    thread = threading.Thread(target=writer, args=(gzip.compress(good_lines(5, prefix="/gz")),))
    thread.start()
    result, summary = ingest(data, fifo, timeout=60)
    thread.join(timeout=10)
    assert result.returncode == 0 and summary["lines_ingested"] == 5
    substitution = subprocess.run(
        ["bash", "-c", f'{KLOGS} {" ".join(INGEST)} --data {data} <(printf "%s" "$0")',
         good_lines(4, prefix="/sub").decode()], capture_output=True, timeout=60)
    assert substitution.returncode == 0, substitution.stderr
    assert len(events(data)) == 40
    assert_dataset_clean(data)


def test_an_unreadable_file_is_reported_and_the_others_are_kept(open_dir):
    user = unprivileged_user()
    good = open_dir / "good.log"
    good.write_bytes(good_lines(10))
    secret = open_dir / "secret.log"
    secret.write_bytes(good_lines(10, prefix="/secret"))
    os.chmod(good, 0o644)
    os.chmod(secret, 0o000)
    data = open_dir / "data"
    result, summary = ingest(data, secret, good, user=user)
    assert result.returncode == 2, result.stderr
    assert f"{secret}: permission denied" in result.stderr.decode()
    assert summary["lines_ingested"] == 10
    assert_dataset_clean(data)


# MARK: - Fault injection


def test_a_full_disk_fails_cleanly_and_the_rerun_after_freeing_space_ingests_everything(tmp_path, small_filesystem):
    data = small_filesystem / "data"
    first = generate(tmp_path / "first.log", 500, 61)
    big = generate(tmp_path / "big.log", 60000, 62, days=20)  # more than 1 MiB even delta-encoded
    ingest(data, first)
    result, _ = ingest(data, big, options=("--compression", "uncompressed"))
    assert result.returncode == 3
    assert "no space left on device" in result.stderr.decode().lower()
    assert_dataset_clean(data)
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_filesystem)], check=True)
    result, _ = ingest(data, first, big, options=("--compression", "uncompressed"))
    assert result.returncode == 0, result.stderr
    assert_same_as_one_clean_run(data, first, big)


def test_a_file_size_limit_fails_cleanly_and_the_rerun_without_it_ingests_everything(tmp_path):
    log = generate(tmp_path / "big.log", 8000, 63)
    data = tmp_path / "data"
    limited = subprocess.run(
        ["bash", "-c", f"ulimit -f 64 && exec {KLOGS} {' '.join(INGEST)} --compression uncompressed "
                       f"--data {data} {log}"], capture_output=True, timeout=120)
    assert_no_crash_and_no_leak(limited)
    assert limited.returncode == 3 and b"File too large" in limited.stderr
    assert_verifies(data)
    result, _ = ingest(data, log)
    assert result.returncode == 0
    assert_same_as_one_clean_run(data, log)


def make_read_only(directory: Path):
    """Makes a directory tree unwritable even for root: a read-only bind mount over it (root), else chmod."""
    if os.geteuid() == 0:
        subprocess.run(["mount", "--bind", str(directory), str(directory)], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", str(directory)], check=True)
        return lambda: subprocess.run(["umount", str(directory)], check=True)
    subprocess.run(["chmod", "-R", "a-w", str(directory)], check=True)
    return lambda: subprocess.run(["chmod", "-R", "u+w", str(directory)], check=True)


def test_a_read_only_data_directory_fails_cleanly_and_the_rerun_ingests_the_rest(tmp_path):
    first, second = two_day_logs(tmp_path)
    data = tmp_path / "data"
    ingest(data, first)
    undo = make_read_only(data)
    try:
        result, _ = ingest(data, second)
        assert result.returncode == 3, result.stderr
        assert "read-only file system" in result.stderr.decode().lower() or "permission denied" in \
            result.stderr.decode().lower()
        assert_verifies(data)
    finally:
        undo()
    result, summary = ingest(data, first, second)
    assert result.returncode == 0 and summary["lines_ingested"] == 20
    assert len(events(data)) == 40
    assert_dataset_clean(data)


def test_permission_denied_on_a_partition_directory(open_dir):
    user = unprivileged_user()
    first, second = two_day_logs(open_dir)
    data = open_dir / "data"
    result, _ = ingest(data, first, user=user)
    assert result.returncode == 0, result.stderr
    partition = data / "events" / "date=2026-11-02"
    partition.mkdir()
    os.chmod(partition, 0o555)
    if user is not None:
        os.chown(partition, 0, 0)
    result, _ = ingest(data, second, user=user)
    assert result.returncode == 3, result.stderr
    message = result.stderr.decode()
    assert "date=2026-11-02" in message and "permission denied" in message.lower()
    assert_verifies(data)
    os.chmod(partition, 0o755)
    if user is not None:
        os.chown(partition, user, user)
    result, summary = ingest(data, first, second, user=user)
    assert result.returncode == 0 and summary["lines_ingested"] == 20
    assert len(events(data)) == 40
    assert_dataset_clean(data)


def test_a_file_truncated_between_runs_copytruncate(tmp_path):
    log = tmp_path / "access.log"
    log.write_bytes(good_lines(100))
    data = tmp_path / "data"
    ingest(data, log)
    with open(log, "ab") as output:
        output.write(good_lines(20, prefix="/more"))
    shutil.copy(log, tmp_path / "access.log.1")  # logrotate copytruncate: copy, then truncate
    log.write_bytes(b"")
    result, summary = ingest(data, tmp_path / "access.log.1", log)
    assert result.returncode == 0 and summary["lines_ingested"] == 20
    log.write_bytes(good_lines(7, prefix="/new", day="02/Nov/2026"))
    result, summary = ingest(data, tmp_path / "access.log.1", log)
    assert result.returncode == 0 and summary["lines_ingested"] == 7
    assert len(events(data)) == 127
    assert_dataset_clean(data)


@pytest.mark.parametrize("change", ["truncate", "replace"])
def test_a_file_truncated_or_replaced_while_it_is_read(tmp_path, change):
    log = generate(tmp_path / "access.log", 15000, 71)
    original = log.read_bytes()
    rotated = tmp_path / "access.log.1"
    data = tmp_path / "data"
    process = subprocess.Popen([KLOGS, *INGEST, "--data", data, log], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    wait_until_reading(process, log)
    if change == "truncate":
        shutil.copy(log, rotated)
        with open(log, "r+b") as handle:
            handle.truncate(0)
    else:
        os.rename(log, rotated)
    new_lines = good_lines(25, prefix="/after-rotation", day="02/Nov/2026")
    with open(log, "ab") as output:
        output.write(new_lines)
    _, errors = process.communicate(timeout=120)
    assert_no_crash_and_no_leak(subprocess.CompletedProcess([], process.returncode, b"", errors))
    assert process.returncode == 0, errors
    assert_verifies(data)
    result, _ = ingest(data, rotated, log)
    assert result.returncode == 0, result.stderr
    reference_log = tmp_path / "reference.log"
    reference_log.write_bytes(original + new_lines)
    assert_same_as_one_clean_run(data, reference_log)


@pytest.fixture(scope="module")
def queried_dataset(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("queried")
    ingest(directory / "data", generate(directory / "access.log", 8000, 81, days=2))
    return directory / "data"


@pytest.mark.parametrize("command", [
    ["export", "--format", "jsonl"], ["export", "--format", "csv"], ["query", "--by", "path", "--top", "100000"],
    ["query", "--by", "path", "--top", "100000", "--output", "json"], ["report"]])
def test_a_closed_standard_output_ends_quietly_with_status_0(queried_dataset, command):
    data = queried_dataset
    shell = (f"set -o pipefail; {KLOGS} {' '.join(command)} --data {data} --from 2026-11-01 --to 2026-11-03 "
             "| head -c 100 > /dev/null")
    result = subprocess.run(["bash", "-c", shell], capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_a_file_ingest_commits_what_was_read_and_the_rerun_reads_exactly_the_rest(
        tmp_path, signal_number):
    logs = [generate(tmp_path / f"{name}.log", 8000, seed, days=2) for name, seed in (("a", 91), ("b", 92))]
    data = tmp_path / "data"
    process = subprocess.Popen([KLOGS, *INGEST, "--data", data, *logs],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_until_reading(process, logs[0])
    process.send_signal(signal_number)
    _, errors = process.communicate(timeout=120)
    assert_no_crash_and_no_leak(subprocess.CompletedProcess([], process.returncode, b"", errors))
    if process.returncode != 0:  # 0 only if the run had finished before the signal arrived
        assert process.returncode == 128 + signal_number, errors
        assert f"stopped  by {signal.Signals(signal_number).name}".encode() in errors
        assert f"{logs[1]}: not read, the run was stopped by a signal".encode() in errors
    assert_verifies(data)
    result, _ = ingest(data, *logs)
    assert result.returncode == 0, result.stderr
    assert_same_as_one_clean_run(data, *logs, events_too=True)


def test_a_second_signal_ends_the_run_at_once_and_the_rerun_repairs_everything(tmp_path):
    log = generate(tmp_path / "a.log", 8000, 93, days=2)
    data = tmp_path / "data"
    process = subprocess.Popen([KLOGS, *INGEST, "--data", data, log],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_until_reading(process, log)
    process.send_signal(signal.SIGINT)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=120)
    assert process.returncode in (0, 130, -signal.SIGINT)
    result, _ = ingest(data, log)
    assert result.returncode == 0, result.stderr
    assert_same_as_one_clean_run(data, log)
