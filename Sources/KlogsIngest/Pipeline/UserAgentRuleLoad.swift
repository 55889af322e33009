import Dispatch
internal import Foundation
import KlogsUserAgent

/// The user-agent rules of an ingest, compiled on a thread of their own while the run's start-up (the lock,
/// recovery, the ledger and the key store, with their fsyncs) goes on, instead of after it.
///
/// The rules file is read once: its text gives both the compiled rules and the vocabulary (see
/// `UserAgentVocabulary`), which the waiting thread builds while the rules compile.
///
/// A thread of its own, not a task on `DispatchQueue.global()`: that pool has one worker per core, and the rule
/// set's PCRE2 compilation and prefilter analysis need them both; a load occupying one would run the analysis on
/// one core.
final class UserAgentRuleLoad: @unchecked Sendable {
    /// What a run needs of its rules file.
    struct Loaded {
        let rules: UserAgentRuleSet
        let vocabulary: UserAgentVocabulary
    }

    private let text: Result<String, UserAgentError>
    private let done = DispatchSemaphore(value: 0)
    // Written by the loading thread before it signals `done`, read only after waiting for it: hence unchecked.
    private var rules: Result<UserAgentRuleSet, UserAgentError>?

    /// Reads the rules file at `path` and starts compiling it.
    init(path: String) {
        text = Result { () throws(UserAgentError) in try UserAgentRules.text(ofFile: path) }
        guard case .success(let text) = text else { return }
        let thread = Thread { [self] in
            rules = Result { () throws(UserAgentError) in
                try UserAgentRuleSet(UserAgentRules(yaml: text, source: path))
            }
            done.signal()
        }
        thread.start()
    }

    /// Builds the vocabulary, then waits for the rules.
    ///
    /// - Throws: the ``UserAgentError`` that reading or compiling the rules met.
    func wait() throws(UserAgentError) -> Loaded {
        let vocabulary = UserAgentVocabulary(rulesText: try text.get())
        done.wait()
        // Safe because the semaphore is signalled only after the loading thread has set `rules`.
        return Loaded(rules: try rules!.get(), vocabulary: vocabulary)
    }
}
