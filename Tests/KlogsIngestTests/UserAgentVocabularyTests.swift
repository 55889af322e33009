import Foundation
import Testing

@testable import KlogsIngest

/// The byte-wise word split of the rules vocabulary gives the words the `Character`-wise split gave.
@Suite struct UserAgentVocabularyTests {
    /// The previous definition: runs of ASCII letters and digits, by `Character`.
    static func characterWords(of text: String) -> Set<Substring> {
        Set(text.split(whereSeparator: { !($0.isASCII && ($0.isLetter || $0.isNumber)) }))
    }

    @Test func wordsAreRunsOfASCIILettersAndDigits() {
        let text = "- regex: '(Firefox)/(\\d+)'\r\n  family_replacement: 'Chrome Mobile' Яндекс x1 ok\n"
        #expect(UserAgentVocabulary.words(of: text) == Self.characterWords(of: text))
        #expect(UserAgentVocabulary.words(of: text).contains("Firefox"))
        #expect(!UserAgentVocabulary.words(of: text).contains("Яндекс"))
        #expect(UserAgentVocabulary.words(of: "") == [])
        // Repeats are skipped by their bytes' hash: each distinct word still counts once, case and length apart.
        let repeats = "Firefox Firefox firefox Fire fox Firefox1 Firefox x Firefox"
        #expect(UserAgentVocabulary.words(of: repeats) == Self.characterWords(of: repeats))
        #expect(UserAgentVocabulary.words(of: repeats).count == 6)
    }

    @Test func theRulesFileGivesTheSameWords() throws {
        let path = "/usr/share/uap-core/regexes.yaml"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }  // no rules installed
        #expect(UserAgentVocabulary.words(of: text) == Self.characterWords(of: text))
    }
}
