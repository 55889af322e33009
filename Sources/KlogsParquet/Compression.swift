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
        let written = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                // Safe because the source is non-empty and the destination holds at least
                // LZ4_compressBound(source.count) bytes, so both base addresses exist.
                LZ4_compress_default(
                    UnsafeRawPointer(source.baseAddress!).assumingMemoryBound(to: CChar.self),
                    UnsafeMutableRawPointer(destination.baseAddress!).assumingMemoryBound(to: CChar.self),
                    Int32(source.count), Int32(destination.count))
            }
        }
        guard written > 0 else {
            throw ParquetError(.io, "LZ4 compression of a \(input.count)-byte page failed")
        }
        return Int(written)
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
