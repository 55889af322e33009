/// Decodes the pages of one column chunk into ``ColumnValues``.
///
/// Supports data pages v1 and v2, PLAIN, PLAIN_DICTIONARY / RLE_DICTIONARY with a dictionary page, RLE booleans,
/// DELTA_BINARY_PACKED integers, RLE definition levels, and the codecs UNCOMPRESSED, SNAPPY and LZ4_RAW. Each page is
/// checked against the chunk's bounds and the row count before anything is allocated for it.
struct ColumnChunkDecoder {
    let file: [UInt8]
    /// No page may extend past this offset (the footer's start).
    let limit: Int
    let column: ParquetColumn
    let chunk: ColumnChunkMetadata
    let rows: Int64
    /// Whether pages that carry a CRC are checked against it.
    let verifiesChecksums: Bool

    /// The decoded values so far, by physical type.
    private var booleans: [Bool] = []
    private var int32s: [Int32] = []
    private var int64s: [Int64] = []
    private var strings = StringColumn()
    private var stringIndices: [Int32] = []
    /// Whether every string data page so far was dictionary-encoded (values are in ``stringIndices``).
    private var stringsAreIndices = true
    private var validity: [Bool] = []
    private var nullCount = 0

    /// The most string bytes a chunk may expand to, so repeated references to a long entry cannot exhaust memory.
    private var maximumStringBytes: Int { min(Int(Int32.max), max(1 << 26, file.count * 256)) }

    private mutating func appendString(_ bytes: ArraySlice<UInt8>) throws {
        guard strings.bytes.count + bytes.count <= maximumStringBytes else {
            throw ParquetError.unsupported(
                "the chunk's strings expand beyond \(maximumStringBytes) bytes, more than klogs reads in one chunk")
        }
        strings.append(bytes: bytes)
    }

    private var booleanDictionary: [Bool]?
    private var int32Dictionary: [Int32]?
    private var int64Dictionary: [Int64]?
    private var stringDictionary: StringColumn?

    // Scratch, reused between pages.
    private var levels: [UInt32] = []
    private var ids: [UInt32] = []

    /// The most a page may claim to expand to relative to its stored size (LZ4's worst case is about 255).
    static let maximumExpansion = 256

    init(file: [UInt8], limit: Int, column: ParquetColumn, chunk: ColumnChunkMetadata, rows: Int64,
         verifiesChecksums: Bool) {
        self.verifiesChecksums = verifiesChecksums
        self.file = file
        self.limit = limit
        self.column = column
        self.chunk = chunk
        self.rows = rows
    }

    mutating func decode() throws -> ColumnValues {
        guard chunk.filePath == nil else {
            throw ParquetError.unsupported("the chunk is stored in another file (\(chunk.filePath!)), which klogs cannot read")
        }
        guard chunk.type == column.type else {
            throw ParquetError.malformed("the chunk's type \(chunk.type) differs from the schema's \(column.type)")
        }
        switch column.type {
        case .boolean, .int32, .int64, .byteArray: break
        default:
            throw ParquetError.unsupported("the column has physical type \(column.type), which klogs cannot decode")
        }
        switch chunk.codec {
        case .uncompressed, .snappy, .lz4Raw: break
        default:
            throw ParquetError.unsupported(
                "the chunk uses codec \(chunk.codec); klogs reads UNCOMPRESSED, SNAPPY and LZ4_RAW")
        }
        guard chunk.numberOfValues == rows else {
            throw ParquetError.malformed("the chunk has \(chunk.numberOfValues) values for \(rows) rows")
        }
        let start = chunk.startOffset
        guard start >= 4 && start < Int64(limit) else {
            throw ParquetError.malformed("the chunk starts at byte \(start), outside the data region 4..<\(limit)")
        }
        // A lying row count must not turn a small file into a huge allocation: real files hold far fewer than 128
        // rows per byte of file.
        let maximumRows = min(Int64(Int32.max), max(1 << 20, Int64(file.count) * 128))
        guard rows <= maximumRows else {
            throw ParquetError.malformed(
                "the row group claims \(rows) rows, more than the \(maximumRows) a \(file.count)-byte file can plausibly hold")
        }
        let rowCount = Int(rows)
        let reserve = min(rowCount, 1 << 16)
        if column.isOptional { validity.reserveCapacity(reserve) }

        var position = Int(start)
        var decoded = 0
        while decoded < rowCount {
            guard position < limit else {
                throw ParquetError.malformed("the chunk's pages end after \(decoded) of \(rowCount) values")
            }
            var headerReader = ThriftCompactReader(file, range: position..<limit)
            let header: PageHeader
            do {
                header = try PageHeader.decode(from: &headerReader)
            } catch let error as ParquetError {
                throw error.located("page header at byte \(position)")
            }
            let bodyStart = headerReader.position
            guard Int(header.compressedSize) <= limit - bodyStart else {
                throw ParquetError.malformed(
                    "the page at byte \(position) claims \(header.compressedSize) bytes but only \(limit - bodyStart) remain before the footer")
            }
            let body = bodyStart..<(bodyStart + Int(header.compressedSize))
            if let crc = header.crc, verifiesChecksums {
                let actual = CRC32.checksum(file, range: body)
                guard actual == UInt32(bitPattern: crc) else {
                    throw ParquetError.malformed(
                        "the page at byte \(position) fails its CRC check (stored \(UInt32(bitPattern: crc)), computed \(actual)); the file is damaged")
                }
            }
            do {
                switch header.type {
                case PageType.dictionaryPage.rawValue:
                    try decodeDictionaryPage(header, body: body)
                case PageType.dataPage.rawValue:
                    decoded += try decodeDataPageV1(header, body: body, remaining: rowCount - decoded)
                case PageType.dataPageV2.rawValue:
                    decoded += try decodeDataPageV2(header, body: body, remaining: rowCount - decoded)
                default:
                    break  // Index pages and unknown page types carry no values.
                }
            } catch let error as ParquetError {
                throw error.located("page at byte \(position)")
            }
            position = body.upperBound
        }
        return finish()
    }

    private func finish() -> ColumnValues {
        let validity = nullCount > 0 ? validity : nil
        switch column.type {
        case .boolean: return .boolean(booleans, validity: validity)
        case .int32: return .int32(int32s, validity: validity)
        case .int64: return .int64(int64s, validity: validity)
        default:
            if stringsAreIndices, let stringDictionary {
                return .dictionaryStrings(dictionary: stringDictionary, indices: stringIndices)
            }
            var strings = strings
            strings.validity = validity
            return .strings(strings)
        }
    }

    // MARK: Decompression

    private func decompress(_ range: Range<Int>, uncompressedSize: Int, codec: ParquetCodec) throws -> ([UInt8], Range<Int>) {
        guard uncompressedSize <= range.count * Self.maximumExpansion + 1024 else {
            throw ParquetError.malformed(
                "the page claims to expand from \(range.count) to \(uncompressedSize) bytes, beyond any codec's ratio")
        }
        if uncompressedSize == 0 && range.isEmpty { return ([], 0..<0) }  // An empty section, e.g. an all-null v2 page.
        switch codec {
        case .uncompressed:
            guard uncompressedSize == range.count else {
                throw ParquetError.malformed(
                    "the uncompressed page has \(range.count) bytes but its header states \(uncompressedSize)")
            }
            return (file, range)
        case .lz4Raw:
            let output = try PageCodec.decompressLZ4(file, range: range, uncompressedSize: uncompressedSize)
            return (output, 0..<output.count)
        case .snappy:
            let output = try PageCodec.decompressSnappy(file, range: range, uncompressedSize: uncompressedSize)
            return (output, 0..<output.count)
        default:
            throw ParquetError.unsupported("codec \(codec) is not supported")
        }
    }

    // MARK: Pages

    private mutating func decodeDictionaryPage(_ header: PageHeader, body: Range<Int>) throws {
        guard header.encoding == .plain || header.encoding == .plainDictionary else {
            throw ParquetError.unsupported("the dictionary page uses encoding \(header.encoding); klogs reads PLAIN")
        }
        guard booleanDictionary == nil && int32Dictionary == nil && int64Dictionary == nil && stringDictionary == nil
        else { throw ParquetError.malformed("the chunk has a second dictionary page") }
        let count = Int(header.numberOfValues)
        guard count >= 0 else { throw ParquetError.malformed("the dictionary page has \(count) entries") }
        let (buffer, range) = try decompress(body, uncompressedSize: Int(header.uncompressedSize), codec: chunk.codec)
        switch column.type {
        case .boolean:
            var values: [Bool] = []
            try Self.decodePlainBooleans(buffer, range: range, count: count, into: &values)
            booleanDictionary = values
        case .int32:
            var values: [Int32] = []
            try Self.decodePlainIntegers(buffer, range: range, count: count, into: &values)
            int32Dictionary = values
        case .int64:
            var values: [Int64] = []
            try Self.decodePlainIntegers(buffer, range: range, count: count, into: &values)
            int64Dictionary = values
        default:
            var values = StringColumn()
            try Self.decodePlainStrings(buffer, range: range, count: count, into: &values)
            stringDictionary = values
        }
    }

    private mutating func decodeDataPageV1(_ header: PageHeader, body: Range<Int>, remaining: Int) throws -> Int {
        let count = Int(header.numberOfValues)
        guard count >= 0 && count <= remaining else {
            throw ParquetError.malformed("the data page has \(count) values but only \(remaining) rows remain")
        }
        let (buffer, range) = try decompress(body, uncompressedSize: Int(header.uncompressedSize), codec: chunk.codec)
        var valuesStart = range.lowerBound
        var present = count
        if column.isOptional {
            guard header.definitionLevelEncoding == .rle else {
                throw ParquetError.unsupported(
                    "definition levels use \(header.definitionLevelEncoding); klogs reads RLE levels")
            }
            guard range.count >= 4 else { throw ParquetError.malformed("the page is too short for its definition levels") }
            var length = 0
            for index in 0..<4 { length |= Int(buffer[valuesStart + index]) << (8 * index) }
            guard length <= range.count - 4 else {
                throw ParquetError.malformed("the definition levels claim \(length) bytes of a \(range.count)-byte page")
            }
            let levelRange = (valuesStart + 4)..<(valuesStart + 4 + length)
            present = try decodeLevels(buffer, range: levelRange, count: count)
            valuesStart = levelRange.upperBound
        }
        try decodeValues(header.encoding, buffer, range: valuesStart..<range.upperBound, count: count, present: present)
        return count
    }

    private mutating func decodeDataPageV2(_ header: PageHeader, body: Range<Int>, remaining: Int) throws -> Int {
        let count = Int(header.numberOfValues)
        guard count >= 0 && count <= remaining else {
            throw ParquetError.malformed("the data page has \(count) values but only \(remaining) rows remain")
        }
        let repetitionLength = Int(header.repetitionLevelsByteLength)
        let definitionLength = Int(header.definitionLevelsByteLength)
        guard repetitionLength >= 0, definitionLength >= 0, repetitionLength + definitionLength <= body.count,
            repetitionLength + definitionLength <= Int(header.uncompressedSize)
        else {
            throw ParquetError.malformed(
                "the v2 page's level lengths (\(repetitionLength) + \(definitionLength)) do not fit its \(body.count) bytes")
        }
        guard repetitionLength == 0 else {
            throw ParquetError.unsupported("the v2 page has repetition levels; klogs reads flat schemas only")
        }
        var present = count
        let levelRange = body.lowerBound..<(body.lowerBound + definitionLength)
        if column.isOptional {
            present = try decodeLevels(file, range: levelRange, count: count)
            guard count - present == Int(header.numberOfNulls) else {
                throw ParquetError.malformed(
                    "the v2 page header counts \(header.numberOfNulls) nulls but its levels \(count - present)")
            }
        } else if definitionLength != 0 || header.numberOfNulls != 0 {
            throw ParquetError.malformed("a REQUIRED column's v2 page has definition levels or nulls")
        }
        let valuesRange = levelRange.upperBound..<body.upperBound
        let valuesSize = Int(header.uncompressedSize) - definitionLength
        let (buffer, range) = try decompress(
            valuesRange, uncompressedSize: valuesSize, codec: header.isCompressed ? chunk.codec : .uncompressed)
        try decodeValues(header.encoding, buffer, range: range, count: count, present: present)
        return count
    }

    /// Decodes `count` definition levels (max level 1) into ``levels`` and appends validity; returns the present count.
    private mutating func decodeLevels(_ buffer: [UInt8], range: Range<Int>, count: Int) throws -> Int {
        levels.removeAll(keepingCapacity: true)
        try RunLengthEncoding.decode(buffer, range: range, bitWidth: 1, count: count, into: &levels)
        var present = 0
        for level in levels {
            present += Int(level)
        }
        return present
    }

    /// Appends one page's values (and validity) to the column.
    private mutating func decodeValues(
        _ encoding: ParquetEncoding, _ buffer: [UInt8], range: Range<Int>, count: Int, present: Int
    ) throws {
        let hasNulls = present < count
        if column.isOptional {
            if hasNulls {
                for level in levels { validity.append(level == 1) }
            } else {
                validity.append(contentsOf: repeatElement(true, count: count))
            }
            nullCount += count - present
        }
        let isDictionary = encoding == .rleDictionary || encoding == .plainDictionary
        if isDictionary {
            guard range.count >= 1 else { throw ParquetError.malformed("the dictionary-encoded page has no bit width") }
            let bitWidth = Int(buffer[range.lowerBound])
            ids.removeAll(keepingCapacity: true)
            try RunLengthEncoding.decode(
                buffer, range: (range.lowerBound + 1)..<range.upperBound, bitWidth: bitWidth, count: present, into: &ids)
        } else if encoding != .plain && !(encoding == .rle && column.type == .boolean)
            && !(encoding == .deltaBinaryPacked && (column.type == .int32 || column.type == .int64))
        {
            throw ParquetError.unsupported(
                "the data page uses encoding \(encoding); klogs reads PLAIN, RLE_DICTIONARY, PLAIN_DICTIONARY and "
                    + "DELTA_BINARY_PACKED (integers)")
        }
        switch column.type {
        case .boolean:
            var values: [Bool] = []
            if isDictionary {
                guard let dictionary = booleanDictionary else { throw missingDictionary() }
                try Self.lookUp(ids, in: dictionary, into: &values)
            } else if encoding == .rle {
                guard range.count >= 4 else { throw ParquetError.malformed("the RLE boolean page lacks its length") }
                var length = 0
                for index in 0..<4 { length |= Int(buffer[range.lowerBound + index]) << (8 * index) }
                guard length <= range.count - 4 else {
                    throw ParquetError.malformed("the RLE booleans claim \(length) bytes of \(range.count - 4)")
                }
                ids.removeAll(keepingCapacity: true)
                try RunLengthEncoding.decode(
                    buffer, range: (range.lowerBound + 4)..<(range.lowerBound + 4 + length), bitWidth: 1,
                    count: present, into: &ids)
                values = ids.map { $0 != 0 }
            } else {
                try Self.decodePlainBooleans(buffer, range: range, count: present, into: &values)
            }
            Self.scatter(values, levels: hasNulls ? levels : nil, null: false, into: &booleans)
        case .int32:
            var values: [Int32] = []
            if isDictionary {
                guard let dictionary = int32Dictionary else { throw missingDictionary() }
                try Self.lookUp(ids, in: dictionary, into: &values)
            } else if encoding == .deltaBinaryPacked {
                try DeltaBinaryPacked.decode(buffer, range: range, count: present, into: &values)
            } else {
                try Self.decodePlainIntegers(buffer, range: range, count: present, into: &values)
            }
            Self.scatter(values, levels: hasNulls ? levels : nil, null: 0, into: &int32s)
        case .int64:
            var values: [Int64] = []
            if isDictionary {
                guard let dictionary = int64Dictionary else { throw missingDictionary() }
                try Self.lookUp(ids, in: dictionary, into: &values)
            } else if encoding == .deltaBinaryPacked {
                try DeltaBinaryPacked.decode(buffer, range: range, count: present, into: &values)
            } else {
                try Self.decodePlainIntegers(buffer, range: range, count: present, into: &values)
            }
            Self.scatter(values, levels: hasNulls ? levels : nil, null: 0, into: &int64s)
        default:
            try appendStrings(isDictionary: isDictionary, buffer, range: range, count: count, present: present)
        }
    }

    private func missingDictionary() -> ParquetError {
        .malformed("a dictionary-encoded data page comes without a dictionary page")
    }

    private mutating func appendStrings(
        isDictionary: Bool, _ buffer: [UInt8], range: Range<Int>, count: Int, present: Int
    ) throws {
        let hasNulls = present < count
        if isDictionary {
            guard let dictionary = stringDictionary else { throw missingDictionary() }
            let entries = dictionary.count
            for id in ids where Int(id) >= entries {
                throw ParquetError.malformed("dictionary index \(id) is outside the \(entries)-entry dictionary")
            }
            if stringsAreIndices {
                var next = 0
                for row in 0..<count {
                    if !hasNulls || levels[row] == 1 {
                        stringIndices.append(Int32(ids[next]))
                        next += 1
                    } else {
                        stringIndices.append(-1)
                    }
                }
            } else {
                var next = 0
                for row in 0..<count {
                    if !hasNulls || levels[row] == 1 {
                        try appendString(dictionary[Int(ids[next])])
                        next += 1
                    } else {
                        strings.offsets.append(strings.offsets[strings.offsets.count - 1])
                    }
                }
            }
            return
        }
        if stringsAreIndices {
            // The first PLAIN page after dictionary pages: materialise what was read so far.
            stringsAreIndices = false
            if let dictionary = stringDictionary {
                for index in stringIndices {
                    if index >= 0 {
                        try appendString(dictionary[Int(index)])
                    } else {
                        strings.offsets.append(strings.offsets[strings.offsets.count - 1])
                    }
                }
            }
            stringIndices = []
        }
        var values = StringColumn()
        try Self.decodePlainStrings(buffer, range: range, count: present, into: &values)
        var next = 0
        strings.bytes.reserveCapacity(strings.bytes.count + values.bytes.count)
        for row in 0..<count {
            if !hasNulls || levels[row] == 1 {
                try appendString(values[next])
                next += 1
            } else {
                strings.offsets.append(strings.offsets[strings.offsets.count - 1])
            }
        }
    }

    // MARK: Value decoders

    private static func scatter<T>(_ values: [T], levels: [UInt32]?, null: T, into output: inout [T]) {
        guard let levels else {
            output.append(contentsOf: values)
            return
        }
        var next = 0
        for level in levels {
            if level == 1 {
                output.append(values[next])
                next += 1
            } else {
                output.append(null)
            }
        }
    }

    private static func lookUp<T>(_ ids: [UInt32], in dictionary: [T], into output: inout [T]) throws {
        output.reserveCapacity(ids.count)
        for id in ids {
            guard Int(id) < dictionary.count else {
                throw ParquetError.malformed("dictionary index \(id) is outside the \(dictionary.count)-entry dictionary")
            }
            output.append(dictionary[Int(id)])
        }
    }

    static func decodePlainBooleans(_ buffer: [UInt8], range: Range<Int>, count: Int, into output: inout [Bool]) throws {
        guard (count + 7) / 8 <= range.count else {
            throw ParquetError.malformed("\(count) PLAIN booleans need \((count + 7) / 8) bytes but the page has \(range.count)")
        }
        output.reserveCapacity(output.count + count)
        for index in 0..<count {
            output.append(buffer[range.lowerBound + index / 8] >> UInt8(index % 8) & 1 == 1)
        }
    }

    static func decodePlainIntegers<T: FixedWidthInteger>(
        _ buffer: [UInt8], range: Range<Int>, count: Int, into output: inout [T]
    ) throws {
        let width = MemoryLayout<T>.size
        guard count <= range.count / width else {
            throw ParquetError.malformed(
                "\(count) PLAIN \(width * 8)-bit values need \(count * width) bytes but the page has \(range.count)")
        }
        output.reserveCapacity(output.count + count)
        buffer.withUnsafeBytes { raw in
            for index in 0..<count {
                // Safe because the guard above keeps every load inside range, which lies inside buffer.
                output.append(T(littleEndian: raw.loadUnaligned(fromByteOffset: range.lowerBound + index * width, as: T.self)))
            }
        }
    }

    static func decodePlainStrings(_ buffer: [UInt8], range: Range<Int>, count: Int, into output: inout StringColumn) throws {
        guard count <= range.count / 4 else {
            throw ParquetError.malformed("\(count) PLAIN strings need at least \(count * 4) bytes but the page has \(range.count)")
        }
        output.offsets.reserveCapacity(output.offsets.count + count)
        var position = range.lowerBound
        for index in 0..<count {
            guard range.upperBound - position >= 4 else {
                throw ParquetError.malformed("PLAIN string \(index) of \(count) has no room for its length")
            }
            var length = 0
            for byte in 0..<4 { length |= Int(buffer[position + byte]) << (8 * byte) }
            position += 4
            guard length <= range.upperBound - position else {
                throw ParquetError.malformed(
                    "PLAIN string \(index) of \(count) claims \(length) bytes but \(range.upperBound - position) remain")
            }
            guard output.bytes.count + length <= Int(Int32.max) else {
                throw ParquetError.unsupported("the column chunk holds more than 2 GiB of string bytes")
            }
            output.append(bytes: buffer[position..<(position + length)])
            position += length
        }
    }
}
