import KlogsCore
import KlogsParquet

/// The key of one hourly aggregate: every `hits` column except the sums, as ids.
struct HitKey: Hashable {
    var hour: Int32  // hours since the epoch
    var vhost: Int32  // -1: none
    var path: Int32
    var status: Int32
    var userAgentClass: Int32  // a hits class id of the `UserAgentTable`
    var kind: UInt8  // a `RequestCategory` raw value
}

/// The sums of one hourly aggregate.
struct HitTotals {
    var hits: Int64 = 0
    var bytes: Int64 = 0

    /// Counts one more request of `bytes` bytes.
    mutating func add(bytes: Int64) {
        hits += 1
        self.bytes += bytes
    }
}

/// Everything one run buffers for one UTC day: the interned values, the pending `events` rows, the hourly
/// aggregates, and the day's files.
///
/// Memory stays bounded: `events` rows go out as a row group every `rowGroupRows` rows, and when the interned
/// values grow past their limit the aggregates go out too and the interners start afresh.
final class Partition {
    /// How far a partition's interners and aggregates may grow before they are written out and forgotten.
    struct Limits: Sendable {
        var paths = 500_000
        var pathBytes = 32 << 20
        var hits = 500_000
        var referrerHosts = 500_000
        var clientNetworks = 500_000
    }

    let day: Int32
    let limits: Limits
    var lastUsed: Int = 0

    // Interned string columns (ids index these).
    var paths = ByteInterner()
    var methods = ByteInterner()
    var vhosts = ByteInterner()
    var referrerHosts = ByteInterner()
    /// The host ids of recent referrers, by their bytes (`referrerHosts` ids).
    var referrerHostCache = ReferrerHostCache()
    var clientNetworks = ByteInterner()
    /// Which interned paths are assets, by path id.
    var assetPaths = PathFlags()
    /// Which interned paths hold no address-like text, by path id (`PrivacyFilters.storedPathId`).
    var addressFreePaths = PathFlags()

    // Pending `events` rows, one array per column.
    var timestamps: [Int64] = []
    var visitors: [Int64] = []
    var clientNetworkIds: [Int32] = []
    var vhostIds: [Int32] = []
    var methodIds: [Int32] = []
    var pathIds: [Int32] = []
    var statuses: [Int32] = []
    var byteCounts: [Int64] = []
    var referrerIds: [Int32] = []
    var userAgentClassIds: [Int32] = []
    var kinds: [UInt8] = []  // `RequestCategory` raw values

    // Pending hourly aggregates.
    let hits = HourlyHitTables()

    /// Distinct paths interned before the interners were last emptied.
    private var pathsForgotten = 0
    /// Distinct paths this partition has seen, for the cardinality warning: an upper bound, since a path seen
    /// both before and after the interners were emptied counts twice.
    var distinctPaths: Int { pathsForgotten + paths.count }

    var eventsFile: PartFile?
    var hitsFile: PartFile?

    init(day: Int32, limits: Limits = Limits()) {
        self.day = day
        self.limits = limits
    }

    var pendingEvents: Int { timestamps.count }

    /// Whether the interned values or the hourly aggregates have grown past the point where they should be
    /// written out and forgotten: this bounds a partition's memory whatever the input (a whole ingest with two
    /// threads peaked at 219 MiB with a million distinct paths in a day, 177 MiB with 300,000 distinct 1,000-byte
    /// paths: `scripts/hostile-memory.sh`, docs/OPERATIONS.md).
    var internersAreFull: Bool {
        !fits(paths: 0, pathBytes: 0, hits: 0, referrerHosts: 0, clientNetworks: 0)
    }

    /// Whether the interners and aggregates stay within their limits (`internersAreFull` stays false) after at
    /// most this many more distinct values and aggregates: the parallel pipeline adds a whole chunk at once when
    /// its own interners' sizes say it cannot fill the partition's.
    func fits(paths newPaths: Int, pathBytes: Int, hits newHits: Int, referrerHosts newReferrerHosts: Int,
              clientNetworks newClientNetworks: Int) -> Bool {
        paths.count + newPaths <= limits.paths && paths.arena.count + pathBytes <= limits.pathBytes
            && hits.count + newHits <= limits.hits && referrerHosts.count + newReferrerHosts <= limits.referrerHosts
            && clientNetworks.count + newClientNetworks <= limits.clientNetworks
    }

    func removeEvents() {
        timestamps.removeAll(keepingCapacity: true)
        visitors.removeAll(keepingCapacity: true)
        clientNetworkIds.removeAll(keepingCapacity: true)
        vhostIds.removeAll(keepingCapacity: true)
        methodIds.removeAll(keepingCapacity: true)
        pathIds.removeAll(keepingCapacity: true)
        statuses.removeAll(keepingCapacity: true)
        byteCounts.removeAll(keepingCapacity: true)
        referrerIds.removeAll(keepingCapacity: true)
        userAgentClassIds.removeAll(keepingCapacity: true)
        kinds.removeAll(keepingCapacity: true)
    }

    func removeInterned() {
        pathsForgotten += paths.count
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

extension ByteInterner {
    /// The interned values as they are now: a copy-on-write snapshot that another thread may read while this
    /// interner takes new values.
    var snapshot: InternedValues { InternedValues(arena: arena, ends: ends) }

    /// The interned values as a Parquet string column, in id order: the dictionary of an id column.
    var stringColumn: StringColumn { snapshot.stringColumn }
}

/// The values of a `ByteInterner` at one moment, in id order.
struct InternedValues: Sendable {
    let arena: [UInt8]
    /// `ends[id]` is the end of value `id` in the arena.
    let ends: [Int]

    /// The values as a Parquet string column, in id order: the dictionary of an id column.
    ///
    /// Values that are not valid UTF-8 are repaired here (see `UTF8Repair`), once per distinct value and row
    /// group rather than once per line; an all-ASCII dictionary is passed through as it is.
    var stringColumn: StringColumn {
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(ends.count + 1)
        let isASCII = arena.withUnsafeBytes { bytes in !bytes.contains { $0 >= 0x80 } }
        if isASCII {
            for end in ends { offsets.append(Int32(end)) }
            return StringColumn(bytes: arena, offsets: offsets)
        }
        var repaired: [UInt8] = []
        repaired.reserveCapacity(arena.count + 64)
        arena.withUnsafeBytes { bytes in
            var start = 0
            for end in ends {
                UTF8Repair.appendRepaired(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), to: &repaired)
                offsets.append(Int32(repaired.count))
                start = end
            }
        }
        return StringColumn(bytes: repaired, offsets: offsets)
    }
}
