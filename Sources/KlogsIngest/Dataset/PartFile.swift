import KlogsParquet

/// One Parquet file being written for one partition of one dataset during a run.
///
/// Rows arrive as row groups; the file stays under a hidden temporary name until the run commits, so a reader
/// never sees it half-written, and a failed run leaves nothing behind.
final class PartFile {
    let file: StagedFile
    let dataset: DatasetName
    let day: Int32
    private var writer: ParquetFileWriter<FileDescriptorOutput>?
    private(set) var rowCount = 0

    init(directory: String, transaction: String, sequence: Int, dataset: DatasetName, day: Int32,
         metadata: [(key: String, value: String)], compression: ParquetCompression) throws {
        try FileSystem.createDirectory(atPath: directory)
        file = try StagedFile(directory: directory, transaction: transaction, sequence: sequence)
        self.dataset = dataset
        self.day = day
        let output = FileDescriptorOutput(fileDescriptor: file.fileDescriptor, path: file.stagedPath)
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

    /// Writes the footer, syncs and closes the file; it becomes visible only when its transaction commits.
    func finish() throws {
        guard let writer else { return }
        try writer.close()
        self.writer = nil
        try file.seal()
    }

    /// Removes the staged file.
    func abort() {
        file.discard()
    }
}
