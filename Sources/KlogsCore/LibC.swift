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
    /// Reads eight bytes at a time (SWAR): for the short fields of a log line this beats two `memchr` calls.
    /// - Complexity: O(end - start).
    @inlinable @inline(__always)
    static func firstOf(
        _ a: UInt8, _ b: UInt8, in buffer: UnsafeRawBufferPointer, from start: Int, to end: Int
    ) -> Int? {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let patternA = ones &* UInt64(a)
        let patternB = ones &* UInt64(b)
        var index = start
        // Sixteen bytes at a time with vector compares to skip the bulk, then eight at a time to find the byte.
        let vectorA = SIMD16<UInt8>(repeating: a)
        let vectorB = SIMD16<UInt8>(repeating: b)
        while end - index >= 16 {
            let vector = buffer.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self)
            if any((vector .== vectorA) .| (vector .== vectorB)) { break }
            index += 16
        }
        while end - index >= 8 {
            let word = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            let xa = word ^ patternA
            let xb = word ^ patternB
            // A zero byte of xa or xb marks a match; the lowest flagged byte is always a true match.
            let found = ((xa &- ones) & ~xa | (xb &- ones) & ~xb) & highs
            if found != 0 { return index + found.trailingZeroBitCount >> 3 }
            index += 8
        }
        while index < end {
            let byte = buffer[index]
            if byte == a || byte == b { return index }
            index += 1
        }
        return nil
    }
}
