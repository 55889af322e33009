/// The host of a referrer URL, the only part of a referrer klogs keeps.
///
/// Decisions:
/// - The host is lower-cased, without user info, port and a trailing dot: `https://User@Example.COM:8080/x?q` →
///   `example.com`. `android-app://com.google.android.gm` → `com.google.android.gm`. A referrer without a scheme
///   (`www.example.com/page`) or protocol-relative (`//cdn.example/x`) still has a host.
/// - No host: `-`, empty, a relative path (`/page`), an opaque URI (`about:blank`, `data:…`, `javascript:…`), or a
///   host with characters a host name cannot hold (spaces, quotes, `<`, `\`…).
/// - **IP-literal hosts are never stored** (`http://192.168.1.20/`, `http://[2001:db8::1]:8080/`): a referrer's IP
///   address can be a visitor's own intranet machine, and klogs keeps no IP addresses. They are reported as
///   ``Kind/ipAddress`` so the ingest stores the fixed marker ``ipAddressMarker`` instead, which tells an analyst
///   "a page addressed by IP" without saying which.
public enum ReferrerHost {
    /// What a referrer held.
    public enum Kind: Sendable, Equatable {
        /// No referrer, or no host in it.
        case none
        /// A host name, written to the output buffer.
        case host
        /// An IP-address literal, deliberately not written out.
        case ipAddress
    }

    /// The value to store for an IP-literal referrer host: brackets never occur in a host name.
    public static let ipAddressMarker = "[ip]"

    /// Extracts the lower-cased host of `referrer` into `output` (replacing its contents).
    ///
    /// - Parameters:
    ///   - referrer: the referrer's bytes as logged (unescaped).
    ///   - output: receives the host for ``Kind/host``; emptied otherwise. Reuse it across lines: no allocation
    ///     once its capacity suffices.
    /// - Returns: what the referrer held.
    public static func extract(_ referrer: UnsafeRawBufferPointer, into output: inout [UInt8]) -> Kind {
        output.removeAll(keepingCapacity: true)
        let count = referrer.count
        guard count > 0, !(count == 1 && referrer[0] == UInt8(ascii: "-")) else { return .none }
        // Scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":".
        var index = 0
        var authorityStart = 0
        while index < count && isSchemeCharacter(referrer[index], first: index == 0) { index += 1 }
        if index > 0 && index < count && referrer[index] == UInt8(ascii: ":") {
            if index + 2 < count && referrer[index + 1] == UInt8(ascii: "/") && referrer[index + 2] == UInt8(ascii: "/") {
                authorityStart = index + 3
            } else if index + 1 < count, Timestamp.digit(referrer[index + 1]) != nil {
                authorityStart = 0  // `host:port/…` without a scheme
            } else {
                return .none  // an opaque URI such as about:blank or mailto:
            }
        } else if count >= 2 && referrer[0] == UInt8(ascii: "/") && referrer[1] == UInt8(ascii: "/") {
            authorityStart = 2
        } else if referrer[0] == UInt8(ascii: "/") || referrer[0] == UInt8(ascii: "?") || referrer[0] == UInt8(ascii: "#") {
            return .none
        }
        // The authority ends at the first '/', '?' or '#'; user info in it ends at the last '@'.
        var authorityEnd = authorityStart
        var hostStart = authorityStart
        while authorityEnd < count {
            let byte = referrer[authorityEnd]
            if byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#") { break }
            if byte == UInt8(ascii: "@") { hostStart = authorityEnd + 1 }
            authorityEnd += 1
        }
        guard hostStart < authorityEnd else { return .none }
        if referrer[hostStart] == UInt8(ascii: "[") {
            // An IPv6 (or IPvFuture) literal; whatever it holds, it is an address.
            return IPAddress.indexOf(UInt8(ascii: "]"), referrer, hostStart, authorityEnd) != nil ? .ipAddress : .none
        }
        var hostEnd = hostStart
        while hostEnd < authorityEnd && referrer[hostEnd] != UInt8(ascii: ":") { hostEnd += 1 }
        if hostEnd > hostStart && referrer[hostEnd - 1] == UInt8(ascii: ".") { hostEnd -= 1 }
        guard hostEnd > hostStart else { return .none }
        if IPAddress.parseIPv4(referrer, hostStart, hostEnd) != nil { return .ipAddress }
        // An unbracketed IPv6 address (invalid in a URL, but logged by some clients).
        if hostEnd < authorityEnd,
            IPAddress(parsing: UnsafeRawBufferPointer(rebasing: referrer[hostStart..<authorityEnd])) != nil
        {
            return .ipAddress
        }
        // One copy, then validation and lower-casing in place (not an append per byte).
        output.append(contentsOf: UnsafeRawBufferPointer(rebasing: referrer[hostStart..<hostEnd]))
        let lowered = hostBytes.withUnsafeBufferPointer { table in
            output.withUnsafeMutableBufferPointer { lowerCaseHost(&$0, table: table) }
        }
        guard lowered else {
            output.removeAll(keepingCapacity: true)
            return .none
        }
        return .host
    }

    /// Lower-cases `host` in place through `table` (``hostBytes``); false (leaving it partly lowered) when a byte
    /// is not a host character.
    private static func lowerCaseHost(
        _ host: inout UnsafeMutableBufferPointer<UInt8>, table: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        for index in host.indices {
            let lowered = table[Int(host[index])]
            guard lowered != 0 else { return false }
            host[index] = lowered
        }
        return true
    }

    /// Every byte's lower-case form when it is a host character (``isHostCharacter(_:)``), or 0 when it is not:
    /// one load a byte instead of a dozen comparisons.
    private static let hostBytes: [UInt8] = (0...255).map { (value: Int) -> UInt8 in
        let byte = UInt8(value)
        guard isHostCharacter(byte) else { return 0 }
        return byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
    }

    /// The host of a referrer given as text (tests, tools): the host, ``ipAddressMarker``, or `nil`.
    public static func host(of referrer: String) -> String? {
        var output: [UInt8] = []
        var text = referrer
        let kind = text.withUTF8 { extract(UnsafeRawBufferPointer($0), into: &output) }
        switch kind {
        case .none: return nil
        case .host: return String(decoding: output, as: UTF8.self)
        case .ipAddress: return ipAddressMarker
        }
    }

    @inline(__always)
    static func isSchemeCharacter(_ byte: UInt8, first: Bool) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): return true
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."): return !first
        default: return false
        }
    }

    /// RFC 3986 reg-name characters (unreserved, sub-delims, `%`), plus bytes of 0x80 and above (raw IDN UTF-8).
    @inline(__always)
    static func isHostCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"), UInt8(ascii: "%"), UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"),
            UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="), 0x80...0xFF:
            return true
        default:
            return false
        }
    }
}
