import Foundation
import KlogsTestSupport
import Testing
import Yams

@testable import KlogsUserAgent

/// One copy of uap-core: a `regexes.yaml` and the test files written against it.
struct UAPCoreCopy: Sendable, CustomTestStringConvertible {
    var name: String
    var rulesPath: String
    var testsDirectory: String

    var testDescription: String { name }

    static let debian = UAPCoreCopy(
        name: "Debian uap-core 0.16", rulesPath: UserAgentRules.defaultPath,
        testsDirectory: "/usr/share/uap-core/tests")
    static let upstream = UAPCoreCopy(
        name: "upstream uap-core", rulesPath: TestPaths.corpus.appendingPathComponent("uap-core/regexes.yaml").path,
        testsDirectory: TestPaths.corpus.appendingPathComponent("uap-core/tests").path)
    static let all = [debian, upstream]
}

/// One of uap-core's three test files.
enum UAPCoreSuite: String, Sendable, CaseIterable {
    case browser = "test_ua.yaml"
    case os = "test_os.yaml"
    case device = "test_device.yaml"

    /// The fields uap-core's own runners compare. `test_ua.yaml` also has a `patch_minor` on some cases, which the
    /// specification does not define for browsers and the reference runners ignore.
    var comparedFields: [String] {
        switch self {
        case .browser: ["family", "major", "minor", "patch"]
        case .os: ["family", "major", "minor", "patch", "patch_minor"]
        case .device: ["family", "brand", "model"]
        }
    }
}

/// A test case: the user agent and the expected fields by name (`family`, `major`, …, `brand`, `model`).
struct UAPCoreCase: Sendable {
    var userAgent: String
    var expected: [String: String?]
}

/// Loads test files and rule sets once per process, since several tests share them.
final class UAPCoreFixtures: Sendable {
    static let shared = UAPCoreFixtures()
    private let lock = NSLock()
    nonisolated(unsafe) private var cases: [String: [UAPCoreCase]] = [:]
    nonisolated(unsafe) private var ruleSets: [String: UserAgentRuleSet] = [:]

    func cases(_ copy: UAPCoreCopy, _ suite: UAPCoreSuite) throws -> [UAPCoreCase] {
        let path = copy.testsDirectory + "/" + suite.rawValue
        lock.lock()
        defer { lock.unlock() }
        if let known = cases[path] { return known }
        let loaded = try Self.loadCases(path)
        cases[path] = loaded
        return loaded
    }

    func ruleSet(_ copy: UAPCoreCopy, usePrefilter: Bool = true) throws -> UserAgentRuleSet {
        let key = copy.rulesPath + (usePrefilter ? "" : "#all")
        lock.lock()
        defer { lock.unlock() }
        if let known = ruleSets[key] { return known }
        let loaded = try UserAgentRuleSet(UserAgentRules(contentsOfFile: copy.rulesPath), usePrefilter: usePrefilter)
        ruleSets[key] = loaded
        return loaded
    }

    private static func loadCases(_ path: String) throws -> [UAPCoreCase] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let root = try Yams.compose(yaml: text, .basic)?.mapping
        guard let list = root?.first(where: { $0.key.scalar?.string == "test_cases" })?.value.sequence else {
            throw CocoaError(.fileReadCorruptFile)
        }
        return list.compactMap { node -> UAPCoreCase? in
            guard let mapping = node.mapping else { return nil }
            var userAgent: String? = nil
            var expected: [String: String?] = [:]
            for (key, value) in mapping {
                guard let name = key.scalar?.string, let scalar = value.scalar else { continue }
                if name == "user_agent_string" {
                    userAgent = scalar.string
                } else if scalar.style == .plain && (scalar.string.isEmpty || scalar.string == "null" || scalar.string == "~") {
                    // An empty plain scalar is YAML's null.
                    expected[name] = .some(nil)
                } else {
                    expected[name] = .some(scalar.string)
                }
            }
            return userAgent.map { UAPCoreCase(userAgent: $0, expected: expected) }
        }
    }
}

/// The fields a suite compares, read from a parse result.
func actualFields(_ parsed: ParsedUserAgent, _ suite: UAPCoreSuite) -> [String: String?] {
    switch suite {
    case .browser:
        ["family": parsed.browser.family, "major": parsed.browser.major, "minor": parsed.browser.minor,
         "patch": parsed.browser.patch, "patch_minor": parsed.browser.patchMinor]
    case .os:
        ["family": parsed.os.family, "major": parsed.os.major, "minor": parsed.os.minor,
         "patch": parsed.os.patch, "patch_minor": parsed.os.patchMinor]
    case .device:
        ["family": parsed.device.family, "brand": parsed.device.brand, "model": parsed.device.model]
    }
}

@Suite("uap-core's own test suites")
struct UAPCoreSuiteTests {
    @Test("Every case of uap-core's test files gives the expected fields", arguments: UAPCoreCopy.all, UAPCoreSuite.allCases)
    func suitePasses(copy: UAPCoreCopy, suite: UAPCoreSuite) throws {
        let cases = try UAPCoreFixtures.shared.cases(copy, suite)
        let parser = UserAgentParser(rules: try UAPCoreFixtures.shared.ruleSet(copy))
        var failures: [String] = []
        for testCase in cases {
            let actual = actualFields(parser.parse(testCase.userAgent), suite)
            for field in suite.comparedFields {
                let expected = testCase.expected[field] ?? nil
                let got = actual[field] ?? nil
                if got != expected {
                    failures.append(
                        "\(testCase.userAgent)\n    \(field): expected \(expected.map { "'\($0)'" } ?? "null"),"
                            + " got \(got.map { "'\($0)'" } ?? "null")")
                }
            }
        }
        let passed = cases.count - Set(failures.map { $0.prefix { $0 != "\n" } }).count
        print("\(copy.name) \(suite.rawValue): \(passed)/\(cases.count) cases pass")
        #expect(cases.count > 400)
        #expect(failures.isEmpty, "\(failures.count) mismatches:\n\(failures.prefix(40).joined(separator: "\n"))")
    }
}
