import Testing

@testable import KlogsQuery

/// The day's distinct-visitor counter agrees with Swift's `Set` over one and many buckets, the pseudonym 0, colliding
/// values and reuse.
@Suite struct VisitorSetTests {
    /// Pseudonym-like values with repeats: random 64-bit words, small numbers (adjacent after mixing), 0 and -1.
    static func values(seed: UInt64, count: Int) -> [Int64] {
        var generator = SeededGenerator(seed: seed)
        var values: [Int64] = [0, -1, 0, Int64.min, Int64.max]
        for index in 0..<count {
            switch index % 3 {
            case 0: values.append(Int64(bitPattern: generator.next()))
            case 1: values.append(Int64(generator.next() % 5_000))
            default: values.append(values[Int(generator.next() % UInt64(values.count))])
            }
        }
        return values
    }

    @Test func dayCounterCountsDistinctVisitorsAsASetDoes() {
        var counter = DayVisitorCounter()
        for day in 0..<3 {
            var expected = Set<Int64>()
            // Enough values for several buckets on the first day, few on the others (one bucket).
            for value in Self.values(seed: UInt64(day), count: day == 0 ? 60_000 : 3_000) {
                counter.add(group: Int32(value & 3), visitor: value)
                expected.insert(value)
            }
            #expect(counter.finishDay() == Int64(expected.count))
        }
        #expect(counter.finishDay() == 0)
    }

    @Test func dayCounterCountsPairsPerGroup() {
        var counter = DayVisitorCounter()
        for day in 0..<3 {
            var expected = Set<[Int64]>()
            var visitors = Set<Int64>()
            let values = Self.values(seed: 10 + UInt64(day), count: day == 1 ? 3_000 : 50_000)
            for (index, value) in values.enumerated() {
                let group = Int32(index % 7 == 0 ? 0 : Int(value & 0xff) % 50)
                counter.add(group: group, visitor: value)
                expected.insert([Int64(group), value])
                visitors.insert(value)
            }
            var counts = [Int64](repeating: 0, count: 50)
            #expect(counter.finishDay(groupCounts: &counts) == Int64(visitors.count))
            for group in 0..<50 {
                #expect(counts[group] == Int64(expected.count { $0[0] == Int64(group) }))
            }
        }
    }
}

/// A small deterministic generator (SplitMix64), so a failure can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
