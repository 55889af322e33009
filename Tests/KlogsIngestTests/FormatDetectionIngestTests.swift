import Foundation
import KlogsCore
import KlogsTestSupport
import Testing

@testable import KlogsIngest

/// `--format auto` through the whole ingest: every log of the shared corpus is either detected as its preset (and
/// the summary says so) or refused with a message naming the nearest presets and the first failing line, never a
/// client address. (`FormatDetectionTests` in KlogsCoreTests checks the detector alone on the first lines.)
@Suite struct FormatDetectionIngestTests {
    /// The preset each access log of the corpus is written in.
    static let accessLogs: [String: String] = [
        "elastic-examples/apache_logs": "combined",
        "nielsbasjes-logparser/hackers-access.log": "combined",
        "nasa-http/NASA_access_log_Jul95.first4000": "common",
        "lnav/logfile_shop_access_log.0": "combined-xff",
        "elastic-beats/nginx-access.log": "combined",
        "elastic-beats/nginx-test.log": "combined",
        // Host-first lines parse the same with nginx-vhost; the hand-tuned built-in wins the tie.
        "elastic-beats/nginx-test-with-host.log": "vhost_combined",
        "elastic-beats/apache-test.log": "combined",
        "elastic-beats/apache-darwin-2.4.23.log": "common",
        "elastic-beats/apache-test-vhost.log": "vhost_combined",
        "lnav/logfile_access_log.0": "combined",
        "lnav/logfile_access_log.1": "combined",
        "lnav/logfile_bad_access_log.0": "combined",
        "lnav/logfile_regexp_access_log.0": "vhost_combined",
    ]

    /// The corpus files that are not access logs (lnav's test files for other log types and broken text).
    static let otherLogs: Set<String> = [
        "lnav/logfile_syslog_with_access_log.0", "lnav/logfile_invalid_utf8.0", "lnav/logfile_crlf.0",
        "lnav/textfile_invalid_utf8.0",
    ]

    static let logsRoot = TestPaths.corpus.appendingPathComponent("logs")

    /// Every log file under `corpus/logs` (licences and upstream READMEs left out), relative to it.
    static func corpusLogs() -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: logsRoot.path)
        var files: [String] = []
        while let name = enumerator?.nextObject() as? String {
            let base = (name as NSString).lastPathComponent
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: logsRoot.path + "/" + name, isDirectory: &isDirectory),
                !isDirectory.boolValue, !base.hasPrefix("LICENSE"), !base.hasPrefix("README")
            else { continue }
            files.append(name)
        }
        return files.sorted()
    }

    /// Ingests a corpus log with `--format auto`. A log whose last line has no newline is read from a copy with
    /// one: the ingest leaves an unfinished last line for the next run (a file being written), which would leave
    /// nothing to detect in a one-line file.
    func ingest(_ file: String, into directory: TemporaryDirectory) throws -> IngestSummary {
        var input = Self.logsRoot.path + "/" + file
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: input)))
        if bytes.last != UInt8(ascii: "\n") {
            input = try directory.file((file as NSString).lastPathComponent, bytes + [UInt8(ascii: "\n")])
        }
        var configuration = IngestConfiguration(dataDirectory: directory.path + "/data", inputs: [input])
        configuration.format = nil  // --format auto
        return try Ingestor(configuration: configuration).run()
    }

    @Test("Every log of the corpus is listed here as an access log with its preset or as another kind of log")
    func everyCorpusLogIsClassified() {
        let logs = Self.corpusLogs()
        #expect(logs.count == Self.accessLogs.count + Self.otherLogs.count, "\(logs)")
        for log in logs {
            #expect(Self.accessLogs[log] != nil || Self.otherLogs.contains(log), "\(log): add it to a table above")
        }
    }

    @Test("An ingest with --format auto picks the right preset on every access log and reports it")
    func detectsEveryAccessLog() throws {
        for (file, preset) in Self.accessLogs.sorted(by: { $0.key < $1.key }) {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let summary = try ingest(file, into: directory)
            #expect(summary.format == preset, "\(file)")
            #expect(summary.formatDetected, "\(file)")
            #expect(summary.linesIngested > 0, "\(file)")
            #expect(summary.text.contains("format   \(preset) (detected from the first lines)"), "\(file)")
            #expect(summary.json.contains(#""format":"\#(preset)","format_detected":true"#), "\(file)")
        }
    }

    @Test("A log of no known format fails the ingest: nearest presets, first failing line, no address")
    func refusesOtherLogs() throws {
        for file in Self.otherLogs.sorted() {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let failure = try #require(throws: IngestFailure.self, "\(file)") { try ingest(file, into: directory) }
            #expect(failure.isUnrecognisedFormat, "\(file)")
            #expect(failure.message.contains("cannot detect the log format"), "\(file): \(failure.message)")
            #expect(failure.message.contains("(nearest: "), "\(file): \(failure.message)")
            #expect(failure.message.contains("first failing line 1"), "\(file): \(failure.message)")
            #expect(failure.message.contains("--format"), "\(file): \(failure.message)")
            // Nothing of the file is repeated: no token that holds a digit and a dot or colon (addresses, times).
            let text = try String(decoding: Data(contentsOf: Self.logsRoot.appendingPathComponent(file)), as: UTF8.self)
            for token in text.split(whereSeparator: { " \t\r\n[]\"',;()<>".contains($0) }) where token.count >= 5 {
                let hasDigit = token.contains(where: \.isNumber)
                guard hasDigit, token.contains(".") || token.contains(":") else { continue }
                #expect(!failure.message.contains(token), "\(file): the message repeats \(token.count) bytes of it")
            }
            // The dataset is untouched: no Parquet file was published.
            let published = FileManager.default.enumerator(atPath: directory.path + "/data")?.allObjects
                .compactMap { $0 as? String }.filter { $0.hasSuffix(".parquet") } ?? []
            #expect(published.isEmpty, "\(file)")
        }
    }
}
