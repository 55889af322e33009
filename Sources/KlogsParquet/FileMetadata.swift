// The footer and page-header structures of parquet.thrift that this module writes and reads, with their Thrift
// compact encodings. Field ids follow parquet.thrift exactly; unknown fields are skipped when reading.

/// A typed statistics value: a column's minimum or maximum.
public enum ParquetScalar: Sendable, Hashable, CustomStringConvertible {
    case boolean(Bool)
    case int32(Int32)
    case int64(Int64)
    /// A BYTE_ARRAY value (for a STRING column, UTF-8 bytes).
    case bytes([UInt8])

    public var description: String {
        switch self {
        case .boolean(let value): "\(value)"
        case .int32(let value): "\(value)"
        case .int64(let value): "\(value)"
        case .bytes(let value): "\"\(String(decoding: value, as: UTF8.self))\""
        }
    }

    /// Decodes a PLAIN-encoded statistics value (byte arrays without their length prefix).
    init?(plain bytes: [UInt8], type: PhysicalType) {
        switch type {
        case .boolean:
            guard bytes.count == 1 else { return nil }
            self = .boolean(bytes[0] != 0)
        case .int32:
            guard bytes.count == 4 else { return nil }
            var value: UInt32 = 0
            for index in 0..<4 { value |= UInt32(bytes[index]) << (8 * UInt32(index)) }
            self = .int32(Int32(bitPattern: value))
        case .int64:
            guard bytes.count == 8 else { return nil }
            var value: UInt64 = 0
            for index in 0..<8 { value |= UInt64(bytes[index]) << (8 * UInt64(index)) }
            self = .int64(Int64(bitPattern: value))
        case .byteArray, .fixedLengthByteArray:
            self = .bytes(bytes)
        default:
            return nil
        }
    }

    /// The PLAIN encoding of the value, as statistics store it.
    var plainBytes: [UInt8] {
        switch self {
        case .boolean(let value): [value ? 1 : 0]
        case .int32(let value): withUnsafeBytes(of: value.littleEndian) { Array($0) }
        case .int64(let value): withUnsafeBytes(of: value.littleEndian) { Array($0) }
        case .bytes(let value): value
        }
    }
}

/// Statistics of a column chunk or a page, as parquet.thrift's `Statistics`.
public struct ParquetStatistics: Sendable, Hashable {
    /// The number of nulls, when the writer recorded it.
    public var nullCount: Int64?
    /// The number of distinct values, when the writer recorded it.
    public var distinctCount: Int64?
    /// The smallest non-null value in the column's sort order (`min_value`, field 6).
    public var min: ParquetScalar?
    /// The largest non-null value in the column's sort order (`max_value`, field 5).
    public var max: ParquetScalar?

    public init(nullCount: Int64? = nil, distinctCount: Int64? = nil, min: ParquetScalar? = nil, max: ParquetScalar? = nil) {
        self.nullCount = nullCount
        self.distinctCount = distinctCount
        self.min = min
        self.max = max
    }

    func encode(into writer: inout ThriftCompactWriter) {
        writer.beginStruct()
        if let nullCount { writer.writeI64(field: 3, nullCount) }
        if let distinctCount { writer.writeI64(field: 4, distinctCount) }
        if let max { writer.writeBinary(field: 5, max.plainBytes) }
        if let min { writer.writeBinary(field: 6, min.plainBytes) }
        writer.endStruct()
    }

    /// Decodes statistics; the deprecated `min`/`max` fields are used only for types whose old order was signed and
    /// agrees with the current one (booleans and integers).
    static func decode(from reader: inout ThriftCompactReader, type: PhysicalType) throws -> ParquetStatistics {
        var result = ParquetStatistics()
        var legacyMin: [UInt8]?
        var legacyMax: [UInt8]?
        var minValue: [UInt8]?
        var maxValue: [UInt8]?
        try reader.readStruct { reader, id, wire in
            switch id {
            case 1: legacyMax = try reader.readBinary(wire, field: id, in: "Statistics")
            case 2: legacyMin = try reader.readBinary(wire, field: id, in: "Statistics")
            case 3: result.nullCount = try reader.readI64(wire, field: id, in: "Statistics")
            case 4: result.distinctCount = try reader.readI64(wire, field: id, in: "Statistics")
            case 5: maxValue = try reader.readBinary(wire, field: id, in: "Statistics")
            case 6: minValue = try reader.readBinary(wire, field: id, in: "Statistics")
            default: try reader.skip(wire)
            }
        }
        let legacyUsable = type == .boolean || type == .int32 || type == .int64
        if let bytes = minValue ?? (legacyUsable ? legacyMin : nil) { result.min = ParquetScalar(plain: bytes, type: type) }
        if let bytes = maxValue ?? (legacyUsable ? legacyMax : nil) { result.max = ParquetScalar(plain: bytes, type: type) }
        return result
    }
}

/// One page type and encoding with the number of pages using them (parquet.thrift's `PageEncodingStats`).
public struct PageEncodingCount: Sendable, Hashable {
    public var pageType: Int32
    public var encoding: ParquetEncoding
    public var count: Int32
}

/// The metadata of one column chunk: where its pages are and how they are encoded (parquet.thrift's `ColumnChunk`
/// with its `ColumnMetaData`).
public struct ColumnChunkMetadata: Sendable, Hashable {
    /// The physical type of the column.
    public var type: PhysicalType
    /// Every encoding used by the chunk's pages, including the RLE of levels and the PLAIN of a dictionary page.
    public var encodings: [ParquetEncoding]
    /// The column's path in the schema (one name for a flat schema).
    public var pathInSchema: [String]
    /// The compression codec of every page.
    public var codec: ParquetCodec
    /// The number of values, nulls included.
    public var numberOfValues: Int64
    /// The size of all pages with their headers, uncompressed.
    public var totalUncompressedSize: Int64
    /// The size of all pages with their headers, as stored.
    public var totalCompressedSize: Int64
    /// The file offset of the first data page.
    public var dataPageOffset: Int64
    /// The file offset of the dictionary page, if there is one.
    public var dictionaryPageOffset: Int64?
    /// Chunk-level statistics, if written.
    public var statistics: ParquetStatistics?
    /// How many pages use which encodings, if written.
    public var encodingCounts: [PageEncodingCount]?
    /// The external file holding the chunk, if not this one (not supported for reading).
    public var filePath: String?
    /// parquet.thrift's deprecated `ColumnChunk.file_offset`.
    var fileOffset: Int64 = 0

    /// The file offset of the chunk's first page.
    public var startOffset: Int64 {
        if let dictionaryPageOffset, dictionaryPageOffset > 0, dictionaryPageOffset < dataPageOffset {
            return dictionaryPageOffset
        }
        return dataPageOffset
    }

    func encode(into writer: inout ThriftCompactWriter) {
        writer.beginStruct()  // ColumnChunk
        if let filePath { writer.writeString(field: 1, filePath) }
        writer.writeI64(field: 2, fileOffset)
        writer.beginStruct(field: 3)  // ColumnMetaData
        writer.writeI32(field: 1, type.rawValue)
        writer.beginList(field: 2, elementType: .i32, count: encodings.count)
        for encoding in encodings { writer.writeI32Value(encoding.rawValue) }
        writer.beginList(field: 3, elementType: .binary, count: pathInSchema.count)
        for name in pathInSchema { writer.writeBinaryValue(Array(name.utf8)) }
        writer.writeI32(field: 4, codec.rawValue)
        writer.writeI64(field: 5, numberOfValues)
        writer.writeI64(field: 6, totalUncompressedSize)
        writer.writeI64(field: 7, totalCompressedSize)
        writer.writeI64(field: 9, dataPageOffset)
        if let dictionaryPageOffset { writer.writeI64(field: 11, dictionaryPageOffset) }
        if let statistics {
            writer.writeFieldHeader(12, .structure)
            statistics.encode(into: &writer)
        }
        if let encodingCounts {
            writer.beginList(field: 13, elementType: .structure, count: encodingCounts.count)
            for entry in encodingCounts {
                writer.beginStruct()
                writer.writeI32(field: 1, entry.pageType)
                writer.writeI32(field: 2, entry.encoding.rawValue)
                writer.writeI32(field: 3, entry.count)
                writer.endStruct()
            }
        }
        writer.endStruct()  // ColumnMetaData
        writer.endStruct()  // ColumnChunk
    }

    static func decode(from reader: inout ThriftCompactReader) throws -> ColumnChunkMetadata {
        var filePath: String?
        var fileOffset: Int64 = 0
        var result: ColumnChunkMetadata?
        try reader.readStruct { reader, id, wire in
            switch id {
            case 1: filePath = try reader.readString(wire, field: id, in: "ColumnChunk")
            case 2: fileOffset = try reader.readI64(wire, field: id, in: "ColumnChunk")
            case 3:
                try reader.expect(wire, .structure, field: id, in: "ColumnChunk")
                result = try decodeColumnMetaData(from: &reader)
            default: try reader.skip(wire)
            }
        }
        guard var chunk = result else {
            throw ParquetError.malformed("a ColumnChunk has no ColumnMetaData (field 3)")
        }
        chunk.filePath = filePath
        chunk.fileOffset = fileOffset
        return chunk
    }

    private static func decodeColumnMetaData(from reader: inout ThriftCompactReader) throws -> ColumnChunkMetadata {
        let name = "ColumnMetaData"
        var type: Int32?
        var encodings: [ParquetEncoding] = []
        var path: [String] = []
        var codec: Int32?
        var numberOfValues: Int64?
        var uncompressed: Int64?
        var compressed: Int64?
        var dataPageOffset: Int64?
        var dictionaryPageOffset: Int64?
        var statisticsStart: Int?
        var encodingCounts: [PageEncodingCount]?
        try reader.readStruct { reader, id, wire in
            switch id {
            case 1: type = try reader.readI32(wire, field: id, in: name)
            case 2:
                try reader.readList(wire, field: id, in: name, elementType: .i32) {
                    encodings.append(ParquetEncoding(rawValue: try $0.readI32Value()))
                }
            case 3:
                try reader.readList(wire, field: id, in: name, elementType: .binary) {
                    path.append(try $0.readStringValue())
                }
            case 4: codec = try reader.readI32(wire, field: id, in: name)
            case 5: numberOfValues = try reader.readI64(wire, field: id, in: name)
            case 6: uncompressed = try reader.readI64(wire, field: id, in: name)
            case 7: compressed = try reader.readI64(wire, field: id, in: name)
            case 9: dataPageOffset = try reader.readI64(wire, field: id, in: name)
            case 11: dictionaryPageOffset = try reader.readI64(wire, field: id, in: name)
            case 12:
                // Statistics need the physical type, which may come later in theory; remember where they are.
                try reader.expect(wire, .structure, field: id, in: name)
                statisticsStart = reader.position
                try reader.skip(.structure)
            case 13:
                var counts: [PageEncodingCount] = []
                try reader.readList(wire, field: id, in: name, elementType: .structure) { reader in
                    var entry = PageEncodingCount(pageType: 0, encoding: .plain, count: 0)
                    try reader.readStruct { reader, id, wire in
                        switch id {
                        case 1: entry.pageType = try reader.readI32(wire, field: id, in: "PageEncodingStats")
                        case 2: entry.encoding = ParquetEncoding(rawValue: try reader.readI32(wire, field: id, in: "PageEncodingStats"))
                        case 3: entry.count = try reader.readI32(wire, field: id, in: "PageEncodingStats")
                        default: try reader.skip(wire)
                        }
                    }
                    counts.append(entry)
                }
                encodingCounts = counts
            default: try reader.skip(wire)
            }
        }
        guard let rawType = type, let numberOfValues, let uncompressed, let compressed, let dataPageOffset,
            let codec
        else {
            throw ParquetError.malformed("a ColumnMetaData lacks a required field (type, codec, sizes or data page offset)")
        }
        guard let physical = PhysicalType(rawValue: rawType) else {
            throw ParquetError.malformed("a ColumnMetaData has unknown physical type \(rawType)")
        }
        var statistics: ParquetStatistics?
        if let statisticsStart {
            var statisticsReader = ThriftCompactReader(reader.bytes, range: statisticsStart..<reader.end)
            statistics = try ParquetStatistics.decode(from: &statisticsReader, type: physical)
        }
        return ColumnChunkMetadata(
            type: physical, encodings: encodings, pathInSchema: path, codec: ParquetCodec(rawValue: codec),
            numberOfValues: numberOfValues, totalUncompressedSize: uncompressed, totalCompressedSize: compressed,
            dataPageOffset: dataPageOffset, dictionaryPageOffset: dictionaryPageOffset, statistics: statistics,
            encodingCounts: encodingCounts, filePath: nil)
    }
}

/// The metadata of one row group (parquet.thrift's `RowGroup`).
public struct RowGroupMetadata: Sendable, Hashable {
    /// One chunk per schema column, in schema order.
    public var columns: [ColumnChunkMetadata]
    /// The total uncompressed size of the row group's pages.
    public var totalByteSize: Int64
    /// The number of rows.
    public var numberOfRows: Int64
    /// The offset of the first page of the row group.
    public var fileOffset: Int64?
    /// The total stored size of the row group's pages.
    public var totalCompressedSize: Int64?

    func encode(into writer: inout ThriftCompactWriter, ordinal: Int16) {
        writer.beginStruct()
        writer.beginList(field: 1, elementType: .structure, count: columns.count)
        for column in columns { column.encode(into: &writer) }
        writer.writeI64(field: 2, totalByteSize)
        writer.writeI64(field: 3, numberOfRows)
        if let fileOffset { writer.writeI64(field: 5, fileOffset) }
        if let totalCompressedSize { writer.writeI64(field: 6, totalCompressedSize) }
        if ordinal >= 0 { writer.writeI16(field: 7, ordinal) }
        writer.endStruct()
    }

    static func decode(from reader: inout ThriftCompactReader) throws -> RowGroupMetadata {
        var result = RowGroupMetadata(columns: [], totalByteSize: 0, numberOfRows: -1)
        try reader.readStruct { reader, id, wire in
            switch id {
            case 1:
                try reader.readList(wire, field: id, in: "RowGroup", elementType: .structure) {
                    result.columns.append(try ColumnChunkMetadata.decode(from: &$0))
                }
            case 2: result.totalByteSize = try reader.readI64(wire, field: id, in: "RowGroup")
            case 3: result.numberOfRows = try reader.readI64(wire, field: id, in: "RowGroup")
            case 5: result.fileOffset = try reader.readI64(wire, field: id, in: "RowGroup")
            case 6: result.totalCompressedSize = try reader.readI64(wire, field: id, in: "RowGroup")
            default: try reader.skip(wire)
            }
        }
        guard result.numberOfRows >= 0 else { throw ParquetError.malformed("a RowGroup lacks a valid num_rows") }
        return result
    }
}

/// One node of parquet.thrift's flattened schema tree (`SchemaElement`).
struct SchemaElement: Sendable, Hashable {
    var type: PhysicalType?
    var typeLength: Int32?
    var repetition: Int32?
    var name: String
    var numberOfChildren: Int32?
    var convertedType: Int32?
    var logical: LogicalType = .none
    var hasLogicalTypeField = false

    static let repetitionRequired: Int32 = 0
    static let repetitionOptional: Int32 = 1
    static let repetitionRepeated: Int32 = 2

    static let convertedUTF8: Int32 = 0
    static let convertedTimestampMillis: Int32 = 9
    static let convertedTimestampMicros: Int32 = 10

    func encode(into writer: inout ThriftCompactWriter) {
        writer.beginStruct()
        if let type { writer.writeI32(field: 1, type.rawValue) }
        if let typeLength { writer.writeI32(field: 2, typeLength) }
        if let repetition { writer.writeI32(field: 3, repetition) }
        writer.writeString(field: 4, name)
        if let numberOfChildren { writer.writeI32(field: 5, numberOfChildren) }
        if let convertedType { writer.writeI32(field: 6, convertedType) }
        switch logical {
        case .none, .other:
            break
        case .string:
            writer.beginStruct(field: 10)
            writer.beginStruct(field: 1)  // StringType {}
            writer.endStruct()
            writer.endStruct()
        case .timestamp(let unit, let utc):
            writer.beginStruct(field: 10)
            writer.beginStruct(field: 8)  // TimestampType
            writer.writeBool(field: 1, utc)
            writer.beginStruct(field: 2)  // TimeUnit union
            switch unit {
            case .milliseconds: writer.beginStruct(field: 1)
            case .microseconds: writer.beginStruct(field: 2)
            case .nanoseconds: writer.beginStruct(field: 3)
            }
            writer.endStruct()  // the unit's empty struct
            writer.endStruct()  // TimeUnit
            writer.endStruct()  // TimestampType
            writer.endStruct()  // LogicalType
        }
        writer.endStruct()
    }

    static func decode(from reader: inout ThriftCompactReader) throws -> SchemaElement {
        let structName = "SchemaElement"
        var element = SchemaElement(name: "")
        var hasName = false
        var rawType: Int32?
        try reader.readStruct { reader, id, wire in
            switch id {
            case 1: rawType = try reader.readI32(wire, field: id, in: structName)
            case 2: element.typeLength = try reader.readI32(wire, field: id, in: structName)
            case 3: element.repetition = try reader.readI32(wire, field: id, in: structName)
            case 4:
                element.name = try reader.readString(wire, field: id, in: structName)
                hasName = true
            case 5: element.numberOfChildren = try reader.readI32(wire, field: id, in: structName)
            case 6: element.convertedType = try reader.readI32(wire, field: id, in: structName)
            case 10:
                try reader.expect(wire, .structure, field: id, in: structName)
                element.logical = try decodeLogicalType(from: &reader)
                element.hasLogicalTypeField = true
            default: try reader.skip(wire)
            }
        }
        guard hasName else { throw ParquetError.malformed("a SchemaElement has no name (field 4)") }
        if let rawType {
            guard let type = PhysicalType(rawValue: rawType) else {
                throw ParquetError.malformed("schema column '\(element.name)' has unknown physical type \(rawType)")
            }
            element.type = type
        }
        if !element.hasLogicalTypeField, let converted = element.convertedType {
            switch converted {
            case convertedUTF8: element.logical = .string
            case convertedTimestampMillis: element.logical = .timestamp(unit: .milliseconds, isAdjustedToUTC: true)
            case convertedTimestampMicros: element.logical = .timestamp(unit: .microseconds, isAdjustedToUTC: true)
            default: element.logical = .other("ConvertedType \(converted)")
            }
        }
        return element
    }

    private static let logicalNames: [Int16: String] = [
        2: "MAP", 3: "LIST", 4: "ENUM", 5: "DECIMAL", 6: "DATE", 7: "TIME", 10: "INTEGER", 11: "UNKNOWN",
        12: "JSON", 13: "BSON", 14: "UUID", 15: "FLOAT16", 16: "VARIANT", 17: "GEOMETRY", 18: "GEOGRAPHY",
    ]

    private static func decodeLogicalType(from reader: inout ThriftCompactReader) throws -> LogicalType {
        var result = LogicalType.none
        try reader.readStruct { reader, id, wire in
            switch id {
            case 1:
                try reader.skip(wire)
                result = .string
            case 8:
                try reader.expect(wire, .structure, field: id, in: "LogicalType")
                var utc = false
                var unit = TimeUnit.milliseconds
                try reader.readStruct { reader, id, wire in
                    switch id {
                    case 1: utc = try reader.readBool(wire, field: id, in: "TimestampType")
                    case 2:
                        try reader.expect(wire, .structure, field: id, in: "TimestampType")
                        try reader.readStruct { reader, id, wire in
                            switch id {
                            case 1: unit = .milliseconds
                            case 2: unit = .microseconds
                            case 3: unit = .nanoseconds
                            default: break
                            }
                            try reader.skip(wire)
                        }
                    default: try reader.skip(wire)
                    }
                }
                result = .timestamp(unit: unit, isAdjustedToUTC: utc)
            default:
                try reader.skip(wire)
                result = .other(logicalNames[id] ?? "LogicalType \(id)")
            }
        }
        return result
    }
}

/// The file footer (parquet.thrift's `FileMetaData`).
struct FileMetadata: Sendable {
    var version: Int32
    var schema: [SchemaElement]
    var numberOfRows: Int64
    var rowGroups: [RowGroupMetadata]
    var keyValueMetadata: [(key: String, value: String?)]
    var createdBy: String?
    /// Whether `column_orders` (TYPE_ORDER for every column) is present.
    var hasColumnOrders: Bool

    func encode() -> [UInt8] {
        var writer = ThriftCompactWriter()
        writer.beginStruct()
        writer.writeI32(field: 1, version)
        writer.beginList(field: 2, elementType: .structure, count: schema.count)
        for element in schema { element.encode(into: &writer) }
        writer.writeI64(field: 3, numberOfRows)
        writer.beginList(field: 4, elementType: .structure, count: rowGroups.count)
        for (ordinal, group) in rowGroups.enumerated() {
            // The ordinal is optional; past Int16.max it is left out rather than wrapped.
            group.encode(into: &writer, ordinal: Int16(exactly: ordinal) ?? -1)
        }
        if !keyValueMetadata.isEmpty {
            writer.beginList(field: 5, elementType: .structure, count: keyValueMetadata.count)
            for pair in keyValueMetadata {
                writer.beginStruct()
                writer.writeString(field: 1, pair.key)
                if let value = pair.value { writer.writeString(field: 2, value) }
                writer.endStruct()
            }
        }
        if let createdBy { writer.writeString(field: 6, createdBy) }
        if hasColumnOrders {
            let leaves = schema.count - 1
            writer.beginList(field: 7, elementType: .structure, count: leaves)
            for _ in 0..<leaves {
                writer.beginStruct()  // ColumnOrder union
                writer.beginStruct(field: 1)  // TYPE_ORDER: TypeDefinedOrder {}
                writer.endStruct()
                writer.endStruct()
            }
        }
        writer.endStruct()
        return writer.bytes
    }

    static func decode(from reader: inout ThriftCompactReader) throws -> FileMetadata {
        let name = "FileMetaData"
        var version: Int32?
        var schema: [SchemaElement] = []
        var numberOfRows: Int64?
        var rowGroups: [RowGroupMetadata] = []
        var keyValues: [(key: String, value: String?)] = []
        var createdBy: String?
        var hasColumnOrders = false
        try reader.readStruct { reader, id, wire in
            switch id {
            case 1: version = try reader.readI32(wire, field: id, in: name)
            case 2:
                try reader.readList(wire, field: id, in: name, elementType: .structure) {
                    schema.append(try SchemaElement.decode(from: &$0))
                }
            case 3: numberOfRows = try reader.readI64(wire, field: id, in: name)
            case 4:
                try reader.readList(wire, field: id, in: name, elementType: .structure) {
                    rowGroups.append(try RowGroupMetadata.decode(from: &$0))
                }
            case 5:
                try reader.readList(wire, field: id, in: name, elementType: .structure) { reader in
                    var key: String?
                    var value: String?
                    try reader.readStruct { reader, id, wire in
                        switch id {
                        case 1: key = try reader.readString(wire, field: id, in: "KeyValue")
                        case 2: value = try reader.readString(wire, field: id, in: "KeyValue")
                        default: try reader.skip(wire)
                        }
                    }
                    guard let key else { throw ParquetError.malformed("a KeyValue has no key") }
                    keyValues.append((key, value))
                }
            case 6: createdBy = try reader.readString(wire, field: id, in: name)
            case 7:
                hasColumnOrders = true
                try reader.skip(wire)
            default: try reader.skip(wire)
            }
        }
        guard let version, let numberOfRows else {
            throw ParquetError.malformed("the footer lacks version or num_rows")
        }
        return FileMetadata(
            version: version, schema: schema, numberOfRows: numberOfRows, rowGroups: rowGroups,
            keyValueMetadata: keyValues, createdBy: createdBy, hasColumnOrders: hasColumnOrders)
    }
}

/// The kinds of page (parquet.thrift's `PageType`).
enum PageType: Int32 {
    case dataPage = 0
    case indexPage = 1
    case dictionaryPage = 2
    case dataPageV2 = 3
}

/// A page header (parquet.thrift's `PageHeader` with its per-type headers flattened).
struct PageHeader {
    var type: Int32
    var uncompressedSize: Int32
    var compressedSize: Int32
    var crc: Int32?
    /// Number of values including nulls (data pages) or of dictionary entries (dictionary page).
    var numberOfValues: Int32 = 0
    var encoding: ParquetEncoding = .plain
    var definitionLevelEncoding: ParquetEncoding = .rle
    var repetitionLevelEncoding: ParquetEncoding = .rle
    var statistics: ParquetStatistics?
    // Data page v2 only.
    var numberOfNulls: Int32 = 0
    var numberOfRows: Int32 = 0
    var definitionLevelsByteLength: Int32 = 0
    var repetitionLevelsByteLength: Int32 = 0
    var isCompressed = true
    var hasTypeHeader = false

    /// Encodes a data page v1 or dictionary page header.
    func encode(into writer: inout ThriftCompactWriter) {
        writer.beginStruct()
        writer.writeI32(field: 1, type)
        writer.writeI32(field: 2, uncompressedSize)
        writer.writeI32(field: 3, compressedSize)
        if let crc { writer.writeI32(field: 4, crc) }
        if type == PageType.dictionaryPage.rawValue {
            writer.beginStruct(field: 7)
            writer.writeI32(field: 1, numberOfValues)
            writer.writeI32(field: 2, encoding.rawValue)
            writer.endStruct()
        } else {
            writer.beginStruct(field: 5)
            writer.writeI32(field: 1, numberOfValues)
            writer.writeI32(field: 2, encoding.rawValue)
            writer.writeI32(field: 3, definitionLevelEncoding.rawValue)
            writer.writeI32(field: 4, repetitionLevelEncoding.rawValue)
            if let statistics {
                writer.writeFieldHeader(5, .structure)
                statistics.encode(into: &writer)
            }
            writer.endStruct()
        }
        writer.endStruct()
    }

    /// Decodes a page header; page statistics are decoded when the column's `physicalType` is given.
    static func decode(from reader: inout ThriftCompactReader, physicalType: PhysicalType? = nil) throws -> PageHeader {
        let name = "PageHeader"
        var type: Int32?
        var uncompressed: Int32?
        var compressed: Int32?
        var header = PageHeader(type: 0, uncompressedSize: 0, compressedSize: 0)
        try reader.readStruct { reader, id, wire in
            switch id {
            case 1: type = try reader.readI32(wire, field: id, in: name)
            case 2: uncompressed = try reader.readI32(wire, field: id, in: name)
            case 3: compressed = try reader.readI32(wire, field: id, in: name)
            case 4: header.crc = try reader.readI32(wire, field: id, in: name)
            case 5:
                try reader.expect(wire, .structure, field: id, in: name)
                header.hasTypeHeader = true
                try reader.readStruct { reader, id, wire in
                    let name = "DataPageHeader"
                    switch id {
                    case 1: header.numberOfValues = try reader.readI32(wire, field: id, in: name)
                    case 2: header.encoding = ParquetEncoding(rawValue: try reader.readI32(wire, field: id, in: name))
                    case 3: header.definitionLevelEncoding = ParquetEncoding(rawValue: try reader.readI32(wire, field: id, in: name))
                    case 4: header.repetitionLevelEncoding = ParquetEncoding(rawValue: try reader.readI32(wire, field: id, in: name))
                    case 5 where physicalType != nil && wire == .structure:
                        header.statistics = try ParquetStatistics.decode(from: &reader, type: physicalType!)  // Safe: checked.
                    default: try reader.skip(wire)
                    }
                }
            case 7:
                try reader.expect(wire, .structure, field: id, in: name)
                header.hasTypeHeader = true
                try reader.readStruct { reader, id, wire in
                    let name = "DictionaryPageHeader"
                    switch id {
                    case 1: header.numberOfValues = try reader.readI32(wire, field: id, in: name)
                    case 2: header.encoding = ParquetEncoding(rawValue: try reader.readI32(wire, field: id, in: name))
                    default: try reader.skip(wire)
                    }
                }
            case 8:
                try reader.expect(wire, .structure, field: id, in: name)
                header.hasTypeHeader = true
                try reader.readStruct { reader, id, wire in
                    let name = "DataPageHeaderV2"
                    switch id {
                    case 1: header.numberOfValues = try reader.readI32(wire, field: id, in: name)
                    case 2: header.numberOfNulls = try reader.readI32(wire, field: id, in: name)
                    case 3: header.numberOfRows = try reader.readI32(wire, field: id, in: name)
                    case 4: header.encoding = ParquetEncoding(rawValue: try reader.readI32(wire, field: id, in: name))
                    case 5: header.definitionLevelsByteLength = try reader.readI32(wire, field: id, in: name)
                    case 6: header.repetitionLevelsByteLength = try reader.readI32(wire, field: id, in: name)
                    case 7: header.isCompressed = try reader.readBool(wire, field: id, in: name)
                    default: try reader.skip(wire)
                    }
                }
            default: try reader.skip(wire)
            }
        }
        guard let type, let uncompressed, let compressed else {
            throw ParquetError.malformed("a page header lacks its type or sizes")
        }
        guard uncompressed >= 0, compressed >= 0 else {
            throw ParquetError.malformed("a page header has a negative size (\(compressed) stored, \(uncompressed) uncompressed)")
        }
        header.type = type
        header.uncompressedSize = uncompressed
        header.compressedSize = compressed
        return header
    }
}
