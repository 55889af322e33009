internal import CPrefetch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A bounded map from user-agent bytes to a small integer (a class id), set-associative with least-recently-used
/// replacement inside each set.
///
/// The table has a power-of-two number of sets of ``ways`` slots; a key's hash picks its set. A slot is the key's
/// hash (its tag) and the address of its record, so a set fills exactly one cache line: a lookup reads that line,
/// then, on a tag hit, the record, where the length, the value and the key's bytes sit together; a 64-bit hash alone
/// is never trusted. The caller may ``prefetch(hash:)`` the set's line as soon as it has the hash, and look up after
/// other work, so that the line arrives meanwhile (on a generated log, the set's line missed the processor caches
/// on most lookups). A hit allocates nothing; an insert copies the key into a new record (the old one freed on
/// replacement and in `deinit`).
///
/// All storage is manually allocated, which keeps the hit path free of reference counting, copy-on-write checks and
/// exclusivity checks; this is the only type of the module that manages memory itself. Not thread-safe.
final class UserAgentCache {
    /// Slots per set: four slots of 16 bytes fill one 64-byte cache line.
    static let ways = 4

    /// The start of an entry's allocation; the key's bytes follow it.
    private struct Record {
        /// The key's length in bytes.
        var count: Int
        /// The value stored for the key.
        var value: Int32
        /// ``UserAgentCache/lookupCount`` at the entry's last use, for replacement.
        var lastUse: UInt32
    }

    /// One entry: the key's hash with the top bit set (0 marks an empty slot) and its record (nil when empty).
    private struct Slot {
        var tag: UInt64
        var record: UnsafeMutableRawPointer?
    }

    /// The sets, one after the other, aligned on cache lines.
    private let slots: UnsafeMutablePointer<Slot>
    /// Lookups so far; also the clock of the replacement policy.
    private(set) var lookupCount = 0
    /// Lookups that found nothing.
    private(set) var missCount = 0
    private let setMask: Int

    /// The number of entries the cache can hold (the requested capacity rounded up to a power of two, at least 4).
    let capacity: Int

    /// - Parameter capacity: the number of user agents to keep; rounded up to a power of two of at least 4.
    init(capacity: Int) {
        var sets = 1
        while sets * Self.ways < capacity { sets <<= 1 }
        setMask = sets - 1
        self.capacity = sets * Self.ways
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: self.capacity * MemoryLayout<Slot>.stride, alignment: Self.ways * MemoryLayout<Slot>.stride)
        slots = raw.initializeMemory(as: Slot.self, repeating: Slot(tag: 0, record: nil), count: self.capacity)
    }

    deinit {
        for entry in 0..<capacity { slots[entry].record?.deallocate() }
        UnsafeMutableRawPointer(slots).deallocate()
    }

    /// The first slot of the set of a key with hash `hash`.
    @inline(__always)
    private func firstSlot(_ hash: UInt64) -> Int {
        (Int(truncatingIfNeeded: hash) & setMask) &* Self.ways
    }

    /// Starts loading the set of a key with hash `hash` into the processor caches, for a ``value(for:hash:)`` a
    /// little later. Only a hint: it changes nothing.
    @inline(__always)
    func prefetch(hash: UInt64) {
        klogs_prefetch(slots + firstSlot(hash))
    }

    /// The value stored for `key`, if any; marks the entry as recently used.
    ///
    /// - Parameter hash: ``hash(_:)`` of `key`.
    @inline(__always)
    func value(for key: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int32? {
        lookupCount &+= 1
        let tag = hash | (1 << 63)
        let first = firstSlot(hash)
        for entry in first..<(first &+ Self.ways) where slots[entry].tag == tag {
            // Safe because a non-zero tag means the slot holds a record.
            let record = slots[entry].record.unsafelyUnwrapped
            let header = record.assumingMemoryBound(to: Record.self)
            if header.pointee.count == key.count
                && (key.isEmpty
                    || memcmp(record + MemoryLayout<Record>.stride, key.baseAddress.unsafelyUnwrapped, key.count) == 0)
            {
                header.pointee.lastUse = UInt32(truncatingIfNeeded: lookupCount)
                return header.pointee.value
            }
        }
        missCount &+= 1
        return nil
    }

    /// Stores `value` for `key` (which must not be present), replacing the least recently used entry of its set.
    func insert(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64, value: Int32) {
        let first = firstSlot(hash)
        let clock = UInt32(truncatingIfNeeded: lookupCount)
        var victim = first
        for entry in first..<(first + Self.ways) {
            guard let record = slots[entry].record else {
                victim = entry
                break
            }
            // Wrapping distance from the current clock, so an overflow of the clock does not break the order.
            if clock &- lastUse(record) > clock &- lastUse(slots[victim].record.unsafelyUnwrapped) { victim = entry }
        }
        slots[victim].record?.deallocate()
        let record = UnsafeMutableRawPointer.allocate(
            byteCount: MemoryLayout<Record>.stride + key.count, alignment: MemoryLayout<Record>.alignment)
        record.initializeMemory(as: Record.self, to: Record(count: key.count, value: value, lastUse: clock))
        if let base = key.baseAddress {
            (record + MemoryLayout<Record>.stride).copyMemory(from: base, byteCount: key.count)
        }
        slots[victim] = Slot(tag: hash | (1 << 63), record: record)
    }

    private func lastUse(_ record: UnsafeMutableRawPointer) -> UInt32 {
        record.assumingMemoryBound(to: Record.self).pointee.lastUse
    }

    /// A fast 64-bit hash of `bytes`, sixteen bytes per step (not for adversarial keys: a collision only costs a
    /// byte comparison).
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
        second = mix(second ^ tail(raw, from: offset))
        return mix(first ^ (second &* 0xFF51_AFD7_ED55_8CCD))
    }

    /// The last `count - offset` (fewer than 8) bytes as a little-endian number: the first of them in the low byte.
    @inline(__always)
    static func tail(_ raw: UnsafeRawBufferPointer, from offset: Int) -> UInt64 {
        let remaining = raw.count &- offset
        if remaining == 0 { return 0 }
        if raw.count >= 8 {
            // The key's last 8 bytes in one load, shifted so only the remaining ones are left (a byte loop was some
            // 40% of the hash of a typical agent).
            let last = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: raw.count &- 8, as: UInt64.self))
            return last &>> UInt64(8 &* (8 &- remaining))
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        for index in offset..<raw.count {
            tail |= UInt64(raw[index]) &<< shift
            shift &+= 8
        }
        return tail
    }

    @inline(__always)
    private static func mix(_ value: UInt64) -> UInt64 {
        var value = value &* 0xBF58_476D_1CE4_E5B9
        value ^= value &>> 31
        return value
    }
}
