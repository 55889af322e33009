/// Makes byte strings valid UTF-8 for Parquet STRING columns, without losing what the log held.
///
/// Logs carry bytes, not text: Apache and nginx decode nothing, and `\xHH` escapes (as in a cp1251 referrer) turn
/// back into raw bytes that may not be UTF-8. A Parquet STRING must be UTF-8, or pyarrow refuses the column. Each
/// byte that is not part of a well-formed UTF-8 sequence is written as `%HH` (upper-case hex), the URL notation
/// that paths and hosts already use, so the value stays readable, lossless and unambiguous enough to search.
/// Valid UTF-8 (ASCII included) passes through unchanged.
public enum UTF8Repair {
    /// Whether `bytes` are well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF).
    ///
    /// - Complexity: O(n), eight ASCII bytes per step.
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        while index < bytes.count {
            let length = sequenceLength(bytes, at: index)
            if length == 0 { return false }
            index += length
        }
        return true
    }

    /// Appends `bytes` to `output`, percent-encoding every byte that is not part of a valid UTF-8 sequence.
    public static func appendRepaired(_ bytes: UnsafeRawBufferPointer, to output: inout [UInt8]) {
        var index = 0
        while index < bytes.count {
            let length = sequenceLength(bytes, at: index)
            if length == 0 {
                let byte = bytes[index]
                output.append(UInt8(ascii: "%"))
                output.append(hexDigit(byte >> 4))
                output.append(hexDigit(byte & 0x0F))
                index += 1
            } else {
                output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<(index + length)]))
                index += length
            }
        }
    }

    /// The length of the valid UTF-8 sequence starting at `index`, or 0 when the byte there does not start one.
    @inline(__always)
    static func sequenceLength(_ bytes: UnsafeRawBufferPointer, at index: Int) -> Int {
        let first = bytes[index]
        if first < 0x80 { return 1 }
        let remaining = bytes.count - index
        func continuation(_ offset: Int) -> Bool { bytes[index + offset] & 0xC0 == 0x80 }
        switch first {
        case 0xC2...0xDF:
            return remaining >= 2 && continuation(1) ? 2 : 0
        case 0xE0...0xEF:
            guard remaining >= 3, continuation(1), continuation(2) else { return 0 }
            let second = bytes[index + 1]
            if first == 0xE0 && second < 0xA0 { return 0 }  // overlong
            if first == 0xED && second >= 0xA0 { return 0 }  // surrogate
            return 3
        case 0xF0...0xF4:
            guard remaining >= 4, continuation(1), continuation(2), continuation(3) else { return 0 }
            let second = bytes[index + 1]
            if first == 0xF0 && second < 0x90 { return 0 }  // overlong
            if first == 0xF4 && second >= 0x90 { return 0 }  // above U+10FFFF
            return 4
        default:
            return 0
        }
    }

    @inline(__always)
    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
    }
}
