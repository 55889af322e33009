import KlogsCore
import KlogsUserAgent

/// The in-order half of the parallel pipeline: maps each parsed chunk's local ids to its partition's ids and
/// appends its rows, its hourly sums and its rejects, strictly in chunk order.
///
/// Because the rows arrive in the order of the lines and every id is interned on its first use, as
/// `LineProcessor` interns it, the dictionaries, rows and sums come out exactly as the single-threaded path makes
/// them, whatever the number of workers.
///
/// The sequencer is the one stage that cannot run in parallel, so it works a column at a time over as many rows as
/// it can: a chunk is cut into runs of one UTC day, and a run into segments that end where the single-threaded path
/// would write a row group. Within a segment nothing is written, so its columns are appended whole (a copy, or an
/// array lookup per row for the id columns) and its hourly sums are built as a column of keys and merged into the
/// partition's tables in one batch (`HourlyHitTables.merge`, a `HitTable.merge` per hour), whose look-ups overlap
/// their cache misses. A partition close
/// to its limits (`Partition.fits`) takes its rows one at a time instead.
///
/// Remapping costs one intern per distinct value per chunk and partition, and an array lookup per row: each
/// `IdRemap` remembers, per chunk-local id, the partition id and a stamp that changes with every chunk, every
/// change of partition and every reset of the partition's interners.
struct ChunkSequencer {
    private var stamp: UInt64 = 0
    private var paths = IdRemap()
    private var methods = IdRemap()
    private var vhosts = IdRemap()
    private var referrerHosts = IdRemap()
    private var clientNetworks = IdRemap()
    /// Per worker: its classes (in its table's id order) and their ids in the run's table (-1: not used yet).
    private var workerClasses: [[UserAgentClass]]
    private var workerClassIds: [[Int32]]
    /// The partition ids of the current segment's rows.
    private var segmentPaths: [Int32] = []
    private var segmentVhosts: [Int32] = []
    private var segmentClasses: [Int32] = []
    /// The hourly-sum keys of the current segment's rows, on their way into the partition's table.
    private var segmentKeys: [PackedHitKey] = []

    init(workerCount: Int) {
        workerClasses = Array(repeating: [], count: workerCount)
        workerClassIds = Array(repeating: [], count: workerCount)
    }

    /// Invalidates every remembered id: the next use of each local id interns it again.
    private mutating func invalidate() {
        stamp += 1
    }

    /// Adds one parsed chunk to the processor's partitions, reject report and counters.
    ///
    /// - Parameters:
    ///   - batch: the next chunk in input order.
    ///   - firstLine: the number of lines of the input before this chunk.
    /// - Throws: a row-group write failure, or the worker's failure for this chunk.
    mutating func apply(_ batch: ChunkBatch, firstLine: Int, to processor: inout LineProcessor) throws {
        HeapHugePages.adviseGrowth()
        if let rejects = processor.rejects {
            for (index, line) in batch.rejectLines.enumerated() {
                rejects.add(lineNumber: firstLine + line, reason: batch.rejectReasons[index])
            }
        }
        let worker = batch.workerIndex
        if batch.restartsUserAgentClasses {
            workerClasses[worker].removeAll(keepingCapacity: true)
            workerClassIds[worker].removeAll(keepingCapacity: true)
        }
        workerClasses[worker].append(contentsOf: batch.newUserAgentClasses)
        workerClassIds[worker].append(contentsOf: repeatElement(-1, count: batch.newUserAgentClasses.count))
        invalidate()
        var start = 0
        while start < batch.rowCount {
            let day = batch.days[start]
            var end = start + 1
            while end < batch.rowCount && batch.days[end] == day { end += 1 }
            let partition = try self.partition(day: day, processor: &processor)
            let fits = partition.fits(
                paths: batch.paths.count, pathBytes: batch.paths.arena.count,
                hits: end - start, referrerHosts: batch.referrerHosts.count, clientNetworks: batch.clientNetworks.count)
            try addRun(start..<end, of: batch, to: partition, processor: &processor, atOnce: fits)
            start = end
        }
        if let failure = batch.failure { throw failure }
    }

    /// The partition of `day`, the processor's current one when the day has not changed.
    private mutating func partition(day: Int32, processor: inout LineProcessor) throws -> Partition {
        if day == processor.currentDay, let current = processor.currentPartition { return current }
        let partition = try processor.writer.partition(day: day, userAgents: processor.userAgents)
        processor.currentDay = day
        processor.currentPartition = partition
        invalidate()
        return partition
    }

    /// Adds rows of one day to its partition, in segments that end where the single-threaded path writes a row
    /// group (`atOnce`), or one row at a time (a partition whose interners may fill up within the rows).
    private mutating func addRun(
        _ rows: Range<Int>, of batch: ChunkBatch, to partition: Partition, processor: inout LineProcessor,
        atOnce: Bool
    ) throws {
        var start = rows.lowerBound
        while start < rows.upperBound {
            let end = start + (atOnce ? min(rows.upperBound - start, processor.writer.rowsBeforeFlush(partition)) : 1)
            addSegment(start..<end, of: batch, to: partition, processor: &processor)
            processor.linesIngested += Int64(end - start)
            let internersWereFull = partition.internersAreFull
            try processor.writer.flushIfNeeded(partition, userAgents: processor.userAgents)
            if internersWereFull { invalidate() }  // the partition's interners start afresh
            start = end
        }
    }

    /// Adds rows to a partition, a column at a time; nothing is written meanwhile.
    private mutating func addSegment(
        _ rows: Range<Int>, of batch: ChunkBatch, to partition: Partition, processor: inout LineProcessor
    ) {
        segmentClasses.removeAll(keepingCapacity: true)
        mapClasses(batch.userAgentClassIds[rows], worker: batch.workerIndex, table: &processor.userAgents)
        segmentPaths.removeAll(keepingCapacity: true)
        paths.map(batch.pathIds[rows], stamp: stamp, from: batch.paths, into: &partition.paths, to: &segmentPaths)
        segmentVhosts.removeAll(keepingCapacity: true)
        vhosts.map(batch.vhostIds[rows], stamp: stamp, from: batch.vhosts, into: &partition.vhosts, to: &segmentVhosts)
        if processor.configuration.writeEvents { appendEvents(rows, of: batch, to: partition) }
        addHits(rows, of: batch, to: partition, hitsClassIds: processor.userAgents.hitsClassIds)
    }

    /// Appends the `events` columns of a segment whose paths, hosts and classes are mapped already.
    private mutating func appendEvents(_ rows: Range<Int>, of batch: ChunkBatch, to partition: Partition) {
        partition.timestamps.append(contentsOf: batch.timestamps[rows])
        if !batch.visitors.isEmpty { partition.visitors.append(contentsOf: batch.visitors[rows]) }
        if !batch.networkIds.isEmpty {
            clientNetworks.map(
                batch.networkIds[rows], stamp: stamp, from: batch.clientNetworks, into: &partition.clientNetworks,
                to: &partition.clientNetworkIds)
        }
        partition.vhostIds.append(contentsOf: segmentVhosts)
        methods.map(
            batch.methodIds[rows], stamp: stamp, from: batch.methods, into: &partition.methods,
            to: &partition.methodIds)
        partition.pathIds.append(contentsOf: segmentPaths)
        partition.statuses.append(contentsOf: batch.statuses[rows])
        partition.byteCounts.append(contentsOf: batch.byteCounts[rows])
        referrerHosts.map(
            batch.referrerIds[rows], stamp: stamp, from: batch.referrerHosts, into: &partition.referrerHosts,
            to: &partition.referrerIds)
        partition.userAgentClassIds.append(contentsOf: segmentClasses)
        partition.kinds.append(contentsOf: batch.kinds[rows])
    }

    /// Counts the requests of a segment whose paths, hosts and classes are mapped already in the partition's hourly
    /// sums: the keys are built a column at a time, then merged in one batch.
    private mutating func addHits(
        _ rows: Range<Int>, of batch: ChunkBatch, to partition: Partition, hitsClassIds: [Int32]
    ) {
        // In locals: the closure below must not read `self` while it writes `segmentKeys`.
        let (paths, vhosts, classes) = (segmentPaths, segmentVhosts, segmentClasses)
        let (hours, statuses, kinds) = (batch.hours.all, batch.statuses.all, batch.kinds.all)
        segmentKeys.removeAll(keepingCapacity: true)
        segmentKeys.append(contentsOf: repeatElement(PackedHitKey(first: 0, second: 0, third: 0), count: rows.count))
        segmentKeys.withUnsafeMutableBufferPointer { keys in
            for (index, row) in rows.enumerated() {
                keys[index] =
                    HitKey(
                        hour: hours[row], vhost: vhosts[index], path: paths[index], status: statuses[row],
                        userAgentClass: hitsClassIds[Int(classes[index])], kind: kinds[row]
                    ).packed
            }
        }
        segmentKeys.withUnsafeBufferPointer { keys in
            partition.hits.merge(keys, bytes: batch.byteCounts[rows])
        }
    }

    /// Appends the run's class id of each of a worker's class ids in `locals` to `segmentClasses`; a class the run
    /// has not used yet is interned in the run's table.
    private mutating func mapClasses(_ locals: UnsafeBufferPointer<Int32>, worker: Int, table: inout UserAgentTable) {
        // Out of `self` while they are read and filled through pointers; swapped, so their capacity is kept.
        var (runIds, classes, output): ([Int32], [UserAgentClass], [Int32]) = ([], [], [])
        swap(&runIds, &workerClassIds[worker])
        swap(&classes, &workerClasses[worker])
        swap(&output, &segmentClasses)
        runIds.withUnsafeMutableBufferPointer { runIds in
            IdRemap.appendMapped(locals, to: &output) { local in
                let id = runIds[Int(local)]
                if id >= 0 { return id }
                runIds[Int(local)] = table.id(ofFiltered: classes[Int(local)])
                return runIds[Int(local)]
            }
        }
        swap(&runIds, &workerClassIds[worker])
        swap(&classes, &workerClasses[worker])
        swap(&output, &segmentClasses)
    }
}

/// Chunk-local ids to partition ids, valid while the stamp they were stored with is current.
struct IdRemap {
    private var ids: [Int32] = []
    private var stamps: [UInt64] = []

    /// Appends the partition id of each chunk-local id in `locals` to `output`, in order: -1 stays -1, an id
    /// mapped under `stamp` is looked up, and any other has its bytes in the batch interner `source` interned into
    /// the partition interner `target` (once per id and stamp).
    mutating func map(
        _ locals: UnsafeBufferPointer<Int32>, stamp: UInt64, from source: ByteInterner, into target: inout ByteInterner,
        to output: inout [Int32]
    ) {
        if ids.count < source.count {
            ids.append(contentsOf: repeatElement(-1, count: source.count - ids.count))
            stamps.append(contentsOf: repeatElement(0, count: source.count - stamps.count))
        }
        ids.withUnsafeMutableBufferPointer { ids in
            stamps.withUnsafeMutableBufferPointer { stamps in
                Self.appendMapped(locals, to: &output) { local in
                    guard local >= 0 else { return -1 }
                    let index = Int(local)
                    if stamps[index] == stamp { return ids[index] }
                    (ids[index], stamps[index]) = (Self.intern(local, from: source, into: &target), stamp)
                    return ids[index]
                }
            }
        }
    }

    /// Appends `transform(local)` for each id of `locals` to `output`, in order, through pointers: the output
    /// grows once per call, not once per row (an append per row checks the array's capacity and uniqueness, which
    /// the sequencer, the one serial stage, paid for every row of every column).
    @inline(__always)
    static func appendMapped(
        _ locals: UnsafeBufferPointer<Int32>, to output: inout [Int32], _ transform: (Int32) -> Int32
    ) {
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: locals.count))
        output.withUnsafeMutableBufferPointer { output in
            for (offset, local) in locals.enumerated() { output[start + offset] = transform(local) }
        }
    }

    /// The partition id of the bytes of `local` in `source`, interned into `target` with the hash `source`
    /// stored for them: once per distinct value and chunk, out of the per-row loop.
    @inline(never)
    private static func intern(_ local: Int32, from source: ByteInterner, into target: inout ByteInterner) -> Int32 {
        target.intern(entry: local, of: source)
    }
}
