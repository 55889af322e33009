internal import Glibc  // calloc, realloc and free for the index and the aggregates

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
/// The aggregates are stored densely, in order of first use, behind an open-addressing index (linear probing,
/// power-of-two size, at most three quarters full) of one word a slot: the upper half of the key's hash and the
/// aggregate's position + 1 (0: empty). A probe compares hashes in the small index and touches an aggregate only
/// when they match, and the index (8 bytes a slot) stays in the cache where slots holding whole aggregates (40 bytes)
/// would not: the busiest hour of the benchmark's day, 20,000 aggregates, has a 256 KB index instead of a 1.3 MB
/// table.
/// Growing re-inserts positions only, and draining reads the dense aggregates instead of scanning every slot.
/// Both keep their capacity when drained. Storage is allocated by hand, which keeps the per-line path free of
/// copy-on-write and exclusivity checks. Not thread-safe.
final class HitTable {
    /// One aggregate: a key and its sums.
    struct Entry {
        var key: PackedHitKey
        var totals: HitTotals
    }

    /// Slot → the upper 32 bits of the key's hash, then the entry's position + 1 in the lower 32; 0: empty.
    private var slots: UnsafeMutablePointer<UInt64>
    private var slotCount: Int
    /// The aggregates in order of first use: `count` of them initialised, room for `entryCapacity`.
    private var entries: UnsafeMutablePointer<Entry>
    private var entryCapacity: Int
    /// The number of aggregates held.
    private(set) var count = 0

    private static let hashMask: UInt64 = 0xFFFF_FFFF_0000_0000
    /// The index grows when it is fuller than this. Three quarters, not one half: an hour's index is new memory,
    /// whose first touch (zeroing its pages) cost the ingest's thread more than the longer probes, which stay in
    /// the same cache lines (measured in docs/DESIGN.md).
    private static let maximumLoad = (numerator: 3, denominator: 4)

    /// - Parameter minimumCapacity: the number of aggregates to make room for before the first growth.
    init(minimumCapacity: Int = 1 << 15) {
        slotCount = 16
        while slotCount * Self.maximumLoad.numerator < minimumCapacity * Self.maximumLoad.denominator {
            slotCount *= 2
        }
        slots = Self.allocate(UInt64.self, count: slotCount, zeroed: true)
        entryCapacity = slotCount * Self.maximumLoad.numerator / Self.maximumLoad.denominator
        entries = Self.allocate(Entry.self, count: entryCapacity, zeroed: false)
    }

    deinit {
        free(slots)
        free(entries)  // `Entry` is trivial: nothing to deinitialise
    }

    var isEmpty: Bool { count == 0 }

    /// Counts one request of `bytes` bytes under `key`.
    /// - Complexity: O(1) expected; allocates only when the table doubles.
    @inline(__always)
    func add(_ key: HitKey, bytes: Int64) {
        let packed = key.packed
        add(packed, hash: packed.hash, totals: HitTotals(hits: 1, bytes: bytes))
    }

    /// Counts one request of `bytes[i]` bytes under `keys[i]`, for each `i` in order, as `add(_:bytes:)` one key
    /// after another does (the parallel pipeline's sequencer adds a segment of rows at once).
    ///
    /// A large table's index and aggregates are out of the cache, and a probe waits for its slot, then for its
    /// aggregate, before the next one starts. So the keys go a group at a time: first the hashes and home slots of
    /// the whole group are read, then the aggregates those slots point at, each pass a run of independent loads
    /// whose cache misses overlap, and only then are the keys added, with their memory at hand.
    func merge(_ keys: UnsafeBufferPointer<PackedHitKey>, bytes: UnsafeBufferPointer<Int64>) {
        precondition(keys.count == bytes.count, "one byte count a key")
        let groupSize = 16
        var touched: UInt64 = 0
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: groupSize) { hashes in
            var groupStart = 0
            while groupStart < keys.count {
                let group = groupStart..<min(groupStart + groupSize, keys.count)
                let mask = slotCount &- 1
                for index in group {
                    let hash = keys[index].hash
                    hashes[index &- groupStart] = hash
                    touched &+= slots[Int(truncatingIfNeeded: hash) & mask]
                }
                for index in group {
                    let stored = slots[Int(truncatingIfNeeded: hashes[index &- groupStart]) & mask]
                    guard stored != 0 else { continue }
                    touched &+= entries[Int(truncatingIfNeeded: stored & ~Self.hashMask) &- 1].key.first
                }
                for index in group {
                    add(keys[index], hash: hashes[index &- groupStart], totals: HitTotals(hits: 1, bytes: bytes[index]))
                }
                groupStart = group.upperBound
            }
        }
        touchedSum = touched
    }

    /// Where `merge` leaves the sum of the words its early passes read, so that the compiler keeps those loads.
    private var touchedSum: UInt64 = 0

    /// Adds `totals` under the packed key `packed` whose hash is `hash`.
    @inline(__always)
    private func add(_ packed: PackedHitKey, hash: UInt64, totals: HitTotals) {
        let mask = slotCount &- 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let stored = slots[slot]
            if stored == 0 {
                insert(Entry(key: packed, totals: totals), hash: hash, at: slot)
                return
            }
            if stored & Self.hashMask == hash & Self.hashMask {
                let entry = entries + (Int(truncatingIfNeeded: stored & ~Self.hashMask) &- 1)
                if entry.pointee.key == packed {
                    entry.pointee.totals.hits += totals.hits
                    entry.pointee.totals.bytes += totals.bytes
                    return
                }
            }
            slot = (slot &+ 1) & mask
        }
    }

    /// The sums of `key`, if any request was counted under it.
    func totals(of key: HitKey) -> HitTotals? {
        let packed = key.packed
        let mask = slotCount &- 1
        var slot = Int(truncatingIfNeeded: packed.hash) & mask
        while slots[slot] != 0 {
            let entry = entries[Int(truncatingIfNeeded: slots[slot] & ~Self.hashMask) - 1]
            if entry.key == packed { return entry.totals }
            slot = (slot &+ 1) & mask
        }
        return nil
    }

    /// Every aggregate in row order (hour, path, status, user-agent class, virtual host, kind), as columns; the
    /// table is left empty with its capacity kept.
    ///
    /// With a runner, each step is cut into ranges that its threads and the calling thread do at once (the end
    /// of a run, where the rest waits for this).
    ///
    /// - Complexity: O(n): a radix sort of one `UInt64` per aggregate (see ``CompactHitKeys``) where the fields'
    ///   ranges allow; O(n log n) comparisons of three-word keys otherwise.
    func drainSorted(on runner: (any BackgroundJobRunner)? = nil) -> SortedHits {
        defer { removeAll() }
        let stored = UnsafeBufferPointer(start: entries, count: count)
        guard let compact = CompactHitKeys(keysOf: stored) else {
            return SortedHits(stored.sorted { $0.key < $1.key })
        }
        var order = compact.sortKeys(stored, on: runner)
        CompactHitKeys.radixSort(&order, bits: compact.indexBits..<compact.totalBits, on: runner)
        return SortedHits(sortKeys: order, of: compact, totals: stored, on: runner)
    }

    /// Frees the index and the aggregates, leaving an empty table with the least room (a table drained for the last
    /// time gives its memory back for what comes next).
    func releaseStorage() {
        free(slots)
        free(entries)
        (slotCount, entryCapacity, count) = (16, 12, 0)
        slots = Self.allocate(UInt64.self, count: slotCount, zeroed: true)
        entries = Self.allocate(Entry.self, count: entryCapacity, zeroed: false)
    }

    /// Forgets every aggregate, keeping the capacity.
    func removeAll() {
        slots.update(repeating: 0, count: slotCount)
        count = 0
    }

    /// Memory for `count` values of a trivial type, from `calloc` when `zeroed` (a large index then comes zeroed
    /// from the system without a pass over it); freed with `free`.
    private static func allocate<T>(_: T.Type, count: Int, zeroed: Bool) -> UnsafeMutablePointer<T> {
        let memory = zeroed ? calloc(count, MemoryLayout<T>.stride) : malloc(count * MemoryLayout<T>.stride)
        guard let memory else { fatalError("out of memory for \(count) hourly aggregates") }
        return memory.bindMemory(to: T.self, capacity: count)
    }

    /// Appends a new aggregate and points the empty `slot` at it; grows the index past ``maximumLoad``.
    @inline(never)  // out of line, so that the probe loop inlined into the per-line path stays small
    private func insert(_ entry: Entry, hash: UInt64, at slot: Int) {
        if count == entryCapacity { growEntries() }
        (entries + count).initialize(to: entry)
        count += 1
        slots[slot] = hash & Self.hashMask | UInt64(count)
        if count * Self.maximumLoad.denominator > slotCount * Self.maximumLoad.numerator { growSlots() }
    }

    /// Doubles the room for aggregates; `realloc` moves a large block by remapping its pages, without copying.
    private func growEntries() {
        entryCapacity *= 2
        guard let memory = realloc(entries, entryCapacity * MemoryLayout<Entry>.stride) else {
            fatalError("out of memory for \(entryCapacity) hourly aggregates")
        }
        entries = memory.bindMemory(to: Entry.self, capacity: entryCapacity)
    }

    /// Doubles the index and re-inserts every aggregate's position, reading the aggregates in order.
    private func growSlots() {
        precondition(count < Int(UInt32.max), "more hourly aggregates than the index can number")
        free(slots)
        slotCount *= 2
        slots = Self.allocate(UInt64.self, count: slotCount, zeroed: true)
        let mask = slotCount - 1
        for index in 0..<count {
            let hash = entries[index].key.hash
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = hash & Self.hashMask | UInt64(index + 1)
        }
    }
}

/// A partition's hourly aggregates in row order, one array per field: what `HitTable.drainSorted()` returns and a
/// `hits` row group is built from.
struct SortedHits {
    var hours: [Int32]
    var vhosts: [Int32]
    var paths: [Int32]
    var statuses: [Int32]
    var userAgentClasses: [Int32]
    var kinds: [UInt8]
    var hits: [Int64]
    var bytes: [Int64]

    /// The columns of `entries`, in their order, filled in one pass of stores into preallocated arrays.
    init(_ entries: some Collection<HitTable.Entry>) {
        let count = entries.count
        let zeros32 = [Int32](repeating: 0, count: count)
        let zeros64 = [Int64](repeating: 0, count: count)
        (hours, vhosts, paths, statuses, userAgentClasses) = (zeros32, zeros32, zeros32, zeros32, zeros32)
        (kinds, hits, bytes) = ([UInt8](repeating: 0, count: count), zeros64, zeros64)
        for (row, entry) in entries.enumerated() {
            let key = HitKey(entry.key)
            hours[row] = key.hour
            vhosts[row] = key.vhost
            paths[row] = key.path
            statuses[row] = key.status
            userAgentClasses[row] = key.userAgentClass
            kinds[row] = key.kind
            hits[row] = entry.totals.hits
            bytes[row] = entry.totals.bytes
        }
    }

    /// The columns of the aggregates that `sortKeys` (from ``CompactHitKeys/sortKeys(_:on:)``, sorted) name, in
    /// their order.
    ///
    /// Each column is one pass over the sort keys: with a runner and at least ``columnJobMinimum`` aggregates, cut
    /// into ranges on the runner's threads; otherwise a plain loop on this thread, which for an hour's table is
    /// faster than any split. (Filling every column of a row at once, through a lazy map of the aggregates, took 133
    /// instructions a row, against 55 for the passes: callgrind.)
    init(
        sortKeys: [UInt64], of packing: CompactHitKeys, totals entries: UnsafeBufferPointer<HitTable.Entry>,
        on runner: (any BackgroundJobRunner)?
    ) {
        let runner = sortKeys.count >= Self.columnJobMinimum ? runner : nil
        let count = sortKeys.count
        func field(_ field: Int) -> [Int32] {
            let decoder = packing.decoder(of: field)
            return [Int32](count: count, on: runner) { PackedHitKey.field(decoder.value(in: sortKeys[$0])) }
        }
        (hours, paths, statuses, userAgentClasses, vhosts) = (field(0), field(1), field(2), field(3), field(4))
        let kind = packing.decoder(of: 5)
        kinds = [UInt8](count: count, on: runner) { UInt8(truncatingIfNeeded: kind.value(in: sortKeys[$0])) }
        // Only the sums need the aggregates, out of order: read once.
        let totals = [HitTotals](count: count, on: runner) { entries[packing.index(of: sortKeys[$0])].totals }
        hits = [Int64](count: count, on: runner) { totals[$0].hits }
        bytes = [Int64](count: count, on: runner) { totals[$0].bytes }
    }

    /// The fewest aggregates whose columns are built one column a pass, in ranges on a runner's threads.
    static let columnJobMinimum = 1 << 16

    var count: Int { hours.count }
    var isEmpty: Bool { hours.isEmpty }

    /// The aggregate at `row`.
    subscript(row: Int) -> (key: HitKey, totals: HitTotals) {
        (
            HitKey(
                hour: hours[row], vhost: vhosts[row], path: paths[row], status: statuses[row],
                userAgentClass: userAgentClasses[row], kind: kinds[row]),
            HitTotals(hits: hits[row], bytes: bytes[row])
        )
    }

    /// Every aggregate, in row order.
    var rows: [(key: HitKey, totals: HitTotals)] { (0..<count).map { self[$0] } }
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

    /// The smallest and largest value of each of the six fields over a set of keys (see ``fields(of:)``).
    private struct Extremes {
        var low = (UInt64.max, UInt64.max, UInt64.max, UInt64.max, UInt64.max, UInt64.max)
        var high = (UInt64.zero, UInt64.zero, UInt64.zero, UInt64.zero, UInt64.zero, UInt64.zero)

        @inline(__always)
        mutating func add(_ key: PackedHitKey) {
            let fields = CompactHitKeys.fields(of: key)
            (low.0, high.0) = (min(low.0, fields.0), max(high.0, fields.0))
            (low.1, high.1) = (min(low.1, fields.1), max(high.1, fields.1))
            (low.2, high.2) = (min(low.2, fields.2), max(high.2, fields.2))
            (low.3, high.3) = (min(low.3, fields.3), max(high.3, fields.3))
            (low.4, high.4) = (min(low.4, fields.4), max(high.4, fields.4))
            (low.5, high.5) = (min(low.5, fields.5), max(high.5, fields.5))
        }
    }

    /// The packing of `keys`, or nil when the fields' ranges and the index need more than 64 bits.
    init?(_ keys: some Sequence<PackedHitKey>, count: Int) {
        var extremes = Extremes()
        for key in keys { extremes.add(key) }
        self.init(extremes, count: count)
    }

    /// The packing of the keys of `entries` (read in place: this pass runs over every aggregate of a table).
    init?(keysOf entries: UnsafeBufferPointer<HitTable.Entry>) {
        var extremes = Extremes()
        for index in entries.indices { extremes.add(entries[index].key) }
        self.init(extremes, count: entries.count)
    }

    private init?(_ extremes: Extremes, count: Int) {
        let (low0, low1, low2, low3, low4, low5) = extremes.low
        let (high0, high1, high2, high3, high4, high5) = extremes.high
        let low = [low0, low1, low2, low3, low4, low5]
        let high = [high0, high1, high2, high3, high4, high5]
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

    /// The sort keys of `entries`' keys, the aggregate's index in `entries` in the low bits of each; in ranges on
    /// the runner's threads.
    func sortKeys(_ entries: UnsafeBufferPointer<HitTable.Entry>, on runner: (any BackgroundJobRunner)?) -> [UInt64] {
        // The minima and shifts in locals, out of the arrays: this loop runs over every aggregate.
        let (minimum0, minimum1, minimum2) = (minima[0], minima[1], minima[2])
        let (minimum3, minimum4, minimum5) = (minima[3], minima[4], minima[5])
        let (shift0, shift1, shift2) = (shifts[0], shifts[1], shifts[2])
        let (shift3, shift4, shift5) = (shifts[3], shifts[4], shifts[5])
        // A field whose offset is non-zero has a shift below 64 (the ranges were checked to fit); `&<<` masks the
        // shift of the others, whose offset is zero anyway.
        @inline(__always)
        func sortKey(_ index: Int) -> UInt64 {
            let fields = Self.fields(of: entries[index].key)
            return UInt64(index) | (fields.0 &- minimum0) &<< shift0 | (fields.1 &- minimum1) &<< shift1
                | (fields.2 &- minimum2) &<< shift2 | (fields.3 &- minimum3) &<< shift3
                | (fields.4 &- minimum4) &<< shift4 | (fields.5 &- minimum5) &<< shift5
        }
        return [UInt64](count: entries.count, on: runner) { sortKey($0) }
    }

    /// Reads one field (0: hour … 5: kind) back out of sort keys.
    struct FieldDecoder {
        let shift: UInt64
        let mask: UInt64
        let minimum: UInt64

        /// The field's 32-bit pattern, as `CompactHitKeys.fields(of:)` gives it.
        @inline(__always)
        func value(in sortKey: UInt64) -> UInt64 { (sortKey &>> shift) & mask &+ minimum }
    }

    /// The decoder of field `field` (0: hour … 5: kind, in row order) of this packing's sort keys.
    func decoder(of field: Int) -> FieldDecoder {
        let top = field == 0 ? UInt64(totalBits) : shifts[field - 1]
        let width = top - shifts[field]
        return FieldDecoder(shift: shifts[field], mask: width >= 64 ? .max : (1 << width) - 1, minimum: minima[field])
    }

    /// The aggregate index a sort key carries.
    @inline(__always)
    func index(of sortKey: UInt64) -> Int {
        Int(truncatingIfNeeded: indexBits == 64 ? sortKey : sortKey & ((1 << UInt64(indexBits)) - 1))
    }

    /// The width of a radix sort's digit: eleven bits, a count table of 16 KB that stays in the L1 cache.
    private static let digitBits = 11

    /// Sorts `keys` by their bits in `bits` (the other bits are ignored: equal there, keys keep their order), least
    /// significant digit first, eleven bits a pass: for a day's hits four passes of counting and scattering.
    ///
    /// With a runner, a first pass scatters the keys by their most significant digit, which cuts them into ranges
    /// (runs of digits) that are then sorted independently, one on each thread: a pass more in all, but about half
    /// as many on each thread.
    ///
    /// - Complexity: O(n · bits.count / 11), plus a buffer of n keys.
    static func radixSort(_ keys: inout [UInt64], bits: Range<Int>, on runner: (any BackgroundJobRunner)? = nil) {
        var buffer = [UInt64](repeating: 0, count: keys.count)
        let sortedInBuffer = keys.withUnsafeMutableBufferPointer { keysPointer in
            buffer.withUnsafeMutableBufferPointer { bufferPointer in
                let (keys, buffer) = (keysPointer, bufferPointer)
                let topDigit = max(bits.lowerBound, bits.upperBound - digitBits)..<bits.upperBound
                let even = evenRanges(keys.count, on: runner, minimumSize: 1 << 15)
                guard even.count > 1, topDigit.lowerBound > bits.lowerBound else {
                    return sortLeastSignificantFirst(keys, buffer: buffer, bits: bits)
                }
                // The keys of a range come before those of the next; sorted by all of `bits` (the last pass by
                // the top digit again: a range holds the keys of several), each range is in its final place.
                let starts = scatter(UnsafeBufferPointer(keys), into: buffer, digit: topDigit)
                forEachRange(ranges(splitting: starts, like: even), on: runner) { range in
                    _ = sortLeastSignificantFirst(
                        UnsafeMutableBufferPointer(rebasing: buffer[range]),
                        buffer: UnsafeMutableBufferPointer(rebasing: keys[range]), bits: bits)
                }
                // The first pass left the keys in `buffer`; an even number of passes more brings them back there.
                return passes(over: bits).isMultiple(of: 2)
            }
        }
        if sortedInBuffer { swap(&keys, &buffer) }
    }

    /// The number of passes that sort by `bits`.
    private static func passes(over bits: Range<Int>) -> Int { (bits.count + digitBits - 1) / digitBits }

    /// Sorts `keys` by `bits`, least significant digit first, scattering between `keys` and `buffer` (as many);
    /// returns whether the sorted keys ended in `buffer` (after an odd number of passes).
    private static func sortLeastSignificantFirst(
        _ keys: UnsafeMutableBufferPointer<UInt64>, buffer: UnsafeMutableBufferPointer<UInt64>, bits: Range<Int>
    ) -> Bool {
        var (source, destination) = (keys, buffer)
        for shift in stride(from: bits.lowerBound, to: bits.upperBound, by: digitBits) {
            let digit = shift..<min(shift + digitBits, bits.upperBound)  // the last digit may be narrower
            _ = scatter(UnsafeBufferPointer(source), into: destination, digit: digit)
            swap(&source, &destination)
        }
        return !passes(over: bits).isMultiple(of: 2)
    }

    /// One counting pass: copies `source` into `destination` ordered by the bits `digit` of each key (stable).
    /// - Returns: where each digit's keys start in `destination`, and its end.
    private static func scatter(
        _ source: UnsafeBufferPointer<UInt64>, into destination: UnsafeMutableBufferPointer<UInt64>,
        digit: Range<Int>
    ) -> [Int] {
        let shift = UInt64(digit.lowerBound)
        let mask = UInt64(1 << digit.count - 1)
        var counts = [Int](repeating: 0, count: 1 << digit.count + 1)
        counts.withUnsafeMutableBufferPointer { counts in
            for key in source { counts[Int(truncatingIfNeeded: (key >> shift) & mask)] += 1 }
            var start = 0
            for digit in counts.indices {
                (counts[digit], start) = (start, start + counts[digit])
            }
            for key in source {
                let digit = Int(truncatingIfNeeded: (key >> shift) & mask)
                destination[counts[digit]] = key
                counts[digit] += 1
            }
        }
        // Each count is now the end of its digit's keys: the start of the next.
        counts.insert(0, at: 0)
        counts.removeLast()
        return counts
    }

    /// Ranges of keys scattered by a digit (`starts`: where each digit's keys start, then their end), each a run of
    /// whole digits, about as large as `even`'s ranges (empty ranges dropped).
    private static func ranges(splitting starts: [Int], like even: [Range<Int>]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var lower = 0
        var digit = 0
        for target in even.dropLast().map(\.upperBound) {
            // The digit boundary nearest to the even cut.
            while digit + 1 < starts.count && abs(starts[digit + 1] - target) <= abs(starts[digit] - target) {
                digit += 1
            }
            if starts[digit] > lower {
                result.append(lower..<starts[digit])
                lower = starts[digit]
            }
        }
        if let end = starts.last, end > lower { result.append(lower..<end) }
        return result
    }
}
