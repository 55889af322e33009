import KlogsParquet

/// The two datasets klogs writes, and their Parquet schemas (see docs/SCHEMA.md).
public enum DatasetName: String, Sendable, CaseIterable {
    case events
    case hits

    /// The schema version recorded in every file as `klogs.schema_version`.
    public static let schemaVersion = "1"

    /// The columns of the dataset, in file order.
    public var schema: ParquetSchema {
        switch self {
        case .events: Self.eventsSchema
        case .hits: Self.hitsSchema
        }
    }

    private static let eventsSchema = ParquetSchema(columns: [
        ParquetColumn(name: "ts", type: .int64, logical: .timestampMillisecondsUTC, isOptional: false),
        ParquetColumn(name: "visitor", type: .int64, logical: .none, isOptional: true),
        ParquetColumn(name: "client_net", type: .byteArray, logical: .string, isOptional: true),
        ParquetColumn(name: "vhost", type: .byteArray, logical: .string, isOptional: true),
        ParquetColumn(name: "method", type: .byteArray, logical: .string, isOptional: false),
        ParquetColumn(name: "path", type: .byteArray, logical: .string, isOptional: false),
        ParquetColumn(name: "status", type: .int32, logical: .none, isOptional: false),
        ParquetColumn(name: "bytes", type: .int64, logical: .none, isOptional: false),
        ParquetColumn(name: "referrer_host", type: .byteArray, logical: .string, isOptional: true),
        ParquetColumn(name: "browser", type: .byteArray, logical: .string, isOptional: false),
        ParquetColumn(name: "browser_major", type: .byteArray, logical: .string, isOptional: true),
        ParquetColumn(name: "os", type: .byteArray, logical: .string, isOptional: false),
        ParquetColumn(name: "os_major", type: .byteArray, logical: .string, isOptional: true),
        ParquetColumn(name: "device", type: .byteArray, logical: .string, isOptional: false),
        ParquetColumn(name: "is_bot", type: .boolean, logical: .none, isOptional: false),
    ])

    private static let hitsSchema = ParquetSchema(columns: [
        ParquetColumn(name: "hour", type: .int64, logical: .timestampMillisecondsUTC, isOptional: false),
        ParquetColumn(name: "vhost", type: .byteArray, logical: .string, isOptional: true),
        ParquetColumn(name: "path", type: .byteArray, logical: .string, isOptional: false),
        ParquetColumn(name: "status", type: .int32, logical: .none, isOptional: false),
        ParquetColumn(name: "browser", type: .byteArray, logical: .string, isOptional: false),
        ParquetColumn(name: "os", type: .byteArray, logical: .string, isOptional: false),
        ParquetColumn(name: "device", type: .byteArray, logical: .string, isOptional: false),
        ParquetColumn(name: "is_bot", type: .boolean, logical: .none, isOptional: false),
        ParquetColumn(name: "hits", type: .int64, logical: .none, isOptional: false),
        ParquetColumn(name: "bytes", type: .int64, logical: .none, isOptional: false),
    ])
}
