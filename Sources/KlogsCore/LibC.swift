// The only C this module touches is libc's `memchr`, the vectorised byte search the splitter and the quoted-field
// scanner rely on. No Foundation.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte-search helpers over raw memory, the one place that calls libc.
@usableFromInline
enum ByteSearch {
    /// The offset of the first `byte` in `buffer[start..<end]`, or `nil`.
    ///
    /// - Complexity: O(end - start), at `memchr` speed (several GB/s).
    @inline(__always)
    static func first(_ byte: UInt8, in buffer: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int? {
        guard start < end, let base = buffer.baseAddress else { return nil }
        // Safe because start..<end lies inside buffer (callers pass offsets they got from the buffer's count).
        guard let found = memchr(base + start, Int32(byte), end - start) else { return nil }
        return UnsafeRawPointer(found) - base
    }

    /// Whether two byte regions hold the same bytes.
    @inline(__always)
    static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Bool {
        memcmp(a, b, count) == 0
    }
}

extension ByteSearch {
    /// The offset of the first `a` or `b` in `buffer[start..<end]`, or `nil`.
    ///
    /// Sixteen or 32 bytes at a time with vector compares; the match's offset comes from the compare mask itself, and a
    /// field of 16 bytes or more ends with one more vector, loaded to end at `end` (overlapping bytes already
    /// checked). Shorter fields are read eight bytes at a time (SWAR). Nothing outside `start..<end` is read.
    /// - Complexity: O(end - start).
    @inlinable @inline(__always)
    static func firstOf(
        _ a: UInt8, _ b: UInt8, in buffer: UnsafeRawBufferPointer, from start: Int, to end: Int
    ) -> Int? {
        guard start < end, let base = buffer.baseAddress else { return nil }
        if end &- start >= 16 {
            let (vectorA, vectorB) = (SIMD16<UInt8>(repeating: a), SIMD16<UInt8>(repeating: b))
            var index = start
            // 32 bytes a step while they last (a user agent is some 120), then 16.
            while index &+ 32 <= end {
                let first = matchLanes(base + index, vectorA, vectorB)
                let second = matchLanes(base + (index &+ 16), vectorA, vectorB)
                if first.low | first.high | second.low | second.high != 0 {
                    return first.low | first.high != 0 ? index &+ firstLane(first) : index &+ 16 &+ firstLane(second)
                }
                index &+= 32
            }
            while index &+ 16 <= end {
                let found = matchLanes(base + index, vectorA, vectorB)
                if found.low | found.high != 0 { return index &+ firstLane(found) }
                index &+= 16
            }
            guard index < end else { return nil }
            // The last 16 bytes: those before `index` were checked and hold no match.
            let found = matchLanes(base + (end &- 16), vectorA, vectorB)
            return found.low | found.high != 0 ? end &- 16 &+ firstLane(found) : nil
        }
        return firstOf(a, b, inShort: base, from: start, to: end)
    }

    /// `firstOf` of fewer than 16 bytes: eight at a time (SWAR), then one at a time. Out of line, so that the
    /// vector search stays small enough to be inlined where it is used.
    @usableFromInline @inline(never)
    static func firstOf(_ a: UInt8, _ b: UInt8, inShort base: UnsafeRawPointer, from start: Int, to end: Int) -> Int? {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let (patternA, patternB) = (ones &* UInt64(a), ones &* UInt64(b))
        var index = start
        while end &- index >= 8 {
            let word = UInt64(littleEndian: (base + index).loadUnaligned(as: UInt64.self))
            let (xa, xb) = (word ^ patternA, word ^ patternB)
            // A zero byte of xa or xb marks a match; the lowest flagged byte is always a true match.
            let found = ((xa &- ones) & ~xa | (xb &- ones) & ~xb) & highs
            if found != 0 { return index &+ found.trailingZeroBitCount &>> 3 }
            index &+= 8
        }
        while index < end {
            let byte = base.load(fromByteOffset: index, as: UInt8.self)
            if byte == a || byte == b { return index }
            index &+= 1
        }
        return nil
    }

    /// The 16 bytes at `address` compared with `a` and `b`: each byte 0xFF where it is either, else 0, as two
    /// little-endian words (lane 0 in the low byte of `low`).
    @inlinable @inline(__always)
    static func matchLanes(
        _ address: UnsafeRawPointer, _ a: SIMD16<UInt8>, _ b: SIMD16<UInt8>
    ) -> (low: UInt64, high: UInt64) {
        let vector = address.loadUnaligned(as: SIMD16<UInt8>.self)
        let lanes = SIMD16<UInt8>(repeating: 0).replacing(with: 0xFF, where: (vector .== a) .| (vector .== b))
        let words = unsafeBitCast(lanes, to: SIMD2<UInt64>.self)
        return (UInt64(littleEndian: words[0]), UInt64(littleEndian: words[1]))
    }

    /// The first lane set in `matchLanes`' result, which has one.
    @inlinable @inline(__always)
    static func firstLane(_ lanes: (low: UInt64, high: UInt64)) -> Int {
        lanes.low != 0 ? lanes.low.trailingZeroBitCount &>> 3 : 8 &+ lanes.high.trailingZeroBitCount &>> 3
    }
}
