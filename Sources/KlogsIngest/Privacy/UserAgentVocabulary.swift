internal import Foundation
import KlogsUserAgent

/// Keeps text copied out of a user agent from reaching the dataset through its classification.
///
/// uap-core rules often take a family from the user agent itself (`([A-Za-z0-9]+bot)/…` gives `Canary-xq7zbot`),
/// so a unique user agent could be stored nearly verbatim in `browser` or `os`. A family or version is kept only
/// when each of its words (runs of letters and digits) is a number or occurs in the rules file (in a pattern or a
/// replacement): `Firefox`, `Chrome Mobile`, `Python Requests`, `XP`. Anything else becomes `Other` (versions
/// become null); `device` and `is_bot` are kept.
struct UserAgentVocabulary: Sendable {
    private let words: RuleWords

    /// The vocabulary of a rules file, or `nil` when it cannot be read (then nothing is filtered).
    init?(rulesPath: String) {
        guard let text = try? String(contentsOfFile: rulesPath, encoding: .utf8) else { return nil }
        self.init(rulesText: text)
    }

    /// The vocabulary of a rules file's text, read already.
    init(rulesText: String) {
        words = Self.words(of: rulesText)
    }

    /// The words of a text: maximal runs of ASCII letters and digits, found byte by byte (a start-up cost: the
    /// rules file has some 200 KB, which a walk by `Character` took tens of milliseconds to split, and a
    /// `Set<Substring>` of its words 20 M instructions more: see ``RuleWords``).
    static func words(of text: String) -> RuleWords {
        var words = RuleWords()
        var contiguous = text
        contiguous.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return }
            let end = base + bytes.count
            var cursor = base
            // Safe because `cursor` never passes `end`, checked before each read.
            while cursor < end {
                while cursor < end && !isWordByte(cursor.pointee) { cursor += 1 }
                let start = cursor
                var hash = RuleWords.hashBasis
                while cursor < end && isWordByte(cursor.pointee) {
                    hash = RuleWords.hash(hash, cursor.pointee)
                    cursor += 1
                }
                if cursor > start { words.insert(UnsafeBufferPointer(start: start, count: cursor - start), hash: hash) }
            }
        }
        return words
    }

    @inline(__always)
    private static func isWordByte(_ byte: UInt8) -> Bool {
        // ASCII letters (either case: bit 5 folds them) and digits.
        (byte | 0x20) &- UInt8(ascii: "a") < 26 || byte &- UInt8(ascii: "0") < 10
    }

    /// The class with every family and version not made of rule words replaced.
    func filter(_ userAgentClass: UserAgentClass) -> UserAgentClass {
        var result = userAgentClass
        if !isKnown(result.browser) { result.browser = "Other" }
        if !isKnown(result.os) { result.os = "Other" }
        if let major = result.browserMajor, !isKnown(major) { result.browserMajor = nil }
        if let major = result.osMajor, !isKnown(major) { result.osMajor = nil }
        if !isKnown(result.deviceFamily) { result.deviceFamily = "Other" }
        return result
    }

    /// Whether every word of `value` is a number or a word of the rules.
    func isKnown(_ value: String) -> Bool {
        for word in value.split(whereSeparator: { !Self.isWordCharacter($0) }) {
            if word.allSatisfy({ $0.isASCII && $0.isNumber }) { continue }
            if !words.contains(word) { return false }
        }
        return true
    }

    private static func isWordCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber)
    }
}

/// The distinct words of a rules file, each stored once as bytes and found by an FNV-1a hash in an open-addressing
/// table: most words of the file are repeats (`Android`, `Build`, `d`), and hashing a `Substring` for a `Set` cost
/// some 2 k instructions per word.
struct RuleWords: Sendable {
    /// Every word's bytes, one after another: word `w` is `storage[ends[w - 1]..<ends[w]]` (from 0 for the first).
    private var storage: [UInt8] = []
    private var ends: [Int32] = []
    /// Word number + 1, or 0 for an empty slot; the count is a power of two, at most half full.
    private var slots = [Int32](repeating: 0, count: 4096)
    private var hashes: [UInt64] = []

    static let hashBasis: UInt64 = 0xcbf2_9ce4_8422_2325

    /// FNV-1a: `hash` continued by `byte`.
    @inline(__always)
    static func hash(_ hash: UInt64, _ byte: UInt8) -> UInt64 {
        (hash ^ UInt64(byte)) &* 0x100_0000_01b3
    }

    /// The number of distinct words.
    var count: Int { ends.count }

    /// Every word, in order of first occurrence (for tests).
    var all: [String] {
        (0..<count).map { String(decoding: storage[range(of: $0)], as: UTF8.self) }
    }

    private func range(of word: Int) -> Range<Int> {
        (word == 0 ? 0 : Int(ends[word - 1]))..<Int(ends[word])
    }

    /// Whether `word` is one of the words.
    func contains(_ word: Substring) -> Bool {
        var word = word
        return word.withUTF8 { bytes in
            find(bytes, hash: bytes.reduce(Self.hashBasis, Self.hash)).word != nil
        }
    }

    /// Adds `word`, whose hash is `hash`, unless it is there already.
    mutating func insert(_ word: UnsafeBufferPointer<UInt8>, hash: UInt64) {
        let (slot, found) = find(word, hash: hash)
        if found != nil { return }
        storage.append(contentsOf: word)
        ends.append(Int32(storage.count))
        hashes.append(hash)
        slots[slot] = Int32(count)
        if count * 2 > slots.count { grow() }
    }

    /// The slot that holds `word`, with its number, or the empty slot where it belongs.
    @inline(__always)
    private func find(_ word: UnsafeBufferPointer<UInt8>, hash: UInt64) -> (slot: Int, word: Int?) {
        slots.withUnsafeBufferPointer { slots in
            storage.withUnsafeBufferPointer { storage in
                let mask = slots.count - 1
                var slot = Int(truncatingIfNeeded: hash) & mask
                while slots[slot] != 0 {
                    let candidate = Int(slots[slot] - 1)
                    if hashes[candidate] == hash && Self.equal(storage, range(of: candidate), word) {
                        return (slot, candidate)
                    }
                    slot = (slot + 1) & mask
                }
                return (slot, nil)
            }
        }
    }

    /// Whether `storage[range]` holds the bytes of `word`.
    @inline(__always)
    private static func equal(
        _ storage: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ word: UnsafeBufferPointer<UInt8>
    )
        -> Bool
    {
        // Safe because `range` lies inside `storage`, and both have `word.count` bytes when compared.
        range.count == word.count
            && (word.isEmpty || memcmp(storage.baseAddress! + range.lowerBound, word.baseAddress!, word.count) == 0)
    }

    /// Doubles the slots and places every word again, by its stored hash.
    private mutating func grow() {
        slots = [Int32](repeating: 0, count: slots.count * 2)
        let mask = slots.count - 1
        for (word, hash) in hashes.enumerated() {
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(word + 1)
        }
    }
}
