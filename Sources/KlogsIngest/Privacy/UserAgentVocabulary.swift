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
    static func words(of text: String) -> Set<Substring> {
        var words = Set<Substring>()
        let bytes = text.utf8
        var wordStart: String.Index?
        var index = bytes.startIndex
        while index != bytes.endIndex {
            if isWordByte(bytes[index]) {
                if wordStart == nil { wordStart = index }
            } else if let start = wordStart {
                words.insert(text[start..<index])
                wordStart = nil
            }
            bytes.formIndex(after: &index)
        }
        if let start = wordStart { words.insert(text[start..<index]) }
        return words
    }

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
