import KlogsCore
import KlogsUserAgent

/// One chunk of an input on its way through the parallel pipeline: the bytes the reader cut on a line boundary
/// and, once a worker has parsed them, the chunk's rows in columns.
///
/// Batches are allocated once per run and reused: the input storage, the row columns (``RowColumn``) and the
/// chunk-local interners keep their capacity, so the steady state allocates nothing per line.
///
/// Ids in the row columns are chunk-local (indices into this batch's interners); the sequencer maps them to the
/// partition's ids in chunk order, so the ids, and with them every dictionary and row, come out exactly as the
/// single-threaded path makes them.
///
/// `@unchecked Sendable`: a batch is owned by one stage at a time (reader, then one worker, then the sequencer,
/// then the free pool), and every hand-over goes through the pipeline's lock, which orders the memory accesses.
final class ChunkBatch: @unchecked Sendable {
    // MARK: Input, filled by the reader

    /// The input bytes; `storage[0..<byteCount]` is the chunk.
    let storage: UnsafeMutableRawBufferPointer
    var byteCount = 0
    /// The chunk's position in its input's sequence of chunks (0, 1, 2, …).
    var sequence = 0
    /// True for the last chunk of an input whose last line has no newline and is to be read anyway (compressed
    /// inputs are finished; a plain file's last line may still be being written).
    var finishesInput = false
    /// The ledger's resume boundary once this chunk is ingested: the input offset after its last newline.
    var boundary: Int64 = 0
    /// The input's bytes read from its file when the chunk was cut (compressed bytes for compressed input), for
    /// progress reports.
    var inputBytesRead: Int64 = 0

    // MARK: Output, filled by a worker

    /// Lines in the chunk (complete and overlong), as `LineSplitter` counts them.
    var lineCount = 0
    /// UTC day and hour (since the epoch) of each row.
    var days = RowColumn<Int32>()
    var hours = RowColumn<Int32>()
    var timestamps = RowColumn<Int64>()
    /// Pseudonyms (hash mode with events only).
    var visitors = RowColumn<Int64>()
    /// Chunk-local ids into the interners below; -1 is null.
    var networkIds = RowColumn<Int32>()
    var vhostIds = RowColumn<Int32>()
    var methodIds = RowColumn<Int32>()
    var pathIds = RowColumn<Int32>()
    var referrerIds = RowColumn<Int32>()
    /// Class ids of the worker's own `UserAgentTable`.
    var userAgentClassIds = RowColumn<Int32>()
    /// The worker that parsed the chunk, and the classes its table added meanwhile (their ids follow the ids of
    /// the classes listed by the worker's earlier batches).
    var workerIndex = 0
    var newUserAgentClasses: [UserAgentClass] = []
    /// Whether the worker's table started again before this chunk: its ids restart at 0.
    var restartsUserAgentClasses = false
    var statuses = RowColumn<Int32>()
    var byteCounts = RowColumn<Int64>()
    /// `RequestCategory` raw values.
    var kinds = RowColumn<UInt8>()
    /// Rejected lines, in order: the line number within the chunk (1-based) and the reason.
    var rejectLines: [Int] = []
    var rejectReasons: [RejectReason] = []

    var paths = ByteInterner()
    /// Which of the chunk's paths are assets, by chunk-local path id.
    var assetPaths = PathFlags()
    /// Which interned paths hold no address-like text, by path id (`PrivacyFilters.storedPathId`).
    var addressFreePaths = PathFlags()
    var methods = ByteInterner()
    var vhosts = ByteInterner()
    var referrerHosts = ByteInterner()
    /// The host ids of recent referrers, by their bytes (`referrerHosts` ids).
    var referrerHostCache = ReferrerHostCache()
    var clientNetworks = ByteInterner()

    /// A failure of the worker (a pseudonym key that cannot be read or made), thrown by the sequencer in order.
    var failure: (any Error)?

    /// Makes a batch whose storage holds `capacity` bytes.
    init(capacity: Int) {
        storage = .allocate(byteCount: capacity, alignment: 64)
    }

    deinit { storage.deallocate() }

    /// The input bytes of the chunk.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[0..<byteCount]) }

    /// The number of parsed rows.
    var rowCount: Int { days.count }

    /// Forgets the previous chunk's rows, keeping every capacity.
    func removeRows() {
        lineCount = 0
        failure = nil
        days.removeAll()
        hours.removeAll()
        timestamps.removeAll()
        visitors.removeAll()
        networkIds.removeAll()
        vhostIds.removeAll()
        methodIds.removeAll()
        pathIds.removeAll()
        referrerIds.removeAll()
        userAgentClassIds.removeAll()
        statuses.removeAll()
        byteCounts.removeAll()
        kinds.removeAll()
        rejectLines.removeAll(keepingCapacity: true)
        rejectReasons.removeAll(keepingCapacity: true)
        newUserAgentClasses.removeAll(keepingCapacity: true)
        restartsUserAgentClasses = false
        paths.removeAll(keepingCapacity: true)
        assetPaths.removeAll()
        addressFreePaths.removeAll()
        methods.removeAll(keepingCapacity: true)
        vhosts.removeAll(keepingCapacity: true)
        referrerHosts.removeAll(keepingCapacity: true)
        referrerHostCache.removeAll()
        clientNetworks.removeAll(keepingCapacity: true)
    }
}
