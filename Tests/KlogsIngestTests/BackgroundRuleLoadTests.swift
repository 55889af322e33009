import Foundation
import KlogsCore
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
