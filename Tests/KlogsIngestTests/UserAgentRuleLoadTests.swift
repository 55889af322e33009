import Foundation
import KlogsTestSupport
import KlogsUserAgent
import Testing

@testable import KlogsIngest

/// The rules of an ingest from one read of the file: the same rule set and vocabulary as before, and the same
/// errors, reported before anything is written.
@Suite struct UserAgentRuleLoadTests {
    static let smallRules = TestPaths.fixtures.appendingPathComponent("small-ua-rules.yaml").path
    static let sample = TestPaths.fixtures.appendingPathComponent("sample-access.log").path

    @Test func givesTheRulesAndTheVocabularyOfTheFile() throws {
        let loaded = try UserAgentRuleLoad(path: Self.smallRules)
        #expect(loaded.rules.source == Self.smallRules)
        let text = try String(contentsOfFile: Self.smallRules, encoding: .utf8)
        let fromPath = try #require(UserAgentVocabulary(rulesPath: Self.smallRules))
        for word in UserAgentVocabulary.words(of: text).all {
            #expect(loaded.vocabulary.isKnown(word) && fromPath.isKnown(word))
        }
        #expect(!loaded.vocabulary.isKnown("Canaryxq7zbot"))
    }

    @Test func aMissingFileFailsTheRunBeforeAnythingIsWritten() throws {
        let directory = try TemporaryDirectory()
        var configuration = IngestConfiguration(dataDirectory: directory.path + "/data", inputs: [Self.sample])
        configuration.userAgentRules = directory.path + "/nonexistent/regexes.yaml"
        let failure = try #require(throws: IngestFailure.self) { try Ingestor(configuration: configuration).run() }
        #expect(failure.message.contains("cannot load the user-agent rules"))
        #expect(failure.message.contains("nonexistent/regexes.yaml") && failure.message.contains("--ua-rules"))
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/data/events"))
    }

    @Test func aBadRuleIsNamedWithItsLine() throws {
        let directory = try TemporaryDirectory()
        let rules = directory.path + "/bad.yaml"
        try "user_agent_parsers:\n  - regex: '(Firefox'\nos_parsers: []\ndevice_parsers: []\n"
            .write(toFile: rules, atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try UserAgentRuleLoad(path: rules) }
        var configuration = IngestConfiguration(dataDirectory: directory.path + "/data", inputs: [Self.sample])
        configuration.userAgentRules = rules
        let failure = try #require(throws: IngestFailure.self) { try Ingestor(configuration: configuration).run() }
        #expect(failure.message.contains("bad.yaml:2") && failure.message.contains("does not compile"))
    }
}
