"""The oracle's own rules on hand-made lines (no klogs needed); the addresses are from documentation ranges."""

from __future__ import annotations

import pytest

import oracle

LINE = (b'192.0.2.1 - - [{time}] "{request}" {status} {size} "-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/144.0"')


def line(time=b"01/Nov/2026:00:30:00 +0000", request=b"GET /a?b=1 HTTP/1.1", status=b"200", size=b"10") -> bytes:
    return LINE.replace(b"{time}", time).replace(b"{request}", request).replace(b"{status}", status).replace(
        b"{size}", size)


@pytest.mark.parametrize("text,utc", [
    (b"01/Nov/2026:00:30:00 +0000", 1793493000),
    (b"01/Nov/2026:00:30:00 +0100", 1793493000 - 3600),  # the previous UTC day
    (b"31/Oct/2026:23:30:00 -0100", 1793493000),  # the next UTC day
    (b"29/Feb/2024:12:00:00 +0530", 1709208000 - 19800),
    (b"31/Dec/2026:23:59:60 +0000", 1798761600),  # leap second: the next minute's first second
])
def test_valid_timestamps_convert_to_utc(text, utc):
    assert oracle.parse_timestamp(text) == utc


@pytest.mark.parametrize("text", [
    b"29/Feb/2026:12:00:00 +0000", b"31/Nov/2026:12:00:00 +0000", b"01/nov/2026:12:00:00 +0000",
    b"01/Nov/2026:24:00:00 +0000", b"01/Nov/2026:12:60:00 +0000", b"01/Nov/2026:12:00:00 +1500",
    b"01/Nov/2026:12:00:00 +0060", b"01/Nov/2026:12:00:00", b"2026-11-01T12:00:00Z", b"1/Nov/2026:12:00:00 +0000",
])
def test_invalid_timestamps_are_rejected(text):
    assert oracle.parse_timestamp(text) is None


@pytest.mark.parametrize("request_text,path", [
    (b"GET /a?b=1 HTTP/1.1", "/a"),
    (b"GET /a#top HTTP/1.1", "/a"),
    (b"GET /a%20b HTTP/2.0", "/a%20b"),
    (b"GET /a b HTTP/1.1", "/a b"),
    (b"GET /ksc.html", "/ksc.html"),
    (b"GET http://example.com/x?y HTTP/1.0", "http://example.com/x"),
    (b"-", "-"),
    (b"", "-"),
    (b"\\x16\\x03\\x01\\x00", "-"),
    (b"hello", "-"),
    (b'GET /q\\"uote HTTP/1.1', '/q"uote'),
])
def test_request_paths(request_text, path):
    expected = oracle.evaluate(line(request=request_text) + b"\n")
    assert expected.accepted == 1
    assert [key[2] for key in expected.hits] == [path]


def test_keys_hold_utc_date_and_hour_and_sums():
    data = b"\n".join([
        line(time=b"01/Nov/2026:00:30:00 +0100", size=b"-"),
        line(time=b"01/Nov/2026:00:10:00 +0100", size=b"5"),
        line(status=b"404", size=b"7"),
    ]) + b"\n"
    expected = oracle.evaluate(data)
    assert expected.hits_table() == {("2026-10-31", 23, "/a", 200): (2, 5), ("2026-11-01", 0, "/a", 404): (1, 7)}


@pytest.mark.parametrize("bad,reason", [
    (line(status=b"20"), "status"),
    (line(status=b"2000"), "status"),
    (line(size=b"1x"), "bytes"),
    (line(time=b"32/Nov/2026:00:00:00 +0000"), "timestamp"),
    (b"garbage without structure", "format"),
    (b'192.0.2.1 [01/Nov/2026:00:30:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x"', "format"),
    (b'192.0.2.1 - - [01/Nov/2026:00:30:00 +0000] "GET / HTTP/1.1', "format"),
    (b'192.0.2.1 - - [01/Nov/2026:00:30:00 +0000] "GET / HTTP/1.1" 200 1 "http://x', "quote"),
    (b'"192.0.2.1" - - [01/Nov/2026:00:30:00 +0000] "GET / HTTP/1.1" 200 1', "client"),
    (b"   ", "blank"),
])
def test_rejections(bad, reason):
    expected = oracle.evaluate(bad + b"\n")
    assert expected.accepted == 0 and dict(expected.rejected) == {reason: 1}


def test_accepted_oddities_and_privacy_collection():
    data = b"\n".join([
        line() + b' "extra"',  # trailing fields are ignored
        line().rsplit(b' "-" ', 1)[0],  # a common line in combined mode
        line()[:-5],  # a user agent cut at the end of the line
        b'198.51.100.7, 203.0.113.9 - - [01/Nov/2026:00:30:00 +0000] "GET / HTTP/1.1" 200 1 "-" "curl/8.5.0"',
        line() + b"\r",
    ]) + b"\n"
    expected = oracle.evaluate(data)
    assert expected.accepted == 5
    assert {"192.0.2.1", "198.51.100.7", "203.0.113.9"} <= expected.clients
    assert "Mozilla/5.0 (X11; Linux x86_64) Firefox/144.0" in expected.user_agents


@pytest.mark.parametrize("method,path,status,is_bot,kind", [
    ("GET", "/", 200, False, "page"),
    ("HEAD", "/a", 301, False, "page"),
    ("GET", "/", 200, True, "other"),
    ("POST", "/login", 302, False, "other"),
    ("GET", "/x.png", 404, False, "error"),
    ("GET", "/img/Logo.PNG?v=1", 304, True, "asset"),
    ("GET", "/app.js;v=1", 200, False, "asset"),
    ("GET", "/a.css/readme", 200, False, "page"),
    ("GET", "/report.pdf", 200, False, "page"),
    ("GET", "/", 101, False, "other"),
])
def test_request_kinds(method, path, status, is_bot, kind):
    assert oracle.request_kind(method, path, status, is_bot) == kind
