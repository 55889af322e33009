/// The physical (storage) type of a Parquet column, with the raw values of parquet.thrift's `Type`.
///
/// The writer produces ``boolean``, ``int32``, ``int64`` and ``byteArray``; the reader reports the others in a schema
/// but refuses to decode them.
public enum PhysicalType: Int32, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case boolean = 0
    case int32 = 1
    case int64 = 2
    case int96 = 3
    case float = 4
    case double = 5
    case byteArray = 6
    case fixedLengthByteArray = 7

    public var description: String {
        switch self {
        case .boolean: "BOOLEAN"
        case .int32: "INT32"
        case .int64: "INT64"
        case .int96: "INT96"
        case .float: "FLOAT"
        case .double: "DOUBLE"
        case .byteArray: "BYTE_ARRAY"
        case .fixedLengthByteArray: "FIXED_LEN_BYTE_ARRAY"
        }
    }
}

/// The unit of a ``LogicalType/timestamp(unit:isAdjustedToUTC:)`` column.
public enum TimeUnit: Sendable, Hashable, CustomStringConvertible {
    case milliseconds, microseconds, nanoseconds

    public var description: String {
        switch self {
        case .milliseconds: "MILLIS"
        case .microseconds: "MICROS"
        case .nanoseconds: "NANOS"
        }
    }
}

/// How the values of a column are to be interpreted.
public enum LogicalType: Sendable, Hashable, CustomStringConvertible {
    /// No annotation: the physical type as is.
    case none
    /// UTF-8 text in a BYTE_ARRAY column (written with ConvertedType UTF8 too).
    case string
    /// A point in time as a count of `unit` since the Unix epoch in an INT64 column.
    case timestamp(unit: TimeUnit, isAdjustedToUTC: Bool)
    /// An annotation this module reads past but does not interpret, e.g. `"INTEGER(8, signed)"` or `"DATE"`.
    case other(String)

    /// The timestamp type klogs writes: milliseconds, adjusted to UTC.
    public static let timestampMillisecondsUTC = LogicalType.timestamp(unit: .milliseconds, isAdjustedToUTC: true)

    public var description: String {
        switch self {
        case .none: "none"
        case .string: "STRING"
        case .timestamp(let unit, let utc): "TIMESTAMP(\(unit), \(utc ? "UTC" : "local"))"
        case .other(let text): text
        }
    }
}

/// One leaf column of a flat Parquet schema.
public struct ParquetColumn: Sendable, Hashable, CustomStringConvertible {
    /// The column name (the path in the schema, as the schema is flat).
    public var name: String
    /// The storage type.
    public var type: PhysicalType
    /// The interpretation of the stored values.
    public var logical: LogicalType
    /// Whether the column may hold nulls (repetition OPTIONAL) rather than never (REQUIRED).
    public var isOptional: Bool

    /// Creates a column description.
    public init(name: String, type: PhysicalType, logical: LogicalType = .none, isOptional: Bool = false) {
        self.name = name
        self.type = type
        self.logical = logical
        self.isOptional = isOptional
    }

    /// A required or optional UTF-8 string column.
    public static func string(_ name: String, optional: Bool = false) -> ParquetColumn {
        ParquetColumn(name: name, type: .byteArray, logical: .string, isOptional: optional)
    }

    /// A timestamp column of milliseconds since the epoch, UTC.
    public static func timestampMilliseconds(_ name: String, optional: Bool = false) -> ParquetColumn {
        ParquetColumn(name: name, type: .int64, logical: .timestampMillisecondsUTC, isOptional: optional)
    }

    public var description: String {
        "\(name) \(isOptional ? "OPTIONAL" : "REQUIRED") \(type)\(logical == .none ? "" : " \(logical)")"
    }
}

/// A flat schema: a root with leaf columns only.
public struct ParquetSchema: Sendable, Hashable {
    /// The leaf columns in file order.
    public var columns: [ParquetColumn]

    /// Creates a schema from its columns.
    public init(columns: [ParquetColumn]) {
        self.columns = columns
    }

    /// The index of the column with this name, if any.
    public func index(of name: String) -> Int? {
        columns.firstIndex { $0.name == name }
    }
}

/// A compression codec, with the raw values of parquet.thrift's `CompressionCodec`.
///
/// A struct rather than an enum so a file naming a codec this module does not know can still be described.
public struct ParquetCodec: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let uncompressed = ParquetCodec(rawValue: 0)
    public static let snappy = ParquetCodec(rawValue: 1)
    public static let gzip = ParquetCodec(rawValue: 2)
    public static let lzo = ParquetCodec(rawValue: 3)
    public static let brotli = ParquetCodec(rawValue: 4)
    public static let lz4Hadoop = ParquetCodec(rawValue: 5)
    public static let zstd = ParquetCodec(rawValue: 6)
    public static let lz4Raw = ParquetCodec(rawValue: 7)

    public var description: String {
        switch rawValue {
        case 0: "UNCOMPRESSED"
        case 1: "SNAPPY"
        case 2: "GZIP"
        case 3: "LZO"
        case 4: "BROTLI"
        case 5: "LZ4"
        case 6: "ZSTD"
        case 7: "LZ4_RAW"
        default: "codec \(rawValue)"
        }
    }
}

/// A page or level encoding, with the raw values of parquet.thrift's `Encoding`.
public struct ParquetEncoding: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let plain = ParquetEncoding(rawValue: 0)
    public static let plainDictionary = ParquetEncoding(rawValue: 2)
    public static let rle = ParquetEncoding(rawValue: 3)
    public static let bitPacked = ParquetEncoding(rawValue: 4)
    public static let deltaBinaryPacked = ParquetEncoding(rawValue: 5)
    public static let deltaLengthByteArray = ParquetEncoding(rawValue: 6)
    public static let deltaByteArray = ParquetEncoding(rawValue: 7)
    public static let rleDictionary = ParquetEncoding(rawValue: 8)
    public static let byteStreamSplit = ParquetEncoding(rawValue: 9)

    public var description: String {
        switch rawValue {
        case 0: "PLAIN"
        case 2: "PLAIN_DICTIONARY"
        case 3: "RLE"
        case 4: "BIT_PACKED"
        case 5: "DELTA_BINARY_PACKED"
        case 6: "DELTA_LENGTH_BYTE_ARRAY"
        case 7: "DELTA_BYTE_ARRAY"
        case 8: "RLE_DICTIONARY"
        case 9: "BYTE_STREAM_SPLIT"
        default: "encoding \(rawValue)"
        }
    }
}
