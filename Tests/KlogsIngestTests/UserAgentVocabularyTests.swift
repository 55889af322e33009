import Foundation
import Testing

@testable import KlogsIngest

/// The byte-wise word split of the rules vocabulary gives the words the `Character`-wise split gave.
@Suite struct UserAgentVocabularyTests {
    /// The previous definition: runs of ASCII letters and digits, by `Character`.
    static func characterWords(of text: String) -> Set<String> {
        Set(text.split(whereSeparator: { !($0.isASCII && ($0.isLetter || $0.isNumber)) }).map(String.init))
    }

    /// The distinct words the byte-wise split finds, each once.
    static func words(of text: String) -> Set<String> {
        let words = UserAgentVocabulary.words(of: text).all
        #expect(words.count == Set(words).count, "a word stored twice")
        return Set(words)
    }

    @Test func wordsAreRunsOfASCIILettersAndDigits() {
        let text = "- regex: '(Firefox)/(\\d+)'\r\n  family_replacement: 'Chrome Mobile' Яндекс x1 ok\n"
        #expect(Self.words(of: text) == Self.characterWords(of: text))
        #expect(UserAgentVocabulary.words(of: text).contains("Firefox"))
        #expect(!UserAgentVocabulary.words(of: text).contains("Яндекс"))
        #expect(!UserAgentVocabulary.words(of: text).contains("Firefo"))
        #expect(Self.words(of: "") == [])
        // Repeats are skipped by their bytes' hash: each distinct word still counts once, case and length apart.
        let repeats = "Firefox Firefox firefox Fire fox Firefox1 Firefox x Firefox"
        #expect(Self.words(of: repeats) == Self.characterWords(of: repeats))
        #expect(UserAgentVocabulary.words(of: repeats).count == 6)
    }

    @Test func theRulesFileGivesTheSameWords() throws {
        let path = "/usr/share/uap-core/regexes.yaml"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }  // no rules installed
        #expect(Self.words(of: text) == Self.characterWords(of: text))
        let words = UserAgentVocabulary.words(of: text)
        for word in Self.characterWords(of: text) { #expect(words.contains(word[...])) }
    }
}
