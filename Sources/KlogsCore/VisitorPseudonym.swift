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

    /// Creates a pseudonymiser for one day's key.
    public init(key: SipHashKey) {
        self.key = key
    }

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
        var hasher = SipHasher(key: key)
        switch client {
        case .address(let address):
            hasher.append(UInt64(4))
            // The 16 bytes in network order: `append(UInt64)` writes little-endian, so swap the big-endian halves.
            hasher.append(address.high.byteSwapped)
            hasher.append(address.low.byteSwapped)
        case .token(let token):
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
}

/// A `VisitorPseudonym` that remembers the pseudonyms of recent (address, user agent) pairs.
///
/// A visitor makes many requests (a page and its assets, then the next page), so most lines repeat a pair seen a
/// little earlier: a look-up in a small direct-mapped table costs a tenth of a SipHash. The table holds the inputs
/// of each pseudonym it remembers and compares all of them, so the result is always the one `VisitorPseudonym`
/// computes. Clients that are not addresses and lines with a virtual host are hashed every time.
///
/// The table is kept when the key changes: entries carry the generation of the key they were made under, and a
/// new key starts a new generation, so switching days back and forth costs nothing.
public struct CachedVisitorPseudonym {
    private struct Entry {
        var high: UInt64 = 0
        var low: UInt64 = 0
        var fingerprint: UInt64 = 0
        var value: Int64 = 0
        var generation: UInt32 = 0
    }

    /// The pseudonymiser of the current key, or nil before the first key.
    public private(set) var current: VisitorPseudonym?
    private var entries: [Entry]
    private var generation: UInt32 = 0
    private static let slotBits: UInt64 = 14

    /// Creates a cache without a key.
    public init() {
        entries = Array(repeating: Entry(), count: 1 << Int(Self.slotBits))
    }

    /// Uses `key` from now on (a no-op when it is the current key).
    public mutating func use(_ key: SipHashKey) {
        guard current?.key != key else { return }
        current = VisitorPseudonym(key: key)
        startGeneration()
    }

    /// Forgets the key (until the next `use`); the entries stay but can no longer match.
    public mutating func forgetKey() {
        current = nil
        startGeneration()
    }

    private mutating func startGeneration() {
        generation &+= 1
        if generation == 0 {
            // After 2^32 keys the generations start again: forget every entry once.
            entries = Array(repeating: Entry(), count: entries.count)
            generation = 1
        }
    }

    /// The pseudonym of a visitor under the current key (see ``VisitorPseudonym/pseudonym(client:userAgentFingerprint:virtualHost:)``),
    /// or nil without a key.
    @inline(__always)
    public mutating func pseudonym(
        client: ClientIdentity, userAgentFingerprint: UInt64, virtualHost: UnsafeRawBufferPointer? = nil
    ) -> Int64? {
        guard let current else { return nil }
        guard virtualHost == nil, case .address(let address) = client else {
            return current.pseudonym(
                client: client, userAgentFingerprint: userAgentFingerprint, virtualHost: virtualHost)
        }
        let mixed = (address.low ^ address.high.rotatedLeft(17) ^ userAgentFingerprint) &* 0x9E37_79B9_7F4A_7C15
        let slot = Int(truncatingIfNeeded: mixed >> (64 - Self.slotBits))
        let generation = self.generation
        return entries.withUnsafeMutableBufferPointer { entries in
            let entry = entries[slot]
            if entry.generation == generation && entry.low == address.low && entry.high == address.high
                && entry.fingerprint == userAgentFingerprint
            {
                return entry.value
            }
            let value = current.pseudonym(client: client, userAgentFingerprint: userAgentFingerprint)
            entries[slot] = Entry(
                high: address.high, low: address.low, fingerprint: userAgentFingerprint, value: value,
                generation: generation)
            return value
        }
    }
}
