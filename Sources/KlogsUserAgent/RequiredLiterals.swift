/// What a regular expression needs to be present in a subject before it can match: a conjunction of clauses, each
/// clause a set of alternative literals ("atoms"), all lowercased, at least one of which must occur.
///
/// This is the analysis behind RE2's `FilteredRE2` (and the `regex-filtered` crate), written for the PCRE2 syntax
/// that uap-core uses. It is conservative: whatever it cannot understand becomes "no requirement", so a rule is
/// never skipped wrongly, only tried needlessly. Atoms are numbers in the ``AtomTable`` the analysis was given.
struct RequiredLiterals: Equatable {
    /// All of these clauses must hold; an empty list means the regex may match anything.
    var clauses: [AtomSet]
    /// Every match has one of these atoms (lowercased, at least ``minimumAtomLength`` bytes each) starting at most
    /// the given number of bytes after its own start (0: the match begins with the atom); nil when the analysis
    /// cannot say. The prefilter starts PCRE2 that many bytes before the first of them in the user agent.
    var prefixes: [Atom: Int]?
    /// The most bytes a match can span; nil when unbounded or unknown.
    var maximumLength: Int?

    static let none = RequiredLiterals(clauses: [])

    /// Atoms shorter than this are too common to be worth a lookup; a clause with one is dropped.
    static let minimumAtomLength = 2
    /// A prefix set larger than this is dropped (it would only bloat the automaton).
    static let maximumPrefixCount = 512

    /// `atoms` as prefixes that start a match: nil if one is shorter than ``minimumAtomLength`` or there are too
    /// many.
    static func prefixSet(_ atoms: AtomSet, _ table: AtomTable) -> [Atom: Int]? {
        guard !atoms.isEmpty, atoms.count <= maximumPrefixCount,
            atoms.allSatisfy({ table.length($0) >= minimumAtomLength })
        else { return nil }
        var prefixes = [Atom: Int](minimumCapacity: atoms.count)
        for atom in atoms { prefixes[atom] = 0 }
        return prefixes
    }

    /// The clause least likely to be present in a user agent: the lowest total `cost` of its atoms (a clause
    /// holds when any of its atoms occurs), then the longest shortest atom (longer literals are rarer), then the
    /// fewest atoms.
    func bestClause(_ table: AtomTable, cost: (Atom) -> Int = { _ in 0 }) -> AtomSet? {
        func score(_ clause: AtomSet) -> (Int, Int, Int) {
            (-clause.reduce(0) { $0 + cost($1) }, table.shortest(clause) ?? 0, -clause.count)
        }
        return clauses.max { score($0) < score($1) }
    }

    /// Analyses `pattern`, numbering its atoms in `table`; a pattern that cannot be parsed gets ``none``.
    init(pattern: String, atoms table: AtomTable) {
        // Extended mode and \Q…\E change what a byte means; uap-core uses neither, so do not model them.
        let bytes = Array(pattern.utf8)
        if containsBytes(bytes, Self.extendedMode) || containsBytes(bytes, Self.quoting) {
            self = .none
            return
        }
        var analyser = PatternAnalyser(bytes, table)
        if let info = analyser.parseAlternation(), analyser.atEnd {
            // `\G` asserts the start offset, so a pattern using it must be started at 0.
            let startsAnywhere = !containsBytes(bytes, Self.startAssertion)
            self = RequiredLiterals(
                clauses: info.required(table).clauses.map { Self.simplified($0, table) },
                prefixes: startsAnywhere ? info.prefixes(table) : nil)
        } else {
            self = .none
        }
    }

    /// The most bytes a match of `pattern` can span; nil when unbounded, or when the analysis cannot read the pattern.
    static func maximumLength(of pattern: String, atoms table: AtomTable) -> Int? {
        let bytes = Array(pattern.utf8)
        if containsBytes(bytes, Self.extendedMode) || containsBytes(bytes, Self.quoting) { return nil }
        var analyser = PatternAnalyser(bytes, table)
        guard let info = analyser.parseAlternation(), analyser.atEnd else { return nil }
        return info.maximumLength(table)
    }

    /// Syntax that makes ``init(pattern:atoms:)`` give up (`(?x`, `\Q`) or start at 0 (`\G`).
    private static let extendedMode = Array("(?x".utf8)
    private static let quoting = Array("\\Q".utf8)
    private static let startAssertion = Array("\\G".utf8)

    init(clauses: [AtomSet], prefixes: [Atom: Int]? = nil, maximumLength: Int? = nil) {
        self.clauses = clauses
        self.prefixes = prefixes
        self.maximumLength = maximumLength
    }

    /// The same requirement with every atom replaced by `number(atom)` (its number in another table).
    func renumbered(_ number: (Atom) -> Atom) -> RequiredLiterals {
        RequiredLiterals(
            clauses: clauses.map { AtomSet(unsorted: $0.map(number)) },
            prefixes: prefixes.map { Dictionary(uniqueKeysWithValues: $0.map { (number($0.key), $0.value) }) },
            maximumLength: maximumLength)
    }

    /// A clause without atoms that contain another of its atoms: if `airis_` occurs then `airis` does, so
    /// {`airis`, `airis_`} holds exactly when `airis` occurs.
    static func simplified(_ clause: AtomSet, _ table: AtomTable) -> AtomSet {
        guard clause.count > 1 else { return clause }
        let atoms = clause.sorted { table.length($0) < table.length($1) }
        var kept: [(atom: Atom, signature: UInt64)] = []
        kept.reserveCapacity(atoms.count)
        // Only a shorter atom can be inside another: the atoms of a set are distinct. The comparisons are quadratic
        // in the atoms of a clause (a long alternation has hundreds): signatures rule out most pairs at once.
        for atom in atoms {
            let signature = table.signature(atom)
            let length = table.length(atom)
            let isRedundant = kept.contains { part in
                part.signature & ~signature == 0 && table.length(part.atom) < length && table.contains(atom, part.atom)
            }
            if !isRedundant { kept.append((atom, signature)) }
        }
        if kept.count == atoms.count { return clause }
        return AtomSet(unsorted: kept.map(\.atom))
    }
}

/// Whether `text` contains `part`, byte by byte (`String.contains` is a hundred times slower).
func containsBytes(_ text: [UInt8], _ part: [UInt8]) -> Bool {
    guard part.count <= text.count else { return false }
    guard let first = part.first else { return true }
    let last = text.count - part.count
    var start = 0
    while start <= last {
        if text[start] == first {
            var offset = 1
            while offset < part.count && text[start + offset] == part[offset] { offset += 1 }
            if offset == part.count { return true }
        }
        start += 1
    }
    return false
}

extension RequiredLiterals {
    /// Both requirements hold.
    func and(_ other: RequiredLiterals) -> RequiredLiterals {
        var clauses = self.clauses
        for clause in other.clauses where !clauses.contains(clause) { clauses.append(clause) }
        return RequiredLiterals(clauses: clauses)
    }

    /// Makes this "this or `other`": (A1 ∧ A2) ∨ (B1 ∧ B2) = ∧ (Ai ∨ Bj), kept small by falling back to the union
    /// of the best clauses. In place: a long alternation (`(CSimpleSpider|…|ZyBorg)`) adds one atom at a time to a
    /// clause and a prefix table of hundreds.
    mutating func formOr(_ other: RequiredLiterals, _ table: AtomTable) {
        maximumLength = maximumLength.flatMap { mine in other.maximumLength.map { max(mine, $0) } }
        formPrefixesOr(other.prefixes)
        guard !clauses.isEmpty, !other.clauses.isEmpty else {
            clauses = []
            return
        }
        if clauses.count == 1 && other.clauses.count == 1 {
            // The common case, as the general product below, without copying the clause.
            var clause = clauses.removeLast()
            clause.formUnion(other.clauses[0])
            clauses.append(clause)
        } else if clauses.count * other.clauses.count <= 16 {
            var result: [AtomSet] = []
            for left in clauses {
                for right in other.clauses {
                    let union = left.union(right)
                    if !result.contains(union) { result.append(union) }
                }
            }
            clauses = result
        } else {
            // Safe because both lists are non-empty, checked above.
            clauses = [bestClause(table)!.union(other.bestClause(table)!)]
        }
    }

    /// Makes the prefixes those of "this or `other`": the union, with the larger distance for an atom in both.
    private mutating func formPrefixesOr(_ otherPrefixes: [Atom: Int]?) {
        guard var union = prefixes, let otherPrefixes else {
            prefixes = nil
            return
        }
        // Dropped first, so that `union` is the only reference and merges in place.
        prefixes = nil
        union.merge(otherPrefixes, uniquingKeysWith: max)
        prefixes = union.count <= Self.maximumPrefixCount ? union : nil
    }
}

/// The analysis of one sub-expression: either the exact (small) set of strings it can match, or only what it
/// requires. The functions take the ``AtomTable`` the atoms are numbered in.
private enum LiteralInfo {
    /// The node matches exactly one of these lowercased strings.
    case exact(AtomSet)
    /// The node matches something else; this is what it requires.
    case match(RequiredLiterals)

    /// The set of the empty string alone.
    static let emptyString = AtomSet(AtomTable.empty)
    static let empty = LiteralInfo.exact(emptyString)
    static let anything = LiteralInfo.match(.none)
    /// One byte of some class (`.`, `\\d`, `[^;]`): byte mode, so a character is one byte.
    static let oneByte = LiteralInfo.match(RequiredLiterals(clauses: [], maximumLength: 1))
    static let maximumExactStrings = 16

    /// The requirement this information implies.
    func required(_ table: AtomTable) -> RequiredLiterals {
        switch self {
        case .match(let required): return required
        case .exact(let strings):
            let longest = table.longest(strings)
            if strings.contains(where: { table.length($0) < RequiredLiterals.minimumAtomLength }) {
                return RequiredLiterals(clauses: [], maximumLength: longest)
            }
            return RequiredLiterals(
                clauses: [strings], prefixes: RequiredLiterals.prefixSet(strings, table), maximumLength: longest)
        }
    }

    /// The atoms near the start of every match (see ``RequiredLiterals/prefixes``).
    func prefixes(_ table: AtomTable) -> [Atom: Int]? {
        switch self {
        case .match(let required): required.prefixes
        case .exact(let strings): RequiredLiterals.prefixSet(strings, table)
        }
    }

    /// The most bytes a match can span; nil when unbounded or unknown.
    func maximumLength(_ table: AtomTable) -> Int? {
        switch self {
        case .match(let required): required.maximumLength
        case .exact(let strings): table.longest(strings)
        }
    }

    /// Makes this node "this node or `other`", in place (see ``RequiredLiterals/formOr(_:_:)``).
    mutating func alternate(with other: LiteralInfo, _ table: AtomTable) {
        if case .exact(let left) = self, case .exact(let right) = other,
            left.count + right.count <= Self.maximumExactStrings
        {
            self = .exact(left.union(right))
            return
        }
        var required = self.required(table)
        // Dropped first, so that `required` holds the only reference to its clauses and prefixes.
        self = .anything
        required.formOr(other.required(table), table)
        self = .match(required)
    }
}

/// A recursive-descent reader of the PCRE2 syntax found in uap-core, computing ``LiteralInfo`` bottom-up.
private struct PatternAnalyser {
    private let bytes: [UInt8]
    private var position = 0
    /// Where the atoms are numbered.
    private let table: AtomTable

    init(_ bytes: [UInt8], _ table: AtomTable) {
        self.bytes = bytes
        self.table = table
    }

    var atEnd: Bool { position == bytes.count }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    /// alternation := concatenation ('|' concatenation)*
    mutating func parseAlternation() -> LiteralInfo? {
        guard var result = parseConcatenation() else { return nil }
        while current == UInt8(ascii: "|") {
            position += 1
            guard let next = parseConcatenation() else { return nil }
            result.alternate(with: next, table)
        }
        return result
    }

    /// concatenation := (atom quantifier*)*
    ///
    /// Consecutive exact pieces are multiplied out into one run (`; {0,2}AIRIS` gives the atom `airis`, not five
    /// one-letter atoms), which is flushed into the requirement when a non-exact piece interrupts it. The prefixes of
    /// the concatenation are those of its first segment (a flushed run or a non-exact piece) that has some, moved by
    /// the widths of the segments before it, as long as those are bounded (`\\w{0,30}favicon` has `favicon` at most
    /// 30 bytes in).
    private mutating func parseConcatenation() -> LiteralInfo? {
        let table = self.table
        var required = RequiredLiterals.none
        var run = LiteralInfo.emptyString
        var isExact = true
        var width: Int? = 0
        var lead: Int? = 0
        var prefixes: [Atom: Int]? = nil
        func consider(_ segment: LiteralInfo) {
            let segmentWidth = segment.maximumLength(table)
            width = width.flatMap { total in segmentWidth.flatMap { bounded(total + $0) } }
            guard let before = lead else { return }
            if let segmentPrefixes = segment.prefixes(table) {
                prefixes = segmentPrefixes.mapValues { $0 + before }
                lead = nil
            } else {
                lead = segmentWidth.flatMap { bounded(before + $0) }
            }
        }
        func decidePrefixes(_ piece: LiteralInfo) {
            consider(.exact(run))
            consider(piece)
        }
        // Plain literal bytes waiting to be appended to every string of `run` (one product for a whole word, where
        // a product per byte would make a set per byte: this analysis runs on every rule at start-up).
        var pending: [UInt8] = []
        func appendPending() {
            if pending.isEmpty { return }
            run = AtomSet(unsorted: run.map { table.appending(pending, to: $0) })
            pending.removeAll(keepingCapacity: true)
        }
        while let byte = current, byte != UInt8(ascii: "|"), byte != UInt8(ascii: ")") {
            if run.count <= LiteralInfo.maximumExactStrings, let literal = plainLiteral() {
                // The same as the `.exact` case below for a one-string piece.
                pending.append(literal)
                continue
            }
            appendPending()
            guard var piece = parseAtom() else { return nil }
            while let quantified = parseQuantifier(piece) { piece = quantified }
            switch piece {
            case .exact(let strings) where run.count * strings.count <= LiteralInfo.maximumExactStrings:
                var product: [Atom] = []
                for prefix in run {
                    for suffix in strings { product.append(table.concatenation(prefix, suffix)) }
                }
                run = AtomSet(unsorted: product)
            case .exact(let strings):
                // The piece becomes the next run, considered when that is flushed.
                consider(.exact(run))
                required = required.and(LiteralInfo.exact(run).required(table))
                run = strings
                isExact = false
            case .match(let pieceRequired):
                decidePrefixes(piece)
                required = required.and(LiteralInfo.exact(run).required(table)).and(pieceRequired)
                run = LiteralInfo.emptyString
                isExact = false
            }
        }
        appendPending()
        if isExact { return .exact(run) }
        consider(.exact(run))
        var result = required.and(LiteralInfo.exact(run).required(table))
        result.prefixes = prefixes
        result.maximumLength = width
        return .match(result)
    }

    /// The lowercased byte of an unquantified literal at `position` (a plain ASCII byte or escaped punctuation),
    /// consumed; nil, consuming nothing, for anything else.
    private mutating func plainLiteral() -> UInt8? {
        guard var byte = current, byte < 0x80 else { return nil }
        var length = 1
        if byte == UInt8(ascii: "\\") {
            guard position + 1 < bytes.count else { return nil }
            byte = bytes[position + 1]
            guard byte < 0x80, !isAlphanumeric(byte) else { return nil }
            length = 2
        } else if Self.specialBytes.contains(byte) {
            return nil
        }
        if position + length < bytes.count, Self.quantifierBytes.contains(bytes[position + length]) { return nil }
        position += length
        return lowercased(byte)
    }

    /// Bytes with a meaning of their own outside a class (`{` only sometimes: left to `parseAtom`).
    private static let specialBytes = ASCIISet("()[].^$\\*+?{|")
    private static let quantifierBytes = ASCIISet("*+?{")

    /// Applies a quantifier after an atom, if there is one.
    private mutating func parseQuantifier(_ atom: LiteralInfo) -> LiteralInfo? {
        guard let byte = current else { return nil }
        var minimum: Int
        var maximum: Int? = nil
        switch byte {
        case UInt8(ascii: "*"):
            position += 1
            minimum = 0
        case UInt8(ascii: "+"):
            position += 1
            minimum = 1
        case UInt8(ascii: "?"):
            position += 1
            skipLazyOrPossessive()
            if case .exact(let strings) = atom { return .exact(strings.union(LiteralInfo.emptyString)) }
            return .match(RequiredLiterals(clauses: [], maximumLength: atom.maximumLength(table)))
        case UInt8(ascii: "{"):
            guard let (low, high, length) = boundedRepeat(at: position) else { return nil }
            position += length
            minimum = low
            maximum = high
        default:
            return nil
        }
        skipLazyOrPossessive()
        let width = atom.maximumLength(table).flatMap { one in maximum.flatMap { bounded(one * $0) } }
        if minimum == 0 { return .match(RequiredLiterals(clauses: [], maximumLength: width)) }
        var repeated = atom.required(table)
        repeated.maximumLength = width
        return .match(repeated)
    }

    private mutating func skipLazyOrPossessive() {
        if current == UInt8(ascii: "?") || current == UInt8(ascii: "+") { position += 1 }
    }

    /// `{n}`, `{n,}` or `{n,m}` at `start`: the minimum, the maximum (nil for none) and the length of the
    /// quantifier; nil if the brace is a literal.
    private func boundedRepeat(at start: Int) -> (Int, Int?, Int)? {
        var index = start + 1
        guard let (minimum, afterMinimum) = number(at: index) else { return nil }
        index = afterMinimum
        var maximum: Int? = minimum
        if index < bytes.count, bytes[index] == UInt8(ascii: ",") {
            index += 1
            maximum = nil
            if let (high, afterMaximum) = number(at: index) {
                maximum = high
                index = afterMaximum
            }
        }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "}") else { return nil }
        return (minimum, maximum, index + 1 - start)
    }

    /// The decimal number at `start` (capped, so absurd ones cannot overflow) and the index after it; nil if no digit.
    private func number(at start: Int) -> (Int, Int)? {
        var index = start
        var value = 0
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            value = min(value * 10 + Int(bytes[index] - UInt8(ascii: "0")), 1_000_000)
            index += 1
        }
        return index > start ? (value, index) : nil
    }

    private mutating func parseAtom() -> LiteralInfo? {
        // Safe because the caller checked that a byte is present.
        let byte = current!
        position += 1
        switch byte {
        case UInt8(ascii: "("): return parseGroup()
        case UInt8(ascii: "["): return parseClass()
        case UInt8(ascii: "."): return .oneByte
        case UInt8(ascii: "^"), UInt8(ascii: "$"): return .empty
        case UInt8(ascii: "\\"): return parseEscape()
        case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"): return nil
        case UInt8(ascii: "{"):
            // A brace that does not start a quantifier is a literal in PCRE2.
            return boundedRepeat(at: position - 1) == nil ? literal(byte) : nil
        default: return literal(byte)
        }
    }

    private func literal(_ byte: UInt8) -> LiteralInfo {
        // Bytes beyond ASCII are not modelled (uap-core's patterns are ASCII): no requirement.
        guard byte < 0x80 else { return .oneByte }
        return .exact(AtomSet(table.intern([lowercased(byte)])))
    }

    /// After `(`: a capturing or non-capturing group, an inline option setting, a look-around or a comment.
    private mutating func parseGroup() -> LiteralInfo? {
        var isLookAround = false
        if current == UInt8(ascii: "?") {
            position += 1
            guard let kind = current else { return nil }
            switch kind {
            case UInt8(ascii: ":"), UInt8(ascii: ">"), UInt8(ascii: "|"):
                position += 1
            case UInt8(ascii: "="), UInt8(ascii: "!"):
                position += 1
                isLookAround = true
            case UInt8(ascii: "<"):
                position += 1
                if current == UInt8(ascii: "=") || current == UInt8(ascii: "!") {
                    position += 1
                    isLookAround = true
                } else {
                    skipName(until: UInt8(ascii: ">"))
                }
            case UInt8(ascii: "P"):
                position += 1
                guard current == UInt8(ascii: "<") else { return nil }
                skipName(until: UInt8(ascii: ">"))
            case UInt8(ascii: "#"):
                while let byte = current, byte != UInt8(ascii: ")") { position += 1 }
                guard current != nil else { return nil }
                position += 1
                return .empty
            default:
                // Option letters such as (?i) or (?i: … ).
                while let byte = current, byte != UInt8(ascii: ")"), byte != UInt8(ascii: ":") { position += 1 }
                guard let end = current else { return nil }
                position += 1
                if end == UInt8(ascii: ")") { return .empty }
            }
        }
        guard let inner = parseAlternation(), current == UInt8(ascii: ")") else { return nil }
        position += 1
        return isLookAround ? .empty : inner
    }

    private mutating func skipName(until terminator: UInt8) {
        while let byte = current, byte != terminator { position += 1 }
        if current != nil { position += 1 }
    }

    /// After `\` outside a class.
    private mutating func parseEscape() -> LiteralInfo? {
        guard let byte = current else { return nil }
        position += 1
        switch byte {
        case UInt8(ascii: "b"), UInt8(ascii: "B"), UInt8(ascii: "A"), UInt8(ascii: "z"), UInt8(ascii: "Z"),
            UInt8(ascii: "G"):
            return .empty
        default:
            if let value = escapedByte(byte) { return literal(value) }
            // Escapes for one byte of a class; anything else (back-references, `\\R`, `\\X`) has no known width.
            return Array("dDwWsShHvVN".utf8).contains(byte) ? .oneByte : .anything
        }
    }

    /// The byte an escape stands for, or nil for a class escape (`\d`, `\w`, …) or anything not understood.
    /// `position` is just after the escaped byte.
    private mutating func escapedByte(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "t"): return 0x09
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "f"): return 0x0C
        case UInt8(ascii: "e"): return 0x1B
        case UInt8(ascii: "x"):
            var value = 0
            var digits = 0
            while digits < 2, let digit = current, let nibble = hexValue(digit) {
                value = value * 16 + nibble
                digits += 1
                position += 1
            }
            return digits > 0 ? UInt8(value) : nil
        default:
            // Escaped punctuation stands for itself; escaped letters and digits are classes, back-references or
            // things this analysis does not model.
            return isAlphanumeric(byte) ? nil : byte
        }
    }

    private func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A")) + 10
        default: nil
        }
    }

    /// After `[`: a small class (at most four distinct lowercased bytes, e.g. `[Vv]` or `[ _-]`) is an exact set of
    /// one-byte strings; anything larger, negated or not understood matches "anything".
    private mutating func parseClass() -> LiteralInfo? {
        var isNegated = false
        if current == UInt8(ascii: "^") {
            isNegated = true
            position += 1
        }
        var members = ASCIISet("")
        var isLarge = false
        var first = true
        while let byte = current, byte != UInt8(ascii: "]") || first {
            first = false
            position += 1
            var value: UInt8? = byte
            if byte == UInt8(ascii: "\\") {
                guard let escaped = current else { return nil }
                position += 1
                value = escapedByte(escaped)
            } else if byte == UInt8(ascii: "["), current == UInt8(ascii: ":") {
                // A POSIX class such as [:alpha:].
                while let next = current, next != UInt8(ascii: "]") { position += 1 }
                position += 1
                value = nil
            }
            guard let low = value, low < 0x80 else {
                isLarge = true
                continue
            }
            if current == UInt8(ascii: "-"), position + 1 < bytes.count, bytes[position + 1] != UInt8(ascii: "]") {
                position += 1
                // Safe because position + 1 < bytes.count was checked before the increment.
                var high = current!
                position += 1
                if high == UInt8(ascii: "\\") {
                    guard let escaped = current else { return nil }
                    position += 1
                    guard let value = escapedByte(escaped) else {
                        isLarge = true
                        continue
                    }
                    high = value
                }
                if high < low || high >= 0x80 || Int(high) - Int(low) > 8 {
                    isLarge = true
                } else {
                    for member in low...high { members.insert(lowercased(member)) }
                }
            } else {
                members.insert(lowercased(low))
            }
        }
        guard current == UInt8(ascii: "]") else { return nil }
        position += 1
        if isNegated || isLarge || members.count > 4 { return .oneByte }
        return .exact(AtomSet(unsorted: members.bytes.map { table.intern([$0]) }))
    }
}

/// A set of ASCII bytes as a 128-bit mask: a membership test is a shift and an AND (this one runs for every byte of
/// every pattern at start-up).
private struct ASCIISet {
    private var low: UInt64 = 0
    private var high: UInt64 = 0

    /// The bytes of `members`, which must be ASCII.
    init(_ members: String) {
        for byte in members.utf8 { insert(byte) }
    }

    @inline(__always)
    func contains(_ byte: UInt8) -> Bool {
        byte < 64 ? low & (1 << UInt64(byte)) != 0 : byte < 128 && high & (1 << UInt64(byte - 64)) != 0
    }

    /// Adds `byte`, which must be ASCII.
    mutating func insert(_ byte: UInt8) {
        precondition(byte < 0x80, "ASCII members only")
        if byte < 64 { low |= 1 << UInt64(byte) } else { high |= 1 << UInt64(byte - 64) }
    }

    var count: Int { low.nonzeroBitCount + high.nonzeroBitCount }

    /// The members in ascending order.
    var bytes: [UInt8] {
        (0..<128).compactMap { contains(UInt8($0)) ? UInt8($0) : nil }
    }
}

/// `width` if it is at most 1 MiB, else nil (unknown): keeps sums and products of widths far from overflowing,
/// whatever a rule file nests (each factor is at most 1 MiB or a repeat count of at most a million).
private func bounded(_ width: Int) -> Int? {
    width <= 1 << 20 ? width : nil
}

/// ASCII lowercase; other bytes unchanged.
@inline(__always)
func lowercased(_ byte: UInt8) -> UInt8 {
    (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
}
