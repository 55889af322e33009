@testable import KlogsCore
import Testing

/// The compiled programs run the fields of nginx's and Apache's combined and common layouts unrolled (the
/// ``UnrolledRun`` of ``ProgramView``); these tests check where such runs are found and that they parse every line
/// exactly as the generic loop does.
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
    ]

    @Test("Runs are found wherever the operations of a common layout follow each other, whatever the literals")
    func runsAreFound() throws {
        for (definition, run, start) in Self.formats {
            let program = try CompiledFormat(definition, allowsBuiltIn: false).program
            #expect(program.traits.unrolledRun == run, "\(definition)")
            if run != .none { #expect(program.traits.unrolledStart == start, "\(definition)") }
        }
    }

    @Test("Unrolled and generic runs agree on every corpus line, on mutated lines and on lines that end early")
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
            let unrolled = program.view
            let generic = program.view(unrolled: false)
            var differing = 0
            for line in lines where Self.outcome(unrolled, line) != Self.outcome(generic, line) { differing += 1 }
            #expect(differing == 0, "\(definition)")
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
