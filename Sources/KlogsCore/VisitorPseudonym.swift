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

/// Keyed 64-bit pseudonyms of visitors: SipHash-2-4 of (client, user agent, virtual host) under the day's key.
///
/// The hashed message is unambiguous without concatenation: a kind byte (4 for an address, then its 16 canonical
/// bytes; 0 for a token, then its length as 8 little-endian bytes and its bytes), then the user agent's length
/// (8 bytes) and bytes, then 1 and the virtual host's length and bytes when there is a virtual host, or 0. Length
/// prefixes mean no choice of bytes in one field can imitate another field (unlike a separator byte).
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
    ///   - userAgent: the user agent bytes as logged (unescaped); empty or `-` when absent.
    ///   - virtualHost: the virtual host, or `nil` when the format has none.
    /// - Returns: the 64-bit pseudonym as a signed integer (Parquet INT64).
    /// - Complexity: O(length of the inputs); no allocation.
    @inline(__always)
    public func pseudonym(
        client: ClientIdentity, userAgent: UnsafeRawBufferPointer, virtualHost: UnsafeRawBufferPointer? = nil
    ) -> Int64 {
        var hasher = SipHasher(key: key)
        switch client {
        case .address(let address):
            hasher.append(UInt8(4))
            // The 16 bytes in network order: `append(UInt64)` writes little-endian, so swap the big-endian halves.
            hasher.append(address.high.byteSwapped)
            hasher.append(address.low.byteSwapped)
        case .token(let token):
            hasher.append(UInt8(0))
            hasher.append(UInt64(token.count))
            hasher.append(token)
        }
        hasher.append(UInt64(userAgent.count))
        hasher.append(userAgent)
        if let virtualHost {
            hasher.append(UInt8(1))
            hasher.append(UInt64(virtualHost.count))
            hasher.append(virtualHost)
        } else {
            hasher.append(UInt8(0))
        }
        return Int64(bitPattern: hasher.finalize())
    }
}
