/// What identifies a client in a log line: a parsed IP address, or the raw token when it is not one.
public enum ClientIdentity {
    /// An IP address (IPv4 and IPv4-mapped IPv6 are one and the same).
    case address(IPAddress)
    /// A client token that is not an IP address (`unicomp6.unicomp.net`, `unix:`, `localhost`), as logged.
    case token(UnsafeRawBufferPointer)

    /// The identity of a logged client field: an address when it parses as one, the token otherwise.
    @inline(__always)
    public init(_ client: UnsafeRawBufferPointer) {
        if let address = IPAddress(parsing: client) { self = .address(address) } else { self = .token(client) }
    }
}

/// Keyed 64-bit pseudonyms of visitors: SipHash-2-4 of (client, user-agent fingerprint, virtual host) under the
/// day's key.
///
/// The hashed message is unambiguous without concatenation, in 8-byte little-endian words: a kind word (4 for an
/// address, then its 16 canonical bytes as two words; 0 for a token, then its length as a word and its bytes), then
/// the user agent's 64-bit fingerprint, then a word holding the virtual host's length with the top bit set and its
/// bytes when there is a virtual host, or a zero word. Length prefixes mean no choice of bytes in one field can
/// imitate another field (unlike a separator byte).
///
/// The user agent enters as a fingerprint (a fast unkeyed 64-bit hash the user-agent lookup computes anyway)
/// rather than as its bytes: SipHash then runs over five or six words instead of a couple of hundred bytes. The
/// key still covers everything, so a pseudonym remains unguessable without the day key; two different user agents
/// with equal fingerprints (2^-64 by chance; possible on purpose) merely share pseudonyms for the same address.
///
/// The same visitor on the same UTC day under the same key gets the same pseudonym; with another day's key the
/// values are unrelated, so visitors cannot be followed across days once keys are discarded.
public struct VisitorPseudonym: Sendable {
    /// The day key.
    public let key: SipHashKey
    /// The hasher after the kind word of an address (4), which depends on the key alone: an address's message
    /// starts from a copy of it.
    private let addressStart: SipHasher
    /// The hasher after the kind word and a zero first half: the start of every IPv4 client's message (its
    /// canonical form `::ffff:a.b.c.d` begins with eight zero bytes), so that one is hashed once per key too.
    private let zeroHighStart: SipHasher

    /// Creates a pseudonymiser for one day's key.
    public init(key: SipHashKey) {
        self.key = key
        var addressStart = SipHasher(key: key)
        addressStart.append(Self.addressKind)
        self.addressStart = addressStart
        var zeroHighStart = addressStart
        zeroHighStart.append(UInt64(0))
        self.zeroHighStart = zeroHighStart
    }

    /// The kind word of an address client (a token's is 0).
    private static let addressKind: UInt64 = 4

    /// The pseudonym of a visitor.
    ///
    /// - Parameters:
    ///   - client: the client's address, or its raw token when it is not an IP address.
    ///   - userAgentFingerprint: the fingerprint of the user agent bytes as logged (unescaped; empty or `-` when
    ///     absent): `UserAgentClassifier.fingerprint(_:)`. Part of the pseudonym's definition: changing the
    ///     fingerprint function changes every pseudonym.
    ///   - virtualHost: the virtual host, or `nil` when the format has none.
    /// - Returns: the 64-bit pseudonym as a signed integer (Parquet INT64).
    /// - Complexity: O(length of a token client and the virtual host); no allocation.
    @inline(__always)
    public func pseudonym(
        client: ClientIdentity, userAgentFingerprint: UInt64, virtualHost: UnsafeRawBufferPointer? = nil
    ) -> Int64 {
        var hasher: SipHasher
        switch client {
        case .address(let address):
            guard virtualHost != nil else {
                return pseudonym(address: address, userAgentFingerprint: userAgentFingerprint)
            }
            hasher = addressStart
            // The 16 bytes in network order: `append(UInt64)` writes little-endian, so swap the big-endian halves.
            hasher.append(address.high.byteSwapped)
            hasher.append(address.low.byteSwapped)
        case .token(let token):
            hasher = SipHasher(key: key)
            hasher.append(UInt64(0))
            hasher.append(UInt64(token.count))
            hasher.append(token)
        }
        hasher.append(userAgentFingerprint)
        if let virtualHost {
            hasher.append(UInt64(virtualHost.count) | 1 << 63)
            hasher.append(virtualHost)
        } else {
            hasher.append(UInt64(0))
        }
        return Int64(bitPattern: hasher.finalize())
    }

    /// The pseudonym of an address without a virtual host, the common case: the message is five words whose
    /// first is hashed once per key (`addressStart`), and whose second too when it is zero (`zeroHighStart`, every
    /// IPv4 client), so each call compresses three or four words and finalises.
    @inline(__always)
    public func pseudonym(address: IPAddress, userAgentFingerprint: UInt64) -> Int64 {
        let hash =
            address.high == 0
            ? zeroHighStart.finalize(appending: address.low.byteSwapped, userAgentFingerprint, 0)
            : addressStart.finalize(
                appending: address.high.byteSwapped, address.low.byteSwapped, userAgentFingerprint, 0)
        return Int64(bitPattern: hash)
    }
}

/// A `VisitorPseudonym` that remembers the pseudonyms of recent (address, user agent) pairs.
///
/// A visitor makes many requests (a page and its assets, then the next page), so most lines of a real log repeat
/// a pair seen a few lines earlier: in the corpus logs 77-88 % of the lines find their pair in a table of 256
/// entries, against 81-90 % with an unbounded one. The table is direct-mapped and small (8 KiB, so it stays in the
/// first-level cache beside the parser's working set): a hit costs a few loads and compares, a miss a SipHash
/// (about 14 SipHash rounds) and a store. A large table does not pay: lines whose pair was last seen thousands
/// of lines earlier (the generated benchmark log's visitors come back after ~16,000 lines on average) then miss
/// the processor's caches, and that costs as much as hashing.
///
/// Each entry holds the full inputs of its pseudonym and a look-up compares all of them, so the result is always
/// the one `VisitorPseudonym` computes; the slot hash only chooses where to look. Clients that are not addresses
/// and lines with a virtual host are hashed every time.
///
/// A new key empties the table (in O(1): it becomes the shared empty table, copied on the first miss), so lines
/// alternating between days cost a table copy (8 KiB) at each change; sorted logs change days once a day.
public struct CachedVisitorPseudonym {
    /// A remembered pseudonym and the inputs it was computed from: 32 bytes, two to a cache line.
    private struct Entry {
        var high: UInt64 = 0
        var low: UInt64 = 0
        var fingerprint: UInt64 = 0
        var value: Int64 = 0

        /// Whether the entry was made for these inputs.
        @inline(__always)
        func matches(_ address: IPAddress, _ fingerprint: UInt64) -> Bool {
            // Non-short-circuiting: three compares and one branch.
            (high ^ address.high) | (low ^ address.low) | (self.fingerprint ^ fingerprint) == 0
        }
    }

    /// The pseudonymiser of the current key; a placeholder (with an all-zero key) while `hasKey` is false.
    /// Not optional, so that a miss hashes with it in place instead of copying it out of an optional.
    private var current = VisitorPseudonym(key: SipHashKey(k0: 0, k1: 0))
    /// Whether there is a key (`use` was called since the start or the last `forgetKey`).
    private var hasKey = false
    private var entries: [Entry]
    private static let slotBits: UInt64 = 8

    /// The slot of an (address, fingerprint) pair: a multiplicative hash of the three words.
    @inline(__always)
    private static func slot(_ address: IPAddress, _ fingerprint: UInt64) -> Int {
        let mixed = (address.low ^ address.high.rotatedLeft(17) ^ fingerprint) &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: mixed >> (64 - slotBits))
    }

    /// A table in which nothing matches: each slot holds inputs whose own slot is another one, which no look-up
    /// in that slot can ask for. All-zero inputs belong to slot 0, so they fill the other slots; slot 0 holds
    /// fingerprint 1, whose slot is not 0.
    private static let emptyEntries: [Entry] = {
        let zero = Entry()
        let one = Entry(fingerprint: 1)
        let zeroSlot = slot(IPAddress(high: 0, low: 0), zero.fingerprint)
        precondition(slot(IPAddress(high: 0, low: 0), one.fingerprint) != zeroSlot)
        return (0..<(1 << Int(slotBits))).map { $0 == zeroSlot ? one : zero }
    }()

    /// Creates a cache without a key.
    public init() {
        entries = Self.emptyEntries
    }

    /// Uses `key` from now on (a no-op when it is the current key).
    public mutating func use(_ key: SipHashKey) {
        guard !hasKey || current.key != key else { return }
        current = VisitorPseudonym(key: key)
        hasKey = true
        entries = Self.emptyEntries
    }

    /// Forgets the key (until the next `use`) and the pseudonyms made with it.
    public mutating func forgetKey() {
        hasKey = false
        current = VisitorPseudonym(key: SipHashKey(k0: 0, k1: 0))
        entries = Self.emptyEntries
    }

    /// The pseudonym of a visitor under the current key (see ``VisitorPseudonym/pseudonym(client:userAgentFingerprint:virtualHost:)``),
    /// or nil without a key.
    ///
    /// Inlined, this is the look-up alone (a slot hash, a load, three compares); a miss and the uncached kinds of
    /// client are calls, so the pseudonymiser is not copied out of `current` on every line.
    @inline(__always)
    public mutating func pseudonym(
        client: ClientIdentity, userAgentFingerprint: UInt64, virtualHost: UnsafeRawBufferPointer? = nil
    ) -> Int64? {
        guard virtualHost == nil, case .address(let address) = client, hasKey else {
            return uncachedPseudonym(
                client: client, userAgentFingerprint: userAgentFingerprint, virtualHost: virtualHost)
        }
        let slot = Self.slot(address, userAgentFingerprint)
        // A read needs no uniqueness check, unlike `withUnsafeMutableBufferPointer`.
        let entry = entries[slot]
        if entry.matches(address, userAgentFingerprint) { return entry.value }
        return remember(address, userAgentFingerprint, in: slot)
    }

    /// The pseudonym of a client the table does not hold (a token, or a line with a virtual host), or nil without
    /// a key. Out of line, like a miss, so that the look-up stays small.
    @inline(never)
    private func uncachedPseudonym(
        client: ClientIdentity, userAgentFingerprint: UInt64, virtualHost: UnsafeRawBufferPointer?
    ) -> Int64? {
        guard hasKey else { return nil }
        return current.pseudonym(
            client: client, userAgentFingerprint: userAgentFingerprint, virtualHost: virtualHost)
    }

    /// Computes a pseudonym that is not in the table and stores it in `slot` (copying a shared empty table first).
    @inline(never)
    private mutating func remember(_ address: IPAddress, _ fingerprint: UInt64, in slot: Int) -> Int64? {
        guard hasKey else { return nil }
        let value = current.pseudonym(address: address, userAgentFingerprint: fingerprint)
        entries[slot] = Entry(high: address.high, low: address.low, fingerprint: fingerprint, value: value)
        return value
    }
}
