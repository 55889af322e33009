/// The byte encoding of what ``UserAgentRuleCache`` keeps of a compiled rule set: integers in the machine's own byte
/// order (a cache never leaves the machine, and its key names the byte order), arrays as a count and their raw bytes,
/// strings as UTF-8 with a length, optionals with a presence byte.
///
/// An archive is read back only by the program that wrote it (the cache key holds the executable's identity), so the
/// encoding has no versions of its own; a reader still checks every length against what is left, so that a damaged
/// file is an error, never a crash.
struct ArchiveWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    mutating func write<Value: FixedWidthInteger>(_ value: Value) {
        withUnsafeBytes(of: value) { bytes += $0 }
    }

    mutating func write(_ value: Int) {
        write(Int64(value))
    }

    mutating func write(_ flag: Bool) {
        write(UInt8(flag ? 1 : 0))
    }

    mutating func write(_ value: Int?) {
        write(value != nil)
        if let value { write(value) }
    }

    mutating func write<Value: FixedWidthInteger>(_ values: [Value]) {
        write(values.count)
        values.withUnsafeBytes { bytes += $0 }
    }

    mutating func write(_ text: String) {
        write(text.utf8.count)
        bytes += text.utf8
    }

    /// Raw bytes, without a count (a key whose length the reader knows).
    mutating func append(_ raw: [UInt8]) {
        bytes += raw
    }

    mutating func write(_ text: String?) {
        write(text != nil)
        if let text { write(text) }
    }
}

/// Reads what ``ArchiveWriter`` wrote, in the same order.
struct ArchiveReader {
    /// The archive ends early, or holds a value that cannot be (a negative count, a flag of 2).
    struct Malformed: Error {}

    private let bytes: [UInt8]
    private var position: Int
    /// Where the archive ends in `bytes`.
    private let end: Int

    /// Reads `bytes[position..<end]` (`end` nil: to the end).
    init(_ bytes: [UInt8], from position: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.position = position
        self.end = end ?? bytes.count
    }

    var atEnd: Bool { position == end }

    /// The next `count` bytes, checked against what is left.
    private mutating func take(_ count: Int) throws(Malformed) -> Range<Int> {
        guard count >= 0, count <= end - position else { throw Malformed() }
        defer { position += count }
        return position..<(position + count)
    }

    mutating func read<Value: FixedWidthInteger>(_: Value.Type = Value.self) throws(Malformed) -> Value {
        let range = try take(MemoryLayout<Value>.size)
        // Safe because `take` checked that the range lies inside `bytes`.
        return bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: range.lowerBound, as: Value.self) }
    }

    mutating func readInt() throws(Malformed) -> Int {
        let value = try read(Int64.self)
        guard let int = Int(exactly: value) else { throw Malformed() }
        return int
    }

    /// A count or index: not negative, at most `limit`.
    mutating func readCount(atMost limit: Int = .max) throws(Malformed) -> Int {
        let count = try readInt()
        guard count >= 0, count <= limit else { throw Malformed() }
        return count
    }

    mutating func readBool() throws(Malformed) -> Bool {
        switch try read(UInt8.self) {
        case 0: return false
        case 1: return true
        default: throw Malformed()
        }
    }

    mutating func readOptionalInt() throws(Malformed) -> Int? {
        try readBool() ? try readInt() : nil
    }

    mutating func readArray<Value: FixedWidthInteger>(_: Value.Type = Value.self) throws(Malformed) -> [Value] {
        let count = try readCount(atMost: (end - position) / MemoryLayout<Value>.size)
        let range = try take(count * MemoryLayout<Value>.size)
        return [Value](unsafeUninitializedCapacity: count) { values, initialized in
            // Safe because the source range was checked by `take` and the destination holds `count` values.
            bytes.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(values).copyMemory(from: UnsafeRawBufferPointer(rebasing: source[range]))
            }
            initialized = count
        }
    }

    mutating func readString() throws(Malformed) -> String {
        let length = try readCount()
        let range = try take(length)
        return String(decoding: bytes[range], as: UTF8.self)
    }

    mutating func readOptionalString() throws(Malformed) -> String? {
        try readBool() ? try readString() : nil
    }
}

/// A 64-bit checksum of `bytes` (not cryptographic): it tells a damaged cache file from a good one, and names a
/// rules text's cache file.
///
/// Eight bytes per step, multiplied and folded, so that every bit of the input reaches every bit of the result; about
/// a millisecond for the few megabytes of a cache file.
func archiveChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
    var hash: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(bytes.count)
    var offset = 0
    while offset + 8 <= bytes.count {
        hash = (hash ^ bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* multiplier
        hash ^= hash >> 29
        offset += 8
    }
    var last: UInt64 = 0
    for (shift, byte) in bytes[offset...].enumerated() { last |= UInt64(byte) << UInt64(8 * shift) }
    hash = (hash ^ last) &* multiplier
    hash ^= hash >> 32
    hash = hash &* multiplier
    return hash ^ (hash >> 29)
}
