/// The RLE / bit-packing hybrid encoding of Parquet, used for definition levels and dictionary indices.
///
/// A stream is a sequence of runs. An RLE run is a varint header `count << 1` followed by the repeated value in
/// `ceil(bitWidth / 8)` little-endian bytes. A bit-packed run is a varint header `groups << 1 | 1` followed by
/// `groups * 8` values packed least-significant bit first, `bitWidth` bits each.
enum RunLengthEncoding {
    /// The number of bits needed to store values up to `maximum` (at least 1, as some readers reject width 0).
    static func bitWidth(forMaximum maximum: UInt32) -> Int {
        max(1, 32 - maximum.leadingZeroBitCount)
    }

    /// Appends the hybrid encoding of `values` to `output`.
    ///
    /// Runs of 8 or more equal values become RLE runs; everything else is bit-packed in groups of 8, the last group
    /// padded with zeros.
    ///
    /// - Complexity: O(n).
    static func encode(_ values: UnsafeBufferPointer<UInt32>, bitWidth: Int, into output: inout [UInt8]) {
        let count = values.count
        var index = 0
        while index < count {
            let run = runLength(values, at: index)
            if run >= 8 {
                appendVarint(UInt64(run) << 1, to: &output)
                appendValue(values[index], bitWidth: bitWidth, to: &output)
                index += run
                continue
            }
            // A literal run: whole groups of 8 until the end or until a group would start a long run.
            let start = index
            var end = index
            repeat {
                end = min(end + 8, count)
            } while end < count && !startsLongRun(values, at: end)
            let groups = (end - start + 7) / 8
            appendVarint(UInt64(groups) << 1 | 1, to: &output)
            appendBitPacked(values, start..<end, groups: groups, bitWidth: bitWidth, to: &output)
            index = end
        }
    }

    /// Appends `groups` groups of 8 values bit-packed at `bitWidth` (exactly `bitWidth` bytes per group), the
    /// values of `range` followed by zeros; written through a pointer four bytes at a time, or a group at a time for
    /// widths up to 8.
    private static func appendBitPacked(
        _ values: UnsafeBufferPointer<UInt32>, _ range: Range<Int>, groups: Int, bitWidth: Int,
        to output: inout [UInt8]
    ) {
        let first = output.count
        let size = groups * bitWidth
        output.append(contentsOf: repeatElement(0, count: size))
        output.withUnsafeMutableBytes { raw in
            let bytes = UnsafeMutableRawBufferPointer(rebasing: raw[first..<(first + size)])
            if bitWidth <= 8 {
                packNarrow(values, range, bitWidth: bitWidth, into: bytes)
                return
            }
            var accumulator: UInt64 = 0
            var bits = 0
            var position = 0
            // Whenever 32 bits are complete they belong to the output, so the 4-byte store stays inside `size`.
            func add(_ value: UInt32) {
                accumulator |= UInt64(value) << UInt64(bits)
                bits += bitWidth
                if bits >= 32 {
                    bytes.storeBytes(of: UInt32(truncatingIfNeeded: accumulator).littleEndian, toByteOffset: position, as: UInt32.self)
                    position += 4
                    accumulator >>= 32
                    bits -= 32
                }
            }
            for index in range { add(values[index]) }
            for _ in range.count..<(groups * 8) { add(0) }
            // The total is a whole number of bytes (8 values per group); at most 3 remain.
            while bits > 0 {
                bytes[position] = UInt8(truncatingIfNeeded: accumulator)
                position += 1
                accumulator >>= 8
                bits -= 8
            }
        }
    }

    /// Bit-packs the values of `range` (of at most 8 bits each) into `bytes`, which holds whole groups of 8 values
    /// and is zero: a group's 8 values fill one 64-bit word, of which the low `bitWidth` bytes are the group's.
    ///
    /// A word is stored whole where 8 bytes fit (the bytes past the group are zero, and the next group overwrites
    /// them); the others byte by byte. Dictionary ids of small dictionaries (user-agent classes, methods, the
    /// definition levels) take this path.
    private static func packNarrow(
        _ values: UnsafeBufferPointer<UInt32>, _ range: Range<Int>, bitWidth: Int,
        into bytes: UnsafeMutableRawBufferPointer
    ) {
        let width = UInt64(bitWidth)
        var index = range.lowerBound
        var offset = 0
        while index < range.upperBound {
            var word: UInt64 = 0
            if index &+ 8 <= range.upperBound {
                for slot in 0..<8 { word |= UInt64(values[index &+ slot]) &<< (UInt64(slot) &* width) }
            } else {
                // The last, partial group: the missing values are zeros.
                for slot in 0..<(range.upperBound &- index) {
                    word |= UInt64(values[index &+ slot]) &<< (UInt64(slot) &* width)
                }
            }
            if offset &+ 8 <= bytes.count {
                bytes.storeBytes(of: word.littleEndian, toByteOffset: offset, as: UInt64.self)
            } else {
                for byte in 0..<bitWidth {
                    bytes[offset &+ byte] = UInt8(truncatingIfNeeded: word &>> UInt64(8 &* byte))
                }
            }
            index &+= 8
            offset &+= bitWidth
        }
    }

    /// Appends a single RLE run of `count` copies of `value`.
    static func encodeRun(_ value: UInt32, count: Int, bitWidth: Int, into output: inout [UInt8]) {
        guard count > 0 else { return }
        appendVarint(UInt64(count) << 1, to: &output)
        appendValue(value, bitWidth: bitWidth, to: &output)
    }

    /// Whether the eight values from `index` on are all equal (false when fewer than eight remain): the differences
    /// from the first are or-ed together without a branch, where a loop that stops at the first difference takes a
    /// branch the processor mispredicts on ids that vary (the check runs at every group of a literal run).
    @inline(__always)
    private static func startsLongRun(_ values: UnsafeBufferPointer<UInt32>, at index: Int) -> Bool {
        guard index + 8 <= values.count, let base = values.baseAddress else { return false }
        // Safe because index + 8 <= count: the eight values lie inside the buffer.
        let group = base + index
        let first = group[0]
        let differences =
            (group[1] ^ first) | (group[2] ^ first) | (group[3] ^ first) | (group[4] ^ first)
            | (group[5] ^ first) | (group[6] ^ first) | (group[7] ^ first)
        return differences == 0
    }

    /// The number of values equal to `values[index]` from `index` on.
    private static func runLength(_ values: UnsafeBufferPointer<UInt32>, at index: Int) -> Int {
        let first = values[index]
        var end = index + 1
        while end < values.count && values[end] == first { end += 1 }
        return end - index
    }

    private static func appendValue(_ value: UInt32, bitWidth: Int, to output: inout [UInt8]) {
        var value = value
        for _ in 0..<((bitWidth + 7) / 8) {
            output.append(UInt8(truncatingIfNeeded: value))
            value >>= 8
        }
    }

    static func appendVarint(_ value: UInt64, to output: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            output.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        output.append(UInt8(value))
    }

    /// Decodes exactly `count` values from `input[range]` into `output` (appending).
    ///
    /// - Throws: ``ParquetError`` when the runs end before `count` values or a header is malformed.
    static func decode(
        _ input: [UInt8], range: Range<Int>, bitWidth: Int, count: Int, into output: inout [UInt32]
    ) throws {
        guard bitWidth >= 0 && bitWidth <= 32 else {
            throw ParquetError.malformed("RLE bit width \(bitWidth) is above 32")
        }
        var position = range.lowerBound
        let end = range.upperBound
        var remaining = count
        let byteWidth = (bitWidth + 7) / 8
        let mask: UInt64 = bitWidth == 32 ? 0xFFFF_FFFF : (1 << UInt64(bitWidth)) - 1
        while remaining > 0 {
            // The run header.
            var header: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard position < end else {
                    throw ParquetError.malformed("RLE data ends with \(remaining) of \(count) values still to decode")
                }
                let byte = input[position]
                position += 1
                guard shift < 64 else { throw ParquetError.malformed("RLE run header is longer than 10 bytes") }
                header |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { break }
                shift += 7
            }
            if header & 1 == 0 {
                let runCount = header >> 1
                guard runCount > 0 else { throw ParquetError.malformed("RLE run of length zero") }
                guard end - position >= byteWidth else { throw ParquetError.malformed("RLE run value is truncated") }
                var value: UInt64 = 0
                for byteIndex in 0..<byteWidth { value |= UInt64(input[position + byteIndex]) << (8 * UInt64(byteIndex)) }
                position += byteWidth
                guard value <= mask else { throw ParquetError.malformed("RLE run value \(value) exceeds bit width \(bitWidth)") }
                let take = Int(min(runCount, UInt64(remaining)))
                output.append(contentsOf: repeatElement(UInt32(value), count: take))
                remaining -= take
            } else {
                let groups = header >> 1
                guard groups > 0, groups <= UInt64(Int32.max) else {
                    throw ParquetError.malformed("RLE bit-packed run has \(groups) groups")
                }
                let take = Int(min(groups * 8, UInt64(remaining)))
                let neededBytes = (take * bitWidth + 7) / 8
                guard end - position >= neededBytes else {
                    throw ParquetError.malformed("RLE bit-packed run needs \(neededBytes) bytes but \(end - position) remain")
                }
                var accumulator: UInt64 = 0
                var bits = 0
                var byteIndex = position
                for _ in 0..<take {
                    while bits < bitWidth {
                        accumulator |= UInt64(input[byteIndex]) << UInt64(bits)
                        byteIndex += 1
                        bits += 8
                    }
                    output.append(UInt32(truncatingIfNeeded: accumulator & mask))
                    accumulator >>= UInt64(bitWidth)
                    bits -= bitWidth
                }
                // The run occupies all its groups even when fewer values were needed.
                let fullBytes = Int(groups) * bitWidth
                position += min(fullBytes, end - position)
                remaining -= take
            }
        }
    }
}
