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
    /// - Complexity: O(n).
    static func encode<T: FixedWidthInteger & SignedInteger>(
        _ values: UnsafeBufferPointer<T>, into output: inout [UInt8]
    ) {
        RunLengthEncoding.appendVarint(UInt64(blockSize), to: &output)
        RunLengthEncoding.appendVarint(UInt64(miniblocksPerBlock), to: &output)
        RunLengthEncoding.appendVarint(UInt64(values.count), to: &output)
        RunLengthEncoding.appendVarint(zigzag(Int64(values.first ?? 0)), to: &output)
        var deltas = [UInt64](repeating: 0, count: blockSize)
        var start = 1
        while start < values.count {
            let end = min(values.count, start + blockSize)
            let minimum = smallestDelta(values, start..<end)
            RunLengthEncoding.appendVarint(zigzag(Int64(minimum)), to: &output)
            let widths = output.count
            output.append(contentsOf: repeatElement(0, count: miniblocksPerBlock))
            for index in start..<end {
                deltas[index - start] = UInt64(T.Magnitude(truncatingIfNeeded: values[index] &- values[index - 1] &- minimum))
            }
            for miniblock in 0..<((end - start + valuesPerMiniblock - 1) / valuesPerMiniblock) {
                let lower = miniblock * valuesPerMiniblock
                let upper = min(end - start, lower + valuesPerMiniblock)
                // The unused tail of the last miniblock is padded with zeros.
                for index in upper..<(lower + valuesPerMiniblock) { deltas[index] = 0 }
                let width = bitWidth(of: deltas[lower..<(lower + valuesPerMiniblock)])
                output[widths + miniblock] = UInt8(width)
                pack(deltas[lower..<(lower + valuesPerMiniblock)], width: width, into: &output)
            }
            start = end
        }
    }

    /// The size in bytes ``encode(_:into:)`` would produce, without producing it: for choosing an encoding.
    static func encodedSize<T: FixedWidthInteger & SignedInteger>(_ values: UnsafeBufferPointer<T>) -> Int {
        // The header: block size (2 bytes), miniblocks (1), the count, and the first value taken at its largest.
        var size = 3 + varintSize(UInt64(values.count)) + 10
        var start = 1
        while start < values.count {
            let end = min(values.count, start + blockSize)
            let minimum = smallestDelta(values, start..<end)
            size += varintSize(zigzag(Int64(minimum))) + miniblocksPerBlock
            var lower = start
            while lower < end {
                let upper = min(end, lower + valuesPerMiniblock)
                var largest: T.Magnitude = 0
                for index in lower..<upper {
                    largest = max(largest, T.Magnitude(truncatingIfNeeded: values[index] &- values[index - 1] &- minimum))
                }
                size += (T.Magnitude.bitWidth - largest.leadingZeroBitCount) * valuesPerMiniblock / 8
                lower = upper
            }
            start = end
        }
        return size
    }

    /// The smallest difference between consecutive values whose later one is in `range`, in wrapping arithmetic.
    private static func smallestDelta<T: FixedWidthInteger & SignedInteger>(
        _ values: UnsafeBufferPointer<T>, _ range: Range<Int>
    ) -> T {
        var minimum = T.max
        for index in range { minimum = min(minimum, values[index] &- values[index - 1]) }
        return minimum
    }

    private static func bitWidth(of values: ArraySlice<UInt64>) -> Int {
        var combined: UInt64 = 0
        for value in values { combined |= value }
        return 64 - combined.leadingZeroBitCount
    }

    /// Appends `values`, `width` bits each, least significant bit first. A miniblock of 32 values always ends on a
    /// byte boundary.
    private static func pack(_ values: ArraySlice<UInt64>, width: Int, into output: inout [UInt8]) {
        guard width > 0 else { return }
        var accumulator: UInt64 = 0
        var used = 0
        for value in values {
            accumulator |= value << UInt64(used)
            if used + width >= 64 {
                appendWord(accumulator, to: &output)
                let spill = used + width - 64
                // Safe shift: spill > 0 means used > 0, so width - spill = 64 - used is below 64.
                accumulator = spill > 0 ? value >> UInt64(width - spill) : 0
                used = spill
            } else {
                used += width
            }
        }
        var bytes = (used + 7) / 8
        while bytes > 0 {
            output.append(UInt8(truncatingIfNeeded: accumulator))
            accumulator >>= 8
            bytes -= 1
        }
    }

    private static func appendWord(_ word: UInt64, to output: inout [UInt8]) {
        withUnsafeBytes(of: word.littleEndian) { output.append(contentsOf: $0) }
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
