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
    private let words: Set<Substring>

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
    /// rules file has some 200 KB, which a walk by `Character` took tens of milliseconds to split).
    ///
    /// Most words of the rules file are repeats (`Android`, `Build`, `d`), and hashing a `Substring` for the set is
    /// dear (43 M instructions for the file): an occurrence is first looked up by an FNV-1a hash of its bytes, made
    /// during the walk, and skipped when it has the bytes of the word first seen with that hash. Only a new word (or
    /// one whose hash another word took first) goes into the set.
    static func words(of text: String) -> Set<Substring> {
        var words = Set<Substring>()
        var contiguous = text
        contiguous.withUTF8 { bytes in
            var firstWithHash: [UInt64: Range<Int>] = [:]
            func add(_ word: Range<Int>, hash: UInt64) {
                if let first = firstWithHash[hash] {
                    if bytes[first].elementsEqual(bytes[word]) { return }
                } else {
                    firstWithHash[hash] = word
                }
                // Safe to index by offset: a word is ASCII, so its bounds are character boundaries.
                let utf8 = text.utf8
                let start = utf8.index(utf8.startIndex, offsetBy: word.lowerBound)
                words.insert(text[start..<utf8.index(start, offsetBy: word.count)])
            }
            var wordStart: Int?
            var hash = fnvOffsetBasis
            for index in bytes.indices {
                let byte = bytes[index]
                if isWordByte(byte) {
                    if wordStart == nil { (wordStart, hash) = (index, fnvOffsetBasis) }
                    hash = (hash ^ UInt64(byte)) &* fnvPrime
                } else if let start = wordStart {
                    add(start..<index, hash: hash)
                    wordStart = nil
                }
            }
            if let start = wordStart { add(start..<bytes.count, hash: hash) }
        }
        return words
    }

    private static let fnvOffsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    private static let fnvPrime: UInt64 = 0x100_0000_01b3

    private static func isWordByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default: return false
        }
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
