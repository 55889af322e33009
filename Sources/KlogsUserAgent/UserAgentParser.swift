import Dispatch

/// The uap-core rules compiled once: three lists of PCRE2 patterns plus the literal prefilter that picks, for a given
/// user agent, the few rules worth running.
///
/// Immutable after `init`, so one rule set can be shared by the parsers of several threads (each parser brings its
/// own match scratch).
public final class UserAgentRuleSet: Sendable {
    let browser: CompiledRuleList
    let os: CompiledRuleList
    let device: CompiledRuleList
    let prefilter: LiteralPrefilter
    /// The largest capture count of any rule.
    let maximumCaptures: Int
    /// Where the rules came from.
    public let source: String
    /// The rules as parsed, and the tails of their patterns (rule order): with ``prefilter``, what
    /// ``UserAgentRuleCache`` keeps.
    let rules: UserAgentRules
    let patternTails: [PatternTail?]

    /// The capture counts of every pattern and tail, in rule order (see ``KnownCaptureCounts``).
    var captureCounts: (patterns: [Int32], tails: [Int32]) {
        let lists = [browser, os, device].map(\.captureCounts)
        return (lists.flatMap(\.patterns), lists.flatMap(\.tails))
    }

    /// Compiles `rules`: every pattern with PCRE2 (which also checks it), and the prefilter.
    ///
    /// The JIT is left to the rules' own use: a rule is JIT-compiled on its ``CompiledPattern/jitThreshold``-th
    /// match, by whichever thread gets there first, and published atomically. An ingest of the generated log earns
    /// it for some 40 of the ~1,200 rules; compiling every rule at load cost some 106 M instructions (25–50 ms of
    /// wall time on two cores) on every run. Measured: see `docs/USER-AGENTS.md`.
    ///
    /// - Throws: ``UserAgentError/invalidRegex(source:line:regex:offset:reason:)`` naming the first bad rule.
    /// - Complexity: about 1,200 compilations for uap-core; see `docs/USER-AGENTS.md` for timings.
    /// - Parameters:
    ///   - rules: the parsed `regexes.yaml`.
    ///   - usePrefilter: false tries every rule in order for every user agent (slow; the reference behaviour the
    ///     prefilter must reproduce).
    public convenience init(_ rules: UserAgentRules, usePrefilter: Bool = true) throws(UserAgentError) {
        // The prefilter's analysis runs on all cores first; then the PCRE2 compilation (one thread) runs beside
        // the rest of the prefilter's build (one thread): the two take about as long. (Not one concurrentPerform for
        // all of it: a nested concurrentPerform runs serially, which would cost the analysis its cores.)
        let analysis = LiteralPrefilter.Analysis(rules, enabled: usePrefilter)
        try self.init(rules, usePrefilter: usePrefilter, tails: analysis.tails) {
            LiteralPrefilter(rules, analysis, markers: BotSignals.markers)
        }
    }

    /// Compiles `rules` with PCRE2 while `prefilter` makes their prefilter (built from the analysis, or read from
    /// ``UserAgentRuleCache``).
    ///
    /// - Parameters:
    ///   - tails: the rules' ``PatternTail``s, in rule order (browser, OS, device).
    ///   - known: the capture counts of the patterns and tails (``KnownCaptureCounts``, in rule order), when the
    ///     rules compiled before: they are then compiled on their first match.
    init(
        _ rules: UserAgentRules, usePrefilter: Bool, tails: [PatternTail?],
        known: (patterns: [Int32], tails: [Int32])? = nil, prefilter: () -> LiteralPrefilter
    ) throws(UserAgentError) {
        nonisolated(unsafe) var lists: Result<[CompiledRuleList], UserAgentError>? = nil
        let compilation = DispatchGroup()
        DispatchQueue.global().async(group: compilation) {
            lists = Result { () throws(UserAgentError) in
                var first = 0
                return try UserAgentRules.Kind.allCases.map { kind throws(UserAgentError) in
                    let count = rules.rules(kind).count
                    defer { first += count }
                    let range = first..<(first + count)
                    return try CompiledRuleList(
                        rules, kind: kind, rewrite: usePrefilter, tails: tails[range],
                        known: known.map { KnownCaptureCounts(patterns: $0.patterns[range], tails: $0.tails[range]) })
                }
            }
        }
        self.prefilter = prefilter()
        compilation.wait()
        // Safe because the group's wait returns only after the compilation has set `lists`.
        let compiled = try lists!.get()
        (browser, os, device) = (compiled[0], compiled[1], compiled[2])
        maximumCaptures = max(browser.maximumCaptures, os.maximumCaptures, device.maximumCaptures)
        source = rules.source
        self.rules = rules
        patternTails = tails
    }

    /// JIT-compiles every rule that is not compiled yet, on all cores: for a steady-state measurement, or a caller
    /// that prefers to pay the whole JIT up front.
    public func compileEveryRule() {
        let patterns = [browser, os, device].flatMap { $0.patterns + $0.tails.compactMap { $0?.pattern } }
        let chunkCount = min(patterns.count, 16)
        guard chunkCount > 0 else { return }
        DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
            let range = (patterns.count * chunk / chunkCount)..<(patterns.count * (chunk + 1) / chunkCount)
            for index in range { patterns[index].compileJITNow() }
        }
    }

    /// Reads and compiles a `regexes.yaml`.
    ///
    /// - Throws: ``UserAgentError`` naming the file and, for a bad rule, its line and regex.
    public convenience init(contentsOfFile path: String = UserAgentRules.defaultPath) throws(UserAgentError) {
        try self.init(UserAgentRules(contentsOfFile: path))
    }
}

/// Parses user agents with uap-core semantics: for each of the three lists, the first rule (in file order) whose
/// regex matches gives the result, with `$1`…`$9` substituted into its replacements; `Other` when none matches.
///
/// ```swift
/// let parser = try UserAgentParser(rules: UserAgentRuleSet())
/// parser.parse("Mozilla/5.0 (Windows NT 10.0; Win64; x64) … Chrome/120.0.0.0 Safari/537.36").browser.family  // "Chrome"
/// ```
///
/// Not thread-safe (it owns the PCRE2 match data): use one parser per thread, sharing the ``UserAgentRuleSet``.
public final class UserAgentParser {
    /// The compiled rules this parser runs.
    public let rules: UserAgentRuleSet
    private let scratch: MatchScratch
    private let prefilterScratch: LiteralPrefilter.Scratch
    /// The bot-signal markers (``BotSignals/markers``) found by the last `parse`.
    var lastMarkers: UInt64 { prefilterScratch.markers }
    /// PCRE2 matches run so far (for measuring the prefilter).
    public private(set) var patternRunCount = 0

    /// - Parameter rules: compiled rules, possibly shared with other parsers.
    public init(rules: UserAgentRuleSet) {
        self.rules = rules
        scratch = MatchScratch(maximumCaptures: rules.maximumCaptures)
        prefilterScratch = rules.prefilter.makeScratch()
    }

    /// Reads and compiles a `regexes.yaml` for this parser alone.
    public convenience init(rulesPath: String = UserAgentRules.defaultPath) throws(UserAgentError) {
        self.init(rules: try UserAgentRuleSet(contentsOfFile: rulesPath))
    }

    /// Parses one user agent given as bytes (UTF-8 expected, anything accepted).
    ///
    /// - Complexity: one scan of the user agent for the prefilter's literals, then one PCRE2 match per candidate
    ///   rule until the first match in each list.
    public func parse(_ userAgent: UnsafeBufferPointer<UInt8>) -> ParsedUserAgent {
        parse(userAgent, versionFields: 5)
    }

    /// Parses with only the first `versionFields` fields of the browser and OS results (2: family and major).
    func parse(_ userAgent: UnsafeBufferPointer<UInt8>, versionFields: Int) -> ParsedUserAgent {
        let prefilter = rules.prefilter
        prefilter.findCandidates(userAgent, prefilterScratch)
        var result = ParsedUserAgent()
        if let index = firstMatch(rules.browser, userAgent, prefilter.browserRange) {
            result.browser = rules.browser.versioned(rule: index, userAgent, scratch, fieldCount: versionFields)
        }
        if let index = firstMatch(rules.os, userAgent, prefilter.osRange) {
            result.os = rules.os.versioned(rule: index, userAgent, scratch, fieldCount: versionFields)
        }
        if let index = firstMatch(rules.device, userAgent, prefilter.deviceRange) {
            result.device = rules.device.device(rule: index, userAgent, scratch)
        }
        return result
    }

    /// Parses one user agent.
    public func parse(_ userAgent: String) -> ParsedUserAgent {
        var userAgent = userAgent
        return userAgent.withUTF8 { parse($0) }
    }

    /// The index (within `list`) of the first candidate rule of `list` that matches; its captures are left in
    /// `scratch`. `numbers` are the list's global rule numbers in the prefilter's candidate bit set.
    @inline(__always)
    private func firstMatch(
        _ list: CompiledRuleList, _ userAgent: UnsafeBufferPointer<UInt8>, _ numbers: Range<Int>
    ) -> Int? {
        let words = prefilterScratch.words
        var wordIndex = numbers.lowerBound >> 6
        let lastWord = (numbers.upperBound - 1) >> 6
        // Bits below the list's first rule belong to the previous list.
        var word = words[wordIndex] & (~0 << UInt64(numbers.lowerBound & 63))
        while true {
            while word != 0 {
                let number = wordIndex << 6 | word.trailingZeroBitCount
                if number >= numbers.upperBound { return nil }
                let index = number - numbers.lowerBound
                if candidateMatches(list, index, number, userAgent) { return index }
                word &= word &- 1
            }
            wordIndex += 1
            if wordIndex > lastWord { return nil }
            word = words[wordIndex]
        }
    }

    /// Whether candidate rule `index` of `list` (global number `number`) passes the prefilter's checks and matches,
    /// searched from where the prefilter says a match can start, after its tail (``PatternTail``), if it has one.
    @inline(__always)
    private func candidateMatches(
        _ list: CompiledRuleList, _ index: Int, _ number: Int, _ userAgent: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        let prefilter = rules.prefilter
        guard prefilter.passesChecks(number, prefilterScratch),
            var start = prefilter.startOffset(number, prefilterScratch)
        else { return false }
        if let tail = list.tails[index] {
            patternRunCount &+= 1
            guard tail.pattern.matches(userAgent, scratch, startOffset: start) else { return false }
            // Safe because a match sets group 0.
            if let width = tail.headWidth { start = max(start, scratch.range(ofGroup: 0)!.lowerBound - width) }
        }
        patternRunCount &+= 1
        return list.patterns[index].matches(userAgent, scratch, startOffset: start)
    }
}
