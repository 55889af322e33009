import Testing

@testable import KlogsUserAgent

/// The tail searched before a rule whose matches start far before their first literal (``PatternTail``): where the
/// pattern is split, when it is not, and that it never rules out a match or moves a start past one.
@Suite("Rule tails")
struct PatternTailTests {
    static func tail(_ pattern: String) -> PatternTail? {
        let table = AtomTable()
        return PatternTail(pattern: pattern, prefixes: RequiredLiterals(pattern: pattern, atoms: table).prefixes)
    }

    @Test(
        "A pattern is split where every match passes a literal, inside groups passed once, with the head's width",
        arguments: [
            // uap-core's generic bot rule (searched form): into the capturing group, to the alternation of names.
            (
                #"(?:\/[A-Za-z0-9\.]{0,50}|) {0,2}([A-Za-z0-9 \-_\!\[\]:]{0,50}(?:[Aa]rchiver|[Bb]ot|[Cc]rawl[a-z]{0,50}))[/ ](\d+)"#,
                #"(?:[Aa]rchiver|[Bb]ot|[Cc]rawl[a-z]{0,50})[/ ](\d+)"#, 103
            ),
            // Two levels of groups; the closing parentheses go, the rest stays.
            ("[a-z]{0,40}((?:x{0,3}(Foo|Bar)baz))!", "(Foo|Bar)baz!", 43),
            // A group with alternatives is not entered: the split comes after it (or at it, were every alternative
            // a literal).
            ("[a-z]{0,40}(?:\\d|(?:Foo|Bar))baz", "baz", 43),
            ("[a-z]{0,40}(?:x|(?:Foo|Bar))baz", "(?:x|(?:Foo|Bar))baz", 40),
            // A quantified group is not entered, but may be the tail's start.
            ("[a-z]{0,40}(?:Foo|Bar)+", "(?:Foo|Bar)+", 40),
            // An unbounded head: the tail still rules the pattern out, without a start.
            ("[a-z]+Build/(\\d+)", "Build/(\\d+)", nil),
        ] as [(String, String, Int?)])
    func splits(pattern: String, tail: String, headWidth: Int?) throws {
        let found = try #require(Self.tail(pattern), "\(pattern)")
        #expect(found.pattern == tail)
        #expect(found.headWidth == headWidth)
    }

    @Test(
        "No tail where the prefilter already starts at the literal, or the pattern is not read",
        arguments: [
            "Googlebot/(\\d+)",  // starts with its literal
            "; {0,2}(SM-[A-Z]\\d+) Build",  // starts 3 bytes before it
            "[a-z]{0,40}(\\w)x\\1abc",  // a back-reference
            "(?i)[a-z]{0,40}Foo",  // an option setting
            "[a-z]{0,40}(?(1)Foo|Bar)",  // a conditional
            "[a-z]{0,40}x{,3}Foo",  // `{,n}`, a quantifier only in newer PCRE2
            "[a-z]{0,40}\\x41bc",  // a hexadecimal escape
            "[a-z]{0,40}(?:Foo|Bar",  // unbalanced
            "[a-z]{0,40}Foo|Bar",  // an alternative at the top
            "[a-z]{0,40}\\d+",  // no literal after the head
        ])
    func noTail(pattern: String) {
        #expect(Self.tail(pattern) == nil, "\(pattern)")
    }

    @Test(
        "Every match of every rule with a tail has the tail's match within the head's width before it",
        arguments: UAPCoreCopy.all)
    func tailsNeverMissAMatch(copy: UAPCoreCopy) throws {
        let rules = try UserAgentRules(contentsOfFile: copy.rulesPath)
        let analysis = LiteralPrefilter.Analysis(rules)
        let all = rules.browserRules + rules.osRules + rules.deviceRules
        let withTails = all.indices.filter { analysis.tails[$0] != nil }
        #expect(withTails.count >= 10, "uap-core's generic bot rules and some device rules have tails")
        let agents = try PrefilterTests.oracleAgents(copy)
        let scratch = MatchScratch(maximumCaptures: 20)
        var misses: [String] = []
        for index in withTails {
            let searched = SearchedPattern(all[index])
            // Safe because the rule set compiled these, and tails are pieces of them.
            let pattern = try CompiledPattern(searched.pattern, caseInsensitive: all[index].caseInsensitive)
            let tail = try #require(analysis.tails[index])
            let tailPattern = try CompiledPattern(tail.pattern, caseInsensitive: all[index].caseInsensitive)
            for agent in agents {
                var bytes = agent
                bytes.withUTF8 { agent in
                    guard pattern.matches(agent, scratch) else { return }
                    let start = scratch.range(ofGroup: 0)!.lowerBound
                    guard tailPattern.matches(agent, scratch) else {
                        misses.append("\(all[index].regex): tail \(tail.pattern) not found in \(agent)")
                        return
                    }
                    let tailStart = scratch.range(ofGroup: 0)!.lowerBound
                    if let width = tail.headWidth, tailStart - width > start {
                        misses.append("\(all[index].regex): match at \(start), tail at \(tailStart) in \(agent)")
                    }
                }
            }
        }
        #expect(misses.isEmpty, "\(misses.count) misses:\n\(misses.prefix(10).joined(separator: "\n"))")
    }
}
