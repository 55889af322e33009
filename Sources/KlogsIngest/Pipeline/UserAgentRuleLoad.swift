internal import Foundation
import KlogsUserAgent

/// What an ingest needs of its rules file: the compiled rules and the vocabulary (see `UserAgentVocabulary`), both
/// from one read of the file (the vocabulary used to read it a second time).
struct UserAgentRuleLoad: Sendable {
    let rules: UserAgentRuleSet
    let vocabulary: UserAgentVocabulary

    /// Reads the rules file at `path` and compiles it, taking its analysis from `cache` when the cache holds it.
    ///
    /// - Throws: the ``UserAgentError`` that reading or compiling the rules met.
    init(path: String, cache: UserAgentRuleCache? = nil) throws(UserAgentError) {
        let text = try UserAgentRules.text(ofFile: path)
        // The vocabulary is read beside the YAML: the two are the load's serial steps.
        nonisolated(unsafe) var words: UserAgentVocabulary? = nil
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { words = UserAgentVocabulary(rulesText: text) }
        let compiled = Result { () throws(UserAgentError) in
            // A cache that cannot be written to only makes the next run analyse the rules again.
            if let cache { return try cache.ruleSet(yaml: text, source: path).0 }
            return try UserAgentRuleSet(UserAgentRules(yaml: text, source: path))
        }
        group.wait()
        rules = try compiled.get()
        vocabulary = words!  // safe: set by the task that `group.wait()` waited for
    }
}

/// A `UserAgentRuleLoad` on a thread of its own, started when a run starts, so that the run's other set-up and the
/// parallel pipeline's first chunks go on meanwhile (`ChunkWorker` classifies the lines it parsed before the rules
/// came once they are there).
///
/// The load keeps both cores busy only part of the time (reading the YAML and the vocabulary run on one): loaded
/// before anything else, as it was, it left a core idle for some 10 ms of a 25 ms load in a fresh process.
/// Loading on a thread beside the lock, recovery and ledger alone was tried earlier and measured no faster: those
/// take a few milliseconds; parsing the first chunks takes longer than the load.
final class BackgroundRuleLoad: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<UserAgentRuleLoad, UserAgentError>?  // guarded by `condition`

    /// Starts loading the rules file at `path`, with the analysis in `cache` if it holds it.
    convenience init(path: String, cache: UserAgentRuleCache? = nil) {
        self.init { () throws(UserAgentError) in try UserAgentRuleLoad(path: path, cache: cache) }
    }

    /// Starts `load` on a thread of its own (tests give a load that takes its time or fails).
    init(_ load: @escaping @Sendable () throws(UserAgentError) -> UserAgentRuleLoad) {
        let thread = Thread { [self] in
            let loaded = Result { () throws(UserAgentError) in try load() }
            HeapHugePages.adviseGrowth()  // the rules' room is in use: what the heap grows by next is advised
            condition.lock()
            result = loaded
            condition.broadcast()
            condition.unlock()
        }
        thread.name = "klogs rules"
        thread.start()
    }

    /// Whether the load has finished, well or not: ``rules()`` would not wait.
    var isFinished: Bool {
        condition.lock()
        defer { condition.unlock() }
        return result != nil
    }

    /// The loaded rules, once they are there.
    ///
    /// - Throws: the ``UserAgentError`` that reading or compiling the rules met.
    func rules() throws(UserAgentError) -> UserAgentRuleLoad {
        condition.lock()
        while result == nil { condition.wait() }
        let finished = result!  // safe: the loop ends only once it is set
        condition.unlock()
        return try finished.get()
    }

    /// The error that the load met, waiting for it to finish; nil when the rules loaded.
    var failure: UserAgentError? {
        do {
            _ = try rules()
            return nil
        } catch {
            return error
        }
    }
}
