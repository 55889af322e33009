import KlogsIngest
import Testing

@Suite("Reading LZ4 frame inputs")
struct LZ4InputTests {
    @Test(
        "LZ4 frame round trips, whatever the buffer size",
        arguments: [
            ("seeded text", sampleText(byteCount: 1_000_000, seed: 60)),
            ("empty", []),
            ("highly compressible", [UInt8](repeating: 0x61, count: 3_000_000)),
            ("random bytes", randomBytes(200_000, seed: 61)),
        ] as [(String, [UInt8])])
    func roundTrip(label: String, data: [UInt8]) throws {
        let compressed = lz4Frame(data)
        for bufferSize in [7, 4096, 1 << 20] {
            if bufferSize == 7 && data.count > 300_000 { continue }  // slow in debug builds
            let (output, error, reader) = try readFile(compressed, bufferSize: bufferSize, name: "x.lz4")
            #expect(error == nil, "\(label): \(String(describing: error))")
            #expect(output == data, "\(label)")
            #expect(reader.compression == .lz4Frame)
            #expect(reader.bytesRead == compressed.count)
            #expect(reader.bytesDelivered == data.count)
            #expect(reader.membersDecoded == 1)
        }
    }

    @Test("Concatenated frames and skippable frames are all read")
    func concatenatedFrames() throws {
        let parts = [sampleText(byteCount: 300_000, seed: 62), [], sampleText(byteCount: 10, seed: 63)]
        let compressed =
            lz4Frame(parts[0]) + lz4SkippableFrame(payloadCount: 100, magicLowNibble: 3)
            + lz4Frame(parts[1], contentChecksum: false) + lz4Frame(parts[2])
        for bufferSize in [1000, 1 << 20] {
            let (output, error, reader) = try readFile(compressed, bufferSize: bufferSize)
            #expect(error == nil)
            #expect(output == parts.flatMap { $0 })
            #expect(reader.membersDecoded == 4)
            #expect(reader.warnings.isEmpty)
        }
    }

    @Test("A file starting with a skippable frame is detected as LZ4")
    func startsWithSkippableFrame() throws {
        let data = sampleText(byteCount: 5000, seed: 64)
        let (output, error, reader) = try readFile(lz4SkippableFrame(payloadCount: 16) + lz4Frame(data))
        #expect(error == nil)
        #expect(output == data)
        #expect(reader.compression == .lz4Frame)
    }

    @Test("A truncated frame delivers a prefix, then an error with offsets")
    func truncated() throws {
        let data = sampleText(byteCount: 400_000, seed: 65)
        let compressed = lz4Frame(data)
        var generator = SeededGenerator(seed: 66)
        var cuts = [4, 5, 6, 7, 10, 15, compressed.count - 4, compressed.count - 1]
        for _ in 0..<15 { cuts.append(Int(generator.next() % UInt64(compressed.count - 4)) + 4) }
        for cut in cuts {
            let (output, error, _) = try readFile(Array(compressed.prefix(cut)), bufferSize: 50_000, name: "a.lz4")
            #expect(output == Array(data.prefix(output.count)), "cut at \(cut)")
            let failure = try #require(error, "cut at \(cut): no error")
            #expect(failure.kind == .truncated, "cut at \(cut): \(failure)")
            #expect(
                failure.description.contains("a.lz4: LZ4 data ends after \(formatted(cut)) bytes ("),
                "\(failure)")
        }
    }

    @Test("A content checksum mismatch is reported as damage")
    func checksumMismatch() throws {
        let data = sampleText(byteCount: 100_000, seed: 67)
        var compressed = lz4Frame(data)
        compressed[compressed.count - 2] ^= 0xff  // inside the content checksum
        let (_, error, _) = try readFile(compressed, name: "b.lz4")
        let failure = try #require(error)
        #expect(failure.kind == .checksumMismatch, "\(failure)")
        #expect(failure.description.contains("checksum"))
    }

    @Test("A corrupt frame header is an error")
    func corruptHeader() throws {
        var compressed = lz4Frame(sampleText(byteCount: 1000, seed: 68))
        compressed[4] = 0x00  // version bits 00: unsupported
        let (_, error, _) = try readFile(compressed)
        #expect(error?.kind == .corrupt)
    }

    @Test("Trailing garbage after a complete frame is ignored with a warning")
    func trailingGarbage() throws {
        let data = sampleText(byteCount: 20_000, seed: 69)
        let frame = lz4Frame(data)
        let (output, error, reader) = try readFile(frame + Array("garbage".utf8))
        #expect(error == nil)
        #expect(output == data)
        #expect(reader.warnings.map(\.kind) == [.trailingGarbage])
        #expect(reader.warnings.first?.offset == frame.count)
        let (_, _, padded) = try readFile(frame + [0, 0, 0])
        #expect(padded.warnings.map(\.kind) == [.trailingZeros])
    }
}
