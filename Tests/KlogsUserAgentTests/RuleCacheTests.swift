import Foundation
import KlogsTestSupport
import Testing

@testable import KlogsUserAgent

@Suite("The cache of analysed rules")
struct RuleCacheTests {
    /// A cache in a fresh temporary directory (a directory below it, so that the cache creates its parents too).
    static func makeCache() throws -> (UserAgentRuleCache, root: URL) {
        let root = try TestPaths.makeTemporaryDirectory("klogs-rule-cache")
        return (UserAgentRuleCache(directory: root.appendingPathComponent("cache/klogs").path), root)
    }

    static func cacheFiles(_ cache: UserAgentRuleCache) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: cache.directory).filter { $0.hasSuffix(".cache") }.sorted()
    }

    /// What the cache keeps of a rule set, as bytes: equal for two rule sets with the same rules and analysis.
    static func archived(_ ruleSet: UserAgentRuleSet) -> [UInt8] {
        var archive = ArchiveWriter()
        ruleSet.archive(into: &archive)
        return archive.bytes
    }

    @Test(
        "Rules loaded from the cache are the rules analysed afresh, and parse every test and real agent alike",
        arguments: UAPCoreCopy.all)
    func cachedRulesAreTheSame(copy: UAPCoreCopy) throws {
        let (cache, root) = try Self.makeCache()
        defer { try? FileManager.default.removeItem(at: root) }
        let text = try UserAgentRules.text(ofFile: copy.rulesPath)

        let (first, firstOutcome) = try cache.ruleSet(yaml: text, source: copy.rulesPath)
        #expect(firstOutcome == .stored)
        let (second, secondOutcome) = try cache.ruleSet(yaml: text, source: "renamed.yaml")
        #expect(secondOutcome == .hit)
        #expect(second.source == "renamed.yaml")
        // Exactly what was stored. (Two analyses of the same rules may number their atoms differently, as the
        // order of a dictionary's iteration differs between instances: what they select is compared below.)
        #expect(Self.archived(second) == Self.archived(first))

        let fresh = UserAgentParser(rules: try UAPCoreFixtures.shared.ruleSet(copy))
        let cached = UserAgentParser(rules: second)
        var differences: [String] = []
        for agent in try PrefilterTests.oracleAgents(copy) where cached.parse(agent) != fresh.parse(agent) {
            differences.append(agent)
        }
        #expect(differences.isEmpty, "\(differences.count) agents parse differently, such as \(differences.prefix(3))")
    }

    @Test("Parsers on several threads share rules from the cache, racing to compile them on first match, and agree")
    func cachedRulesOnThreads() async throws {
        let (cache, root) = try Self.makeCache()
        defer { try? FileManager.default.removeItem(at: root) }
        let text = try UserAgentRules.text(ofFile: UserAgentRules.defaultPath)
        _ = try cache.ruleSet(yaml: text, source: "a")
        let (cached, outcome) = try cache.ruleSet(yaml: text, source: "a")
        #expect(outcome == .hit)
        let agents = try PrefilterTests.oracleAgents(.debian)
        let reference = UserAgentParser(rules: try UAPCoreFixtures.shared.ruleSet(.debian))
        let expected = agents.map { reference.parse($0) }
        let results = await PrefilterTests.parsedOnFourThreads(agents, sharing: cached)
        #expect(results.count == 4)
        for result in results { #expect(result == expected) }
    }

    @Test("Another rules text is analysed and gets a file of its own; the oldest files beyond the limit go")
    func anotherText() throws {
        let (cache, root) = try Self.makeCache()
        defer { try? FileManager.default.removeItem(at: root) }
        let text = try UserAgentRules.text(ofFile: UserAgentRules.defaultPath)
        #expect(try cache.ruleSet(yaml: text, source: "a").1 == .stored)
        let changed = text + "\n# one more comment\n"
        #expect(try cache.ruleSet(yaml: changed, source: "b").1 == .stored)
        #expect(try cache.ruleSet(yaml: changed, source: "b").1 == .hit)
        #expect(try cache.ruleSet(yaml: text, source: "a").1 == .hit)
        #expect(try Self.cacheFiles(cache).count == 2)

        for comment in 0..<UserAgentRuleCache.maximumFiles {
            _ = try cache.ruleSet(yaml: text + "\n# \(comment)\n", source: "c")
        }
        #expect(try Self.cacheFiles(cache).count == UserAgentRuleCache.maximumFiles)
    }

    /// Damage done to a stored cache file.
    enum Damage: String, CaseIterable, CustomTestStringConvertible {
        case flippedByte, truncated, empty, writableByOthers, replacedBySymlink

        var testDescription: String { rawValue }

        func apply(to path: String) throws {
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            switch self {
            case .flippedByte:
                bytes[bytes.count * 2 / 3] ^= 0x10
                try Data(bytes).write(to: URL(fileURLWithPath: path))
            case .truncated:
                try Data(bytes[..<(bytes.count / 2)]).write(to: URL(fileURLWithPath: path))
            case .empty:
                try Data().write(to: URL(fileURLWithPath: path))
            case .writableByOthers:
                try FileManager.default.setAttributes([.posixPermissions: 0o666], ofItemAtPath: path)
            case .replacedBySymlink:
                try Data(bytes).write(to: URL(fileURLWithPath: path + ".real"))
                try FileManager.default.removeItem(atPath: path)
                try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: path + ".real")
            }
        }
    }

    @Test(
        "A damaged, foreign or linked cache file is not used: the rules are analysed and stored anew",
        arguments: Damage.allCases)
    func damagedFile(damage: Damage) throws {
        let (cache, root) = try Self.makeCache()
        defer { try? FileManager.default.removeItem(at: root) }
        let text = try UserAgentRules.text(ofFile: UserAgentRules.defaultPath)
        let (stored, _) = try cache.ruleSet(yaml: text, source: "a")
        let path = cache.directory + "/" + (try Self.cacheFiles(cache)[0])
        try damage.apply(to: path)

        let (reloaded, outcome) = try cache.ruleSet(yaml: text, source: "a")
        #expect(outcome == .stored)
        let (expected, actual) = (UserAgentParser(rules: stored), UserAgentParser(rules: reloaded))
        for agent in try PrefilterTests.oracleAgents(.debian).prefix(300) {
            #expect(actual.parse(agent) == expected.parse(agent))
        }
        // The file stored anew is whole, the user's alone, and used.
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect(attributes[.type] as? FileAttributeType == .typeRegular)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try cache.ruleSet(yaml: text, source: "a").1 == .hit)
    }

    @Test("A cache that cannot be written only costs the store: the rules load, and the reason is given")
    func unwritableDirectory() throws {
        let root = try TestPaths.makeTemporaryDirectory("klogs-rule-cache")
        defer { try? FileManager.default.removeItem(at: root) }
        // A file where the cache directory should be.
        let blocker = root.appendingPathComponent("klogs")
        try Data("not a directory".utf8).write(to: blocker)
        let cache = UserAgentRuleCache(directory: blocker.path)
        let text = try UserAgentRules.text(ofFile: UserAgentRules.defaultPath)
        let (ruleSet, outcome) = try cache.ruleSet(yaml: text, source: "a")
        guard case .notStored(let reason) = outcome else {
            Issue.record("expected notStored, got \(outcome)")
            return
        }
        #expect(reason.contains(blocker.path))
        #expect(UserAgentParser(rules: ruleSet).parse("curl/8.5.0").browser.family == "curl")
    }

    @Test("Rules that do not load are reported as without a cache, and nothing is stored")
    func invalidRules() throws {
        let (cache, root) = try Self.makeCache()
        defer { try? FileManager.default.removeItem(at: root) }
        let text = "user_agent_parsers:\n  - regex: '(unclosed'\nos_parsers: []\ndevice_parsers: []\n"
        #expect(throws: UserAgentError.self) { try cache.ruleSet(yaml: text, source: "bad.yaml") }
        #expect(!FileManager.default.fileExists(atPath: cache.directory))
    }

    @Test("The standard cache follows XDG_CACHE_HOME, then HOME")
    func standardDirectory() {
        func directory(_ environment: [String: String]) -> String? {
            UserAgentRuleCache.standard(environment: environment)?.directory
        }
        #expect(directory(["XDG_CACHE_HOME": "/x", "HOME": "/h"]) == "/x/klogs")
        #expect(directory(["HOME": "/h"]) == "/h/.cache/klogs")
        // A relative XDG_CACHE_HOME is invalid by the specification, and ignored.
        #expect(directory(["XDG_CACHE_HOME": "x", "HOME": "/h"]) == "/h/.cache/klogs")
        #expect(directory([:]) == nil)
    }

    @Test("An archive reader refuses lengths beyond its end")
    func readerBounds() {
        var writer = ArchiveWriter()
        writer.write([Int32](repeating: 7, count: 4))
        var bytes = writer.bytes
        var reader = ArchiveReader(bytes)
        #expect((try? reader.readArray(Int32.self)) == [7, 7, 7, 7])
        #expect(reader.atEnd)
        bytes.removeLast()
        reader = ArchiveReader(bytes)
        #expect((try? reader.readArray(Int32.self)) == nil)
        reader = ArchiveReader([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
        #expect((try? reader.readString()) == nil)
    }
}
