import Foundation
import KlogsTestSupport
import Testing

@testable import KlogsUserAgent

/// Distinct user agents from the real logs of the shared corpus (the quoted field after the referrer).
func realLogUserAgents() throws -> [String] {
    let logs = TestPaths.corpus.appendingPathComponent("logs")
    var agents: [String] = []
    var seen = Set<String>()
    let files = FileManager.default.enumerator(at: logs, includingPropertiesForKeys: nil)
    while let url = files?.nextObject() as? URL {
        guard !url.lastPathComponent.hasPrefix("LICENSE"), !url.lastPathComponent.hasSuffix(".md"),
            let data = FileManager.default.contents(atPath: url.path)
        else { continue }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: "\"", omittingEmptySubsequences: false)
            guard fields.count >= 6 else { continue }
            let agent = String(fields[5])
            if seen.insert(agent).inserted { agents.append(agent) }
        }
    }
    return agents
}

/// The CPU time of this thread spent in `body`, in seconds: other processes on a shared machine do not count.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
    let start = now()
    try body()
    return now() - start
}

/// Timings for `docs/USER-AGENTS.md`. Only meaningful in a release build:
/// `KLOGS_UA_BENCH=1 swift test -c release --filter SpeedTests`.
@Suite("Speed", .serialized, .enabled(if: ProcessInfo.processInfo.environment["KLOGS_UA_BENCH"] != nil))
struct SpeedTests {
    @Test("Rule loading, uncached and cached classification", arguments: UAPCoreCopy.all)
    func measure(copy: UAPCoreCopy) throws {
        var rules: UserAgentRules? = nil
        var ruleSet: UserAgentRuleSet? = nil
        let yaml = try seconds { rules = try UserAgentRules(contentsOfFile: copy.rulesPath) }
        let compile = try seconds { ruleSet = try UserAgentRuleSet(rules!) }
        let prefilterOnly = seconds { _ = LiteralPrefilter(rules!) }
        let total = try seconds { _ = try UserAgentRuleSet(contentsOfFile: copy.rulesPath) }
        print(String(format: "%@: load YAML %.1f ms, compile+prefilter %.1f ms (prefilter %.1f ms), total %.1f ms",
                     copy.name, yaml * 1e3, compile * 1e3, prefilterOnly * 1e3, total * 1e3))

        var testAgents = Set<String>()
        for suite in UAPCoreSuite.allCases {
            for testCase in try UAPCoreFixtures.shared.cases(copy, suite) { testAgents.insert(testCase.userAgent) }
        }
        let sets: [(String, [String])] = [("uap-core test agents", Array(testAgents)), ("real-log agents", try realLogUserAgents())]
        let classifier = UserAgentClassifier(rules: ruleSet!, cacheCapacity: 1 << 16)
        for (name, agents) in sets {
            let bytes = agents.map { Array($0.utf8) }
            var sink = 0
            let uncached = seconds {
                for index in bytes.indices {
                    bytes[index].withUnsafeBufferPointer { sink &+= classifier.classifyUncached($0).browser.utf8.count }
                }
            }
            let probe = UserAgentParser(rules: ruleSet!)
            let parseOnly = seconds {
                for agent in bytes { agent.withUnsafeBufferPointer { sink &+= probe.parse($0).device.family.utf8.count } }
            }
            let prefilterScratch = ruleSet!.prefilter.makeScratch()
            let prefilterOnly = seconds {
                for agent in bytes {
                    agent.withUnsafeBufferPointer { ruleSet!.prefilter.findCandidates($0, prefilterScratch) }
                }
            }
            print(String(format: "  per agent: %.1f patterns run, parse %.2f µs, prefilter scan %.2f µs",
                         Double(probe.patternRunCount) / Double(bytes.count), parseOnly / Double(bytes.count) * 1e6,
                         prefilterOnly / Double(bytes.count) * 1e6))
            let plain = UserAgentParser(rules: try UAPCoreFixtures.shared.ruleSet(copy, usePrefilter: false))
            let sample = Array(bytes.prefix(2000))
            let unfiltered = seconds {
                for agent in sample { agent.withUnsafeBufferPointer { sink &+= plain.parse($0).os.family.utf8.count } }
            }
            // Warm the cache, then time hits only. The agents lie in one buffer, as in the ingest's read buffer.
            let arena = bytes.flatMap { $0 }
            var ranges: [Range<Int>] = []
            var start = 0
            for agent in bytes {
                ranges.append(start..<(start + agent.count))
                start += agent.count
            }
            let rounds = 20
            var cached = 0.0
            var cachedClass = 0.0
            arena.withUnsafeBufferPointer { arena in
                ranges.withUnsafeBufferPointer { ranges in
                    for range in ranges { _ = classifier.classID(UnsafeBufferPointer(rebasing: arena[range])) }
                    cached = seconds {
                        for _ in 0..<rounds {
                            for range in ranges {
                                sink &+= Int(classifier.classID(UnsafeBufferPointer(rebasing: arena[range])))
                            }
                        }
                    }
                    cachedClass = seconds {
                        for _ in 0..<rounds {
                            for range in ranges {
                                sink &+= classifier.classify(UnsafeBufferPointer(rebasing: arena[range])).isBot ? 1 : 0
                            }
                        }
                    }
                }
            }
            print(String(format: "%@, %@ (%d distinct): uncached %.2f µs, without prefilter %.2f µs, cached id %.0f ns, cached class %.0f ns [%d]",
                         copy.name, name, agents.count, uncached / Double(agents.count) * 1e6,
                         unfiltered / Double(sample.count) * 1e6, cached / Double(rounds * agents.count) * 1e9,
                         cachedClass / Double(rounds * agents.count) * 1e9, sink & 1))
        }
    }
}

@Suite("Rule costs", .serialized, .enabled(if: ProcessInfo.processInfo.environment["KLOGS_UA_COSTS"] != nil))
struct RuleCostTests {
    /// The rules that cost most in the real parse path (candidates in order until the first match of each list).
    @Test func costliestRules() throws {
        let copy = UAPCoreCopy.debian
        let rules = try UserAgentRules(contentsOfFile: copy.rulesPath)
        let ruleSet = try UAPCoreFixtures.shared.ruleSet(copy)
        var agentSet = Set<String>()
        for suite in UAPCoreSuite.allCases {
            for testCase in try UAPCoreFixtures.shared.cases(copy, suite) { agentSet.insert(testCase.userAgent) }
        }
        var agents = Array(agentSet).map { Array($0.utf8) }
        // KLOGS_UA_AGENTS=FILE: the agents of FILE instead, one per line (e.g. the benchmark's distinct agents).
        if let file = ProcessInfo.processInfo.environment["KLOGS_UA_AGENTS"] {
            agents = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map { Array($0.utf8) }
        }
        let scratch = MatchScratch(maximumCaptures: ruleSet.maximumCaptures)
        let prefilterScratch = ruleSet.prefilter.makeScratch()
        let lists = [(UserAgentRules.Kind.browser, ruleSet.browser, ruleSet.prefilter.browserRange),
                     (.os, ruleSet.os, ruleSet.prefilter.osRange), (.device, ruleSet.device, ruleSet.prefilter.deviceRange)]
        var runs: [[Int: [(agent: Int, start: Int)]]] = [[:], [:], [:]]   // per list: rule → agents and start offsets
        for (agentIndex, agent) in agents.enumerated() {
            agent.withUnsafeBufferPointer { bytes in
                ruleSet.prefilter.findCandidates(bytes, prefilterScratch)
                for (listIndex, (_, list, range)) in lists.enumerated() {
                    for number in range where prefilterScratch.words[number >> 6] & (1 << UInt64(number & 63)) != 0
                        && ruleSet.prefilter.passesChecks(number, prefilterScratch)
                    {
                        guard let start = ruleSet.prefilter.startOffset(number, prefilterScratch) else { continue }
                        runs[listIndex][number - range.lowerBound, default: []].append((agentIndex, start))
                        if list.patterns[number - range.lowerBound].matches(bytes, scratch, startOffset: start) { break }
                    }
                }
            }
        }
        var costs: [(Double, Int, String, String)] = []
        for (listIndex, (kind, list, _)) in lists.enumerated() {
            for (rule, agentIndices) in runs[listIndex] {
                let pattern = list.patterns[rule]
                let elapsed = seconds {
                    for (agentIndex, start) in agentIndices {
                        agents[agentIndex].withUnsafeBufferPointer { _ = pattern.matches($0, scratch, startOffset: start) }
                    }
                }
                costs.append((elapsed, agentIndices.count, "\(kind) #\(rule)", rules.rules(kind)[rule].regex))
            }
        }
        costs.sort { $0.0 > $1.0 }
        let total = costs.reduce(0) { $0 + $1.0 }
        print(String(format: "total %.2f µs per agent over %d agents", total / Double(agents.count) * 1e6, agents.count))
        for (elapsed, count, name, regex) in costs.prefix(30) {
            print(String(format: "%6.3f µs/agent %5d runs %5.2f µs/run %@ %@", elapsed / Double(agents.count) * 1e6, count,
                         elapsed / Double(count) * 1e6, name, String(regex.prefix(100))))
        }
    }
}
