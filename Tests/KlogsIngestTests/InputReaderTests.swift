import CZlib
import Foundation
import Glibc
import KlogsIngest
import Testing

@Suite("Reading plain and gzip inputs")
struct InputReaderTests {
    static let bufferSizes = [1, 2, 7, 4096, 1 << 20, 3 << 20]

    @Test("A plain file is delivered unchanged, whatever the buffer size", arguments: bufferSizes)
    func plainFile(bufferSize: Int) throws {
        let text = sampleText(byteCount: 300_000, seed: 1)
        let (output, error, reader) = try readFile(text, bufferSize: bufferSize)
        #expect(error == nil)
        #expect(output == text)
        #expect(reader.compression == .plain)
        #expect(reader.fileSize == text.count)
        #expect(reader.bytesRead == text.count)
        #expect(reader.bytesDelivered == text.count)
    }

    @Test("A plain file larger than the chunk size is delivered unchanged")
    func largePlainFile() throws {
        let text = sampleText(byteCount: 3 << 20 + 12_345, seed: 2)
        for bufferSize in [4096, 1 << 20, 5 << 20] {
            let (output, error, _) = try readFile(text, bufferSize: bufferSize)
            #expect(error == nil)
            #expect(output == text)
        }
    }

    @Test(
        "Empty and tiny plain files are read, and short inputs are not mistaken for compressed ones",
        arguments: [[], [0x0a], [0x1f], [0x04, 0x22, 0x4d], Array("GET".utf8)] as [[UInt8]])
    func tinyPlainFiles(bytes: [UInt8]) throws {
        let (output, error, reader) = try readFile(bytes, bufferSize: 3)
        #expect(error == nil)
        #expect(output == bytes)
        #expect(reader.compression == .plain)
    }

    @Test(
        "gzip round trips",
        arguments: [
            ("seeded text", sampleText(byteCount: 2_500_000, seed: 3)),
            ("empty", []),
            ("one byte", [0x41]),
            ("highly compressible", [UInt8](repeating: 0x61, count: 5_000_000)),
            ("random bytes", randomBytes(300_000, seed: 4)),
        ] as [(String, [UInt8])])
    func gzipRoundTrip(label: String, data: [UInt8]) throws {
        let compressed = gzip(data)
        for bufferSize in [1 << 20, 4093] {
            let (output, error, reader) = try readFile(compressed, bufferSize: bufferSize, name: "x.log")
            #expect(error == nil, "\(label)")
            #expect(output == data, "\(label)")
            #expect(reader.compression == .gzip)
            #expect(reader.bytesRead == compressed.count)
            #expect(reader.bytesDelivered == data.count)
            #expect(reader.membersDecoded == 1)
            #expect(reader.warnings.isEmpty)
        }
    }

    @Test("Tiny output buffers give the same bytes as large ones for gzip", arguments: [1, 2, 7, 64])
    func gzipTinyBuffers(bufferSize: Int) throws {
        let data = sampleText(byteCount: 40_000, seed: 5)
        let (output, error, _) = try readFile(gzip(data), bufferSize: bufferSize)
        #expect(error == nil)
        #expect(output == data)
    }

    @Test("Every member of a multi-member gzip file is read, including empty members")
    func gzipMultiMember() throws {
        let parts = [
            sampleText(byteCount: 1_500_000, seed: 10), [], sampleText(byteCount: 1000, seed: 11),
            [UInt8](repeating: 0x7a, count: 2_000_000), sampleText(byteCount: 10, seed: 12), [],
        ]
        let compressed = parts.flatMap { gzip($0) }
        // 3.5 MB one byte at a time is slow in debug builds: the one-byte buffer is checked on a small file below.
        for bufferSize in [977, 1 << 20] {
            let (output, error, reader) = try readFile(compressed, bufferSize: bufferSize)
            #expect(error == nil)
            #expect(output == parts.flatMap { $0 })
            #expect(reader.membersDecoded == parts.count)
            #expect(reader.warnings.isEmpty)
        }
        // A one-byte output buffer across member boundaries.
        let small = [sampleText(byteCount: 50, seed: 13), [], sampleText(byteCount: 70, seed: 14)]
        let (output, error, reader) = try readFile(small.flatMap { gzip($0) }, bufferSize: 1)
        #expect(error == nil)
        #expect(output == small.flatMap { $0 })
        #expect(reader.membersDecoded == 3)
    }

    @Test("A gzip file made only of an empty member gives no bytes")
    func gzipEmptyMemberOnly() throws {
        let (output, error, reader) = try readFile(gzip([]) + gzip([]))
        #expect(error == nil)
        #expect(output.isEmpty)
        #expect(reader.membersDecoded == 2)
    }

    @Test("A truncated gzip file delivers a prefix, then an error saying how far it got")
    func gzipTruncated() throws {
        let data = sampleText(byteCount: 600_000, seed: 20)
        let member = gzip(data)
        let compressed = gzip(sampleText(byteCount: 5000, seed: 21)) + member
        let firstLength = compressed.count - member.count
        var generator = SeededGenerator(seed: 22)
        // A single byte 0x1f is not yet gzip (plain text), so cuts start at 2.
        var cuts = [
            2, 3, 9, 10, 11, 15, firstLength - 8, firstLength - 1, firstLength + 1, firstLength + 2,
            firstLength + 11, compressed.count - 8, compressed.count - 4, compressed.count - 1,
        ]
        for _ in 0..<20 { cuts.append(Int(generator.next() % UInt64(compressed.count - 2)) + 2) }
        let original = sampleText(byteCount: 5000, seed: 21) + data
        // A cut exactly after the first member is a complete (shorter) file, not a truncated one; one byte more
        // (0x1f alone) is trailing garbage, as for gzip -d. Both are checked in `gzipCutAtMemberBoundary`.
        for cut in cuts where cut != firstLength && cut != firstLength + 1 {
            let truncated = Array(compressed.prefix(cut))
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let path = try directory.file("access.log.2.gz", truncated)
            let reader: InputReader
            do {
                reader = try InputReader(path: path)
            } catch {
                Issue.record("cut \(cut): open failed: \(error)")
                continue
            }
            let (output, error) = readAll(reader, bufferSize: 65536)
            #expect(output == Array(original.prefix(output.count)), "cut at \(cut): output is not a prefix")
            let message = try #require(error, "cut at \(cut): no error").description
            #expect(error?.kind == .truncated, "cut at \(cut): \(message)")
            #expect(message.hasPrefix(path + ": gzip data ends after"), "\(message)")
            #expect(message.contains("bytes decompressed"))
            #expect(message.contains("copy it again"))
            #expect(reader.bytesDelivered == output.count)
            // Reading again repeats the error rather than pretending the input ended.
            #expect(throws: IngestError.self) { try readAll(reader).error.map { throw $0 } }
        }
    }

    @Test("A multi-member file cut at a member boundary is complete; one byte later is trailing garbage")
    func gzipCutAtMemberBoundary() throws {
        let first = sampleText(byteCount: 5000, seed: 21)
        let firstMember = gzip(first)
        let compressed = firstMember + gzip(sampleText(byteCount: 5000, seed: 23))
        let (output, error, reader) = try readFile(Array(compressed.prefix(firstMember.count)))
        #expect(error == nil && output == first && reader.warnings.isEmpty)
        let (output2, error2, reader2) = try readFile(Array(compressed.prefix(firstMember.count + 1)))
        #expect(error2 == nil && output2 == first)
        #expect(reader2.warnings.map(\.kind) == [.trailingGarbage])
    }

    @Test("The truncation message gives the compressed and decompressed byte counts")
    func gzipTruncationMessage() throws {
        let data = [UInt8](repeating: 0x61, count: 100_000)
        let compressed = gzip(data)
        let truncated = Array(compressed.prefix(compressed.count - 8))  // the trailer (CRC and length) is missing
        let (output, error, _) = try readFile(truncated, name: "access.log.2.gz")
        #expect(output == data)
        let message = try #require(error?.description)
        #expect(
            message.contains("gzip data ends after \(formatted(truncated.count)) bytes (100,000 bytes decompressed)"))
    }

    @Test("A corrupt byte in gzip data is an error with the compressed offset")
    func gzipCorrupt() throws {
        let data = sampleText(byteCount: 200_000, seed: 30)
        var compressed = gzip(data)
        // Break the deflate stream: a reserved block type (3) in the first block header.
        compressed[10] = compressed[10] | 0x06
        let (output, error, _) = try readFile(compressed, name: "bad.gz")
        #expect(output.isEmpty || output == Array(data.prefix(output.count)))
        let failure = try #require(error)
        #expect(failure.kind == .corrupt)
        #expect(failure.description.contains("gzip data is corrupt near byte"), "\(failure)")
        #expect(failure.description.contains("invalid deflate block"), "\(failure)")
    }

    @Test("A flipped byte in the middle or in the trailer is detected", arguments: [0.5, 0.99])
    func gzipFlippedByte(position: Double) throws {
        let data = sampleText(byteCount: 300_000, seed: 31)
        var compressed = gzip(data)
        let index = position < 0.9 ? Int(Double(compressed.count) * position) : compressed.count - 6  // in the CRC
        compressed[index] ^= 0x55
        let (output, error, _) = try readFile(compressed)
        let failure = try #require(error)
        #expect([IngestError.Kind.corrupt, .checksumMismatch].contains(failure.kind), "\(failure)")
        if position > 0.9 {
            #expect(failure.kind == .checksumMismatch)
            #expect(output == data, "all data is delivered before a trailer mismatch")
        }
    }

    @Test("A wrong length (ISIZE) in the trailer is a checksum mismatch, after all the data")
    func gzipWrongLength() throws {
        let data = sampleText(byteCount: 50_000, seed: 32)
        var compressed = gzip(data)
        compressed[compressed.count - 4] ^= 0x01
        let (output, error, _) = try readFile(compressed, name: "length.gz")
        #expect(output == data)
        let failure = try #require(error)
        #expect(failure.kind == .checksumMismatch, "\(failure)")
        #expect(failure.description.contains("/length.gz: gzip member 1 fails its check"), "\(failure)")
    }

    @Test("The optional header fields (extra, name, comment, header CRC) are skipped, even longer than a read")
    func gzipHeaderFields() throws {
        let data = sampleText(byteCount: 30_000, seed: 33)
        let name = [UInt8](repeating: 0x6e, count: InputReader.chunkSize + 4321)  // spans two 1 MiB reads
        let member = gzipWithHeaderFields(data, extra: randomBytes(60_000, seed: 34), name: name, comment: [0x63])
        for bufferSize in [7, 1 << 20] {
            let (output, error, reader) = try readFile(member + gzip(data), bufferSize: bufferSize)
            #expect(error == nil, "buffer \(bufferSize)")
            let matches = output == data + data  // not in #expect, which would print megabytes on a failure
            #expect(matches, "buffer \(bufferSize)")
            #expect(reader.membersDecoded == 2)
        }
    }

    @Test(
        "A broken header is corrupt data: reserved flags, a wrong header CRC, another method",
        arguments: [
            ("reserved flag", 3, 0x20, "unknown header flags set"),
            ("header CRC", -1, 0x01, "header crc mismatch"),
            ("method", 2, 0x0f, "unknown compression method"),
        ] as [(String, Int, UInt8, String)])
    func gzipBrokenHeader(label: String, index: Int, flip: UInt8, reason: String) throws {
        let data = sampleText(byteCount: 20_000, seed: 35)
        var member = gzipWithHeaderFields(data, extra: [], name: Array("access.log".utf8), comment: [])
        // -1: the last byte of the header CRC, which comes just before the deflate data.
        let headerLength = member.count - (gzip(data).count - 10)
        member[index >= 0 ? index : headerLength - 1] ^= flip
        // A first member whose header is broken, and the same after an intact member.
        for prefix in [[], gzip(data)] {
            let (output, error, _) = try readFile(prefix + member, name: "header.gz")
            #expect(output == (prefix.isEmpty ? [] : data), "\(label)")
            let failure = try #require(error, "\(label)")
            #expect(failure.kind == .corrupt, "\(label): \(failure)")
            #expect(failure.description.contains("(\(reason))"), "\(label): \(failure)")
            #expect(failure.description.contains("in member \(prefix.isEmpty ? 1 : 2)"), "\(label): \(failure)")
        }
    }

    @Test("Damaged gzip members end as they do with zlib: the same bytes before the fault, the same kind of error")
    func gzipDamageAgreesWithZlib() throws {
        let member = gzip(sampleText(byteCount: 60_000, seed: 36))
        var generator = SeededGenerator(seed: 37)
        for trial in 0..<150 {
            var damaged = member
            let random = Int(generator.next() % UInt64(member.count))
            switch trial % 3 {
            case 0: damaged[max(2, random)] ^= 1 << (generator.next() % 8)  // anywhere but the magic
            case 1: damaged[member.count - 1 - random % 8] ^= 1 << (generator.next() % 8)  // in the trailer
            default: damaged = Array(member.prefix(max(2, random)))  // cut short
            }
            let expected = zlibInflate(damaged)
            let (output, error, _) = try readFile(damaged, bufferSize: 4093)
            let outcome: ZlibOutcome =
                switch error?.kind {
                case nil: .complete
                case .truncated?: .truncated
                case .checksumMismatch?: .checksumMismatch
                default: .corrupt
                }
            // zlib checks the CRC-32 as soon as it has it, ISA-L when it has the whole trailer: a damaged member
            // that reads past the end of the file with its CRC there and the length missing is truncated for klogs.
            let lengthMissing = expected.consumed + 4 > damaged.count
            let agrees =
                outcome == expected.outcome
                || (expected.outcome == .checksumMismatch && outcome == .truncated && lengthMissing)
            #expect(agrees, "trial \(trial): zlib \(expected.outcome), klogs \(error.map { "\($0)" } ?? "no error")")
            let common = min(output.count, expected.bytes.count)
            let samePrefix = output.prefix(common) == expected.bytes.prefix(common)
            #expect(samePrefix, "trial \(trial): the bytes before the fault differ from zlib's")
            if expected.outcome == .complete { #expect(output.count == expected.bytes.count, "trial \(trial)") }
        }
    }

    @Test("A member on which ISA-L rewinds past the start of its input is corrupt, not a crash")
    func gzipRewindPastTheInput() throws {
        // Found by FuzzInputReader: the fuzz seed with every header field, its deflate data damaged so that a
        // distance reaches before the start of the output; ISA-L then reports 2 bytes more input than it was given.
        let member: [UInt8] = [
            0x1f, 0x8b, 0x08, 0x1e, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x04, 0x00, 0x6b, 0x6c, 0x6f, 0x67,
            0x61, 0x63, 0x63, 0x65, 0x73, 0x73, 0x2e, 0x6c, 0x6f, 0x67, 0x00, 0x63, 0x6f, 0x6d, 0x6d, 0x65,
            0x6e, 0x74, 0x00, 0x2c, 0xe8, 0xb5, 0x93, 0x5b, 0x6b, 0xdb, 0x30, 0x14, 0xc7, 0xdf, 0xfb, 0x29,
            0x0e, 0x86, 0x42, 0x4b, 0x17, 0x5d, 0x2c, 0xcb, 0xd7, 0xa7, 0x52, 0xb6, 0x74, 0xa4, 0xd9, 0x06,
            0x09, 0x6c, 0x30, 0x46, 0x91, 0x6d, 0xd5, 0x51, 0xa2, 0x58, 0xc6, 0x56, 0x92, 0x6e, 0x9f, 0x7e,
            0x72, 0x12, 0xd8, 0x62, 0x3c, 0xd8, 0x1e, 0xa6, 0xcb, 0x8b, 0x6e, 0xe7, 0xfc, 0xce, 0xff, 0x2f,
            0x8a, 0x7c, 0x4e, 0x10, 0xf5, 0x29, 0xed, 0xf2, 0x29, 0x83, 0x89, 0xeb, 0xfe, 0xff, 0xff, 0xff,
            0x56, 0xa6, 0xfd, 0x8e, 0x35, 0x9f, 0x89, 0x02, 0x08, 0x04, 0x00, 0x00
        ]
        for bufferSize in [1, 13, 4096] {
            let (output, error, _) = try readFile(member, bufferSize: bufferSize)
            let failure = try #require(error)
            #expect(failure.kind == .corrupt, "\(failure)")
            #expect(failure.description.contains("invalid distance too far back"), "\(failure)")
            #expect(output.count == 118)
        }
    }

    @Test("Trailing zeros and garbage after a complete member are ignored with a warning, like gzip -d")
    func gzipTrailingGarbage() throws {
        let data = sampleText(byteCount: 100_000, seed: 40)
        let member = gzip(data)
        let zeros = [UInt8](repeating: 0, count: 4096)
        let (output, error, reader) = try readFile(member + zeros, name: "padded.gz")
        #expect(error == nil)
        #expect(output == data)
        #expect(reader.warnings.count == 1)
        #expect(reader.warnings.first?.kind == .trailingZeros)
        #expect(reader.warnings.first?.offset == member.count)
        #expect(reader.warnings.first?.byteCount == 4096)
        #expect(reader.bytesRead == member.count + 4096)

        let garbage = Array("this is not gzip\n".utf8)
        for tail in [garbage, [0x1f], [0x1f, 0x00, 0x00]] {
            let (output, error, reader) = try readFile(member + tail, bufferSize: 999, name: "garbage.gz")
            #expect(error == nil)
            #expect(output == data)
            let warning = try #require(reader.warnings.first)
            #expect(warning.kind == .trailingGarbage)
            #expect(warning.byteCount == tail.count)
            #expect(warning.description.contains("trailing garbage ignored"))
            #expect(!warning.description.contains("this is not gzip"), "no file content in messages")
        }
    }

    @Test("A following member that starts with the gzip magic but is broken is an error, not garbage")
    func gzipBrokenSecondMember() throws {
        let data = sampleText(byteCount: 10_000, seed: 41)
        let (output, error, _) = try readFile(gzip(data) + [0x1f, 0x8b, 0x00, 0x00, 0x00])
        #expect(output == data)
        #expect(error != nil)
    }

    @Test("A decompression bomb streams through a fixed buffer")
    func gzipBomb() throws {
        // 64 MB of zeros compress to about 64 KB; the reader must not hold more than its buffers.
        let zeros = [UInt8](repeating: 0, count: 64 << 20)
        let compressed = gzip(zeros, level: 9)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let reader = try InputReader(path: try directory.file("bomb.gz", compressed))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var total = 0
        while case let count = try reader.read(into: buffer), count > 0 {
            total += count
            #expect(count <= buffer.count)
        }
        #expect(total == zeros.count)
        #expect(reader.bytesRead == compressed.count)
    }
}

@Suite("Opening inputs")
struct InputOpeningTests {
    @Test("A missing file is a clear error")
    func missingFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/no-such.log"
        let error = try #require(throws: IngestError.self) { try InputReader(path: path) }
        #expect(error.kind == .notFound)
        #expect(error.description == "\(path): no such file; check the path (use '-' to read standard input).")
        #expect(error.path == path)
    }

    @Test("A directory is refused with a message saying to give its files")
    func directoryAsInput() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let error = try #require(throws: IngestError.self) { try InputReader(path: directory.path) }
        #expect(error.kind == .isDirectory)
        #expect(error.description.contains("is a directory, not a log file"))
        let viaSource = try #require(throws: IngestError.self) {
            try InputReader(source: InputSource(argument: directory.path))
        }
        #expect(viaSource.kind == .isDirectory)
    }

    @Test("An unreadable file is a permission error")
    func unreadableFile() throws {
        // Root ignores file modes, so chmod 000 cannot stop it: skip the check when running as root.
        guard geteuid() != 0 else { return }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.file("secret.log", Array("x\n".utf8))
        #expect(chmod(path, 0) == 0)
        let error = try #require(throws: IngestError.self) { try InputReader(path: path) }
        #expect(error.kind == .permissionDenied)
        #expect(error.description.contains("permission denied"))
    }

    @Test("A read error names the file and how far reading got")
    func readError() throws {
        // Reading /proc/self/mem at offset 0 fails with EIO: a stand-in for a failing disk.
        guard FileManager.default.fileExists(atPath: "/proc/self/mem") else { return }
        let error = try #require(throws: IngestError.self) { try InputReader(path: "/proc/self/mem") }
        #expect(error.kind == .inputFailed(errno: EIO))
        #expect(error.description.hasPrefix("/proc/self/mem: reading failed after 0 bytes: "), "\(error)")
    }

    @Test(
        "Formats klogs does not read are refused, not ingested as text",
        arguments: [
            [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00], [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], Array("BZh91AY".utf8),
        ] as [[UInt8]])
    func unsupportedFormats(magic: [UInt8]) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.file("x.log", magic + [UInt8](repeating: 1, count: 100))
        let error = try #require(throws: IngestError.self) { try InputReader(path: path) }
        #expect(error.kind == .unsupportedFormat)
        #expect(error.description.contains("which klogs does not read"))
    }

    @Test("The argument - means standard input")
    func dashIsStandardInput() {
        #expect(InputSource(argument: "-") == .standardInput)
        #expect(InputSource(argument: "-").description == "standard input")
        #expect(InputSource(argument: "./-") == .path("./-"))
    }

    @Test(
        "A pipe is read like standard input, gzip detected from its bytes, blocking or not",
        arguments: [false, true], [false, true])
    func pipeInput(compressed: Bool, nonBlocking: Bool) throws {
        let data = sampleText(byteCount: 500_000, seed: 50)
        let payload = compressed ? gzip(data) + gzip(data) : data
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        if nonBlocking {
            // A non-blocking descriptor returns EAGAIN when the writer is slow: the reader must wait, not fail.
            #expect(fcntl(descriptors[0], F_SETFL, fcntl(descriptors[0], F_GETFL) | O_NONBLOCK) == 0)
        }
        let writeEnd = descriptors[1]
        let thread = Thread {
            if nonBlocking { usleep(20_000) }
            payload.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let count = write(writeEnd, bytes.baseAddress! + offset, min(7000, bytes.count - offset))
                    if count <= 0 { break }
                    offset += count
                }
            }
            close(writeEnd)
        }
        thread.start()
        let reader = try InputReader(fileDescriptor: descriptors[0], name: "standard input", closeWhenDone: true)
        let (output, error) = readAll(reader, bufferSize: 100_000)
        #expect(error == nil)
        #expect(output == (compressed ? data + data : data))
        #expect(reader.compression == (compressed ? .gzip : .plain))
        #expect(reader.fileSize == nil)
        #expect(reader.name == "standard input")
    }

    @Test(
        "Members and frames split across tiny reads (a pipe fed in small writes) decode the same",
        arguments: [InputCompression.gzip, .lz4Frame], [1, 3])
    func pipeTinyWrites(compression: InputCompression, writeSize: Int) throws {
        let parts = (0..<30).map { sampleText(byteCount: $0 * 37, seed: 70 + UInt64($0)) }
        // Every other gzip member has all the optional header fields, so that headers too arrive byte by byte.
        let payload = parts.enumerated().flatMap { index, part in
            if compression == .lz4Frame { return lz4Frame(part) }
            if index.isMultiple(of: 2) { return gzip(part) }
            return gzipWithHeaderFields(part, extra: [1, 2, 3], name: Array("access.log".utf8), comment: [0x63])
        }
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        let writeEnd = descriptors[1]
        let thread = Thread {
            payload.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let count = write(writeEnd, bytes.baseAddress! + offset, min(writeSize, bytes.count - offset))
                    if count <= 0 { break }
                    offset += count
                }
            }
            close(writeEnd)
        }
        thread.start()
        let reader = try InputReader(fileDescriptor: descriptors[0], name: "standard input", closeWhenDone: true)
        let (output, error) = readAll(reader, bufferSize: 5)
        #expect(error == nil)
        #expect(output == parts.flatMap { $0 })
        #expect(reader.membersDecoded == parts.count)
        #expect(reader.compression == compression)
        #expect(reader.bytesRead == payload.count)
    }

    @Test("InputSource.standardInput reads descriptor 0 and leaves it open")
    func realStandardInput() throws {
        let data = sampleText(byteCount: 10_000, seed: 52)
        let payload = gzip(data)
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        _ = payload.withUnsafeBytes { write(descriptors[1], $0.baseAddress, $0.count) }  // fits in the pipe buffer
        close(descriptors[1])
        let saved = dup(STDIN_FILENO)
        #expect(dup2(descriptors[0], STDIN_FILENO) == STDIN_FILENO)
        close(descriptors[0])
        defer {
            dup2(saved, STDIN_FILENO)
            close(saved)
        }
        do {
            let reader = try InputReader(source: .standardInput)
            let (output, error) = readAll(reader)
            #expect(error == nil)
            #expect(output == data)
            #expect(reader.name == "standard input")
            #expect(reader.path == nil)
        }
        #expect(fcntl(STDIN_FILENO, F_GETFD) != -1, "standard input is not closed by the reader")
    }

    @Test("Errors on a pipe name standard input")
    func pipeTruncated() throws {
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        let payload = Array(gzip(sampleText(byteCount: 1000, seed: 51)).prefix(100))
        _ = payload.withUnsafeBytes { write(descriptors[1], $0.baseAddress, $0.count) }
        close(descriptors[1])
        let reader = try InputReader(fileDescriptor: descriptors[0], name: "standard input", closeWhenDone: true)
        let error = try #require(readAll(reader).error)
        #expect(error.description.hasPrefix("standard input: gzip data ends after 100 bytes"))
    }
}

/// `1234567` → `"1,234,567"`.
func formatted(_ value: Int) -> String {
    let digits = Array(String(value))
    var result = ""
    for (index, digit) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
        result.append(digit)
    }
    return result
}
