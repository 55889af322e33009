/// A literal of the prefilter's analysis (lowercased bytes), by its number in an ``AtomTable``.
typealias Atom = Int32

/// The literals of one analysis ("atoms"), each stored once and numbered in order of first appearance, so that the
/// analysis compares, hashes and collects 32-bit numbers instead of `String`s: `String` hashing, set operations and
/// allocations were two thirds of the rule load before.
///
/// Atom 0 is the empty string. Not thread-safe: one table per analysis.
///
/// - Complexity: ``intern(_:)`` is O(length) on average (an open-addressing hash table over the bytes).
final class AtomTable {
    /// The empty string.
    static let empty: Atom = 0

    /// Every atom's bytes, one after another: atom `a` is `storage[offsets[a]..<offsets[a + 1]]`.
    private var storage: [UInt8] = []
    private var offsets: [Int32] = [0]
    /// Each atom's hash, to skip most byte comparisons and to rehash without reading bytes.
    private var hashes: [UInt32] = []
    /// Open addressing: atom number + 1, or 0 for an empty slot; the count is a power of two, at most half full.
    private var slots = [Int32](repeating: 0, count: 1024)
    /// Where concatenations and cut atoms are assembled before they are interned.
    private var scratch: [UInt8] = []

    init() {
        // Safe to ignore: the first atom interned gets number 0.
        _ = intern([])
    }

    /// The number of distinct atoms so far.
    var count: Int { hashes.count }

    /// The length of `atom` in bytes.
    @inline(__always)
    func length(_ atom: Atom) -> Int {
        Int(offsets[Int(atom) + 1] - offsets[Int(atom)])
    }

    /// The length of the longest atom of `set`, 0 for an empty set.
    func longest(_ set: AtomSet) -> Int {
        set.reduce(0) { max($0, length($1)) }
    }

    /// The length of the shortest atom of `set`, nil for an empty set.
    func shortest(_ set: AtomSet) -> Int? {
        set.reduce(nil) { shortest, atom in min(shortest ?? .max, length(atom)) }
    }

    /// A 64-bit summary of the bytes of `atom` (bit `b % 64` for each byte `b`): an atom can contain another only if
    /// its signature has every bit of the other's.
    func signature(_ atom: Atom) -> UInt64 {
        bytes(atom).reduce(0) { $0 | 1 &<< UInt64($1 & 63) }
    }

    /// The bytes of `atom`.
    func bytes(_ atom: Atom) -> ArraySlice<UInt8> {
        storage[Int(offsets[Int(atom)])..<Int(offsets[Int(atom) + 1])]
    }

    /// The text of `atom` (atoms come from ASCII patterns; anything else is repaired with U+FFFD).
    func string(_ atom: Atom) -> String {
        String(decoding: bytes(atom), as: UTF8.self)
    }

    /// The atoms of `set` as text (for tests and diagnostics).
    func strings(_ set: AtomSet) -> Set<String> {
        Set(set.map(string))
    }

    /// Whether `atom` contains `part` (byte by byte).
    func contains(_ atom: Atom, _ part: Atom) -> Bool {
        let partLength = length(part)
        let last = length(atom) - partLength
        guard last >= 0 else { return false }
        return storage.withUnsafeBufferPointer { storage in
            // Safe because both atoms' ranges lie inside `storage`.
            let text = storage.baseAddress! + Int(offsets[Int(atom)])
            let needle = storage.baseAddress! + Int(offsets[Int(part)])
            for start in 0...last where sameBytes(text + start, needle, partLength) { return true }
            return false
        }
    }

    /// The number of `bytes`, which are added if they are new.
    func intern(_ bytes: [UInt8]) -> Atom {
        bytes.withUnsafeBufferPointer(intern)
    }

    /// The number in this table of atom `atom` of `other`.
    func adopt(_ atom: Atom, from other: AtomTable) -> Atom {
        scratch.removeAll(keepingCapacity: true)
        scratch += other.bytes(atom)
        return internScratch()
    }

    /// The atom made of `first` followed by `second`.
    func concatenation(_ first: Atom, _ second: Atom) -> Atom {
        scratch.removeAll(keepingCapacity: true)
        appendToScratch(first)
        appendToScratch(second)
        return internScratch()
    }

    /// The atom made of `first` followed by `suffix`.
    func appending(_ suffix: [UInt8], to first: Atom) -> Atom {
        scratch.removeAll(keepingCapacity: true)
        appendToScratch(first)
        scratch += suffix
        return internScratch()
    }

    /// The first `length` bytes of `atom` (all of it if shorter).
    func prefix(_ atom: Atom, length: Int) -> Atom {
        if self.length(atom) <= length { return atom }
        scratch.removeAll(keepingCapacity: true)
        appendToScratch(atom, dropLast: self.length(atom) - length)
        return internScratch()
    }

    /// The last `length` bytes of `atom` (all of it if shorter).
    func suffix(_ atom: Atom, length: Int) -> Atom {
        if self.length(atom) <= length { return atom }
        scratch.removeAll(keepingCapacity: true)
        appendToScratch(atom, dropFirst: self.length(atom) - length)
        return internScratch()
    }

    /// Appends the bytes of `atom` to `scratch`, less `dropFirst` bytes at its start and `dropLast` at its end.
    ///
    /// Copies straight from `storage`: a slice of it kept alive until `internScratch` appends to it would make that
    /// append copy all of `storage`.
    private func appendToScratch(_ atom: Atom, dropFirst: Int = 0, dropLast: Int = 0) {
        storage.withUnsafeBufferPointer { storage in
            let start = Int(offsets[Int(atom)]) + dropFirst
            let end = Int(offsets[Int(atom) + 1]) - dropLast
            scratch.append(contentsOf: UnsafeBufferPointer(rebasing: storage[start..<end]))
        }
    }

    private func internScratch() -> Atom {
        // `scratch` is never part of `storage`, so interning it cannot read bytes that move while appended.
        scratch.withUnsafeBufferPointer(intern)
    }

    private func intern(_ bytes: UnsafeBufferPointer<UInt8>) -> Atom {
        let hash = Self.hash(bytes)
        let mask = slots.count - 1
        var slot = Int(hash) & mask
        while slots[slot] != 0 {
            let atom = Int(slots[slot] - 1)
            if hashes[atom] == hash && equals(atom, bytes) { return Atom(atom) }
            slot = (slot + 1) & mask
        }
        let atom = count
        storage.append(contentsOf: bytes)
        offsets.append(Int32(storage.count))
        hashes.append(hash)
        slots[slot] = Int32(atom + 1)
        if count * 2 > slots.count { grow() }
        return Atom(atom)
    }

    private func equals(_ atom: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = Int(offsets[atom])
        guard Int(offsets[atom + 1]) - start == bytes.count else { return false }
        return storage.withUnsafeBufferPointer { storage in
            // Safe because the atom's range lies inside `storage` and has `bytes.count` bytes.
            bytes.isEmpty || sameBytes(storage.baseAddress! + start, bytes.baseAddress!, bytes.count)
        }
    }

    /// Doubles the slots and places every atom again, by its stored hash.
    private func grow() {
        slots = [Int32](repeating: 0, count: slots.count * 2)
        let mask = slots.count - 1
        for (atom, hash) in hashes.enumerated() {
            var slot = Int(hash) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(atom + 1)
        }
    }

    /// FNV-1a over the bytes, folded to 32 bits.
    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return UInt32(truncatingIfNeeded: hash ^ (hash >> 32))
    }
}

/// Whether the `count` bytes at `left` and at `right` are the same.
@inline(__always)
private func sameBytes(_ left: UnsafePointer<UInt8>, _ right: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    for offset in 0..<count where left[offset] != right[offset] { return false }
    return true
}

/// A set of atoms as their numbers in ascending order: a union is a merge, equality an array comparison, and no
/// hashing is needed (the sets of the analysis are small, but built and combined millions of times).
struct AtomSet: Equatable, Sequence {
    /// Ascending, without duplicates.
    private(set) var atoms: [Atom]

    init() {
        atoms = []
    }

    /// The set of one atom.
    init(_ atom: Atom) {
        atoms = [atom]
    }

    /// The set of `atoms`, in any order and with any repetitions.
    init(unsorted atoms: consuming [Atom]) {
        var sorted = atoms
        if sorted.count < 2 {
            self.atoms = sorted
            return
        }
        sorted.sort()
        var kept = 0
        for atom in sorted where kept == 0 || sorted[kept - 1] != atom {
            sorted[kept] = atom
            kept += 1
        }
        sorted.removeLast(sorted.count - kept)
        self.atoms = sorted
    }

    var count: Int { atoms.count }
    var isEmpty: Bool { atoms.isEmpty }

    func makeIterator() -> IndexingIterator<[Atom]> {
        atoms.makeIterator()
    }

    /// Both sets' atoms.
    func union(_ other: AtomSet) -> AtomSet {
        var result = self
        result.formUnion(other)
        return result
    }

    /// Adds `other`'s atoms: in place for one atom (a long alternation adds its branches one at a time), else by a
    /// merge.
    mutating func formUnion(_ other: AtomSet) {
        if other.atoms.count == 1 {
            insert(other.atoms[0])
            return
        }
        if other.atoms.isEmpty { return }
        var merged: [Atom] = []
        merged.reserveCapacity(atoms.count + other.atoms.count)
        var left = 0
        var right = 0
        while left < atoms.count && right < other.atoms.count {
            let (mine, theirs) = (atoms[left], other.atoms[right])
            merged.append(Swift.min(mine, theirs))
            if mine <= theirs { left += 1 }
            if theirs <= mine { right += 1 }
        }
        merged += atoms[left...]
        merged += other.atoms[right...]
        atoms = merged
    }

    /// Adds `atom` where it belongs in the order.
    mutating func insert(_ atom: Atom) {
        var low = 0
        var high = atoms.count
        while low < high {
            let middle = (low + high) / 2
            if atoms[middle] < atom { low = middle + 1 } else { high = middle }
        }
        if low == atoms.count || atoms[low] != atom { atoms.insert(atom, at: low) }
    }
}
