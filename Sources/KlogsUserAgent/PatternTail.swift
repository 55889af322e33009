/// A cheaper test of whether a rule can match, for a rule whose matches begin with a stretch that no literal pins down,
/// such as uap-core's generic bot rule `(?:\/[A-Za-z0-9\.]{0,50}|) {0,2}([A-Za-z0-9 \-_\!\[\]:]{0,50}(?:[Aa]rchiver|
/// [Ii]ndexer|[Ss]craper|[Bb]ot|[Ss]pider|[Cc]rawl[a-z]{0,50}))[/ ](\d+)…` (searched form).
///
/// PCRE2 finds the leftmost match of such a rule by trying each start offset in turn, running the leading loops and
/// backtracking through them at every one: a search that fails on a 100-byte user agent costs several microseconds,
/// the costliest runs of the rule set. Every match, though, passes through the part of the pattern that begins with a
/// literal (the *tail*: `(?:[Aa]rchiver|…|[Cc]rawl[a-z]{0,50})[/ ](\d+)…`), and the tail alone, searched unanchored,
/// is found or ruled out at a fraction of the cost (PCRE2 skips to the bytes that can begin it). So the tail is
/// searched first: if it does not occur, the rule cannot match; if its leftmost match starts at `t`, the rule's match
/// cannot start before `t − headWidth`.
///
/// The split is sound because the tail lies on every path through the pattern: at the top level, or inside groups
/// that every match passes through exactly once (capturing, non-capturing or atomic groups without alternatives or
/// quantifiers), whose closing parentheses the tail drops. A match of the rule that reaches the tail at offset `k` then
/// contains a match of the tail starting at `k`, which an unanchored search finds (at `k` or before). Patterns that use
/// constructs whose meaning depends on the rest of the pattern (back-references, conditionals, recursion, option
/// settings, verbs, `\Q`) get no tail.
struct PatternTail: Equatable, Sendable {
    /// The regex of the tail.
    var pattern: String
    /// The most bytes the head spans (from the start of a match to where its tail begins); nil when unbounded.
    var headWidth: Int?

    /// A rule gets a tail only if its matches may start this many bytes or more before their first literal (or the
    /// analysis found no such literal): a rule that starts at its literal already lets PCRE2 begin there.
    static let minimumLead = 16

    /// The tail of `pattern`, whose ``RequiredLiterals/prefixes`` are `prefixes`: the first point on every path through
    /// the pattern, after some of it, from which every match begins with a literal of at least two bytes; nil when
    /// there is none, or when the pattern needs no tail (its matches begin at most ``minimumLead`` bytes before a
    /// literal the prefilter finds).
    init?(pattern: String, prefixes: [Atom: Int]?) {
        if let prefixes, let lead = prefixes.values.max(), lead < Self.minimumLead { return nil }
        let bytes = Array(pattern.utf8)
        var parser = RegexItems(bytes)
        guard let branches = parser.parseBranches(), parser.atEnd, branches.count == 1 else { return nil }
        let table = AtomTable()
        guard let split = Self.split(branches[0], end: bytes.count, closings: [], after: false, bytes, table) else {
            return nil
        }
        // The head, with the groups around the split point closed, spans what a match covers before its tail.
        let head = bytes[..<split.start] + repeatElement(UInt8(ascii: ")"), count: split.closings.count)
        let headWidth = RequiredLiterals.maximumLength(of: String(decoding: head, as: UTF8.self), atoms: table)
        if headWidth == 0 { return nil }
        var tail = Array(bytes[split.start...])
        // The outermost group closes last: from there inwards, so that each removal leaves the next offset valid.
        for closing in split.closings.sorted(by: >) { tail.remove(at: closing - split.start) }
        self.pattern = String(decoding: tail, as: UTF8.self)
        self.headWidth = headWidth
    }

    /// The first item of `items` (a concatenation ending at `end`), or of a group among them that every match passes
    /// through once, from which the rest of its concatenation begins with a literal, when something comes before it
    /// (`after`, or an earlier item); with the offsets of the closing parentheses of the groups around it.
    private static func split(
        _ items: [RegexItems.Item], end: Int, closings: [Int], after: Bool, _ bytes: [UInt8], _ table: AtomTable
    ) -> (start: Int, closings: [Int])? {
        for (index, item) in items.enumerated() {
            let hasHead = after || index > 0
            if hasHead, item.mayBeginLiteral {
                let rest = String(decoding: bytes[item.range.lowerBound..<end], as: UTF8.self)
                if let prefixes = RequiredLiterals(pattern: rest, atoms: table).prefixes,
                    prefixes.values.allSatisfy({ $0 == 0 })
                {
                    return (item.range.lowerBound, closings)
                }
            }
            if let group = item.group, group.isPassedOnce,
                let inner = split(
                    group.branches[0], end: group.close, closings: closings + [group.close], after: hasHead, bytes,
                    table)
            {
                return inner
            }
        }
        return nil
    }
}

/// The items of a regular expression in PCRE2 syntax, as far as ``PatternTail`` needs them: each concatenation as a
/// list of items (an atom with its quantifier), groups with their branches. Gives up (nil) on any construct it does
/// not model.
private struct RegexItems {
    /// One atom of a concatenation and its quantifier.
    struct Item {
        /// The atom and its quantifier.
        var range: Range<Int>
        /// Whether a match of the item may begin with a literal byte: not quantified to zero, not `.` nor a class
        /// escape (`\d`, `\w` …); a group or a class qualifies (the analysis decides).
        var mayBeginLiteral: Bool
        var group: Group?
    }

    struct Group {
        var branches: [[Item]]
        /// The offset of the closing parenthesis.
        var close: Int
        /// Every match passes through the group exactly once, and the group does not change what the rest of the
        /// pattern means: a capturing, non-capturing or atomic group, with one branch and no quantifier.
        var isPassedOnce: Bool
    }

    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var atEnd: Bool { position == bytes.count }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private func peek(_ offset: Int) -> UInt8? {
        offset < bytes.count ? bytes[offset] : nil
    }

    /// Branches separated by `|`, up to a `)` (not consumed) or the end.
    mutating func parseBranches() -> [[Item]]? {
        var branches: [[Item]] = [[]]
        while let byte = current, byte != UInt8(ascii: ")") {
            if byte == UInt8(ascii: "|") {
                branches.append([])
                position += 1
                continue
            }
            guard let item = parseItem() else { return nil }
            branches[branches.count - 1].append(item)
        }
        return branches
    }

    /// One atom and its quantifier.
    private mutating func parseItem() -> Item? {
        let start = position
        var mayBeginLiteral = true
        var group: Group? = nil
        switch bytes[position] {
        case UInt8(ascii: "("):
            guard let (opener, passable) = groupOpener() else { return nil }
            position += opener
            guard let branches = parseBranches(), current == UInt8(ascii: ")") else { return nil }
            group = Group(branches: branches, close: position, isPassedOnce: passable && branches.count == 1)
            position += 1
        case UInt8(ascii: "["):
            guard skipClass() else { return nil }
        case UInt8(ascii: "\\"):
            guard let next = peek(position + 1), let literal = Self.escapeIsLiteral(next) else { return nil }
            mayBeginLiteral = literal
            position += 2
        case UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "$"):
            mayBeginLiteral = false
            position += 1
        case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"):
            return nil
        default:
            position += 1
        }
        // `{,n}` is a quantifier from PCRE2 10.43 on, a literal before: either way, not modelled.
        if current == UInt8(ascii: "{"), peek(position + 1) == UInt8(ascii: ",") { return nil }
        if let minimum = parseQuantifier() {
            if minimum == 0 { mayBeginLiteral = false }
            group?.isPassedOnce = false
        }
        return Item(range: start..<position, mayBeginLiteral: mayBeginLiteral, group: group)
    }

    /// The length of the group opener at `position` and whether the group may be split into (capturing,
    /// non-capturing, atomic); nil for an opener this reading does not model (options, conditionals, verbs …).
    private func groupOpener() -> (Int, Bool)? {
        guard peek(position + 1) == UInt8(ascii: "?") else {
            return peek(position + 1) == UInt8(ascii: "*") ? nil : (1, true)
        }
        switch peek(position + 2) {
        case UInt8(ascii: ":"), UInt8(ascii: ">"): return (3, true)
        case UInt8(ascii: "="), UInt8(ascii: "!"): return (3, false)
        case UInt8(ascii: "<"):
            let next = peek(position + 3)
            if next == UInt8(ascii: "=") || next == UInt8(ascii: "!") { return (4, false) }
            return nil
        default: return nil
        }
    }

    /// Whether the escaped byte is a literal (`\.`, `\/`, `\t` …: true), a class or an assertion (`\d`, `\b` …:
    /// false), or something this reading does not model (back-references, `\Q`, `\x` …: nil).
    private static func escapeIsLiteral(_ byte: UInt8) -> Bool? {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            if Array("tnrfe".utf8).contains(byte) { return true }
            if Array("dDwWsSbBhHvVAzZ".utf8).contains(byte) { return false }
            return nil
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return nil
        default: return byte < 0x80 ? true : nil
        }
    }

    /// Skips a class `[…]`; false if it does not end or uses POSIX names (`[:alpha:]`).
    private mutating func skipClass() -> Bool {
        position += 1
        if current == UInt8(ascii: "^") { position += 1 }
        if current == UInt8(ascii: "]") { position += 1 }
        while let byte = current, byte != UInt8(ascii: "]") {
            if byte == UInt8(ascii: "\\") {
                guard let next = peek(position + 1), Self.escapeIsLiteral(next) != nil else { return false }
                position += 1
            } else if byte == UInt8(ascii: "["), peek(position + 1) == UInt8(ascii: ":") {
                return false
            }
            position += 1
        }
        guard current == UInt8(ascii: "]") else { return false }
        position += 1
        return true
    }

    /// Consumes a quantifier (`*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, each maybe lazy or possessive) and returns its
    /// minimum; nil, consuming nothing, when none follows (a `{` that starts no quantifier is a literal).
    private mutating func parseQuantifier() -> Int? {
        let minimum: Int
        switch current {
        case UInt8(ascii: "*"), UInt8(ascii: "?"):
            minimum = 0
            position += 1
        case UInt8(ascii: "+"):
            minimum = 1
            position += 1
        case UInt8(ascii: "{"):
            var index = position + 1
            var low = 0
            var digits = 0
            while let byte = peek(index), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                low = min(low * 10 + Int(byte - UInt8(ascii: "0")), 1 << 20)
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            if peek(index) == UInt8(ascii: ",") {
                index += 1
                while let byte = peek(index), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
            }
            guard peek(index) == UInt8(ascii: "}") else { return nil }
            minimum = low
            position = index + 1
        default:
            return nil
        }
        if current == UInt8(ascii: "?") || current == UInt8(ascii: "+") { position += 1 }
        return minimum
    }
}
