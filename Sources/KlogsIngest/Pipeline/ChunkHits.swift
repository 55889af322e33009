/// The hourly aggregates of one chunk, made by its worker with chunk-local ids, so that the sequencer adds one
/// entry per distinct key of the chunk to the partition's `HitTable` instead of one per line.
///
/// The keys are `HitKey`s whose `vhost` and `path` are ids of the batch's interners and whose `userAgentClass` is
/// a class id of the worker's `UserAgentTable` (not a hits class: several classes may share one, and the
/// sequencer's merge adds them up). The entries live in a `HitTable` of their own, which keeps them in order of
/// first use and is cleared per chunk with its capacity kept. The table is a reference: each `ChunkBatch` holds
/// one `ChunkHits` and never copies it.
struct ChunkHits {
    private let table: HitTable

    init(minimumCapacity: Int = 1 << 13) {
        table = HitTable(minimumCapacity: minimumCapacity)
    }

    /// The number of distinct keys.
    var count: Int { table.count }

    /// Counts one request of `bytes` bytes under `key`.
    func add(_ key: HitKey, bytes: Int64) {
        table.add(key, bytes: bytes)
    }

    /// Calls `body` with every distinct key and its sums, in order of first use.
    func forEach(_ body: (HitKey, HitTotals) -> Void) {
        table.forEachInFirstUseOrder(body)
    }

    /// The distinct keys in order of first use (for tests; the sequencer uses `forEach`).
    var keys: [HitKey] {
        var keys: [HitKey] = []
        forEach { key, _ in keys.append(key) }
        return keys
    }

    /// The sums of `keys`, in the same order (for tests).
    var totals: [HitTotals] {
        var totals: [HitTotals] = []
        forEach { _, sums in totals.append(sums) }
        return totals
    }

    /// Forgets every entry, keeping the capacity.
    func removeAll() {
        table.removeAll()
    }
}
