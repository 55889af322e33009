import Foundation
import KlogsCore
import KlogsTestSupport
import Logging
import Testing

@testable import KlogsIngest

/// The Prometheus textfile and the log line format. (The same file written by the command, checked line by line
/// against the format by an independent script, is in Tests/packaging/test_cli.py.)
@Suite struct MetricsTests {
    /// A strict reading of the text exposition format 0.0.4: comments, then samples without timestamps.
    static var sampleLine: Regex<AnyRegexOutput> { try! Regex(
        #"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(\\\\|\\"|\\n|[^"\\\n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\\\|\\"|\\n|[^"\\\n])*")*\})? (-?[0-9]+(\.[0-9]+)?|[+-]Inf|NaN)$"#)
    }
    static var helpLine: Regex<AnyRegexOutput> { try! Regex(#"^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* ([^\\\n]|\\\\|\\n)*$"#) }
    static var typeLine: Regex<AnyRegexOutput> { try! Regex(#"^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$"#) }

    static func checkFormat(_ text: String) {
        #expect(text.hasSuffix("\n"))
        var typed: Set<String> = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            let line = String(line)
            if line.hasPrefix("# TYPE ") {
                #expect(line.wholeMatch(of: typeLine) != nil, "bad TYPE line: \(line)")
                let name = String(line.split(separator: " ")[2])
                #expect(typed.insert(name).inserted, "TYPE given twice for \(name)")
            } else if line.hasPrefix("# HELP ") {
                #expect(line.wholeMatch(of: helpLine) != nil, "bad HELP line: \(line)")
            } else {
                #expect(line.wholeMatch(of: sampleLine) != nil, "bad sample line: \(line)")
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                #expect(typed.contains(name), "sample before its TYPE line: \(line)")
            }
        }
    }

    @Test func theMetricsOfARealIngestHoldItsTrueCountsInTheTextFormat() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let sample = TestPaths.fixtures.appendingPathComponent("sample-access.log").path
        let summary = try Ingestor(
            configuration: IngestConfiguration(dataDirectory: directory.path + "/data", inputs: [sample])
        ).run()
        let path = directory.path + "/klogs.prom"
        try MetricsFile.write(IngestMetrics(summary: summary, succeeded: true, timestamp: 1_795_000_000.25), to: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        Self.checkFormat(text)

        let lineCount = try String(contentsOfFile: sample, encoding: .utf8).split(separator: "\n").count
        #expect(text.contains("\nklogs_ingest_lines_read \(lineCount)\n"))
        #expect(text.contains("\nklogs_ingest_lines_ingested \(summary.linesIngested)\n"))
        #expect(summary.linesIngested + summary.linesRejected == Int64(lineCount))
        for reason in RejectReason.allCases {
            #expect(text.contains("klogs_ingest_lines_rejected{reason=\"\(reason.rawValue)\"} \(summary.rejected[reason.rawValue] ?? 0)\n"))
        }
        #expect(text.contains("\nklogs_ingest_files_written \(summary.filesWritten)\n"))
        #expect(text.contains("\nklogs_ingest_last_success_timestamp_seconds 1795000000.250\n"))
        // Written atomically: nothing but the final file is left in the directory.
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == ["data", "klogs.prom"])
    }

    @Test func aFailedRunKeepsTheLastSuccessTimeOfThePreviousFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/klogs.prom"
        try MetricsFile.write(IngestMetrics(summary: IngestSummary(), succeeded: true, timestamp: 1000), to: path)
        try MetricsFile.write(IngestMetrics(summary: IngestSummary(), succeeded: false, timestamp: 2000), to: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        Self.checkFormat(text)
        #expect(text.contains("\nklogs_ingest_last_run_success 0\n"))
        #expect(text.contains("\nklogs_ingest_last_run_timestamp_seconds 2000.000\n"))
        #expect(text.contains("\nklogs_ingest_last_success_timestamp_seconds 1000.000\n"))
    }

    @Test func labelValuesAndHelpTextAreEscaped() {
        var text = PrometheusText()
        text.family("x_total", type: .counter, help: "a \\ b\nc")
        text.sample("x_total", labels: ["reason": "q\"uo\\te\nx"], value: 3)
        text.sample("x_total", labels: ["reason": "inf"], value: Double.infinity)
        #expect(text.document == "# HELP x_total a \\\\ b\\nc\n# TYPE x_total counter\nx_total{reason=\"q\\\"uo\\\\te\\nx\"} 3\nx_total{reason=\"inf\"} +Inf\n")
        Self.checkFormat(text.document)
    }

    @Test(arguments: ["klogs_ok", "_x", "a:b", "A9"]) func validMetricNames(_ name: String) {
        #expect(PrometheusText.isValidMetricName(name))
    }

    @Test(arguments: ["", "9a", "a-b", "a b", "é"]) func invalidMetricNames(_ name: String) {
        #expect(!PrometheusText.isValidMetricName(name))
    }

    @Test func aLogEventIsOneLineWithSortedQuotedMetadata() {
        let line = StandardErrorLogHandler.format(
            time: "2026-11-22T03:40:00Z", level: .warning, label: "klogs", message: "input\nwarning",
            metadata: ["path": "a b.log", "count": "3"])
        #expect(line == "2026-11-22T03:40:00Z warning klogs: input\\nwarning count=3 path=\"a b.log\"")
    }

    @Test func theVersionNamesTheBuild() {
        #expect(KlogsVersion.description == "klogs version \(KlogsVersion.number) (build \(KlogsVersion.commit))")
        #expect(!KlogsVersion.commit.isEmpty)
    }
}
