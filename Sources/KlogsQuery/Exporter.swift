import KlogsCore
import KlogsIngest
import KlogsParquet

/// Writes every row of one dataset in a time range, as CSV, JSON lines or one Parquet file.
///
/// Meant for access requests: nothing is filtered or aggregated, bots included. Timestamps are written as
/// `2026-11-01T13:04:05.123Z`, nulls as empty CSV fields and JSON `null`, booleans as `true`/`false`.
///
/// ```swift
/// let exporter = Exporter(dataDirectory: "./klogs-data", dataset: .events, range: range, format: .jsonLines)
/// let rows = try exporter.write(toFileDescriptor: 1, name: "standard output")
/// ```
public struct Exporter {
    /// The export formats.
    public enum Format: String, Sendable, CaseIterable {
        case csv
        case jsonLines = "jsonl"
        case parquet
    }

    public var dataDirectory: String
    public var dataset: DatasetName
    public var range: TimeRange
    public var format: Format

    public init(dataDirectory: String, dataset: DatasetName, range: TimeRange, format: Format) {
        self.dataDirectory = dataDirectory
        self.dataset = dataset
        self.range = range
        self.format = format
    }

    /// Writes the export to an open descriptor and returns the number of rows written.
    ///
    /// - Throws: ``QueryError`` of kind `unreadable` for a damaged file, `output` when writing fails.
    @discardableResult
    public func write(toFileDescriptor descriptor: Int32, name: String) throws -> Int {
        let schema = dataset.schema
        var output = FileDescriptorOutput(fileDescriptor: descriptor, path: name)
        var parquetWriter: ParquetFileWriter<FileDescriptorOutput>?
        var text: [UInt8] = []
        var rows = 0
        let timeColumn = dataset == .events ? "ts" : "hour"

        func flushText(force: Bool) throws {
            guard force || text.count >= 1 << 20 else { return }
            do {
                try text.withUnsafeBytes { try output.write($0) }
                if force { try output.flush() }
            } catch {
                throw QueryError(.output, "\(error)")
            }
            text.removeAll(keepingCapacity: true)
        }

        if format == .csv {
            text.append(contentsOf: schema.columns.map(\.name).joined(separator: ",").utf8)
            text.append(10)
        }
        let files = DatasetFiles(dataDirectory: dataDirectory, dataset: dataset)
        for partition in files.partitions(in: range) {
            for path in DatasetFiles.files(in: partition) {
                let reader: ParquetFileReader
                do { reader = try ParquetFileReader(path: path) } catch { throw QueryError(.unreadable, "\(error)") }
                if format == .parquet && parquetWriter == nil {
                    var options = ParquetWriterOptions(createdBy: KlogsVersion.description)
                    options.keyValueMetadata = [
                        ("klogs.version", KlogsVersion.number), ("klogs.schema_version", DatasetName.schemaVersion),
                        ("klogs.dataset", dataset.rawValue),
                    ]
                    if let mode = reader.metadataValue(forKey: "klogs.ip_mode") {
                        options.keyValueMetadata.append(("klogs.ip_mode", mode))
                    }
                    do {
                        parquetWriter = try ParquetFileWriter(output: output, schema: schema, options: options)
                    } catch { throw QueryError(.output, "\(error)") }
                }
                for group in reader.rowGroups.indices {
                    let columns: [ColumnValues]
                    do {
                        columns = try schema.columns.map {
                            try dataset.readColumnOrNull(reader, rowGroup: group, named: $0.name)
                        }
                    } catch { throw QueryError(.unreadable, "\(error)") }
                    guard
                        case .int64(let times, _)? = schema.columns.firstIndex(where: { $0.name == timeColumn }).map({
                            columns[$0]
                        })
                    else { continue }
                    let selected = times.indices.filter { times[$0] >= range.start && times[$0] < range.end }
                    guard !selected.isEmpty else { continue }
                    rows += selected.count
                    switch format {
                    case .parquet:
                        let subset =
                            selected.count == times.count ? columns : columns.map { Self.select($0, rows: selected) }
                        do { try parquetWriter?.writeRowGroup(subset) } catch { throw QueryError(.output, "\(error)") }
                    case .csv, .jsonLines:
                        for row in selected {
                            appendRow(row, columns, schema, to: &text)
                            try flushText(force: false)
                        }
                    }
                }
            }
        }
        if format == .parquet {
            if parquetWriter == nil {
                do { parquetWriter = try ParquetFileWriter(output: output, schema: schema) } catch {
                    throw QueryError(.output, "\(error)")
                }
            }
            do { try parquetWriter?.close() } catch { throw QueryError(.output, "\(error)") }
        } else {
            try flushText(force: true)
        }
        return rows
    }

    private func appendRow(_ row: Int, _ columns: [ColumnValues], _ schema: ParquetSchema, to text: inout [UInt8]) {
        let json = format == .jsonLines
        if json { text.append(UInt8(ascii: "{")) }
        for (index, column) in schema.columns.enumerated() {
            if index > 0 { text.append(UInt8(ascii: ",")) }
            if json { text.append(contentsOf: "\"\(column.name)\":".utf8) }
            let values = columns[index]
            guard values.isPresent(row) else {
                if json { text.append(contentsOf: "null".utf8) }
                continue
            }
            switch values {
            case .boolean(let booleans, _): text.append(contentsOf: (booleans[row] ? "true" : "false").utf8)
            case .int32(let numbers, _): text.append(contentsOf: String(numbers[row]).utf8)
            case .int64(let numbers, _):
                if case .timestamp = column.logical {
                    let stamp = Self.timestamp(numbers[row])
                    text.append(contentsOf: (json ? "\"\(stamp)\"" : stamp).utf8)
                } else {
                    text.append(contentsOf: String(numbers[row]).utf8)
                }
            case .strings, .dictionaryStrings, .keyedDictionaryStrings:
                let value = values.string(at: row) ?? ""
                text.append(contentsOf: (json ? QueryRenderer.jsonString(value) : QueryRenderer.csvField(value)).utf8)
            }
        }
        if json { text.append(UInt8(ascii: "}")) }
        text.append(10)
    }

    /// `2026-11-01T13:04:05.123Z`.
    static func timestamp(_ milliseconds: Int64) -> String {
        let seconds = QueryValueFormat.dateTime(milliseconds - ((milliseconds % 1000) + 1000) % 1000)
        let fraction = ((milliseconds % 1000) + 1000) % 1000
        let digits = String(fraction)
        return seconds.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }

    /// The given rows of a column.
    static func select(_ values: ColumnValues, rows: [Int]) -> ColumnValues {
        switch values {
        case .boolean(let items, let validity):
            .boolean(rows.map { items[$0] }, validity: validity.map { v in rows.map { v[$0] } })
        case .int32(let items, let validity):
            .int32(rows.map { items[$0] }, validity: validity.map { v in rows.map { v[$0] } })
        case .int64(let items, let validity):
            .int64(rows.map { items[$0] }, validity: validity.map { v in rows.map { v[$0] } })
        case .dictionaryStrings(let dictionary, let indices):
            .dictionaryStrings(dictionary: dictionary, indices: rows.map { indices[$0] })
        case .strings(let column):
            .strings(StringColumn(rows.map { column.string(at: $0) }))
        case .keyedDictionaryStrings:
            select(values.resolvingKeys, rows: rows)
        }
    }
}
