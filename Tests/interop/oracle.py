r"""An independent oracle for access logs: what klogs should have ingested, computed without any klogs code.

It shares nothing with klogs (Python `re`, its own timestamp arithmetic) so that agreement means something.

RULES (each one is a named constant or function below, so a rule can be aligned with klogs in one place)

The first draft of these rules was written before klogs' parser existed. Where klogs' parser documents a deliberate
decision (Sources/KlogsCore/AccessLogParser.swift), the oracle follows it and the constant says what the strict
alternative was; these are marked [aligned].

Lines
  L1  Input bytes are split on b"\n". A final piece without a newline is a line if it is not empty.
  L2  One trailing b"\r" is removed (CRLF files), then trailing spaces and tabs [aligned].
  L3  A line that is empty after L2 is rejected ("blank") [aligned: BLANK_LINES_REJECTED; strict: ignored].

Acceptance: a line is accepted iff all of these hold, else it is rejected with the first failing reason
  A1  "format": CLIENT SP IDENT SP USER SP [TIME] SP "REQUEST" SP STATUS, where CLIENT, IDENT, USER are runs of
      non-space bytes and CLIENT does not start with `"` or `[`. CLIENT may be an X-Forwarded-For list
      `a, b, c` (items ending in a comma, then spaces) [aligned]; all its items are collected for the privacy test. Inside quotes a backslash escapes the next byte,
      an unescaped `"` ends the field; a field without its closing quote rejects the line.
  A2  "status": STATUS is exactly three ASCII digits (000-999) followed by a space or the end.
  A3  "bytes": SP BYTES follows, BYTES is `-` (counts as 0) or 1-18 ASCII digits, ended by a space or the end.
  A4  "timestamp": TIME is `DD/Mon/YYYY:HH:MM:SS +hhmm` exactly: day valid for the month and year (Gregorian leap
      years), English three-letter month with that capitalisation, hour 00-23, minute 00-59, second 00-59 (60 with
      ACCEPT_LEAP_SECOND [aligned], counted as the next minute's first second), sign `+`/`-`, offset minutes 00-59
      and the whole offset at most MAX_OFFSET_MINUTES (14 h) [aligned]. UTC = local time minus the offset.
  A5  combined only: after BYTES, an optional SP "REFERRER" and then an optional SP "USER-AGENT"; a quoted field
      that is opened must be closed ("quote"), except the user agent: a line cut inside it keeps the rest of the
      line as the user agent [aligned: AGENT_CUT_AT_END_ACCEPTED; strict: rejected; the elastic corpus has one such
      line]. Anything after them is ignored, and a line that ends after BYTES is
      accepted [aligned: COMBINED_ACCEPTS_COMMON; strict: the whole-line combined pattern]. common: anything after
      BYTES is ignored [aligned].
  A6  REQUEST is never a reason to reject [aligned: GARBAGE_REQUEST_ACCEPTED; strict: rejected]:
        `-` or empty                         → method `-`, path EMPTY_REQUEST_PATH (`-`)
        METHOD SP TARGET [SP HTTP/…]          → METHOD is one or more RFC 9110 token characters; TARGET starts with
                                                a non-space and may hold spaces; the last word is the protocol only
                                                when it starts with `HTTP/` and has more after it. Without a
                                                protocol (HTTP/0.9 style, as in the NASA trace) TARGET is the rest.
        anything else (TLS probes, `hello`) → method `-`, path GARBAGE_PATH (`-`)

Derived values of an accepted line
  D1  Quoted fields are unescaped before use [aligned: UNESCAPE_QUOTED]: `\"`, `\\`, `\xHH`, `\n \r \t \b \v \f`;
      any other backslash is kept as written.
  D2  path = TARGET as logged (no percent-decoding; absolute-URI targets kept whole) cut at the first `?` or `#`.
  D3  key = (UTC date "YYYY-MM-DD", UTC hour 0-23, path, status); hits += 1, bytes += BYTES.
  D4  Client fields and user agents of all lines where they can be told apart, accepted or not, are collected for
      the privacy test (`clients`, `user_agents`).

Request kinds (the `kind` column; docs/METRICS.md), from the stored path, method, status and is_bot
  K1  "error" when 400 <= status <= 599.
  K2  else "asset" when the path (cut at its first `?` or `;`) has a last segment (after the last `/`) whose text
      after its last `.` is, lower-cased, one of ASSET_EXTENSIONS.
  K3  else "page" when the method is exactly GET or HEAD, 200 <= status <= 399 and the client is not a bot.
  K4  else "other".
  The oracle has no user-agent classifier: is_bot is an input (klogs' classification is checked elsewhere).

Not modelled (not in the inputs the suite uses): vhost prefixes,
ISO-8601 timestamps, lines longer than klogs' 64 KiB limit.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

# ---- Rules that may need aligning with klogs -------------------------------------------------------------------

BLANK_LINES_REJECTED = True
"""L3: a blank line is rejected (klogs: reason empty_line) rather than ignored."""

COMBINED_ACCEPTS_COMMON = True
"""A5: with --format combined, a line that ends after BYTES (or has other trailing fields) is accepted."""

EMPTY_REQUEST_PATH = "-"
"""A6: the path of a line whose request is `-` or empty (SCHEMA: method is `-`; path is never null)."""

GARBAGE_REQUEST_ACCEPTED = True
"""A6: a request that is not `-` nor `METHOD TARGET [PROTOCOL]` is accepted with path GARBAGE_PATH."""
GARBAGE_PATH = "-"

ACCEPT_LEAP_SECOND = True
"""A4: second 60 is accepted and counts as the first second of the next minute."""

MAX_OFFSET_MINUTES = 14 * 60
"""A4: the largest accepted time-zone offset, either way."""

AGENT_CUT_AT_END_ACCEPTED = True
"""A5: a user agent whose closing quote is missing (a line cut by a logger's limit) is the rest of the line."""

UNESCAPE_QUOTED = True
"""D1: backslash escapes in quoted fields are decoded before the path is taken."""

ASSET_EXTENSIONS = frozenset("""
    avif bmp gif ico jpeg jpg png svg svgz tif tiff webp  css js map mjs  eot otf ttf woff woff2
    aac flac m4a m4v mkv mov mp3 mp4 oga ogg ogv opus wav webm""".split())
"""K2: the default --asset-extensions list, written out here rather than read from klogs."""

# ---- Patterns -------------------------------------------------------------------------------------------------

_QUOTED_BODY = rb'(?:[^"\\]|\\.)*'
HEAD_RE = re.compile(
    rb'^((?:[^ ]+, +)*[^ ]+) ([^ ]*) ([^ ]*) \[([^\]]*)\] "(' + _QUOTED_BODY + rb')" ([^ ]*)(?: ([^ ]*))?(.*)$', re.DOTALL)
NEXT_QUOTED_RE = re.compile(rb' "(' + _QUOTED_BODY + rb')"', re.DOTALL)
REQUEST_RE = re.compile(rb"^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([^ ].*?)(?: HTTP/[^ ]+)?$", re.DOTALL)
_ESCAPES = {b'"': b'"', b"\\": b"\\", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"v": b"\v", b"f": b"\f"}
_ESCAPE_RE = re.compile(rb'\\(x[0-9A-Fa-f]{2}|["\\nrtbvf])')

_TIME_RE = re.compile(rb"^(\d{2})/([A-Z][a-z]{2})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$")
_MONTHS = {name: index + 1 for index, name in enumerate(
    [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"])}
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
    offset = int(offset_hours) * 60 + int(offset_minutes)
    if not (1 <= day <= _days_in_month(year, month)) or hour > 23 or minute > 59:
        return None
    if second > 59 and not (second == 60 and ACCEPT_LEAP_SECOND):
        return None
    if int(offset_minutes) > 59 or offset > MAX_OFFSET_MINUTES:
        return None
    local = (_dt.datetime(year, month, day, hour, minute, 0) - EPOCH) // _dt.timedelta(seconds=1) + second
    return local - offset * 60 if sign == b"+" else local + offset * 60


def unescape(field: bytes) -> bytes:
    """D1: decodes the escapes servers write inside quoted fields."""
    if not UNESCAPE_QUOTED or b"\\" not in field:
        return field

    def decode(match: re.Match) -> bytes:
        escape = match.group(1)
        if escape[:1] == b"x":
            return bytes([int(escape[1:], 16)])
        return _ESCAPES[escape]

    return _ESCAPE_RE.sub(decode, field)


def parse_request(request: bytes) -> tuple[str, str] | None:
    """A6 and D2: (method, path) of a request, or None when the request is rejected."""
    if request in (b"-", b""):
        return "-", EMPTY_REQUEST_PATH
    match = REQUEST_RE.match(request)
    if match is None:
        return ("-", GARBAGE_PATH) if GARBAGE_REQUEST_ACCEPTED else None
    target = match.group(2)
    cut = len(target)
    for stop in (b"?", b"#"):
        position = target.find(stop)
        if position != -1:
            cut = min(cut, position)
    return match.group(1).decode("ascii"), target[:cut].decode("utf-8", errors="replace")


def request_kind(method: str, path: str, status: int, is_bot: bool,
                 asset_extensions: frozenset = ASSET_EXTENSIONS) -> str:
    """K1-K4: the `kind` of a request."""
    if 400 <= status <= 599:
        return "error"
    segment = re.split(r"[?;]", path, maxsplit=1)[0].rsplit("/", 1)[-1]
    if "." in segment and segment.rsplit(".", 1)[1].lower() in asset_extensions:
        return "asset"
    if method in ("GET", "HEAD") and 200 <= status <= 399 and not is_bot:
        return "page"
    return "other"


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
        line = line.rstrip(b" \t")
        if not line:
            if BLANK_LINES_REJECTED:
                expected.rejected["blank"] += 1
            else:
                expected.blank_lines += 1
            continue
        reason = _evaluate_line(line, log_format, expected)
        if reason is not None:
            expected.rejected[reason] += 1
    return expected


def _evaluate_line(line: bytes, log_format: str, expected: Expected) -> str | None:
    """Adds one accepted line to `expected`, or returns why it is rejected."""
    match = HEAD_RE.match(line)
    if match is None:
        _collect_loose(line, expected)
        return "format"
    client, _ident, _user, time_text, request, status, size, rest = match.groups()
    for item in client.split(b","):
        if item.strip():
            expected.clients.add(item.strip().decode("latin-1"))
    referrer = agent = None
    if log_format == "combined":
        quoted = NEXT_QUOTED_RE.match(rest)
        if quoted:
            referrer = quoted.group(1)
            rest_after = rest[quoted.end():]
            quoted_agent = NEXT_QUOTED_RE.match(rest_after)
            if quoted_agent:
                agent = quoted_agent.group(1)
            elif rest_after.startswith(b' "'):
                if not AGENT_CUT_AT_END_ACCEPTED:
                    _collect_loose(line, expected)
                    return "quote"
                agent = rest_after[2:]
        elif rest.startswith(b' "'):
            _collect_loose(line, expected)
            return "quote"
        if agent is None and not COMBINED_ACCEPTS_COMMON:
            return "format"
    if agent is not None:
        expected.user_agents.add(unescape(agent).decode("utf-8", errors="replace"))
        expected.user_agents.add(agent.decode("utf-8", errors="replace"))
    if referrer is not None:
        expected.referrers.add(unescape(referrer).decode("utf-8", errors="replace"))
    if client[:1] in (b'"', b"["):
        return "client"
    if not (len(status) == 3 and status.isdigit()):
        return "status"
    if size is None or not (size == b"-" or (size.isdigit() and len(size) <= 18)):
        return "bytes"
    seconds = parse_timestamp(time_text)
    if seconds is None:
        return "timestamp"
    parsed = parse_request(unescape(request))
    if parsed is None:
        return "request"
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
    return None


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
