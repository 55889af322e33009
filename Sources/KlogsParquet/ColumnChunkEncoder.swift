/// The pages of one column chunk, encoded and compressed, and what the footer records about them.
///
/// Produced by ``ColumnChunkEncoder/encode(_:column:)`` without touching any file, so chunks can be encoded in
/// parallel and handed to ``ParquetFileWriter/appendRowGroup(_:)`` in schema order.
public struct EncodedColumnChunk: Sendable {
    /// The pages with their headers: the dictionary page first when there is one, then the data pages.
    public internal(set) var bytes: [UInt8] = []
    /// The column the chunk belongs to.
    public internal(set) var column: ParquetColumn
    /// The number of rows (values, nulls included).
    public internal(set) var numberOfValues: Int64 = 0
    /// The size of the dictionary page with its header, or nil without one.
    var dictionaryPageSize: Int?
    /// The size of all pages and headers before compression.
    var totalUncompressedSize: Int64 = 0
    var encodings: [ParquetEncoding] = []
    var encodingCounts: [PageEncodingCount] = []
    /// Chunk statistics: null count always, min and max when a value is present.
    public internal(set) var statistics = ParquetStatistics()
    var codec: ParquetCodec

    /// The footer metadata for this chunk once written at file offset `offset`.
    func metadata(at offset: Int64) -> ColumnChunkMetadata {
        let dataOffset = offset + Int64(dictionaryPageSize ?? 0)
        var metadata = ColumnChunkMetadata(
            type: column.type, encodings: encodings, pathInSchema: [column.name], codec: codec,
            numberOfValues: numberOfValues, totalUncompressedSize: totalUncompressedSize,
            totalCompressedSize: Int64(bytes.count), dataPageOffset: dataOffset,
            dictionaryPageOffset: dictionaryPageSize == nil ? nil : offset, statistics: statistics,
            encodingCounts: encodingCounts, filePath: nil)
        metadata.fileOffset = offset
        return metadata
    }
}

/// Encodes and compresses column chunks: pure work from values to bytes, with scratch buffers reused between calls.
///
/// One encoder per thread; it holds no file and no shared state.
///
/// ```swift
/// var encoder = ColumnChunkEncoder(options: ParquetWriterOptions())
/// let chunk = try encoder.encode(.int32([200, 404], validity: nil), column: ParquetColumn(name: "status", type: .int32))
/// ```
public struct ColumnChunkEncoder: Sendable {
    /// The options that set page sizes, dictionary limits and the codec.
    public let options: ParquetWriterOptions
    var page: [UInt8] = []  // internal: IntegerEncodings.swift writes pages too
    private var compressed: [UInt8] = []
    var levels: [UInt32] = []

    /// Creates an encoder.
    public init(options: ParquetWriterOptions) {
        self.options = options
    }

    /// Encodes one column chunk.
    ///
    /// - Parameters:
    ///   - values: the column's values for the row group; their case must match the column's physical type.
    ///   - column: the schema column.
    /// - Returns: the chunk's bytes and metadata.
    /// - Throws: ``ParquetError`` of kind `invalidArgument` when the values do not fit the column (wrong type, a null
    ///   in a required column, lengths that disagree, offsets or dictionary indices out of range).
    /// - Complexity: O(rows + string bytes).
    public mutating func encode(_ values: ColumnValues, column: ParquetColumn) throws -> EncodedColumnChunk {
        try options.validate()
        guard values.physicalType == column.type else {
            throw ParquetError.invalidArgument(
                "column '\(column.name)' is \(column.type) but was given \(values.physicalType) values")
        }
        var chunk = EncodedColumnChunk(column: column, codec: options.compression.codec)
        chunk.numberOfValues = Int64(values.count)
        do {
            switch values {
            case .boolean(let array, let validity):
                try checkValidity(validity, count: array.count, column: column)
                try encodeBooleans(array, validity: validity, into: &chunk)
            case .int32(let array, let validity):
                try checkValidity(validity, count: array.count, column: column)
                try encodeIntegersCompactly(array, validity: validity, into: &chunk)
            case .int64(let array, let validity):
                try checkValidity(validity, count: array.count, column: column)
                try encodeIntegersCompactly(array, validity: validity, into: &chunk)
            case .strings(let strings):
                try checkStrings(strings, column: column, isDictionary: false)
                try checkValidity(strings.validity, count: strings.count, column: column)
                if options.dictionaryEncodesPlainStrings,
                    let (dictionary, indices) = Self.buildDictionary(strings, limit: options.dictionaryPageLimit)
                {
                    try encodeDictionary(dictionary, indices: indices, into: &chunk)
                } else {
                    try encodePlainStrings(strings, into: &chunk)
                }
            case .dictionaryStrings(let dictionary, let indices):
                try checkStrings(dictionary, column: column, isDictionary: true)
                // The indices are checked in the encoding's first pass over them (`checkIndices` on failure).
                try encodeDictionary(dictionary, indices: indices, into: &chunk)
            case .keyedDictionaryStrings(let dictionary, let rows, let indexOfKey):
                try checkStrings(dictionary, column: column, isDictionary: true)
                try encodeDictionary(dictionary, rows: rows, indexOfKey: indexOfKey, into: &chunk)
            }
        } catch let error as ParquetError where !error.message.hasPrefix("column '") {
            throw error.located("column '\(column.name)'")
        }
        return chunk
    }

    // MARK: Validation

    private func checkValidity(_ validity: [Bool]?, count: Int, column: ParquetColumn) throws {
        guard let validity else { return }
        guard validity.count == count else {
            throw ParquetError.invalidArgument(
                "column '\(column.name)' has \(count) values but \(validity.count) validity flags")
        }
        if !column.isOptional, let row = validity.firstIndex(of: false) {
            throw ParquetError.invalidArgument(
                "column '\(column.name)' is REQUIRED but row \(row) is null; declare it optional or fill the value")
        }
    }

    private func checkStrings(_ strings: StringColumn, column: ParquetColumn, isDictionary: Bool) throws {
        let what = isDictionary ? "dictionary of column '\(column.name)'" : "column '\(column.name)'"
        guard !strings.offsets.isEmpty else {
            throw ParquetError.invalidArgument("the \(what) has no offsets; an empty StringColumn has offsets [0]")
        }
        guard strings.offsets.last.map({ Int($0) <= strings.bytes.count }) ?? true else {
            throw ParquetError.invalidArgument(
                "the \(what) has a last offset past its \(strings.bytes.count) bytes")
        }
        guard strings.offsets[0] >= 0 else {
            throw ParquetError.invalidArgument("the \(what) starts at a negative offset")
        }
        let decreasing = strings.offsets.withUnsafeBufferPointer { offsets -> Int? in
            for index in 1..<offsets.count where offsets[index] < offsets[index - 1] { return index - 1 }
            return nil
        }
        if let entry = decreasing {
            throw ParquetError.invalidArgument("the \(what) has decreasing offsets at entry \(entry)")
        }
        if isDictionary, let validity = strings.validity, validity.contains(false) {
            throw ParquetError.invalidArgument("the \(what) contains a null; nulls are index -1 instead")
        }
    }

    private func checkIndices(_ indices: [Int32], dictionaryCount: Int, column: ParquetColumn) throws {
        // One branch-free pass for the extremes (a few instructions a row); the rows are searched only on failure.
        let (lowest, highest) = indices.withUnsafeBufferPointer { indices -> (Int32, Int32) in
            var lowest = Int32.max
            var highest = Int32.min
            for index in indices {
                lowest = min(lowest, index)
                highest = max(highest, index)
            }
            return (lowest, highest)
        }
        if lowest < -1 || Int(highest) >= dictionaryCount,
            let row = indices.firstIndex(where: { $0 < -1 || Int($0) >= dictionaryCount })
        {
            throw ParquetError.invalidArgument(
                "column '\(column.name)' row \(row) has dictionary index \(indices[row]) outside -1..<\(dictionaryCount)")
        }
        if !column.isOptional && lowest < 0, let row = indices.firstIndex(where: { $0 < 0 }) {
            throw ParquetError.invalidArgument(
                "column '\(column.name)' is REQUIRED but row \(row) is null; declare it optional or fill the value")
        }
    }

    // MARK: Pages

    /// The end of the page that starts at `start` when every row costs `bitsPerRow`.
    func pageEnd(start: Int, count: Int, bitsPerRow: Int) -> Int {
        let rowsBySize = max(1, options.dataPageSize * 8 / max(1, bitsPerRow))
        return min(count, start + min(rowsBySize, options.dataPageRowLimit))
    }

    /// Starts a data page: clears the page buffer and writes the definition levels of `levels` (if optional).
    ///
    /// With `allPresent` or `nonePresent` the levels are one run of 1 or of 0, and `levels` is not read.
    mutating func beginDataPage(isOptional: Bool, allPresent: Bool, rows: Int, nonePresent: Bool = false) {
        page.removeAll(keepingCapacity: true)
        guard isOptional else { return }
        page.append(contentsOf: [0, 0, 0, 0])
        if allPresent || nonePresent {
            RunLengthEncoding.encodeRun(allPresent ? 1 : 0, count: rows, bitWidth: 1, into: &page)
        } else {
            levels.withUnsafeBufferPointer { RunLengthEncoding.encode($0, bitWidth: 1, into: &page) }
        }
        let length = UInt32(page.count - 4)
        for index in 0..<4 { page[index] = UInt8(truncatingIfNeeded: length >> (8 * UInt32(index))) }
    }

    /// Fills `levels` with 1 for present and 0 for null rows of `range`; returns whether all were present.
    mutating func fillLevels(_ validity: [Bool]?, range: Range<Int>) -> Bool {
        guard let validity else { return true }
        levels.removeAll(keepingCapacity: true)
        var allPresent = true
        validity.withUnsafeBufferPointer { validity in
            for row in range {
                let present = validity[row]
                levels.append(present ? 1 : 0)
                allPresent = allPresent && present
            }
        }
        return allPresent
    }

    /// Fills `levels` with 1 for the rows of `range` that have a dictionary id and 0 for the nulls.
    @inline(never)
    private mutating func fillLevels(presentIn rowIDs: some DictionaryRowIDs, range: Range<Int>) {
        if levels.count != range.count { levels = [UInt32](repeating: 0, count: range.count) }
        levels.withUnsafeMutableBufferPointer { levels in
            for row in range { levels[row - range.lowerBound] = rowIDs.id(ofRow: row) >= 0 ? 1 : 0 }
        }
    }

    /// Compresses the page buffer and appends header and body to the chunk.
    mutating func finishPage(
        type: PageType, values: Int, encoding: ParquetEncoding, statistics: ParquetStatistics?,
        into chunk: inout EncodedColumnChunk
    ) throws {
        guard page.count <= Int(Int32.max) else {
            throw ParquetError.invalidArgument("a page of \(page.count) bytes exceeds 2 GiB; lower dataPageSize")
        }
        var header = PageHeader(type: type.rawValue, uncompressedSize: Int32(page.count), compressedSize: 0)
        header.numberOfValues = Int32(values)
        header.encoding = encoding
        if options.writesPageStatistics { header.statistics = statistics }
        var headerWriter = ThriftCompactWriter()
        switch options.compression {
        case .uncompressed:
            header.compressedSize = Int32(page.count)
            if options.writesPageChecksums {
                header.crc = Int32(bitPattern: CRC32.checksum(page, range: 0..<page.count))
            }
            header.encode(into: &headerWriter)
            chunk.bytes.append(contentsOf: headerWriter.bytes)
            chunk.bytes.append(contentsOf: page)
        case .lz4Raw:
            let length = try PageCodec.compressLZ4(page, into: &compressed)
            header.compressedSize = Int32(length)
            if options.writesPageChecksums {
                header.crc = Int32(bitPattern: CRC32.checksum(compressed, range: 0..<length))
            }
            header.encode(into: &headerWriter)
            chunk.bytes.append(contentsOf: headerWriter.bytes)
            chunk.bytes.append(contentsOf: compressed[0..<length])
        }
        chunk.totalUncompressedSize += Int64(headerWriter.bytes.count + page.count)
        if let index = chunk.encodingCounts.firstIndex(where: {
            $0.pageType == type.rawValue && $0.encoding == encoding
        }) {
            chunk.encodingCounts[index].count += 1
        } else {
            chunk.encodingCounts.append(PageEncodingCount(pageType: type.rawValue, encoding: encoding, count: 1))
        }
    }

    // MARK: Booleans and integers

    private mutating func encodeBooleans(
        _ values: [Bool], validity: [Bool]?, into chunk: inout EncodedColumnChunk
    ) throws {
        let count = values.count
        var chunkTrue = false
        var chunkFalse = false
        var chunkNulls = 0
        chunk.encodings = [.plain, .rle]
        var start = 0
        while start < count {
            let end = pageEnd(start: start, count: count, bitsPerRow: 1)
            let allPresent = fillLevels(validity, range: start..<end)
            beginDataPage(isOptional: chunk.column.isOptional, allPresent: allPresent, rows: end - start)
            var sawTrue = false
            var sawFalse = false
            var present = 0
            if allPresent {
                (sawTrue, sawFalse) = values.withUnsafeBytes { raw in
                    Self.appendPacked(UnsafeRawBufferPointer(rebasing: raw[start..<end]), to: &page)
                }
                present = end - start
            } else {
                // Only the present rows have a value on the page.
                var byte: UInt8 = 0
                var bit: UInt8 = 0
                for row in start..<end where levels[row - start] == 1 {
                    if values[row] {
                        byte |= 1 << bit
                        sawTrue = true
                    } else {
                        sawFalse = true
                    }
                    present += 1
                    bit += 1
                    if bit == 8 {
                        page.append(byte)
                        byte = 0
                        bit = 0
                    }
                }
                if bit > 0 { page.append(byte) }
            }
            var statistics = ParquetStatistics(nullCount: Int64(end - start - present))
            if present > 0 {
                statistics.min = .boolean(!sawFalse)
                statistics.max = .boolean(sawTrue)
            }
            chunkTrue = chunkTrue || sawTrue
            chunkFalse = chunkFalse || sawFalse
            chunkNulls += end - start - present
            try finishPage(type: .dataPage, values: end - start, encoding: .plain, statistics: statistics, into: &chunk)
            start = end
        }
        chunk.statistics.nullCount = Int64(chunkNulls)
        if chunkTrue || chunkFalse {
            chunk.statistics.min = .boolean(!chunkFalse)
            chunk.statistics.max = .boolean(chunkTrue)
        }
    }

    /// Appends booleans (bytes of 0 or 1, as Swift stores `Bool`) bit-packed least-significant bit first, the
    /// PLAIN encoding: eight at a time, through one multiplication that gathers the low bit of each byte of a
    /// 64-bit word into its top byte (the products of different bytes never overlap, so nothing carries).
    ///
    /// - Returns: whether any boolean was true, and whether any was false.
    static func appendPacked(
        _ booleans: UnsafeRawBufferPointer, to page: inout [UInt8]
    ) -> (sawTrue: Bool, sawFalse: Bool) {
        let ones: UInt64 = 0x0101_0101_0101_0101
        var anyTrue: UInt64 = 0
        var allTrue = ones
        var offset = 0
        page.reserveCapacity(page.count + (booleans.count + 7) / 8)
        while offset &+ 8 <= booleans.count {
            let word = UInt64(littleEndian: booleans.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            page.append(UInt8(truncatingIfNeeded: (word &* 0x0102_0408_1020_4080) &>> 56))
            anyTrue |= word
            allTrue &= word
            offset &+= 8
        }
        var sawTrue = anyTrue != 0
        var sawFalse = allTrue != ones
        guard offset < booleans.count else { return (sawTrue, sawFalse) }
        var last: UInt8 = 0
        for index in offset..<booleans.count {
            last |= booleans[index] << UInt8(index - offset)
            sawTrue = sawTrue || booleans[index] != 0
            sawFalse = sawFalse || booleans[index] == 0
        }
        page.append(last)
        return (sawTrue, sawFalse)
    }

    mutating func encodeIntegers<T: FixedWidthInteger>(
        _ values: [T], validity: [Bool]?, into chunk: inout EncodedColumnChunk
    ) throws {
        let count = values.count
        var chunkMinimum = T.max
        var chunkMaximum = T.min
        var chunkPresent = 0
        chunk.encodings = [.plain, .rle]
        let width = MemoryLayout<T>.size
        var start = 0
        while start < count {
            let end = pageEnd(start: start, count: count, bitsPerRow: width * 8)
            let allPresent = fillLevels(validity, range: start..<end)
            beginDataPage(isOptional: chunk.column.isOptional, allPresent: allPresent, rows: end - start)
            var minimum = T.max
            var maximum = T.min
            var present = 0
            values.withUnsafeBufferPointer { typed in
                if allPresent {
                    for value in typed[start..<end] {
                        minimum = Swift.min(minimum, value)
                        maximum = Swift.max(maximum, value)
                    }
                    present = end - start
                } else {
                    for row in start..<end where levels[row - start] == 1 {
                        minimum = Swift.min(minimum, typed[row])
                        maximum = Swift.max(maximum, typed[row])
                        present += 1
                    }
                }
            }
            values.withUnsafeBytes { raw in
                if allPresent {
                    // Safe to copy raw bytes: Parquet PLAIN is little-endian, as is every platform Swift runs on here.
                    page.append(contentsOf: raw[(start * width)..<(end * width)])
                } else {
                    for row in start..<end where levels[row - start] == 1 {
                        page.append(contentsOf: raw[(row * width)..<((row + 1) * width)])
                    }
                }
            }
            var statistics = ParquetStatistics(nullCount: Int64(end - start - present))
            if present > 0 {
                statistics.min = Self.scalar(minimum)
                statistics.max = Self.scalar(maximum)
                chunkMinimum = Swift.min(chunkMinimum, minimum)
                chunkMaximum = Swift.max(chunkMaximum, maximum)
                chunkPresent += present
            }
            try finishPage(type: .dataPage, values: end - start, encoding: .plain, statistics: statistics, into: &chunk)
            start = end
        }
        chunk.statistics.nullCount = Int64(count - chunkPresent)
        if chunkPresent > 0 {
            chunk.statistics.min = Self.scalar(chunkMinimum)
            chunk.statistics.max = Self.scalar(chunkMaximum)
        }
    }

    static func scalar<T: FixedWidthInteger>(_ value: T) -> ParquetScalar {
        if let value = value as? Int32 { return .int32(value) }
        return .int64(Int64(value))
    }

    // MARK: Strings

    /// Compares two byte ranges of arenas in unsigned byte-wise (lexicographic) order.
    private static func lessThan(
        _ left: UnsafeBufferPointer<UInt8>, _ leftRange: Range<Int>,
        _ right: UnsafeBufferPointer<UInt8>, _ rightRange: Range<Int>
    ) -> Bool {
        let common = min(leftRange.count, rightRange.count)
        for offset in 0..<common {
            let a = left[leftRange.lowerBound + offset]
            let b = right[rightRange.lowerBound + offset]
            if a != b { return a < b }
        }
        return leftRange.count < rightRange.count
    }

    /// The indices of `ranges` in the byte-wise order of the strings `bytes[ranges[i]]`.
    ///
    /// Sorted by the strings' first 16 bytes as two big-endian integers (zero-padded, which keeps the order: a
    /// string that ends first is a prefix of the other, or it was already smaller), and by the whole strings only
    /// when those are equal: most comparisons are of two integers rather than of byte ranges.
    static func byteOrder(of ranges: [Range<Int>], in bytes: UnsafeBufferPointer<UInt8>) -> [Int] {
        func word(_ range: Range<Int>, from offset: Int) -> UInt64 {
            var word: UInt64 = 0
            for position in offset..<(offset + 8) {
                word = word << 8 | UInt64(position < range.count ? bytes[range.lowerBound + position] : 0)
            }
            return word
        }
        var keys = ranges.indices.map { (first: word(ranges[$0], from: 0), second: word(ranges[$0], from: 8), index: $0) }
        keys.sort { left, right in
            if left.first != right.first { return left.first < right.first }
            if left.second != right.second { return left.second < right.second }
            return lessThan(bytes, ranges[left.index], bytes, ranges[right.index])
        }
        return keys.map(\.index)
    }

    private mutating func encodePlainStrings(_ strings: StringColumn, into chunk: inout EncodedColumnChunk) throws {
        let count = strings.count
        let validity = strings.validity
        var chunkMinimum: Range<Int>?
        var chunkMaximum: Range<Int>?
        var chunkNulls = 0
        chunk.encodings = [.plain, .rle]
        var start = 0
        while start < count {
            // A page ends at the first row that takes it past the target size.
            var end = start
            var size = 0
            while end < count && end - start < options.dataPageRowLimit && size < options.dataPageSize {
                size += 4 + Int(strings.offsets[end + 1] - strings.offsets[end])
                end += 1
            }
            let allPresent = fillLevels(validity, range: start..<end)
            beginDataPage(isOptional: chunk.column.isOptional, allPresent: allPresent, rows: end - start)
            page.reserveCapacity(page.count + size)
            var minimum: Range<Int>?
            var maximum: Range<Int>?
            var present = 0
            strings.bytes.withUnsafeBufferPointer { bytes in
                for row in start..<end where allPresent || levels[row - start] == 1 {
                    let range = Int(strings.offsets[row])..<Int(strings.offsets[row + 1])
                    Self.appendLength(range.count, to: &page)
                    page.append(contentsOf: bytes[range])
                    present += 1
                    if minimum.map({ Self.lessThan(bytes, range, bytes, $0) }) ?? true { minimum = range }
                    if maximum.map({ Self.lessThan(bytes, $0, bytes, range) }) ?? true { maximum = range }
                }
                if let minimum, let maximum {
                    if chunkMinimum.map({ Self.lessThan(bytes, minimum, bytes, $0) }) ?? true { chunkMinimum = minimum }
                    if chunkMaximum.map({ Self.lessThan(bytes, $0, bytes, maximum) }) ?? true { chunkMaximum = maximum }
                }
            }
            var statistics = ParquetStatistics(nullCount: Int64(end - start - present))
            if options.writesPageStatistics, let minimum, let maximum {
                statistics.min = .bytes(Array(strings.bytes[minimum]))
                statistics.max = .bytes(Array(strings.bytes[maximum]))
            }
            chunkNulls += end - start - present
            try finishPage(type: .dataPage, values: end - start, encoding: .plain, statistics: statistics, into: &chunk)
            start = end
        }
        chunk.statistics.nullCount = Int64(chunkNulls)
        if let chunkMinimum, let chunkMaximum {
            chunk.statistics.min = .bytes(Array(strings.bytes[chunkMinimum]))
            chunk.statistics.max = .bytes(Array(strings.bytes[chunkMaximum]))
        }
    }

    private static func appendLength(_ length: Int, to output: inout [UInt8]) {
        let value = UInt32(truncatingIfNeeded: length)
        output.append(UInt8(truncatingIfNeeded: value))
        output.append(UInt8(truncatingIfNeeded: value >> 8))
        output.append(UInt8(truncatingIfNeeded: value >> 16))
        output.append(UInt8(truncatingIfNeeded: value >> 24))
    }

    /// Encodes a dictionary page of the used entries and RLE_DICTIONARY data pages, or falls back to PLAIN when the
    /// used entries exceed the dictionary page limit.
    private mutating func encodeDictionary(
        _ dictionary: StringColumn, indices: [Int32], into chunk: inout EncodedColumnChunk
    ) throws {
        // Mark the entries in use (0 in `remap`), and count the nulls.
        var remap = [Int32](repeating: -1, count: dictionary.count)
        var nulls = 0
        var invalid = false
        indices.withUnsafeBufferPointer { indices in
            remap.withUnsafeMutableBufferPointer { remap in
                for index in indices {
                    if index < 0 {
                        nulls += 1
                        invalid = invalid || index < -1
                    } else if Int(index) < remap.count {
                        remap[Int(index)] = 0
                    } else {
                        invalid = true
                    }
                }
            }
        }
        if invalid || (nulls > 0 && !chunk.column.isOptional) {
            // Throws the error that names the first offending row.
            try checkIndices(indices, dictionaryCount: dictionary.count, column: chunk.column)
        }
        let (used, dictionaryBytes) = Self.compact(&remap, of: dictionary)
        if dictionaryBytes > options.dictionaryPageLimit {
            try encodePlainFromDictionary(dictionary, indices: indices, into: &chunk)
            return
        }
        try indices.withUnsafeBufferPointer { indices in
            try remap.withUnsafeBufferPointer { remap in
                try writeDictionaryPages(
                    dictionary, used: used, dictionaryBytes: dictionaryBytes, nulls: nulls, rows: indices.count,
                    rowIDs: IndexedRowIDs(indices: indices, remap: remap), into: &chunk)
            }
        }
    }

    /// ``encodeDictionary(_:indices:into:)`` for rows that hold keys: the entries in use, the nulls and the
    /// compacted ids come from the keys' row counts and `indexOfKey`, once per key instead of once per row, and the
    /// pages are the same bytes.
    private mutating func encodeDictionary(
        _ dictionary: StringColumn, rows: KeyedRows, indexOfKey: [Int32], into chunk: inout EncodedColumnChunk
    ) throws {
        // Mark the entries in use (0 in `remap`), and count the nulls.
        var remap = [Int32](repeating: -1, count: dictionary.count)
        var nulls = 0
        var invalid = rows.invalidRow != nil
        for (key, rowCount) in rows.rowCounts.enumerated() where rowCount > 0 {
            let index = key < indexOfKey.count ? Int(indexOfKey[key]) : -2
            if index == -1 {
                nulls += rowCount
            } else if index >= 0 && index < remap.count {
                remap[index] = 0
            } else {
                invalid = true
            }
        }
        if invalid || (nulls > 0 && !chunk.column.isOptional) {
            // Throws the error that names the first offending row.
            try checkKeys(rows.keys, indexOfKey: indexOfKey, column: chunk.column)
            try checkIndices(
                rows.keys.map { indexOfKey[Int($0)] }, dictionaryCount: dictionary.count, column: chunk.column)
        }
        let (used, dictionaryBytes) = Self.compact(&remap, of: dictionary)
        if dictionaryBytes > options.dictionaryPageLimit {
            try encodePlainFromDictionary(dictionary, indices: rows.keys.map { indexOfKey[Int($0)] }, into: &chunk)
            return
        }
        // The compacted id of every key; -1 for the nulls, and for the keys no row holds (whose index was not checked).
        let idOfKey = rows.rowCounts.indices.map { key in
            rows.rowCounts[key] > 0 && indexOfKey[key] >= 0 ? remap[Int(indexOfKey[key])] : -1
        }
        try rows.keys.withUnsafeBufferPointer { keys in
            try idOfKey.withUnsafeBufferPointer { idOfKey in
                try writeDictionaryPages(
                    dictionary, used: used, dictionaryBytes: dictionaryBytes, nulls: nulls, rows: keys.count,
                    rowIDs: KeyedRowIDs(keys: keys, idOfKey: idOfKey), into: &chunk)
            }
        }
    }

    /// Throws the error that names the first row whose key has no entry in `indexOfKey`, if there is one.
    private func checkKeys(_ keys: [Int32], indexOfKey: [Int32], column: ParquetColumn) throws {
        if let row = keys.firstIndex(where: { $0 < 0 || Int($0) >= indexOfKey.count }) {
            throw ParquetError.invalidArgument(
                "column '\(column.name)' row \(row) has key \(keys[row]) outside 0..<\(indexOfKey.count)")
        }
    }

    /// Turns the marks of the entries in use (0 in `remap`, -1 elsewhere) into their compacted ids, in dictionary
    /// order (so no row needs re-hashing).
    ///
    /// - Returns: the entries in use, in order, and the size of their dictionary page.
    private static func compact(_ remap: inout [Int32], of dictionary: StringColumn) -> (used: [Int], bytes: Int) {
        var used: [Int] = []
        var dictionaryBytes = 0
        for entry in 0..<dictionary.count where remap[entry] == 0 {
            remap[entry] = Int32(used.count)
            used.append(entry)
            dictionaryBytes += 4 + Int(dictionary.offsets[entry + 1] - dictionary.offsets[entry])
        }
        return (used, dictionaryBytes)
    }

    /// Writes the dictionary page of the `used` entries and the RLE_DICTIONARY data pages of the rows, with the
    /// chunk's and the pages' statistics.
    ///
    /// - Parameters:
    ///   - used: the dictionary entries in use, in the order of their compacted ids.
    ///   - dictionaryBytes: the size of their dictionary page.
    ///   - nulls: the number of null rows.
    ///   - rows: the number of rows.
    ///   - rowIDs: each row's compacted id (the position of its entry in `used`), or -1 for a null.
    private mutating func writeDictionaryPages(
        _ dictionary: StringColumn, used: [Int], dictionaryBytes: Int, nulls: Int, rows count: Int,
        rowIDs: some DictionaryRowIDs, into chunk: inout EncodedColumnChunk
    ) throws {
        // The byte-wise order of the used entries: rank[id] for every compacted id. Page statistics then compare
        // integers instead of strings; the chunk's extremes are the first and last in this order.
        func range(_ entry: Int) -> Range<Int> {
            Int(dictionary.offsets[entry])..<Int(dictionary.offsets[entry + 1])
        }
        let sortedIDs: [Int] = dictionary.bytes.withUnsafeBufferPointer { bytes in
            if options.writesPageStatistics {
                return Self.byteOrder(of: used.map(range), in: bytes)
            }
            // Without page statistics a linear scan for the extremes is enough.
            guard !used.isEmpty else { return [] }
            var minimum = 0
            var maximum = 0
            for id in used.indices.dropFirst() {
                if Self.lessThan(bytes, range(used[id]), bytes, range(used[minimum])) { minimum = id }
                if Self.lessThan(bytes, range(used[maximum]), bytes, range(used[id])) { maximum = id }
            }
            return [minimum, maximum]
        }
        var rank = [Int32](repeating: 0, count: used.count)
        if options.writesPageStatistics {
            for (position, id) in sortedIDs.enumerated() { rank[id] = Int32(position) }
        }
        chunk.statistics.nullCount = Int64(nulls)
        if let first = sortedIDs.first, let last = sortedIDs.last {
            chunk.statistics.min = .bytes(Array(dictionary[used[first]]))
            chunk.statistics.max = .bytes(Array(dictionary[used[last]]))
        }
        chunk.encodings = [.plain, .rle, .rleDictionary]

        // The dictionary page.
        page.removeAll(keepingCapacity: true)
        page.reserveCapacity(dictionaryBytes)
        dictionary.bytes.withUnsafeBufferPointer { bytes in
            for entry in used {
                let lower = Int(dictionary.offsets[entry])
                let upper = Int(dictionary.offsets[entry + 1])
                Self.appendLength(upper - lower, to: &page)
                page.append(contentsOf: bytes[lower..<upper])
            }
        }
        try finishPage(type: .dictionaryPage, values: used.count, encoding: .plain, statistics: nil, into: &chunk)
        chunk.dictionaryPageSize = chunk.bytes.count

        // Data pages of bit-packed / RLE ids.
        let bitWidth = RunLengthEncoding.bitWidth(forMaximum: UInt32(max(0, used.count - 1)))
        let isOptional = chunk.column.isOptional
        let ranksPages = options.writesPageStatistics
        var ids: [UInt32] = []
        var start = 0
        while start < count {
            let end = pageEnd(start: start, count: count, bitsPerRow: bitWidth)
            if ids.count < end - start { ids = [UInt32](repeating: 0, count: end - start) }
            let (present, lowestRank, highestRank) = rank.withUnsafeBufferPointer { rank in
                ids.withUnsafeMutableBufferPointer { ids in
                    Self.compactIDs(rowIDs, start..<end, rank: ranksPages ? rank : nil, into: ids)
                }
            }
            let allPresent = present == end - start
            if isOptional && !allPresent && present > 0 {
                // Levels are needed only for an optional column with both nulls and values on this page.
                fillLevels(presentIn: rowIDs, range: start..<end)
            }
            beginDataPage(isOptional: isOptional, allPresent: allPresent, rows: end - start, nonePresent: present == 0)
            page.append(UInt8(bitWidth))
            ids.withUnsafeBufferPointer {
                RunLengthEncoding.encode(UnsafeBufferPointer(rebasing: $0[0..<present]), bitWidth: bitWidth, into: &page)
            }
            var statistics = ParquetStatistics(nullCount: Int64(end - start - present))
            if ranksPages && present > 0 {
                statistics.min = .bytes(Array(dictionary[used[sortedIDs[Int(lowestRank)]]]))
                statistics.max = .bytes(Array(dictionary[used[sortedIDs[Int(highestRank)]]]))
            }
            try finishPage(
                type: .dataPage, values: end - start, encoding: .rleDictionary, statistics: statistics, into: &chunk)
            start = end
        }
    }

    /// Writes the compacted ids of the present rows of `rows` to the front of `ids`, in a tight loop over pointers;
    /// with `rank`, also finds the lowest and highest rank among them.
    ///
    /// - Returns: how many rows were present, and the rank extremes (`Int32.max`, `Int32.min` without `rank`).
    ///
    /// Not inlined: inside the page loop the rank extremes were kept on the stack, a store per row.
    @inline(never)
    private static func compactIDs(
        _ rowIDs: some DictionaryRowIDs, _ rows: Range<Int>, rank: UnsafeBufferPointer<Int32>?,
        into ids: UnsafeMutableBufferPointer<UInt32>
    ) -> (present: Int, lowestRank: Int32, highestRank: Int32) {
        var present = 0
        var lowestRank = Int32.max
        var highestRank = Int32.min
        guard let rank else {
            for row in rows {
                let id = rowIDs.id(ofRow: row)
                guard id >= 0 else { continue }
                ids[present] = UInt32(bitPattern: id)
                present += 1
            }
            return (present, lowestRank, highestRank)
        }
        for row in rows {
            let id = rowIDs.id(ofRow: row)
            guard id >= 0 else { continue }
            ids[present] = UInt32(bitPattern: id)
            present += 1
            lowestRank = min(lowestRank, rank[Int(id)])
            highestRank = max(highestRank, rank[Int(id)])
        }
        return (present, lowestRank, highestRank)
    }

    /// The fallback of ``encodeDictionary``: PLAIN pages of the strings the ids refer to.
    private mutating func encodePlainFromDictionary(
        _ dictionary: StringColumn, indices: [Int32], into chunk: inout EncodedColumnChunk
    ) throws {
        var column = StringColumn()
        var size = 0
        for index in indices where index >= 0 {
            size += Int(dictionary.offsets[Int(index) + 1] - dictionary.offsets[Int(index)])
        }
        column.bytes.reserveCapacity(size)
        column.offsets.reserveCapacity(indices.count + 1)
        let hasNulls = indices.contains { $0 < 0 }
        if hasNulls { column.validity = [] }
        dictionary.bytes.withUnsafeBufferPointer { bytes in
            for index in indices {
                if index >= 0 {
                    let lower = Int(dictionary.offsets[Int(index)])
                    let upper = Int(dictionary.offsets[Int(index) + 1])
                    column.bytes.append(contentsOf: bytes[lower..<upper])
                }
                column.offsets.append(Int32(truncatingIfNeeded: column.bytes.count))
                if hasNulls { column.validity!.append(index >= 0) }  // Safe because it was set above.
            }
        }
        try encodePlainStrings(column, into: &chunk)
    }

    /// Builds a dictionary from plain strings by hashing every value, or nil when it would exceed `limit` bytes.
    ///
    /// Entries keep first-occurrence order. Candidates are compared against the first row holding the entry, inside
    /// the caller's arena, so nothing is copied until the dictionary is known to fit.
    ///
    /// - Complexity: O(rows + string bytes) expected.
    static func buildDictionary(_ strings: StringColumn, limit: Int) -> (StringColumn, [Int32])? {
        let count = strings.count
        var indices = [Int32](repeating: -1, count: count)
        var capacity = 1024
        var table = [Int32](repeating: -1, count: capacity)  // Entry ids; -1 marks an empty slot.
        var hashes: [UInt64] = []  // Per entry, to rehash and to skip most byte comparisons.
        var firstRows: [Int] = []  // Per entry, the row that holds its bytes.
        var dictionaryBytes = 0
        let hasNulls = strings.validity != nil
        let validity = strings.validity ?? []
        let fits = strings.bytes.withUnsafeBytes { raw -> Bool in
            strings.offsets.withUnsafeBufferPointer { offsets -> Bool in
                for row in 0..<count {
                    if hasNulls && !validity[row] { continue }
                    let lower = Int(offsets[row])
                    let upper = Int(offsets[row + 1])
                    let hash = hashBytes(raw, lower..<upper)
                    var slot = Int(truncatingIfNeeded: hash) & (capacity - 1)
                    while true {
                        let id = table[slot]
                        if id < 0 {
                            let newID = Int32(hashes.count)
                            table[slot] = newID
                            hashes.append(hash)
                            firstRows.append(row)
                            indices[row] = newID
                            dictionaryBytes += 4 + upper - lower
                            if dictionaryBytes > limit { return false }
                            if hashes.count * 2 > capacity {
                                capacity *= 2
                                table = [Int32](repeating: -1, count: capacity)
                                for (entry, entryHash) in hashes.enumerated() {
                                    var newSlot = Int(truncatingIfNeeded: entryHash) & (capacity - 1)
                                    while table[newSlot] >= 0 { newSlot = (newSlot + 1) & (capacity - 1) }
                                    table[newSlot] = Int32(entry)
                                }
                            }
                            break
                        }
                        if hashes[Int(id)] == hash {
                            let other = firstRows[Int(id)]
                            let otherLower = Int(offsets[other])
                            let otherUpper = Int(offsets[other + 1])
                            if otherUpper - otherLower == upper - lower
                                && bytesEqual(raw, otherLower, lower, length: upper - lower)
                            {
                                indices[row] = id
                                break
                            }
                        }
                        slot = (slot + 1) & (capacity - 1)
                    }
                }
                return true
            }
        }
        guard fits else { return nil }
        var dictionary = StringColumn()
        dictionary.bytes.reserveCapacity(dictionaryBytes - 4 * firstRows.count)
        dictionary.offsets.reserveCapacity(firstRows.count + 1)
        for row in firstRows { dictionary.append(bytes: strings[row]) }
        return (dictionary, indices)
    }

    /// A fast 64-bit hash of `raw[range]`, eight bytes at a time.
    private static func hashBytes(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) -> UInt64 {
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 &* UInt64(range.count &+ 1)
        var position = range.lowerBound
        while position + 8 <= range.upperBound {
            // Safe because position + 8 <= upperBound <= raw.count (offsets were validated by the caller).
            let word = raw.loadUnaligned(fromByteOffset: position, as: UInt64.self)
            hash = (hash ^ word) &* 0xFF51_AFD7_ED55_8CCD
            hash ^= hash >> 32
            position += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while position < range.upperBound {
            tail |= UInt64(raw[position]) << shift
            shift += 8
            position += 1
        }
        hash = (hash ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        hash ^= hash >> 29
        return hash
    }

    /// Whether `length` bytes at two offsets of one arena are equal.
    private static func bytesEqual(_ raw: UnsafeRawBufferPointer, _ first: Int, _ second: Int, length: Int) -> Bool {
        for offset in 0..<length where raw[first + offset] != raw[second + offset] { return false }
        return true
    }
}

/// Where the data pages of a dictionary-encoded column find each row's compacted dictionary id: a specialised
/// view for each case of ``ColumnValues`` with a dictionary, valid for the scope of its pointers.
private protocol DictionaryRowIDs {
    /// The compacted dictionary id of `row`, or -1 for a null.
    func id(ofRow row: Int) -> Int32
}

/// `.dictionaryStrings`: each row's dictionary index, through the compaction of the dictionary.
private struct IndexedRowIDs: DictionaryRowIDs {
    let indices: UnsafeBufferPointer<Int32>
    /// The compacted id of every dictionary entry in use.
    let remap: UnsafeBufferPointer<Int32>

    @inline(__always)
    func id(ofRow row: Int) -> Int32 {
        let index = indices[row]
        return index < 0 ? -1 : remap[Int(index)]
    }
}

/// `.keyedDictionaryStrings`: each row's key, through the compacted id of every key.
private struct KeyedRowIDs: DictionaryRowIDs {
    let keys: UnsafeBufferPointer<Int32>
    /// The compacted id of every key, -1 for a null.
    let idOfKey: UnsafeBufferPointer<Int32>

    @inline(__always)
    func id(ofRow row: Int) -> Int32 { idOfKey[Int(keys[row])] }
}
