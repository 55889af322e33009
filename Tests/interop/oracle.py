"""An independent oracle for access logs: what klogs should have ingested, computed without any klogs code.

It shares nothing with klogs (Python `re`, its own timestamp arithmetic) so that agreement means something.

RULES (each one is a named constant or function below, so a rule can be aligned with klogs in one place)

Lines
  L1  Input bytes are split on b"\\n". A final piece without a newline is a line if it is not empty.
  L2  One trailing b"\\r" is removed (CRLF files).
  L3  A line that is empty after L2 is *blank*: counted in `blank_lines`, neither accepted nor rejected.

Acceptance: a line is accepted iff all of these hold, else it is rejected with the first failing reason
  A1  "format": it matches the whole-line pattern of its format (no leading or trailing bytes):
        common:   CLIENT SP IDENT SP USER SP [TIME] SP "REQUEST" SP STATUS SP BYTES
        combined: common SP "REFERRER" SP "USER-AGENT"
      CLIENT, IDENT, USER are runs of non-space bytes; inside quotes `\\"` and `\\\\` (any backslash pair) are
      literal, an unescaped `"` ends the field. In combined mode a common line is rejected
      (COMBINED_ACCEPTS_COMMON), and extra trailing fields are rejected.
  A2  "status": STATUS is exactly three ASCII digits (100-999 accepted as they are).
  A3  "bytes": BYTES is ASCII digits or `-`; `-` counts as 0.
  A4  "timestamp": TIME is `DD/Mon/YYYY:HH:MM:SS +hhmm` exactly: two-digit day valid for the month and year
      (Gregorian leap years), English three-letter month with that capitalisation, four-digit year, hour 00-23,
      minute and second 00-59 (no leap second), sign `+` or `-`, offset hours 00-MAX_OFFSET_HOURS and minutes
      00-59. UTC = local time minus the offset.
  A5  "request": REQUEST is one of
        `-` or empty                      → method `-`, path EMPTY_REQUEST_PATH ("-")
        METHOD SP TARGET SP PROTOCOL      → METHOD is [A-Za-z]+ (kept as logged), TARGET has no space
        METHOD SP TARGET                  → HTTP/0.9 style (the NASA trace has these): accepted (ACCEPT_HTTP09)
      anything else (TLS probes, spaces in the target, …) is rejected (GARBAGE_REQUEST_ACCEPTED = False).

Derived values of an accepted line
  D1  path = TARGET as logged (no percent-decoding, no unescaping, absolute-URI targets kept whole) cut at the
      first `?` or `#`. An empty result stays empty.
  D2  key = (UTC date "YYYY-MM-DD", UTC hour 0-23, path, status); hits += 1, bytes += BYTES.
  D3  Client addresses and user agents of accepted *and* rejected-but-parseable lines are collected for the
      privacy test (`clients`, `user_agents`); rejected lines may hold them too, and they must not leak either.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

# ---- Rules that may need aligning with klogs -------------------------------------------------------------------

COMBINED_ACCEPTS_COMMON = False
"""A1: whether a line in common format is accepted when ingesting with --format combined."""

EMPTY_REQUEST_PATH = "-"
"""A5: the path of a line whose request is `-` or empty (SCHEMA: method is `-`; path is never null)."""

ACCEPT_HTTP09 = True
"""A5: whether `METHOD TARGET` without a protocol is accepted."""

GARBAGE_REQUEST_ACCEPTED = False
"""A5: whether a request that is not `-`, `METHOD TARGET [PROTOCOL]` is accepted (then with path GARBAGE_PATH)."""
GARBAGE_PATH = "-"

MAX_OFFSET_HOURS = 23
"""A4: the largest accepted hour part of a time-zone offset."""

# ---- Patterns -------------------------------------------------------------------------------------------------

_QUOTED = rb'"((?:[^"\\]|\\.)*)"'
_COMMON = rb"(\S+) (\S+) (\S+) \[([^\]]*)\] " + _QUOTED + rb" (\S+) (\S+)"
COMMON_RE = re.compile(rb"^" + _COMMON + rb"$", re.DOTALL)
COMBINED_RE = re.compile(rb"^" + _COMMON + rb" " + _QUOTED + rb" " + _QUOTED + rb"$", re.DOTALL)

_TIME_RE = re.compile(rb"^(\d{2})/([A-Z][a-z]{2})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$")
_MONTHS = {name: index + 1 for index, name in enumerate(
    [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"])}
_METHOD_RE = re.compile(rb"^[A-Za-z]+$")

EPOCH = _dt.datetime(1970, 1, 1)


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 else 28
    return 30 if month in (4, 6, 9, 11) else 31


def parse_timestamp(text: bytes) -> int | None:
    """A4: seconds since 1970-01-01 UTC, or None when the timestamp is invalid."""
    match = _TIME_RE.match(text)
    if not match:
        return None
    day, month_name, year, hour, minute, second, sign, offset_hours, offset_minutes = match.groups()
    month = _MONTHS.get(month_name)
    if month is None:
        return None
    day, year, hour, minute, second = int(day), int(year), int(hour), int(minute), int(second)
    offset_hours, offset_minutes = int(offset_hours), int(offset_minutes)
    if not (1 <= day <= _days_in_month(year, month)) or hour > 23 or minute > 59 or second > 59:
        return None
    if offset_hours > MAX_OFFSET_HOURS or offset_minutes > 59:
        return None
    local = (_dt.datetime(year, month, day, hour, minute, second) - EPOCH) // _dt.timedelta(seconds=1)
    offset = (offset_hours * 60 + offset_minutes) * 60
    return local - offset if sign == b"+" else local + offset


def parse_request(request: bytes) -> tuple[str, str] | None:
    """A5 and D1: (method, path) of a request, or None when the request is rejected."""
    if request in (b"-", b""):
        return "-", EMPTY_REQUEST_PATH
    parts = request.split(b" ")
    if len(parts) in (2, 3) and _METHOD_RE.match(parts[0]) and parts[1] and (len(parts) == 3 or ACCEPT_HTTP09):
        if len(parts) == 3 and not parts[2]:
            return _garbage()
        target = parts[1]
        cut = len(target)
        for stop in (b"?", b"#"):
            position = target.find(stop)
            if position != -1:
                cut = min(cut, position)
        return parts[0].decode("ascii"), target[:cut].decode("utf-8", errors="replace")
    return _garbage()


def _garbage() -> tuple[str, str] | None:
    return ("-", GARBAGE_PATH) if GARBAGE_REQUEST_ACCEPTED else None


# ---- The oracle -----------------------------------------------------------------------------------------------


@dataclass
class Expected:
    """What an ingest of some input should produce."""

    lines: int = 0
    blank_lines: int = 0
    accepted: int = 0
    rejected: Counter = field(default_factory=Counter)
    bytes_total: int = 0
    # (date, hour, path, status) -> [hits, bytes]
    hits: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    # Epoch seconds of every accepted line, for events checks.
    timestamps: list = field(default_factory=list)
    clients: set = field(default_factory=set)
    user_agents: set = field(default_factory=set)
    paths: set = field(default_factory=set)
    referrers: set = field(default_factory=set)

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def hits_table(self) -> dict:
        """{(date, hour, path, status): (hits, bytes)} with plain tuples."""
        return {key: (value[0], value[1]) for key, value in self.hits.items()}


def split_lines(data: bytes) -> list[bytes]:
    """L1, L2: the lines of an input, without line ends."""
    pieces = data.split(b"\n")
    if pieces and pieces[-1] == b"":
        pieces.pop()
    return [piece[:-1] if piece.endswith(b"\r") else piece for piece in pieces]


def evaluate(data: bytes, log_format: str = "combined") -> Expected:
    """Applies the rules to a whole (decompressed) input."""
    if log_format not in ("combined", "common"):
        raise ValueError(f"unknown format {log_format!r}")
    expected = Expected()
    for line in split_lines(data):
        expected.lines += 1
        if not line:
            expected.blank_lines += 1
            continue
        match = (COMBINED_RE if log_format == "combined" else COMMON_RE).match(line)
        agent = referrer = None
        if match is None and log_format == "combined" and COMBINED_ACCEPTS_COMMON:
            match = COMMON_RE.match(line)
        if match is None:
            expected.rejected["format"] += 1
            _collect_loose(line, expected)
            continue
        client, _ident, _user, time_text, request, status, size = match.groups()[:7]
        if len(match.groups()) == 9:
            referrer, agent = match.group(8), match.group(9)
        expected.clients.add(client.decode("latin-1"))
        if agent is not None:
            expected.user_agents.add(agent.decode("utf-8", errors="replace"))
        if referrer is not None:
            expected.referrers.add(referrer.decode("utf-8", errors="replace"))
        if not (len(status) == 3 and status.isdigit()):
            expected.rejected["status"] += 1
            continue
        if not (size == b"-" or size.isdigit()):
            expected.rejected["bytes"] += 1
            continue
        seconds = parse_timestamp(time_text)
        if seconds is None:
            expected.rejected["timestamp"] += 1
            continue
        parsed = parse_request(request)
        if parsed is None:
            expected.rejected["request"] += 1
            continue
        _method, path = parsed
        size_value = 0 if size == b"-" else int(size)
        when = EPOCH + _dt.timedelta(seconds=seconds)
        key = (when.strftime("%Y-%m-%d"), when.hour, path, int(status))
        entry = expected.hits[key]
        entry[0] += 1
        entry[1] += size_value
        expected.accepted += 1
        expected.bytes_total += size_value
        expected.timestamps.append(seconds)
        expected.paths.add(path)
    return expected


_LOOSE_CLIENT = re.compile(rb"^(\S+) ")
_LOOSE_AGENT = re.compile(rb'"((?:[^"\\]|\\.)*)"\s*$')


def _collect_loose(line: bytes, expected: Expected) -> None:
    """D3: the client and user agent of a line the format rejects, where they can be told apart."""
    client = _LOOSE_CLIENT.match(line)
    if client:
        expected.clients.add(client.group(1).decode("latin-1"))
    agent = _LOOSE_AGENT.search(line)
    if agent and line.count(b'"') >= 6:
        expected.user_agents.add(agent.group(1).decode("utf-8", errors="replace"))


def read_input(path) -> bytes:
    """The decompressed bytes of a plain or gzip (possibly multi-member) file."""
    import gzip

    with open(path, "rb") as handle:
        data = handle.read()
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    return data


if __name__ == "__main__":  # A quick look: python oracle.py FILE [combined|common]
    import sys

    result = evaluate(read_input(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "combined")
    print(f"lines {result.lines} blank {result.blank_lines} accepted {result.accepted} "
          f"rejected {dict(result.rejected)} bytes {result.bytes_total} keys {len(result.hits)}")
