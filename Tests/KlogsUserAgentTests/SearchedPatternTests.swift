import Testing

@testable import KlogsUserAgent

/// The two shortcuts that start PCRE2 later than offset 0: the prefix atoms of a pattern, and the rewrite of a leading
/// `^.{0,N}`. Both must give exactly the answers of the regexes as written.
@Suite("Where a search starts")
struct SearchedPatternTests {
    @Test(
        "Prefix atoms are literals at a bounded distance from the start of every match, or nil when there are none",
        arguments: [
            ("(Namoroka|Shiretoko|Minefield)/(\\d+)", ["namoroka/": 0, "shiretoko/": 0, "minefield/": 0]),
            ("^Mozilla/5", ["mozilla/5": 0]),
            ("\\bFoo\\.bar\\b", ["foo.bar": 0]),
            ("(?:Mobile |)Safari", ["mobile safari": 0, "safari": 0]),
            ("(?<=x)abc", ["abc": 0]),
            ("(ab.+|cd)e", ["ab": 0, "cd": 0]),
            ("(a|bc)d", ["ad": 0, "bcd": 0]),
            ("; {0,2}AIRIS", ["airis": 3]),
            ("\\b\\w{0,30}favicon", ["favicon": 30]),
            ("(?:[a-zA-Z]{1,30}-|)Googlebot|Bingbot", ["googlebot": 31, "bingbot": 0]),
            ("(a|bc)\\d{2}[Xx]yz", ["xyz": 4]),
            ("(?:[a-z]+bot|crawl)", nil),
            ("x*abc", nil),
            ("\\d+abc", nil),
            ("(\\w)\\1abc", nil),
            ("\\Gabc", nil),
            (".{0,9}abc", ["abc": 9]),
            (".{2,}abc", nil),
            ("(?:(?:(?:.{0,999999}){0,999999}){0,999999}){0,999999}abc", nil),
        ] as [(String, [String: Int]?)])
    func prefixes(pattern: String, expected: [String: Int]?) {
        let table = AtomTable()
        let prefixes = RequiredLiterals(pattern: pattern, atoms: table).prefixes
        let texts = prefixes.map { Dictionary(uniqueKeysWithValues: $0.map { (table.string($0.key), $0.value) }) }
        #expect(texts == expected, "\(pattern)")
    }

    static func rule(_ regex: String, _ replacements: [String?]) -> UserAgentRules.Rule {
        UserAgentRules.Rule(regex: regex, replacements: replacements)
    }

    @Test("A leading ^.{0,N}? is always cut off; a greedy one only when no capture reaches the result")
    func rewrites() {
        let lazy = SearchedPattern(Self.rule("^.{0,200}?(\\w+[Bb]ot)/(\\d+)", [nil, nil, nil, nil, nil]))
        #expect(lazy.pattern == "(\\w+[Bb]ot)/(\\d+)" && lazy.maximumStart == 200)
        let greedyUsed = SearchedPattern(Self.rule("^.{0,100}(bot|crawl)", ["Spider", nil, "Desktop"]))
        #expect(greedyUsed.maximumStart == nil)
        let greedyConstant = SearchedPattern(Self.rule("^.{0,100}(bot|crawl)", ["Spider", "Spider", "Desktop"]))
        #expect(greedyConstant.pattern == "(bot|crawl)" && greedyConstant.maximumStart == 100)
        let referenced = SearchedPattern(Self.rule("^.{0,100}(bot|crawl)", ["Spider $1", "Spider", "Desktop"]))
        #expect(referenced.maximumStart == nil)
        for kept in ["^.{0,10}?a|b", "^.{0,10}?\\Ga", "^.{0,10}?a\\Kb", "^.{0,10}+a", "^.{1,10}?a", "^.{0,}?a"] {
            #expect(SearchedPattern(Self.rule(kept, [nil])).pattern == kept, "\(kept)")
        }
        #expect(SearchedPattern(Self.rule("^.{0,10}?a", [nil]), rewrite: false).pattern == "^.{0,10}?a")
    }

    @Test(
        "Rewritten and prefix-started rules answer as the regexes as written: start limits, line feeds, greediness",
        arguments: [
            "xxbot/1", "xxxxxxxbot/2", "x\nbot/3", "\nbot/4", "bot/5 crawl/6", "aaaa crawler/7", "Fooey bot/8",
            "Crawl/9 then bot/10", "", "b", "xbo", "MiniBot/3", "tiny crawl", "abcdefghij Spider 4", "-------bot/2",
            "a long way before the crawl/1 and the spider",
        ])
    func sameAnswers(agent: String) throws {
        let yaml = """
            user_agent_parsers:
              - regex: '^.{0,5}?(\\w*[Bb]ot)/(\\d+)'
              - regex: '^.{0,6}(crawl\\w*)/?(\\d*)'
                regex_flag: 'i'
                family_replacement: 'Crawler'
                v1_replacement: '1'
                v2_replacement: '2'
                v3_replacement: '3'
                v4_replacement: '4'
            os_parsers:
              - regex: '(Fooey|Mini)(?:Bot| bot)'
            device_parsers:
              - regex: '^.{0,12}(bot|crawl|spider)'
                regex_flag: 'i'
                device_replacement: 'Spider'
                brand_replacement: 'Spider'
                model_replacement: 'Desktop'
            """
        let rules = try UserAgentRules(yaml: yaml, source: "test")
        let rewritten = try UserAgentRuleSet(rules)
        #expect(rewritten.browser.patterns.allSatisfy { $0.maximumStart != nil })
        #expect(rewritten.device.patterns[0].maximumStart == 12)
        let plain = UserAgentParser(rules: try UserAgentRuleSet(rules, usePrefilter: false))
        #expect(UserAgentParser(rules: rewritten).parse(agent) == plain.parse(agent), "\(agent.debugDescription)")
    }
}
