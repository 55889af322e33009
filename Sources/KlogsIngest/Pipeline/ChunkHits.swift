/// The hourly aggregates of one chunk, made by its worker with chunk-local ids, so that the sequencer adds one
/// entry per distinct key of the chunk to the partition's `HitTable` instead of one per line.
///
/// The keys are `HitKey`s whose `vhost` and `path` are ids of the batch's interners and whose `userAgentClass` is
/// a class id of the worker's `UserAgentTable` (not a hits class: several classes may share one, and the
/// sequencer's merge adds them up). Entries are kept in insertion order in `keys` and `totals`, behind an
/// open-addressing index (linear probing, power-of-two size, at most half full) that is cleared per chunk.
struct ChunkHits {
    /// The distinct keys of the chunk, in order of first use, and their sums.
    private(set) var keys: [HitKey] = []
    private(set) var totals: [HitTotals] = []
    private var packedKeys: [PackedHitKey] = []
    /// Slot → entry index + 1; 0 marks an empty slot.
    private var slots: [Int32]

    init(minimumCapacity: Int = 1 << 13) {
        var size = 16
        while size < minimumCapacity * 2 { size *= 2 }
        slots = Array(repeating: 0, count: size)
    }

    /// The number of distinct keys.
    var count: Int { keys.count }

    /// Counts one request of `bytes` bytes under `key`.
    mutating func add(_ key: HitKey, bytes: Int64) {
        let packed = key.packed
        let mask = slots.count &- 1
        var slot = Int(truncatingIfNeeded: packed.hash) & mask
        while true {
            let stored = Int(slots[slot])
            if stored == 0 { break }
            if packedKeys[stored &- 1] == packed {
                totals[stored &- 1].add(bytes: bytes)
                return
            }
            slot = (slot &+ 1) & mask
        }
        keys.append(key)
        packedKeys.append(packed)
        totals.append(HitTotals(hits: 1, bytes: bytes))
        slots[slot] = Int32(keys.count)
        if keys.count &* 2 > slots.count { grow() }
    }

    /// Forgets every entry, keeping the capacity.
    mutating func removeAll() {
        keys.removeAll(keepingCapacity: true)
        totals.removeAll(keepingCapacity: true)
        packedKeys.removeAll(keepingCapacity: true)
        slots.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }

    /// Doubles the index and re-inserts every entry.
    private mutating func grow() {
        slots = Array(repeating: 0, count: slots.count * 2)
        let mask = slots.count - 1
        for (index, packed) in packedKeys.enumerated() {
            var slot = Int(truncatingIfNeeded: packed.hash) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index + 1)
        }
    }
}
