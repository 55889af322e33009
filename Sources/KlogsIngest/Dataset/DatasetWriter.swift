import KlogsCore
import KlogsParquet
import KlogsUserAgent

/// Routes rows to their UTC day's partition and writes the `events` and `hits` files of one run.
///
/// Every file stays hidden under a temporary name until `commit()`, which makes all of them visible; `abort()`
/// (or a crash) leaves nothing a reader can see.
final class DatasetWriter {
    private let root: String
    /// Names the staged files; changes for every transaction of a long run (`startTransaction`).
    private var runIdentifier: String
    private let metadata: (DatasetName) -> [(key: String, value: String)]
    private let compression: ParquetCompression
    private let writeEvents: Bool
    private let rowGroupRows: Int
    private let partitionLimits: Partition.Limits
    /// How many partitions may hold open files at once; the least recently used is finished beyond it.
    private let openPartitionLimit = 32

    private var partitions: [Int32: Partition] = [:]
    private var finishedFiles: [PartFile] = []
    private var fileSequence = 0
    private var useCounter = 0
    /// Threads that encode row groups meanwhile (the parallel pipeline's workers, while they run); `nil`:
    /// each row group is encoded when it is written.
    var rowGroupRunner: (any BackgroundJobRunner)?
    /// Distinct paths per UTC day of the partitions finished since the last `takeCardinalityWarnings()`.
    var distinctPathsByDay: [Int32: Int] = [:]

    init(root: String, runIdentifier: String, ipMode: IPMode, compression: ParquetCompression,
         writeEvents: Bool, rowGroupRows: Int, partitionLimits: Partition.Limits = Partition.Limits()) {
        self.root = root
        self.runIdentifier = runIdentifier
        self.compression = compression
        self.writeEvents = writeEvents
        self.rowGroupRows = rowGroupRows
        self.partitionLimits = partitionLimits
        metadata = { dataset in
            [
                ("klogs.version", KlogsVersion.number),
                ("klogs.schema_version", DatasetName.schemaVersion),
                ("klogs.dataset", dataset.rawValue),
                ("klogs.ip_mode", ipMode.description),
            ]
        }
    }

    /// The partition of a UTC day (days since 1970-01-01), created on first use.
    func partition(day: Int32, userAgents: UserAgentTable) throws -> Partition {
        useCounter += 1
        if let partition = partitions[day] {
            partition.lastUsed = useCounter
            return partition
        }
        if partitions.count >= openPartitionLimit,
           let oldest = partitions.values.min(by: { $0.lastUsed < $1.lastUsed }) {
            try finish(oldest, userAgents: userAgents)
            partitions[oldest.day] = nil
        }
        let partition = Partition(day: day, limits: partitionLimits)
        partition.lastUsed = useCounter
        // The files are opened now, while little waits to be written: creating a directory syncs its parent, and
        // ext4 then first writes out the data pending in every file. Opened at the end of a run, the `hits` file
        // waited 12 ms for the day's `events` (the benchmark's 1M lines, `strace -T`). A file that cannot be opened
        // now is opened again by its first write, which reports the error where it always did (a write error, not
        // an input error: docs/OPERATIONS.md, exit status).
        if writeEvents { partition.eventsFile = try? openFile(.events, day: day) }
        partition.hitsFile = try? openFile(.hits, day: day)
        partitions[day] = partition
        return partition
    }

    /// Whether `flushIfNeeded` would write anything: a check for the per-line path, which then need not pass the
    /// user-agent table (a struct of a dozen arrays, retained and released on every call).
    @inline(__always)
    func needsFlush(_ partition: Partition) -> Bool {
        partition.pendingEvents >= rowGroupRows || partition.internersAreFull
    }

    /// Writes what a partition buffered when it has grown to a row group or its interners are full.
    func flushIfNeeded(_ partition: Partition, userAgents: UserAgentTable) throws {
        if partition.internersAreFull {
            try flushEvents(partition, userAgents: userAgents)
            // Encoded here: a million aggregates and their columns, held by a job while the partition fills up
            // again, would add a hundred megabytes to the peak.
            try flushHits(partition, userAgents: userAgents, runner: nil)
            partition.removeInterned()
        } else if partition.pendingEvents >= rowGroupRows {
            try flushEvents(partition, userAgents: userAgents)
        }
    }

    /// How many more `events` rows the partition takes before `flushIfNeeded` writes a row group (at least 1).
    func rowsBeforeFlush(_ partition: Partition) -> Int {
        writeEvents ? max(1, rowGroupRows - partition.pendingEvents) : Int.max
    }

    /// Writes everything still buffered and finishes every file; nothing is visible until `commit()`.
    func finishAll(userAgents: UserAgentTable) throws {
        for day in partitions.keys.sorted() {
            try finish(partitions[day]!, userAgents: userAgents)  // safe because `day` comes from the keys
        }
        partitions.removeAll()
    }

    /// Every finished file, in the order they were finished; they stay hidden until a `Transaction` names them.
    var stagedFiles: [PartFile] { finishedFiles }

    /// The renames that publish the finished files: `part-<tag>-<n>.parquet`, `n` counting the files of each
    /// partition directory in order, so the same input range always gets the same names and a repeated run
    /// replaces rather than duplicates. The files are handed over to the transaction that will name them.
    func publications(tag: String) -> [(staged: String, final: String, rows: Int64)] {
        var counters: [String: Int] = [:]
        var result: [(staged: String, final: String, rows: Int64)] = []
        for file in finishedFiles {
            let directory = "\(file.dataset.rawValue)/date=\(Timestamp.dateText(dayNumber: Int(file.day)))"
            let index = counters[directory, default: 0]
            counters[directory] = index + 1
            let stagedName = file.file.stagedPath.split(separator: "/").last.map(String.init) ?? ""
            result.append(
                ("\(directory)/\(stagedName)", "\(directory)/part-\(tag)-\(index).parquet", Int64(file.rowCount)))
        }
        return result
    }

    /// Forgets the finished files after their transaction committed (they are no longer staged).
    func handOver() {
        for file in finishedFiles { file.file.handOver() }
        finishedFiles.removeAll()
        fileSequence = 0
    }

    /// Starts the files of a new transaction (pipe mode commits several per run).
    func startTransaction(_ identifier: String) {
        runIdentifier = identifier
    }

    /// Removes every file of the run.
    func abort() {
        for partition in partitions.values {
            partition.eventsFile?.abort()
            partition.hitsFile?.abort()
        }
        partitions.removeAll()
        for file in finishedFiles { file.abort() }
        finishedFiles.removeAll()
    }

    // MARK: - Writing

    /// Writes what the partition still holds and finishes its files.
    ///
    /// With a runner, the `events` file is finished by one of its threads while this one drains the aggregates:
    /// its last row group written, then the file synced, mostly a wait for the disk (12 ms at the end of the
    /// benchmark's run), which the `hits` work then overlaps.
    private func finish(_ partition: Partition, userAgents: UserAgentTable) throws {
        try flushEvents(partition, userAgents: userAgents)
        let events = partition.eventsFile.map { file in SharedJob { try Self.finish(file) } }
        if let events { rowGroupRunner?.submit(events) }
        do {
            try flushHits(partition, userAgents: userAgents, runner: rowGroupRunner)
            try partition.hitsFile.map(Self.finish)
            try events?.value()
        } catch {
            _ = try? events?.value()  // done before `abort()` may remove the file
            throw error
        }
        distinctPathsByDay[partition.day, default: 0] += partition.distinctPaths
        finishedFiles += [partition.eventsFile, partition.hitsFile].compactMap { $0 }.filter { $0.rowCount > 0 }
        partition.eventsFile = nil
        partition.hitsFile = nil
    }

    /// Finishes a file, or removes it when no row came (it was opened with its partition): no file without rows is
    /// published.
    private static func finish(_ file: PartFile) throws {
        guard file.rowCount > 0 else { return file.abort() }
        try file.finish()
    }

    /// Opens the next file of `dataset` for `day`, creating its directory (which syncs the parents it creates).
    private func openFile(_ dataset: DatasetName, day: Int32) throws -> PartFile {
        fileSequence += 1
        return try PartFile(
            directory: "\(root)/\(dataset.rawValue)/date=\(Timestamp.dateText(dayNumber: Int(day)))",
            transaction: runIdentifier, sequence: fileSequence, dataset: dataset, day: day,
            metadata: metadata(dataset), compression: compression)
    }

    private func flushEvents(_ partition: Partition, userAgents: UserAgentTable) throws {
        let rows = partition.pendingEvents
        guard rows > 0 else { return }
        defer { partition.removeEvents() }
        guard writeEvents else { return }
        if partition.eventsFile == nil { partition.eventsFile = try openFile(.events, day: partition.day) }

        let rowGroup = EventsRowGroup(partition, userAgents: userAgents)
        // Safe because it was opened above.
        try partition.eventsFile!.write(rows: rows, runner: rowGroupRunner) { rowGroup.columns }
    }

    private func flushHits(
        _ partition: Partition, userAgents: UserAgentTable, runner: (any BackgroundJobRunner)?
    ) throws {
        guard !partition.hits.isEmpty else { return }
        HeapHugePages.adviseGrowth()  // before the drain's columns are allocated
        defer { if !partition.hits.isEmpty { partition.hits.removeAll() } }  // when the write failed
        if partition.hitsFile == nil { partition.hitsFile = try openFile(.hits, day: partition.day) }

        // Sorted by hour, then path: neighbouring rows compress better and readers can skip by statistics.
        let rowGroup = HitsRowGroup(partition.hits.drainSorted(on: runner), of: partition, userAgents: userAgents)
        // With a runner, a job per part; without, the columns built at once (the class lookup done once).
        let parts: [(range: Range<Int>?, columns: () -> [ColumnValues])] =
            runner == nil
            ? [(nil, { rowGroup.columns })]
            : HitsRowGroup.encodingParts.map { range in (range, { rowGroup.columns(in: range) }) }
        // Safe because it was opened above.
        try partition.hitsFile!.write(rows: rowGroup.rows, runner: runner, parts: parts)
    }
}
