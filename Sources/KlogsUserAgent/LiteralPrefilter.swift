import Dispatch

/// Picks, for one user agent, the rules that can possibly match, so that only those are handed to PCRE2.
///
/// Built once from the rules: each rule's regex is analysed for the literals it requires (``RequiredLiterals``: a
/// conjunction of clauses, each a set of lowercased atoms of which at least one must occur). The clause least likely
/// to be present in ordinary traffic becomes the rule's *trigger*; up to ``maximumChecks`` further clauses are
/// *checks*, verified just before the regex would run. Rules without any usable clause (everything they require is
/// shorter than two bytes, or the analysis gave up) are *always* candidates. All atoms go into one Aho-Corasick
/// automaton over lowercased bytes, so a user agent is scanned once, left to right, whatever the number of atoms.
/// The scan also records where each atom first occurs, so that PCRE2 can start a rule at the first of its prefix atoms
/// (``RequiredLiterals/prefixes``, ``startOffset(_:_:)``).
///
/// Rules are numbered globally: browser rules first, then OS rules, then device rules; candidates are a bit set over
/// that numbering, which keeps file order for free.
final class LiteralPrefilter: Sendable {
    /// Global rule numbers of each list.
    let browserRange: Range<Int>
    let osRange: Range<Int>
    let deviceRange: Range<Int>
    /// 64-bit words in a candidate bit set.
    let wordCount: Int
    /// The rules that are candidates for every user agent.
    private let alwaysWords: [UInt64]
    /// Distinct atoms (rule atoms, then markers).
    let atomCount: Int
    /// Atoms from this number on are markers (see `init`).
    private let firstMarkerAtom: Int
    /// Finds the atoms in a user agent.
    let automaton: AhoCorasick
    /// For each atom, the rules it triggers (`triggeredRules[triggerStart[a]..<triggerStart[a + 1]]`).
    private let triggerStart: [Int32]
    private let triggeredRules: [Int32]
    /// For each rule, its check clauses (`checkClauses[checkStart[r]..<checkStart[r + 1]]`), each a range of
    /// `clauseAtoms` (`clauseAtoms[clauseStart[c]..<clauseStart[c + 1]]`).
    private let checkStart: [Int32]
    private let clauseStart: [Int32]
    private let clauseAtoms: [Int32]
    /// For each rule, the atoms one of which every match has near its start
    /// (`prefixAtoms[prefixStart[r]..<prefixStart[r + 1]]`; none when unknown), how many bytes after the match's
    /// start each may begin (`prefixLeads`, parallel), and each atom's length.
    private let prefixStart: [Int32]
    private let prefixAtoms: [Int32]
    private let prefixLeads: [Int32]
    private let atomLength: [Int32]

    /// At most this many clauses besides the trigger are checked per rule.
    static let maximumChecks = 3

    /// Per-parser state of one scan: the candidate bits, and which atoms were seen in this scan.
    final class Scratch {
        var words: [UInt64]
        /// Bit `i` is set when marker `i` occurred in the last scan.
        var markers: UInt64 = 0
        fileprivate var atomStamp: [UInt32]
        fileprivate var stamp: UInt32 = 0
        /// For each atom seen in this scan (its stamp is current), where its first occurrence ends.
        fileprivate var atomEnd: [Int32]

        fileprivate init(wordCount: Int, atomCount: Int) {
            words = [UInt64](repeating: 0, count: wordCount)
            atomStamp = [UInt32](repeating: 0, count: atomCount)
            atomEnd = [Int32](repeating: 0, count: atomCount)
        }
    }

    /// Analyses every rule and builds the automaton.
    ///
    /// - Parameters:
    ///   - rules: the three lists.
    ///   - enabled: false makes every rule a candidate for every user agent (the plain uap-core loop; a test
    ///     oracle).
    ///   - markers: up to 64 more lowercased strings to look for in the same scan, for the caller's own use (the bot
    ///     signals); the scan reports them in ``Scratch/markers``.
    convenience init(_ rules: UserAgentRules, enabled: Bool = true, markers: [String] = []) {
        self.init(rules, Analysis(rules, enabled: enabled), markers: markers)
    }

    /// What the rules' patterns require (``RequiredLiterals``), in rule order, with their atoms: the first step of
    /// building a prefilter, on all cores; a caller that has other work for the cores (the PCRE2 compilation) can
    /// start it after this step, beside the rest of the build, which runs on one.
    struct Analysis {
        let table: AtomTable
        let literals: [RequiredLiterals]
        /// Each rule's ``PatternTail``, in rule order (browser, OS, device), nil for most.
        let tails: [PatternTail?]

        /// Analyses the patterns PCRE2 will search for `rules` (``CompiledRuleList`` makes the same choice); with
        /// `enabled` false, every rule requires nothing and has no tail.
        init(_ rules: UserAgentRules, enabled: Bool = true) {
            let lists = [rules.browserRules, rules.osRules, rules.deviceRules]
            let patterns = lists.joined().map { SearchedPattern($0, rewrite: enabled).pattern }
            (table, literals, tails) =
                enabled
                ? Self.analyse(patterns) : (AtomTable(), patterns.map { _ in .none }, patterns.map { _ in nil })
        }

        /// ``RequiredLiterals`` of every pattern, in order, all numbered in the returned table, and the patterns'
        /// tails.
        ///
        /// Computed in chunks on all cores (at start-up the other cores have nothing else to do but the PCRE2
        /// compilation), each chunk in an ``AtomTable`` of its own, then renumbered into the first chunk's table.
        private static func analyse(_ patterns: [String]) -> (AtomTable, [RequiredLiterals], [PatternTail?]) {
            @Sendable func analyse(
                _ patterns: ArraySlice<String>, _ table: AtomTable
            ) -> ([RequiredLiterals], [PatternTail?]) {
                let literals = patterns.map { RequiredLiterals(pattern: $0, atoms: table) }
                let tails = zip(patterns, literals).map { PatternTail(pattern: $0, prefixes: $1.prefixes) }
                return (literals, tails)
            }
            let chunkCount = min(patterns.count, 8)
            guard chunkCount > 1 else {
                let table = AtomTable()
                let (literals, tails) = analyse(patterns[...], table)
                return (table, literals, tails)
            }
            let chunks = UnsafeMutableBufferPointer<(AtomTable, [RequiredLiterals], [PatternTail?])>.allocate(
                capacity: chunkCount)
            defer {
                chunks.deinitialize()
                chunks.deallocate()
            }
            // Safe because each chunk initialises its own element of `chunks`, with a table no other chunk sees, and
            // concurrentPerform returns only when every chunk has finished.
            nonisolated(unsafe) let shared = chunks
            DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
                let range = (patterns.count * chunk / chunkCount)..<(patterns.count * (chunk + 1) / chunkCount)
                let table = AtomTable()
                let (analyses, tails) = analyse(patterns[range], table)
                (shared.baseAddress! + chunk).initialize(to: (table, analyses, tails))
            }
            let table = chunks[0].0
            var analyses = chunks[0].1
            analyses.reserveCapacity(patterns.count)
            for (chunkTable, chunkAnalyses, _) in chunks.dropFirst() {
                // Each atom adopted once (a rule's prefixes are mostly atoms of its clauses too).
                var adopted = [Atom](repeating: -1, count: chunkTable.count)
                func number(_ atom: Atom) -> Atom {
                    if adopted[Int(atom)] < 0 { adopted[Int(atom)] = table.adopt(atom, from: chunkTable) }
                    return adopted[Int(atom)]
                }
                analyses += chunkAnalyses.map { $0.renumbered(number) }
            }
            return (table, analyses, chunks.flatMap(\.2))
        }
    }

    /// Builds the prefilter of `rules` from their `analysis` (see ``init(_:enabled:markers:)``).
    init(_ rules: UserAgentRules, _ analysis: Analysis, markers: [String] = []) {
        precondition(markers.count <= 64, "at most 64 markers")
        let lists = [rules.browserRules, rules.osRules, rules.deviceRules]
        browserRange = 0..<lists[0].count
        osRange = browserRange.upperBound..<(browserRange.upperBound + lists[1].count)
        deviceRange = osRange.upperBound..<(osRange.upperBound + lists[2].count)
        wordCount = (deviceRange.upperBound + 63) / 64

        let (table, analyses) = (analysis.table, analysis.literals)
        let costs = AtomCosts(table)
        // Per rule: the trigger first, then the checks, rarest first.
        let clauses = analyses.map { required -> [AtomSet] in
            guard let trigger = required.bestClause(table, cost: costs.cost) else { return [] }
            let checks = required.clauses.filter { $0 != trigger }.sorted { costs.totalCost($0) < costs.totalCost($1) }
            return [trigger] + checks.prefix(Self.maximumChecks)
        }
        let markerBytes = markers.map { ArraySlice($0.utf8) }
        // Long atoms make long chains of automaton states, and a big table misses the processor caches; a part of
        // a required literal is required too, so atoms are cut short (shorter still if the table would overflow).
        var built: (Triggers, AhoCorasick)? = nil
        for maximumLength in Self.maximumAtomLengths {
            // Shortening adds atoms to the table, so the triggers are made after it.
            let shortClauses = Self.shortened(clauses, maximumLength: maximumLength, costs)
            let shortPrefixes = analyses.map {
                Self.shortened(prefixes: $0.prefixes, maximumLength: maximumLength, table)
            }
            let triggers = Triggers(
                clauses: shortClauses, prefixes: shortPrefixes, wordCount: wordCount, atomCount: table.count)
            if let automaton = AhoCorasick(atoms: triggers.atoms.map(table.bytes) + markerBytes) {
                built = (triggers, automaton)
                break
            }
        }
        // Safe because an empty atom list always fits.
        let (triggers, automaton) =
            built
            ?? (
                Triggers(
                    clauses: clauses.map { _ in [] }, prefixes: clauses.map { _ in nil }, wordCount: wordCount,
                    atomCount: 0),
                AhoCorasick(atoms: markerBytes)!
            )
        self.automaton = automaton
        alwaysWords = triggers.always
        firstMarkerAtom = triggers.atoms.count
        atomCount = triggers.atoms.count + markers.count
        // Markers trigger no rules.
        triggerStart = triggers.start + [Int32](repeating: triggers.start.last ?? 0, count: markers.count)
        triggeredRules = triggers.rules
        checkStart = triggers.checkStart
        clauseStart = triggers.clauseStart
        clauseAtoms = triggers.clauseAtoms
        prefixStart = triggers.prefixStart
        prefixAtoms = triggers.prefixAtoms
        prefixLeads = triggers.prefixLeads
        atomLength = triggers.atoms.map { Int32(table.length($0)) } + markerBytes.map { Int32($0.count) }
    }

    /// Reads a prefilter that ``archive(into:)`` wrote (for ``UserAgentRuleCache``), checking that its tables have the
    /// shapes a scan relies on.
    init(archive: inout ArchiveReader) throws(ArchiveReader.Malformed) {
        let ruleCounts = try (archive.readCount(), archive.readCount(), archive.readCount())
        browserRange = 0..<ruleCounts.0
        osRange = browserRange.upperBound..<(browserRange.upperBound + ruleCounts.1)
        deviceRange = osRange.upperBound..<(osRange.upperBound + ruleCounts.2)
        wordCount = (deviceRange.upperBound + 63) / 64
        alwaysWords = try archive.readArray()
        atomCount = try archive.readCount()
        firstMarkerAtom = try archive.readCount(atMost: atomCount)
        automaton = try AhoCorasick(archive: &archive)
        triggerStart = try archive.readArray()
        triggeredRules = try archive.readArray()
        checkStart = try archive.readArray()
        clauseStart = try archive.readArray()
        clauseAtoms = try archive.readArray()
        prefixStart = try archive.readArray()
        prefixAtoms = try archive.readArray()
        prefixLeads = try archive.readArray()
        atomLength = try archive.readArray()
        let ruleCount = deviceRange.upperBound
        guard alwaysWords.count == wordCount, triggerStart.count == atomCount + 1, atomLength.count == atomCount,
            triggerStart.last == Int32(triggeredRules.count), checkStart.count == ruleCount + 1,
            checkStart.last == Int32(clauseStart.count - 1), clauseStart.last == Int32(clauseAtoms.count),
            prefixStart.count == ruleCount + 1, prefixStart.last == Int32(prefixAtoms.count),
            prefixLeads.count == prefixAtoms.count, automaton.atomNumberLimit <= atomCount,
            triggeredRules.allSatisfy({ $0 >= 0 && $0 < ruleCount }),
            (clauseAtoms + prefixAtoms).allSatisfy({ $0 >= 0 && $0 < atomCount })
        else { throw ArchiveReader.Malformed() }
    }

    /// Writes the prefilter for ``UserAgentRuleCache``: everything ``init(archive:)`` needs to rebuild it without
    /// analysing a pattern.
    func archive(into archive: inout ArchiveWriter) {
        archive.write(browserRange.count)
        archive.write(osRange.count)
        archive.write(deviceRange.count)
        archive.write(alwaysWords)
        archive.write(atomCount)
        archive.write(firstMarkerAtom)
        automaton.archive(into: &archive)
        for table in [
            triggerStart, triggeredRules, checkStart, clauseStart, clauseAtoms, prefixStart, prefixAtoms, prefixLeads,
            atomLength,
        ] {
            archive.write(table)
        }
    }

    /// Each clause with every atom longer than `maximumLength` replaced by its prefix or its suffix of that length,
    /// whichever occurs in fewer typical agents.
    private static func shortened(_ clauses: [[AtomSet]], maximumLength: Int, _ costs: AtomCosts) -> [[AtomSet]] {
        let table = costs.table
        return clauses.map { ruleClauses in
            ruleClauses.map { clause in
                guard clause.contains(where: { table.length($0) > maximumLength }) else { return clause }
                return AtomSet(
                    unsorted: clause.map { atom in
                        guard table.length(atom) > maximumLength else { return atom }
                        let prefix = table.prefix(atom, length: maximumLength)
                        let suffix = table.suffix(atom, length: maximumLength)
                        return costs.cost(suffix) < costs.cost(prefix) ? suffix : prefix
                    })
            }
        }
    }

    /// `prefixes` with every atom longer than `maximumLength` cut to its first `maximumLength` bytes (they start where
    /// the atom starts).
    private static func shortened(prefixes: [Atom: Int]?, maximumLength: Int, _ table: AtomTable) -> [Atom: Int]? {
        guard let prefixes else { return nil }
        return Dictionary(
            prefixes.map { (table.prefix($0.key, length: maximumLength), $0.value) }, uniquingKeysWith: max)
    }

    /// Atom lengths tried in turn until the automaton fits in 16-bit state numbers.
    static let maximumAtomLengths = [8, 6, 4, 3]

    /// The atoms; for each, the rules it triggers; for each rule, its checks; and the rules without a trigger.
    private struct Triggers {
        /// The automaton's atoms, by their numbers in the analysis' ``AtomTable``.
        var atoms: [Atom] = []
        var start: [Int32] = [0]
        var rules: [Int32] = []
        var checkStart: [Int32] = [0]
        var clauseStart: [Int32] = [0]
        var clauseAtoms: [Int32] = []
        var prefixStart: [Int32] = [0]
        var prefixAtoms: [Int32] = []
        var prefixLeads: [Int32] = []
        var always: [UInt64]

        /// - Parameter atomCount: the number of atoms in the table the clauses' and prefixes' atoms come from.
        init(clauses: [[AtomSet]], prefixes: [[Atom: Int]?], wordCount: Int, atomCount: Int) {
            always = [UInt64](repeating: 0, count: wordCount)
            // Table atom → automaton atom, -1 until it is first used.
            var atomNumbers = [Int32](repeating: -1, count: atomCount)
            func number(_ atom: Atom) -> Int32 {
                if atomNumbers[Int(atom)] >= 0 { return atomNumbers[Int(atom)] }
                let number = Int32(atoms.count)
                atomNumbers[Int(atom)] = number
                atoms.append(atom)
                return number
            }
            // (automaton atom, rule) for every trigger atom, in rule order; grouped by atom below.
            var triggerPairs: [(atom: Int32, rule: Int32)] = []
            for (ruleNumber, ruleClauses) in clauses.enumerated() {
                if let trigger = ruleClauses.first {
                    for atom in trigger { triggerPairs.append((number(atom), Int32(ruleNumber))) }
                } else {
                    always[ruleNumber / 64] |= 1 << UInt64(ruleNumber % 64)
                }
                for check in ruleClauses.dropFirst() {
                    for atom in check { clauseAtoms.append(number(atom)) }
                    clauseStart.append(Int32(clauseAtoms.count))
                }
                checkStart.append(Int32(clauseStart.count - 1))
                for (atom, lead) in (prefixes[ruleNumber] ?? [:]).sorted(by: { $0.key < $1.key }) {
                    prefixAtoms.append(number(atom))
                    prefixLeads.append(Int32(clamping: lead))
                }
                prefixStart.append(Int32(prefixAtoms.count))
            }
            // A counting sort by atom, stable, so that each atom's rules stay in rule order.
            start = [Int32](repeating: 0, count: atoms.count + 1)
            for pair in triggerPairs { start[Int(pair.atom) + 1] += 1 }
            for atom in atoms.indices { start[atom + 1] += start[atom] }
            var next = start
            rules = [Int32](repeating: 0, count: triggerPairs.count)
            for pair in triggerPairs {
                rules[Int(next[Int(pair.atom)])] = pair.rule
                next[Int(pair.atom)] += 1
            }
        }
    }

    /// Typical user agents of today's traffic, lowercased: an atom found in them is a poor trigger, because it
    /// would make its rules candidates for most requests (`build`, `mozilla`, `android` …).
    static let typicalAgents: [String] = [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.102 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; U; Android 4.4.2; en-us; GT-I9505 Build/KOT49H) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
        "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
        "Dalvik/2.1.0 (Linux; U; Android 12; Pixel 6 Build/SQ3A.220705.004)",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
        "curl/8.5.0", "python-requests/2.32.3", "Go-http-client/2.0", "okhttp/4.12.0",
        "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0)",
    ].map { $0.lowercased() }

    func makeScratch() -> Scratch {
        Scratch(wordCount: wordCount, atomCount: atomCount)
    }

    /// Rules that are always candidates, per list.
    var alwaysCandidateCounts: (browser: Int, os: Int, device: Int) {
        func count(_ range: Range<Int>) -> Int {
            range.filter { alwaysWords[$0 / 64] & (1 << UInt64($0 % 64)) != 0 }.count
        }
        return (count(browserRange), count(osRange), count(deviceRange))
    }

    /// Scans `userAgent` once and leaves the candidate rules in `scratch.words`.
    ///
    /// - Complexity: O(n) in the length of the user agent plus the number of triggered rules.
    func findCandidates(_ userAgent: UnsafeBufferPointer<UInt8>, _ scratch: Scratch) {
        scratch.stamp &+= 1
        if scratch.stamp == 0 {
            // The stamp wrapped around: forget all old stamps once every 4 billion scans.
            for index in scratch.atomStamp.indices { scratch.atomStamp[index] = 0 }
            scratch.stamp = 1
        }
        let stamp = scratch.stamp
        let firstMarkerAtom = self.firstMarkerAtom
        var markers: UInt64 = 0
        defer { scratch.markers = markers }
        scratch.words.withUnsafeMutableBufferPointer { words in
            alwaysWords.withUnsafeBufferPointer { always in
                // Safe because both buffers have wordCount elements.
                words.baseAddress!.update(from: always.baseAddress!, count: wordCount)
            }
            scratch.atomStamp.withUnsafeMutableBufferPointer { atomStamp in
                scratch.atomEnd.withUnsafeMutableBufferPointer { atomEnd in
                    triggerStart.withUnsafeBufferPointer { triggerStart in
                        triggeredRules.withUnsafeBufferPointer { triggeredRules in
                            automaton.forEachMatch(in: userAgent) { atom, end in
                                if atomStamp[atom] == stamp { return }
                                atomStamp[atom] = stamp
                                atomEnd[atom] = Int32(truncatingIfNeeded: end)
                                if atom >= firstMarkerAtom {
                                    markers |= 1 &<< UInt64(atom &- firstMarkerAtom)
                                    return
                                }
                                for trigger in Int(triggerStart[atom])..<Int(triggerStart[atom &+ 1]) {
                                    let rule = Int(triggeredRules[trigger])
                                    words[rule &>> 6] |= 1 &<< UInt64(rule & 63)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Where PCRE2 should start searching for rule `number`: the earliest start of a match that has one of the rule's
    /// prefix atoms where the last scan first found it (the atom's start less its lead), 0 when the rule has no prefix
    /// atoms, or nil when it has some and none occurs (then the rule cannot match).
    @inline(__always)
    func startOffset(_ number: Int, _ scratch: Scratch) -> Int? {
        let first = Int(prefixStart[number])
        let end = Int(prefixStart[number &+ 1])
        if first == end { return 0 }
        let stamp = scratch.stamp
        var start = Int.max
        for index in first..<end {
            let atom = Int(prefixAtoms[index])
            if scratch.atomStamp[atom] == stamp {
                start = min(start, Int(scratch.atomEnd[atom]) &- Int(atomLength[atom]) &- Int(prefixLeads[index]))
            }
        }
        return start == Int.max ? nil : max(start, 0)
    }

    /// Whether every check clause of rule `number` has an atom in the last scan with `scratch`.
    @inline(__always)
    func passesChecks(_ number: Int, _ scratch: Scratch) -> Bool {
        let first = Int(checkStart[number])
        let end = Int(checkStart[number &+ 1])
        if first == end { return true }
        let stamp = scratch.stamp
        for clause in first..<end {
            var found = false
            for index in Int(clauseStart[clause])..<Int(clauseStart[clause &+ 1])
            where scratch.atomStamp[Int(clauseAtoms[index])] == stamp {
                found = true
                break
            }
            if !found { return false }
        }
        return true
    }
}

/// Answers "how many of ``LiteralPrefilter/typicalAgents`` contain this atom" for thousands of atoms at start-up: every
/// substring of up to eight bytes of the typical agents, packed into an integer, maps to the set of agents that
/// contain it (a bit each), so an atom costs one lookup, and a longer atom a search in the few agents that contain its
/// first eight bytes.
private struct TypicalAgentIndex {
    static let shared = TypicalAgentIndex(LiteralPrefilter.typicalAgents)

    private static let keyLength = 8
    private let agents: [[UInt8]]
    /// Packed substring → bit `i` set when agent `i` contains it.
    private var agentsContaining: PackedSubstringSets

    private init(_ agents: [String]) {
        precondition(agents.count <= 32, "at most 32 typical agents")
        self.agents = agents.map { Array($0.utf8) }
        // More slots than substrings, so that a search always meets a free one.
        let substringCount = self.agents.reduce(0) { $0 + $1.count } * Self.keyLength
        agentsContaining = PackedSubstringSets(capacity: 1 << (Int.bitWidth - substringCount.leadingZeroBitCount))
        for (number, agent) in self.agents.enumerated() {
            for start in agent.indices {
                var key: UInt64 = 0
                for length in 1...min(Self.keyLength, agent.count - start) {
                    key |= UInt64(agent[start + length - 1]) << (8 * UInt64(length - 1))
                    agentsContaining.insert(number, for: key)
                }
            }
        }
    }

    /// The number of typical agents containing `bytes` (lowercased).
    func count(containing bytes: ArraySlice<UInt8>) -> Int {
        let bytes = Array(bytes)
        // A zero byte would pack like a shorter key (agents never hold one, but atoms from `\x00` could).
        guard !bytes.isEmpty, !bytes.contains(0) else {
            return agents.count { containsBytes($0, bytes) }
        }
        var key: UInt64 = 0
        for (offset, byte) in bytes.prefix(Self.keyLength).enumerated() { key |= UInt64(byte) << (8 * UInt64(offset)) }
        let candidates = agentsContaining[key]
        if bytes.count <= Self.keyLength { return candidates.nonzeroBitCount }
        return agents.indices.count { candidates & (1 << UInt32($0)) != 0 && containsBytes(agents[$0], bytes) }
    }
}

/// Each atom's cost as a trigger, computed once per atom of an ``AtomTable``: 1, plus 100 for every typical agent
/// (``LiteralPrefilter/typicalAgents``) containing it, plus 30 for a two-byte atom.
private final class AtomCosts {
    let table: AtomTable
    /// Per atom number, its cost, or 0 while not computed.
    private var known: [Int] = []

    init(_ table: AtomTable) {
        self.table = table
    }

    func cost(_ atom: Atom) -> Int {
        if Int(atom) >= known.count { known += repeatElement(0, count: table.count - known.count) }
        if known[Int(atom)] == 0 {
            // Two-byte atoms are common in real agents beyond the typical ones ("ct", "lg"): a surcharge.
            let hits = TypicalAgentIndex.shared.count(containing: table.bytes(atom))
            known[Int(atom)] = 1 + 100 * hits + (table.length(atom) < 3 ? 30 : 0)
        }
        return known[Int(atom)]
    }

    /// The total cost of a clause's atoms (it holds when any of them occurs).
    func totalCost(_ clause: AtomSet) -> Int {
        clause.reduce(0) { $0 + cost($1) }
    }
}

/// The sets of ``TypicalAgentIndex``: packed substring (never 0) → a bit per agent, in an open-addressing table with
/// a multiplicative hash (a `Dictionary` spent most of the index's build, some 20 k insertions, hashing).
private struct PackedSubstringSets {
    private var keys: [UInt64]
    private var sets: [UInt32]
    private let shift: UInt64

    /// - Parameter capacity: a power of two, more than the number of distinct keys to be inserted.
    init(capacity: Int) {
        keys = [UInt64](repeating: 0, count: capacity)
        sets = [UInt32](repeating: 0, count: capacity)
        shift = UInt64(64 - capacity.trailingZeroBitCount)
    }

    /// Adds agent `agent` to the set of `key`.
    mutating func insert(_ agent: Int, for key: UInt64) {
        let slot = self.slot(of: key)
        keys[slot] = key
        sets[slot] |= 1 << UInt32(agent)
    }

    /// The agents whose text contains `key` (empty for an unknown key).
    subscript(key: UInt64) -> UInt32 {
        sets[slot(of: key)]
    }

    /// Where `key` is, or the free slot where it would go.
    private func slot(of key: UInt64) -> Int {
        let mask = keys.count - 1
        var slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
        while keys[slot] != 0 && keys[slot] != key { slot = (slot + 1) & mask }
        return slot
    }
}
