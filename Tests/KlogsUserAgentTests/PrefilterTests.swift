import Foundation
import Testing

@testable import KlogsUserAgent

@Suite("The literal prefilter")
struct PrefilterTests {
    /// The agents of all three test files, with the device file thinned to every fourth agent to keep the debug
    /// build's run short (the plain loop runs every rule on every agent).
    static func oracleAgents(_ copy: UAPCoreCopy) throws -> [String] {
        var agents = Set<String>()
        for suite in UAPCoreSuite.allCases {
            let cases = try UAPCoreFixtures.shared.cases(copy, suite)
            for (index, testCase) in cases.enumerated() where suite != .device || index % 4 == 0 {
                agents.insert(testCase.userAgent)
            }
        }
        agents.formUnion(try realLogUserAgents())
        return agents.sorted()
    }

    @Test(
        "The prefilter never changes a result: test and real agents parse as with every rule tried",
        arguments: UAPCoreCopy.all)
    func prefilterMatchesThePlainLoop(copy: UAPCoreCopy) throws {
        let filtered = UserAgentParser(rules: try UAPCoreFixtures.shared.ruleSet(copy))
        let plain = UserAgentParser(rules: try UAPCoreFixtures.shared.ruleSet(copy, usePrefilter: false))
        var differences: [String] = []
        for agent in try Self.oracleAgents(copy) {
            let expected = plain.parse(agent)
            let actual = filtered.parse(agent)
            if actual != expected { differences.append("\(agent)\n  plain:    \(expected)\n  filtered: \(actual)") }
        }
        #expect(
            differences.isEmpty,
            "\(differences.count) differences:\n\(differences.prefix(20).joined(separator: "\n"))")
        // And the prefilter earns its keep: far fewer regexes run.
        #expect(filtered.patternRunCount * 20 < plain.patternRunCount)
    }

    /// `agents` parsed by four parsers at once, on threads of their own, all sharing `rules`.
    static func parsedOnFourThreads(_ agents: [String], sharing rules: UserAgentRuleSet) async -> [[ParsedUserAgent]] {
        await withTaskGroup(of: [ParsedUserAgent].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let parser = UserAgentParser(rules: rules)
                    return agents.map { parser.parse($0) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
    }

    @Test("Parsers on several threads sharing fresh rules, JIT-compiled on the way, agree with one parser")
    func sharedRulesOnThreads() async throws {
        let copy = UAPCoreCopy.debian
        let agents = try Self.oracleAgents(copy)
        let reference = UserAgentParser(rules: try UAPCoreFixtures.shared.ruleSet(copy))
        let expected = agents.map { reference.parse($0) }
        // Fresh rules: no rule has been matched yet, so the threads race to JIT-compile the same ones.
        let fresh = try UserAgentRuleSet(UserAgentRules(contentsOfFile: copy.rulesPath))
        let results = await Self.parsedOnFourThreads(agents, sharing: fresh)
        #expect(results.count == 4)
        for result in results { #expect(result == expected) }
        // Compiling every rule up front changes nothing either.
        let compiled = try UserAgentRuleSet(UserAgentRules(contentsOfFile: copy.rulesPath))
        compiled.compileEveryRule()
        let parser = UserAgentParser(rules: compiled)
        #expect(agents.map { parser.parse($0) } == expected)
    }

    @Test(
        "Required literals are found through groups, alternations, classes and quantifiers",
        arguments: [
            ("(Namoroka|Shiretoko|Minefield)/(\\d+)", [["minefield/", "namoroka/", "shiretoko/"]]),
            ("; {0,2}AIRIS[ _\\-]?([^/;\\)]+)", [["airis"]]),
            ("[Vv]ersion/(\\d+).{0,100}Safari", [["version/"], ["safari"]]),
            ("(?:Mobile |)Safari", [["safari"]]),
            ("(iPod|iPhone|iPad).+Version/(\\d+)", [["ipad", "iphone", "ipod"], ["version/"]]),
            ("Chrome(?:/(\\d+))?", [["chrome"]]),
            ("\\bFoo\\.bar\\b", [["foo.bar"]]),
            ("(?i)HTC", [["htc"]]),
            ("x*y?", []),
            ("a|bc", []),
            ("(?=abc)d", []),
            ("a\\d+b", []),
            ("(ab)+cd", [["ab"], ["cd"]]),
            ("[^a]bcd", [["bcd"]]),
            ("(unbalanced", []),
            ("Mozilla/5\\.0 \\(X11", [["mozilla/5.0 (x11"]]),
            ("abc+d", [["ab"]]),
            ("(?:ab|cd)?ef", [["ef"]]),
            ("(?:ab|cd)xy", [["abxy", "cdxy"]]),
        ] as [(String, [[String]])])
    func requiredLiterals(pattern: String, expected: [[String]]) {
        let table = AtomTable()
        let required = RequiredLiterals(pattern: pattern, atoms: table)
        #expect(Set(required.clauses.map(table.strings)) == Set(expected.map { Set($0) }), "\(pattern)")
    }

    @Test("Aho-Corasick finds every occurrence of every atom, ignoring ASCII case, like a naive search")
    func ahoCorasickMatchesNaiveSearch() throws {
        let atoms = ["he", "she", "his", "hers", "a", "aaa", "bot/", "mozilla/", "x"]
        // Safe because these atoms are few and short.
        let automaton = AhoCorasick(atoms: atoms)!
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("aAhHeEsSrRiIbot/mzl x".utf8)
        for length in [0, 1, 2, 7, 64, 300] {
            for _ in 0..<20 {
                let text = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
                var found: [[Int]] = []
                text.withUnsafeBufferPointer { bytes in
                    automaton.forEachMatch(in: bytes) { atom, end in found.append([atom, end]) }
                }
                var expected: [[Int]] = []
                let lower = text.map(lowercased)
                for end in 0...text.count {
                    for (number, atom) in atoms.enumerated() {
                        let utf8 = Array(atom.utf8)
                        if end >= utf8.count && Array(lower[(end - utf8.count)..<end]) == utf8 {
                            expected.append([number, end])
                        }
                    }
                }
                #expect(Set(found) == Set(expected))
                #expect(found.count == expected.count)
            }
        }
    }
}

@Suite("Rule files")
struct RuleFileTests {
    @Test("Both rule files load, with the expected number of rules")
    func rulesLoad() throws {
        let debian = try UserAgentRules(contentsOfFile: UAPCoreCopy.debian.rulesPath)
        #expect(debian.browserRules.count > 300 && debian.osRules.count > 150 && debian.deviceRules.count > 600)
        let upstream = try UserAgentRules(contentsOfFile: UAPCoreCopy.upstream.rulesPath)
        #expect(upstream.browserRules.count + upstream.osRules.count + upstream.deviceRules.count > 1_200)
        #expect(debian.deviceRules.contains { $0.caseInsensitive })
    }

    @Test("Rule files read from libyaml's events give the same rules, lines included, as Yams' node tree")
    func eventsMatchYams() throws {
        for copy in [UAPCoreCopy.debian, UAPCoreCopy.upstream] {
            let text = try String(contentsOfFile: copy.rulesPath, encoding: .utf8)
            #expect(RuleFileEvents.ruleLists(text) != nil, "the plain path reads \(copy.name)")
            let rules = try UserAgentRules(yaml: text, source: copy.name)
            let composed = try UserAgentRules.composedRules(yaml: text, source: copy.name)
            #expect(rules.browserRules == composed[.browser])
            #expect(rules.osRules == composed[.os])
            #expect(rules.deviceRules == composed[.device])
        }
        // Shapes the plain path leaves to Yams: an alias, a nested value under another key, a duplicate key.
        let aliased = """
            shared: &rule {regex: 'A(\\d)'}
            user_agent_parsers: [*rule]
            os_parsers: []
            device_parsers: []
            notes: {a: b}
            """
        #expect(RuleFileEvents.ruleLists(aliased) == nil)
        #expect(try UserAgentRules(yaml: aliased, source: "x").browserRules.map(\.regex) == ["A(\\d)"])
        let duplicated = "user_agent_parsers: []\nos_parsers: []\ndevice_parsers: []\nos_parsers: []\n"
        #expect(RuleFileEvents.ruleLists(duplicated) == nil)
        #expect(throws: UserAgentError.self) { try UserAgentRules(yaml: duplicated, source: "x") }
        // Quoted and flow-style scalars are still plain.
        let flow = """
            "user_agent_parsers": [{regex: 'B/(\\d+)', "family_replacement": 'Bee $1'}]
            os_parsers: []
            device_parsers: []
            version: 1
            """
        #expect(RuleFileEvents.ruleLists(flow) != nil)
        let rule = try UserAgentRules(yaml: flow, source: "x").browserRules
        #expect(rule == [.init(regex: "B/(\\d+)", replacements: ["Bee $1", nil, nil, nil, nil], line: 1)])
    }

    @Test("A missing file is named in the error")
    func missingFile() {
        #expect {
            _ = try UserAgentClassifier(rulesPath: "/nonexistent/regexes.yaml")
        } throws: { error in
            "\(error)".contains("/nonexistent/regexes.yaml") && "\(error)".contains("--ua-rules")
        }
    }

    @Test("A regex that does not compile is named with its file and line")
    func badRegex() {
        let yaml = """
            user_agent_parsers:
              - regex: '(Good)/(\\d+)'
              - regex: '(Bad[)'
            os_parsers: []
            device_parsers: []
            """
        #expect {
            _ = try UserAgentRuleSet(UserAgentRules(yaml: yaml, source: "custom.yaml"))
        } throws: { error in
            let text = "\(error)"
            return text.contains("custom.yaml:3") && text.contains("(Bad[)") && text.contains("PCRE2")
        }
    }

    @Test(
        "Malformed rule files are rejected with the reason",
        arguments: [
            ("just text", "expected a mapping"),
            ("user_agent_parsers: []\nos_parsers: []\n", "device_parsers is missing"),
            ("user_agent_parsers:\n  - family_replacement: 'x'\nos_parsers: []\ndevice_parsers: []\n", "no regex"),
            ("user_agent_parsers: []\nos_parsers: []\ndevice_parsers:\n  - regex: 'a'\n    regex_flag: 'x'\n", "regex_flag"),
            ("user_agent_parsers: [\n", "not valid YAML"),
        ])
    func malformed(yaml: String, reason: String) {
        #expect {
            _ = try UserAgentRules(yaml: yaml, source: "bad.yaml")
        } throws: { error in
            "\(error)".contains(reason) && "\(error)".contains("bad.yaml")
        }
    }

    @Test("Replacements substitute $1…$9, trim, and fall back to Other")
    func replacements() throws {
        let yaml = """
            user_agent_parsers:
              - regex: '(Foo)Browser/(\\d+)\\.(\\d+)'
                family_replacement: 'Foo ($1)'
                v2_replacement: '$3x'
            os_parsers:
              - regex: 'FooOS (\\d+)'
                os_replacement: 'Foo OS'
                os_v1_replacement: '$1'
            device_parsers:
              - regex: '; (Acme) ([^;]+);'
                device_replacement: '  $1 $2 $9 '
                brand_replacement: '$1'
                model_replacement: '$2'
              - regex: '(?i)gizmo'
                regex_flag: 'i'
                device_replacement: 'Gizmo'
            """
        let parser = UserAgentParser(rules: try UserAgentRuleSet(UserAgentRules(yaml: yaml, source: "test")))
        let parsed = parser.parse("FooBrowser/12.34 (FooOS 7; Acme Rocket 2;)")
        #expect(parsed.browser == .init(family: "Foo (Foo)", major: "12", minor: "34x"))
        #expect(parsed.os == .init(family: "Foo OS", major: "7"))
        #expect(parsed.device == .init(family: "Acme Rocket 2", brand: "Acme", model: "Rocket 2"))
        #expect(parser.parse("GIZMO").device == .init(family: "Gizmo", model: nil))
        #expect(parser.parse("nothing") == ParsedUserAgent())
    }
}
