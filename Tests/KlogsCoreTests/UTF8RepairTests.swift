import KlogsCore
import Testing

@Suite struct UTF8RepairTests {
    func repaired(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        bytes.withUnsafeBytes { UTF8Repair.appendRepaired($0, to: &output) }
        return String(decoding: output, as: UTF8.self)
    }

    func isValid(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { UTF8Repair.isValid($0) }
    }

    @Test(arguments: ["", "/index.html", "/déjà-vu", "/日本語", "/😀", "/%D0%9F"])
    func validUTF8PassesThroughUnchanged(text: String) {
        #expect(isValid(Array(text.utf8)))
        #expect(repaired(Array(text.utf8)) == text)
    }

    @Test func cp1251BytesBecomePercentEscapes() {
        // "Привет" in cp1251, as a \xHH-escaped Apache referrer decodes to.
        let bytes: [UInt8] = [0xCF, 0xF0, 0xE8, 0xE2, 0xE5, 0xF2]
        #expect(!isValid(bytes))
        #expect(repaired(bytes) == "%CF%F0%E8%E2%E5%F2")
    }

    @Test(arguments: [
        ([0xC0, 0xAF], "%C0%AF"),  // overlong "/"
        ([0xE0, 0x80, 0xAF], "%E0%80%AF"),  // overlong
        ([0xED, 0xA0, 0x80], "%ED%A0%80"),  // surrogate
        ([0xF4, 0x90, 0x80, 0x80], "%F4%90%80%80"),  // above U+10FFFF
        ([0x61, 0xE2, 0x82], "a%E2%82"),  // cut short at the end
        ([0xFF, 0x61, 0xC3, 0xA9], "%FFaé"),  // a bad byte, then valid text
    ] as [([UInt8], String)])
    func malformedSequencesAreEscapedByteByByte(bytes: [UInt8], expected: String) {
        #expect(!isValid(bytes))
        #expect(repaired(bytes) == expected)
        #expect(isValid(Array(repaired(bytes).utf8)))
    }

    @Test func randomBytesAlwaysComeOutValid() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2_000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int(state % 24) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes.append(UInt8(truncatingIfNeeded: state >> 56))
            }
            state = state &* 6_364_136_223_846_793_005 &+ 1
            var output: [UInt8] = []
            bytes.withUnsafeBytes { UTF8Repair.appendRepaired($0, to: &output) }
            #expect(String(validating: output, as: UTF8.self) != nil)
        }
    }
}
