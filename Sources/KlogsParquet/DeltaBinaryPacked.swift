/// The DELTA_BINARY_PACKED encoding of Parquet, for INT32 and INT64 values.
///
/// A header (block size, miniblocks per block, value count as ULEB128, first value as zigzag ULEB128) is followed by
/// blocks of the differences between consecutive values. Each block stores its smallest difference (zigzag ULEB128),
/// one bit width per miniblock, and then each miniblock's differences minus that smallest one, bit-packed least
/// significant bit first. Sorted or slowly changing values (timestamps) cost a few bits each instead of 8 bytes.
/// Differences wrap around in the values' own width, as the format specifies, so every value round-trips.
///
/// klogs writes blocks of 128 values in 4 miniblocks of 32, like parquet-mr and Arrow; it reads any layout the
/// format allows.
enum DeltaBinaryPacked {
    static let blockSize = 128
    static let miniblocksPerBlock = 4
    static let valuesPerMiniblock = blockSize / miniblocksPerBlock

    // MARK: Encoding

    /// Appends the encoding of `values` to `output`.
    ///
    /// Each block's differences are found once (`Block`), then the block is written whole through one pointer:
    /// its size is known from the bit widths before a byte is written.
    ///
    /// - Complexity: O(n).
    static func encode<T: FixedWidthInteger & SignedInteger>(
        _ values: UnsafeBufferPointer<T>, into output: inout [UInt8]
    ) {
        RunLengthEncoding.appendVarint(UInt64(blockSize), to: &output)
        RunLengthEncoding.appendVarint(UInt64(miniblocksPerBlock), to: &output)
        RunLengthEncoding.appendVarint(UInt64(values.count), to: &output)
        RunLengthEncoding.appendVarint(zigzag(Int64(values.first ?? 0)), to: &output)
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: blockSize) { buffer in
            let deltas = buffer.baseAddress!  // safe: the allocation is never empty
            var start = 1
            while start < values.count {
                let end = min(values.count, start + blockSize)
                let block = Block(values, start..<end, packing: deltas)
                let first = output.count
                output.append(contentsOf: repeatElement(0, count: block.size))
                output.withUnsafeMutableBytes { raw in
                    var position = raw.baseAddress! + first  // safe: the block's bytes were just appended
                    position += storeVarint(zigzag(Int64(block.minimum)), at: position)
                    withUnsafeBytes(of: block.widths) { position.copyMemory(from: $0.baseAddress!, byteCount: 4) }
                    position += miniblocksPerBlock
                    for miniblock in 0..<block.miniblocks {
                        let width = block.width(miniblock)
                        pack(deltas + miniblock * valuesPerMiniblock, width: width, at: position)
                        position += valuesPerMiniblock * width / 8
                    }
                }
                start = end
            }
        }
    }

    /// The size in bytes ``encode(_:into:)`` would produce, without producing it: for choosing an encoding.
    ///
    /// - Complexity: O(n), the differences of each block found as `encode` finds them.
    static func encodedSize<T: FixedWidthInteger & SignedInteger>(_ values: UnsafeBufferPointer<T>) -> Int {
        // The header: block size (2 bytes), miniblocks (1), the count, and the first value taken at its largest.
        var size = 3 + varintSize(UInt64(values.count)) + 10
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: blockSize) { buffer in
            var start = 1
            while start < values.count {
                let end = min(values.count, start + blockSize)
                size += Block(values, start..<end, packing: buffer.baseAddress!).size  // safe: never empty
                start = end
            }
        }
        return size
    }

    /// One block of differences, found in two passes over the values: the differences and their smallest, then
    /// the values to pack (each difference minus the smallest, never negative) and, per miniblock, the bits they
    /// use (the OR of its values has the bit width of their largest).
    private struct Block<T: FixedWidthInteger & SignedInteger> {
        /// The smallest difference between consecutive values of the block, in wrapping arithmetic.
        var minimum = T.max
        /// The bit width of each miniblock's packed values (zero past `miniblocks`), as the block writes them.
        var widths: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        /// The number of miniblocks holding values.
        let miniblocks: Int

        /// The block of the differences whose later value is in `range` (at most `blockSize` values, from 1). The
        /// values to pack go to `packed` (`blockSize` of them, zero after the last difference).
        @inline(__always)
        init(_ values: UnsafeBufferPointer<T>, _ range: Range<Int>, packing packed: UnsafeMutablePointer<UInt64>) {
            let count = range.count
            miniblocks = (count + valuesPerMiniblock - 1) / valuesPerMiniblock
            let base = values.baseAddress! + range.lowerBound  // safe: the range holds at least one value
            for index in 0..<count {
                let delta = base[index] &- base[index - 1]
                packed[index] = UInt64(truncatingIfNeeded: delta)
                minimum = Swift.min(minimum, delta)
            }
            for index in count..<(miniblocks * valuesPerMiniblock) { packed[index] = 0 }
            var bits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            withUnsafeMutableBytes(of: &bits) { raw in
                let bits = raw.bindMemory(to: UInt64.self)
                for miniblock in 0..<miniblocks {
                    let upper = Swift.min(count, (miniblock + 1) * valuesPerMiniblock)
                    var used: UInt64 = 0
                    for index in (miniblock * valuesPerMiniblock)..<upper {
                        let value = UInt64(
                            T.Magnitude(truncatingIfNeeded: T(truncatingIfNeeded: packed[index]) &- minimum))
                        packed[index] = value
                        used |= value
                    }
                    bits[miniblock] = used
                }
            }
            widths = (
                UInt8(64 - bits.0.leadingZeroBitCount), miniblocks > 1 ? UInt8(64 - bits.1.leadingZeroBitCount) : 0,
                miniblocks > 2 ? UInt8(64 - bits.2.leadingZeroBitCount) : 0,
                miniblocks > 3 ? UInt8(64 - bits.3.leadingZeroBitCount) : 0
            )
        }

        /// The bit width of a miniblock's packed values.
        @inline(__always)
        func width(_ miniblock: Int) -> Int {
            switch miniblock {
            case 0: Int(widths.0)
            case 1: Int(widths.1)
            case 2: Int(widths.2)
            default: Int(widths.3)
            }
        }

        /// The block's encoded size: its smallest difference, the widths, and the packed miniblocks.
        var size: Int {
            varintSize(zigzag(Int64(minimum))) + miniblocksPerBlock
                + (Int(widths.0) + Int(widths.1) + Int(widths.2) + Int(widths.3)) * valuesPerMiniblock / 8
        }
    }

    /// Writes the 32 values at `values`, `width` bits each, least significant bit first, at `output`: exactly
    /// `4 * width` bytes, stored eight at a time.
    @inline(__always)
    private static func pack(_ values: UnsafePointer<UInt64>, width: Int, at output: UnsafeMutableRawPointer) {
        guard width > 0 else { return }
        var accumulator: UInt64 = 0
        var used = 0
        var position = 0
        for index in 0..<valuesPerMiniblock {
            let value = values[index]
            accumulator |= value << UInt64(used)
            used += width
            if used >= 64 {
                // Safe store: 64 complete bits belong to the output, so the 8 bytes stay inside its 4 × width.
                output.storeBytes(of: accumulator.littleEndian, toByteOffset: position, as: UInt64.self)
                position += 8
                used -= 64
                // Safe shift: used > 0 means the value straddled the word, so width - used is below 64.
                accumulator = used > 0 ? value >> UInt64(width - used) : 0
            }
        }
        // 32 values make whole bytes; at most 7 remain.
        while used > 0 {
            output.storeBytes(of: UInt8(truncatingIfNeeded: accumulator), toByteOffset: position, as: UInt8.self)
            accumulator >>= 8
            position += 1
            used -= 8
        }
    }

    /// Writes `value` as a ULEB128 varint at `output` and returns its length.
    @inline(__always)
    private static func storeVarint(_ value: UInt64, at output: UnsafeMutableRawPointer) -> Int {
        var value = value
        var count = 0
        while value >= 0x80 {
            output.storeBytes(of: UInt8(truncatingIfNeeded: value) | 0x80, toByteOffset: count, as: UInt8.self)
            value >>= 7
            count += 1
        }
        output.storeBytes(of: UInt8(value), toByteOffset: count, as: UInt8.self)
        return count + 1
    }

    static func zigzag(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    private static func varintSize(_ value: UInt64) -> Int {
        max(1, (64 - value.leadingZeroBitCount + 6) / 7)
    }

    // MARK: Decoding

    /// Decodes the `count` values encoded at `buffer[range]` and appends them to `output`.
    ///
    /// - Throws: ``ParquetError`` when the header is not a valid layout, states another count, or the blocks end early
    ///   or claim bit widths wider than the type.
    static func decode<T: FixedWidthInteger & SignedInteger>(
        _ buffer: [UInt8], range: Range<Int>, count: Int, into output: inout [T]
    ) throws {
        var reader = Reader(buffer: buffer, position: range.lowerBound, end: range.upperBound)
        let blockValues = try reader.varint()
        let miniblocks = try reader.varint()
        let total = try reader.varint()
        guard blockValues > 0, blockValues % 128 == 0, blockValues <= 1 << 20, miniblocks > 0,
            blockValues % miniblocks == 0, (blockValues / miniblocks) % 32 == 0
        else {
            throw ParquetError.malformed(
                "DELTA_BINARY_PACKED blocks of \(blockValues) values in \(miniblocks) miniblocks are not a valid layout")
        }
        guard total == UInt64(count) else {
            throw ParquetError.malformed("the DELTA_BINARY_PACKED data holds \(total) values where \(count) are expected")
        }
        guard count > 0 else { return }
        let miniblockValues = Int(blockValues / miniblocks)
        var previous = T(truncatingIfNeeded: unzigzag(try reader.varint()))
        output.reserveCapacity(output.count + count)
        output.append(previous)
        var remaining = count - 1
        var widths = [Int](repeating: 0, count: Int(miniblocks))
        while remaining > 0 {
            let minimum = T(truncatingIfNeeded: unzigzag(try reader.varint()))
            for miniblock in widths.indices {
                widths[miniblock] = Int(try reader.byte())
                guard widths[miniblock] <= T.bitWidth else {
                    throw ParquetError.malformed(
                        "a DELTA_BINARY_PACKED miniblock claims \(widths[miniblock]) bits for \(T.bitWidth)-bit values")
                }
            }
            for width in widths where remaining > 0 {
                let take = min(remaining, miniblockValues)
                try reader.unpack(miniblockValues, width: width) { index, delta in
                    guard index < take else { return }
                    previous = previous &+ minimum &+ T(truncatingIfNeeded: delta)
                    output.append(previous)
                }
                remaining -= take
            }
        }
    }

    private static func unzigzag(_ value: UInt64) -> Int64 {
        Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1)
    }

    /// A bounds-checked cursor over the encoded bytes.
    private struct Reader {
        let buffer: [UInt8]
        var position: Int
        let end: Int

        mutating func byte() throws -> UInt8 {
            guard position < end else { throw ParquetError.malformed("the DELTA_BINARY_PACKED data ends early") }
            defer { position += 1 }
            return buffer[position]
        }

        mutating func varint() throws -> UInt64 {
            var value: UInt64 = 0
            for shift in stride(from: 0, to: 70, by: 7) {
                let byte = try self.byte()
                guard shift < 63 || byte <= 1 else { break }
                value |= UInt64(byte & 0x7F) << UInt64(shift)
                if byte & 0x80 == 0 { return value }
            }
            throw ParquetError.malformed("a DELTA_BINARY_PACKED varint is longer than 64 bits")
        }

        /// Reads `count` values of `width` bits (the whole miniblock, so the cursor lands after it).
        mutating func unpack(_ count: Int, width: Int, _ body: (Int, UInt64) -> Void) throws {
            let bytes = count * width / 8
            guard bytes <= end - position else {
                throw ParquetError.malformed(
                    "a DELTA_BINARY_PACKED miniblock needs \(bytes) bytes but \(end - position) remain")
            }
            let mask: UInt64 = width == 64 ? .max : (1 << UInt64(width)) - 1
            var bit = position * 8
            for index in 0..<count {
                var value: UInt64 = 0
                var filled = 0
                while filled < width {
                    let shift = bit & 7
                    let take = min(8 - shift, width - filled)
                    value |= UInt64((buffer[bit >> 3] >> UInt8(shift)) & UInt8((1 << take) - 1)) << UInt64(filled)
                    filled += take
                    bit += take
                }
                body(index, value & mask)
            }
            position += bytes
        }
    }
}
