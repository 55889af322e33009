/// Appends bytes into caller-provided memory with no capacity checks on the hot path.
///
/// The only unsafe code of the generator. The caller guarantees room for one whole line (see
/// `LogGenerator.Tables.maximumLineLength`) before each line; `ensure` checks it in debug builds.
struct LineWriter {
    private let base: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    private(set) var count = 0

    init(base: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    /// Room left.
    var available: Int { capacity - count }

    /// The bytes written so far.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    mutating func reset() { count = 0 }

    @inline(__always)
    subscript(index: Int) -> UInt8 { base[index] }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        assert(count < capacity)
        // Safe because the caller reserved room for a whole line.
        base[count] = byte
        count += 1
    }

    @inline(__always)
    mutating func append(contentsOf bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append($0) }
    }

    @inline(__always)
    mutating func append(contentsOf bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBufferPointer { append($0) }
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        assert(count + bytes.count <= capacity)
        guard let source = bytes.baseAddress else { return }
        // Safe because the caller reserved room for a whole line and the source never overlaps our memory.
        (base + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    /// Appends the decimal digits of a non-negative integer.
    @inline(__always)
    mutating func appendDecimal(_ value: Int) {
        if value < 10 {
            append(UInt8(truncatingIfNeeded: 48 + value))
            return
        }
        var digits = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        rest = value
        var position = count + digits - 1
        while position >= count {
            base[position] = UInt8(truncatingIfNeeded: 48 + rest % 10)
            rest /= 10
            position -= 1
        }
        count += digits
    }

    /// The first index at or after `start` holding `byte`.
    func firstIndex(of byte: UInt8, from start: Int) -> Int? {
        var index = start
        while index < count {
            if base[index] == byte { return index }
            index += 1
        }
        return nil
    }

    /// Drops everything from `index` on.
    mutating func truncate(to index: Int) {
        count = min(count, index)
    }

    /// Removes `range`, moving the tail down.
    mutating func remove(_ range: Range<Int>) {
        let tail = count - range.upperBound
        // Safe because both regions lie inside the written bytes; `update` handles overlap like memmove.
        (base + range.lowerBound).update(from: base + range.upperBound, count: tail)
        count -= range.count
    }

    /// Replaces `range` with `bytes`, moving the tail.
    mutating func replace(_ range: Range<Int>, with bytes: [UInt8]) {
        let tail = count - range.upperBound
        let newEnd = range.lowerBound + bytes.count
        assert(newEnd + tail <= capacity)
        // Safe because the line has room reserved; `update` handles overlap like memmove.
        (base + newEnd).update(from: base + range.upperBound, count: tail)
        bytes.withUnsafeBufferPointer { source in
            (base + range.lowerBound).update(from: source.baseAddress!, count: bytes.count)
        }
        count = newEnd + tail
    }
}
