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
