"""`klogs generate` (KlogsGenerator) checked from outside: determinism, shape of the traffic, and the oracle's view."""

from __future__ import annotations

import ipaddress
import re
import subprocess
from collections import Counter

import pytest

import oracle
from conftest import GENERATED_LINES, run_generate

LINE_START = re.compile(rb"^(\S+) ")


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not(klogs_bin, generated_log, tmp_path):
    again = run_generate(klogs_bin, tmp_path / "again.log")
    assert again.read_bytes() == generated_log.read_bytes()
    other = run_generate(klogs_bin, tmp_path / "other.log", seed=12)
    assert other.read_bytes() != generated_log.read_bytes()


def test_standard_output_equals_the_output_file(klogs_bin, tmp_path):
    written = run_generate(klogs_bin, tmp_path / "small.log", lines=500)
    printed = subprocess.run(
        [str(klogs_bin), "generate", "--lines", "500", "--seed", "11", "--start", "2026-11-01", "--days", "3"],
        capture_output=True, check=True).stdout
    assert printed == written.read_bytes()


def test_the_fixture_is_what_its_readme_command_makes(klogs_bin, tmp_path):
    from conftest import PACKAGE_ROOT

    made = subprocess.run(
        [str(klogs_bin), "generate", "--lines", "2000", "--seed", "5", "--start", "2026-11-01", "--days", "3"],
        capture_output=True, check=True).stdout
    assert made == (PACKAGE_ROOT / "fixtures" / "sample-access.log").read_bytes()


def test_generated_traffic_has_the_configured_shape(generated_log):
    data = generated_log.read_bytes()
    lines = data.split(b"\n")
    assert lines[-1] == b"" and len(lines) - 1 == GENERATED_LINES
    expected = oracle.evaluate(data, "combined")
    # About 0.1% malformed lines, all rejected by the oracle.
    assert 0 < expected.rejected_total <= GENERATED_LINES * 0.003
    # Time order, three days from 2026-11-01 UTC.
    assert expected.timestamps == sorted(expected.timestamps)
    assert {key[0] for key in expected.hits} == {"2026-11-01", "2026-11-02", "2026-11-03"}
    # Clients: about 5% of lines from IPv6 addresses, all in canonical text form.
    clients = Counter(LINE_START.match(line).group(1).decode() for line in lines[:-1] if LINE_START.match(line))
    v6_lines = sum(count for client, count in clients.items() if ":" in client)
    assert 0.02 < v6_lines / GENERATED_LINES < 0.09
    for client in clients:
        if ":" in client:
            assert ipaddress.ip_address(client).compressed == client
    # Bots: about 15% of the lines.
    bot_words = re.compile(r"bot|crawler|spider|curl|python|Go-http|wget|^-$|http", re.IGNORECASE)
    agents = re.findall(rb'"((?:[^"\\]|\\.)*)"\n', data)
    bots = sum(1 for agent in agents if bot_words.search(agent.decode()))
    assert 0.10 < bots / len(agents) < 0.22
    # Thousands of distinct paths, query strings, percent-encoding, escaped quotes, several statuses.
    assert len(expected.paths) > 1500
    assert data.count(b"?utm_source=") > 50 and b"%C3%" in data and b'\\"' in data
    statuses = Counter(key[3] for key in expected.hits)
    assert {200, 304, 404, 301, 500} <= set(statuses)
    # Realistic line length for combined.
    assert 180 < len(data) / GENERATED_LINES < 320


def test_common_format_drops_referrer_and_agent(generated_common_log):
    data = generated_common_log.read_bytes()
    expected = oracle.evaluate(data, "common")
    assert expected.accepted > GENERATED_LINES * 0.99
    assert data.count(b'"') <= 2 * GENERATED_LINES + 200  # only the request is quoted (garbage lines aside)


@pytest.mark.parametrize("arguments", [["--lines", "-1"], ["--days", "0"], ["--start", "2026-02-30"]])
def test_invalid_options_are_refused(klogs_bin, arguments):
    completed = subprocess.run([str(klogs_bin), "generate", *arguments], capture_output=True)
    assert completed.returncode != 0 and completed.stderr
