/// Finds text that looks like an IP address inside other text (paths, query values, host names, messages), so
/// that no address reaches the output even where it is not a field of its own.
///
/// The rules, applied to maximal runs of the characters `0-9 a-f A-F . :`:
/// - a run holding two or more colons is treated as an IPv6 address, whatever else it holds (`2001:db8::1`,
///   `::ffff:1.2.3.4`, `fe80::1`, but also `a::b`);
/// - inside a run, a stretch of digits and dots with four consecutive dot-separated groups whose two middle groups
///   are 1–3 digit numbers up to 255 is treated as an IPv4 address (`203.0.113.7`, `x1203.0.113.77`, but also a
///   four-part version number such as `1.2.3.4`).
///
/// Over-masking a version number is the price of never storing an address.
public enum AddressMasking {
    /// The text that replaces an address in a stored path or query value.
    public static let pathMarker: [UInt8] = Array(":ip".utf8)
    /// The text that replaces an address in a message.
    public static let messageMarker: [UInt8] = Array("[ip]".utf8)

    /// Copies `input` into `output`, replacing every address-like stretch with `marker`.
    ///
    /// - Returns: how many stretches were replaced.
    /// - Complexity: O(n); no allocation once `output` has the capacity.
    @discardableResult
    public static func mask(
        _ input: UnsafeRawBufferPointer, marker: [UInt8], appendingTo output: inout [UInt8]
    ) -> Int {
        var replaced = 0
        var index = 0
        let count = input.count
        var copiedUpTo = 0
        while index < count {
            guard isRunCharacter(input[index]) else {
                index += 1
                continue
            }
            let runStart = index
            var colons = 0
            while index < count && isRunCharacter(input[index]) {
                if input[index] == UInt8(ascii: ":") { colons += 1 }
                index += 1
            }
            let runEnd = index
            if colons >= 2 {
                output.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[copiedUpTo..<runStart]))
                output.append(contentsOf: marker)
                copiedUpTo = runEnd
                replaced += 1
                continue
            }
            // IPv4 stretches: sub-runs of digits and dots.
            var position = runStart
            while position < runEnd {
                guard isDigitOrDot(input[position]) else {
                    position += 1
                    continue
                }
                let subStart = position
                while position < runEnd && isDigitOrDot(input[position]) { position += 1 }
                if looksLikeIPv4(input, subStart, position) {
                    // The dots around the address stay (`ip-1.2.3.4.html` → `ip-:ip.html`).
                    var maskStart = subStart
                    var maskEnd = position
                    while input[maskStart] == UInt8(ascii: ".") { maskStart += 1 }
                    while input[maskEnd - 1] == UInt8(ascii: ".") { maskEnd -= 1 }
                    output.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[copiedUpTo..<maskStart]))
                    output.append(contentsOf: marker)
                    copiedUpTo = maskEnd
                    replaced += 1
                }
            }
        }
        output.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[copiedUpTo..<count]))
        return replaced
    }

    /// Whether `input` holds anything `mask` would replace.
    /// - Complexity: O(n); no allocation.
    public static func containsAddress(_ input: UnsafeRawBufferPointer) -> Bool {
        // Most paths and hosts have fewer than three dots and two colons: one counting pass settles them.
        if !hasEnoughSeparators(input) { return false }
        var index = 0
        let count = input.count
        while index < count {
            guard isRunCharacter(input[index]) else {
                index += 1
                continue
            }
            let runStart = index
            var colons = 0
            var dots = 0
            while index < count && isRunCharacter(input[index]) {
                if input[index] == UInt8(ascii: ":") { colons += 1 }
                if input[index] == UInt8(ascii: ".") { dots += 1 }
                index += 1
            }
            if colons >= 2 { return true }
            if dots < 3 { continue }
            var position = runStart
            while position < index {
                guard isDigitOrDot(input[position]) else {
                    position += 1
                    continue
                }
                let subStart = position
                while position < index && isDigitOrDot(input[position]) { position += 1 }
                if looksLikeIPv4(input, subStart, position) { return true }
            }
        }
        return false
    }

    /// Whether `input` holds three or more dots or two or more colons, which every address `mask` replaces has;
    /// counted eight bytes at a time.
    @inline(__always)
    static func hasEnoughSeparators(_ input: UnsafeRawBufferPointer) -> Bool {
        let count = input.count
        guard count >= 8 else {
            var dots = 0
            var colons = 0
            for byte in input {
                dots &+= byte == UInt8(ascii: ".") ? 1 : 0
                colons &+= byte == UInt8(ascii: ":") ? 1 : 0
            }
            return dots >= 3 || colons >= 2
        }
        var dots = 0
        var colons = 0
        var offset = 0
        while offset + 8 <= count {
            // Safe because offset + 8 <= count.
            let word = input.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            dots &+= matchingBytes(word, 0x2E2E_2E2E_2E2E_2E2E).nonzeroBitCount
            colons &+= matchingBytes(word, 0x3A3A_3A3A_3A3A_3A3A).nonzeroBitCount
            offset += 8
        }
        if offset < count {
            // The last eight bytes, without the ones counted already (the low bytes of a little-endian load).
            let word = input.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
            let fresh: UInt64 = ~0 << UInt64(8 * (offset + 8 - count))
            dots &+= (matchingBytes(word, 0x2E2E_2E2E_2E2E_2E2E) & fresh).nonzeroBitCount
            colons &+= (matchingBytes(word, 0x3A3A_3A3A_3A3A_3A3A) & fresh).nonzeroBitCount
        }
        return dots >= 3 || colons >= 2
    }

    /// The high bit of every byte of `word` equal to the byte repeated in `pattern` (exact: no false positives).
    @inline(__always)
    static func matchingBytes(_ word: UInt64, _ pattern: UInt64) -> UInt64 {
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        let difference = word ^ pattern
        return ~(((difference & low7) &+ low7) | difference | low7)
    }

    /// Masks addresses and query strings in a message meant for a person (errors, warnings, reject reports):
    /// address-like text becomes `[ip]`, and whatever follows a `?` up to the next space becomes `?…`.
    public static func maskMessage(_ message: String) -> String {
        var text = message
        return text.withUTF8 { bytes in
            var masked: [UInt8] = []
            masked.reserveCapacity(bytes.count)
            mask(UnsafeRawBufferPointer(bytes), marker: messageMarker, appendingTo: &masked)
            var output: [UInt8] = []
            output.reserveCapacity(masked.count)
            var index = 0
            while index < masked.count {
                let byte = masked[index]
                output.append(byte)
                index += 1
                // A query string: `?` directly followed by a name and `=`.
                if byte == UInt8(ascii: "?") {
                    var end = index
                    while end < masked.count && masked[end] != UInt8(ascii: " ") && masked[end] != UInt8(ascii: "\"")
                        && masked[end] != UInt8(ascii: "'")
                    {
                        end += 1
                    }
                    if masked[index..<end].contains(UInt8(ascii: "=")) {
                        output.append(contentsOf: "…".utf8)
                        index = end
                    }
                }
            }
            return String(decoding: output, as: UTF8.self)
        }
    }

    @inline(__always)
    static func isRunCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
            UInt8(ascii: "A")...UInt8(ascii: "F"), UInt8(ascii: "."), UInt8(ascii: ":"):
            return true
        default:
            return false
        }
    }

    @inline(__always)
    static func isDigitOrDot(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: ".")
    }

    /// Whether `bytes[start..<end]` (digits and dots) has four consecutive non-empty dot-separated groups whose
    /// middle two are numbers of 1 to 3 digits up to 255.
    static func looksLikeIPv4(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Bool {
        // The last three groups seen: (length, value) of each; a group of length 0 breaks the sequence.
        var lengths = (0, 0, 0)
        var values = (0, 0, 0)
        var groups = 0
        var length = 0
        var value = 0
        var index = start
        while index <= end {
            if index == end || bytes[index] == UInt8(ascii: ".") {
                if length == 0 {
                    groups = 0
                } else {
                    groups += 1
                    if groups >= 4 {
                        // Groups: lengths.0 (first), lengths.1, lengths.2 (middle two), this one (last).
                        if lengths.1 <= 3 && values.1 <= 255 && lengths.2 <= 3 && values.2 <= 255 { return true }
                    }
                }
                lengths = (lengths.1, lengths.2, length)
                values = (values.1, values.2, min(value, 1000))
                length = 0
                value = 0
            } else {
                length += 1
                value = min(value * 10 + Int(bytes[index] &- UInt8(ascii: "0")), 1000)
            }
            index += 1
        }
        return false
    }
}
