/// A replacement template such as `'Firefox ($1)'` or `'$1 $2'`, split once into literal text and group references.
struct ReplacementTemplate: Sendable {
    enum Piece: Sendable {
        case text(String)
        case group(Int)
    }

    let pieces: [Piece]

    /// Splits `template` at each `$1`…`$9`; any other `$` is kept as text.
    init(_ template: String) {
        var pieces: [Piece] = []
        var text: [UInt8] = []
        let bytes = Array(template.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "$"), index + 1 < bytes.count,
                (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(bytes[index + 1])
            {
                if !text.isEmpty {
                    pieces.append(.text(String(decoding: text, as: UTF8.self)))
                    text.removeAll()
                }
                pieces.append(.group(Int(bytes[index + 1] - UInt8(ascii: "0"))))
                index += 2
            } else {
                text.append(byte)
                index += 1
            }
        }
        if !text.isEmpty { pieces.append(.text(String(decoding: text, as: UTF8.self))) }
        self.pieces = pieces
    }

    /// Fills in the groups of the last match (a group that did not take part, or does not exist, gives the empty
    /// string), trims white space at both ends, and returns nil for an empty result.
    func expand(_ subject: UnsafeBufferPointer<UInt8>, _ scratch: MatchScratch) -> String? {
        var result = ""
        for piece in pieces {
            switch piece {
            case .text(let text): result += text
            case .group(let group):
                if let range = scratch.range(ofGroup: group) { result += substring(subject, range) }
            }
        }
        return trimmedOrNil(result)
    }
}

/// The text of `range` in `subject`; invalid UTF-8 is repaired with U+FFFD.
@inline(__always)
func substring(_ subject: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
    String(decoding: UnsafeBufferPointer(rebasing: subject[range]), as: UTF8.self)
}

/// `text` without leading and trailing white space, or nil when nothing is left.
func trimmedOrNil(_ text: String) -> String? {
    let utf8 = text.utf8
    guard let first = utf8.firstIndex(where: { !isSpace($0) }) else { return nil }
    // Safe because a first non-space byte exists, so a last one does too.
    let last = utf8.lastIndex(where: { !isSpace($0) })!
    if first == utf8.startIndex && last == utf8.index(before: utf8.endIndex) { return text }
    return String(text[first...last])
}

@inline(__always)
private func isSpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || (0x09...0x0D).contains(byte)
}

/// A rule's ``PatternTail``, compiled: searched before the rule, it rules the rule out or moves its start.
struct CompiledTail: Sendable {
    let pattern: CompiledPattern
    /// See ``PatternTail/headWidth``.
    let headWidth: Int?
}

/// The capture counts of a list's patterns, and of their tails (-1 where a rule has no tail, or its tail did not
/// compile), in list order: what ``UserAgentRuleCache`` keeps of a compilation.
struct KnownCaptureCounts {
    var patterns: ArraySlice<Int32>
    var tails: ArraySlice<Int32>
}

/// One list of rules (browser, OS or device) compiled with PCRE2, in file order.
final class CompiledRuleList: Sendable {
    let kind: UserAgentRules.Kind
    let patterns: [CompiledPattern]
    /// Per rule, its compiled tail, if it has one.
    let tails: [CompiledTail?]
    /// Per rule, the replacement templates in the order of the kind's fields.
    let templates: [[ReplacementTemplate?]]
    /// The largest capture count in the list.
    let maximumCaptures: Int

    /// Compiles every rule of `kind` in `rules`.
    ///
    /// - Throws: ``UserAgentError/invalidRegex(source:line:regex:offset:reason:)`` for the first rule that does not
    ///   compile.
    /// - Parameters:
    ///   - rewrite: searches the rules' ``SearchedPattern`` forms rather than their regexes as written.
    ///   - tails: the rules' tails (``LiteralPrefilter/Analysis/tails``), in list order; none when empty.
    ///   - known: the capture counts of the rules that compiled when ``UserAgentRuleCache`` stored them: each
    ///     pattern is then compiled on its first match instead of now.
    init(
        _ rules: UserAgentRules, kind: UserAgentRules.Kind, rewrite: Bool = true,
        tails: ArraySlice<PatternTail?> = [], known: KnownCaptureCounts? = nil
    ) throws(UserAgentError) {
        self.kind = kind
        var patterns: [CompiledPattern] = []
        var templates: [[ReplacementTemplate?]] = []
        let list = rules.rules(kind)
        patterns.reserveCapacity(list.count)
        templates.reserveCapacity(list.count)
        var compiledTails = [CompiledTail?](repeating: nil, count: list.count)
        for (index, tail) in zip(list.indices, tails) {
            guard let tail else { continue }
            let caseInsensitive = list[index].caseInsensitive
            if let known {
                // -1: the tail did not compile when the rules were stored.
                let captures = Int(known.tails[known.tails.startIndex + index])
                guard captures >= 0 else { continue }
                let pattern = CompiledPattern(
                    known: tail.pattern, caseInsensitive: caseInsensitive, captureCount: captures)
                compiledTails[index] = CompiledTail(pattern: pattern, headWidth: tail.headWidth)
            } else if let pattern = try? CompiledPattern(tail.pattern, caseInsensitive: caseInsensitive) {
                // A tail that does not compile (it always should: it is a piece of a valid regex) is only a lost
                // shortcut.
                compiledTails[index] = CompiledTail(pattern: pattern, headWidth: tail.headWidth)
            }
        }
        self.tails = compiledTails
        for (index, rule) in list.enumerated() {
            if let known {
                let searched = SearchedPattern(rule, rewrite: rewrite)
                patterns.append(
                    CompiledPattern(
                        known: searched.pattern, caseInsensitive: rule.caseInsensitive,
                        captureCount: Int(known.patterns[known.patterns.startIndex + index]),
                        maximumStart: searched.maximumStart))
                templates.append(rule.replacements.map { $0.map(ReplacementTemplate.init) })
                continue
            }
            do {
                let searched = SearchedPattern(rule, rewrite: rewrite)
                patterns.append(
                    try CompiledPattern(
                        searched.pattern, caseInsensitive: rule.caseInsensitive, maximumStart: searched.maximumStart))
            } catch {
                // A rewritten pattern is a suffix of the regex.
                let skipped = rule.regex.utf8.count - SearchedPattern(rule, rewrite: rewrite).pattern.utf8.count
                throw .invalidRegex(
                    source: rules.source, line: rule.line, regex: rule.regex, offset: error.offset + skipped,
                    reason: error.message)
            }
            templates.append(rule.replacements.map { $0.map(ReplacementTemplate.init) })
        }
        self.patterns = patterns
        self.templates = templates
        maximumCaptures = patterns.map(\.captureCount).max() ?? 0
    }

    /// The capture counts of the list's patterns and tails, for ``KnownCaptureCounts``.
    var captureCounts: (patterns: [Int32], tails: [Int32]) {
        (patterns.map { Int32($0.captureCount) }, tails.map { $0.map { Int32($0.pattern.captureCount) } ?? -1 })
    }

    /// Builds the browser or OS result of rule `index`, which has just matched.
    ///
    /// - Parameter fieldCount: how many fields to build (family, major, minor, patch, patch minor); the rest stay
    ///   nil. The classifier needs only two.
    func versioned(
        rule index: Int, _ subject: UnsafeBufferPointer<UInt8>, _ scratch: MatchScratch, fieldCount: Int = 5
    ) -> ParsedUserAgent.Versioned {
        let templates = self.templates[index]
        @inline(__always)
        func field(_ field: Int) -> String? {
            if field >= fieldCount { return nil }
            if let template = templates[field] { return template.expand(subject, scratch) }
            if let range = scratch.range(ofGroup: field + 1), !range.isEmpty { return substring(subject, range) }
            return nil
        }
        return ParsedUserAgent.Versioned(
            family: field(0) ?? "Other", major: field(1), minor: field(2), patch: field(3), patchMinor: field(4))
    }

    /// Builds the device result of rule `index`, which has just matched.
    func device(rule index: Int, _ subject: UnsafeBufferPointer<UInt8>, _ scratch: MatchScratch)
        -> ParsedUserAgent.Device
    {
        let templates = self.templates[index]
        // The first group's text, made only for a family or model without a template.
        var firstGroupText: String?? = nil
        func firstGroup() -> String? {
            if let known = firstGroupText { return known }
            let text = scratch.range(ofGroup: 1).flatMap { trimmedOrNil(substring(subject, $0)) }
            firstGroupText = .some(text)
            return text
        }
        let family = templates[0].map { $0.expand(subject, scratch) } ?? firstGroup()
        let brand = templates[1].flatMap { $0.expand(subject, scratch) }
        let model = templates[2].map { $0.expand(subject, scratch) } ?? firstGroup()
        return ParsedUserAgent.Device(family: family ?? "Other", brand: brand, model: model)
    }
}
