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
private func seconds(_ body: () throws -> Void) rethrows -> Double {
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
            var bytes = agents.map { Array($0.utf8) }
            var sink = 0
            let uncached = seconds {
                for index in bytes.indices {
                    bytes[index].withUnsafeBufferPointer { sink &+= classifier.classifyUncached($0).browser.utf8.count }
                }
            }
            let plain = UserAgentParser(rules: try UAPCoreFixtures.shared.ruleSet(copy, usePrefilter: false))
            let sample = Array(bytes.prefix(2000))
            let unfiltered = seconds {
                for agent in sample { agent.withUnsafeBufferPointer { sink &+= plain.parse($0).os.family.utf8.count } }
            }
            // Warm the cache, then time hits only.
            for agent in bytes { agent.withUnsafeBufferPointer { _ = classifier.classID($0) } }
            let rounds = 20
            let cached = seconds {
                for _ in 0..<rounds {
                    for agent in bytes { agent.withUnsafeBufferPointer { sink &+= Int(classifier.classID($0)) } }
                }
            }
            let cachedClass = seconds {
                for _ in 0..<rounds {
                    for agent in bytes {
                        agent.withUnsafeBufferPointer { sink &+= classifier.classify($0).isBot ? 1 : 0 }
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
