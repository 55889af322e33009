"""Leak test: no client address and no raw user agent of the input may appear anywhere klogs writes.

Searched: every byte of every file under the data directory (Parquet files, keys, anything else), the decoded
values and key-value metadata of every Parquet file (so that LZ4 compression cannot hide a leak from the byte
search), standard output, standard error and the summary JSON.

Needles
  - each client field that is an IP address, in its text as logged, its canonical form and, for IPv6, its exploded
    form (IPv4 in IPv6 text forms are not expected in these inputs);
  - each raw user agent longer than 20 characters that is not also a legitimately stored value (a browser or OS
    family klogs writes, e.g. a bare `Googlebot-Image/1.0` is never both).
A needle is searched with boundaries (an IPv4 needle may not be preceded by a digit or dot nor followed by a
digit; an IPv6 needle may not touch hex digits or colons) so that `1.2.3.4` does not match inside `11.2.3.45`.
Needles that legitimately occur inside stored content are left out and counted: a client address that also appears
in a request path or a referrer of the same input, and, in truncate mode, an address that is its own network
(`198.51.100.0` is the start of `198.51.100.0/24`; the default prefixes are /24 and /48).
"""

from __future__ import annotations

import gzip
import ipaddress
import re
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import oracle
from conftest import CORPUS, corpus_path

IP_MODES = ["hash", "truncate", "drop"]
PRIVACY_INPUTS = ["elastic-apache", "hackers", "nasa-common", "generated"]


def address_forms(text: str) -> set[str]:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return set()
    forms = {text, address.compressed}
    if address.version == 6:
        forms.add(address.exploded)
        forms.add(address.compressed.upper())
    return forms


TRUNCATE_PREFIX = {4: 24, 6: 48}


def is_own_network(text: str) -> bool:
    address = ipaddress.ip_address(text)
    network = ipaddress.ip_network(f"{address}/{TRUNCATE_PREFIX[address.version]}", strict=False)
    return network.network_address == address


def needles_for(expected: oracle.Expected, ip_mode: str = "hash") -> tuple[list[bytes], list[bytes], int]:
    stored_text = "\n".join(list(expected.paths) + list(expected.referrers))
    addresses, skipped = set(), 0
    for client in expected.clients:
        forms = address_forms(client)
        if forms and ip_mode == "truncate" and is_own_network(client):
            skipped += len(forms)
            continue
        for form in forms:
            if form in stored_text:
                skipped += 1
            else:
                addresses.add(form)
    agents = {agent for agent in expected.user_agents if len(agent) > 20}
    return ([form.encode() for form in sorted(addresses)], [agent.encode() for agent in sorted(agents)], skipped)


# Candidate addresses in any content: an IPv4 dotted quad not preceded by a digit or dot nor followed by a digit,
# and maximal runs of hex digits and colons holding a colon (IPv6). A needle leaks when a candidate equals it.
_IPV4_CANDIDATE = re.compile(rb"(?<![0-9.])[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?![0-9])")
_IPV6_CANDIDATE = re.compile(rb"[0-9A-Fa-f:]*:[0-9A-Fa-f:]*")


def address_hits(content: bytes, needles: set[bytes]):
    for pattern in (_IPV4_CANDIDATE, _IPV6_CANDIDATE):
        for match in pattern.finditer(content):
            if match.group(0) in needles:
                yield match


def stored_values(path: Path) -> tuple[bytes, set[str]]:
    """All decoded column values and key-value metadata of a Parquet file as text, and its string values."""
    table = pq.read_table(path)
    strings: set[str] = set()
    chunks = []
    for column in table.columns:
        if pa.types.is_string(column.type):
            # Read string columns as bytes: a column with invalid UTF-8 (a separate bug) must not hide a leak.
            column = column.cast(pa.binary())
        for value in column.to_pylist():
            if value is None:
                continue
            if isinstance(value, bytes):
                value = value.decode("utf-8", errors="replace")
                strings.add(value)
            chunks.append(str(value))
    for key, value in (pq.read_metadata(path).metadata or {}).items():
        chunks.append(key.decode(errors="replace"))
        chunks.append(value.decode(errors="replace"))
    return "\n".join(chunks).encode(), strings


def find_leaks(places: dict[str, bytes], addresses: list[bytes], agents: list[bytes]) -> list[str]:
    needles = set(addresses)
    leaks = []
    for place, content in places.items():
        for match in address_hits(content, needles):
            # Report only a shape of the leak, never the address itself.
            leaks.append(f"{place}: a client address ({len(match.group(0))} chars) at byte {match.start()}")
            break
        for agent in agents:
            position = content.find(agent)
            if position != -1:
                leaks.append(f"{place}: a raw user agent ({agent[:12].decode(errors='replace')}…) at byte {position}")
                break
    return leaks


def collect_places(run) -> tuple[dict[str, bytes], set[str]]:
    places = {"stdout": run.stdout, "stderr": run.stderr}
    if run.summary_path.exists():
        places["summary.json"] = run.summary_path.read_bytes()
    stored_strings: set[str] = set()
    for path in sorted(run.data.rglob("*")):
        if path.is_file():
            relative = str(path.relative_to(run.data))
            places[relative] = path.read_bytes()
            if path.suffix == ".parquet":
                decoded, strings = stored_values(path)
                places[relative + " (decoded)"] = decoded
                stored_strings |= strings
    return places, stored_strings


@pytest.fixture(scope="module")
def privacy_inputs(request):
    def get(name: str) -> tuple[Path, str]:
        if name == "generated":
            return request.getfixturevalue("generated_log"), "combined"
        return corpus_path(name), CORPUS[name][1]

    return get


@pytest.mark.parametrize("compression", ["uncompressed", "lz4-raw"])
@pytest.mark.parametrize("ip_mode", IP_MODES)
@pytest.mark.parametrize("name", PRIVACY_INPUTS)
def test_no_client_address_or_user_agent_leaks(name, ip_mode, compression, privacy_inputs, ingest):
    path, log_format = privacy_inputs(name)
    expected = oracle.evaluate(oracle.read_input(path), log_format)
    addresses, agents, _skipped = needles_for(expected, ip_mode)
    assert addresses, "the input should have IP clients"
    run = ingest([path], "--format", log_format, "--ip-mode", ip_mode, "--compression", compression).check_ok()
    places, stored_strings = collect_places(run)
    assert any(name.endswith(".parquet") for name in places), "nothing was written"
    # A user agent that klogs legitimately stores whole (a family name equal to the raw string) is no leak.
    agents = [agent for agent in agents if agent.decode() not in stored_strings]
    leaks = find_leaks(places, addresses, agents)
    assert not leaks, f"{len(leaks)} leaks in ip mode {ip_mode}:\n" + "\n".join(leaks[:20])


@pytest.mark.parametrize("ip_mode", IP_MODES)
def test_ip_mode_is_recorded_and_applied(ip_mode, generated_log, ingest):
    run = ingest([generated_log], "--ip-mode", ip_mode).check_ok()
    files = sorted(run.data.glob("events/*/*.parquet"))
    assert files
    for path in files:
        metadata = pq.read_metadata(path).metadata
        assert metadata[b"klogs.ip_mode"] == ip_mode.encode()
        table = pq.read_table(path, columns=["visitor", "client_net"])
        visitors = table.column("visitor").null_count
        networks = table.column("client_net").null_count
        rows = table.num_rows
        if ip_mode == "hash":
            assert visitors == 0 and networks == rows
        elif ip_mode == "truncate":
            assert visitors == rows and networks == 0  # every generated client is an IP address
        else:
            assert visitors == rows and networks == rows


def test_truncated_gzip_fails_naming_the_file_and_leaking_nothing(generated_log, ingest, tmp_path):
    data = gzip.compress(generated_log.read_bytes(), mtime=0)
    truncated = tmp_path / "access.log.2.gz"
    truncated.write_bytes(data[: len(data) * 6 // 10])
    run = ingest([truncated])
    assert run.status != 0, "a truncated gzip input must not exit 0"
    stderr = run.stderr.decode(errors="replace")
    summary_text = run.summary_path.read_text() if run.summary_path.exists() else ""
    report = stderr + summary_text
    assert truncated.name in report, f"the report does not name the file:\n{stderr}"
    assert re.search(r"\d[\d,]*\s*(bytes|lines|B\b|KiB|MiB)", report), f"the report does not say how far it got:\n{stderr}"
    expected = oracle.evaluate(oracle.read_input(generated_log), "combined")
    addresses, agents, _ = needles_for(expected)
    leaks = find_leaks({"stderr": run.stderr, "summary": summary_text.encode()}, addresses, agents)
    assert not leaks, "\n".join(leaks)


def test_truncated_gzip_stdin_fails_too(generated_log, ingest):
    data = gzip.compress(generated_log.read_bytes(), mtime=0)
    run = ingest([], stdin=data[: len(data) // 2])
    assert run.status != 0
    stderr = run.stderr.decode(errors="replace")
    assert "no such file" not in stderr, f"standard input was not read at all:\n{stderr}"
    assert re.search(r"\d[\d,]*\s*(bytes|lines|B\b|KiB|MiB)", stderr), f"stderr does not say how far it got:\n{stderr}"
