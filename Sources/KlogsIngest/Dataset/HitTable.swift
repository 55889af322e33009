internal import Glibc  // calloc and free for the slot table

/// A `HitKey` packed into three words whose unsigned order is the order of the `hits` rows: hour, path,
/// status, user-agent class, virtual host, kind.
///
/// Each `Int32` field takes 32 bits with its sign bit flipped, so negative ids (-1: none) sort first as they do
/// as signed numbers; the kind (a `UInt8`) takes the low bits of `third`, whose bits 8-31 are free for more small
/// fields.
struct PackedHitKey: Equatable, Comparable {
    var first: UInt64  // hour, path
    var second: UInt64  // status, user-agent class
    var third: UInt64  // vhost, (free), kind

    @inline(__always)
    static func < (left: PackedHitKey, right: PackedHitKey) -> Bool {
        if left.first != right.first { return left.first < right.first }
        if left.second != right.second { return left.second < right.second }
        return left.third < right.third
    }

    /// The 32 bits of a field, ordered as the signed value.
    @inline(__always)
    static func bits(_ value: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: value) ^ 0x8000_0000)
    }

    /// The field stored by `bits(_:)`.
    @inline(__always)
    static func field(_ bits: UInt64) -> Int32 {
        Int32(bitPattern: UInt32(truncatingIfNeeded: bits) ^ 0x8000_0000)
    }

    /// A cheap, well-mixed 64-bit hash. The keys are our own ids, not attacker-chosen bytes, so no secret seed is
    /// needed: multiply-xorshift mixing spreads them over the slots.
    @inline(__always)
    var hash: UInt64 {
        var hash = first &* 0x9E37_79B9_7F4A_7C15
        hash = (hash ^ second ^ (hash >> 29)) &* 0xBF58_476D_1CE4_E5B9
        hash = (hash ^ third ^ (hash >> 31)) &* 0x94D0_49BB_1331_11EB
        return hash ^ (hash >> 32)
    }
}

extension HitKey {
    /// The key as three words in row order.
    @inline(__always)
    var packed: PackedHitKey {
        PackedHitKey(
            first: PackedHitKey.bits(hour) << 32 | PackedHitKey.bits(path),
            second: PackedHitKey.bits(status) << 32 | PackedHitKey.bits(userAgentClass),
            third: PackedHitKey.bits(vhost) << 32 | UInt64(kind))
    }

    /// The key a packed key was made from.
    init(_ packed: PackedHitKey) {
        self.init(
            hour: PackedHitKey.field(packed.first >> 32), vhost: PackedHitKey.field(packed.third >> 32),
            path: PackedHitKey.field(packed.first), status: PackedHitKey.field(packed.second >> 32),
            userAgentClass: PackedHitKey.field(packed.second), kind: UInt8(truncatingIfNeeded: packed.third))
    }
}

/// The pending hourly aggregates of a partition: `HitKey` → `HitTotals`, built for the per-line path.
///
/// An open-addressing table (linear probing, power-of-two size, at most half full) with keys and totals inline
/// in one slot array, so an update touches one cache line. A slot is empty when its hit count is zero (a stored
/// aggregate counts at least one hit). The table doubles when half full and keeps its capacity when drained.
/// Storage is allocated by hand, which keeps the per-line path free of copy-on-write and exclusivity checks.
/// Not thread-safe.
final class HitTable {
    /// One slot: a key and its sums; empty when `totals.hits == 0`.
    struct Entry {
        var key: PackedHitKey
        var totals: HitTotals
    }

    private var slots: UnsafeMutablePointer<Entry>
    private var capacity: Int
    /// The number of aggregates held.
    private(set) var count = 0

    /// - Parameter minimumCapacity: the number of aggregates to make room for before the first growth.
    init(minimumCapacity: Int = 1 << 15) {
        capacity = 16
        while capacity < minimumCapacity * 2 { capacity *= 2 }
        slots = Self.allocateEmpty(capacity)
    }

    deinit {
        free(slots)
    }

    var isEmpty: Bool { count == 0 }

    /// Counts one request of `bytes` bytes under `key`.
    /// - Complexity: O(1) expected; allocates only when the table doubles.
    @inline(__always)
    func add(_ key: HitKey, bytes: Int64) {
        add(key, totals: HitTotals(hits: 1, bytes: bytes))
    }

    /// Adds the sums of `totals.hits` requests under `key` (the parallel pipeline merges a chunk's aggregates).
    @inline(__always)
    func add(_ key: HitKey, totals: HitTotals) {
        let packed = key.packed
        let mask = capacity &- 1
        var slot = Int(truncatingIfNeeded: packed.hash) & mask
        while true {
            let entry = slots + slot
            if entry.pointee.totals.hits == 0 {
                entry.pointee = Entry(key: packed, totals: totals)
                count &+= 1
                if count &* 2 > capacity { grow() }
                return
            }
            if entry.pointee.key == packed {
                entry.pointee.totals.hits += totals.hits
                entry.pointee.totals.bytes += totals.bytes
                return
            }
            slot = (slot &+ 1) & mask
        }
    }

    /// The sums of `key`, if any request was counted under it.
    func totals(of key: HitKey) -> HitTotals? {
        let packed = key.packed
        let mask = capacity &- 1
        var slot = Int(truncatingIfNeeded: packed.hash) & mask
        while slots[slot].totals.hits != 0 {
            if slots[slot].key == packed { return slots[slot].totals }
            slot = (slot &+ 1) & mask
        }
        return nil
    }

    /// Every aggregate in row order (hour, path, status, user-agent class, virtual host, kind); the table is left empty
    /// with its capacity kept.
    ///
    /// - Complexity: O(n): a radix sort of one `UInt64` per aggregate (see ``CompactHitKeys``) where the fields'
    ///   ranges allow; O(n log n) comparisons of three-word keys otherwise.
    func drainSorted() -> [(key: HitKey, totals: HitTotals)] {
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        // Each slot is emptied as it is read: no second pass over the whole table.
        for slot in 0..<capacity where slots[slot].totals.hits != 0 {
            entries.append(slots[slot])
            slots[slot] = Self.empty
        }
        count = 0
        guard let compact = CompactHitKeys(entries.lazy.map(\.key), count: entries.count) else {
            entries.sort { $0.key < $1.key }
            return entries.map { (HitKey($0.key), $0.totals) }
        }
        var order = compact.sortKeys(entries.lazy.map(\.key))
        CompactHitKeys.radixSort(&order, bits: compact.indexBits..<compact.totalBits)
        return order.map { sortKey in
            let entry = entries[compact.index(of: sortKey)]
            return (HitKey(entry.key), entry.totals)
        }
    }

    /// Forgets every aggregate, keeping the capacity.
    func removeAll() {
        slots.update(repeating: Self.empty, count: capacity)
        count = 0
    }

    private static let empty = Entry(key: PackedHitKey(first: 0, second: 0, third: 0), totals: HitTotals())

    /// A table of empty slots. An empty slot is all zero bytes, so `calloc` makes it, and a large table comes
    /// zeroed from the system without a pass over it; the table is freed with `free`.
    private static func allocateEmpty(_ capacity: Int) -> UnsafeMutablePointer<Entry> {
        guard let memory = calloc(capacity, MemoryLayout<Entry>.stride) else {
            fatalError("out of memory for \(capacity) hourly aggregates")
        }
        return memory.bindMemory(to: Entry.self, capacity: capacity)
    }

    /// Doubles the slot array and re-inserts every aggregate.
    private func grow() {
        let old = slots
        let oldCapacity = capacity
        capacity *= 2
        slots = Self.allocateEmpty(capacity)
        let mask = capacity - 1
        for index in 0..<oldCapacity where old[index].totals.hits != 0 {
            var slot = Int(truncatingIfNeeded: old[index].key.hash) & mask
            while slots[slot].totals.hits != 0 { slot = (slot + 1) & mask }
            slots[slot] = old[index]
        }
        free(old)
    }
}

/// Packs the keys of a set of aggregates into single `UInt64` sort keys, when their fields' ranges fit: each of the
/// six fields (in row order) becomes its offset from the field's smallest value, in just the bits its range needs,
/// followed by the aggregate's index in the low bits. Sorting these integers sorts the aggregates in row order.
///
/// A day's aggregates need about 45 bits (24 hours, a hundred thousand paths, a few hundred statuses and
/// user-agent classes) plus 20 for the index at most, so the packing fails only for extreme inputs.
struct CompactHitKeys {
    /// Per field (hour, path, status, user-agent class, virtual host, kind): its smallest value and its shift in
    /// the sort key.
    private var minima: [UInt64] = []
    private var shifts: [UInt64] = []
    /// The low bits of a sort key that hold the index.
    let indexBits: Int
    /// The bits a sort key uses: the fields are above `indexBits` and below this.
    let totalBits: Int

    /// The packing of `keys`, or nil when the fields' ranges and the index need more than 64 bits.
    init?<Keys: Sequence>(_ keys: Keys, count: Int) where Keys.Element == PackedHitKey {
        // The extremes of the six fields (lanes 0 to 5), in vectors: this pass runs over every aggregate.
        var lowest = SIMD8<UInt64>(repeating: .max)
        var highest = SIMD8<UInt64>(repeating: 0)
        for key in keys {
            let fields = Self.fields(of: key)
            let vector = SIMD8<UInt64>(fields.0, fields.1, fields.2, fields.3, fields.4, fields.5, 0, 0)
            lowest = pointwiseMin(lowest, vector)
            highest = pointwiseMax(highest, vector)
        }
        let low = (0..<6).map { lowest[$0] }
        let high = (0..<6).map { highest[$0] }
        indexBits = max(1, Int.bitWidth - max(0, count - 1).leadingZeroBitCount)
        var shift = UInt64(indexBits)
        shifts = [UInt64](repeating: 0, count: 6)
        for field in (0..<6).reversed() {
            shifts[field] = shift
            shift += count == 0 ? 0 : UInt64(UInt64.bitWidth - (high[field] - low[field]).leadingZeroBitCount)
        }
        guard shift <= 64 else { return nil }
        totalBits = Int(shift)
        minima = count == 0 ? [0, 0, 0, 0, 0, 0] : low
    }

    /// The six fields of a key in row order, each as the unsigned 32-bit pattern that orders like the field.
    @inline(__always)
    private static func fields(of key: PackedHitKey) -> (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) {
        (
            key.first >> 32, key.first & 0xFFFF_FFFF, key.second >> 32, key.second & 0xFFFF_FFFF, key.third >> 32,
            key.third & 0xFFFF_FFFF
        )
    }

    /// The sort keys of `keys`, the aggregate's index in `keys` in the low bits of each.
    func sortKeys(_ keys: some Sequence<PackedHitKey>) -> [UInt64] {
        // The minima and shifts in locals, out of the arrays: this loop runs over every aggregate.
        let (minimum0, minimum1, minimum2) = (minima[0], minima[1], minima[2])
        let (minimum3, minimum4, minimum5) = (minima[3], minima[4], minima[5])
        let (shift0, shift1, shift2, shift3, shift4, shift5) = (shifts[0], shifts[1], shifts[2], shifts[3], shifts[4], shifts[5])
        // A field whose offset is non-zero has a shift below 64 (the ranges were checked to fit); `&<<` masks the
        // shift of the others, whose offset is zero anyway.
        var result: [UInt64] = []
        for (index, key) in keys.enumerated() {
            let fields = Self.fields(of: key)
            result.append(
                UInt64(index) | (fields.0 &- minimum0) &<< shift0 | (fields.1 &- minimum1) &<< shift1
                    | (fields.2 &- minimum2) &<< shift2 | (fields.3 &- minimum3) &<< shift3
                    | (fields.4 &- minimum4) &<< shift4 | (fields.5 &- minimum5) &<< shift5)
        }
        return result
    }

    /// The aggregate index a sort key carries.
    @inline(__always)
    func index(of sortKey: UInt64) -> Int {
        Int(truncatingIfNeeded: indexBits == 64 ? sortKey : sortKey & ((1 << UInt64(indexBits)) - 1))
    }

    /// Sorts `keys` by their bits in `bits` (the other bits are ignored: equal there, keys keep their order), least
    /// significant digit first, eleven bits a pass: for a day's hits four passes of counting and scattering.
    ///
    /// - Complexity: O(n · bits.count / 11), plus a buffer of n keys.
    static func radixSort(_ keys: inout [UInt64], bits: Range<Int>) {
        let digitBits = 11
        var buffer = [UInt64](repeating: 0, count: keys.count)
        var counts = [Int](repeating: 0, count: 1 << digitBits)
        var shift = bits.lowerBound
        while shift < bits.upperBound {
            let digitShift = UInt64(shift)
            let digitMask = UInt64(1 << min(digitBits, bits.upperBound - shift) - 1)  // the last digit may be narrower
            keys.withUnsafeBufferPointer { source in
                buffer.withUnsafeMutableBufferPointer { destination in
                    counts.withUnsafeMutableBufferPointer { counts in
                        counts.update(repeating: 0)
                        for key in source { counts[Int(truncatingIfNeeded: (key >> digitShift) & digitMask)] += 1 }
                        var start = 0
                        for digit in counts.indices {
                            let count = counts[digit]
                            counts[digit] = start
                            start += count
                        }
                        for key in source {
                            let digit = Int(truncatingIfNeeded: (key >> digitShift) & digitMask)
                            destination[counts[digit]] = key
                            counts[digit] += 1
                        }
                    }
                }
            }
            swap(&keys, &buffer)
            shift += digitBits
        }
    }
}
