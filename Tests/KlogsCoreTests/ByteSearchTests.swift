import Testing

@testable import KlogsCore

@Suite("Searching bytes")
struct ByteSearchTests {
    /// The first `a` or `b` in `bytes[start..<end]`, one byte at a time.
    static func naiveFirstOf(_ a: UInt8, _ b: UInt8, _ bytes: [UInt8], _ start: Int, _ end: Int) -> Int? {
        (start..<end).first { bytes[$0] == a || bytes[$0] == b }
    }

    @Test("firstOf finds what a byte loop finds, for every start and end, in vectors, words and bytes")
    func firstOfMatchesAByteLoop() {
        var state: UInt64 = 0x1234_5678
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        for trial in 0..<300 {
            // Sparse matches (as in a log line's fields), dense ones, and none; lengths around the 8- and 16-byte steps.
            let count = Int(next() % 90)
            let density = [0, 3, 40, 200][trial % 4]
            let bytes = (0..<count).map { _ -> UInt8 in
                let roll = next() % 1_000
                if roll < density { return roll % 2 == 0 ? UInt8(ascii: "\"") : UInt8(ascii: "\\") }
                return UInt8(truncatingIfNeeded: 0x20 + next() % 0x5F) | (roll == 999 ? 0x80 : 0)
            }
            bytes.withUnsafeBytes { buffer in
                for start in 0...count {
                    for end in start...count {
                        let found = ByteSearch.firstOf(
                            UInt8(ascii: "\""), UInt8(ascii: "\\"), in: buffer, from: start, to: end)
                        #expect(found == Self.naiveFirstOf(UInt8(ascii: "\""), UInt8(ascii: "\\"), bytes, start, end))
                    }
                }
            }
        }
    }

    @Test("firstOf of one byte twice, at every lane of a vector")
    func firstOfEveryLane() {
        for length in [16, 17, 31, 32, 33, 47] {
            for position in 0..<length {
                var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                bytes[position] = UInt8(ascii: "?")
                let found = bytes.withUnsafeBytes {
                    ByteSearch.firstOf(UInt8(ascii: "?"), UInt8(ascii: "?"), in: $0, from: 0, to: length)
                }
                #expect(found == position)
            }
        }
    }
}
