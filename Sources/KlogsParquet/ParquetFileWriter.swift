/// Writes a Parquet file: the magic, one row group per call, then the footer on ``close()``.
///
/// The writer only concatenates chunks and records their offsets; encoding and compression happen in
/// ``ColumnChunkEncoder``, which a caller may run on several threads and hand over with ``appendRowGroup(_:)``.
///
/// ```swift
/// let schema = ParquetSchema(columns: [.timestampMilliseconds("ts"), .string("path"), ParquetColumn(name: "status", type: .int32)])
/// let writer = try ParquetFileWriter(output: InMemoryOutput(), schema: schema, options: ParquetWriterOptions(createdBy: "klogs version 0.1.0"))
/// try writer.writeRowGroup([.int64(times, validity: nil), .dictionaryStrings(dictionary: paths, indices: ids), .int32(statuses, validity: nil)])
/// try writer.close()
/// let bytes = writer.output.bytes
/// ```
public final class ParquetFileWriter<Output: ParquetOutput> {
    /// The destination; after ``close()`` it holds the whole file.
    public private(set) var output: Output
    /// The file's schema.
    public let schema: ParquetSchema
    /// The options given at creation.
    public let options: ParquetWriterOptions
    private var encoder: ColumnChunkEncoder
    private var rowGroups: [RowGroupMetadata] = []
    /// The rows written so far, in all row groups.
    public private(set) var numberOfRows: Int64 = 0
    /// The row groups written so far.
    public var numberOfRowGroups: Int { rowGroups.count }

    private enum State { case open, closed, failed }
    private var state = State.open

    /// The magic at both ends of every Parquet file.
    static var magic: [UInt8] { Array("PAR1".utf8) }

    /// Creates a writer and writes the leading magic.
    ///
    /// - Throws: ``ParquetError`` of kind `invalidArgument` for a schema the writer cannot write (duplicate or empty
    ///   names, unsupported types, a logical type that does not fit its physical type), or an output error.
    public init(output: Output, schema: ParquetSchema, options: ParquetWriterOptions = ParquetWriterOptions()) throws {
        try options.validate()
        try Self.validate(schema)
        self.output = output
        self.schema = schema
        self.options = options
        self.encoder = ColumnChunkEncoder(options: options)
        try write(Self.magic)
    }

    private static func validate(_ schema: ParquetSchema) throws {
        guard !schema.columns.isEmpty else {
            throw ParquetError.invalidArgument("a Parquet schema needs at least one column")
        }
        var seen = Set<String>()
        for column in schema.columns {
            guard !column.name.isEmpty else { throw ParquetError.invalidArgument("a column has an empty name") }
            guard seen.insert(column.name).inserted else {
                throw ParquetError.invalidArgument("column name '\(column.name)' appears twice in the schema")
            }
            switch column.type {
            case .boolean, .int32, .int64, .byteArray: break
            default:
                throw ParquetError.invalidArgument(
                    "column '\(column.name)' has type \(column.type); the writer supports BOOLEAN, INT32, INT64 and BYTE_ARRAY")
            }
            switch (column.logical, column.type) {
            case (.none, _), (.string, .byteArray), (.timestamp, .int64): break
            default:
                throw ParquetError.invalidArgument(
                    "column '\(column.name)' cannot be \(column.logical) on \(column.type); STRING needs BYTE_ARRAY and TIMESTAMP needs INT64")
            }
        }
    }

    private func checkOpen() throws {
        switch state {
        case .open: return
        case .closed: throw ParquetError(.invalidState, "the Parquet writer is already closed")
        case .failed: throw ParquetError(.invalidState, "the Parquet writer failed earlier; its output is incomplete")
        }
    }

    private func write(_ bytes: [UInt8]) throws {
        do {
            try bytes.withUnsafeBytes { try output.write($0) }
        } catch {
            state = .failed
            throw error
        }
    }

    /// Encodes and writes one row group.
    ///
    /// - Parameter columns: one ``ColumnValues`` per schema column, in schema order, all with the same row count.
    ///   A row group of zero rows is skipped.
    /// - Throws: ``ParquetError`` when the values do not fit the schema (nothing is written then) or the output fails.
    /// - Complexity: O(rows × columns + string bytes).
    public func writeRowGroup(_ columns: [ColumnValues]) throws {
        try checkOpen()
        try checkShape(columns.count, columns.first?.count ?? 0, columns.map(\.count))
        var chunks: [EncodedColumnChunk] = []
        chunks.reserveCapacity(columns.count)
        for (index, values) in columns.enumerated() {
            chunks.append(try encoder.encode(values, column: schema.columns[index]))
        }
        try appendRowGroup(chunks)
    }

    private func checkShape(_ columnCount: Int, _ rows: Int, _ counts: [Int]) throws {
        guard columnCount == schema.columns.count else {
            throw ParquetError.invalidArgument(
                "a row group has \(columnCount) columns but the schema has \(schema.columns.count)")
        }
        for (index, count) in counts.enumerated() where count != rows {
            throw ParquetError.invalidArgument(
                "column '\(schema.columns[index].name)' has \(count) rows but column '\(schema.columns[0].name)' has \(rows)")
        }
    }

    /// Writes a row group of chunks already encoded by a ``ColumnChunkEncoder`` (possibly on other threads).
    ///
    /// - Parameter chunks: one chunk per schema column, in schema order, encoded for the same columns.
    public func appendRowGroup(_ chunks: [EncodedColumnChunk]) throws {
        try checkOpen()
        let rows = chunks.first.map { Int($0.numberOfValues) } ?? 0
        try checkShape(chunks.count, rows, chunks.map { Int($0.numberOfValues) })
        for (index, chunk) in chunks.enumerated() where chunk.column != schema.columns[index] {
            throw ParquetError.invalidArgument(
                "chunk \(index) was encoded for column '\(chunk.column.name)' but the schema has '\(schema.columns[index].name)' there")
        }
        guard rows > 0 else { return }
        let groupStart = output.position
        var metadata: [ColumnChunkMetadata] = []
        var uncompressed: Int64 = 0
        var compressed: Int64 = 0
        for chunk in chunks {
            metadata.append(chunk.metadata(at: output.position))
            uncompressed += chunk.totalUncompressedSize
            compressed += Int64(chunk.bytes.count)
            try write(chunk.bytes)
        }
        rowGroups.append(
            RowGroupMetadata(
                columns: metadata, totalByteSize: uncompressed, numberOfRows: Int64(rows), fileOffset: groupStart,
                totalCompressedSize: compressed))
        numberOfRows += Int64(rows)
    }

    /// Writes the footer and the trailing magic, then flushes the output. The writer cannot be used afterwards.
    public func close() throws {
        try checkOpen()
        var elements = [SchemaElement(name: "schema", numberOfChildren: Int32(schema.columns.count))]
        for column in schema.columns {
            var element = SchemaElement(
                type: column.type,
                repetition: column.isOptional ? SchemaElement.repetitionOptional : SchemaElement.repetitionRequired,
                name: column.name)
            element.logical = column.logical
            switch column.logical {
            case .string: element.convertedType = SchemaElement.convertedUTF8
            case .timestamp(.milliseconds, _): element.convertedType = SchemaElement.convertedTimestampMillis
            case .timestamp(.microseconds, _): element.convertedType = SchemaElement.convertedTimestampMicros
            default: break
            }
            elements.append(element)
        }
        let footer = FileMetadata(
            version: 1, schema: elements, numberOfRows: numberOfRows, rowGroups: rowGroups,
            keyValueMetadata: options.keyValueMetadata.map { ($0.key, $0.value) }, createdBy: options.createdBy,
            hasColumnOrders: true
        ).encode()
        try write(footer)
        let length = UInt32(footer.count)
        try write((0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * UInt32($0))) } + Self.magic)
        do {
            try output.flush()
        } catch {
            state = .failed
            throw error
        }
        state = .closed
    }
}
