import Testing

@testable import KlogsCore

@Suite("Combined and common parsers")
struct AccessLogParserTests {
    let apacheExample =
        #"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?x=1&y=2#top HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#

    @Test("A combined line fills every field")
    func combinedLine() throws {
        let line = try #require(parse(apacheExample).parsed)
        #expect(line.client == "127.0.0.1")
        #expect(line.timestamp == 971_211_336_000)
        #expect(line.method == "GET")
        #expect(line.path == "/apache_pb.gif")
        #expect(line.query == "x=1&y=2")
        #expect(line.httpProtocol == "HTTP/1.0")
        #expect(line.status == 200)
        #expect(line.responseBytes == 2326)
        #expect(line.referrer == "http://www.example.com/start.html")
        #expect(line.userAgent == "Mozilla/4.08 [en] (Win98; I ;Nav)")
        #expect(line.virtualHost == nil)
        #expect(line.requestKind == .valid)
    }

    @Test("A common line parses with either parser; common ignores what follows the size")
    func commonLine() throws {
        let text = #"::1 - - [26/Dec/2016:16:16:29 +0200] "GET /favicon.ico HTTP/1.1" 404 -"#
        for format in [LogFormat.combined, .common] {
            let line = try #require(parse(text, format).parsed)
            #expect(line.client == "::1")
            #expect(line.status == 404)
            #expect(line.responseBytes == 0)
            #expect(line.referrer == nil)
            #expect(line.userAgent == nil)
        }
        let common = try #require(parse(apacheExample, .common).parsed)
        #expect(common.userAgent == nil)
        #expect(common.responseBytes == 2326)
    }

    @Test("Extra trailing fields are ignored")
    func extraFields() throws {
        let line = try #require(
            parse(#"1.2.3.4 - - [29/May/2017:19:02:48 +0000] "GET /x HTTP/1.1" 404 612 "-" "UA" "-" 116075"#).parsed)
        #expect(line.userAgent == "UA")
        #expect(line.referrer == nil)
    }

    @Test("HTTP/2.0, HTTP/3, request without protocol and spaces in the target")
    func requestForms() throws {
        let prefix = #"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] ""#
        let cases: [(String, String, String, String, String?)] = [
            ("GET /a HTTP/2.0", "GET", "/a", "HTTP/2.0", nil),
            ("POST /api?q=1 HTTP/3", "POST", "/api", "HTTP/3", "q=1"),
            ("GET /", "GET", "/", "", nil),
            ("GET /a b HTTP/1.1", "GET", "/a b", "HTTP/1.1", nil),
            ("OPTIONS * HTTP/1.1", "OPTIONS", "*", "HTTP/1.1", nil),
            ("CONNECT example.com:443 HTTP/1.1", "CONNECT", "example.com:443", "HTTP/1.1", nil),
            ("GET http://x.test/p?q#f HTTP/1.1", "GET", "http://x.test/p", "HTTP/1.1", "q"),
            ("GET /p#f?notquery HTTP/1.1", "GET", "/p", "HTTP/1.1", nil),
            ("GET /p? HTTP/1.1", "GET", "/p", "HTTP/1.1", ""),
        ]
        for (request, method, path, httpProtocol, query) in cases {
            let line = try #require(parse(prefix + request + #"" 200 1"#).parsed, "\(request)")
            #expect(line.method == method, "\(request)")
            #expect(line.path == path, "\(request)")
            #expect(line.httpProtocol == httpProtocol, "\(request)")
            #expect(line.query == query, "\(request)")
            #expect(line.requestKind == .valid)
        }
    }

    @Test("Empty and malformed requests are ingested with method and path '-'")
    func emptyAndMalformedRequests() throws {
        let prefix = #"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] ""#
        let cases: [(String, RequestKind)] = [
            ("-", .empty), ("", .empty), ("hello", .malformed), (#"\x16\x03\x01\x00\xa5\x01"#, .malformed),
            ("GET", .malformed), ("GET ", .malformed), ("GET  /", .malformed), (" GET /", .malformed),
        ]
        for (request, kind) in cases {
            let line = try #require(parse(prefix + request + #"" 400 0 "-" "-""#).parsed, "\(request)")
            #expect(line.requestKind == kind, "\(request)")
            #expect(line.method == "-", "\(request)")
            #expect(line.path == "-", "\(request)")
            #expect(line.query == nil)
            #expect(line.status == 400)
            #expect(line.userAgent == "-")
        }
        let probe = try #require(parse(prefix + #"\x16\x03\x01" 400 0"#).parsed)
        #expect(Array(probe.request.utf8) == [0x16, 0x03, 0x01])
    }

    @Test("Apache and nginx escapes are unescaped in quoted fields")
    func escapes() throws {
        let line = try #require(
            parse(
                #"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET /a\"b HTTP/1.1" 200 5 "http://\xe4\xe5.test/" "say \"hi\" \\ \x22q\x22 \t \q \x4""#
            ).parsed)
        #expect(line.path == #"/a"b"#)
        #expect(line.referrer == #"http://\xe4\xe5.test/"#)  // shown escaped because it is not UTF-8
        #expect(line.userAgent == "say \"hi\" \\ \"q\" \t \\q \\x4")
    }

    @Test("An escaped backslash before the closing quote ends the field")
    func escapedBackslashAtEnd() throws {
        let line = try #require(
            parse(#"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 5 "a\\" "b""#).parsed)
        #expect(line.referrer == #"a\"#)
        #expect(line.userAgent == "b")
    }

    @Test("A line cut inside its user agent keeps the rest as the user agent")
    func truncatedUserAgent() throws {
        let prefix = #"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "#
        #expect(try #require(parse(prefix + #""Mozilla/5.0 (compatible"#).parsed).userAgent == "Mozilla/5.0 (compatible")
        #expect(try #require(parse(prefix + #""a\x41b"#).parsed).userAgent == "aAb")
        #expect(try #require(parse(prefix + #"""#).parsed).userAgent == "")
    }

    @Test("X-Forwarded-For lists give the first address as client")
    func clientLists() throws {
        let line = try #require(
            parse(#"10.0.0.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "UA""#).parsed)
        #expect(line.client == "10.0.0.2")
        #expect(line.path == "/ocelot")
    }

    @Test("The vhost_combined format reads the virtual host, lower-cased and without port")
    func virtualHost() throws {
        let line = try #require(
            parse(#"Example.COM:443 1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "UA""#,
                .virtualHostCombined).parsed)
        #expect(line.virtualHost == "example.com")
        #expect(line.client == "1.2.3.4")
        let plain = try #require(
            parse(#"vhost1.domaine.fr 123.123.123.123 - - [04/Jul/2019:09:20:46 +0200] "GET / HTTP/1.1" 200 1"#,
                .virtualHostCombined).parsed)
        #expect(plain.virtualHost == "vhost1.domaine.fr")
        let literal = try #require(
            parse(#"[2001:DB8::1]:443 1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1"#,
                .virtualHostCombined).parsed)
        #expect(literal.virtualHost == "2001:db8::1")
        #expect(parse(#"[::1 1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1"#, .virtualHostCombined)
            == .rejected(.missingField))
    }

    @Test("Malformed lines are rejected with a reason", arguments: [
        ("", RejectReason.emptyLine),
        ("   \t", .emptyLine),
        (#" 1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1"#, .badClient),
        (#""1.2.3.4" - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1"#, .badClient),
        (#"1.2.3.4 [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1"#, .missingField),
        (#"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000]"#, .missingField),
        (#"1.2.3.4"#, .missingField),
        (#"1.2.3.4 - - [29/Feb/2023:00:00:00 +0000] "GET / HTTP/1.1" 200 1"#, .badTimestamp),
        (#"1.2.3.4 - - [31/Apr/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1"#, .badTimestamp),
        (#"1.2.3.4 - - [01/Jan/2024:00:00:00 +1500] "GET / HTTP/1.1" 200 1"#, .badTimestamp),
        (#"1.2.3.4 - - [01/Jan/2024:00:00:00] "GET / HTTP/1.1" 200 1"#, .badTimestamp),
        (#"1.2.3.4 - - [01/jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1"#, .badTimestamp),
        (#"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1 200 1"#, .unterminatedQuote),
        (#"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" - 1"#, .badStatus),
        (#"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 20x 1"#, .badStatus),
        (#"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 2000 1"#, .badStatus),
        (#"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200"#, .missingField),
        (#"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 12a"#, .badBytes),
        (#"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 -1"#, .badBytes),
        (#"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1234567890123456789"#, .badBytes),
        (#"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-"#, .unterminatedQuote),
    ])
    func rejects(line: String, reason: RejectReason) {
        #expect(parse(line) == .rejected(reason))
    }

    @Test("Reject reasons have stable snake_case names")
    func rejectReasonNames() {
        #expect(RejectReason.allCases.map(\.rawValue) == [
            "empty_line", "line_too_long", "bad_client", "bad_timestamp", "bad_status", "bad_bytes",
            "missing_field", "unterminated_quote",
        ])
    }

    @Test("A record reused across lines carries nothing over")
    func recordReuse() throws {
        var parser = LogFormat.combined.makeParser()
        var record = AccessRecord()
        let first = Array(apacheExample.utf8)
        let second = Array(#"5.6.7.8 - - [10/Oct/2000:13:55:37 -0700] "-" 408 -"#.utf8)
        first.withUnsafeBytes { #expect(parser.parse($0, into: &record) == nil) }
        try second.withUnsafeBytes {
            #expect(parser.parse($0, into: &record) == nil)
            let line = ParsedLine(record)
            #expect(line.referrer == nil && line.userAgent == nil && line.query == nil)
            #expect(line.httpProtocol == "")
            #expect(line.timestamp == 971_211_337_000)
            #expect(line.method == "-")
            _ = try #require(Optional(line))
        }
    }

    @Test("CRLF endings, a missing final newline and overlong lines give the same results at every chunk size")
    func streamEdgeCases() {
        let good = #"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET /a HTTP/1.1" 200 1 "-" "UA""#
        let long = #"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET /"# + String(repeating: "x", count: 300)
            + #" HTTP/1.1" 200 1 "-" "UA""#
        let input = Array((good + "\r\n" + long + "\r\n\r\n" + good).utf8)
        let reference = parseStream(input, format: .combined, chunkSize: nil, maximumLineLength: 200)
        #expect(reference.count == 4)
        #expect(reference[0].parsed?.path == "/a")
        #expect(reference[0].parsed?.userAgent == "UA")
        #expect(reference[1] == .overlong)
        #expect(reference[2] == .rejected(.emptyLine))
        #expect(reference[3] == reference[0])
        for size in chunkSizes {
            #expect(parseStream(input, format: .combined, chunkSize: size, maximumLineLength: 200) == reference)
        }
    }
}

/// The request line's split, against a plain reading of its rules: a method of token characters and one space, a
/// target, and a last word that is the protocol when it starts with `HTTP/` (the parser takes shortcuts for `GET `
/// and ` HTTP/x.y`).
@Suite("Request lines")
struct RequestSplitTests {
    /// Method, target and protocol by the rules, scanning byte by byte; nil when malformed.
    static func expectedSplit(_ request: [UInt8]) -> (method: String, target: String, version: String?)? {
        let count = request.count
        var methodEnd = 0
        while methodEnd < count && AccessLogParser.isTokenCharacter(request[methodEnd]) { methodEnd += 1 }
        guard methodEnd > 0, methodEnd + 1 < count, request[methodEnd] == 0x20, request[methodEnd + 1] != 0x20 else {
            return nil
        }
        let targetStart = methodEnd + 1
        var lastSpace = count - 1
        while lastSpace > targetStart && request[lastSpace] != 0x20 { lastSpace -= 1 }
        var targetEnd = count
        var version: String?
        if lastSpace > targetStart, count - lastSpace > 5,
            Array(request[(lastSpace + 1)...(lastSpace + 5)]) == Array("HTTP/".utf8)
        {
            targetEnd = lastSpace
            version = String(decoding: request[(lastSpace + 1)...], as: UTF8.self)
        }
        return (
            String(decoding: request[..<methodEnd], as: UTF8.self),
            String(decoding: request[targetStart..<targetEnd], as: UTF8.self), version
        )
    }

    @Test("Generated request lines split as the rules say, with and without the parser's shortcuts")
    func generatedRequestsSplitByTheRules() throws {
        let methods = ["GET", "POST", "GE", "GETX", "G", "get", "GET\t", ""]
        let targets = ["/", "/a", "/a b", "/p?q=1", "/HTTP/1.1", "", " /x", "/x ", "/very/long/path/of/a/page"]
        let versions = [
            "HTTP/1.1", "HTTP/2", "HTTP/2.0", "HTTP/1.", "HTTP/", "HTTP/1 1", "HTTP/11 ", "HTTP/ 11", "http/1.1",
            "HTTP/1.1 ", "",
        ]
        let separators = [" ", "  ", ""]
        var checked = 0
        for method in methods {
            for target in targets {
                for version in versions {
                    for separator in separators {
                        let request = method + " " + target + separator + version
                        guard !request.contains("\"") else { continue }
                        let prefix = #"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] ""#
                        let line = try #require(parse(prefix + request + #"" 200 1"#).parsed, "\(request)")
                        if let expected = Self.expectedSplit(Array(request.utf8)) {
                            #expect(line.requestKind == .valid, "\(request)")
                            #expect(line.method == expected.method, "\(request)")
                            let target = line.path + (line.query.map { "?" + $0 } ?? "")
                            #expect(expected.target.hasPrefix(target), "\(request)")
                            #expect(line.httpProtocol == (expected.version ?? ""), "\(request)")
                        } else if !request.isEmpty && request != "-" {
                            #expect(line.requestKind == .malformed, "\(request)")
                        }
                        checked += 1
                    }
                }
            }
        }
        #expect(checked > 1_500)
    }
}
