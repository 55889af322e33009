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

    /// Row groups being encoded by a `BackgroundJobRunner`, in file order: the jobs of each, in column order.
    private var pending: [[RowGroupJob]] = []

    /// Appends one row group.
    func write(_ columns: [ColumnValues], rows: Int) throws {
        guard rows > 0, let writer else { return }
        try writeEncoded(waiting: true)
        try writer.writeRowGroup(columns)
        file.startWriteback()
        rowCount += rows
    }

    /// Appends one row group whose columns `columns` builds; with a runner, they are built and encoded on its
    /// threads while the caller goes on, and written in order by a later call (at the latest by `finish()`).
    func write(rows: Int, runner: (any BackgroundJobRunner)?, columns: @escaping () -> [ColumnValues]) throws {
        try write(rows: rows, runner: runner, parts: [(nil, columns)])
    }

    /// Appends one row group built in parts: each builds the columns of its range (nil: all of them), the ranges
    /// following each other over the schema's columns. With a runner, each part is a job of its own, so that
    /// several threads encode one large row group.
    func write(
        rows: Int, runner: (any BackgroundJobRunner)?,
        parts: [(range: Range<Int>?, columns: () -> [ColumnValues])]
    ) throws {
        guard rows > 0, let writer else { return }
        guard let runner else { return try write(parts.flatMap { $0.columns() }, rows: rows) }
        let jobs = parts.map {
            RowGroupJob(schema: writer.schema, options: writer.options, range: $0.range, columns: $0.columns)
        }
        pending.append(jobs)
        rowCount += rows
        for job in jobs { runner.submit(job) }
        try writeEncoded(waiting: false)
    }

    /// Writes the row groups whose encoding has finished, in order; with `waiting`, all of them, after encoding
    /// those no worker has begun, last first (the workers take the first), so that this thread shares the work
    /// instead of waiting for it.
    private func writeEncoded(waiting: Bool) throws {
        guard let writer else { return }
        if waiting {
            for job in pending.joined().reversed() { job.run() }
        }
        while let jobs = pending.first, waiting || jobs.allSatisfy(\.isDone) {
            pending.removeFirst()
            try writer.appendRowGroup(try jobs.flatMap { try $0.chunks() })
            file.startWriteback()
        }
    }

    /// Writes the footer, syncs and closes the file; it becomes visible only when its transaction commits.
    func finish() throws {
        guard let writer else { return }
        try writeEncoded(waiting: true)
        try writer.close()
        self.writer = nil
        try file.seal()
    }

    /// Removes the staged file.
    func abort() {
        pending.removeAll()
        file.discard()
    }
}
