internal import CLZ4

/// The compression codecs the writer can use.
public enum ParquetCompression: String, Sendable, Hashable, CaseIterable {
    /// Pages stored as they are.
    case uncompressed
    /// Pages as bare LZ4 blocks (Parquet codec LZ4_RAW, 7): fast to write and read, supported by pyarrow, DuckDB, Spark.
    case lz4Raw

    var codec: ParquetCodec {
        switch self {
        case .uncompressed: .uncompressed
        case .lz4Raw: .lz4Raw
        }
    }
}

/// Page compression and decompression. The LZ4 calls are the module's only C calls.
enum PageCodec {
    /// Compresses `input` as one LZ4 block into the start of `output`, growing it when needed, and returns the
    /// compressed length. `output` keeps its size between calls so a reused scratch buffer is never zero-filled again.
    static func compressLZ4(_ input: [UInt8], into output: inout [UInt8]) throws -> Int {
        guard input.count <= Int(LZ4_MAX_INPUT_SIZE) else {
            throw ParquetError.invalidArgument(
                "a page of \(input.count) bytes exceeds LZ4's block limit; use a smaller data page size")
        }
        let bound = Int(LZ4_compressBound(Int32(input.count)))
        if output.count < bound { output = [UInt8](repeating: 0, count: max(bound, 64)) }
        if input.isEmpty { return 0 }
        return try input.withUnsafeBufferPointer { source in
            try output.withUnsafeMutableBufferPointer { destination in
                // Safe because the source is non-empty and the destination holds at least
                // LZ4_compressBound(source.count) bytes, so both base addresses exist.
                if source.count >= sampledPageSize, try !sampleShrinks(source, scratch: destination) {
                    return storeLiterals(source, into: destination)
                }
                return try compress(source, into: destination)
            }
        }
    }

    /// Pages of at least this many bytes are first tried on a sample of ``sampleSize`` bytes from their middle.
    static let sampledPageSize = 16 << 10
    static let sampleSize = 4 << 10

    /// Whether LZ4 shrinks the middle ``sampleSize`` bytes of `page` by at least 1/32.
    ///
    /// Bit-packed pseudonym ids, response sizes and the ids of a dictionary whose entries are about equally
    /// frequent do not shrink (the LZ4 of a 45 kB `visitor` page is 0.4% larger than the page): such a page is
    /// stored as one literal run instead, a copy where LZ4 took about 3.5 instructions a byte to find nothing (27 M
    /// for the pages of a 1M-line run). The sample costs about a tenth of that for such pages; a page it misjudges
    /// is stored a few percent larger, never wrong.
    private static func sampleShrinks(
        _ page: UnsafeBufferPointer<UInt8>, scratch: UnsafeMutableBufferPointer<UInt8>
    ) throws -> Bool {
        let start = (page.count - sampleSize) / 2
        let sample = UnsafeBufferPointer(rebasing: page[start..<(start + sampleSize)])
        return try compress(sample, into: scratch) < sampleSize - sampleSize / 32
    }

    /// One LZ4 block of `source` (not empty) into `destination` (at least `LZ4_compressBound(source.count)` bytes).
    private static func compress(
        _ source: UnsafeBufferPointer<UInt8>, into destination: UnsafeMutableBufferPointer<UInt8>
    ) throws -> Int {
        let written = LZ4_compress_default(
            UnsafeRawPointer(source.baseAddress!).assumingMemoryBound(to: CChar.self),
            UnsafeMutableRawPointer(destination.baseAddress!).assumingMemoryBound(to: CChar.self),
            Int32(source.count), Int32(destination.count))
        guard written > 0 else {
            throw ParquetError(.io, "LZ4 compression of a \(source.count)-byte page failed")
        }
        return Int(written)
    }

    /// Writes `source` as an LZ4 block of one literal run (a valid block that any LZ4 decoder reads): the token,
    /// the run's length past 15 in bytes of 255 and a last byte below 255, then the bytes themselves. The result,
    /// `source.count + 1 + (source.count - 15) / 255 + 1` bytes for a long run, fits in `LZ4_compressBound`.
    ///
    /// - Returns: the block's length.
    static func storeLiterals(
        _ source: UnsafeBufferPointer<UInt8>, into destination: UnsafeMutableBufferPointer<UInt8>
    ) -> Int {
        destination[0] = UInt8(min(source.count, 15)) << 4
        var position = 1
        if source.count >= 15 {
            var rest = source.count - 15
            while rest >= 255 {
                destination[position] = 255
                position += 1
                rest -= 255
            }
            destination[position] = UInt8(rest)
            position += 1
        }
        UnsafeMutableRawPointer(destination.baseAddress! + position)
            .copyMemory(from: source.baseAddress!, byteCount: source.count)
        return position + source.count
    }

    /// Decompresses one LZ4 block of `input[range]` that must produce exactly `uncompressedSize` bytes.
    static func decompressLZ4(_ input: [UInt8], range: Range<Int>, uncompressedSize: Int) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: uncompressedSize)
        if uncompressedSize == 0 && range.isEmpty { return output }
        let produced = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                // Safe because LZ4_decompress_safe never reads past srcSize nor writes past dstCapacity, and
                // the range was checked against the buffer by the caller; empty buffers get a dummy address.
                let sourceBase = source.baseAddress.map { UnsafeRawPointer($0 + range.lowerBound) }
                var dummy: UInt8 = 0
                return withUnsafeMutablePointer(to: &dummy) { dummyPointer in
                    LZ4_decompress_safe(
                        (sourceBase ?? UnsafeRawPointer(dummyPointer)).assumingMemoryBound(to: CChar.self),
                        UnsafeMutableRawPointer(destination.baseAddress ?? dummyPointer)
                            .assumingMemoryBound(to: CChar.self),
                        Int32(range.count), Int32(destination.count))
                }
            }
        }
        guard produced == uncompressedSize else {
            throw ParquetError.malformed(
                "an LZ4_RAW page of \(range.count) bytes decompresses to \(produced < 0 ? "an error" : "\(produced) bytes") instead of the \(uncompressedSize) its header states")
        }
        return output
    }

    /// Decompresses one Snappy block (the raw format, no framing) of `input[range]`.
    ///
    /// Every literal and copy is checked against the input and against the declared size, so a damaged block throws.
    static func decompressSnappy(_ input: [UInt8], range: Range<Int>, uncompressedSize: Int) throws -> [UInt8] {
        var position = range.lowerBound
        let end = range.upperBound
        func fail(_ what: String) -> ParquetError {
            .malformed("a SNAPPY page is damaged: \(what) at byte \(position - range.lowerBound) of \(range.count)")
        }
        // Preamble: the uncompressed length as a varint.
        var declared: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw fail("the length preamble is truncated") }
            let byte = input[position]
            position += 1
            guard shift < 35 else { throw fail("the length preamble is too long") }
            declared |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        guard declared == UInt64(uncompressedSize) else {
            throw fail("the block declares \(declared) bytes but the page header \(uncompressedSize)")
        }
        var output = [UInt8]()
        output.reserveCapacity(uncompressedSize)
        while position < end {
            let tag = input[position]
            position += 1
            switch tag & 3 {
            case 0:  // Literal.
                var length = Int(tag >> 2) + 1
                if length > 60 {
                    let extra = length - 60
                    guard end - position >= extra else { throw fail("a literal length is truncated") }
                    length = 0
                    for index in 0..<extra { length |= Int(input[position + index]) << (8 * index) }
                    length += 1
                    position += extra
                }
                guard end - position >= length else { throw fail("a literal of \(length) bytes is truncated") }
                guard uncompressedSize - output.count >= length else { throw fail("a literal overruns the declared size") }
                output.append(contentsOf: input[position..<(position + length)])
                position += length
            default:
                let length: Int
                let offset: Int
                switch tag & 3 {
                case 1:
                    guard position < end else { throw fail("a copy is truncated") }
                    length = Int((tag >> 2) & 7) + 4
                    offset = Int(tag >> 5) << 8 | Int(input[position])
                    position += 1
                case 2:
                    guard end - position >= 2 else { throw fail("a copy is truncated") }
                    length = Int(tag >> 2) + 1
                    offset = Int(input[position]) | Int(input[position + 1]) << 8
                    position += 2
                default:
                    guard end - position >= 4 else { throw fail("a copy is truncated") }
                    length = Int(tag >> 2) + 1
                    var value = 0
                    for index in 0..<4 { value |= Int(input[position + index]) << (8 * index) }
                    offset = value
                    position += 4
                }
                guard offset > 0 && offset <= output.count else { throw fail("a copy refers to offset \(offset)") }
                guard uncompressedSize - output.count >= length else { throw fail("a copy overruns the declared size") }
                // Byte by byte: a copy may overlap its own output (offset < length repeats a pattern).
                let start = output.count - offset
                for index in 0..<length { output.append(output[start + index]) }
            }
        }
        guard output.count == uncompressedSize else {
            throw fail("the block ends after \(output.count) of \(uncompressedSize) bytes")
        }
        return output
    }
}
