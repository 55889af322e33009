"""Quick checks of the built klogs binary ($KLOGS_BIN): version, metrics file, logging, completions.
Part of `make test` (debug binary) and of `make test-packaging` (the binary installed from the .deb)."""
import json
import os
import pathlib
import re
import shutil
import subprocess
import time

import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from promtext import parse  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "fixtures" / "sample-access.log"
KLOGS = os.environ.get("KLOGS_BIN", str(ROOT / ".build" / "debug" / "klogs"))


def run(*args, **kwargs):
    return subprocess.run([KLOGS, *args], capture_output=True, text=True, timeout=300, **kwargs)


def test_version_names_the_version_and_the_commit():
    result = run("--version")
    assert result.returncode == 0
    assert re.fullmatch(r"klogs version \d+\.\d+\.\d+ \(build ([0-9a-f]{7,40}(-dirty)?|unknown)\)\n", result.stdout)


@pytest.fixture(scope="module")
def ingest(tmp_path_factory):
    work = tmp_path_factory.mktemp("ingest")
    result = run("ingest", "--data", str(work / "data"), "--summary-json", str(work / "summary.json"),
                 "--metrics-file", str(work / "klogs.prom"), "--log-level", "trace", str(SAMPLE))
    assert result.returncode == 0, result.stderr
    return work, result


def test_metrics_file_parses_as_prometheus_text_and_holds_the_true_counts(ingest):
    work, _ = ingest
    samples = parse((work / "klogs.prom").read_text())
    summary = json.loads((work / "summary.json").read_text())
    lines = SAMPLE.read_bytes().count(b"\n")
    assert samples["klogs_ingest_lines_read"] == lines == summary["lines_read"]
    assert samples["klogs_ingest_lines_ingested"] == summary["lines_ingested"]
    rejected = {k: v for k, v in samples.items() if k.startswith("klogs_ingest_lines_rejected{")}
    assert sum(rejected.values()) == summary["lines_rejected"] == lines - summary["lines_ingested"]
    for reason, count in summary["rejected"].items():
        assert rejected[f'klogs_ingest_lines_rejected{{reason="{reason}"}}'] == count
    assert samples["klogs_ingest_files_written"] == summary["files_written"] > 0
    assert samples["klogs_ingest_last_run_success"] == 1
    assert samples["klogs_ingest_last_success_timestamp_seconds"] == samples["klogs_ingest_last_run_timestamp_seconds"]
    assert samples["klogs_ingest_duration_seconds"] >= 0
    assert sorted(os.listdir(work)) == ["data", "klogs.prom", "summary.json"]  # no temporary file left


def test_log_lines_are_one_per_event_and_hold_no_personal_data(ingest):
    _, result = ingest
    log = [line for line in result.stderr.splitlines() if re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", line)]
    assert any(" info klogs: ingest finished " in line for line in log)
    text = SAMPLE.read_text(errors="replace")
    addresses = set(re.findall(r"^(\S+) ", text, re.M))
    agents = set(re.findall(r'"([^"]{12,})"$', text, re.M))
    queries = set(re.findall(r"\?([^ \"]+)", text))
    for line in result.stderr.splitlines():
        for secret in addresses | agents | queries:
            assert secret not in line, f"personal data in the log: {line!r}"


def test_a_metrics_file_in_a_missing_directory_is_an_invalid_option(tmp_path):
    result = run("ingest", "--data", str(tmp_path / "d"), "--metrics-file", str(tmp_path / "no" / "k.prom"), str(SAMPLE))
    assert result.returncode == 64
    assert "does not exist" in result.stderr


def test_bash_completion_loads_and_registers_klogs(tmp_path):
    script = tmp_path / "klogs.bash"
    script.write_text(run("--generate-completion-script", "bash").stdout)
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    result = subprocess.run(["bash", "-c", f"source {script} && complete -p klogs"], capture_output=True, text=True)
    assert result.returncode == 0 and "klogs" in result.stdout, result.stderr


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_completions_are_generated(shell):
    result = run("--generate-completion-script", shell)
    assert result.returncode == 0 and "metrics-file" in result.stdout
    if shutil.which(shell):
        flag = ["-n"] if shell == "zsh" else ["--no-execute"]
        assert subprocess.run([shell, *flag], input=result.stdout, text=True).returncode == 0


def test_in_pipe_mode_the_metrics_file_follows_every_commit(tmp_path):
    lines = SAMPLE.read_bytes().splitlines(keepends=True)
    prom = tmp_path / "klogs.prom"
    process = subprocess.Popen(
        [KLOGS, "ingest", "--quiet", "--retention-days", "0", "--data", str(tmp_path / "data"),
         "--flush-interval", "0.5", "--metrics-file", str(prom)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdin.write(b"".join(lines[:500]))
    process.stdin.flush()
    # The pipe stays open: a commit, and with it the metrics file, must come from the flush interval alone.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not prom.exists():
        time.sleep(0.1)
    assert prom.exists(), "no metrics file while the pipe was still open"
    during = parse(prom.read_text())
    assert during["klogs_ingest_lines_read"] == 500
    process.stdin.write(b"".join(lines[500:]))
    process.stdin.close()
    assert process.wait(timeout=60) == 0, process.stderr.read().decode()
    after = parse(prom.read_text())
    assert after["klogs_ingest_lines_read"] == len(lines)
    assert after["klogs_ingest_last_run_success"] == 1
