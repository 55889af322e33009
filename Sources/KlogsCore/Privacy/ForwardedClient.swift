/// Where the client address of a line comes from.
public enum ClientAddressSource: String, Sendable, CaseIterable {
    /// The logged client field (`%h`, `$remote_addr`); for a logged list, its first element.
    case clientField = "client"
    /// The right-most address of the X-Forwarded-For chain that is not a trusted proxy.
    case forwardedFor = "x-forwarded-for"
}

/// Picks the client address from an X-Forwarded-For chain, skipping trusted proxies from the right.
///
/// The chain is the X-Forwarded-For entries followed by the connecting peer (the logged client field), when the
/// log has both. Each proxy appends the address it received the request from, so only entries added by proxies
/// one trusts are reliable: everything to their left may have been written by the client itself. The rule:
///
/// 1. Walk the chain from the right, skipping addresses in a trusted network.
/// 2. The first address that is not trusted is the client.
/// 3. The first entry that is not an address (`unknown`, `-`, a host name, garbage) ends the walk: the client is
///    invalid and is handled as a token (`ClientIdentity.token`), never stored as logged.
/// 4. When every entry is trusted, the left-most one is the client.
/// 5. An empty chain (no header, `-`) gives the peer; no peer either gives an empty token.
///
/// A spoofed left-most entry is therefore never chosen as long as the real client's address was appended by a
/// trusted proxy.
///
/// - Complexity: O(length of the chain × number of trusted networks); no allocation.
public struct ForwardedClientSelector: Sendable {
    /// The networks of proxies whose X-Forwarded-For entries are believed.
    public var trustedProxies: [NetworkPrefix]

    public init(trustedProxies: [NetworkPrefix]) {
        self.trustedProxies = trustedProxies
    }

    /// Whether an address is one of the trusted proxies.
    @inline(__always)
    public func isTrusted(_ address: IPAddress) -> Bool {
        for prefix in trustedProxies where prefix.contains(address) { return true }
        return false
    }

    /// The client of a chain.
    ///
    /// - Parameters:
    ///   - forwardedFor: the X-Forwarded-For value (`a, b, c`), or `nil` when the log has none.
    ///   - peer: the connecting peer's address as logged, appended to the chain; `nil` when the chain is all there is.
    public func select(forwardedFor: UnsafeRawBufferPointer?, peer: UnsafeRawBufferPointer?) -> ClientIdentity {
        var leftmostTrusted: IPAddress? = nil
        if let peer, !Self.isEmptyEntry(peer) {
            guard let address = IPAddress(parsing: peer) else { return .token(peer) }
            guard isTrusted(address) else { return .address(address) }
            leftmostTrusted = address
        }
        if let list = forwardedFor {
            var end = list.count
            while end > 0 {
                var start = end
                while start > 0 && list[start - 1] != UInt8(ascii: ",") { start -= 1 }
                var entryStart = start
                var entryEnd = end
                while entryStart < entryEnd && Self.isSpace(list[entryStart]) { entryStart += 1 }
                while entryEnd > entryStart && Self.isSpace(list[entryEnd - 1]) { entryEnd -= 1 }
                // Safe because entryStart ≤ entryEnd ≤ list.count.
                let entry = UnsafeRawBufferPointer(rebasing: list[entryStart..<entryEnd])
                end = start > 0 ? start - 1 : 0
                if entry.isEmpty || (entry.count == 1 && entry[0] == UInt8(ascii: "-") && list.count == 1) {
                    continue
                }
                guard let address = IPAddress(parsing: entry) else { return .token(entry) }
                guard isTrusted(address) else { return .address(address) }
                leftmostTrusted = address
            }
        }
        if let leftmostTrusted { return .address(leftmostTrusted) }
        return .token(peer ?? UnsafeRawBufferPointer(start: nil, count: 0))
    }

    /// The X-Forwarded-For list logged in place of the client (`10.0.0.2, 10.0.0.1, 127.0.0.1 - - [...`), as nginx
    /// logs do behind some proxies: from the client field to the last element of the list.
    ///
    /// This is the seam for logs without a separate X-Forwarded-For field; a format that logs the header
    /// (`$http_x_forwarded_for`, `%{X-Forwarded-For}i`) gives it directly instead.
    public static func clientList(of record: AccessRecord) -> UnsafeRawBufferPointer {
        let field = record.clientField
        guard !field.isAbsent, !field.inScratch, let base = record.line.baseAddress else { return record.client }
        let line = record.line
        let start = Int(field.start)
        var end = start + Int(field.count)
        // The parser cut the field at its first element when the token ended with a comma.
        while end < line.count && line[end] == UInt8(ascii: ",") {
            var next = end + 1
            while next < line.count && line[next] == UInt8(ascii: " ") { next += 1 }
            var tokenEnd = next
            while tokenEnd < line.count && line[tokenEnd] != UInt8(ascii: " ") { tokenEnd += 1 }
            guard tokenEnd > next else { break }
            end = tokenEnd
            if line[end - 1] == UInt8(ascii: ",") { end -= 1 } else { break }
        }
        // Safe because start ≤ end ≤ line.count.
        return UnsafeRawBufferPointer(start: base + start, count: end - start)
    }

    @inline(__always)
    static func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    @inline(__always)
    static func isEmptyEntry(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.isEmpty || (bytes.count == 1 && bytes[0] == UInt8(ascii: "-"))
    }
}
