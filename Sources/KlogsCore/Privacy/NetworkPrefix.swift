/// An IPv4 or IPv6 network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`), for trusted-proxy lists.
///
/// IPv4 networks are held in IPv4-mapped form, so an IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) falls in the
/// IPv4 network it maps to. Host bits after the prefix are ignored (`10.1.2.3/8` is `10.0.0.0/8`); an address
/// without `/length` is a single host.
public struct NetworkPrefix: Sendable, Hashable, CustomStringConvertible {
    /// The network address, host bits cleared.
    public let network: IPAddress
    /// The prefix length in the address's own family: 0...32 for IPv4, 0...128 for IPv6.
    public let prefixLength: Int
    private let maskHigh: UInt64
    private let maskLow: UInt64

    /// Creates the network of `address` with `prefixLength` bits (0...32 for IPv4, 0...128 for IPv6).
    public init?(address: IPAddress, prefixLength: Int) {
        guard prefixLength >= 0 && prefixLength <= address.maximumPrefixLength else { return nil }
        let bits = address.family == .ipv4 ? prefixLength + 96 : prefixLength
        maskHigh = bits >= 64 ? ~0 : (bits == 0 ? 0 : ~UInt64(0) << (64 - bits))
        maskLow = bits <= 64 ? 0 : (bits >= 128 ? ~0 : ~UInt64(0) << (128 - bits))
        network = IPAddress(high: address.high & maskHigh, low: address.low & maskLow)
        self.prefixLength = prefixLength
    }

    /// Parses `address/length` or a bare address.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(String(parts[0])) else { return nil }
        var length = address.maximumPrefixLength
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].utf8.count <= 3, parts[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                let value = Int(parts[1])
            else { return nil }
            length = value
        }
        self.init(address: address, prefixLength: length)
    }

    /// Parses a comma-separated list (`10.0.0.0/8, 192.168.0.0/16,::1`).
    ///
    /// - Returns: the networks, or the first entry that is not one.
    public static func parseList(_ text: String) -> Result<[NetworkPrefix], InvalidEntry> {
        var result: [NetworkPrefix] = []
        for part in text.split(separator: ",") {
            let entry = String(part.filter { $0 != " " })
            if entry.isEmpty { continue }
            guard let prefix = NetworkPrefix(entry) else { return .failure(InvalidEntry(text: entry)) }
            result.append(prefix)
        }
        return .success(result)
    }

    /// An entry of a list that is not a network.
    public struct InvalidEntry: Error, Sendable { public var text: String }

    /// Whether `address` is in this network.
    @inline(__always)
    public func contains(_ address: IPAddress) -> Bool {
        address.high & maskHigh == network.high && address.low & maskLow == network.low
    }

    /// `10.0.0.0/8`.
    public var description: String { network.networkText(prefixLength: prefixLength) }
}
