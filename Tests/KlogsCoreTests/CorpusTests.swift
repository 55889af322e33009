import KlogsCore
import Testing

/// The real logs of the shared corpus (see `shared/corpus/README.md`), with hand-checked lines.
@Suite("Real corpus logs")
struct CorpusTests {
    /// Counts of parsed lines and of each reject reason.
    func tally(_ outcomes: [Outcome]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for outcome in outcomes {
            switch outcome {
            case .parsed: counts["parsed", default: 0] += 1
            case .rejected(let reason): counts[reason.rawValue, default: 0] += 1
            case .overlong: counts["overlong", default: 0] += 1
            }
        }
        return counts
    }

    /// Parses a file at every chunk size, checks they agree, and returns the whole-input outcomes.
    func outcomes(_ file: String, _ format: LogFormat, allChunkSizes: Bool = true) throws -> [Outcome] {
        let bytes = try corpusBytes(file)
        let reference = parseStream(bytes, format: format, chunkSize: nil)
        if allChunkSizes {
            for size in chunkSizes {
                #expect(parseStream(bytes, format: format, chunkSize: size) == reference, "chunk size \(size ?? 0)")
            }
        }
        return reference
    }

    @Test("All 10,000 lines of the elastic Apache example parse as combined, at every chunk size")
    func elasticApacheLogs() throws {
        let lines = try outcomes("logs/elastic-examples/apache_logs", .combined)
        #expect(tally(lines) == ["parsed": 10_000])
        let first = try #require(lines[0].parsed)
        // 83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1" 200 203023 "http://semicomplete.com/presentations/logstash-monitorama-2013/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) ..."
        #expect(first.client == "83.149.9.216")
        #expect(first.timestamp == foundationEpochMilliseconds("2015-05-17T10:05:03Z"))
        #expect(first.path == "/presentations/logstash-monitorama-2013/images/kibana-search.png")
        #expect(first.status == 200 && first.responseBytes == 203_023)
        #expect(first.referrer == "http://semicomplete.com/presentations/logstash-monitorama-2013/")
        #expect(first.userAgent?.hasPrefix("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1)") == true)
        // Line 5851: an Apache-escaped cp1251 referrer is unescaped to its raw bytes.
        let escaped = try #require(lines[5850].parsed)
        #expect(escaped.referrer == #"http://\xe4\xe5\xe3\xf2\xff\xf0\xed\xee\xe5-\xec\xfb\xeb\xee.\xf0\xf4/"#)
        // Line 8899 is cut inside its user agent; the rest of the line is kept.
        let cut = try #require(lines[8898].parsed)
        #expect(cut.userAgent == "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html")
        #expect(cut.status == 200 && cut.responseBytes == 235)
    }

    @Test("The NASA July 1995 sample parses as common, host names included")
    func nasaCommonLog() throws {
        let lines = try outcomes("logs/nasa-http/NASA_access_log_Jul95.first4000", .common)
        #expect(tally(lines) == ["parsed": 4000])
        let second = try #require(lines[1].parsed)
        // unicomp6.unicomp.net - - [01/Jul/1995:00:00:06 -0400] "GET /shuttle/countdown/ HTTP/1.0" 200 3985
        #expect(second.client == "unicomp6.unicomp.net")
        #expect(second.timestamp == foundationEpochMilliseconds("1995-07-01T04:00:06Z"))
        #expect(second.path == "/shuttle/countdown/" && second.httpProtocol == "HTTP/1.0")
        #expect(second.status == 200 && second.responseBytes == 3985)
        #expect(second.userAgent == nil && second.referrer == nil)
        // The combined parser reads the same lines as common ones.
        let combined = try outcomes("logs/nasa-http/NASA_access_log_Jul95.first4000", .combined, allChunkSizes: false)
        #expect(combined == lines)
    }

    @Test("The hackers' log parses, IPv6 clients included")
    func hackersLog() throws {
        let lines = try outcomes("logs/nielsbasjes-logparser/hackers-access.log", .combined)
        #expect(tally(lines) == ["parsed": 3456])
        let ipv6 = lines.compactMap(\.parsed).filter { IPAddress($0.client)?.family == .ipv6 }
        #expect(ipv6.count == 12)  // 2001:41d0:8:f69::1 and 2400:8900::f03c:91ff:fe50:5089, six lines each
        #expect(Set(ipv6.map(\.client)) == ["2001:41d0:8:f69::1", "2400:8900::f03c:91ff:fe50:5089"])
        #expect(lines.compactMap(\.parsed).allSatisfy { IPAddress($0.client) != nil })
    }

    @Test("The lnav shop log parses with its extra trailing field")
    func shopLog() throws {
        let lines = try outcomes("logs/lnav/logfile_shop_access_log.0", .combined)
        #expect(tally(lines) == ["parsed": 1000])
    }

    @Test("The elastic-beats edge files: empty requests, IPv6, lists; vhost prefixes need vhost_combined")
    func beatsEdgeFiles() throws {
        #expect(tally(try outcomes("logs/elastic-beats/nginx-access.log", .combined)) == ["parsed": 12, "missing_field": 1])
        #expect(tally(try outcomes("logs/elastic-beats/apache-darwin-2.4.23.log", .combined)) == ["parsed": 6])
        let apache = try outcomes("logs/elastic-beats/apache-test.log", .combined)
        #expect(tally(apache) == ["parsed": 6, "missing_field": 1])
        // ::1 - - [26/Dec/2016:16:16:48 +0200] "-" 408 -
        let timeout = try #require(apache[2].parsed)
        #expect(timeout.client == "::1" && timeout.requestKind == .empty && timeout.method == "-")
        #expect(timeout.status == 408 && timeout.responseBytes == 0)
        #expect(apache[4].parsed?.client == "monitoring-server")
        #expect(apache[6] == .rejected(.missingField))  // the vhost-prefixed line

        let nginx = try outcomes("logs/elastic-beats/nginx-test.log", .combined)
        #expect(tally(nginx) == ["parsed": 5, "bad_client": 1, "missing_field": 1])
        #expect(nginx[0].parsed?.client == "10.0.0.2")
        #expect(nginx[4] == .rejected(.badClient))  // a quoted X-Forwarded-For list before the address
        #expect(nginx[5] == .rejected(.missingField))  // a list, then the address in the ident position
        let empty = try #require(nginx[6].parsed)  // 127.0.0.1 - - [...] "" 400 0 "-" "-"
        #expect(empty.requestKind == .empty && empty.path == "-" && empty.status == 400)

        #expect(tally(try outcomes("logs/elastic-beats/nginx-test-with-host.log", .combined)) == ["missing_field": 10])
        let hosts = try outcomes("logs/elastic-beats/nginx-test-with-host.log", .virtualHostCombined)
        #expect(tally(hosts) == ["parsed": 8, "missing_field": 1, "bad_client": 1])
        #expect(hosts[0].parsed?.client == "10.0.0.2")
        #expect(hosts[3].parsed?.virtualHost == "example.com" && hosts[3].parsed?.client == "81.2.69.143")
        #expect(hosts[6].parsed?.client == "127.0.0.1" && hosts[6].parsed?.requestKind == .empty)
        let hello = try #require(hosts[7].parsed)  // example.com:80 unix: - - [...] "hello" 400 173 "-" "-"
        #expect(hello.client == "unix:" && hello.requestKind == .malformed && hello.method == "-")
        #expect(hello.request == "hello" && hello.status == 400)

        let vhost = try outcomes("logs/elastic-beats/apache-test-vhost.log", .virtualHostCombined)
        let line = try #require(vhost.first?.parsed)  // no final newline
        #expect(vhost.count == 1)
        #expect(line.virtualHost == "vhost1.domaine.fr" && line.client == "123.123.123.123")
        #expect(line.userAgent?.contains("Chrome/75.0.  3770.100") == true)
    }

    @Test("The lnav edge files: a missing ident and user, syslog lines and junk are rejected")
    func lnavEdgeFiles() throws {
        #expect(tally(try outcomes("logs/lnav/logfile_access_log.0", .combined)) == ["parsed": 3])
        let dash = try #require(try outcomes("logs/lnav/logfile_access_log.1", .combined).first?.parsed)
        #expect(dash.requestKind == .empty && dash.status == 400 && dash.userAgent == "-")
        let bad = try outcomes("logs/lnav/logfile_bad_access_log.0", .combined)
        #expect(bad.map { $0.parsed == nil } == [false, true, false])
        #expect(bad[1] == .rejected(.missingField))
        let regexp = try outcomes("logs/lnav/logfile_regexp_access_log.0", .virtualHostCombined)
        #expect(tally(regexp) == ["parsed": 2])
        let jira = try #require(regexp[0].parsed)
        #expect(jira.virtualHost == "localhost" && jira.httpProtocol == "HTTP/2.0" && jira.path == "/secure/RapidBoard.jspa")
        #expect(jira.query?.hasPrefix("rapidView=1295&") == true)
        for file in [
            "logs/lnav/logfile_syslog_with_access_log.0", "logs/lnav/logfile_invalid_utf8.0",
            "logs/lnav/textfile_invalid_utf8.0", "logs/lnav/logfile_crlf.0",
        ] {
            let lines = try outcomes(file, .combined)
            #expect(lines.allSatisfy { $0.parsed == nil }, "\(file)")
        }
    }
}
