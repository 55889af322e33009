@testable import KlogsCore
import Testing

/// The compiled programs run the fields of nginx's and Apache's combined and common layouts unrolled (the
/// ``UnrolledRun`` of ``ProgramView``), fused into one pass when their literals are the usual ones; these tests check
/// where such runs are found and that they parse every line exactly as the generic loop does.
@Suite("Unrolled runs of compiled formats")
struct FormatsUnrolledTests {
    static let nginxCombined =
        #"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#

    /// Format strings, the run each holds and the step it starts at.
    static let formats: [(String, UnrolledRun, Int)] = [
        (nginxCombined, .nginxCombined, 0),
        (nginxCombined + #" "$http_x_forwarded_for" rt=$request_time"#, .nginxCombined, 0),
        (#"$host $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#, .nginxCombined, 1),
        (#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent"#, .nginxCommon, 0),
        (#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i""#, .apacheCombined, 0),
        (#"%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i""#, .none, 0),
        (#"%v %h %l %u %t "%r" %>s %b"#, .apacheCommon, 1),
        (#"%h | %l | %u | %t | "%r" | %>s | %b | "%{Referer}i" | "%{User-Agent}i""#, .apacheCombined, 0),
        (#"$remote_addr [$time_local] "$request" $status"#, .none, 0),
        ("$msec $remote_addr $request_method $uri $args $status $bytes_sent", .none, 0),
        (#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent rt=$request_time"#, .nginxCommon, 0),
        (#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %D"#, .apacheCombined, 0),
    ]

    @Test("Runs are found wherever the operations of a common layout follow each other, whatever the literals")
    func runsAreFound() throws {
        for (definition, run, start) in Self.formats {
            let program = try CompiledFormat(definition, allowsBuiltIn: false).program
            #expect(program.traits.unrolledRun == run, "\(definition)")
            if run != .none { #expect(program.traits.unrolledStart == start, "\(definition)") }
        }
    }

    @Test("Runs whose literals are nginx's and Apache's own are fused, whatever comes before or after them")
    func runsAreFused() throws {
        let fused = Self.formats.map { definition, _, _ in
            (try? CompiledFormat(definition, allowsBuiltIn: false).program.traits.fusesRun) ?? false
        }
        // All but the vertical bars and the layouts without a run.
        #expect(fused == [true, true, true, true, true, false, true, false, false, false, true, true])
        // A size ended by something other than a space, or a run whose literals differ anywhere, is not fused.
        for definition in [
            #"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent|$request_time"#,
            #"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer"  "$http_user_agent""#,
            #"$remote_addr : $remote_user [$time_local] "$request" $status $body_bytes_sent"#,
        ] {
            #expect(try CompiledFormat(definition, allowsBuiltIn: false).program.traits.fusesRun == false)
        }
    }

    @Test("Fused, unrolled and generic runs agree on every corpus line, on mutated lines and on lines that end early")
    func unrolledAgreesWithTheLoop() throws {
        var lines: [[UInt8]] = []
        for file in [
            "logs/elastic-examples/apache_logs", "logs/nielsbasjes-logparser/hackers-access.log",
            "logs/elastic-beats/nginx-access.log", "logs/elastic-beats/apache-test-vhost.log",
            "logs/lnav/logfile_access_log.0",
        ] {
            lines += try corpusBytes(file).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                .map(Array.init)
        }
        // Lines the fused run gives up on: lists, escapes, empty and odd fields, a missing final field.
        lines += [
            #"10.0.0.1, 10.0.0.2 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "-" "a""#,
            #"10.0.0.1 - a, b [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "-" "a""#,
            #"10.0.0.1,10.0.0.2,  10.0.0.3, 10.0.0.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "-" "a""#,
            #"10.0.0.1,10.0.0.2 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "-" "a""#,
            #"10.0.0.1, - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "-" "a""#,
            #", 10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "-" "a""#,
            #"10.0.0.1, 10.0.0.2,"#,
            #"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /"xA HTTP/1.1" 200 - "r\" "a"b""#,
            #"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "" 400 0 "" """#,
            #"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "-" 408 - "-" "-" "1.2.3.4, 5.6.7.8" rt=0.001"#,
            #"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "-" "a" "-""#,
            #"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "-" "a"  "#,
            #"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5"#,
            #"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "#,
            #"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 2000 5 "-" "a""#,
            #"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5x "-" "a""#,
            #"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "-" "cut"#,
            #"example.com 10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "-" "a""#,
            #"example.com 10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5"#,
            #"example.com "#,
        ].map { Array($0.utf8) }
        var random = SplitMix(state: 5)
        let bytes = Array(#" "\[]-,0x:?"#.utf8) + [0x09, 0xFF]
        for line in lines.prefix(2_000) where !line.isEmpty {
            // Cut anywhere, one byte replaced, inserted or removed.
            var mutated = [Array(line[..<Int.random(in: 0..<line.count, using: &random)])]
            for _ in 0..<3 {
                var copy = line
                let index = Int.random(in: 0..<copy.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: copy[index] = bytes.randomElement(using: &random)!
                case 1: copy.insert(bytes.randomElement(using: &random)!, at: index)
                default: copy.remove(at: index)
                }
                mutated.append(copy)
            }
            lines += mutated
        }
        for (definition, run, _) in Self.formats where run != .none {
            let program = try CompiledFormat(definition, allowsBuiltIn: false).program
            let fused = program.view
            let unrolled = program.view(unrolled: true, fused: false)
            let generic = program.view(unrolled: false)
            var differing = (fused: 0, unrolled: 0)
            for line in lines {
                let expected = Self.outcome(generic, line)
                if Self.outcome(fused, line) != expected { differing.fused += 1 }
                if Self.outcome(unrolled, line) != expected { differing.unrolled += 1 }
            }
            #expect(differing.fused == 0, "\(definition)")
            #expect(differing.unrolled == 0, "\(definition)")
        }
    }

    /// What a view makes of a line: the reject reason or the fields (forwarded-for too), and how the line matched.
    static func outcome(_ view: ProgramView, _ line: [UInt8]) -> String {
        var record = AccessRecord()
        var time = CommonLogTimeParser()
        var match = FormatMatch()
        return line.withUnsafeBytes { bytes in
            record.begin(bytes)
            let result =
                if let reason = view.run(bytes, bytes.count, &record, &time, &match) {
                    "rejected \(reason)"
                } else {
                    "\(ParsedLine(record)) \(record.forwardedFor.map(text) ?? "-")"
                }
            return "\(result) \(match)"
        }
    }
}
