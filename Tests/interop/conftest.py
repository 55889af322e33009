"""Shared fixtures of the interoperability suite: the klogs binary, inputs, and a helper that runs an ingest.

Run: KLOGS_BIN=/path/to/klogs python -m pytest -q Tests/interop
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import oracle  # noqa: E402

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
CORPUS_LOGS = Path(os.environ.get("KLOGS_CORPUS", PACKAGE_ROOT.parent / "shared" / "corpus")) / "logs"
if not CORPUS_LOGS.is_dir():  # a worktree beside the main clone
    CORPUS_LOGS = Path("/work/shared/corpus/logs")

# The generated log every test shares: small enough for a debug binary, large enough to have every feature.
GENERATED_LINES = 20_000
GENERATED_SEED = 11
GENERATED_START = "2026-11-01"
GENERATED_DAYS = 3

# Corpus logs: (name, relative path, format).
CORPUS = {
    "elastic-apache": ("elastic-examples/apache_logs", "combined"),
    "hackers": ("nielsbasjes-logparser/hackers-access.log", "combined"),
    "nasa-common": ("nasa-http/NASA_access_log_Jul95.first4000", "common"),
}


@pytest.fixture(scope="session")
def klogs_bin() -> Path:
    value = os.environ.get("KLOGS_BIN")
    if not value:
        pytest.fail(
            "KLOGS_BIN is not set: build klogs (swift build) and run "
            "KLOGS_BIN=$PWD/.build/debug/klogs python -m pytest -q Tests/interop", pytrace=False)
    path = Path(value)
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"KLOGS_BIN={value} is not an executable file", pytrace=False)
    return path


@dataclass
class IngestRun:
    """The outcome of one `klogs ingest`."""

    status: int
    stdout: bytes
    stderr: bytes
    summary_path: Path
    data: Path
    args: list

    @property
    def summary(self) -> dict:
        return json.loads(self.summary_path.read_text())

    def check_ok(self) -> "IngestRun":
        assert self.status == 0, (
            f"klogs ingest exited {self.status}\nargs: {self.args}\nstderr:\n{self.stderr.decode(errors='replace')}")
        return self


@pytest.fixture
def small_filesystem(tmp_path: Path):
    """A 1 MiB tmpfs to fill (mounting needs root; skipped otherwise); yields its mount point."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    # 1 MiB: room for a small ingest, not for 60,000 lines even uncompressed (integer columns are delta- and
    # dictionary-encoded, so 3 MiB held them).
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {result.stderr.decode()}")
    yield mount
    subprocess.run(["umount", str(mount)])


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A fresh, not yet existing data directory."""
    return tmp_path / "data"


@pytest.fixture
def ingest(klogs_bin: Path, tmp_path: Path):
    """Runs `klogs ingest --data DIR --summary-json FILE [options] [inputs]` and returns an IngestRun."""
    counter = [0]

    def run(inputs, *options, data: Path | None = None, stdin: bytes | None = None, timeout: int = 600) -> IngestRun:
        counter[0] += 1
        data = data or tmp_path / f"data{counter[0]}"
        summary = tmp_path / f"summary{counter[0]}.json"
        # --retention-days 0: the corpus logs are years old, and fixed dates must not expire (batch has its own test).
        args = [str(klogs_bin), "ingest", "--retention-days", "0", "--data", str(data), "--summary-json", str(summary),
                *options,
                *[str(path) for path in inputs]]
        completed = subprocess.run(args, input=stdin, capture_output=True, timeout=timeout)
        return IngestRun(completed.returncode, completed.stdout, completed.stderr, summary, data, args)

    return run


def run_generate(klogs_bin: Path, output: Path, log_format: str = "combined", lines: int = GENERATED_LINES,
                 seed: int = GENERATED_SEED) -> Path:
    args = [str(klogs_bin), "generate", "--lines", str(lines), "--seed", str(seed), "--start", GENERATED_START,
            "--days", str(GENERATED_DAYS), "--output", str(output)]
    if log_format != "combined":
        args += ["--format", log_format]
    completed = subprocess.run(args, capture_output=True, timeout=300)
    assert completed.returncode == 0, f"klogs generate failed: {completed.stderr.decode(errors='replace')}"
    assert output.stat().st_size > 0
    return output


@pytest.fixture(scope="session")
def generated_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("generated")


@pytest.fixture(scope="session")
def generated_log(klogs_bin: Path, generated_dir: Path) -> Path:
    """A 20,000-line combined log from `klogs generate`, three days from 2026-11-01."""
    return run_generate(klogs_bin, generated_dir / "generated.log")


@pytest.fixture(scope="session")
def generated_common_log(klogs_bin: Path, generated_dir: Path) -> Path:
    return run_generate(klogs_bin, generated_dir / "generated-common.log", log_format="common")


def gzip_file(source: Path, target: Path) -> Path:
    target.write_bytes(gzip.compress(source.read_bytes(), mtime=0))
    return target


def multi_member_gzip(source: Path, target: Path, parts: int = 3) -> Path:
    """Splits at arbitrary byte offsets (mid-line), compresses each part with the `gzip` tool and concatenates."""
    data = source.read_bytes()
    cuts = [0] + [len(data) * index // parts + 17 for index in range(1, parts)] + [len(data)]
    members = []
    for index in range(parts):
        part = target.with_name(f"{target.name}.part{index}")
        part.write_bytes(data[cuts[index]:cuts[index + 1]])
        subprocess.run(["gzip", "-n", "-f", str(part)], check=True)
        members.append(part.with_name(part.name + ".gz"))
    with open(target, "wb") as out:
        for member in members:
            out.write(member.read_bytes())  # same as `cat a.gz b.gz c.gz > target`
    return target


def corpus_path(name: str) -> Path:
    relative, _ = CORPUS[name]
    path = CORPUS_LOGS / relative
    if not path.is_file():
        pytest.skip(f"corpus file {path} is missing")
    return path
