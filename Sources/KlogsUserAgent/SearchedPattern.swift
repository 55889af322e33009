/// The regex that is actually handed to PCRE2 for a rule, which is the rule's own regex except for one costly and
/// common shape: a leading `^.{0,N}` or `^.{0,N}?` (uap-core's generic bot rules).
///
/// PCRE2 runs `^.{0,N}X` by trying `X` at each of the first N offsets (greedy: from the N-th offset back), and `X` is
/// often a hundred-way alternation: some 20 k instructions per run, the costliest rules of the set. The same answer
/// comes from searching `X` alone, unanchored, and accepting its leftmost match only if it starts at offset N or
/// before with no line feed in front of it (`.` does not match one), because:
/// - with the lazy `^.{0,N}?`, the original tries the offsets in increasing order and takes the first one where `X`
///   matches, which is exactly the leftmost match of `X`, captures included;
/// - with the greedy `^.{0,N}`, the original takes the last such offset instead, so its captures may differ: the
///   rewrite is used only when the rule's replacements do not use the captures (every replacement given, none with
///   `$1`…`$9`), so that only "does it match" matters.
///
/// Searching `X` alone then lets the prefilter start PCRE2 at the first occurrence of the literals `X` must begin
/// with (``LiteralPrefilter/startOffset(_:_:)``) instead of at offset 0.
struct SearchedPattern: Sendable, Equatable {
    /// The regex given to PCRE2.
    var pattern: String
    /// The last offset at which a match may start, for a rewritten rule; nil when any start is fine.
    var maximumStart: Int?

    /// The searched form of `rule`.
    ///
    /// - Parameter rewrite: false keeps every regex as written (the reference behaviour the rewrite must reproduce).
    init(_ rule: UserAgentRules.Rule, rewrite: Bool = true) {
        pattern = rule.regex
        maximumStart = nil
        guard rewrite, CompiledPattern.newlineIsLineFeed, let (limit, isLazy, rest) = Self.leadingWildcard(rule.regex)
        else { return }
        guard isLazy || !Self.usesCaptures(rule.replacements) else { return }
        pattern = rest
        maximumStart = limit
    }

    /// Splits `^.{0,N}` or `^.{0,N}?` off the front of `regex`: N, whether it is lazy, and the rest; nil when the regex
    /// does not start so, or when the rest cannot stand alone (it has a top-level `|`, or uses `\G` or `\K`, whose
    /// meaning depends on where the match starts, or `\Q`, which this reading does not model).
    static func leadingWildcard(_ regex: String) -> (Int, Bool, String)? {
        let bytes = Array(regex.utf8)
        let opening = Array("^.{0,".utf8)
        guard bytes.starts(with: opening) else { return nil }
        var index = opening.count
        var limit = 0
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]), limit < 100_000 {
            limit = limit * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        guard index > opening.count, index < bytes.count, bytes[index] == UInt8(ascii: "}") else { return nil }
        index += 1
        var isLazy = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "?") {
            isLazy = true
            index += 1
        }
        // A possessive `+` would change the meaning; so would a quantifier of the rest's first atom being empty.
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") { return nil }
        let rest = Array(bytes[index...])
        guard !rest.isEmpty, !hasTopLevelAlternation(rest), !containsBytes(rest, Array("\\G".utf8)),
            !containsBytes(rest, Array("\\K".utf8)), !containsBytes(rest, Array("\\Q".utf8))
        else { return nil }
        return (limit, isLazy, String(decoding: rest, as: UTF8.self))
    }

    /// Whether any replacement is absent (so a capture fills the field) or refers to a capture.
    static func usesCaptures(_ replacements: [String?]) -> Bool {
        replacements.contains { replacement in
            guard let replacement else { return true }
            return ReplacementTemplate(replacement).pieces.contains {
                if case .group = $0 { true } else { false }
            }
        }
    }

    /// Whether `pattern` has a `|` outside every group and class (then `^.{0,N}` belonged to the first branch only).
    private static func hasTopLevelAlternation(_ pattern: [UInt8]) -> Bool {
        var depth = 0
        var index = 0
        while index < pattern.count {
            switch pattern[index] {
            case UInt8(ascii: "\\"): index += 1
            case UInt8(ascii: "("): depth += 1
            case UInt8(ascii: ")"): depth -= 1
            case UInt8(ascii: "|") where depth == 0: return true
            case UInt8(ascii: "["):
                // A class: `]` right after `[` or `[^` is a member; escapes are skipped.
                index += 1
                if index < pattern.count, pattern[index] == UInt8(ascii: "^") { index += 1 }
                if index < pattern.count, pattern[index] == UInt8(ascii: "]") { index += 1 }
                while index < pattern.count, pattern[index] != UInt8(ascii: "]") {
                    if pattern[index] == UInt8(ascii: "\\") { index += 1 }
                    index += 1
                }
            default: break
            }
            index += 1
        }
        return false
    }
}
