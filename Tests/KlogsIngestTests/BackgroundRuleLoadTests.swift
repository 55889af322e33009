import Foundation
import KlogsCore
import KlogsGenerator
import KlogsParquet
import KlogsTestSupport
import KlogsUserAgent
import Testing

@testable import KlogsIngest

/// The rules load on a thread of their own while the parallel workers parse their first chunks: a line parsed
/// before the rules came must get the class and kind it would have got after (`ChunkWorker`), and rules that do
/// not load must fail the run, not just the chunk.
@Suite struct BackgroundRuleLoadTests {
    /// A new worker over `rules`.
    func worker(over rules: BackgroundRuleLoad) throws -> ChunkWorker {
        let configuration = IngestConfiguration(dataDirectory: "/nonexistent", inputs: [])
        return try ChunkWorker(
            index: 0, configuration: configuration, format: .combined, rules: rules, sharedClassifications: nil,
            dayKeys: nil)
    }

    /// A batch holding `lines` (whole lines), as the reader fills one.
    func chunk(_ lines: ArraySlice<UInt8>, sequence: Int = 0, last: Bool = true) -> ChunkBatch {
        let batch = ChunkBatch(capacity: lines.count)
        lines.withUnsafeBytes { batch.storage.copyMemory(from: $0) }
        batch.byteCount = lines.count
        batch.sequence = sequence
        batch.finishesInput = last
        return batch
    }

    /// A chunk of generated lines (bots' pages among them), parsed by a new worker over `rules`: handed to the
    /// sequencer at once, or after waiting for the rules.
    func parsed(by rules: BackgroundRuleLoad) throws -> ChunkBatch {
        let worker = try worker(over: rules)
        var ready = worker.parse(chunk(ParallelIngestTests.generatedLog(lines: 3_000, seed: 12)[...]))
        if ready.isEmpty { ready = worker.finishWaiting() }
        #expect(ready.count == 1 && !worker.hasWaitingChunks)
        return ready[0]
    }

    @Test func linesParsedBeforeTheRulesCameGetTheClassesAndKindsOfLinesParsedAfter() throws {
        let loaded = BackgroundRuleLoad(path: UserAgentRules.defaultPath)
        _ = try loaded.rules()  // there before the worker starts: every line is classified as it is parsed
        // Ready long after the worker has started: its lines get provisional ids, settled at the end of the chunk.
        let late = BackgroundRuleLoad { () throws(UserAgentError) in
            Thread.sleep(forTimeInterval: 0.3)
            return try UserAgentRuleLoad(path: UserAgentRules.defaultPath)
        }
        let (direct, settled) = (try parsed(by: loaded), try parsed(by: late))
        #expect(direct.failure == nil && settled.failure == nil && direct.rowCount > 2_500)
        #expect(Array(settled.userAgentClassIds.all) == Array(direct.userAgentClassIds.all))
        #expect(Array(settled.kinds.all) == Array(direct.kinds.all))
        #expect(settled.newUserAgentClasses == direct.newUserAgentClasses)
        // The fix-up had work to do: bots' pages are `other`, which a provisional line first took for a page.
        let botOther = zip(direct.userAgentClassIds.all, direct.kinds.all).filter { classId, kind in
            direct.newUserAgentClasses[Int(classId)].isBot && kind == RequestCategory.other.rawValue
        }
        #expect(!botOther.isEmpty)
    }

    @Test func chunksParsedBeforeTheRulesCameWaitAndComeOutInOrderWithTheClassesOfChunksParsedAfter() throws {
        let log = ParallelIngestTests.generatedLog(lines: 3_000, seed: 13)
        let cut = log[..<(log.count / 2)].lastIndex(of: UInt8(ascii: "\n"))! + 1
        let halves = [log[..<cut], log[cut...]]
        let loaded = BackgroundRuleLoad(path: UserAgentRules.defaultPath)
        _ = try loaded.rules()
        let direct = try worker(over: loaded)
        let expected = halves.enumerated().flatMap { index, lines in
            direct.parse(chunk(lines, sequence: index, last: index == 1))
        }
        let gate = NSCondition()
        nonisolated(unsafe) var open = false
        let late = BackgroundRuleLoad { () throws(UserAgentError) in
            gate.lock()
            while !open { gate.wait() }
            gate.unlock()
            return try UserAgentRuleLoad(path: UserAgentRules.defaultPath)
        }
        let waiting = try worker(over: late)
        // Both chunks are parsed before the rules come: neither can go to the sequencer yet.
        #expect(waiting.parse(chunk(halves[0], sequence: 0, last: false)).isEmpty)
        #expect(waiting.parse(chunk(halves[1], sequence: 1)).isEmpty)
        #expect(waiting.hasWaitingChunks)
        gate.lock()
        open = true
        gate.broadcast()
        gate.unlock()
        let settled = waiting.finishWaiting()
        #expect(settled.map(\.sequence) == [0, 1] && expected.map(\.sequence) == [0, 1] && !waiting.hasWaitingChunks)
        for (batch, reference) in zip(settled, expected) {
            #expect(batch.failure == nil && batch.rowCount == reference.rowCount && batch.rowCount > 1_000)
            #expect(Array(batch.userAgentClassIds.all) == Array(reference.userAgentClassIds.all))
            #expect(Array(batch.kinds.all) == Array(reference.kinds.all))
            // Each chunk lists the classes first used in it, as the sequencer needs them.
            #expect(batch.newUserAgentClasses == reference.newUserAgentClasses)
        }
    }

    /// A rule load that waits until `open()` is called.
    final class GatedRuleLoad: @unchecked Sendable {
        private let gate = NSCondition()
        private var isOpen = false  // guarded by `gate`
        private(set) lazy var load = BackgroundRuleLoad { () throws(UserAgentError) in
            self.gate.lock()
            while !self.isOpen { self.gate.wait() }
            self.gate.unlock()
            return try UserAgentRuleLoad(path: UserAgentRules.defaultPath)
        }

        func open() {
            gate.lock()
            isOpen = true
            gate.broadcast()
            gate.unlock()
        }
    }

    /// The single-threaded path's processor over `rules`, writing nothing (its row groups stay pending).
    func processor(over rules: BackgroundRuleLoad, in directory: TemporaryDirectory) throws -> LineProcessor {
        let configuration = IngestConfiguration(dataDirectory: directory.path, inputs: [])
        let writer = DatasetWriter(
            root: directory.path, runIdentifier: "test", ipMode: .truncate, compression: .lz4Raw, writeEvents: true,
            rowGroupRows: 1 << 20)
        return try LineProcessor(
            configuration: configuration, writer: writer,
            userAgents: UserAgentTable(classifier: nil, vocabulary: nil), keys: nil, rules: rules)
    }

    /// Feeds `log` to the processor line by line.
    func feed(_ log: [UInt8], to processor: inout LineProcessor) throws {
        var splitter = LineSplitter()
        try log.withUnsafeBytes { bytes in
            try splitter.feed(bytes) { number, line in try processor.process(line, number: number) }
        }
    }

    @Test func theSingleThreadedPathReadsOnBeforeTheRulesComeAndGivesItsLinesTheClassesAndSumsTheyWouldHaveGot()
        throws
    {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var generator = LogGenerator(LogGenerator.Configuration(lines: 4_000, seed: 21, malformedFraction: 0.02))
        let log = generator.generateAll()
        let loaded = BackgroundRuleLoad(path: UserAgentRules.defaultPath)
        _ = try loaded.rules()
        var direct = try processor(over: loaded, in: directory)
        try direct.installRules()  // there before the first line: every line is classified as it is read
        try feed(log, to: &direct)
        #expect(direct.linesAwaitingClasses == 0)

        let late = GatedRuleLoad()
        var waiting = try processor(over: late.load, in: directory)
        try feed(log, to: &waiting)
        // Every line was read without the rules (the gate is still closed): none has its class yet.
        #expect(waiting.linesAwaitingClasses == Int(waiting.linesIngested) && waiting.linesIngested > 3_500)
        late.open()
        try waiting.installRules()
        #expect(waiting.linesAwaitingClasses == 0)

        let (settled, reference) = (try #require(waiting.currentPartition), try #require(direct.currentPartition))
        #expect(settled.userAgentClassIds == reference.userAgentClassIds)
        #expect(settled.kinds == reference.kinds)
        #expect(waiting.userAgents.classes == direct.userAgents.classes)
        let (sums, referenceSums) = (settled.hits.drainSorted(), reference.hits.drainSorted())
        #expect(sums.count == referenceSums.count && sums.count > 1_000)
        #expect(sums.userAgentClasses == referenceSums.userAgentClasses && sums.kinds == referenceSums.kinds)
        #expect(sums.paths == referenceSums.paths && sums.hits == referenceSums.hits)
        #expect(sums.bytes == referenceSums.bytes)
        // The settling had work to do: bots' pages are `other`, which a provisional line first took for a page.
        let botOther = zip(reference.userAgentClassIds, reference.kinds).filter { classId, kind in
            direct.userAgents.isBot(classId) && kind == RequestCategory.other.rawValue
        }
        #expect(!botOther.isEmpty)
    }

    /// Runs of one thread whose rules come late: lines read before them wait for them at a new day, a row group,
    /// or full aggregates, and the dataset is the one of a run whose rules were there from the start.
    @Test(arguments: [nil, 150, 1_000_000], [true, false])
    func aSingleThreadedRunWhoseRulesComeLateWritesTheSameDataset(hitsLimit: Int?, writeEvents: Bool) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.file("access.log", ParallelIngestTests.generatedLog(seed: 22))
        let ingest = ParallelIngestTests()
        func adjust(_ configuration: inout IngestConfiguration) {
            configuration.writeEvents = writeEvents
            configuration.ipMode = .truncate
            if let hitsLimit { configuration.partitionLimits.hits = hitsLimit }
        }
        let reference = try ingest.run([path], data: directory.path + "/reference", threads: 1, ruleDelay: 0, adjust)
        let late = try ingest.run([path], data: directory.path + "/late", threads: 1, ruleDelay: 0.2, adjust)
        #expect(!reference.files.isEmpty)
        #expect(late == reference)
    }

    /// The first run with a rule cache analyses the rules and stores them; the second reads them from the cache;
    /// both write what a run without a cache writes, on one thread and on two.
    @Test(arguments: [1, 2])
    func runsWhoseRulesComeFromTheCacheWriteTheSameDataset(threads: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.file("access.log", ParallelIngestTests.generatedLog(seed: 23))
        let cache = UserAgentRuleCache(directory: directory.path + "/cache")
        let ingest = ParallelIngestTests()
        func truncating(_ configuration: inout IngestConfiguration) { configuration.ipMode = .truncate }
        func cached(_ configuration: inout IngestConfiguration) {
            configuration.ipMode = .truncate
            configuration.userAgentRuleCache = cache
        }
        let reference = try ingest.run([path], data: directory.path + "/reference", threads: threads, truncating)
        let storing = try ingest.run([path], data: directory.path + "/storing", threads: threads, cached)
        // A stored file is renamed into place: a file number that stays the same means the second run read it.
        func cacheFileNumbers() throws -> [Int] {
            try FileManager.default.contentsOfDirectory(atPath: cache.directory).map {
                try FileManager.default.attributesOfItem(atPath: cache.directory + "/" + $0)[.systemFileNumber] as! Int
            }
        }
        let stored = try cacheFileNumbers()
        #expect(stored.count == 1)
        let reading = try ingest.run([path], data: directory.path + "/reading", threads: threads, cached)
        #expect(!reference.files.isEmpty)
        #expect(storing == reference)
        #expect(reading == reference)
        #expect(try cacheFileNumbers() == stored)
    }

    @Test func rulesThatDoNotLoadFailTheChunkWithNoRowsAndAnErrorThatEndsTheRun() throws {
        let failing = BackgroundRuleLoad { () throws(UserAgentError) in
            Thread.sleep(forTimeInterval: 0.1)
            throw UserAgentError.cannotReadRules(path: "/nonexistent/regexes.yaml", reason: "No such file")
        }
        let batch = try parsed(by: failing)
        #expect(batch.rowCount == 0)
        // Not an `IngestError`: those end only their input, and the run would commit what it read.
        #expect(batch.failure is UserAgentError && !(batch.failure is IngestError))
        #expect(failing.failure == .cannotReadRules(path: "/nonexistent/regexes.yaml", reason: "No such file"))
    }
}
