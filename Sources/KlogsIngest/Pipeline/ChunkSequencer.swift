import KlogsCore
import KlogsUserAgent

/// The in-order half of the parallel pipeline: maps each parsed chunk's local ids to its partition's ids and
/// appends its rows, its hourly sums and its rejects, strictly in chunk order.
///
/// Because the rows arrive in the order of the lines and every id is interned on its first use, as
/// `LineProcessor` interns it, the dictionaries, rows and sums come out exactly as the single-threaded path makes
/// them, whatever the number of workers.
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
        if let rejects = processor.rejects {
            for (index, line) in batch.rejectLines.enumerated() {
                rejects.add(lineNumber: firstLine + line, reason: batch.rejectReasons[index])
            }
        }
        let worker = batch.workerIndex
        workerClasses[worker].append(contentsOf: batch.newUserAgentClasses)
        workerClassIds[worker].append(contentsOf: repeatElement(-1, count: batch.newUserAgentClasses.count))
        invalidate()
        let writeEvents = processor.configuration.writeEvents
        let hasVisitors = !batch.visitors.isEmpty
        let hasNetworks = !batch.networkIds.isEmpty
        for row in 0..<batch.rowCount {
            let day = batch.days[row]
            let partition: Partition
            if day == processor.currentDay, let current = processor.currentPartition {
                partition = current
            } else {
                partition = try processor.writer.partition(day: day, userAgents: processor.userAgents)
                processor.currentDay = day
                processor.currentPartition = partition
                invalidate()
            }
            let classId = runClassId(batch.userAgentClassIds[row], worker: worker, table: &processor.userAgents)
            let pathId = paths.id(of: batch.pathIds[row], stamp: stamp, from: batch, \.paths, into: partition, \.paths)
            let vhostId = vhosts.id(
                of: batch.vhostIds[row], stamp: stamp, from: batch, \.vhosts, into: partition, \.vhosts)
            let status = batch.statuses[row]
            let bytes = batch.byteCounts[row]
            let kind = batch.kinds[row]
            if writeEvents {
                partition.timestamps.append(batch.timestamps[row])
                if hasVisitors { partition.visitors.append(batch.visitors[row]) }
                if hasNetworks {
                    partition.clientNetworkIds.append(
                        clientNetworks.id(
                            of: batch.networkIds[row], stamp: stamp, from: batch, \.clientNetworks, into: partition,
                            \.clientNetworks))
                }
                partition.vhostIds.append(vhostId)
                partition.methodIds.append(
                    methods.id(
                        of: batch.methodIds[row], stamp: stamp, from: batch, \.methods, into: partition, \.methods))
                partition.pathIds.append(pathId)
                partition.statuses.append(status)
                partition.byteCounts.append(bytes)
                partition.referrerIds.append(
                    referrerHosts.id(
                        of: batch.referrerIds[row], stamp: stamp, from: batch, \.referrerHosts, into: partition,
                        \.referrerHosts))
                partition.userAgentClassIds.append(classId)
                partition.kinds.append(kind)
            }
            let key = HitKey(
                hour: batch.hours[row], vhost: vhostId, path: pathId, status: status,
                userAgentClass: processor.userAgents.hitsClassIds[Int(classId)], kind: kind)
            partition.hits.add(key, bytes: bytes)
            processor.linesIngested += 1
            let internersWereFull = partition.internersAreFull
            try processor.writer.flushIfNeeded(partition, userAgents: processor.userAgents)
            if internersWereFull { invalidate() }  // the partition's interners start afresh
        }
        if let failure = batch.failure { throw failure }
    }

    /// The run's class id of a worker's class id, interned in the run's table on first use.
    @inline(__always)
    private mutating func runClassId(_ local: Int32, worker: Int, table: inout UserAgentTable) -> Int32 {
        let id = workerClassIds[worker][Int(local)]
        if id >= 0 { return id }
        let runId = table.id(ofFiltered: workerClasses[worker][Int(local)])
        workerClassIds[worker][Int(local)] = runId
        return runId
    }
}

/// Chunk-local ids to partition ids, valid while the stamp they were stored with is current.
struct IdRemap {
    private var ids: [Int32] = []
    private var stamps: [UInt64] = []

    /// The partition id of chunk-local id `local` of the batch interner `source` (-1 stays -1); when it is not
    /// known under `stamp`, its bytes are interned into the partition interner `target`.
    @inline(__always)
    mutating func id(
        of local: Int32, stamp: UInt64, from batch: ChunkBatch, _ source: KeyPath<ChunkBatch, ByteInterner>,
        into partition: Partition, _ target: ReferenceWritableKeyPath<Partition, ByteInterner>
    ) -> Int32 {
        guard local >= 0 else { return -1 }
        let index = Int(local)
        if index >= ids.count {
            ids.append(contentsOf: repeatElement(-1, count: index + 1 - ids.count))
            stamps.append(contentsOf: repeatElement(0, count: index + 1 - stamps.count))
        }
        if stamps[index] == stamp { return ids[index] }
        let id = batch[keyPath: source].withBytes(of: local) { partition[keyPath: target].intern($0) }
        ids[index] = id
        stamps[index] = stamp
        return id
    }
}

extension ByteInterner {
    /// Calls `body` with the bytes of entry `id`.
    @inline(__always)
    func withBytes<Result>(of id: Int32, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        bytes(of: id).withUnsafeBytes(body)
    }
}
