/// The encoding an integer column chunk is written in: whichever of PLAIN, a dictionary and DELTA_BINARY_PACKED
/// is estimated smallest.
///
/// The estimates are of the encoded bytes before compression, except PLAIN's, which counts half its bytes: LZ4
/// roughly halves PLAIN integers of log data (timestamps, sizes), while it barely shrinks bit-packed ids or deltas.
/// In the `events` dataset this picks DELTA_BINARY_PACKED for `ts` (a few bits per request instead of 8 bytes) and
/// `bytes`, and a dictionary for `status` and `visitor` (a visitor makes many requests).
enum IntegerEncodingChoice<T: FixedWidthInteger & SignedInteger> {
    case plain
    case deltaBinaryPacked
    /// The distinct values in first-occurrence order, and each value's index into them.
    case dictionary([T], ids: [UInt32])

    /// The smallest encoding for `values` (the present values of a chunk, in row order).
    ///
    /// - Parameter dictionaryLimit: The largest dictionary page, in bytes.
    /// - Complexity: O(n) expected; the dictionary is abandoned as soon as it cannot win.
    static func choose(_ values: [T], dictionaryLimit: Int) -> Self {
        let width = T.bitWidth / 8
        let plain = values.count * width / 2
        let delta = values.withUnsafeBufferPointer { DeltaBinaryPacked.encodedSize($0) }
        let best = min(plain, delta)
        if let built = buildDictionary(values, budget: min(best, dictionaryLimit)) {
            let idWidth = RunLengthEncoding.bitWidth(forMaximum: UInt32(max(0, built.dictionary.count - 1)))
            if built.dictionary.count * width + (values.count * idWidth + 7) / 8 < best {
                return .dictionary(built.dictionary, ids: built.ids)
            }
        }
        return delta < plain ? .deltaBinaryPacked : .plain
    }

    /// The distinct values and every value's id, or nil once the distinct values take more than `budget` bytes.
    ///
    /// An open-addressing table with a multiplicative hash: a few nanoseconds a value, no allocation per value.
    static func buildDictionary(_ values: [T], budget: Int) -> (dictionary: [T], ids: [UInt32])? {
        let width = T.bitWidth / 8
        var capacityBits = 10
        var slots = [Int32](repeating: -1, count: 1 << capacityBits)
        var dictionary: [T] = []
        var ids = [UInt32](repeating: 0, count: values.count)
        func slot(of value: T, bits: Int) -> Int {
            Int(truncatingIfNeeded: (UInt64(truncatingIfNeeded: value) &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - bits))
        }
        for (row, value) in values.enumerated() {
            var position = slot(of: value, bits: capacityBits)
            while true {
                let id = slots[position]
                if id < 0 {
                    guard (dictionary.count + 1) * width <= budget else { return nil }
                    slots[position] = Int32(dictionary.count)
                    ids[row] = UInt32(dictionary.count)
                    dictionary.append(value)
                    if dictionary.count * 2 > slots.count {
                        capacityBits += 1
                        slots = [Int32](repeating: -1, count: 1 << capacityBits)
                        for (entry, entryValue) in dictionary.enumerated() {
                            var free = slot(of: entryValue, bits: capacityBits)
                            while slots[free] >= 0 { free = (free + 1) & (slots.count - 1) }
                            slots[free] = Int32(entry)
                        }
                    }
                    break
                }
                if dictionary[Int(id)] == value {
                    ids[row] = UInt32(id)
                    break
                }
                position = (position + 1) & (slots.count - 1)
            }
        }
        return (dictionary, ids)
    }
}

extension ColumnChunkEncoder {
    /// Encodes an INT32 or INT64 chunk in the encoding ``IntegerEncodingChoice`` picks, or PLAIN when
    /// ``ParquetWriterOptions/encodesIntegersCompactly`` is off.
    mutating func encodeIntegersCompactly<T: FixedWidthInteger & SignedInteger>(
        _ values: [T], validity: [Bool]?, into chunk: inout EncodedColumnChunk
    ) throws {
        guard options.encodesIntegersCompactly else {
            return try encodeIntegers(values, validity: validity, into: &chunk)
        }
        let present = validity.map { validity in values.indices.filter { validity[$0] }.map { values[$0] } } ?? values
        switch IntegerEncodingChoice.choose(present, dictionaryLimit: options.dictionaryPageLimit) {
        case .plain:
            try encodeIntegers(values, validity: validity, into: &chunk)
        case .deltaBinaryPacked:
            chunk.encodings = [.rle, .deltaBinaryPacked]
            try encodeIntegerPages(present, validity: validity, encoding: .deltaBinaryPacked, into: &chunk) { page, range in
                present.withUnsafeBufferPointer { DeltaBinaryPacked.encode(UnsafeBufferPointer(rebasing: $0[range]), into: &page) }
            }
        case .dictionary(let dictionary, let ids):
            chunk.encodings = [.plain, .rle, .rleDictionary]
            page.removeAll(keepingCapacity: true)
            dictionary.withUnsafeBytes { page.append(contentsOf: $0) }  // PLAIN: little-endian, as on every host here
            try finishPage(type: .dictionaryPage, values: dictionary.count, encoding: .plain, statistics: nil, into: &chunk)
            chunk.dictionaryPageSize = chunk.bytes.count
            let bitWidth = RunLengthEncoding.bitWidth(forMaximum: UInt32(max(0, dictionary.count - 1)))
            try encodeIntegerPages(present, validity: validity, encoding: .rleDictionary, into: &chunk) { page, range in
                page.append(UInt8(bitWidth))
                ids.withUnsafeBufferPointer {
                    RunLengthEncoding.encode(UnsafeBufferPointer(rebasing: $0[range]), bitWidth: bitWidth, into: &page)
                }
            }
        }
    }

    /// Writes the data pages of an integer chunk: levels, then `body` appends the values of `present[range]` (the
    /// page's present values), then statistics.
    private mutating func encodeIntegerPages<T: FixedWidthInteger & SignedInteger>(
        _ present: [T], validity: [Bool]?, encoding: ParquetEncoding, into chunk: inout EncodedColumnChunk,
        body: (inout [UInt8], Range<Int>) -> Void
    ) throws {
        let count = Int(chunk.numberOfValues)
        var next = 0
        var start = 0
        while start < count {
            let end = pageEnd(start: start, count: count, bitsPerRow: T.bitWidth)
            let allPresent = fillLevels(validity, range: start..<end)
            beginDataPage(isOptional: chunk.column.isOptional, allPresent: allPresent, rows: end - start)
            let range = next..<(next + (allPresent ? end - start : levels.reduce(0) { $0 + Int($1) }))
            body(&page, range)
            var statistics = ParquetStatistics(nullCount: Int64(end - start - range.count))
            if let minimum = present[range].min(), let maximum = present[range].max() {
                statistics.min = Self.scalar(minimum)
                statistics.max = Self.scalar(maximum)
            }
            try finishPage(type: .dataPage, values: end - start, encoding: encoding, statistics: statistics, into: &chunk)
            next = range.upperBound
            start = end
        }
        chunk.statistics.nullCount = Int64(count - present.count)
        if let minimum = present.min(), let maximum = present.max() {
            chunk.statistics.min = Self.scalar(minimum)
            chunk.statistics.max = Self.scalar(maximum)
        }
    }
}
