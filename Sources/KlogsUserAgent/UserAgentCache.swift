/// A bounded map from user-agent bytes to a small integer (a class id), set-associative with least-recently-used
/// replacement inside each set.
///
/// The table has a power-of-two number of sets of ``ways`` entries each; a key's hash picks its set, so a lookup
/// compares at most eight stored hashes and, on a hash hit, the bytes. A hit allocates nothing; a miss that is
/// inserted stores one copy of the key.
struct UserAgentCache {
    /// Entries per set.
    static let ways = 8

    /// Per entry: the key's hash with the top bit set (0 marks an empty entry).
    private var hashes: [UInt64]
    /// Per entry: the key bytes.
    private var keys: [[UInt8]]
    /// Per entry: the value.
    private var values: [Int32]
    /// Per entry: the value of `clock` at the last use, for replacement.
    private var lastUse: [UInt32]
    private var clock: UInt32 = 0
    private let setMask: Int

    /// The number of entries the cache can hold (the requested capacity rounded up to a power of two, at least 8).
    var capacity: Int { hashes.count }

    /// - Parameter capacity: the number of user agents to keep; rounded up to a power of two of at least 8.
    init(capacity: Int) {
        var sets = 1
        while sets * Self.ways < capacity { sets <<= 1 }
        setMask = sets - 1
        let count = sets * Self.ways
        hashes = [UInt64](repeating: 0, count: count)
        keys = [[UInt8]](repeating: [], count: count)
        values = [Int32](repeating: 0, count: count)
        lastUse = [UInt32](repeating: 0, count: count)
    }

    /// The value stored for `key`, if any; marks the entry as recently used.
    ///
    /// - Parameter hash: ``hash(_:)`` of `key`.
    @inline(__always)
    mutating func value(for key: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int32? {
        let tagged = hash | (1 << 63)
        let first = Int(truncatingIfNeeded: hash) & setMask &* Self.ways
        clock &+= 1
        for entry in first..<(first &+ Self.ways) where hashes[entry] == tagged {
            let isEqual = keys[entry].withUnsafeBufferPointer { stored in
                stored.count == key.count && (key.isEmpty || memoryEqual(stored, key))
            }
            if isEqual {
                lastUse[entry] = clock
                return values[entry]
            }
        }
        return nil
    }

    /// Stores `value` for `key` (which must not be present), replacing the least recently used entry of its set.
    mutating func insert(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64, value: Int32) {
        let first = Int(truncatingIfNeeded: hash) & setMask &* Self.ways
        var victim = first
        for entry in first..<(first + Self.ways) {
            if hashes[entry] == 0 {
                victim = entry
                break
            }
            // Wrapping distance from the current clock, so an overflow of the clock does not break the order.
            if clock &- lastUse[entry] > clock &- lastUse[victim] { victim = entry }
        }
        hashes[victim] = hash | (1 << 63)
        keys[victim] = Array(key)
        values[victim] = value
        lastUse[victim] = clock
    }

    /// Forgets every entry.
    mutating func removeAll() {
        for index in hashes.indices {
            hashes[index] = 0
            keys[index] = []
        }
    }

    /// A fast 64-bit hash of `bytes`, eight bytes per step (not for adversarial keys: a collision only costs a byte
    /// comparison).
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let raw = UnsafeRawBufferPointer(bytes)
        let count = raw.count
        var first: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: count)
        var second: UInt64 = 0xC2B2_AE3D_27D4_EB4F
        var offset = 0
        // Two independent lanes so the multiplications overlap.
        while offset &+ 16 <= count {
            first = mix(first ^ raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            second = mix(second ^ raw.loadUnaligned(fromByteOffset: offset &+ 8, as: UInt64.self))
            offset &+= 16
        }
        if offset &+ 8 <= count {
            first = mix(first ^ raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            offset &+= 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while offset < count {
            tail |= UInt64(raw[offset]) &<< shift
            shift &+= 8
            offset &+= 1
        }
        second = mix(second ^ tail)
        return mix(first ^ (second &* 0xFF51_AFD7_ED55_8CCD))
    }

    @inline(__always)
    private static func mix(_ value: UInt64) -> UInt64 {
        var value = value &* 0xBF58_476D_1CE4_E5B9
        value ^= value &>> 31
        return value
    }
}

/// Byte equality of two buffers of the same length.
@inline(__always)
private func memoryEqual(_ left: UnsafeBufferPointer<UInt8>, _ right: UnsafeBufferPointer<UInt8>) -> Bool {
    let left = UnsafeRawBufferPointer(left)
    let right = UnsafeRawBufferPointer(right)
    var offset = 0
    let count = left.count
    while offset &+ 8 <= count {
        if left.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            != right.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        {
            return false
        }
        offset &+= 8
    }
    while offset < count {
        if left[offset] != right[offset] { return false }
        offset &+= 1
    }
    return true
}
