#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a flat Parquet file held in memory: its footer on creation, any column chunk on demand.
///
/// Every length and offset in the file is checked before use, so a damaged or hostile file makes it throw a
/// ``ParquetError`` and never crash or allocate beyond what the file's size can justify: a page may not claim to
/// expand more than 256-fold, and a row group may not claim more than max(2^20, 128 × file size) rows.
///
/// ```swift
/// let reader = try ParquetFileReader(path: "events/date=2026-11-21/part-0.parquet")
/// for group in reader.rowGroups.indices {
///     let paths = try reader.readColumn(rowGroup: group, column: reader.schema.index(of: "path")!)
/// }
/// ```
public struct ParquetFileReader: Sendable {
    /// The file's name in error messages.
    public let name: String
    /// The leaf columns.
    public let schema: ParquetSchema
    /// The number of rows in all row groups.
    public let numberOfRows: Int64
    /// The row groups, each with one chunk per column.
    public let rowGroups: [RowGroupMetadata]
    /// The footer's key-value metadata, in file order.
    public let keyValueMetadata: [(key: String, value: String?)]
    /// The footer's `created_by`.
    public let createdBy: String?
    /// The footer's format version.
    public let version: Int32
    /// Whether the footer declares `column_orders`.
    public let hasColumnOrders: Bool

    private let bytes: [UInt8]
    /// The offset of the footer: no page may reach past it.
    private let footerStart: Int

    /// Opens and reads a file from disk.
    ///
    /// - Throws: ``ParquetError`` of kind `io` when the file cannot be read, otherwise as ``init(bytes:name:)``.
    public init(path: String) throws {
        try self.init(bytes: try Self.readFile(path), name: path)
    }

    /// Parses the footer of a file held in memory.
    ///
    /// - Throws: ``ParquetError`` of kind `malformedFile` when the magic, the footer length or the footer is invalid,
    ///   and of kind `unsupported` for encrypted files or nested schemas.
    public init(bytes: [UInt8], name: String = "in-memory Parquet file") throws {
        self.name = name
        self.bytes = bytes
        func malformed(_ message: String) -> ParquetError { ParquetError.malformed("\(name): \(message)") }
        let size = bytes.count
        guard size >= 12 else {
            throw malformed("the file has \(size) bytes, fewer than the 12 of the smallest Parquet file; it may be truncated")
        }
        let magic = ParquetFileWriter<InMemoryOutput>.magic
        guard Array(bytes[0..<4]) == magic else { throw malformed("the file does not start with the Parquet magic PAR1") }
        let tail = Array(bytes[(size - 4)..<size])
        if tail == Array("PARE".utf8) {
            throw ParquetError.unsupported("\(name): the file is encrypted (PARE), which klogs cannot read")
        }
        guard tail == magic else {
            throw malformed("the file does not end with the Parquet magic PAR1; it may be truncated or still being written")
        }
        var footerLength = 0
        for index in 0..<4 { footerLength |= Int(bytes[size - 8 + index]) << (8 * index) }
        guard footerLength > 0 && footerLength <= size - 12 else {
            throw malformed("the footer length \(footerLength) does not fit in a file of \(size) bytes")
        }
        footerStart = size - 8 - footerLength
        var reader = ThriftCompactReader(bytes, range: footerStart..<(size - 8))
        let metadata: FileMetadata
        do {
            metadata = try FileMetadata.decode(from: &reader)
        } catch let error as ParquetError {
            throw error.located("\(name): footer at byte \(footerStart)")
        }
        version = metadata.version
        createdBy = metadata.createdBy
        keyValueMetadata = metadata.keyValueMetadata
        hasColumnOrders = metadata.hasColumnOrders
        guard metadata.numberOfRows >= 0 else { throw malformed("the footer has a negative row count") }
        numberOfRows = metadata.numberOfRows
        schema = try Self.flatSchema(metadata.schema, name: name)

        var total: Int64 = 0
        for (index, group) in metadata.rowGroups.enumerated() {
            guard group.columns.count == schema.columns.count else {
                throw malformed("row group \(index) has \(group.columns.count) column chunks for \(schema.columns.count) columns")
            }
            let (sum, overflow) = total.addingReportingOverflow(group.numberOfRows)
            guard !overflow else { throw malformed("the row groups' row counts overflow") }
            total = sum
        }
        guard total == numberOfRows else {
            throw malformed("the row groups hold \(total) rows but the footer says \(numberOfRows)")
        }
        rowGroups = metadata.rowGroups
    }

    private static func flatSchema(_ elements: [SchemaElement], name: String) throws -> ParquetSchema {
        guard let root = elements.first else { throw ParquetError.malformed("\(name): the schema is empty") }
        let leaves = elements.dropFirst()
        guard Int(root.numberOfChildren ?? 0) == leaves.count else {
            if let group = leaves.first(where: { ($0.numberOfChildren ?? 0) > 0 || $0.type == nil }) {
                throw ParquetError.unsupported(
                    "\(name): column '\(group.name)' is a nested group; klogs reads flat schemas only")
            }
            throw ParquetError.malformed(
                "\(name): the schema root has \(root.numberOfChildren ?? 0) children but \(leaves.count) elements follow")
        }
        var columns: [ParquetColumn] = []
        for element in leaves {
            guard (element.numberOfChildren ?? 0) == 0, let type = element.type else {
                throw ParquetError.unsupported(
                    "\(name): column '\(element.name)' is a nested group; klogs reads flat schemas only")
            }
            switch element.repetition ?? SchemaElement.repetitionOptional {
            case SchemaElement.repetitionRequired, SchemaElement.repetitionOptional: break
            case SchemaElement.repetitionRepeated:
                throw ParquetError.unsupported(
                    "\(name): column '\(element.name)' is REPEATED; klogs reads flat schemas only")
            default:
                throw ParquetError.malformed("\(name): column '\(element.name)' has unknown repetition \(element.repetition!)")
            }
            columns.append(
                ParquetColumn(
                    name: element.name, type: type, logical: element.logical,
                    isOptional: element.repetition != SchemaElement.repetitionRequired))
        }
        return ParquetSchema(columns: columns)
    }

    /// The value of a key-value metadata entry, if present.
    public func metadataValue(forKey key: String) -> String? {
        keyValueMetadata.first { $0.key == key }?.value
    }

    /// Decodes one column chunk.
    ///
    /// String columns come back as ``ColumnValues/dictionaryStrings(dictionary:indices:)`` when every data page is
    /// dictionary-encoded (the file's dictionary, no re-hashing), otherwise as ``ColumnValues/strings(_:)``.
    /// Validity is nil when the chunk has no nulls.
    ///
    /// - Throws: ``ParquetError`` naming the file, row group and column: `invalidArgument` for indices out of range,
    ///   `unsupported` for types, codecs or encodings this module does not decode, `malformedFile` for damage.
    /// - Parameter verifyingChecksums: whether pages that carry a CRC-32 are checked against it (on by default).
    public func readColumn(rowGroup: Int, column: Int, verifyingChecksums: Bool = true) throws -> ColumnValues {
        guard rowGroups.indices.contains(rowGroup) else {
            throw ParquetError.invalidArgument("\(name): row group \(rowGroup) does not exist; the file has \(rowGroups.count)")
        }
        guard schema.columns.indices.contains(column) else {
            throw ParquetError.invalidArgument("\(name): column \(column) does not exist; the file has \(schema.columns.count)")
        }
        let location = "\(name), row group \(rowGroup), column '\(schema.columns[column].name)'"
        do {
            var decoder = ColumnChunkDecoder(
                file: bytes, limit: footerStart, column: schema.columns[column],
                chunk: rowGroups[rowGroup].columns[column], rows: rowGroups[rowGroup].numberOfRows,
                verifiesChecksums: verifyingChecksums)
            return try decoder.decode()
        } catch let error as ParquetError {
            throw error.located(location)
        }
    }

    /// Decodes every column of a row group, in schema order.
    public func readRowGroup(_ rowGroup: Int, verifyingChecksums: Bool = true) throws -> [ColumnValues] {
        try schema.columns.indices.map {
            try readColumn(rowGroup: rowGroup, column: $0, verifyingChecksums: verifyingChecksums)
        }
    }

    /// Decodes a column chunk by name.
    public func readColumn(rowGroup: Int, named columnName: String, verifyingChecksums: Bool = true) throws -> ColumnValues {
        guard let index = schema.index(of: columnName) else {
            throw ParquetError.invalidArgument("\(name): there is no column '\(columnName)'")
        }
        return try readColumn(rowGroup: rowGroup, column: index, verifyingChecksums: verifyingChecksums)
    }

    /// Reads a whole file with `read(2)`.
    static func readFile(_ path: String) throws -> [UInt8] {
        func failure(_ what: String) -> ParquetError {
            let code = errno
            return ParquetError(.io, "\(path): \(what) failed: \(String(cString: strerror(code))) (errno \(code))")
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("opening the file") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw failure("fstat") }
        let size = Int(status.st_size)
        guard size >= 0 else { throw ParquetError(.io, "\(path): the file reports a negative size") }
        var bytes = [UInt8](repeating: 0, count: size)
        var offset = 0
        while offset < size {
            let count = bytes.withUnsafeMutableBytes { buffer in
                // Safe because offset < size == buffer.count.
                read(descriptor, buffer.baseAddress! + offset, size - offset)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("reading at byte \(offset)")
            }
            if count == 0 {
                throw ParquetError(.io, "\(path): the file shrank to \(offset) bytes while being read")
            }
            offset += count
        }
        return bytes
    }
}
