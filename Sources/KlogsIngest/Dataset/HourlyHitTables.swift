/// A partition's pending hourly aggregates, one `HitTable` per hour.
///
/// Log lines come in time order, so nearly every line updates an aggregate of the current hour. One hour's table
/// (about 15,000 aggregates in the benchmark's day, 0.2 MB) stays in the core's cache, where a whole day's table
/// (350,000 aggregates behind an 8 MB index) does not, and a line's look-up then waits for memory twice.
/// The hour leads the row order, so the day's rows are each hour's sorted rows one hour after another.
///
/// A partition holds one UTC day, and a line's hour and day come from the same timestamp, so there are at most 24
/// tables (a table a key's hour, found by a linear search, would not suit keys of thousands of hours).
/// Not thread-safe.
final class HourlyHitTables {
    /// The least room a new hour's table starts with (it doubles as needed).
    private static let hourCapacity = 1 << 12
    /// The most aggregates an hour's table has held when the lines moved on to another hour: a new hour's table
    /// starts with that room, since traffic changes little from one hour to the next, instead of doubling its way
    /// there (each doubling re-inserts every aggregate). At most ``largestStartCapacity``: a new table's probes
    /// touch pages all over its index, so a big index under few aggregates would cost memory.
    private var largestHour = 0
    private static let largestStartCapacity = 1 << 16

    /// The hours that have a table (the upper word of `PackedHitKey.first`, ordered as the hour), ascending, and
    /// their tables.
    private var hours: [UInt64] = []
    private var tables: [HitTable] = []
    /// The table last added to and its hour: the per-line path's shortcut, held by `tables`.
    private unowned(unsafe) var current: HitTable?
    private var currentHour: UInt64 = .max
    /// The number of aggregates held, over every hour.
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// Counts one request of `bytes` bytes under `key`.
    @inline(__always)
    func add(_ key: HitKey, bytes: Int64) {
        let packed = key.packed
        let table = table(ofHour: Self.hour(of: packed))
        let before = table.count
        table.add(key, bytes: bytes)
        count += table.count &- before
    }

    /// Counts one request of `bytes[i]` bytes under `keys[i]` for each `i`, as `add(_:bytes:)` one key after
    /// another does: each run of keys of one hour goes to that hour's `HitTable.merge`.
    func merge(_ keys: UnsafeBufferPointer<PackedHitKey>, bytes: UnsafeBufferPointer<Int64>) {
        precondition(keys.count == bytes.count, "one byte count a key")
        var start = 0
        while start < keys.count {
            let hour = Self.hour(of: keys[start])
            var end = start + 1
            while end < keys.count && Self.hour(of: keys[end]) == hour { end += 1 }
            let table = table(ofHour: hour)
            let before = table.count
            let run = start..<end
            table.merge(UnsafeBufferPointer(rebasing: keys[run]), bytes: UnsafeBufferPointer(rebasing: bytes[run]))
            count += table.count - before
            start = end
        }
    }

    /// The sums of `key`, if any request was counted under it.
    func totals(of key: HitKey) -> HitTotals? {
        guard let index = index(ofHour: Self.hour(of: key.packed)) else { return nil }
        return tables[index].totals(of: key)
    }

    /// Every aggregate in row order, as columns (see `HitTable.drainSorted(on:)`); the tables are freed.
    ///
    /// The hours are independent, so with a runner they are drained a few at once, one on each of its threads (an
    /// hour's table is too small for its own sort to be worth splitting), then appended in order. Each table frees
    /// its memory once drained, and only then are the combined columns allocated, mostly in what the tables gave
    /// back: in new memory, the first touch of each page (the system zeroing it) held up the ingest's thread for
    /// 13 ms at the end of the benchmark's day (docs/DESIGN.md).
    func drainSorted(on runner: (any BackgroundJobRunner)? = nil) -> SortedHits {
        let total = count
        var parts: [SortedHits] = []
        let filled = tables.filter { !$0.isEmpty }
        parts.reserveCapacity(filled.count)
        let wave = max(1, runner?.parallelism ?? 1)
        let drained = UnsafeMutableBufferPointer<SortedHits>.allocate(capacity: wave)
        defer { drained.deallocate() }
        for start in stride(from: 0, to: filled.count, by: wave) {
            let group = filled[start..<min(start + wave, filled.count)]
            // Each hour writes only its own element of `drained`; forEachRange returns when all are written.
            forEachRange(group.indices.map { $0..<($0 + 1) }, on: runner) { range in
                let table = group[range.lowerBound]
                (drained.baseAddress! + (range.lowerBound - start)).initialize(to: table.drainSorted(on: runner))
                table.releaseStorage()
            }
            for index in 0..<group.count { parts.append((drained.baseAddress! + index).move()) }
        }
        removeAll()
        var combined = SortedHits(reservingCapacity: total)
        for part in parts { combined.append(part) }
        return combined
    }

    /// Forgets every aggregate and frees the tables: a partition drained before its day is over (at its limits)
    /// fills the later hours' tables next, and the earlier hours' tables, kept at their size, would hold the
    /// memory of the whole day.
    func removeAll() {
        current = nil
        currentHour = .max
        tables.removeAll()
        hours.removeAll()
        count = 0
    }

    /// The hour field of a packed key, as bits that order like the hour.
    @inline(__always)
    private static func hour(of key: PackedHitKey) -> UInt64 { key.first >> 32 }

    /// The table of `hour`, made when the hour is new.
    @inline(__always)
    private func table(ofHour hour: UInt64) -> HitTable {
        if hour == currentHour, let current { return current }
        return switchTable(toHour: hour)
    }

    @inline(never)  // out of line: a line changes the hour once an hour
    private func switchTable(toHour hour: UInt64) -> HitTable {
        let table: HitTable
        if let current { largestHour = max(largestHour, current.count) }
        if let index = index(ofHour: hour) {
            table = tables[index]
        } else {
            table = HitTable(
                minimumCapacity: max(Self.hourCapacity, min(largestHour, Self.largestStartCapacity)))
            let position = hours.firstIndex { $0 > hour } ?? hours.count
            hours.insert(hour, at: position)
            tables.insert(table, at: position)
        }
        current = table
        currentHour = hour
        return table
    }

    private func index(ofHour hour: UInt64) -> Int? {
        hours.firstIndex(of: hour)
    }
}

extension SortedHits {
    /// No rows yet, with room for `capacity`.
    init(reservingCapacity capacity: Int) {
        self.init([HitTable.Entry]())
        hours.reserveCapacity(capacity)
        vhosts.reserveCapacity(capacity)
        paths.reserveCapacity(capacity)
        statuses.reserveCapacity(capacity)
        userAgentClasses.reserveCapacity(capacity)
        kinds.reserveCapacity(capacity)
        hits.reserveCapacity(capacity)
        bytes.reserveCapacity(capacity)
    }

    /// Appends the rows of `part` (sorted, and after every row held) to these.
    mutating func append(_ part: SortedHits) {
        hours += part.hours
        vhosts += part.vhosts
        paths += part.paths
        statuses += part.statuses
        userAgentClasses += part.userAgentClasses
        kinds += part.kinds
        hits += part.hits
        bytes += part.bytes
    }
}
