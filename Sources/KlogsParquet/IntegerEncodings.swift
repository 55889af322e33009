#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The encoding an integer column chunk is written in: whichever of PLAIN, a dictionary and DELTA_BINARY_PACKED
/// is estimated smallest.
///
/// The estimates are of the encoded bytes before compression, except PLAIN's, which counts half its bytes when the
/// values' upper halves are all the same: LZ4 roughly halves such PLAIN integers of log data (timestamps, sizes),
/// while it barely shrinks bit-packed ids, deltas or values spread over the whole range (pseudonyms: 6%, measured on
/// the benchmark's `visitor` column). In the `events` dataset this picks DELTA_BINARY_PACKED for `ts` (a few bits
/// per request instead of 8 bytes) and `bytes`, and a dictionary for `status` and `visitor` (a visitor makes many
/// requests).
enum IntegerEncodingChoice<T: FixedWidthInteger & SignedInteger> {
    case plain
    case deltaBinaryPacked
    /// The distinct values in first-occurrence order, and each value's index into them.
    case dictionary([T], ids: [UInt32])

    /// The smallest encoding for `values` (the present values of a chunk, in row order).
    ///
    /// - Parameter dictionaryLimit: The largest dictionary page, in bytes.
    /// - Complexity: O(n) expected. The size of DELTA_BINARY_PACKED takes one cheap pass; the dictionary is built
    ///   only as far as it can still win, and a column of wide values is counted first (``DistinctCount``), so that
    ///   timestamps or sizes, whose dictionary cannot win, are not hashed at all.
    static func choose(_ values: [T], dictionaryLimit: Int) -> Self {
        let plain = values.count * (T.bitWidth / 8) / (haveOneUpperHalf(values) ? 2 : 1)
        let delta = values.withUnsafeBufferPointer { DeltaBinaryPacked.encodedSize($0) }
        let best = min(plain, delta)
        if let built = buildDictionary(
            values, smallerThan: best, dictionaryLimit: dictionaryLimit, countingFirst: true)
        {
            return .dictionary(built.dictionary, ids: built.ids)
        }
        return delta < plain ? .deltaBinaryPacked : .plain
    }

    /// Whether every value has the same upper half of bits (the repeats LZ4 finds in PLAIN integers).
    static func haveOneUpperHalf(_ values: [T]) -> Bool {
        guard let first = values.first else { return true }
        let half = T.bitWidth / 2
        let upper = first >> half
        return values.withUnsafeBufferPointer { values in
            var differences: T = 0  // bits set where some upper half differs from the first's (no branch: vectorised)
            for value in values { differences |= (value >> half) ^ upper }
            return differences == 0
        }
    }

    /// The size of a dictionary of `entries` values and the ids of `rows` rows (dictionary page plus bit-packed
    /// ids, before the RLE runs that can only shrink them).
    static func dictionarySize(entries: Int, rows: Int) -> Int {
        let idWidth = RunLengthEncoding.bitWidth(forMaximum: UInt32(truncatingIfNeeded: max(0, entries - 1)))
        return entries * (T.bitWidth / 8) + (rows * idWidth + 7) / 8
    }

    /// The distinct values (in first-occurrence order) and every value's id, or nil as soon as the dictionary
    /// cannot be smaller than `bound` bytes (see ``dictionarySize(entries:rows:)``) or its page would exceed
    /// `dictionaryLimit` bytes.
    ///
    /// The size only grows with every new entry, so giving up early never changes the outcome. Values within a
    /// narrow range (statuses, small counts) are looked up in a table indexed by the value; others in an
    /// open-addressing table with a multiplicative hash. Either way a few instructions a value and no allocation
    /// per value.
    ///
    /// With `countingFirst`, wide values are counted first (``DistinctCount``): when even the fewest distinct values
    /// the count allows make a dictionary too large, the hashing is skipped, with the same outcome; otherwise the
    /// count's estimate sizes the hash table.
    static func buildDictionary(
        _ values: [T], smallerThan bound: Int, dictionaryLimit: Int = .max, countingFirst: Bool = false
    ) -> (dictionary: [T], ids: [UInt32])? {
        var builder = DictionaryBuilder<T>(rows: values.count, bound: bound, limit: dictionaryLimit)
        let built = values.withUnsafeBufferPointer { values -> Bool in
            if let range = Self.narrowRange(values) {
                return builder.addDirect(values, minimum: range.minimum, span: range.span)
            }
            guard countingFirst, values.count >= DistinctCount.leastRows else { return builder.addHashed(values) }
            let count = DistinctCount(values) { !builder.mayWin(entries: $0) }
            guard builder.mayWin(entries: count.atLeast) else { return false }
            return builder.addHashed(values, expectedEntries: count.estimate)
        }
        guard built, dictionarySize(entries: builder.dictionary.count, rows: values.count) < bound else { return nil }
        return (builder.dictionary, builder.ids)
    }

    /// The smallest value and the span (largest minus smallest, plus one) of `values` when the span is small
    /// enough for a table indexed by the value: at most 65,536 and at most twice the row count.
    static func narrowRange(_ values: UnsafeBufferPointer<T>) -> (minimum: T, span: Int)? {
        guard var minimum = values.first else { return nil }
        var maximum = minimum
        for value in values {
            minimum = min(minimum, value)
            maximum = max(maximum, value)
        }
        // The difference of two values of T fits its Magnitude.
        let span = UInt64(T.Magnitude(truncatingIfNeeded: maximum &- minimum)) &+ 1
        guard span != 0, span <= 1 << 16, span <= UInt64(2 * values.count) else { return nil }
        return (minimum, Int(span))
    }
}

/// Builds the dictionary of an integer column for ``IntegerEncodingChoice``, giving up once it cannot win.
///
/// The loops run over local arrays through pointers: no uniqueness or bounds check per value.
struct DictionaryBuilder<T: FixedWidthInteger & SignedInteger> {
    private(set) var dictionary: [T] = []
    private(set) var ids: [UInt32] = []
    private let bound: Int
    private let limit: Int

    init(rows: Int, bound: Int, limit: Int) {
        self.bound = bound
        self.limit = limit
        ids = [UInt32](repeating: 0, count: rows)
    }

    /// Whether a dictionary of `entries` values can still be within the page limit and smaller than the bound.
    @inline(__always)
    private static func stillWins(entries: Int, rows: Int, bound: Int, limit: Int) -> Bool {
        entries * (T.bitWidth / 8) <= limit
            && IntegerEncodingChoice<T>.dictionarySize(entries: entries, rows: rows) < bound
    }

    /// Whether a dictionary of `entries` values (or more: the size only grows with them) could still win.
    func mayWin(entries: Int) -> Bool {
        Self.stillWins(entries: entries, rows: ids.count, bound: bound, limit: limit)
    }

    /// Builds through a table of `span` slots indexed by `value - minimum`.
    mutating func addDirect(_ values: UnsafeBufferPointer<T>, minimum: T, span: Int) -> Bool {
        var slots = [Int32](repeating: -1, count: span)
        var dictionary = self.dictionary
        var ids = self.ids
        self.ids = []  // one owner, so the writes below never copy
        let (bound, limit) = (self.bound, self.limit)
        defer { (self.dictionary, self.ids) = (dictionary, ids) }
        return slots.withUnsafeMutableBufferPointer { slots in
            ids.withUnsafeMutableBufferPointer { ids in
                for (row, value) in values.enumerated() {
                    let slot = Int(truncatingIfNeeded: UInt64(T.Magnitude(truncatingIfNeeded: value &- minimum)))
                    var id = slots[slot]
                    if id < 0 {
                        id = Int32(truncatingIfNeeded: dictionary.count)
                        slots[slot] = id
                        dictionary.append(value)
                        let entries = dictionary.count
                        guard Self.stillWins(entries: entries, rows: values.count, bound: bound, limit: limit) else {
                            return false
                        }
                    }
                    ids[row] = UInt32(bitPattern: id)
                }
                return true
            }
        }
    }

    /// Builds through an open-addressing table (linear probing, at most half full) with a multiplicative hash.
    ///
    /// Each slot holds its value beside its id, so a probe compares in the slot's own cache line instead of
    /// reading the dictionary; the table is a plain allocation, so a look-up checks nothing else.
    ///
    /// - Parameter expectedEntries: the number of distinct values expected (`DistinctCount.estimate`), if known.
    ///   The table starts with room for them at half load; without, for as many entries as can still win (the
    ///   dictionary page alone is under the bound). Either way a column of many distinct values (pseudonyms: some
    ///   50,000 a row group) is not re-inserted at each of a dozen doublings, each a pass of cache misses; the
    ///   estimate halves the pseudonyms' table (2 MiB instead of 4), which more of their probes then find cached.
    mutating func addHashed(_ values: UnsafeBufferPointer<T>, expectedEntries: Int? = nil) -> Bool {
        let mostEntries = min(values.count, bound / MemoryLayout<T>.size)
        let room = expectedEntries.map { min(mostEntries, $0 + $0 / 8) } ?? mostEntries
        var table = HashedSlots(bits: max(10, Int.bitWidth - (2 * room).leadingZeroBitCount))
        defer { table.deallocate() }
        var dictionary = self.dictionary
        var ids = self.ids
        self.ids = []  // one owner, so the writes below never copy
        let (bound, limit) = (self.bound, self.limit)
        defer { (self.dictionary, self.ids) = (dictionary, ids) }
        return ids.withUnsafeMutableBufferPointer { ids in
            rows: for row in 0..<values.count {
                let value = values[row]
                var position = table.position(of: value)
                while table.slots[position].id >= 0 {
                    if table.slots[position].value == value {
                        ids[row] = UInt32(bitPattern: table.slots[position].id)
                        continue rows
                    }
                    position = (position + 1) & table.mask
                }
                let id = Int32(truncatingIfNeeded: dictionary.count)
                table.slots[position] = Slot(value: value, id: id)
                ids[row] = UInt32(bitPattern: id)
                dictionary.append(value)
                let entries = dictionary.count
                guard Self.stillWins(entries: entries, rows: values.count, bound: bound, limit: limit) else {
                    return false
                }
                if entries * 2 > table.mask + 1 { table.grow() }
            }
            return true
        }
    }

    /// A slot of ``HashedSlots``: a value and its dictionary id, or an id of -1 when free.
    private struct Slot {
        var value: T
        var id: Int32
    }

    /// The open-addressing table of ``addHashed(_:)``: `2^bits` slots, freed by `deallocate()`.
    private struct HashedSlots {
        private(set) var slots: UnsafeMutablePointer<Slot>
        private(set) var mask: Int
        private var bits: Int

        init(bits: Int) {
            self.bits = bits
            mask = (1 << bits) - 1
            slots = .allocate(capacity: 1 << bits)
            slots.initialize(repeating: Slot(value: 0, id: -1), count: 1 << bits)
        }

        /// Where the probe for `value` starts.
        @inline(__always)
        func position(of value: T) -> Int {
            Int(truncatingIfNeeded: (UInt64(truncatingIfNeeded: value) &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - bits))
        }

        /// Doubles the table, moving every entry to its slot in the larger one.
        mutating func grow() {
            let old = slots
            let oldCount = mask + 1
            self = HashedSlots(bits: bits + 1)
            for index in 0..<oldCount where old[index].id >= 0 {
                var free = position(of: old[index].value)
                while slots[free].id >= 0 { free = (free + 1) & mask }
                slots[free] = old[index]
            }
            old.deallocate()
        }

        func deallocate() { slots.deallocate() }
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
        var chunkMinimum: T?
        var chunkMaximum: T?
        while start < count {
            let end = pageEnd(start: start, count: count, bitsPerRow: T.bitWidth)
            let allPresent = fillLevels(validity, range: start..<end)
            beginDataPage(isOptional: chunk.column.isOptional, allPresent: allPresent, rows: end - start)
            let range = next..<(next + (allPresent ? end - start : levels.reduce(0) { $0 + Int($1) }))
            body(&page, range)
            var statistics = ParquetStatistics(nullCount: Int64(end - start - range.count))
            if let (minimum, maximum) = Self.extremes(present, range) {
                statistics.min = Self.scalar(minimum)
                statistics.max = Self.scalar(maximum)
                chunkMinimum = min(chunkMinimum ?? minimum, minimum)
                chunkMaximum = max(chunkMaximum ?? maximum, maximum)
            }
            try finishPage(type: .dataPage, values: end - start, encoding: encoding, statistics: statistics, into: &chunk)
            next = range.upperBound
            start = end
        }
        chunk.statistics.nullCount = Int64(count - present.count)
        if let chunkMinimum, let chunkMaximum {
            chunk.statistics.min = Self.scalar(chunkMinimum)
            chunk.statistics.max = Self.scalar(chunkMaximum)
        }
    }

    /// The smallest and largest of `values[range]` in one pass, or nil for an empty range.
    private static func extremes<T: FixedWidthInteger>(_ values: [T], _ range: Range<Int>) -> (T, T)? {
        guard !range.isEmpty else { return nil }
        return values.withUnsafeBufferPointer { values in
            var minimum = values[range.lowerBound]
            var maximum = minimum
            for value in values[range] {
                minimum = min(minimum, value)
                maximum = max(maximum, value)
            }
            return (minimum, maximum)
        }
    }
}

/// How many distinct values a column holds, counted in one pass over a bitmap (linear counting: Whang, Vander-Zanden
/// and Taylor, "A linear-time probabilistic counting algorithm for database applications", 1990): each value sets
/// the bit its hash picks.
///
/// Each distinct value sets at most one bit, so the bits set are a lower bound of the distinct values, and
/// ``IntegerEncodingChoice`` can rule a dictionary out on it without changing its choice. With four bits or more per
/// value they are within about 12% of the distinct values; ``estimate`` corrects for the collisions.
///
/// A value costs a hash and a bit set in a bitmap of at most 128 KiB, where a hash table build costs a probe, mostly
/// a cache miss: on the benchmark's `events`, `ts` and `bytes` were hashed for some 60,000 rows each per row group
/// before their dictionaries gave up.
struct DistinctCount {
    /// The fewest values worth counting first; smaller columns are hashed as they are.
    static let leastRows = 4_096
    /// A lower bound of the number of distinct values (of those counted, when the count stopped early).
    let atLeast: Int
    /// An estimate of the number of distinct values, at least `atLeast`; meaningful only when `isComplete`.
    let estimate: Int
    /// Whether every value was counted.
    let isComplete: Bool

    /// Counts the distinct values, stopping early (every 4,096 values it looks) once `enough` is true of the bits
    /// set so far.
    init<T: FixedWidthInteger>(_ values: UnsafeBufferPointer<T>, stoppingWhen enough: (Int) -> Bool = { _ in false }) {
        // 2^bits bits, at least four a value, at most 2^20 (128 KiB).
        let bits = min(20, max(10, Int.bitWidth - (4 * values.count).leadingZeroBitCount))
        let wordCount = (1 << bits) / 64
        let words = UnsafeMutablePointer<UInt64>.allocate(capacity: wordCount)
        words.initialize(repeating: 0, count: wordCount)
        defer { words.deallocate() }
        var set = 0
        var start = 0
        while start < values.count {
            let end = min(values.count, start + 4_096)
            for index in start..<end {
                // Two multiplications with a fold between: the top bits pick the bit, spread for values of a
                // regular stride (milliseconds, multiples of a constant) as for random ones.
                var hash = UInt64(truncatingIfNeeded: values[index]) &* 0x9E37_79B9_7F4A_7C15
                hash = ((hash ^ (hash >> 32)) &* 0xD6E8_FEB8_6659_FD93) >> UInt64(64 - bits)
                let word = Int(truncatingIfNeeded: hash >> 6)
                let bit: UInt64 = 1 &<< (hash & 63)
                set &+= Int(truncatingIfNeeded: (words[word] & bit) == 0 ? 1 : 0)
                words[word] |= bit
            }
            start = end
            if start < values.count && enough(set) { break }
        }
        atLeast = set
        isComplete = start == values.count
        let total = Double(1 << bits)
        let empty = total - Double(set)
        estimate = empty < 1 ? values.count : max(set, Int((total * log(total / empty)).rounded()))
    }
}
