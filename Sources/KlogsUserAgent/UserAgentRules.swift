import Foundation
import Yams

/// The uap-core rule set as written in a `regexes.yaml`: three ordered lists of regular expressions with their
/// replacements, not yet compiled.
///
/// ```swift
/// let rules = try UserAgentRules(contentsOfFile: UserAgentRules.defaultPath)
/// print(rules.browserRules.count)   // about 600
/// ```
public struct UserAgentRules: Sendable {
    /// Debian's `uap-core` package: `/usr/share/uap-core/regexes.yaml`.
    public static let defaultPath = "/usr/share/uap-core/regexes.yaml"

    /// Which of the three lists a rule belongs to; decides the meaning of its replacements.
    public enum Kind: String, Sendable, CaseIterable {
        /// `user_agent_parsers`: family, major, minor, patch, patch minor.
        case browser = "user_agent_parsers"
        /// `os_parsers`: family, major, minor, patch, patch minor.
        case os = "os_parsers"
        /// `device_parsers`: family, brand, model.
        case device = "device_parsers"

        /// The YAML keys of the replacements, in the order of ``Rule/replacements``.
        var replacementKeys: [String] {
            switch self {
            case .browser:
                ["family_replacement", "v1_replacement", "v2_replacement", "v3_replacement", "v4_replacement"]
            case .os:
                ["os_replacement", "os_v1_replacement", "os_v2_replacement", "os_v3_replacement", "os_v4_replacement"]
            case .device: ["device_replacement", "brand_replacement", "model_replacement"]
            }
        }
    }

    /// One entry of a list: a pattern and its optional replacements.
    public struct Rule: Sendable, Equatable {
        /// The regular expression, unanchored.
        public var regex: String
        /// `regex_flag: 'i'`: match without regard to case.
        public var caseInsensitive: Bool
        /// The replacement templates in the order of the kind's fields (see ``Kind``); nil where absent.
        public var replacements: [String?]
        /// The 1-based line of the rule's `regex:` key in the YAML file, for error messages.
        public var line: Int

        public init(regex: String, caseInsensitive: Bool = false, replacements: [String?], line: Int = 0) {
            self.regex = regex
            self.caseInsensitive = caseInsensitive
            self.replacements = replacements
            self.line = line
        }
    }

    /// The `user_agent_parsers` list, in file order.
    public var browserRules: [Rule]
    /// The `os_parsers` list, in file order.
    public var osRules: [Rule]
    /// The `device_parsers` list, in file order.
    public var deviceRules: [Rule]
    /// Where the rules came from (a path, or a label), for error messages.
    public var source: String

    /// The list of the given kind.
    public func rules(_ kind: Kind) -> [Rule] {
        switch kind {
        case .browser: browserRules
        case .os: osRules
        case .device: deviceRules
        }
    }

    /// Reads and parses a `regexes.yaml`.
    ///
    /// - Parameter path: the file to read.
    /// - Throws: ``UserAgentError/cannotReadRules(path:reason:)`` or ``UserAgentError/invalidRules(source:line:reason:)``.
    public init(contentsOfFile path: String) throws(UserAgentError) {
        try self.init(yaml: Self.text(ofFile: path), source: path)
    }

    /// The text of a rules file, for a caller that uses it twice (an ingest also takes its vocabulary from it) and
    /// would otherwise read it twice.
    ///
    /// - Throws: ``UserAgentError/cannotReadRules(path:reason:)``.
    public static func text(ofFile path: String) throws(UserAgentError) -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .cannotReadRules(path: path, reason: String(describing: error.localizedDescription))
        }
    }

    /// Parses the text of a `regexes.yaml`.
    ///
    /// - Parameters:
    ///   - yaml: the YAML document.
    ///   - source: a path or label to name in error messages.
    /// - Throws: ``UserAgentError/invalidRules(source:line:reason:)`` naming the line of the offending rule.
    public init(yaml: String, source: String) throws(UserAgentError) {
        self.source = source
        // The plain file straight from libyaml's events; anything else (and every error) through Yams' node tree.
        guard let lists = RuleFileEvents.ruleLists(yaml) else {
            let lists = try Self.composedRules(yaml: yaml, source: source)
            (browserRules, osRules, deviceRules) = (lists[.browser] ?? [], lists[.os] ?? [], lists[.device] ?? [])
            return
        }
        // The same checks in the same order as `composedRules`, so that both paths report the same first error.
        func rules(_ kind: Kind) throws(UserAgentError) -> [Rule] {
            guard let list = lists[kind] else {
                throw .invalidRules(source: source, line: 0, reason: "the list \(kind.rawValue) is missing")
            }
            return try list.map { entry throws(UserAgentError) in
                try Self.rule(entry.pairs, line: entry.line, kind: kind, source: source)
            }
        }
        browserRules = try rules(.browser)
        osRules = try rules(.os)
        deviceRules = try rules(.device)
    }

    /// The rule lists of `yaml` composed by Yams.
    ///
    /// - Throws: ``UserAgentError/invalidRules(source:line:reason:)`` for invalid YAML, a document of another shape,
    ///   a missing list or a malformed rule (the first, in file order).
    static func composedRules(yaml: String, source: String) throws(UserAgentError) -> [Kind: [Rule]] {
        let root: Node?
        do {
            // The basic resolver: every scalar is a string (no implicit int, bool or null resolution by regex).
            root = try Yams.compose(yaml: yaml, .basic)
        } catch {
            throw .invalidRules(source: source, line: 0, reason: "not valid YAML: \(error)")
        }
        guard let mapping = root?.mapping else {
            throw .invalidRules(
                source: source, line: 0,
                reason: "expected a mapping with user_agent_parsers, os_parsers and device_parsers")
        }
        var sections: [String: Node.Sequence] = [:]
        for (key, value) in mapping {
            if let name = key.scalar?.string, let sequence = value.sequence { sections[name] = sequence }
        }
        var lists: [Kind: [Rule]] = [:]
        for kind in Kind.allCases {
            guard let sequence = sections[kind.rawValue] else {
                throw .invalidRules(source: source, line: 0, reason: "the list \(kind.rawValue) is missing")
            }
            lists[kind] = try sequence.map { node throws(UserAgentError) in
                let (pairs, line) = try Self.pairs(of: node, kind: kind, source: source)
                return try Self.rule(pairs, line: line, kind: kind, source: source)
            }
        }
        return lists
    }

    /// The key-value pairs of a rule's node (keys that are not text are skipped) and its line.
    private static func pairs(of node: Node, kind: Kind, source: String) throws(UserAgentError)
        -> (pairs: [(String, String)], line: Int)
    {
        let line = node.mark.map { $0.line } ?? 0
        guard let entry = node.mapping else {
            throw .invalidRules(source: source, line: line, reason: "a rule in \(kind.rawValue) is not a mapping")
        }
        var pairs: [(String, String)] = []
        for (key, value) in entry {
            guard let name = key.scalar?.string else { continue }
            guard let text = value.scalar?.string else {
                throw .invalidRules(
                    source: source, line: line, reason: "\(name) in a rule of \(kind.rawValue) is not text")
            }
            pairs.append((name, text))
        }
        return (pairs, line)
    }

    /// The rule made of a rule mapping's pairs.
    private static func rule(_ pairs: [(String, String)], line: Int, kind: Kind, source: String)
        throws(UserAgentError) -> Rule
    {
        // Each value is put where it belongs: a dictionary per rule costs hashing for six keys at most.
        let keys = kind.replacementKeys
        var regex: String?
        var flag: String?
        var replacements = [String?](repeating: nil, count: keys.count)
        for (name, text) in pairs {
            if name == "regex" {
                regex = text
            } else if name == "regex_flag" {
                flag = text
            } else if let field = keys.firstIndex(of: name) {
                // An empty replacement counts as absent, as in the reference implementations.
                replacements[field] = text.isEmpty ? nil : text
            }
        }
        guard let regex else {
            throw .invalidRules(source: source, line: line, reason: "a rule in \(kind.rawValue) has no regex")
        }
        var caseInsensitive = false
        if let flag {
            guard flag == "i" else {
                throw .invalidRules(
                    source: source, line: line, reason: "unknown regex_flag '\(flag)' (only 'i' is defined)")
            }
            caseInsensitive = true
        }
        return Rule(regex: regex, caseInsensitive: caseInsensitive, replacements: replacements, line: line)
    }
}

/// Everything that can go wrong in this module; each case says what, where and how to fix it.
public enum UserAgentError: Error, Equatable, CustomStringConvertible {
    /// The rule file could not be read.
    case cannotReadRules(path: String, reason: String)
    /// The rule file is not a uap-core `regexes.yaml`, or a rule in it is malformed.
    case invalidRules(source: String, line: Int, reason: String)
    /// A rule's regular expression does not compile with PCRE2.
    case invalidRegex(source: String, line: Int, regex: String, offset: Int, reason: String)

    public var description: String {
        switch self {
        case .cannotReadRules(let path, let reason):
            "\(path): cannot read the user-agent rules (\(reason)); pass a uap-core regexes.yaml with --ua-rules"
                + " or install Debian's uap-core package"
        case .invalidRules(let source, let line, let reason):
            "\(source)\(line > 0 ? ":\(line)" : ""): \(reason); expected a uap-core regexes.yaml"
        case .invalidRegex(let source, let line, let regex, let offset, let reason):
            "\(source):\(line): the regex '\(regex)' does not compile with PCRE2 at offset \(offset): \(reason);"
                + " fix or remove the rule"
        }
    }
}
