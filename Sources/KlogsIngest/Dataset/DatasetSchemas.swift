import KlogsCore
import KlogsParquet

/// The two datasets klogs writes, and their Parquet schemas (see docs/SCHEMA.md).
public enum DatasetName: String, Sendable, CaseIterable {
    case events
    case hits

    /// The schema version recorded in every file as `klogs.schema_version`.
    ///
    /// Version 2 added the `kind` column, last in both datasets; readers take files of version 1 (without it) as
    /// holding a null `kind` (see ``readColumnOrNull(_:rowGroup:named:)``).
    public static let schemaVersion = "2"

    /// The columns added after version 1, each last in its schema: a file may lack them.
    public static let addedColumns: Set<String> = ["kind"]

    /// The `kind` column's dictionary, in `RequestCategory` raw-value order.
    static let kindDictionary = StringColumn(RequestCategory.allCases.map(\.name))

    /// Whether a file with these column names belongs to this dataset: the current schema, or an older version
    /// that lacks some of the ``addedColumns`` at its end.
    public func accepts(columnNames names: [String]) -> Bool {
        let current = schema.columns.map(\.name)
        return names == current || names == current.filter { !Self.addedColumns.contains($0) }
    }

    /// Reads a column of a row group by name; a column of ``addedColumns`` that an older file lacks reads as all
    /// null, typed as the current schema types it.
    ///
    /// - Throws: what the reader throws (a damaged file, or a missing column that is not an added one).
    public func readColumnOrNull(_ reader: ParquetFileReader, rowGroup: Int, named name: String) throws
        -> ColumnValues
    {
        if reader.schema.index(of: name) == nil, Self.addedColumns.contains(name) {
            let rows = Int(reader.rowGroups[rowGroup].numberOfRows)
            return .dictionaryStrings(dictionary: StringColumn(), indices: Array(repeating: -1, count: rows))
        }
        return try reader.readColumn(rowGroup: rowGroup, named: name)
    }

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
        ParquetColumn(name: "kind", type: .byteArray, logical: .string, isOptional: true),
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
        ParquetColumn(name: "kind", type: .byteArray, logical: .string, isOptional: true),
    ])
}
