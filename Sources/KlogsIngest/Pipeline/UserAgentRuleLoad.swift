import KlogsUserAgent

/// What an ingest needs of its rules file: the compiled rules and the vocabulary (see `UserAgentVocabulary`), both
/// from one read of the file (the vocabulary used to read it a second time).
///
/// Loading on a thread of its own, beside the lock, recovery and ledger, was tried and measured no faster on the
/// two-core machine (the rule set's analysis and PCRE2 compilation already keep both cores busy; see
/// `docs/USER-AGENTS.md`).
struct UserAgentRuleLoad {
    let rules: UserAgentRuleSet
    let vocabulary: UserAgentVocabulary

    /// Reads the rules file at `path` and compiles it.
    ///
    /// - Throws: the ``UserAgentError`` that reading or compiling the rules met.
    init(path: String) throws(UserAgentError) {
        let text = try UserAgentRules.text(ofFile: path)
        rules = try UserAgentRuleSet(UserAgentRules(yaml: text, source: path))
        vocabulary = UserAgentVocabulary(rulesText: text)
    }
}
