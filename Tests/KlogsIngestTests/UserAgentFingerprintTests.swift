import KlogsUserAgent
import Testing

/// The user-agent fingerprint is part of the visitor pseudonym's definition (`VisitorPseudonym`): pinned here, so a
/// change to it (which would change every pseudonym of a day already partly ingested) cannot pass unnoticed.
@Suite struct UserAgentFingerprintTests {
    static func fingerprint(_ text: String) -> UInt64 {
        Array(text.utf8).withUnsafeBufferPointer { UserAgentClassifier.fingerprint($0) }
    }

    /// Values computed by an independent Python transcription of the hash.
    @Test func fingerprintsArePinned() {
        #expect(Self.fingerprint("") == 0x08E9_0D82_4BBF_0F32)
        #expect(Self.fingerprint("-") == 0x334C_F0F3_1A70_D43F)
        #expect(
            Self.fingerprint(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36")
                == 0x87D1_79E0_B752_E3F5)
    }
}
