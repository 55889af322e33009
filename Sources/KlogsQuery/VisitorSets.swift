// Exact distinct visitors, counted one UTC day at a time.
//
// A pseudonym belongs to one UTC day (its key changes at midnight), so the distinct visitors of a range are the sum
// of each day's distinct visitors. The sets below hold one day only: a caller counts what `insert` reports as new and
// empties the set when the day is done, so the table never grows past one day's visitors and is reused for the next.
// Both are open-addressing tables with linear probing, half full at most, keyed by a cheap multiply-xorshift mix of
// the pseudonym (pseudonyms are keyed hashes already; the mix only spreads pairs and hand-made test values).

/// Spreads the bits of a 64-bit value over the whole word (the finaliser of a multiply-xorshift hash).
@inline(__always)
func mixVisitor(_ value: UInt64) -> Int {
    var x = value
    x ^= x >> 32
    x &*= 0xd6e8_feb8_6659_fd93
    x ^= x >> 32
    return Int(truncatingIfNeeded: x)
}

/// How many inserts read their table entries ahead together (enough misses in flight to hide most of the latency).
let visitorBatch = 32

/// Keeps the loads of a read-ahead loop from being optimised away.
@inline(never)
func keepAlive<T>(_ value: T) {}

/// A set of pseudonyms that only counts: `insert` says whether a pseudonym is new.
struct VisitorSet {
    /// The table; 0 marks an empty entry (the pseudonym 0 itself is kept in `hasZero`).
    private var entries: [Int64]
    private var mask: Int
    private var hasZero = false
    /// The number of distinct pseudonyms inserted since the last ``removeAll()``.
    private(set) var count = 0

    init(capacity: Int = 1 << 10) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        entries = Array(repeating: 0, count: size)
        mask = size - 1
    }

    /// Inserts a pseudonym; returns whether it was not in the set yet.
    @inline(__always)
    mutating func insert(_ visitor: Int64) -> Bool {
        if visitor == 0 {
            if hasZero { return false }
            hasZero = true
            count += 1
            return true
        }
        var position = mixVisitor(UInt64(bitPattern: visitor)) & mask
        while true {
            let entry = entries[position]
            if entry == visitor { return false }
            if entry == 0 { break }
            position = (position + 1) & mask
        }
        entries[position] = visitor
        count += 1
        if count * 2 > entries.count { grow() }
        return true
    }

    /// Inserts many pseudonyms; returns how many were new.
    ///
    /// A day's table is larger than the cache and pseudonyms are random, so nearly every insert misses it. The
    /// entries of a batch are first read in a loop of independent loads, which the processor overlaps, and then
    /// inserted from the warmed cache.
    mutating func insert(contentsOf visitors: [Int64]) -> Int {
        let before = count
        var start = 0
        while start < visitors.count {
            let end = min(start + visitorBatch, visitors.count)
            var touched: Int64 = 0
            for index in start..<end { touched |= entries[mixVisitor(UInt64(bitPattern: visitors[index])) & mask] }
            keepAlive(touched)
            for index in start..<end { _ = insert(visitors[index]) }
            start = end
        }
        return count - before
    }

    /// Empties the set and keeps its table for the next day.
    mutating func removeAll() {
        guard count > 0 else { return }
        for index in entries.indices { entries[index] = 0 }
        hasZero = false
        count = 0
    }

    private mutating func grow() {
        let old = entries
        entries = Array(repeating: 0, count: old.count * 2)
        mask = entries.count - 1
        for visitor in old where visitor != 0 {
            var position = mixVisitor(UInt64(bitPattern: visitor)) & mask
            while entries[position] != 0 { position = (position + 1) & mask }
            entries[position] = visitor
        }
    }
}

/// A set of (group, pseudonym) pairs: the distinct visitors of every group of a query in one table, rather than one
/// set per group (a `--by path` query has tens of thousands of groups, most with a handful of visitors a day).
struct GroupVisitorSet {
    /// One pair; group -1 marks an empty entry.
    private struct Entry {
        var visitor: Int64 = 0
        var group: Int32 = -1
    }

    private var entries: [Entry]
    private var mask: Int
    /// The number of distinct pairs inserted since the last ``removeAll()``.
    private(set) var count = 0

    init(capacity: Int = 1 << 10) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        entries = Array(repeating: Entry(), count: size)
        mask = size - 1
    }

    @inline(__always)
    private static func position(_ group: Int32, _ visitor: Int64, mask: Int) -> Int {
        mixVisitor(UInt64(bitPattern: visitor) ^ (UInt64(UInt32(bitPattern: group)) &* 0x9e37_79b9_7f4a_7c15)) & mask
    }

    /// Inserts a pair (`group` is not negative); returns whether it was not in the set yet.
    @inline(__always)
    mutating func insert(group: Int32, visitor: Int64) -> Bool {
        var position = Self.position(group, visitor, mask: mask)
        while true {
            let entry = entries[position]
            if entry.group < 0 { break }
            if entry.visitor == visitor && entry.group == group { return false }
            position = (position + 1) & mask
        }
        entries[position] = Entry(visitor: visitor, group: group)
        count += 1
        if count * 2 > entries.count { grow() }
        return true
    }

    /// Inserts many pairs (`groups[i]`, `visitors[i]`) and adds 1 to `counts[group]` for each new one; the entries
    /// are read ahead in batches as in ``VisitorSet/insert(contentsOf:)``.
    mutating func insert(groups: [Int32], visitors: [Int64], counting counts: inout [Int64]) {
        var start = 0
        while start < visitors.count {
            let end = min(start + visitorBatch, visitors.count)
            var touched: Int32 = 0
            for index in start..<end { touched |= entries[Self.position(groups[index], visitors[index], mask: mask)].group }
            keepAlive(touched)
            for index in start..<end where insert(group: groups[index], visitor: visitors[index]) {
                counts[Int(groups[index])] += 1
            }
            start = end
        }
    }

    /// Empties the set and keeps its table for the next day.
    mutating func removeAll() {
        guard count > 0 else { return }
        for index in entries.indices { entries[index].group = -1 }
        count = 0
    }

    private mutating func grow() {
        let old = entries
        entries = Array(repeating: Entry(), count: old.count * 2)
        mask = entries.count - 1
        for entry in old where entry.group >= 0 {
            var position = Self.position(entry.group, entry.visitor, mask: mask)
            while entries[position].group >= 0 { position = (position + 1) & mask }
            entries[position] = entry
        }
    }
}
