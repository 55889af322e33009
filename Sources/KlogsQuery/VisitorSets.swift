// Exact distinct visitors, counted one UTC day at a time.
//
// A pseudonym belongs to one UTC day (its key changes at midnight), so the distinct visitors of a range are the sum
// of each day's distinct visitors, and the distinct visitors of a group the sum of each day's distinct (group,
// pseudonym) pairs. A ``DayVisitorCounter`` collects a day's pairs and counts them when the day is done.

/// Spreads the bits of a 64-bit value over the whole word (the finaliser of a multiply-xorshift hash).
@inline(__always)
func mixVisitor(_ value: UInt64) -> Int {
    var x = value
    x ^= x >> 32
    x &*= 0xd6e8_feb8_6659_fd93
    x ^= x >> 32
    return Int(truncatingIfNeeded: x)
}

/// The distinct visitors of one UTC day, in total and per group.
///
/// Rows add their (group, pseudonym) pairs to plain arrays as they come; ``finishDay(groupCounts:)`` then counts
/// them by radix partitioning: the pairs are scattered by the top bits of their hash into buckets of a few thousand,
/// and each bucket is deduplicated in a small open-addressing table that stays in the processor's cache. A day of a
/// busy site holds about a million pairs: one table for all of them would take tens of megabytes, and nearly every
/// insert would wait for memory (measured: a third of a `--by path` query's time went to those waits).
struct DayVisitorCounter {
    /// The day's pairs, in the order they came; a group is not negative.
    private var groups: [Int32] = []
    private var visitors: [Int64] = []
    /// Made on first use when no shared ``DistinctPairCounter`` is given.
    private lazy var ownScratch = DistinctPairCounter()
    /// The pairs added last, one per slot chosen by hash (group -1: none): a visitor's requests come close together,
    /// so most repeats are found here, in the level-1 cache, and never stored.
    private var recent = [RecentPair](repeating: RecentPair(), count: 1 << recentBits)
    private static let recentBits = 11

    private struct RecentPair {
        var visitor: Int64 = 0
        var group: Int32 = -1
    }

    /// Adds one pair.
    @inline(__always)
    mutating func add(group: Int32, visitor: Int64) {
        let slot = Int(truncatingIfNeeded: UInt64(bitPattern: visitor) ^ UInt64(UInt32(bitPattern: group)))
            & ((1 << Self.recentBits) - 1)
        if recent[slot].visitor == visitor && recent[slot].group == group { return }
        recent[slot] = RecentPair(visitor: visitor, group: group)
        groups.append(group)
        visitors.append(visitor)
    }

    /// Adds the pair of every row with a group (not -1) and a pseudonym (`validity` nil: every row has one).
    mutating func add(groups rowGroups: [Int32], visitors rowVisitors: [Int64], validity: [Bool]?) {
        let start = visitors.count
        groups.append(contentsOf: repeatElement(0, count: rowGroups.count))
        visitors.append(contentsOf: repeatElement(0, count: rowGroups.count))
        var end = start
        let mask = (1 << Self.recentBits) - 1
        recent.withUnsafeMutableBufferPointer { recent in
            groups.withUnsafeMutableBufferPointer { groups in
                visitors.withUnsafeMutableBufferPointer { visitors in
                    for row in rowGroups.indices where rowGroups[row] >= 0 && (validity?[row] ?? true) {
                        let group = rowGroups[row]
                        let visitor = rowVisitors[row]
                        let slot = Int(truncatingIfNeeded: UInt64(bitPattern: visitor) ^ UInt64(UInt32(bitPattern: group))) & mask
                        if recent[slot].visitor == visitor && recent[slot].group == group { continue }
                        recent[slot] = RecentPair(visitor: visitor, group: group)
                        groups[end] = group
                        visitors[end] = visitor
                        end += 1
                    }
                }
            }
        }
        groups.removeLast(groups.count - end)
        visitors.removeLast(visitors.count - end)
    }

    /// Counts the day's distinct pseudonyms, whatever their groups, and forgets the day.
    ///
    /// - Parameter counter: the buffers to count with (one per thread, shared by the counters of the queries that
    ///   thread answers together); the counter's own when `nil`.
    mutating func finishDay(counter: DistinctPairCounter? = nil) -> Int64 {
        var none: [Int64] = []
        return finishDay(countingGroups: false, into: &none, counter: counter)
    }

    /// Counts the day's distinct pseudonyms and adds 1 to `groupCounts[group]` for each distinct (group, pseudonym)
    /// pair (it must have an entry for every group added); forgets the day.
    ///
    /// - Parameter knownTotal: the day's distinct pseudonyms when already counted (by another counter given the same
    ///   pseudonyms): they are then not counted again, and this is returned.
    ///   - counter: as for ``finishDay(counter:)``.
    mutating func finishDay(
        groupCounts: inout [Int64], knownTotal: Int64? = nil, counter: DistinctPairCounter? = nil
    ) -> Int64 {
        finishDay(countingGroups: true, into: &groupCounts, knownTotal: knownTotal, counter: counter)
    }

    private mutating func finishDay(
        countingGroups: Bool, into groupCounts: inout [Int64], knownTotal: Int64? = nil,
        counter: DistinctPairCounter?
    ) -> Int64 {
        let scratch = counter ?? ownScratch
        defer {
            groups.removeAll(keepingCapacity: true)
            visitors.removeAll(keepingCapacity: true)
            for slot in recent.indices { recent[slot].group = -1 }
        }
        guard !visitors.isEmpty else { return 0 }
        if countingGroups { _ = scratch.pairs.count(visitors: visitors, groups: groups, counts: &groupCounts) }
        if let knownTotal { return knownTotal }
        return Int64(scratch.pairs.count(visitors: visitors, groups: nil, counts: &groupCounts))
    }
}

/// The buffers that count a day's distinct pairs (tens of megabytes for a busy day), kept from one day to the next.
///
/// Counting happens at the end of a day, one counter at a time, so the queries one thread answers together (a
/// report's sections) share one: it saves their copies of the buffers. Not thread-safe: one per thread.
final class DistinctPairCounter {
    fileprivate var pairs = DistinctPairs()
}

/// Counts distinct (group, pseudonym) pairs by radix partitioning, with buffers kept from one day to the next.
private struct DistinctPairs {
    /// A pair; in the table, group -1 marks an empty entry.
    private struct Pair {
        var visitor: Int64
        var group: Int32
    }

    /// About how many pairs go to one bucket: its table (twice as many 16-byte entries) takes 256 KiB, inside a
    /// core's level-2 cache (1 MiB here), and a day of a million pairs makes about 128 buckets.
    private static let bucketTarget = 8192

    private var hashes: [UInt64] = []
    private var partitioned: [Pair] = []
    private var table: [Pair] = []

    @inline(__always)
    private static func hash(_ group: Int32, _ visitor: Int64) -> UInt64 {
        UInt64(
            bitPattern: Int64(
                mixVisitor(UInt64(bitPattern: visitor) ^ (UInt64(UInt32(bitPattern: group)) &* 0x9e37_79b9_7f4a_7c15))))
    }

    /// The number of distinct pairs; with `groups`, 1 is added to `counts[group]` for each, without, every group is
    /// 0 (so the number of distinct pseudonyms) and `counts` is left alone.
    mutating func count(visitors: [Int64], groups: [Int32]?, counts: inout [Int64]) -> Int {
        let total = visitors.count
        var bits = 0
        while bits < 16 && total >> bits > Self.bucketTarget { bits += 1 }
        // The top `bits` bits of a hash choose its bucket (a shift by 64 gives 0: one bucket).
        let shift = UInt64(64 - bits)
        var starts = [Int](repeating: 0, count: (1 << bits) + 1)
        if hashes.count < total { hashes = Array(repeating: 0, count: total) }
        if partitioned.count < total { partitioned = Array(repeating: Pair(visitor: 0, group: 0), count: total) }
        hashes.withUnsafeMutableBufferPointer { hashes in
            for index in 0..<total {
                hashes[index] = Self.hash(groups?[index] ?? 0, visitors[index])
                starts[Int(hashes[index] >> shift) + 1] += 1
            }
            for bucket in 0..<(1 << bits) { starts[bucket + 1] += starts[bucket] }
            // Scatter the pairs bucket by bucket (a counting sort on the bucket number).
            var next = starts
            partitioned.withUnsafeMutableBufferPointer { partitioned in
                next.withUnsafeMutableBufferPointer { next in
                    for index in 0..<total {
                        let bucket = Int(hashes[index] >> shift)
                        partitioned[next[bucket]] = Pair(visitor: visitors[index], group: groups?[index] ?? 0)
                        next[bucket] += 1
                    }
                }
            }
        }
        // Deduplicate each bucket in a table sized for it.
        var largest = 0
        for bucket in 0..<(1 << bits) { largest = max(largest, starts[bucket + 1] - starts[bucket]) }
        var size = 16
        while size < largest * 2 { size <<= 1 }
        if table.count < size { table = Array(repeating: Pair(visitor: 0, group: -1), count: size) }
        let countsGroups = groups != nil
        var distinct = 0
        partitioned.withUnsafeBufferPointer { partitioned in
            table.withUnsafeMutableBufferPointer { table in
                counts.withUnsafeMutableBufferPointer { counts in
                    for bucket in 0..<(1 << bits) {
                        let members = starts[bucket]..<starts[bucket + 1]
                        var size = 16
                        while size < members.count * 2 { size <<= 1 }
                        for index in 0..<size { table[index].group = -1 }
                        let mask = size - 1
                        for index in members {
                            let pair = partitioned[index]
                            var position = Int(truncatingIfNeeded: Self.hash(pair.group, pair.visitor)) & mask
                            while true {
                                let entry = table[position]
                                if entry.group < 0 {
                                    table[position] = pair
                                    distinct += 1
                                    if countsGroups { counts[Int(pair.group)] += 1 }
                                    break
                                }
                                if entry.visitor == pair.visitor && entry.group == pair.group { break }
                                position = (position + 1) & mask
                            }
                        }
                    }
                }
            }
        }
        return distinct
    }
}
