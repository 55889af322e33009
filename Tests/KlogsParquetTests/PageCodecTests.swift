import Testing

@testable import KlogsParquet

/// LZ4_RAW pages: compressed when a sample shrinks, one literal run when it does not, and both read back by LZ4.
@Suite struct PageCodecTests {
    /// Deterministic bytes that LZ4 cannot shrink (a xorshift stream).
    static func noise(_ count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state >> 24)
        }
    }

    @Test(
        "a literal run is a valid LZ4 block at every length class",
        arguments: [1, 14, 15, 16, 269, 270, 271, 524, 525, 40_000])
    func literalRunsDecode(count: Int) throws {
        let input = Self.noise(count)
        var output = [UInt8](repeating: 0, count: count + count / 255 + 16)
        let length = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { PageCodec.storeLiterals(source, into: $0) }
        }
        // Token, the length's 255s and last byte (from 15 on), then the bytes.
        #expect(length == count + 1 + (count >= 15 ? (count - 15) / 255 + 1 : 0))
        #expect(try PageCodec.decompressLZ4(output, range: 0..<length, uncompressedSize: count) == input)
    }

    @Test("a page LZ4 cannot shrink is stored as one literal run, and reads back")
    func incompressiblePage() throws {
        let input = Self.noise(45_000)
        var output: [UInt8] = []
        let length = try PageCodec.compressLZ4(input, into: &output)
        #expect(length == 45_000 + 1 + (45_000 - 15) / 255 + 1)
        #expect(Array(output[1..<((45_000 - 15) / 255 + 1)]).allSatisfy { $0 == 255 })
        #expect(try PageCodec.decompressLZ4(output, range: 0..<length, uncompressedSize: input.count) == input)
    }

    @Test("a page that shrinks is compressed, below and above the sampled size", arguments: [100, 16_000, 200_000])
    func compressiblePage(count: Int) throws {
        // Bytes of one bit each, like the ids of a two-entry dictionary: LZ4 shrinks them well.
        let input = Self.noise(count).map { $0 & 1 }
        var output: [UInt8] = []
        let length = try PageCodec.compressLZ4(input, into: &output)
        #expect(length < count * 3 / 4)
        #expect(try PageCodec.decompressLZ4(output, range: 0..<length, uncompressedSize: count) == input)
    }
}
