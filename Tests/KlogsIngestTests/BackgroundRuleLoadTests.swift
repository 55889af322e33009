import Foundation
import KlogsCore
import KlogsUserAgent
import Testing

@testable import KlogsIngest

/// The rules load on a thread of their own while the parallel workers parse their first chunks: a line parsed
/// before the rules came must get the class and kind it would have got after (`ChunkWorker`), and rules that do
/// not load must fail the run, not just the chunk.
@Suite struct BackgroundRuleLoadTests {
    /// A chunk of generated lines (bots' pages among them), parsed by a new worker over `rules`.
    func parsed(by rules: BackgroundRuleLoad) throws -> ChunkBatch {
        let log = ParallelIngestTests.generatedLog(lines: 3_000, seed: 12)
        let configuration = IngestConfiguration(dataDirectory: "/nonexistent", inputs: [])
        let worker = try ChunkWorker(
            index: 0, configuration: configuration, format: .combined, rules: rules, sharedClassifications: nil,
            dayKeys: nil)
        let batch = ChunkBatch(capacity: log.count)
        log.withUnsafeBytes { batch.storage.copyMemory(from: $0) }
        batch.byteCount = log.count
        batch.finishesInput = true
        worker.parse(batch)
        return batch
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
