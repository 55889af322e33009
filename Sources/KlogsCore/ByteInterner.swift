/// Maps byte sequences to dense `Int32` ids (0, 1, 2, …) for dictionary encoding, without allocating on a hit.
///
/// Bytes are stored once, back to back, in one arena; an open-addressing table (linear probing, power-of-two size,
/// at most half full) holds ids. The hash mixes eight bytes at a time with a random seed drawn once per process
/// (``runSeed``), so crafted inputs cannot be tuned offline to collide; the interners of one run share it, so one
/// can take over another's entries without hashing them again (`intern(entry:of:)`).
///
/// ```swift
/// var paths = ByteInterner()
/// let id = paths.intern(record.path)      // the same id for the same bytes
/// paths.string(of: id)                    // "/index.html"
/// ```
public struct ByteInterner: Sendable {
    /// The bytes of every entry, back to back.
    public private(set) var arena: [UInt8] = []
    /// `ends[id]` is the end of entry `id` in the arena; it starts where the previous one ends.
    public private(set) var ends: [Int] = []
    private var hashes: [UInt64] = []
    /// Slot → id + 1; 0 marks an empty slot.
    private var slots: [Int32]
    private var mask: Int
    private let seed: UInt64
    /// The id found or added last, -1 for none: consecutive lines often repeat a value (a method, a host), and
    /// comparing with the last one costs less than hashing.
    private var lastID: Int32 = -1

    /// Creates an empty interner.
    /// - Parameters:
    ///   - capacity: the number of entries to make room for.
    ///   - seed: the hash seed; the process's random ``runSeed`` unless a test needs another.
    public init(capacity: Int = 1024, seed: UInt64 = ByteInterner.runSeed) {
        var size = 16
        while size < capacity * 2 { size *= 2 }
        slots = Array(repeating: 0, count: size)
        mask = size - 1
        self.seed = seed
        ends.reserveCapacity(capacity)
        hashes.reserveCapacity(capacity)
    }

    /// The hash seed of every interner of this process: random, drawn on first use.
    public static let runSeed = UInt64.random(in: .min ... .max)

    /// The number of distinct entries.
    public var count: Int { ends.count }

    /// The id of `bytes`, adding them when new.
    ///
    /// - Complexity: O(bytes.count) expected; allocates only when a new entry outgrows the storage.
    public mutating func intern(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        if lastID >= 0 && equals(Int(lastID), bytes) { return lastID }
        return intern(bytes, hash: Self.hash(bytes, seed: seed))
    }

    /// The id in this interner of entry `id` of `other`, adding its bytes when new: how the parallel pipeline
    /// moves a chunk's values into a partition. With the same seed (interners of one process) `other`'s stored
    /// hash is reused, so the bytes are compared but not hashed again.
    ///
    /// - Complexity: O(length of the entry) expected.
    public mutating func intern(entry id: Int32, of other: ByteInterner) -> Int32 {
        other.arena.withUnsafeBytes { arena in
            let index = Int(id)
            let start = index == 0 ? 0 : other.ends[index - 1]
            // Safe because start..<ends[index] is entry id's range inside other's arena.
            let bytes = UnsafeRawBufferPointer(rebasing: arena[start..<other.ends[index]])
            if lastID >= 0 && equals(Int(lastID), bytes) { return lastID }
            return intern(bytes, hash: other.seed == seed ? other.hashes[index] : Self.hash(bytes, seed: seed))
        }
    }

    /// The id of `bytes` whose hash under this interner's seed is `hash`, adding them when new.
    @inline(__always)
    private mutating func intern(_ bytes: UnsafeRawBufferPointer, hash: UInt64) -> Int32 {
        switch probe(bytes, hash: hash) {
        case .found(let id):
            lastID = id
            return id
        case .empty(let slot):
            return insert(bytes, hash: hash, slot: slot)
        }
    }

    /// The id of `bytes`, and whether they are new; new bytes are added only when `admit` accepts them (nil
    /// otherwise). Hashes once for the look-up and the addition.
    ///
    /// - Complexity: O(bytes.count) expected, plus `admit`'s cost for new bytes.
    public mutating func intern(
        _ bytes: UnsafeRawBufferPointer, admittingNew admit: (UnsafeRawBufferPointer) -> Bool
    ) -> (id: Int32, isNew: Bool)? {
        if lastID >= 0 && equals(Int(lastID), bytes) { return (lastID, false) }
        let hash = Self.hash(bytes, seed: seed)
        switch probe(bytes, hash: hash) {
        case .found(let id):
            lastID = id
            return (id, false)
        case .empty(let slot):
            guard admit(bytes) else { return nil }
            return (insert(bytes, hash: hash, slot: slot), true)
        }
    }

    /// Where `bytes` are in the table: their id, or the empty slot where they would go.
    private enum Probe {
        case found(Int32)
        case empty(Int)
    }

    @inline(__always)
    private func probe(_ bytes: UnsafeRawBufferPointer, hash: UInt64) -> Probe {
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let stored = slots[slot]
            if stored == 0 { return .empty(slot) }
            let id = Int(stored - 1)
            if hashes[id] == hash && equals(id, bytes) { return .found(Int32(id)) }
            slot = (slot + 1) & mask
        }
    }

    /// Adds new `bytes` at the empty `slot` that `probe` found for them.
    private mutating func insert(_ bytes: UnsafeRawBufferPointer, hash: UInt64, slot: Int) -> Int32 {
        precondition(ends.count < Int(Int32.max), "ByteInterner is full")
        let id = ends.count
        arena.append(contentsOf: bytes)
        ends.append(arena.count)
        hashes.append(hash)
        slots[slot] = Int32(id + 1)
        if ends.count * 2 > slots.count { grow() }
        lastID = Int32(id)
        return lastID
    }

    /// The id of `bytes` if they were interned, without adding them.
    public func id(of bytes: UnsafeRawBufferPointer) -> Int32? {
        guard case .found(let id) = probe(bytes, hash: Self.hash(bytes, seed: seed)) else { return nil }
        return id
    }

    /// The id of `bytes` if they were interned, without adding them; remembered as the last id, like `intern`'s.
    public mutating func lookUp(_ bytes: UnsafeRawBufferPointer) -> Int32? {
        if lastID >= 0 && equals(Int(lastID), bytes) { return lastID }
        guard let id = id(of: bytes) else { return nil }
        lastID = id
        return id
    }

    /// Interns the UTF-8 bytes of a string.
    public mutating func intern(_ text: String) -> Int32 {
        var text = text
        return text.withUTF8 { intern(UnsafeRawBufferPointer($0)) }
    }

    /// The bytes of entry `id` (a view into the arena, no copy).
    public func bytes(of id: Int32) -> ArraySlice<UInt8> {
        let index = Int(id)
        return arena[(index == 0 ? 0 : ends[index - 1])..<ends[index]]
    }

    /// The bytes of entry `id` as a string; invalid UTF-8 is repaired with U+FFFD.
    public func string(of id: Int32) -> String {
        String(decoding: bytes(of: id), as: UTF8.self)
    }

    /// Forgets every entry; ids restart at 0.
    /// - Parameter keepingCapacity: whether to keep the storage for reuse.
    public mutating func removeAll(keepingCapacity: Bool = false) {
        lastID = -1
        arena.removeAll(keepingCapacity: keepingCapacity)
        ends.removeAll(keepingCapacity: keepingCapacity)
        hashes.removeAll(keepingCapacity: keepingCapacity)
        if keepingCapacity {
            for index in slots.indices { slots[index] = 0 }
        } else {
            slots = Array(repeating: 0, count: 16)
            mask = 15
        }
    }

    @inline(__always)
    private func equals(_ id: Int, _ bytes: UnsafeRawBufferPointer) -> Bool {
        let start = id == 0 ? 0 : ends[id - 1]
        let length = ends[id] - start
        guard length == bytes.count else { return false }
        if length == 0 { return true }
        return arena.withUnsafeBytes { storage in
            // Safe because start..<start+length is entry id's range inside the arena.
            Self.equal(storage.baseAddress! + start, bytes.baseAddress!, count: length)
        }
    }

    /// Whether two byte regions hold the same bytes, compared eight bytes at a time: for the short values
    /// interned here (methods, paths, hosts) cheaper than a call to `memcmp`.
    @inline(__always)
    private static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Bool {
        var offset = 0
        while count - offset >= 8 {
            if a.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                != b.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            {
                return false
            }
            offset += 8
        }
        if offset < count && count >= 8 {
            // The last eight bytes, overlapping those already compared.
            return a.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
                == b.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        }
        while offset < count {
            if a.load(fromByteOffset: offset, as: UInt8.self) != b.load(fromByteOffset: offset, as: UInt8.self) {
                return false
            }
            offset += 1
        }
        return true
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = Array(repeating: 0, count: size)
        mask = size - 1
        for id in 0..<ends.count {
            var slot = Int(truncatingIfNeeded: hashes[id]) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(id + 1)
        }
    }

    /// A fast seeded 64-bit hash: eight-byte words through multiply-xor mixing, then a final avalanche.
    @inline(__always)
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
        var hash = seed ^ (UInt64(bytes.count) &* multiplier)
        var index = 0
        let count = bytes.count
        while count - index >= 8 {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            hash = (hash ^ word) &* multiplier
            hash ^= hash >> 29
            index += 8
        }
        if index < count {
            var word: UInt64 = 0
            if count >= 8 {
                // The last eight bytes, shifted so that only the unhashed tail remains: the same word as below.
                let last = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self))
                word = last >> UInt64(8 * (index + 8 - count))
            } else {
                var shift: UInt64 = 0
                while index < count {
                    word |= UInt64(bytes[index]) << shift
                    shift += 8
                    index += 1
                }
            }
            hash = (hash ^ word) &* multiplier
            hash ^= hash >> 29
        }
        // Murmur3's finaliser, so the low bits used for slots depend on every input bit.
        hash ^= hash >> 33
        hash = hash &* 0xFF51_AFD7_ED55_8CCD
        hash ^= hash >> 33
        hash = hash &* 0xC4CE_B9FE_1A85_EC53
        hash ^= hash >> 33
        return hash
    }
}
