/// An IPv4 or IPv6 address held as 16 bytes, parsed from log bytes without allocating.
///
/// IPv4 addresses are stored in their IPv4-mapped IPv6 form (`::ffff:a.b.c.d`), and an IPv4-mapped IPv6 address
/// parses as IPv4, so both spellings of one client have the same ``canonicalBytes`` and the same pseudonym.
///
/// ```swift
/// let address = IPAddress(parsing: bytes)            // "[2001:db8::1]:443", "1.2.3.4:80", "fe80::1%eth0"
/// address?.truncated(toPrefixLength: 48).appendNetwork(prefixLength: 48, to: &text)   // "2001:db8::/48"
/// ```
public struct IPAddress: Hashable, Sendable {
    /// The address family.
    public enum Family: Sendable { case ipv4, ipv6 }

    /// The first 8 bytes of the 16-byte form, big-endian (network order as a number).
    public var high: UInt64
    /// The last 8 bytes of the 16-byte form, big-endian.
    public var low: UInt64

    /// The family: IPv4 for dotted quads and IPv4-mapped IPv6 addresses.
    public var family: Family {
        high == 0 && low >> 32 == 0xFFFF ? .ipv4 : .ipv6
    }

    /// The IPv4 address as a 32-bit number, when ``family`` is IPv4.
    public var ipv4: UInt32? {
        family == .ipv4 ? UInt32(truncatingIfNeeded: low) : nil
    }

    /// The largest prefix length of the family: 32 or 128.
    public var maximumPrefixLength: Int { family == .ipv4 ? 32 : 128 }

    /// Creates an IPv4 address from its 32-bit number.
    public init(ipv4 value: UInt32) {
        high = 0
        low = 0xFFFF_0000_0000 | UInt64(value)
    }

    /// Creates an address from its 16-byte form as two big-endian halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The 16 canonical bytes in network order, the form hashed for pseudonyms.
    public var canonicalBytes: (UInt64, UInt64) {
        (high.bigEndian, low.bigEndian)
    }

    /// Calls `body` with the 16 canonical bytes in network order.
    public func withCanonicalBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var words = canonicalBytes
        return try withUnsafeBytes(of: &words) { try body($0) }
    }

    // MARK: Truncation

    /// The network of the given prefix length: the address with all bits after the prefix cleared.
    ///
    /// - Parameter prefixLength: 0...32 for IPv4, 0...128 for IPv6 (precondition).
    public func truncated(toPrefixLength prefixLength: Int) -> IPAddress {
        precondition(prefixLength >= 0 && prefixLength <= maximumPrefixLength, "prefix length out of range")
        // IPv4 bits are the last 32 of the 128; the mapped prefix (96 bits) is always kept.
        let bits = family == .ipv4 ? prefixLength + 96 : prefixLength
        if bits >= 128 { return self }
        if bits >= 64 {
            let keep = bits - 64
            let mask: UInt64 = keep == 0 ? 0 : ~UInt64(0) << (64 - keep)
            return IPAddress(high: high, low: low & mask)
        }
        let mask: UInt64 = bits == 0 ? 0 : ~UInt64(0) << (64 - bits)
        return IPAddress(high: high & mask, low: 0)
    }

    // MARK: Formatting

    /// Appends the address as text: dotted quad for IPv4, RFC 5952 canonical form for IPv6.
    public func appendText(to output: inout [UInt8]) {
        if family == .ipv4 {
            let value = UInt32(truncatingIfNeeded: low)
            for index in 0..<4 {
                if index > 0 { output.append(UInt8(ascii: ".")) }
                Self.appendDecimal(UInt8(truncatingIfNeeded: value >> (24 - 8 * index)), to: &output)
            }
            return
        }
        var groups: (UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16) = (0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &groups) { raw in
            let g = raw.bindMemory(to: UInt16.self)
            for index in 0..<4 {
                g[index] = UInt16(truncatingIfNeeded: high >> (48 - 16 * index))
                g[index + 4] = UInt16(truncatingIfNeeded: low >> (48 - 16 * index))
            }
            // RFC 5952: compress the longest run of two or more zero groups, the first one on a tie.
            var bestStart = -1
            var bestLength = 1
            var index = 0
            while index < 8 {
                if g[index] == 0 {
                    var end = index
                    while end < 8 && g[end] == 0 { end += 1 }
                    if end - index > bestLength {
                        bestStart = index
                        bestLength = end - index
                    }
                    index = end
                } else {
                    index += 1
                }
            }
            index = 0
            var needsColon = false
            while index < 8 {
                if index == bestStart {
                    output.append(UInt8(ascii: ":"))
                    output.append(UInt8(ascii: ":"))
                    index += bestLength
                    needsColon = false
                    continue
                }
                if needsColon { output.append(UInt8(ascii: ":")) }
                Self.appendHex(g[index], to: &output)
                needsColon = true
                index += 1
            }
        }
    }

    /// Appends the network `address/prefixLength` in CIDR text, the address first truncated to the prefix:
    /// `203.0.113.0/24`, `2001:db8:1::/48`.
    public func appendNetwork(prefixLength: Int, to output: inout [UInt8]) {
        truncated(toPrefixLength: prefixLength).appendText(to: &output)
        output.append(UInt8(ascii: "/"))
        Self.appendDecimal(UInt8(prefixLength), to: &output)
    }

    /// The address as text (dotted quad or RFC 5952).
    public var text: String {
        var bytes: [UInt8] = []
        appendText(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The network of `prefixLength` as CIDR text.
    public func networkText(prefixLength: Int) -> String {
        var bytes: [UInt8] = []
        appendNetwork(prefixLength: prefixLength, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func appendDecimal(_ value: UInt8, to output: inout [UInt8]) {
        if value >= 100 { output.append(UInt8(ascii: "0") + value / 100) }
        if value >= 10 { output.append(UInt8(ascii: "0") + (value / 10) % 10) }
        output.append(UInt8(ascii: "0") + value % 10)
    }

    private static func appendHex(_ value: UInt16, to output: inout [UInt8]) {
        var started = false
        for shift in stride(from: 12, through: 0, by: -4) {
            let nibble = UInt8((value >> UInt16(shift)) & 0xF)
            if nibble == 0 && !started && shift != 0 { continue }
            started = true
            output.append(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10)
        }
    }
}

// MARK: Parsing

extension IPAddress {
    /// Parses an address as servers log it, or returns `nil`.
    ///
    /// Accepts IPv4 dotted quads (no leading zeros, which some parsers read as octal), IPv6 in all RFC 4291
    /// forms (`::` compression, embedded IPv4 such as `::ffff:1.2.3.4`), a zone id (`fe80::1%eth0`, dropped),
    /// brackets (`[::1]`, `[::1]:443`) and an IPv4 port (`1.2.3.4:5678`). Rejects everything else: host names
    /// (`unicomp6.unicomp.net`, `localhost`), `-`, `unix:`, empty input.
    /// - Complexity: O(n), no allocation.
    public init?(parsing bytes: UnsafeRawBufferPointer) {
        if let value = Self.parsePlainIPv4(bytes) {
            // The common case of a log's client field, in one pass; anything else takes the general path.
            self.init(ipv4: value)
            return
        }
        let count = bytes.count
        guard count >= 2 else { return nil }
        if bytes[0] == UInt8(ascii: "[") {
            guard let close = Self.indexOf(UInt8(ascii: "]"), bytes, 1, count) else { return nil }
            if close + 1 < count {
                guard bytes[close + 1] == UInt8(ascii: ":"), Self.isPort(bytes, close + 2, count) else { return nil }
            }
            guard let value = Self.parseIPv6(bytes, 1, close) else { return nil }
            self = value
            return
        }
        // IPv4 (optionally with a port) when the first separator is a dot; IPv6 otherwise.
        var index = 0
        while index < count && Self.hexValue(bytes[index]) != nil { index += 1 }
        if index < count && bytes[index] == UInt8(ascii: ".") {
            var end = count
            if let colon = Self.indexOf(UInt8(ascii: ":"), bytes, 0, count) {
                guard Self.isPort(bytes, colon + 1, count) else { return nil }
                end = colon
            }
            guard let value = Self.parseIPv4(bytes, 0, end) else { return nil }
            self.init(ipv4: value)
            return
        }
        guard let value = Self.parseIPv6(bytes, 0, count) else { return nil }
        self = value
    }

    /// Parses an address from a `String` (tests, configuration).
    public init?(_ text: String) {
        var text = text
        guard let value = text.withUTF8({ IPAddress(parsing: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = value
    }

    @inline(__always)
    static func indexOf(_ byte: UInt8, _ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int? {
        var index = start
        while index < end {
            if bytes[index] == byte { return index }
            index += 1
        }
        return nil
    }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt16? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt16(byte &- UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt16(byte &- UInt8(ascii: "a") &+ 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt16(byte &- UInt8(ascii: "A") &+ 10)
        default: return nil
        }
    }

    /// Whether `bytes[start..<end]` is a decimal port 0...65535 (1 to 5 digits).
    static func isPort(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Bool {
        guard end > start && end - start <= 5 else { return false }
        var value = 0
        for index in start..<end {
            guard let digit = Timestamp.digit(bytes[index]) else { return false }
            value = value * 10 + digit
        }
        return value <= 65535
    }

    /// Parses a dotted quad filling exactly `bytes[start..<end]`.
    static func parseIPv4(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> UInt32? {
        var value: UInt32 = 0
        var index = start
        for part in 0..<4 {
            if part > 0 {
                guard index < end, bytes[index] == UInt8(ascii: ".") else { return nil }
                index += 1
            }
            let partStart = index
            var octet: UInt32 = 0
            while index < end, index - partStart < 3, let digit = Timestamp.digit(bytes[index]) {
                octet = octet * 10 + UInt32(digit)
                index += 1
            }
            let length = index - partStart
            guard length > 0, octet <= 255, length == 1 || bytes[partStart] != UInt8(ascii: "0") else { return nil }
            value = value << 8 | octet
        }
        return index == end ? value : nil
    }

    /// Parses a dotted quad without a port, accepting exactly what `parseIPv4(bytes, 0, bytes.count)` accepts (four
    /// parts of 1 to 3 digits, each at most 255, no leading zero); nil for anything else.
    ///
    /// No branch per byte or per part, only two checks that an address passes: the 7 to 15 bytes are read as two
    /// words, whose digits and dots are found eight at a time (SWAR); the dots' positions give the parts' ends and
    /// lengths, and each part's value is its last three digits weighted by its length. The byte loop before this
    /// mispredicted at the end of every part, whose length varies from one client to the next: three or four
    /// mispredictions a line. Measured (perf, 10 kHz, one thread, 1M generated lines, three runs each): 25 ms of
    /// samples in the client's parsing before, 19.5 ms after, though the instructions went from about 170 a line
    /// to about 240.
    @inline(__always)
    static func parsePlainIPv4(_ bytes: UnsafeRawBufferPointer) -> UInt32? {
        let count = bytes.count
        guard count >= 7 && count <= 15, let base = bytes.baseAddress else { return nil }
        // Byte k of the address at bits 8k of `low` (k < 8) or 8(k - 8) of `high`, zero past the end; overlapping
        // loads, so nothing outside the buffer is read.
        let low: UInt64
        let high: UInt64
        if count >= 8 {
            low = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
            high = UInt64(littleEndian: (base + (count - 8)).loadUnaligned(as: UInt64.self)) >> (8 * (16 - count))
        } else {
            let first = UInt64(UInt32(littleEndian: base.loadUnaligned(as: UInt32.self)))
            low = first | UInt64(UInt32(littleEndian: (base + 3).loadUnaligned(as: UInt32.self))) << 24
            high = 0
        }
        let dots =
            Self.byteMask(Self.zeroBytes(low ^ Self.repeated(".")))
            | Self.byteMask(Self.zeroBytes(high ^ Self.repeated("."))) << 8
        let digits = Self.byteMask(Self.digitBytes(low)) | Self.byteMask(Self.digitBytes(high)) << 8
        // Exactly three dots: two cleared leave one (no population count: this build targets baseline x86-64).
        let afterFirst = dots & (dots &- 1)
        let afterSecond = afterFirst & (afterFirst &- 1)
        guard dots | digits == (1 << count) - 1, afterSecond != 0, afterSecond & (afterSecond &- 1) == 0 else {
            return nil
        }
        let ends = (
            dots.trailingZeroBitCount, afterFirst.trailingZeroBitCount, afterSecond.trailingZeroBitCount, count
        )
        let lengths = (ends.0, ends.1 - ends.0 - 1, ends.2 - ends.1 - 1, ends.3 - ends.2 - 1)
        // Every part has 1 to 3 digits (unsigned: a length of 0 wraps around).
        guard
            UInt(bitPattern: lengths.0 &- 1) < 3 && UInt(bitPattern: lengths.1 &- 1) < 3
                && UInt(bitPattern: lengths.2 &- 1) < 3 && UInt(bitPattern: lengths.3 &- 1) < 3
        else { return nil }
        // The digits' values, behind a zero word: a part's three last bytes are then readable even at the start.
        var words = (UInt64(0), low ^ Self.repeated("0"), high ^ Self.repeated("0"))
        return withUnsafeBytes(of: &words) { values -> UInt32? in
            let (a, aValid) = Self.part(values, end: ends.0, length: lengths.0)
            let (b, bValid) = Self.part(values, end: ends.1, length: lengths.1)
            let (c, cValid) = Self.part(values, end: ends.2, length: lengths.2)
            let (d, dValid) = Self.part(values, end: ends.3, length: lengths.3)
            guard aValid && bValid && cValid && dValid else { return nil }
            return a << 24 | b << 16 | c << 8 | d
        }
    }

    /// The value of the part of `length` (1 to 3) digits ending before position `end`, from the digit values behind
    /// a word of zeros, and whether it is at most 255 without a leading zero. No branch: a length picks the weights
    /// of the part's last three bytes (1, 10, 100; 0 for bytes before the part) and the least value without a
    /// leading zero (0, 10, 100), as bytes of a constant.
    @inline(__always)
    private static func part(_ values: UnsafeRawBufferPointer, end: Int, length: Int) -> (UInt32, Bool) {
        let shift = UInt32(8 * length)
        let tens = UInt32(0x0A0A_0000) >> shift & 0xFF
        let hundreds = UInt32(0x6400_0000) >> shift & 0xFF
        let least = UInt32(0x640A_0000) >> shift & 0xFF
        let ones = UInt32(values.load(fromByteOffset: 7 + end, as: UInt8.self))
        let value =
            ones &+ tens &* UInt32(values.load(fromByteOffset: 6 + end, as: UInt8.self))
            &+ hundreds &* UInt32(values.load(fromByteOffset: 5 + end, as: UInt8.self))
        return (value, (value >= least) && (value <= 255))
    }

    /// A word of eight copies of `character`.
    @inline(__always)
    private static func repeated(_ character: Unicode.Scalar) -> UInt64 {
        0x0101_0101_0101_0101 &* UInt64(character.value)
    }

    /// 0x80 in each byte of `word` that is zero, else 0 (exact: no carry between bytes).
    @inline(__always)
    private static func zeroBytes(_ word: UInt64) -> UInt64 {
        let sevenBits: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        return ~(((word & sevenBits) &+ sevenBits) | word | sevenBits)
    }

    /// 0x80 in each byte of `word` that is an ASCII digit, else 0.
    @inline(__always)
    private static func digitBytes(_ word: UInt64) -> UInt64 {
        let offset = word ^ repeated("0")  // a digit's value, 0 to 9; anything else is 10 or more
        let sevenBits: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        // Bit 7 of each byte: set when the low seven bits are 10 or more (0x76 + 10 = 0x80), or when bit 7 itself
        // is set; then inverted.
        return ~(((offset & sevenBits) &+ 0x7676_7676_7676_7676) | offset) & ~sevenBits
    }

    /// The top bits of the eight bytes of `flags` (each byte 0x80 or 0) as an 8-bit mask, bit k for byte k: one
    /// multiplication moves byte k's bit to bit 56 + k, and no two partial products overlap.
    @inline(__always)
    private static func byteMask(_ flags: UInt64) -> Int {
        Int(truncatingIfNeeded: (flags &* 0x0002_0408_1020_4081) >> 56)
    }

    /// Parses an IPv6 address in `bytes[start..<end]`, with an optional `%zone` suffix (dropped).
    static func parseIPv6(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> IPAddress? {
        var end = end
        if let percent = indexOf(UInt8(ascii: "%"), bytes, start, end) {
            guard percent + 1 < end else { return nil }  // an empty zone id
            end = percent
        }
        guard end - start >= 2 else { return nil }
        var groups: (UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16) = (0, 0, 0, 0, 0, 0, 0, 0)
        let parsed: Bool = withUnsafeMutableBytes(of: &groups) { raw in
            let g = raw.bindMemory(to: UInt16.self)
            var count = 0
            var compressAt = -1
            var index = start
            if bytes[index] == UInt8(ascii: ":") {
                guard bytes[index + 1] == UInt8(ascii: ":") else { return false }
                compressAt = 0
                index += 2
                if index == end { return true }
            }
            while index < end {
                guard count < 8 else { return false }
                let groupStart = index
                var value: UInt16 = 0
                while index < end, index - groupStart < 4, let digit = hexValue(bytes[index]) {
                    value = value << 4 | digit
                    index += 1
                }
                if index < end && bytes[index] == UInt8(ascii: ".") {
                    // Embedded IPv4 in the last 32 bits.
                    guard count <= 6, let v4 = parseIPv4(bytes, groupStart, end) else { return false }
                    g[count] = UInt16(truncatingIfNeeded: v4 >> 16)
                    g[count + 1] = UInt16(truncatingIfNeeded: v4)
                    count += 2
                    index = end
                    break
                }
                guard index > groupStart else { return false }
                g[count] = value
                count += 1
                if index == end { break }
                guard bytes[index] == UInt8(ascii: ":") else { return false }
                index += 1
                if index < end && bytes[index] == UInt8(ascii: ":") {
                    guard compressAt < 0 else { return false }
                    compressAt = count
                    index += 1
                    if index == end { break }
                } else if index == end {
                    return false  // a trailing single colon
                }
            }
            if compressAt >= 0 {
                guard count < 8 else { return false }
                // Move the groups after the `::` to the end.
                let tail = count - compressAt
                var moved = 0
                while moved < tail {
                    g[7 - moved] = g[count - 1 - moved]
                    g[count - 1 - moved] = 0
                    moved += 1
                }
                return true
            }
            return count == 8
        }
        guard parsed else { return nil }
        let high = UInt64(groups.0) << 48 | UInt64(groups.1) << 32 | UInt64(groups.2) << 16 | UInt64(groups.3)
        let low = UInt64(groups.4) << 48 | UInt64(groups.5) << 32 | UInt64(groups.6) << 16 | UInt64(groups.7)
        return IPAddress(high: high, low: low)
    }
}
