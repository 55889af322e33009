import Foundation
import KlogsCore
import KlogsGenerator
import KlogsTestSupport
import KlogsUserAgent
import Testing

@testable import KlogsIngest

/// The parallel pipeline (`--threads N`) against the single-threaded path: the same inputs must give the same
/// dataset byte for byte, the same summary, reject report and ledger, whatever the thread count and chunk size.
@Suite struct ParallelIngestTests {
    /// Everything a run leaves that a person or a later run reads.
    struct Outcome: Equatable, CustomStringConvertible {
        /// Every Parquet file's bytes, by path relative to the data directory.
        var files: [String: [UInt8]]
        /// The JSON summary without its timings, and the notes and errors of the text summary.
        var summary: String
        var notes: [String]
        var rejects: String
        /// The ledger without its update times.
        var ledger: Ledger

        var description: String {
            "\(files.count) files (\(files.keys.sorted())), \(summary), notes \(notes)"
        }
    }

    /// The generated multi-day log of these tests: malformed lines, IPv6 clients and bots included.
    static func generatedLog(lines: Int = 8_000, seed: UInt64 = 8, format: LogGenerator.Format = .combined)
        -> [UInt8]
    {
        var generator = LogGenerator(
            LogGenerator.Configuration(
                lines: lines, seed: seed, days: 3, format: format, malformedFraction: 0.02, ipv6Fraction: 0.1))
        return generator.generateAll()
    }

    /// Ingests `inputs` into `data` with `threads` threads and `chunkBytes` chunks; the pseudonym keys are those
    /// of `keysFrom` (an earlier run's data directory), so the `visitor` columns can be compared. With `ruleDelay`,
    /// the rules come that many seconds after the run starts, or before it with 0.
    func run(
        _ inputs: [String], data: String, threads: Int, chunkBytes: Int = 16 * 1024, keysFrom: String? = nil,
        ruleDelay: Double? = nil, _ adjust: (inout IngestConfiguration) -> Void = { _ in }
    ) throws -> Outcome {
        if let keysFrom, FileManager.default.fileExists(atPath: keysFrom + "/_klogs/keys"),
            !FileManager.default.fileExists(atPath: data + "/_klogs/keys")
        {
            try FileManager.default.createDirectory(atPath: data + "/_klogs", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: keysFrom + "/_klogs/keys", toPath: data + "/_klogs/keys")
        }
        var configuration = IngestConfiguration(dataDirectory: data, inputs: inputs)
        configuration.threads = threads
        configuration.pipelineChunkBytes = chunkBytes
        configuration.keyGraceSeconds = 366 * 86_400  // the generated days keep their stored keys
        configuration.rejectsPath = data + ".rejects"
        configuration.rowGroupRows = 2_000  // several row groups per partition
        adjust(&configuration)
        let summary: IngestSummary
        do {
            let ingestor = Ingestor(configuration: configuration)
            if let ruleDelay {
                ingestor.loadRules = { path in
                    let load = BackgroundRuleLoad { () throws(UserAgentError) in
                        Thread.sleep(forTimeInterval: ruleDelay)
                        return try UserAgentRuleLoad(path: path)
                    }
                    if ruleDelay == 0 { _ = try? load.rules() }
                    return load
                }
            }
            summary = try ingestor.run()
        } catch let failure as IngestFailure {
            // A failed run is compared by what it said and what it left.
            summary = failure.summary ?? IngestSummary()
            return try outcome(of: data, summary: summary, extraNote: "failed: \(failure.message)")
        }
        return try outcome(of: data, summary: summary)
    }

    private func outcome(of data: String, summary: IngestSummary, extraNote: String? = nil) throws -> Outcome {
        var files: [String: [UInt8]] = [:]
        let enumerator = FileManager.default.enumerator(atPath: data)
        while let name = enumerator?.nextObject() as? String {
            guard name.hasSuffix(".parquet") else { continue }
            files[name] = Array(try Data(contentsOf: URL(fileURLWithPath: data + "/" + name)))
        }
        let timing = #/"elapsed_seconds":[0-9.]+,"lines_per_second":[0-9]+,/#
        var ledger = (try? Ledger.load(dataDirectory: data)) ?? Ledger()
        for index in ledger.sources.indices { ledger.sources[index].updated = "" }
        return Outcome(
            files: files, summary: summary.json.replacing(timing, with: ""),
            notes: summary.notes + summary.inputErrors + summary.warnings + [extraNote].compactMap { $0 },
            rejects: (try? String(contentsOfFile: data + ".rejects", encoding: .utf8)) ?? "",
            ledger: ledger)
    }

    /// Runs the inputs with one thread, then with each thread count into fresh data directories, and expects the
    /// same outcome every time.
    func expectSameOutcome(
        _ inputs: [String], in directory: TemporaryDirectory, threads: [Int] = [2, 3, 8],
        chunkBytes: [Int] = [16 * 1024], writesFiles: Bool = true,
        _ adjust: (inout IngestConfiguration) -> Void = { _ in }
    ) throws {
        let reference = directory.path + "/reference"
        let expected = try run(inputs, data: reference, threads: 1, adjust)
        #expect(expected.files.isEmpty != writesFiles)
        for count in threads {
            for size in chunkBytes {
                let data = directory.path + "/threads-\(count)-chunk-\(size)"
                let outcome = try run(inputs, data: data, threads: count, chunkBytes: size, keysFrom: reference, adjust)
                #expect(outcome == expected, "\(count) threads, \(size)-byte chunks")
            }
        }
    }

    @Test(arguments: [2, 3, 8])
    func aMultiDayLogGivesTheSameDatasetWithAnyThreadCount(threads: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.file("access.log", Self.generatedLog())
        try expectSameOutcome([path], in: directory, threads: [threads], chunkBytes: [1_000, 16 * 1024, 4 << 20])
    }

    @Test(arguments: ["hash,truncate", "truncate", "drop"])
    func everyIPModeAndNoEventsGiveTheSameDataset(mode: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.file("access.log", Self.generatedLog(seed: 9))
        try expectSameOutcome([path], in: directory, threads: [2]) { $0.ipMode = IPMode(parsing: mode) ?? .hash }
        let second = try TemporaryDirectory()
        defer { second.remove() }
        try expectSameOutcome([path], in: second, threads: [3]) {
            $0.ipMode = IPMode(parsing: mode) ?? .hash
            $0.writeEvents = false
        }
    }

    @Test func gzipAndMultiMemberGzipGiveTheSameDataset() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let text = Self.generatedLog(seed: 10)
        // Members split in the middle of a line, and a last line without a newline (read: the file is finished).
        let cut = text.count / 3 + 17
        let single = try directory.file("one.log.gz", gzip(text))
        let multi = try directory.file(
            "multi.log.gz", gzip(Array(text[..<cut])) + gzip(Array(text[cut...].dropLast())))
        try expectSameOutcome([single], in: directory, threads: [2, 3])
        let second = try TemporaryDirectory()
        defer { second.remove() }
        try expectSameOutcome([multi], in: second, threads: [2, 3], chunkBytes: [1_000, 16 * 1024])
    }

    @Test func aTruncatedGzipKeepsTheSameLinesAndReportsTheSameError() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let compressed = gzip(Self.generatedLog(seed: 11))
        let path = try directory.file("cut.log.gz", Array(compressed.prefix(compressed.count * 2 / 3)))
        try expectSameOutcome([path], in: directory, threads: [2, 3])
    }

    @Test func aPlainFileIsResumedFromTheLedgerAtTheSameLine() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let text = Self.generatedLog(seed: 12)
        // First run: the file ends in the middle of a line (not read yet); the second run reads the rest.
        let cut = text.count / 2 + 31
        let path = directory.path + "/growing.log"
        var outcomes: [Int: [Outcome]] = [:]
        for threads in [1, 2, 3] {
            try Data(text[..<cut]).write(to: URL(fileURLWithPath: path))
            let data = directory.path + "/data-\(threads)"
            let keys = threads == 1 ? nil : directory.path + "/data-1"
            let first = try run([path], data: data, threads: threads, chunkBytes: 4_096, keysFrom: keys)
            try Data(text).write(to: URL(fileURLWithPath: path))
            let second = try run([path], data: data, threads: threads, chunkBytes: 4_096, keysFrom: keys)
            outcomes[threads] = [first, second]
        }
        #expect(outcomes[1]?[0].notes.contains { $0.contains("have no newline yet") } == true)
        #expect(outcomes[2] == outcomes[1])
        #expect(outcomes[3] == outcomes[1])
    }

    @Test func overlongLinesAndEmptyLinesAreCountedAtTheSameLineNumbers() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let log = Self.generatedLog(lines: 3_000, seed: 13)
        let maximum = LineSplitter().maximumLineLength
        // Lines just past the limit, longer than a whole chunk, and one at the very end without a newline.
        var text = Array(log[..<(log.count / 3)])
        text += Array(repeating: UInt8(ascii: "x"), count: maximum + 1) + [10, 10, 13, 10]
        text += Array(log[(log.count / 3)..<(log.count * 2 / 3)])
        text += Array(repeating: UInt8(ascii: "y"), count: 3 * maximum) + [10]
        text += Array(log[(log.count * 2 / 3)...])
        text += Array(repeating: UInt8(ascii: "z"), count: maximum + 5)
        let path = try directory.file("long.log", text)
        try expectSameOutcome([path], in: directory, threads: [2, 3], chunkBytes: [1_000, maximum, 8 * maximum])
    }

    @Test func autoDetectionChoosesTheSameFormatFromTheSameSample() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // A common-format log split into small files: the detection sample spans several of them.
        let text = Self.generatedLog(lines: 4_000, seed: 14, format: .common)
        var paths: [String] = []
        var start = 0
        for index in 0..<8 {
            let size = index < 4 ? 600 : (text.count - start) / (8 - index)
            var end = min(text.count, start + size)
            while end < text.count && text[end - 1] != 10 { end += 1 }
            paths.append(try directory.file("part-\(index).log", Array(text[start..<end])))
            start = end
        }
        try expectSameOutcome(paths, in: directory, threads: [2, 3]) { $0.format = nil }
    }

    @Test func aLogNoFormatFitsFailsTheSameWay() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let lines = (0..<200).map { "not a log line \($0)\n" }.joined()
        let path = try directory.file("notes.txt", Array(lines.utf8))
        try expectSameOutcome([path], in: directory, threads: [2], writesFiles: false) { $0.format = nil }
    }

    @Test(arguments: [true, false])
    func partitionsThatFillUpWithinAChunkGiveTheSameDataset(writeEvents: Bool) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.file("access.log", Self.generatedLog(seed: 17))
        // Tiny limits: each day's interners and aggregates are written out and forgotten many times, within
        // chunks, so the sequencer adds rows one by one near a limit and whole chunks elsewhere.
        try expectSameOutcome([path], in: directory, threads: [2, 3], chunkBytes: [4_096, 16 * 1024, 4 << 20]) {
            $0.partitionLimits = Partition.Limits(
                paths: 300, pathBytes: 6_000, hits: 500, referrerHosts: 40, clientNetworks: 250)
            $0.ipMode = IPMode(parsing: "hash,truncate") ?? .hash
            $0.writeEvents = writeEvents
        }
    }

    @Test func severalFilesWithRetentionAndLateDaysGiveTheSameDataset() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let first = try directory.file("a.log", Self.generatedLog(lines: 5_000, seed: 15))
        let second = try directory.file("b.log.gz", gzip(Self.generatedLog(lines: 5_000, seed: 16)))
        // The first generated day is past the retention period; the others are kept.
        let firstDay = 1_793_491_200 / 86_400
        try expectSameOutcome([first, second, first], in: directory, threads: [2, 3]) {
            $0.batch.retentionDays = Retention.today() - firstDay - 1
        }
    }
}
