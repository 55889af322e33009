/// How a ``ParquetFileWriter`` lays out and compresses pages, and what it records in the footer.
public struct ParquetWriterOptions: Sendable {
    /// The page codec; LZ4_RAW by default.
    public var compression: ParquetCompression
    /// The target uncompressed size of a data page in bytes (a page ends at the first row past it).
    public var dataPageSize: Int
    /// The most rows a data page holds, whatever its size (20,000 like Arrow, so readers can skip pages finely).
    public var dataPageRowLimit: Int
    /// The largest dictionary page, in PLAIN bytes, before a string column chunk falls back to PLAIN data pages.
    public var dictionaryPageLimit: Int
    /// Whether ``ColumnValues/strings(_:)`` columns are dictionary-encoded (hashing every value) rather than PLAIN.
    public var dictionaryEncodesPlainStrings: Bool
    /// Whether data page headers carry their page's statistics (null count, min and max) besides the chunk's.
    public var writesPageStatistics: Bool
    /// Whether every page header carries the CRC-32 of the page's stored bytes (readers may verify it).
    public var writesPageChecksums: Bool
    /// Whether INT32 and INT64 chunks are written in the smallest of PLAIN, a dictionary and DELTA_BINARY_PACKED
    /// (see `IntegerEncodingChoice`), rather than always PLAIN.
    public var encodesIntegersCompactly = true
    /// The footer's `created_by`, e.g. `"klogs version 0.1.0 (build abc123)"`.
    public var createdBy: String
    /// The footer's key-value metadata, in order.
    public var keyValueMetadata: [(key: String, value: String)]

    /// Creates options; every parameter has the default klogs uses.
    public init(
        compression: ParquetCompression = .lz4Raw,
        dataPageSize: Int = 1 << 20,
        dataPageRowLimit: Int = 20_000,
        dictionaryPageLimit: Int = 1 << 20,
        dictionaryEncodesPlainStrings: Bool = true,
        writesPageStatistics: Bool = true,
        writesPageChecksums: Bool = false,
        createdBy: String = "klogs",
        keyValueMetadata: [(key: String, value: String)] = []
    ) {
        self.compression = compression
        self.dataPageSize = dataPageSize
        self.dataPageRowLimit = dataPageRowLimit
        self.dictionaryPageLimit = dictionaryPageLimit
        self.dictionaryEncodesPlainStrings = dictionaryEncodesPlainStrings
        self.writesPageStatistics = writesPageStatistics
        self.writesPageChecksums = writesPageChecksums
        self.createdBy = createdBy
        self.keyValueMetadata = keyValueMetadata
    }

    func validate() throws {
        guard dataPageSize >= 1 && dataPageSize <= 1 << 30 else {
            throw ParquetError.invalidArgument("dataPageSize \(dataPageSize) must be between 1 byte and 1 GiB")
        }
        guard dataPageRowLimit >= 1 else {
            throw ParquetError.invalidArgument("dataPageRowLimit \(dataPageRowLimit) must be at least 1")
        }
        guard dictionaryPageLimit >= 0 && dictionaryPageLimit <= 1 << 30 else {
            throw ParquetError.invalidArgument("dictionaryPageLimit \(dictionaryPageLimit) must be between 0 and 1 GiB")
        }
    }
}
