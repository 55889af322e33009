/// A partition's pending hourly aggregates, one `HitTable` per hour.
///
/// Log lines come in time order, so nearly every line updates an aggregate of the current hour. One hour's table
/// (about 15,000 aggregates in the benchmark's day, 0.2 MB) stays in the core's cache, where a whole day's table
/// (350,000 aggregates behind an 8 MB index) does not, and a line's look-up then waits for memory twice.
/// The hour leads the row order, so the day's rows are each hour's sorted rows one hour after another.
///
/// Hours are drained as the day goes: when the lines reach a new hour, every hour two or more before it (and after
/// the last one drained) is sorted into ``drained``, the day's rows so far, and its table is used again for the new
/// hour. A line may still come for a drained hour (a log is in time order only roughly, or several logs follow each
/// other): its hour gets a table again, a *late* one, kept to the end of the day and merged into the drained rows
/// then. So the day's tables take the memory of two or three hours instead of 24, new memory whose first touch
/// (the system zeroing it) held up the ingest's thread, and the end of a run sorts the last hours only.
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
    /// The rows of the hours drained so far, in row order, and the last of those hours (nil: none drained). A
    /// table of an hour up to it is a late one.
    private var drained = SortedHits([HitTable.Entry]())
    private var lastDrainedHour: UInt64?
    /// The number of aggregates held, over every hour: exact, but for a late table's aggregates, which count even
    /// when a drained row has their key (an upper bound then, as the partition's limits need).
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
        let pending = index(ofHour: Self.hour(of: key.packed)).flatMap { tables[$0].totals(of: key) }
        guard let drainedTotals = drained.totals(of: key.packed) else { return pending }
        return HitTotals(
            hits: drainedTotals.hits + (pending?.hits ?? 0), bytes: drainedTotals.bytes + (pending?.bytes ?? 0))
    }

    /// Every aggregate in row order, as columns (see `HitTable.drainSorted(on:)`); the tables are freed.
    ///
    /// The hours not drained yet are independent, so with a runner they are drained a few at once, one on each of
    /// its threads (an hour's table is too small for its own sort to be worth splitting), then appended in order
    /// to the rows drained before (late hours merged into them). Each table frees its memory once drained.
    func drainSorted(on runner: (any BackgroundJobRunner)? = nil) -> SortedHits {
        var parts: [SortedHits] = []
        let filled = tables.filter { !$0.isEmpty }
        let lateCount = zip(hours, tables).filter { hour, table in !table.isEmpty && isLate(hour) }.count
        parts.reserveCapacity(filled.count)
        let wave = max(1, runner?.parallelism ?? 1)
        let sorted = UnsafeMutableBufferPointer<SortedHits>.allocate(capacity: wave)
        defer { sorted.deallocate() }
        for start in stride(from: 0, to: filled.count, by: wave) {
            let group = filled[start..<min(start + wave, filled.count)]
            // Each hour writes only its own element of `sorted`; forEachRange returns when all are written.
            forEachRange(group.indices.map { $0..<($0 + 1) }, on: runner) { range in
                let table = group[range.lowerBound]
                (sorted.baseAddress! + (range.lowerBound - start)).initialize(to: table.drainSorted(on: runner))
                table.releaseStorage()
            }
            for index in 0..<group.count { parts.append((sorted.baseAddress! + index).move()) }
        }
        var combined = drained
        drained = SortedHits([HitTable.Entry]())
        removeAll()
        // The late hours come first (they are the earliest) and go into the drained rows by a merge.
        if lateCount > 0 {
            var late = SortedHits(reservingCapacity: parts[..<lateCount].reduce(0) { $0 + $1.count })
            for part in parts[..<lateCount] { late.append(part) }
            combined = combined.merged(with: late)
        }
        combined.reserveCapacity(combined.count + parts[lateCount...].reduce(0) { $0 + $1.count })
        for part in parts[lateCount...] { combined.append(part) }
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
        drained = SortedHits([HitTable.Entry]())
        lastDrainedHour = nil
        count = 0
    }

    /// Whether `hour` was drained already: its table, if any, is a late one.
    private func isLate(_ hour: UInt64) -> Bool {
        lastDrainedHour.map { hour <= $0 } ?? false
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
            table =
                drainHours(before: hour)
                ?? HitTable(minimumCapacity: max(Self.hourCapacity, min(largestHour, Self.largestStartCapacity)))
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

    /// Drains into ``drained`` the tables of the hours after the last drained and two or more before `newHour`, in
    /// order, and returns the last of them emptied (with its room) for the new hour's use; nil when none was due.
    /// The hour just before `newHour` keeps its table: lines of a request that started in it often come after the
    /// hour turned.
    private func drainHours(before newHour: UInt64) -> HitTable? {
        var recycled: HitTable?
        var index = 0
        while index < hours.count && hours[index] &+ 1 < newHour {
            guard !isLate(hours[index]) else {
                index += 1
                continue
            }
            let table = tables[index]
            drained.append(table.drainSorted())
            lastDrainedHour = hours[index]
            hours.remove(at: index)
            tables.remove(at: index)
            recycled = table
        }
        return recycled
    }
}

extension SortedHits {
    /// No rows yet, with room for `capacity`.
    init(reservingCapacity capacity: Int) {
        self.init([HitTable.Entry]())
        reserveCapacity(capacity)
    }

    /// Makes room for `capacity` rows in all.
    mutating func reserveCapacity(_ capacity: Int) {
        hours.reserveCapacity(capacity)
        vhosts.reserveCapacity(capacity)
        paths.reserveCapacity(capacity)
        statuses.reserveCapacity(capacity)
        userAgentClasses.reserveCapacity(capacity)
        kinds.reserveCapacity(capacity)
        hits.reserveCapacity(capacity)
        bytes.reserveCapacity(capacity)
    }

    /// The packed key of `row`, which orders as the rows.
    func packedKey(ofRow row: Int) -> PackedHitKey { self[row].key.packed }

    /// The sums of the row whose key is `key`, if any (a binary search: the rows are sorted and their keys unique).
    func totals(of key: PackedHitKey) -> HitTotals? {
        var (low, high) = (0, count)
        while low < high {
            let middle = (low + high) / 2
            if packedKey(ofRow: middle) < key { low = middle + 1 } else { high = middle }
        }
        guard low < count && packedKey(ofRow: low) == key else { return nil }
        return HitTotals(hits: hits[low], bytes: bytes[low])
    }

    /// These rows and `other`'s (both sorted, each with unique keys) in row order, one row a key: the sums of a key
    /// both hold are added.
    func merged(with other: SortedHits) -> SortedHits {
        var merged = SortedHits(reservingCapacity: count + other.count)
        var (left, right) = (0, 0)
        while left < count || right < other.count {
            let leftKey = left < count ? packedKey(ofRow: left) : nil
            let rightKey = right < other.count ? other.packedKey(ofRow: right) : nil
            if let leftKey, rightKey == nil || leftKey < rightKey! {
                merged.append(row: left, of: self)
                left += 1
            } else if let rightKey, leftKey == nil || rightKey < leftKey! {
                merged.append(row: right, of: other)
                right += 1
            } else {
                merged.append(row: left, of: self)
                merged.hits[merged.count - 1] += other.hits[right]
                merged.bytes[merged.count - 1] += other.bytes[right]
                (left, right) = (left + 1, right + 1)
            }
        }
        return merged
    }

    /// Appends row `row` of `source`.
    private mutating func append(row: Int, of source: SortedHits) {
        hours.append(source.hours[row])
        vhosts.append(source.vhosts[row])
        paths.append(source.paths[row])
        statuses.append(source.statuses[row])
        userAgentClasses.append(source.userAgentClasses[row])
        kinds.append(source.kinds[row])
        hits.append(source.hits[row])
        bytes.append(source.bytes[row])
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
