import Foundation
import Testing

@testable import KlogsIngest

/// The hourly-aggregate table against a `Dictionary` oracle: the same sums, the row order, growth and clearing.
@Suite struct HitTableTests {
    /// A deterministic generator (SplitMix64), so a failure reproduces.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var value = state
            value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
            value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
            return value ^ (value >> 31)
        }
        mutating func next(in range: ClosedRange<Int32>) -> Int32 {
            let width = UInt64(Int64(range.upperBound) - Int64(range.lowerBound) + 1)
            return range.lowerBound + Int32(truncatingIfNeeded: next() % width)
        }
    }

    /// The row order of the `hits` dataset.
    static func rowOrder(_ left: HitKey, _ right: HitKey) -> Bool {
        (left.hour, left.path, left.status, left.userAgentClass, left.vhost, left.kind)
            < (right.hour, right.path, right.status, right.userAgentClass, right.vhost, right.kind)
    }

    /// Random requests, including negative and extreme ids unless `realistic`. Extreme ids need more than 64 bits
    /// in ``CompactHitKeys``; realistic ones (a day's hours, statuses from 100 to 599) fit.
    static func requests(lines: Int, seed: UInt64, realistic: Bool = false) -> [(key: HitKey, bytes: Int64)] {
        var random = Random(state: seed)
        return (0..<lines).map { _ in
            let extreme = !realistic && random.next() % 50 == 0
            let key = HitKey(
                hour: random.next(in: 490_000...(realistic ? 490_023 : 490_047)), vhost: random.next(in: -1...3),
                path: extreme ? Int32.max - random.next(in: 0...2) : random.next(in: 0...2_000),
                status: extreme ? Int32.min : random.next(in: realistic ? 100...599 : 200...204),
                userAgentClass: random.next(in: 0...6), kind: UInt8(random.next() % 4))
            return (key, Int64(random.next() % 100_000))
        }
    }

    /// Random requests (see `requests`) counted in the table and in a dictionary.
    static func fill(_ table: HitTable, lines: Int, seed: UInt64, realistic: Bool = false) -> [HitKey: HitTotals] {
        var oracle: [HitKey: HitTotals] = [:]
        for (key, bytes) in requests(lines: lines, seed: seed, realistic: realistic) {
            table.add(key, bytes: bytes)
            oracle[key, default: HitTotals()].add(bytes: bytes)
        }
        return oracle
    }

    /// Checks the table's sums and its drained rows against the oracle; drains with `runner` when given.
    static func check(_ table: HitTable, against oracle: [HitKey: HitTotals], runner: ThreadPerJobRunner? = nil) {
        #expect(table.count == oracle.count)
        for (key, totals) in oracle.prefix(500) {
            #expect(table.totals(of: key)?.hits == totals.hits)
            #expect(table.totals(of: key)?.bytes == totals.bytes)
        }
        let drained = table.drainSorted(on: runner).rows
        #expect(drained.count == oracle.count)
        #expect(drained.map(\.key) == oracle.keys.sorted(by: rowOrder))
        for (key, totals) in drained {
            #expect(oracle[key]?.hits == totals.hits && oracle[key]?.bytes == totals.bytes)
        }
        #expect(table.isEmpty)
    }

    @Test func matchesADictionaryWhileGrowing() {
        let table = HitTable(minimumCapacity: 8)  // grows many times on the way
        let oracle = Self.fill(table, lines: 200_000, seed: 1)
        #expect(oracle.count > 10_000)
        Self.check(table, against: oracle)
    }

    /// The sequencer's merge of a segment's requests (`merge`, a group of keys at a time) sums as adding them one
    /// by one would, while the table grows, with batches smaller and larger than a group.
    @Test func mergingRequestsInBatchesSumsThem() {
        let table = HitTable(minimumCapacity: 8)
        var oracle: [HitKey: HitTotals] = [:]
        for (batch, lines) in [0, 1, 15, 16, 17, 5_000, 20_000, 3].enumerated() {
            let requests = Self.requests(lines: lines, seed: UInt64(10 + batch))
            for (key, bytes) in requests { oracle[key, default: HitTotals()].add(bytes: bytes) }
            let keys = requests.map(\.key.packed)
            let bytes = requests.map(\.bytes)
            keys.withUnsafeBufferPointer { keys in bytes.withUnsafeBufferPointer { table.merge(keys, bytes: $0) } }
        }
        #expect(oracle.count > 10_000)
        Self.check(table, against: oracle)
    }

    @Test func realisticKeysSortAsPackedIntegersInRowOrder() {
        let table = HitTable(minimumCapacity: 8)
        let oracle = Self.fill(table, lines: 100_000, seed: 4, realistic: true)
        let keys = oracle.keys.map(\.packed)
        #expect(CompactHitKeys(keys, count: keys.count) != nil)
        Self.check(table, against: oracle)
    }

    /// The end of a parallel run drains with the pipeline's threads: the sort cut into ranges by its most
    /// significant digit, the columns built in ranges. The columns are those of draining on one thread, for tables
    /// too small to cut and large ones, with realistic and extreme keys (the latter sorted by comparisons).
    @Test(arguments: [2, 3])
    func drainingWithThreadsGivesTheSameColumns(threads: Int) {
        let runner = ThreadPerJobRunner(parallelism: threads)
        for (lines, realistic) in [(10, true), (120_000, true), (50_000, false)] {
            let (serial, parallel) = (HitTable(minimumCapacity: 8), HitTable(minimumCapacity: 8))
            let oracle = Self.fill(serial, lines: lines, seed: UInt64(lines + threads), realistic: realistic)
            _ = Self.fill(parallel, lines: lines, seed: UInt64(lines + threads), realistic: realistic)
            let (expected, drained) = (serial.drainSorted(), parallel.drainSorted(on: runner))
            #expect(drained.count == oracle.count && parallel.isEmpty)
            #expect(drained.hours == expected.hours && drained.paths == expected.paths)
            #expect(drained.statuses == expected.statuses && drained.userAgentClasses == expected.userAgentClasses)
            #expect(drained.vhosts == expected.vhosts && drained.kinds == expected.kinds)
            #expect(drained.hits == expected.hits && drained.bytes == expected.bytes)
        }
        #expect(runner.jobsRun > 0)
    }

    /// A partition's table per hour gives the rows of one table for the whole day, whatever the order of the
    /// hours: requests of 48 hours in random order (every line may change the hour), added one by one and merged
    /// in batches whose hours change within a batch.
    @Test func tablesPerHourGiveTheRowsOfOneTable() {
        let (hourly, whole) = (HourlyHitTables(), HitTable(minimumCapacity: 8))
        let requests = Self.requests(lines: 60_000, seed: 21)
        for (key, bytes) in requests.prefix(30_000) {
            hourly.add(key, bytes: bytes)
            whole.add(key, bytes: bytes)
        }
        let rest = Array(requests.dropFirst(30_000))
        let (keys, bytes) = (rest.map(\.key.packed), rest.map(\.bytes))
        for start in stride(from: 0, to: rest.count, by: 7_000) {
            let batch = start..<min(start + 7_000, rest.count)
            keys[batch].withUnsafeBufferPointer { keys in
                bytes[batch].withUnsafeBufferPointer {
                    hourly.merge(keys, bytes: $0)
                    whole.merge(keys, bytes: $0)
                }
            }
        }
        #expect(hourly.count == whole.count && hourly.count > 10_000)
        for (key, _) in requests.prefix(200) {
            let (totals, expected) = (hourly.totals(of: key), whole.totals(of: key))
            #expect(totals?.hits == expected?.hits && totals?.bytes == expected?.bytes)
        }
        let (drained, expected) = (hourly.drainSorted(), whole.drainSorted())
        #expect(hourly.isEmpty && drained.rows.map(\.key) == expected.rows.map(\.key))
        #expect(drained.hits == expected.hits && drained.bytes == expected.bytes)
        hourly.add(requests[0].key, bytes: 5)  // usable again after draining
        #expect(hourly.count == 1 && hourly.drainSorted().bytes == [5])
    }

    /// Hours are drained as the lines move on, and a line may still come for a drained hour: a log in time order
    /// but for some late lines (one and three hours late), then a second log of the same hours (as `cat a b`
    /// gives), counted one line at a time and in batches. The rows and sums are those of one table for the day.
    @Test func hoursDrainedAsTheDayGoesKeepLateLines() {
        var random = Random(state: 77)
        func requests(hours: ClosedRange<Int32>) -> [(key: HitKey, bytes: Int64)] {
            hours.flatMap { hour in
                (0..<800).map { _ in
                    let late = random.next() % 40 == 0 ? random.next(in: 1...3) : 0
                    let key = HitKey(
                        hour: max(hours.lowerBound, hour - late), vhost: -1, path: random.next(in: 0...300),
                        status: 200, userAgentClass: random.next(in: 0...3), kind: 0)
                    return (key, Int64(random.next() % 1_000))
                }
            }
        }
        let requests = requests(hours: 490_000...490_011) + requests(hours: 490_000...490_011)
        let (single, batched, whole) = (HourlyHitTables(), HourlyHitTables(), HitTable(minimumCapacity: 8))
        for (key, bytes) in requests {
            single.add(key, bytes: bytes)
            whole.add(key, bytes: bytes)
        }
        let (keys, bytes) = (requests.map(\.key.packed), requests.map(\.bytes))
        for start in stride(from: 0, to: requests.count, by: 1_000) {
            let batch = start..<min(start + 1_000, requests.count)
            keys[batch].withUnsafeBufferPointer { keys in
                bytes[batch].withUnsafeBufferPointer { batched.merge(keys, bytes: $0) }
            }
        }
        // A late aggregate counts again when a drained row has its key: the count is an upper bound.
        #expect(single.count >= whole.count && batched.count == single.count)
        for (key, _) in requests.prefix(300) + requests.suffix(300) {
            let (totals, expected) = (single.totals(of: key), whole.totals(of: key))
            #expect(totals?.hits == expected?.hits && totals?.bytes == expected?.bytes)
        }
        let expected = whole.drainSorted()
        for drained in [single.drainSorted(), batched.drainSorted(on: ThreadPerJobRunner(parallelism: 2))] {
            #expect(drained.rows.map(\.key) == expected.rows.map(\.key))
            #expect(drained.hits == expected.hits && drained.bytes == expected.bytes)
        }
        #expect(single.isEmpty && batched.isEmpty)
    }

    @Test func mergingSortedRowsAddsTheSumsOfSharedKeys() {
        func rows(_ entries: [(path: Int32, hits: Int64)]) -> SortedHits {
            SortedHits(
                entries.map { path, hits in
                    HitTable.Entry(
                        key: HitKey(hour: 1, vhost: -1, path: path, status: 200, userAgentClass: 0, kind: 0).packed,
                        totals: HitTotals(hits: hits, bytes: hits * 10))
                })
        }
        let merged = rows([(1, 1), (3, 2), (4, 5)]).merged(with: rows([(0, 7), (3, 1), (9, 2)]))
        #expect(merged.paths == [0, 1, 3, 4, 9] && merged.hits == [7, 1, 3, 5, 2])
        #expect(merged.bytes == [70, 10, 30, 50, 20])
        #expect(rows([]).merged(with: rows([(2, 1)])).paths == [2])
        #expect(rows([(2, 1)]).merged(with: rows([])).hits == [1])
        let absent = HitKey(hour: 1, vhost: -1, path: 2, status: 200, userAgentClass: 0, kind: 0).packed
        #expect(merged.totals(of: merged[2].key.packed)?.hits == 3 && merged.totals(of: absent) == nil)
    }

    @Test("Hours drained a wave at a time on a runner's threads give the rows of the serial drain", arguments: [2, 3])
    func hoursDrainedOnThreadsMatchOneThread(threads: Int) {
        let runner = ThreadPerJobRunner(parallelism: threads)
        let (parallel, serial) = (HourlyHitTables(), HourlyHitTables())
        // Hours of many lines and hours of few, and one hour past `SortedHits.columnJobMinimum` aggregates.
        var requests = Self.requests(lines: 60_000, seed: 31)
        requests += (0..<(SortedHits.columnJobMinimum + 1_000)).map { path in
            (HitKey(hour: 500_000, vhost: -1, path: Int32(path), status: 200, userAgentClass: 1, kind: 0), 10)
        }
        for (key, bytes) in requests {
            parallel.add(key, bytes: bytes)
            serial.add(key, bytes: bytes)
        }
        let (drained, expected) = (parallel.drainSorted(on: runner), serial.drainSorted())
        #expect(runner.jobsRun > 0 && parallel.isEmpty)
        #expect(drained.count == expected.count && drained.rows.map(\.key) == expected.rows.map(\.key))
        #expect(drained.hits == expected.hits && drained.bytes == expected.bytes)
    }

    @Test(arguments: [2, 3])
    func radixSortWithThreadsMatchesOneThread(threads: Int) {
        let runner = ThreadPerJobRunner(parallelism: threads)
        var random = Random(state: UInt64(threads))
        for (count, bits) in [(100_000, 3..<50), (70_000, 0..<64), (200_000, 20..<33), (100_000, 5..<12)] {
            // Skewed keys: most share their top digit, so the ranges cannot be even.
            let keys = (0..<count).map { index in random.next() & (index % 3 == 0 ? .max : 0xFFFF_FFFF) }
            var (serial, parallel) = (keys, keys)
            CompactHitKeys.radixSort(&serial, bits: bits)
            CompactHitKeys.radixSort(&parallel, bits: bits, on: runner)
            #expect(parallel == serial)
        }
    }

    @Test func compactKeysNeedTheRangesToFitAndHandleTinyTables() {
        let wide = [
            HitKey(hour: .min, vhost: -1, path: 0, status: 200, userAgentClass: 0, kind: 0),
            HitKey(hour: .max, vhost: .max, path: .max, status: .min, userAgentClass: 0, kind: 0),
        ].map(\.packed)
        #expect(CompactHitKeys(wide, count: wide.count) == nil)
        #expect(CompactHitKeys([PackedHitKey](), count: 0) != nil)
        for lines in [1, 2, 3] {
            let table = HitTable(minimumCapacity: 4)
            Self.check(table, against: Self.fill(table, lines: lines, seed: UInt64(lines), realistic: true))
        }
        // A single aggregate whose fields are all at their extremes: every range is zero, so it fits.
        let table = HitTable(minimumCapacity: 4)
        let extreme = HitKey(hour: .max, vhost: .min, path: .max, status: .min, userAgentClass: .max, kind: .max)
        table.add(extreme, bytes: 5)
        #expect(table.drainSorted().rows.map(\.key) == [extreme])
    }

    @Test(arguments: [0..<64, 0..<1, 5..<16, 20..<64, 63..<64, 7..<7])
    func radixSortOrdersByTheGivenBitsAndIsStable(bits: Range<Int>) {
        var random = Random(state: UInt64(bits.lowerBound * 100 + bits.upperBound))
        for count in [0, 1, 2, 3, 2_047, 5_000] {
            var keys = (0..<count).map { _ in random.next() }
            let mask: UInt64 =
                bits.isEmpty ? 0 : (bits.count == 64 ? .max : ((1 << UInt64(bits.count)) - 1) << UInt64(bits.lowerBound))
            // The stable order by the masked bits: ties keep their input order.
            let expected = keys.enumerated().sorted { ($0.element & mask, $0.offset) < ($1.element & mask, $1.offset) }
            CompactHitKeys.radixSort(&keys, bits: bits)
            #expect(keys == expected.map(\.element))
        }
    }

    @Test func drainingEmptiesAndTheTableIsReusable() {
        let table = HitTable(minimumCapacity: 64)
        Self.check(table, against: Self.fill(table, lines: 5_000, seed: 2))
        let absent = HitKey(hour: 490_000, vhost: -1, path: 0, status: 200, userAgentClass: 0, kind: 0)
        #expect(table.totals(of: absent) == nil)
        Self.check(table, against: Self.fill(table, lines: 20_000, seed: 3))
        table.removeAll()
        #expect(table.count == 0 && table.drainSorted().isEmpty)
    }

    @Test func packingRoundTripsEveryFieldAndKeepsSignedOrder() {
        let keys = [
            HitKey(hour: .min, vhost: .max, path: -1, status: 0, userAgentClass: .min, kind: 0),
            HitKey(hour: -1, vhost: -1, path: .max, status: .max, userAgentClass: 0, kind: .max),
            HitKey(hour: 0, vhost: 0, path: 0, status: -5, userAgentClass: .max, kind: 3),
            HitKey(hour: 0, vhost: 0, path: 0, status: -5, userAgentClass: .max, kind: 2),
            HitKey(hour: 493_000, vhost: 7, path: 123_456, status: 404, userAgentClass: 12, kind: 1),
        ]
        for key in keys { #expect(HitKey(key.packed) == key) }
        for left in keys {
            for right in keys { #expect((left.packed < right.packed) == Self.rowOrder(left, right)) }
        }
    }

    /// A `BackgroundJobRunner` that runs every job on a thread of its own, and counts them.
    final class ThreadPerJobRunner: BackgroundJobRunner, @unchecked Sendable {
        let parallelism: Int
        private let lock = NSLock()
        private var count = 0

        init(parallelism: Int) { self.parallelism = parallelism }

        func submit(_ job: any BackgroundJob) {
            lock.withLock { count += 1 }
            Thread { job.run() }.start()
        }

        var jobsRun: Int { lock.withLock { count } }
    }
}
