import Foundation
import Glibc
import KlogsCore
import KlogsParquet
import KlogsTestSupport
import Testing

@testable import KlogsIngest

/// Hostile input through the whole ingest, in-process (so these also run under the sanitizers): lines the
/// internet writes, times at the edges, streams given as paths, and the bounds that keep memory in check.
/// The process-level cases (exit statuses, signals, full disks, broken pipes) are in Tests/interop/test_hostile.py.
@Suite("Hostile input through the ingest")
struct HostileInputIngestTests {
    /// A canary client address and user agent: neither may reach any stored byte.
    static let canaryClient = "198.51.100.77"
    static let canaryAgent = "CanaryBrowser/9.9 (hostile-test-agent)"

    /// One combined-format line with its newline; every field can be raw bytes.
    static func line(
        path: [UInt8] = Array("/".utf8), time: String = "01/Nov/2026:10:00:00 +0000", request: [UInt8]? = nil,
        referrer: [UInt8] = Array("-".utf8), agent: [UInt8] = Array(canaryAgent.utf8),
        client: [UInt8] = Array(canaryClient.utf8)
    ) -> [UInt8] {
        let requestBytes = request ?? Array("GET ".utf8) + path + Array(" HTTP/1.1".utf8)
        return client + Array(" - - [\(time)] \"".utf8) + requestBytes + Array("\" 200 123 \"".utf8) + referrer
            + Array("\" \"".utf8) + agent + Array("\"\n".utf8)
    }

    /// `count` well-formed lines with paths `/good/0`, `/good/1`, ….
    static func goodLines(_ count: Int) -> [UInt8] {
        (0..<count).flatMap { line(path: Array("/good/\($0)".utf8)) }
    }

    /// Ingests `inputs` into `directory/data` (combined format, no user-agent rules: fast) and returns the summary.
    static func ingest(
        _ inputs: [String], into directory: TemporaryDirectory, _ adjust: (inout IngestConfiguration) -> Void = { _ in }
    ) throws -> IngestSummary {
        var configuration = IngestConfiguration(dataDirectory: directory.path + "/data", inputs: inputs)
        configuration.format = .combined
        configuration.classifiesUserAgents = false
        adjust(&configuration)
        return try Ingestor(configuration: configuration).run()
    }

    /// The Parquet files under `root` whose path relative to it starts with `prefix`.
    static func parquetFiles(under root: String, prefix: String = "") -> [String] {
        var files: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let name = enumerator?.nextObject() as? String {
            if name.hasPrefix(prefix) && name.hasSuffix(".parquet") { files.append(root + "/" + name) }
        }
        return files
    }

    /// Every value of every string column of every Parquet file under `root`, as raw bytes.
    static func storedStrings(under root: String) throws -> [[UInt8]] {
        var values: [[UInt8]] = []
        for file in parquetFiles(under: root) {
            let reader = try ParquetFileReader(path: file)
            for rowGroup in 0..<reader.rowGroups.count {
                for column in 0..<reader.schema.columns.count {
                    switch try reader.readColumn(rowGroup: rowGroup, column: column) {
                    case .strings(let strings): values += entries(of: strings)
                    case .dictionaryStrings(let dictionary, _): values += entries(of: dictionary)
                    default: continue
                    }
                }
            }
        }
        return values
    }

    static func entries(of column: StringColumn) -> [[UInt8]] {
        (0..<column.count).map { Array(column.bytes[Int(column.offsets[$0])..<Int(column.offsets[$0 + 1])]) }
    }

    /// The stored paths of the `events` dataset.
    static func storedPaths(under root: String) throws -> Set<String> {
        var paths: Set<String> = []
        for file in parquetFiles(under: root, prefix: "events/") {
            let reader = try ParquetFileReader(path: file)
            let index = try #require(reader.schema.index(of: "path"))
            for rowGroup in 0..<reader.rowGroups.count {
                let column = try reader.readColumn(rowGroup: rowGroup, column: index)
                for row in 0..<column.count { if let path = column.string(at: row) { paths.insert(path) } }
            }
        }
        return paths
    }

    // MARK: Lines the internet writes

    static let hostileLines: [(label: String, bytes: [UInt8])] = [
        ("binary garbage", randomBytes(400, seed: 9).map { $0 == 10 ? 0 : $0 } + [10]),
        ("a TLS ClientHello as the line", [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 10]),
        ("a TLS ClientHello as the request", line(request: [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0xfc])),
        ("NUL bytes only", [UInt8](repeating: 0, count: 300) + [10]),
        ("a NUL in the path", line(path: Array("/nul\u{0}path".utf8))),
        ("a NUL in the user agent", line(agent: Array("Mozilla\u{0}/5.0".utf8))),
        ("Latin-1 in the path", line(path: [0x2f, 0x63, 0x61, 0x66, 0xe9])),
        ("an overlong slash in the path", line(path: [0x2f, 0xc0, 0xaf])),
        ("a surrogate in the path", line(path: [0x2f, 0xed, 0xa0, 0x80])),
        ("a cut sequence in the path", line(path: [0x2f, 0xe2, 0x82])),
        (
            "invalid UTF-8 in the referrer",
            line(referrer: Array("http://ex".utf8) + [0xff, 0xfe] + Array(".com/".utf8))
        ),
        ("invalid UTF-8 in the user agent", line(agent: Array("Mozilla/5.0 ".utf8) + [0xff, 0xc3])),
        ("invalid UTF-8 in the method", line(request: [0x47, 0xff, 0x54, 0x20, 0x2f, 0x20] + Array("HTTP/1.1".utf8))),
        ("invalid UTF-8 in the client", line(client: Array("198.51.100.".utf8) + [0xff])),
        ("a byte-order mark first", [0xef, 0xbb, 0xbf] + line()),
        ("a line of only a carriage return", [13, 10]),
    ]

    @Test(
        "A hostile line never stops the run, keeps the good lines around it, and stores only valid UTF-8",
        arguments: hostileLines)
    func hostileLine(label: String, bytes: [UInt8]) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let good = Self.goodLines(20)
        let split = good.count / 2
        let path = try directory.file("hostile.log", Array(good[..<split]) + bytes + Array(good[split...]))
        let summary = try Self.ingest([path], into: directory)
        #expect(summary.inputErrors.isEmpty)
        #expect(summary.linesRead == 21)
        #expect(summary.linesIngested + summary.linesRejected == 21)
        let paths = try Self.storedPaths(under: directory.path + "/data")
        #expect((0..<20).allSatisfy { paths.contains("/good/\($0)") })
        for value in try Self.storedStrings(under: directory.path + "/data") {
            #expect(value.withUnsafeBytes { UTF8Repair.isValid($0) }, "\(label): \(value)")
            #expect(!String(decoding: value, as: UTF8.self).contains(Self.canaryClient))
            #expect(!String(decoding: value, as: UTF8.self).contains("hostile-test-agent"))
        }
        #expect(DatasetVerifier.verify(dataDirectory: directory.path + "/data").problems.isEmpty)
    }

    @Test("A 10 MB line is counted as too long and never buffered; the lines around it are kept")
    func tenMegabyteLine() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let huge = Self.line(path: Array("/".utf8) + [UInt8](repeating: 0x41, count: 10 << 20))
        let path = try directory.file("long.log", Self.goodLines(3) + huge + Self.goodLines(2))
        let summary = try Self.ingest([path], into: directory)
        #expect(summary.rejected == ["line_too_long": 1])
        #expect(summary.linesIngested == 5)
    }

    @Test("CRLF line ends are removed; a plain file's unterminated last line waits for the next run")
    func carriageReturnsAndNoFinalNewline() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let lines = Self.goodLines(5).flatMap { $0 == 10 ? [13, 10] : [$0] }
        let last = Array(Self.line(path: Array("/last".utf8)).dropLast())
        let path = try directory.file("crlf.log", lines + last)
        let first = try Self.ingest([path], into: directory)
        #expect(first.linesIngested == 5)
        #expect(first.notes.contains { $0.contains("have no newline yet") })
        #expect(try !Self.storedPaths(under: directory.path + "/data").contains { $0.contains("\r") })
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data([13, 10]))
        try handle.close()
        let second = try Self.ingest([path], into: directory)
        #expect(second.linesRead == 1 && second.linesIngested == 1)
        #expect(try Self.storedPaths(under: directory.path + "/data").contains("/last"))
    }

    // MARK: Times at the edges

    /// A common-log time and the epoch milliseconds it stores, or nil when it is rejected.
    static let edgeTimes: [(text: String, milliseconds: Int64?)] = [
        ("01/Jan/1970:00:00:00 +0000", 0),
        ("31/Dec/1969:19:00:00 -0500", 0),
        ("31/Dec/1969:23:59:59 +0000", nil),
        ("01/Jan/1970:00:30:00 +0100", nil),
        ("19/Jan/2038:03:14:08 +0000", 2_147_483_648_000),
        ("29/Feb/2024:12:00:00 +0000", 1_709_208_000_000),
        ("29/Feb/2023:12:00:00 +0000", nil),
        ("31/Feb/2026:12:00:00 +0000", nil),
        ("01/Nov/2026:12:00:00 +1400", 1_793_484_000_000),
        ("01/Nov/2026:12:00:00 -1200", 1_793_577_600_000),
        ("01/Nov/2026:12:00:00 +1401", nil),
        ("01/Nov/2026:12:00:00 +14a0", nil),
        ("01/Nov/2026:12:00:00 UTC+0", nil),
        ("31/Dec/9999:23:59:59 +0000", 253_402_300_799_000),
        ("31/Dec/9999:23:59:59 -1200", nil),
        ("01/Jan/0000:00:00:00 +1400", nil),
    ]

    @Test(
        "Times from 1970 to 9999 UTC are stored exactly; others, and impossible dates, are bad_timestamp",
        arguments: edgeTimes)
    func edgeTime(text: String, milliseconds: Int64?) {
        var parser = LogFormat.combined.makeParser()
        var record = AccessRecord()
        let bytes = Self.line(time: text).dropLast()
        let reason = Array(bytes).withUnsafeBytes { parser.parse($0, into: &record) }
        if let milliseconds {
            #expect(reason == nil)
            #expect(record.timestamp == milliseconds)
        } else {
            #expect(reason == .badTimestamp)
        }
    }

    @Test(
        "Epoch seconds too large for milliseconds are rejected, never an overflow trap",
        arguments: ["999999999999999999.999", "99999999999999999", "253402300800", "18446744073709551616"])
    func hugeEpochSeconds(value: String) throws {
        let format = try LogFormat.compile(#"$remote_addr [$msec] "$request" $status $body_bytes_sent"#)
        var parser = format.makeParser()
        var record = AccessRecord()
        let line = Array("198.51.100.77 [\(value)] \"GET / HTTP/1.1\" 200 1".utf8)
        #expect(line.withUnsafeBytes { parser.parse($0, into: &record) } == .badTimestamp)
    }

    @Test("With a retention period, lines dated after tomorrow are refused as in_the_future and make no key")
    func futureLines() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let today = Timestamp.dateText(dayNumber: Retention.today())
        let parts = today.split(separator: "-")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let now = "\(parts[2])/\(months[Int(parts[1])! - 1])/\(parts[0]):12:00:00 +0000"
        let path = try directory.file(
            "window.log",
            Self.line(path: Array("/now".utf8), time: now)
                + Self.line(path: Array("/far".utf8), time: "31/Dec/9999:23:59:59 +0000"))
        let summary = try Self.ingest([path], into: directory) { $0.batch.retentionDays = 365 }
        #expect(summary.rejected == [Retention.futureRejectReason: 1])
        #expect(try Self.storedPaths(under: directory.path + "/data") == ["/now"])
        let keys = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/data/_klogs/keys")
        #expect(!keys.contains { $0.contains("9999") })
        #expect(Retention.newestKeptDay(retentionDays: 0) == .max)
        #expect(Retention.newestKeptDay(retentionDays: 30, today: 100) == 101)
    }

    // MARK: Streams and bounds

    @Test("FIFOs, character devices and sockets are streams; files and directories are not")
    func streamsAreRecognised() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let fifo = directory.path + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(InputReader.isStream(path: fifo))
        #expect(InputReader.isStream(path: "/dev/null"))
        #expect(!InputReader.isStream(path: try directory.file("plain.log", [])))
        #expect(!InputReader.isStream(path: directory.path))
        #expect(!InputReader.isStream(path: directory.path + "/missing"))
    }

    @Test("A FIFO given as a path is read once, to its end, its last line included, and not put in the ledger")
    func fifoIngest() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let fifo = directory.path + "/access.fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let content = Self.goodLines(12) + Array(Self.line(path: Array("/unterminated".utf8)).dropLast())
        let writer = Thread {
            let descriptor = open(fifo, O_WRONLY)
            content.withUnsafeBytes { _ = write(descriptor, $0.baseAddress, $0.count) }
            close(descriptor)
        }
        writer.start()
        let summary = try Self.ingest([fifo], into: directory)
        #expect(summary.linesIngested == 13)
        #expect(summary.inputErrors.isEmpty)
        #expect(try Ledger.load(dataDirectory: directory.path + "/data").sources.isEmpty)
        #expect(DatasetVerifier.verify(dataDirectory: directory.path + "/data").problems.isEmpty)
    }

    @Test("The last newline of a chunk is found whatever its position", arguments: [0, 1, 4095, 4096, 4097, 9000])
    func lastNewlineSearch(position: Int) {
        var bytes = [UInt8](repeating: 0x41, count: 9001)
        #expect(bytes.withUnsafeBytes { lastNewline(in: $0) } == nil)
        bytes[position] = 10
        if position > 0 { bytes[position / 2] = 10 }
        #expect(bytes.withUnsafeBytes { lastNewline(in: $0) } == position)
        #expect([UInt8]().withUnsafeBytes { lastNewline(in: $0) } == nil)
    }

    @Test("Days with more distinct paths than the threshold get one warning each, oldest first")
    func cardinalityWarning() {
        let threshold = PathCardinality.warningThreshold
        let warnings = PathCardinality.warnings(distinctPathsByDay: [
            20_759: threshold + 1, 20_758: 1_000_000, 20_760: threshold,
        ])
        #expect(warnings.count == 2)
        #expect(warnings[0].hasPrefix("2026-11-01: high path cardinality, about 1,000,000 distinct paths"))
        #expect(warnings[1].hasPrefix("2026-11-02: high path cardinality, about 100,001 distinct paths"))
        #expect(warnings.allSatisfy { $0.contains("--path-rewrite") })
    }

    @Test("A partition writes its aggregates out before they outgrow the memory bound")
    func partitionBound() {
        let partition = Partition(day: 0)
        #expect(!partition.internersAreFull)
        for path in 0...1_000_000 {  // a day's aggregates: one hour, a million paths
            let key = HitKey(hour: 0, vhost: -1, path: Int32(path), status: 200, userAgentClass: 0, kind: 0)
            partition.hits.add(key, bytes: 0)
        }
        #expect(partition.internersAreFull)
    }
}
