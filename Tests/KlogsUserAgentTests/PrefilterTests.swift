import Testing

@testable import KlogsUserAgent

@Suite("The literal prefilter")
struct PrefilterTests {
    @Test("The prefilter never changes a result: every test agent parses as with all rules tried", arguments: UAPCoreCopy.all)
    func prefilterMatchesThePlainLoop(copy: UAPCoreCopy) throws {
        let filtered = UserAgentParser(rules: try UAPCoreFixtures.shared.ruleSet(copy))
        let plain = UserAgentParser(rules: try UAPCoreFixtures.shared.ruleSet(copy, usePrefilter: false))
        var agents = Set<String>()
        for suite in UAPCoreSuite.allCases {
            for testCase in try UAPCoreFixtures.shared.cases(copy, suite) { agents.insert(testCase.userAgent) }
        }
        var differences: [String] = []
        for agent in agents {
            let expected = plain.parse(agent)
            let actual = filtered.parse(agent)
            if actual != expected { differences.append("\(agent)\n  plain:    \(expected)\n  filtered: \(actual)") }
        }
        #expect(differences.isEmpty, "\(differences.count) differences:\n\(differences.prefix(20).joined(separator: "\n"))")
    }

    @Test("Statistics", arguments: UAPCoreCopy.all)
    func statistics(copy: UAPCoreCopy) throws {
        let rules = try UAPCoreFixtures.shared.ruleSet(copy)
        let prefilter = rules.prefilter
        let scratch = prefilter.makeScratch()
        var agents = Set<String>()
        for suite in UAPCoreSuite.allCases {
            for testCase in try UAPCoreFixtures.shared.cases(copy, suite) { agents.insert(testCase.userAgent) }
        }
        var total = 0
        for agent in agents {
            var agent = agent
            agent.withUTF8 { prefilter.findCandidates($0, scratch) }
            total += scratch.words.reduce(0) { $0 + $1.nonzeroBitCount }
        }
        print("\(copy.name): states \(prefilter.automaton.stateCount), classes \(prefilter.automaton.inputClassCount), rules \(prefilter.deviceRange.upperBound), atoms \(prefilter.atomCount), always \(prefilter.alwaysCandidateCounts), mean candidates \(Double(total) / Double(agents.count))")
    }
}
