import KlogsParquet

/// One Parquet file being written for one partition of one dataset during a run.
///
/// Rows arrive as row groups; the file stays under a hidden temporary name until the run commits, so a reader
/// never sees it half-written, and a failed run leaves nothing behind.
final class PartFile {
    private let file: AtomicFile
    private var writer: ParquetFileWriter<FileDescriptorOutput>?
    private(set) var rowCount = 0

    init(directory: String, name: String, dataset: DatasetName, metadata: [(key: String, value: String)],
         compression: ParquetCompression) throws {
        try FileSystem.createDirectory(atPath: directory)
        file = try AtomicFile(directory: directory, name: name)
        let output = FileDescriptorOutput(fileDescriptor: file.fileDescriptor, path: file.path)
        var options = ParquetWriterOptions(createdBy: KlogsVersion.description)
        options.compression = compression
        options.keyValueMetadata = metadata
        writer = try ParquetFileWriter(output: output, schema: dataset.schema, options: options)
    }

    /// Appends one row group.
    func write(_ columns: [ColumnValues], rows: Int) throws {
        guard rows > 0, let writer else { return }
        try writer.writeRowGroup(columns)
        rowCount += rows
    }

    /// Writes the footer and closes the file; it becomes visible only with `commit()`.
    func finish() throws {
        guard let writer else { return }
        try writer.close()
        self.writer = nil
    }

    /// Makes the finished file visible under its final name.
    func commit() throws {
        try file.commit()
    }

    /// Removes the temporary file.
    func abort() {
        file.abort()
    }
}
