/// A small, fast, seeded pseudo-random source (SplitMix64) whose output is the same on every platform.
///
/// The generator never uses `SystemRandomNumberGenerator`: a seed must give the same log, byte for byte, on Linux
/// and macOS, today and in a year. Only integer arithmetic and IEEE-754 basic operations are used downstream.
struct RandomSource {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    @inline(__always)
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return RandomSource.mix(state)
    }

    /// The SplitMix64 finaliser: a stateless 64-bit hash, used to derive stable per-client values from an index.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `0..<bound` (`bound` > 0), by the multiply-high method.
    @inline(__always)
    mutating func below(_ bound: Int) -> Int {
        Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// A uniform integer in `range`.
    @inline(__always)
    mutating func inRange(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    /// A uniform `Double` in `0..<1` with 53 random bits.
    @inline(__always)
    mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// True with the probability that `probability` encodes.
    @inline(__always)
    mutating func chance(_ probability: Probability) -> Bool {
        next() < probability.threshold
    }
}

/// A probability stored as a 64-bit threshold, so that a draw is one integer comparison.
struct Probability {
    let threshold: UInt64

    init(_ fraction: Double) {
        if !(fraction > 0) {
            threshold = 0
        } else if fraction >= 1 {
            threshold = .max
        } else {
            // Safe because fraction < 1, so the product is below 2^64.
            threshold = UInt64(fraction * 18_446_744_073_709_551_616.0)
        }
    }
}

/// Picks an index with probability proportional to an integer weight.
///
/// - Complexity: O(log n) per draw (binary search over cumulative weights).
struct WeightedChoice {
    private var cumulative: [UInt64] = []

    init(weights: [UInt64]) {
        var total: UInt64 = 0
        cumulative.reserveCapacity(weights.count)
        for weight in weights {
            total += weight
            cumulative.append(total)
        }
        precondition(total > 0, "WeightedChoice needs at least one positive weight")
    }

    var count: Int { cumulative.count }

    /// The index whose weight interval holds `point` (0 ≤ point < total).
    @inline(__always)
    func index(at point: UInt64) -> Int {
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let middle = (low + high) >> 1
            if cumulative[middle] > point { high = middle } else { low = middle + 1 }
        }
        return low
    }

    @inline(__always)
    func pick(_ random: inout RandomSource) -> Int {
        pick(hash: random.next())
    }

    /// A stable pick from a hash value rather than from the random stream.
    @inline(__always)
    func pick(hash: UInt64) -> Int {
        let total = cumulative[cumulative.count - 1]
        return index(at: hash.multipliedFullWidth(by: total).high)
    }
}

/// Many short byte strings in one flat buffer, addressed by index.
struct ByteTable {
    private(set) var storage: [UInt8] = []
    private(set) var bounds: [Int] = [0]

    var count: Int { bounds.count - 1 }

    mutating func append(_ text: String) {
        storage.append(contentsOf: text.utf8)
        bounds.append(storage.count)
    }

    @inline(__always)
    subscript(index: Int) -> ArraySlice<UInt8> {
        storage[bounds[index]..<bounds[index + 1]]
    }
}
