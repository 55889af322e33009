/// Picks, for one user agent, the rules that can possibly match, so that only those are handed to PCRE2.
///
/// Built once from the rules: each rule's regex is analysed for the literals it requires (``RequiredLiterals``) and
/// its best clause becomes its *trigger*: a set of lowercased atoms, at least one of which must occur in any user
/// agent the rule matches. Rules without a usable trigger (their required literals are all shorter than three bytes,
/// or the analysis gave up) are *always* candidates. All atoms go into one Aho-Corasick automaton over lowercased
/// bytes, so a user agent is scanned once, left to right, whatever the number of atoms.
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
    /// Distinct atoms.
    let atomCount: Int
    /// Finds the atoms in a user agent.
    private let automaton: AhoCorasick
    /// For each atom, the rules it triggers (`triggeredRules[triggerStart[a]..<triggerStart[a + 1]]`).
    private let triggerStart: [Int32]
    private let triggeredRules: [Int32]

    /// Per-parser state of one scan: the candidate bits, and which atoms were already handled in this scan.
    final class Scratch {
        var words: [UInt64]
        fileprivate var atomStamp: [UInt32]
        fileprivate var stamp: UInt32 = 0

        fileprivate init(wordCount: Int, atomCount: Int) {
            words = [UInt64](repeating: 0, count: wordCount)
            atomStamp = [UInt32](repeating: 0, count: atomCount)
        }
    }

    /// Analyses every rule and builds the automaton.
    ///
    /// - Parameters:
    ///   - rules: the three lists.
    ///   - enabled: false makes every rule a candidate for every user agent (the plain uap-core loop; a test
    ///     oracle).
    init(_ rules: UserAgentRules, enabled: Bool = true) {
        let lists = [rules.browserRules, rules.osRules, rules.deviceRules]
        browserRange = 0..<lists[0].count
        osRange = browserRange.upperBound..<(browserRange.upperBound + lists[1].count)
        deviceRange = osRange.upperBound..<(osRange.upperBound + lists[2].count)
        let ruleCount = deviceRange.upperBound
        wordCount = (ruleCount + 63) / 64

        var always = [UInt64](repeating: 0, count: wordCount)
        var atomNumbers: [String: Int] = [:]
        var atoms: [String] = []
        var triggers: [[Int32]] = []
        let analyses = lists.map { list in
            list.map { enabled ? RequiredLiterals(pattern: $0.regex) : RequiredLiterals.none }
        }
        let costs = Self.costs(of: analyses.joined())
        var ruleNumber = 0
        for list in analyses {
            for required in list {
                let clause = required.bestClause { costs[$0] ?? 1 }
                if let clause {
                    for atom in clause.sorted() {
                        let number: Int
                        if let known = atomNumbers[atom] {
                            number = known
                        } else {
                            number = atoms.count
                            atomNumbers[atom] = number
                            atoms.append(atom)
                            triggers.append([])
                        }
                        triggers[number].append(Int32(ruleNumber))
                    }
                } else {
                    always[ruleNumber / 64] |= 1 << UInt64(ruleNumber % 64)
                }
                ruleNumber += 1
            }
        }
        alwaysWords = always
        atomCount = atoms.count

        var triggerStart: [Int32] = [0]
        var triggeredRules: [Int32] = []
        for list in triggers {
            triggeredRules += list
            triggerStart.append(Int32(triggeredRules.count))
        }
        self.triggerStart = triggerStart
        self.triggeredRules = triggeredRules

        automaton = AhoCorasick(atoms: atoms)
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

    /// The cost of each atom as a trigger: 1, plus 100 for every typical agent containing it.
    private static func costs(of analyses: some Sequence<RequiredLiterals>) -> [String: Int] {
        var atoms = Set<String>()
        for required in analyses {
            for clause in required.clauses { atoms.formUnion(clause) }
        }
        let list = Array(atoms)
        let automaton = AhoCorasick(atoms: list)
        var hits = [Int](repeating: 0, count: list.count)
        for agent in typicalAgents {
            var seen = Set<Int>()
            var agent = agent
            agent.withUTF8 { bytes in
                automaton.forEachMatch(in: bytes) { atom, _ in seen.insert(atom) }
            }
            for atom in seen { hits[atom] += 1 }
        }
        var costs: [String: Int] = [:]
        for (index, atom) in list.enumerated() { costs[atom] = 1 + 100 * hits[index] }
        return costs
    }

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
        scratch.words.withUnsafeMutableBufferPointer { words in
            alwaysWords.withUnsafeBufferPointer { always in
                // Safe because both buffers have wordCount elements.
                words.baseAddress!.update(from: always.baseAddress!, count: wordCount)
            }
            scratch.atomStamp.withUnsafeMutableBufferPointer { atomStamp in
                triggerStart.withUnsafeBufferPointer { triggerStart in
                    triggeredRules.withUnsafeBufferPointer { triggeredRules in
                        automaton.forEachMatch(in: userAgent) { atom, _ in
                            if atomStamp[atom] == stamp { return }
                            atomStamp[atom] = stamp
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

