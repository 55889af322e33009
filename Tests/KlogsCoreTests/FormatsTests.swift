import Foundation
@testable import KlogsCore
import Testing

/// Compiles a format string, failing the test with the compiler's message.
func compiled(_ definition: String) throws -> LogFormat {
    try LogFormat.compile(definition)
}

@Suite("Compiled nginx and Apache format strings")
struct FormatStringTests {
    let nginxCombined =
        #"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#
    let apacheCombined = #"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i""#
    let apacheExample =
        #"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?x=1 HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#

    @Test("nginx's and Apache's combined strings parse the Apache documentation's example like the built-in parser")
    func combinedStrings() throws {
        let reference = parse(apacheExample, .combined)
        #expect(parse(apacheExample, try compiled(apacheCombined)) == reference)
        #expect(parse(apacheExample, try compiled(nginxCombined)) == reference)
        // nginx writes "-" for the ident: another ident does not match the nginx program; the built-in parser that
        // the exact combined string is routed to accepts any ident.
        let ident = apacheExample.replacingOccurrences(of: "- frank", with: "x frank")
        let program = LogFormat.custom(try CompiledFormat(nginxCombined, allowsBuiltIn: false))
        #expect(parse(ident, program) == .rejected(.missingField))
        #expect(parse(ident, try compiled(nginxCombined)) == parse(ident, .combined))
    }

    @Test("Every line of the real combined logs parses the same through the compiled nginx combined program")
    func differentialOnCorpus() throws {
        // The program itself, not the built-in parser that the exact combined string is routed to.
        let format = LogFormat.custom(try CompiledFormat(nginxCombined, allowsBuiltIn: false))
        #expect(try CompiledFormat(nginxCombined).builtInEquivalent == .combined)
        #expect(try CompiledFormat(apacheCombined).builtInEquivalent == .combined)
        #expect(try CompiledFormat(nginxCombined + " $request_time").builtInEquivalent == nil)
        for (file, size) in [("logs/elastic-examples/apache_logs", nil), ("logs/nielsbasjes-logparser/hackers-access.log", 7)] {
            let bytes = try corpusBytes(file)
            let reference = parseStream(bytes, format: .combined, chunkSize: nil)
            do {
                let lines = parseStream(bytes, format: format, chunkSize: size)
                #expect(lines.count == reference.count)
                let differing = zip(lines, reference).enumerated().filter { $0.element.0 != $0.element.1 }
                #expect(differing.isEmpty, "\(file): first differing line \((differing.first?.offset ?? -1) + 1)")
            }
        }
    }

    @Test("The nginx documentation's compression example: $bytes_sent and a skipped $gzip_ratio")
    func nginxCompressionExample() throws {
        let format = try compiled(
            #"log_format compression '$remote_addr - $remote_user [$time_local] ' '"$request" $status $bytes_sent ' '"$http_referer" "$http_user_agent" "$gzip_ratio"';"#
        )
        let line = try #require(
            parse(
                #"192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.1" 200 612 "-" "curl/8.0" "2.75""#, format
            ).parsed)
        #expect(line.client == "192.0.2.1" && line.responseBytes == 612 && line.userAgent == "curl/8.0")
        #expect(line.referrer == nil && line.path == "/a" && line.timestamp == 971_211_336_000)
    }

    @Test("The issue's custom nginx string: forwarded-for and a trailing unquoted rt= field")
    func nginxForwardedFor() throws {
        let format = try compiled(nginxCombined + #" "$http_x_forwarded_for" rt=$request_time"#)
        var parser = format.makeParser()
        var record = AccessRecord()
        let text =
            #"10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET /x?y=1 HTTP/2.0" 404 - "-" "UA \x22q\x22" "203.0.113.7, 10.0.0.1" rt=0.004"#
        var bytes = Array(text.utf8)
        let reason = bytes.withUnsafeMutableBytes { buffer in
            parser.parse(UnsafeRawBufferPointer(buffer), into: &record)
        }
        #expect(reason == nil)
        bytes.withUnsafeBytes { _ in
            #expect(record.forwardedFor.map(KlogsCoreTests.text) == "203.0.113.7, 10.0.0.1")
            #expect(KlogsCoreTests.text(record.client) == "10.0.0.1")
            #expect(record.userAgent.map(KlogsCoreTests.text) == #"UA "q""#)
            #expect(record.responseBytes == 0 && record.status == 404)
            #expect(KlogsCoreTests.text(record.httpProtocol) == "HTTP/2.0")
            #expect(record.query.map(KlogsCoreTests.text) == "y=1")
        }
        let dash = try #require(
            parse(#"10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "-" 408 0 "-" "-" "-" rt=0.000"#, format).parsed)
        #expect(dash.requestKind == .empty && dash.status == 408)
    }

    @Test("nginx variables: ${braces}, $time_iso8601, $msec, separate request parts, $host, unknown variables")
    func nginxVariables() throws {
        let iso = try compiled(
            #"${host} $remote_addr [$time_iso8601] $request_method $request_uri $server_protocol $status $body_bytes_sent $upstream_addr $ssl_protocol "$http_user_agent""#
        )
        let line = try #require(
            parse(
                #"WWW.Example.COM:8443 2001:db8::1 [2024-03-01T12:00:00+01:00] POST /api/v1?q=2 HTTP/3 201 17 10.0.0.5:80, 10.0.0.6:80 TLSv1.3 "ua""#,
                iso
            ).parsed)
        #expect(line.virtualHost == "www.example.com" && line.client == "2001:db8::1")
        #expect(line.timestamp == foundationEpochMilliseconds("2024-03-01T11:00:00Z"))
        #expect(line.method == "POST" && line.path == "/api/v1" && line.query == "q=2" && line.httpProtocol == "HTTP/3")
        #expect(line.request == "POST /api/v1?q=2 HTTP/3" && line.status == 201 && line.userAgent == "ua")

        let msec = try compiled("$msec $remote_addr $request_method $uri $args $status $bytes_sent")
        let parts = try #require(parse("1700000000.123 10.1.2.3 GET /p a=1&b=2 200 99", msec).parsed)
        #expect(parts.timestamp == 1_700_000_000_123 && parts.path == "/p" && parts.query == "a=1&b=2")
        #expect(parts.responseBytes == 99 && parts.request == "GET /p?a=1&b=2")
    }

    @Test("nginx escape=json text log_format with a JSON shape")
    func nginxEscapeJSON() throws {
        let format = try compiled(
            #"log_format j escape=json '{"ip":"$remote_addr","t":"$time_local","r":"$request","s":$status,"b":$body_bytes_sent,"ua":"$http_user_agent"}';"#
        )
        let line = try #require(
            parse(
                #"{"ip":"192.0.2.9","t":"10/Oct/2000:13:55:36 +0000","r":"GET /q?\"x\" HTTP/1.1","s":200,"b":5,"ua":"a\\b\u0001"}"#,
                format
            ).parsed)
        #expect(line.client == "192.0.2.9" && line.status == 200 && line.responseBytes == 5)
        #expect(line.query == #""x""# && line.userAgent == "a\\b\u{01}")
    }

    @Test("Apache documentation examples: common, vhost common, %{c}a, %U%q, %{…}t forms, modifiers")
    func apacheExamples() throws {
        let common = try compiled(#"%h %l %u %t \"%r\" %>s %b"#)
        #expect(parse(apacheExample, common).parsed?.userAgent == nil)
        #expect(parse(apacheExample, common).parsed?.responseBytes == 2326)

        let vhostCommon = try compiled(#"LogFormat "%v %h %l %u %t \"%r\" %>s %b" vhost_common"#)
        let vhost = try #require(parse("Example.org " + apacheExample, vhostCommon).parsed)
        #expect(vhost.virtualHost == "example.org" && vhost.client == "127.0.0.1")

        let parts = try compiled(
            #"%{c}a %{%Y-%m-%dT%H:%M:%S%z}t %m %U%q %H %s %B %D %{X-Forwarded-For}i %!200,304{Referer}i %{User-agent}i"#)
        let line = try #require(
            parse("10.9.8.7 2024-01-02T03:04:05+0000 GET /a?b=c HTTP/1.1 200 10 1234 198.51.100.1 - curl", parts).parsed)
        #expect(line.client == "10.9.8.7" && line.path == "/a" && line.query == "b=c")
        #expect(line.timestamp == foundationEpochMilliseconds("2024-01-02T03:04:05Z"))
        #expect(line.userAgent == "curl" && line.referrer == nil)

        let seconds = try compiled(#"%a [%{msec}t] "%r" %>s %O"#)
        #expect(parse(#"::1 [1700000000123] "GET / HTTP/1.1" 200 -"#, seconds).parsed?.timestamp == 1_700_000_000_123)
    }

    @Test("Format strings klogs cannot use are refused with a message naming the problem")
    func refusedStrings() {
        let cases = [
            #"%{Referer}i -> %U"#,  // Apache's referer log: no time, no status
            "$remote_addr $status",  // no time
            "$host$request_uri [$time_local] $status",  // adjacent variables
            "%h %t %>s %{%H:%M}t",  // a time without a date or offset
            "%h %t %>s %Z",
        ]
        for definition in cases {
            #expect(throws: FormatError.self, "\(definition)") { try LogFormat.compile(definition) }
        }
    }

    @Test("Edge lines: '-' numbers, empty requests, HTTP/2 and HTTP/3, extra trailing fields, a cut last field")
    func edgeLines() throws {
        let format = try compiled(nginxCombined)
        let prefix = #"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "#
        #expect(parse(prefix + #""" 400 0 "-" "-""#, format).parsed?.requestKind == .empty)
        #expect(parse(prefix + #""-" 408 - "-" "-""#, format).parsed?.responseBytes == 0)
        #expect(parse(prefix + #""GET / HTTP/3" 200 1 "-" "x" "-" 123"#, format).parsed?.httpProtocol == "HTTP/3")
        #expect(parse(prefix + #""GET / HTTP/2.0" 200 1"#, format).parsed?.userAgent == nil)
        #expect(parse(prefix + #""GET / HTTP/1.1" 200 1 "-" "Mozilla/5.0 (cut"#, format).parsed?.userAgent == "Mozilla/5.0 (cut")
        #expect(parse(prefix + #""GET / HTTP/1.1" - 1 "-" "x""#, format) == .rejected(.badStatus))
        #expect(parse(#"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000 "GET / HTTP/1.1" 200 1"#, format) == .rejected(.badTimestamp))
        #expect(parse(prefix + #""GET / HTTP/1.1 200 1 "-" "x"#, format).parsed == nil)
        #expect(parse("   ", format) == .rejected(.emptyLine))
    }

    /// Found by FuzzCustomFormat: `%m` after `%r` gave an empty or malformed request line a method of its own.
    @Test(
        "A request line is the only source of method and protocol when the format also has them as fields",
        arguments: [
            #"%h %l %u %t "%r" %>s %b "%m" "%H""#, #"%h %l %u %t "%m" "%H" "%r" %>s %b"#,
            #"$remote_addr [$time_local] "$request" $status "$request_method" "$server_protocol""#,
        ])
    func requestLineWinsOverMethodFields(definition: String) throws {
        let format = try compiled(definition)
        let prefix = #"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "#
        let request = definition.hasPrefix("$") ? #"1.2.3.4 [01/Jan/2024:00:00:00 +0000] "# : prefix
        func line(_ requestLine: String) -> String {
            definition.hasPrefix("$")
                ? request + #""\#(requestLine)" 200 "POST" "HTTP/2.0""#
                : definition.contains(#""%m" "%H" "%r""#)
                    ? prefix + #""POST" "HTTP/2.0" "\#(requestLine)" 200 1"#
                    : prefix + #""\#(requestLine)" 200 1 "POST" "HTTP/2.0""#
        }
        for requestLine in ["", "-", "GET", "\u{16}\u{3}\u{1}"] {
            let parsed = try #require(parse(line(requestLine), format).parsed, "\(requestLine)")
            #expect(parsed.requestKind != .valid)
            #expect(parsed.method == "-" && parsed.path == "-", "\(requestLine)")
        }
        let valid = try #require(parse(line("GET /a?b HTTP/1.1"), format).parsed)
        #expect(valid.method == "GET" && valid.path == "/a" && valid.httpProtocol == "HTTP/1.1")
    }
}

@Suite("JSON access logs")
struct JSONFormatTests {
    @Test("Caddy's JSON access log, as in Caddy's documentation")
    func caddy() throws {
        let format = try #require(LogFormat.preset(named: "caddy-json"))
        let text =
            #"{"level":"info","ts":1646861401.5241024,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"127.0.0.1","remote_port":"41342","client_ip":"127.0.0.1","proto":"HTTP/2.0","method":"GET","host":"localhost","uri":"/a?b=1","headers":{"User-Agent":["curl/7.82.0"],"Accept":["*/*"],"Accept-Encoding":["gzip, deflate, br"]},"tls":{"resumed":false,"version":772,"cipher_suite":4865,"proto":"h2","server_name":"example.com"}},"bytes_read":0,"user_id":"","duration":0.000929675,"size":10900,"status":200,"resp_headers":{"Server":["Caddy"],"Content-Type":["text/html; charset=utf-8"]}}"#
        let line = try #require(parse(text, format).parsed)
        #expect(line.client == "127.0.0.1" && line.timestamp == 1_646_861_401_524)
        #expect(line.method == "GET" && line.path == "/a" && line.query == "b=1" && line.httpProtocol == "HTTP/2.0")
        #expect(line.status == 200 && line.responseBytes == 10900 && line.userAgent == "curl/7.82.0")
        #expect(line.virtualHost == "localhost" && line.referrer == nil)
    }

    @Test("Traefik's JSON access log")
    func traefik() throws {
        let format = try #require(LogFormat.preset(named: "traefik-json"))
        let text =
            #"{"ClientAddr":"192.168.1.5:51234","ClientHost":"192.168.1.5","ClientPort":"51234","DownstreamContentSize":19,"DownstreamStatus":404,"Duration":103500,"RequestAddr":"whoami.example.com","RequestHost":"whoami.example.com","RequestMethod":"GET","RequestPath":"/missing?x=1","RequestProtocol":"HTTP/1.1","RouterName":"web@docker","StartUTC":"2024-05-01T10:20:30.123456789Z","entryPointName":"web","level":"info","msg":"","request_User-Agent":"Mozilla/5.0","time":"2024-05-01T10:20:30Z"}"#
        let line = try #require(parse(text, format).parsed)
        #expect(line.client == "192.168.1.5" && line.status == 404 && line.responseBytes == 19)
        #expect(line.timestamp == foundationEpochMilliseconds("2024-05-01T10:20:30Z") + 123)
        #expect(line.path == "/missing" && line.userAgent == "Mozilla/5.0" && line.virtualHost == "whoami.example.com")
    }

    @Test("nginx escape=json logs and a --json-fields mapping")
    func nginxJSONAndMapping() throws {
        let nginx = try #require(LogFormat.preset(named: "nginx-json"))
        let text =
            #"{"time_local":"10/Oct/2000:13:55:36 -0700","remote_addr":"203.0.113.5","request":"GET /x\u0022 HTTP/1.1","status":"200","body_bytes_sent":"5","http_referer":"","http_user_agent":"ua \"q\"","http_x_forwarded_for":"198.51.100.2"}"#
        let line = try #require(parse(text, nginx).parsed)
        #expect(line.client == "203.0.113.5" && line.timestamp == 971_211_336_000 && line.path == "/x\"")
        #expect(line.userAgent == #"ua "q""# && line.referrer == nil && line.status == 200)

        let custom = LogFormat.json(try JSONFormat(fields: "client=ip,time=@t,status=code,request=req"))
        let mapped = try #require(
            parse(#"{"@t":1700000000,"ip":"10.0.0.1","code":301,"req":"HEAD / HTTP/1.0","extra":[1,{"a":null}]}"#, custom).parsed)
        #expect(mapped.timestamp == 1_700_000_000_000 && mapped.status == 301 && mapped.method == "HEAD")
        #expect(parse(#"{"@t":1700000000,"ip":"10.0.0.1"}"#, custom) == .rejected(.missingField))
        #expect(parse(#"{"@t":1700000000,"ip":"10.0.0.1","code":301"#, custom).parsed == nil)
        #expect(throws: FormatError.self) { try JSONFormat(fields: "cleint=ip,time=t,status=s") }
        // A hostile line of brackets is refused, not a stack overflow.
        let deep = #"{"@t":1,"ip":"a","code":200,"x":"# + String(repeating: "[", count: 60_000)
        #expect(parse(deep, custom) == .rejected(.missingField))
    }
}

@Suite("Format detection")
struct FormatDetectionTests {
    func detect(_ file: String) throws -> String {
        let bytes = try corpusBytes(file)
        var lines: [[UInt8]] = []
        var splitter = LineSplitter()
        bytes.withUnsafeBytes { buffer in
            splitter.feed(buffer) { _, line in
                if case .complete(let bytes) = line, lines.count < FormatDetector.sampleLineCount {
                    lines.append(Array(bytes))
                }
            }
            splitter.finish { _, line in
                if case .complete(let bytes) = line, lines.count < FormatDetector.sampleLineCount {
                    lines.append(Array(bytes))
                }
            }
        }
        let pointers = lines.map { line in
            line.withUnsafeBytes { UnsafeRawBufferPointer(start: $0.baseAddress, count: $0.count) }
        }
        // Safe enough for a test: the arrays in `lines` stay alive and unmodified while `pointers` are used.
        return withExtendedLifetime(lines) {
            switch FormatDetector.detect(pointers) {
            case .detected(let format, _): return format.name
            case .failed(let message, _): return "failed: " + message
            }
        }
    }

    @Test(
        "--format auto picks the right preset on every access log of the corpus",
        arguments: [
            ("logs/elastic-examples/apache_logs", "combined"),
            ("logs/nielsbasjes-logparser/hackers-access.log", "combined"),
            ("logs/nasa-http/NASA_access_log_Jul95.first4000", "common"),
            ("logs/lnav/logfile_shop_access_log.0", "combined-xff"),
            ("logs/elastic-beats/nginx-access.log", "combined"),
            ("logs/elastic-beats/nginx-test.log", "combined"),
            // Host-first lines parse the same with nginx-vhost; the hand-tuned built-in wins the tie.
            ("logs/elastic-beats/nginx-test-with-host.log", "vhost_combined"),
            ("logs/elastic-beats/apache-test.log", "combined"),
            ("logs/elastic-beats/apache-darwin-2.4.23.log", "common"),
            ("logs/elastic-beats/apache-test-vhost.log", "vhost_combined"),
            ("logs/lnav/logfile_access_log.0", "combined"),
            ("logs/lnav/logfile_access_log.1", "combined"),
            ("logs/lnav/logfile_bad_access_log.0", "combined"),
            ("logs/lnav/logfile_regexp_access_log.0", "vhost_combined"),
        ])
    func detectsCorpus(file: String, expected: String) throws {
        #expect(try detect(file) == expected)
    }

    @Test("JSON lines are told apart: Caddy, Traefik and nginx escape=json logs")
    func detectsJSON() {
        let samples = [
            ("caddy-json", #"{"level":"info","ts":1646861401.52,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"127.0.0.1","client_ip":"127.0.0.1","proto":"HTTP/1.1","method":"GET","host":"a.test","uri":"/","headers":{"User-Agent":["curl/8"]}},"size":5,"status":200}"#),
            ("traefik-json", #"{"ClientHost":"192.0.2.1","DownstreamContentSize":5,"DownstreamStatus":200,"RequestMethod":"GET","RequestPath":"/","RequestProtocol":"HTTP/1.1","StartUTC":"2024-05-01T10:20:30.5Z"}"#),
            ("nginx-json", #"{"time_iso8601":"2024-05-01T10:20:30+00:00","remote_addr":"192.0.2.1","request":"GET / HTTP/1.1","status":200,"body_bytes_sent":5,"http_user_agent":"x"}"#),
        ]
        for (expected, line) in samples {
            var bytes = Array(line.utf8)
            let name = bytes.withUnsafeMutableBytes { buffer -> String in
                switch FormatDetector.detect([UnsafeRawBufferPointer(buffer), UnsafeRawBufferPointer(buffer)]) {
                case .detected(let format, _): return format.name
                case .failed(let message, _): return message
                }
            }
            #expect(name == expected)
        }
    }

    @Test("Junk input fails with the nearest presets and a line number, never the line's content")
    func junkFails() throws {
        for file in ["logs/lnav/logfile_syslog_with_access_log.0", "logs/lnav/logfile_invalid_utf8.0"] {
            let result = try detect(file)
            #expect(result.hasPrefix("failed: cannot detect the log format"), "\(file): \(result)")
            #expect(result.contains("first failing line 1"))
            #expect(!result.contains("192.168") && !result.contains("GET"))
        }
    }
}
