/// Calendar arithmetic and timestamp parsing on bytes, all in UTC milliseconds since the Unix epoch.
///
/// Dates use the proleptic Gregorian calendar (Howard Hinnant's days-from-civil algorithms), valid for years
/// 0 through 9999 as logged.
public enum Timestamp {
    static let millisecondsPerDay: Int64 = 86_400_000
    static let millisecondsPerHour: Int64 = 3_600_000

    /// The instants klogs stores: from 1970-01-01T00:00:00Z up to, not including, 10000-01-01T00:00:00Z.
    ///
    /// A parsed time outside is rejected as `bad_timestamp`: before 1970 no web server logged (such a time is a
    /// clock or logging fault), and from year 10000 on a date no longer has four digits, so partition names and
    /// readers' date parsing would break. Years 1970 and 9999 themselves are accepted, offsets included.
    public static let supportedRange: Range<Int64> = 0..<253_402_300_800_000

    /// Days since 1970-01-01 for a proleptic Gregorian date (no validation).
    @inline(__always)
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date of a day number (days since 1970-01-01).
    @inline(__always)
    public static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Whether `year` is a Gregorian leap year.
    @inline(__always)
    public static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// The number of days in `month` (1...12) of `year`.
    @inline(__always)
    public static func daysInMonth(_ month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Epoch milliseconds of a validated civil date and time in UTC, or `nil` when a field is out of range.
    ///
    /// Seconds may be 60 (a leap second as logged), which counts as the first second of the next minute.
    public static func epochMilliseconds(
        year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int = 0
    ) -> Int64? {
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(month, year: year),
            (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second),
            (0...999).contains(millisecond)
        else { return nil }
        let days = Int64(daysFromCivil(year: year, month: month, day: day))
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        return seconds * 1000 + Int64(millisecond)
    }

    /// The start (00:00 UTC) of the day holding `epochMilliseconds`, in epoch milliseconds.
    @inline(__always)
    public static func dayStart(_ epochMilliseconds: Int64) -> Int64 {
        floorDivide(epochMilliseconds, millisecondsPerDay) * millisecondsPerDay
    }

    /// The start of the UTC hour holding `epochMilliseconds`, in epoch milliseconds.
    @inline(__always)
    public static func hourStart(_ epochMilliseconds: Int64) -> Int64 {
        floorDivide(epochMilliseconds, millisecondsPerHour) * millisecondsPerHour
    }

    /// The UTC day number (days since 1970-01-01) holding `epochMilliseconds`; negative before 1970.
    @inline(__always)
    public static func dayNumber(_ epochMilliseconds: Int64) -> Int {
        Int(floorDivide(epochMilliseconds, millisecondsPerDay))
    }

    /// The UTC calendar date holding `epochMilliseconds`.
    public static func utcDate(_ epochMilliseconds: Int64) -> (year: Int, month: Int, day: Int) {
        civilFromDays(dayNumber(epochMilliseconds))
    }

    /// Appends the UTC date of `epochMilliseconds` as `YYYY-MM-DD` (10 bytes for years 0...9999) to `output`.
    public static func appendDate(_ epochMilliseconds: Int64, to output: inout [UInt8]) {
        let (year, month, day) = utcDate(epochMilliseconds)
        appendDigits(year, width: 4, to: &output)
        output.append(UInt8(ascii: "-"))
        appendDigits(month, width: 2, to: &output)
        output.append(UInt8(ascii: "-"))
        appendDigits(day, width: 2, to: &output)
    }

    /// The UTC date of `epochMilliseconds` as text, `YYYY-MM-DD` (for partition names and key files).
    public static func dateText(_ epochMilliseconds: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(10)
        appendDate(epochMilliseconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The UTC time of `epochMilliseconds` to the second as ISO 8601 text, `YYYY-MM-DDTHH:MM:SSZ` (what
    /// Foundation's `ISO8601DateFormatter` writes, without its time-zone database: loading that took 5 ms at the
    /// end of every ingest).
    public static func dateTimeText(_ epochMilliseconds: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(20)
        appendDate(epochMilliseconds, to: &bytes)
        let second = Int((epochMilliseconds - dayStart(epochMilliseconds)) / 1000)
        let fields: [(Unicode.Scalar, Int)] = [("T", second / 3600), (":", second / 60 % 60), (":", second % 60)]
        for (separator, value) in fields {
            bytes.append(UInt8(ascii: separator))
            appendDigits(value, width: 2, to: &bytes)
        }
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The UTC date of a day number as text, `YYYY-MM-DD`.
    public static func dateText(dayNumber: Int) -> String {
        dateText(Int64(dayNumber) * millisecondsPerDay)
    }

    static func appendDigits(_ value: Int, width: Int, to output: inout [UInt8]) {
        var value = value
        if value < 0 {
            output.append(UInt8(ascii: "-"))
            value = -value
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
                count += 1
            } while value > 0 && count < 8
            while count < width {
                buffer[count] = UInt8(ascii: "0")
                count += 1
            }
            while count > 0 {
                count -= 1
                output.append(buffer[count])
            }
        }
    }

    @inline(__always)
    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    // MARK: Parsing

    @inline(__always)
    static func digit(_ byte: UInt8) -> Int? {
        let value = byte &- UInt8(ascii: "0")
        return value < 10 ? Int(value) : nil
    }

    @inline(__always)
    static func twoDigits(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> Int? {
        guard let tens = digit(bytes[at]), let ones = digit(bytes[at + 1]) else { return nil }
        return tens * 10 + ones
    }

    /// The month number (1...12) of a three-letter English month name, case-sensitive as servers write it.
    @inline(__always)
    static func month(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Int? {
        // Pack the three letters and compare against the twelve names.
        switch UInt32(a) << 16 | UInt32(b) << 8 | UInt32(c) {
        case 0x4A_61_6E: return 1  // Jan
        case 0x46_65_62: return 2  // Feb
        case 0x4D_61_72: return 3  // Mar
        case 0x41_70_72: return 4  // Apr
        case 0x4D_61_79: return 5  // May
        case 0x4A_75_6E: return 6  // Jun
        case 0x4A_75_6C: return 7  // Jul
        case 0x41_75_67: return 8  // Aug
        case 0x53_65_70: return 9  // Sep
        case 0x4F_63_74: return 10  // Oct
        case 0x4E_6F_76: return 11  // Nov
        case 0x44_65_63: return 12  // Dec
        default: return nil
        }
    }

    /// The signed offset in minutes of `±HHMM` (or `±HH:MM` when `colon`), at most 14 hours either way.
    @inline(__always)
    static func offsetMinutes(_ bytes: UnsafeRawBufferPointer, _ at: Int, colon: Bool) -> Int? {
        let sign: Int
        switch bytes[at] {
        case UInt8(ascii: "+"): sign = 1
        case UInt8(ascii: "-"): sign = -1
        default: return nil
        }
        guard let hours = twoDigits(bytes, at + 1) else { return nil }
        if colon && bytes[at + 3] != UInt8(ascii: ":") { return nil }
        guard let minutes = twoDigits(bytes, at + (colon ? 4 : 3)), minutes < 60 else { return nil }
        let total = hours * 60 + minutes
        guard total <= 14 * 60 else { return nil }
        return sign * total
    }

    /// Parses the common-log time `10/Oct/2000:13:55:36 -0700` (exactly 26 bytes, without brackets).
    ///
    /// Validates the day against the month and leap year, hours, minutes, seconds (0...60) and the offset
    /// (±HHMM, at most ±1400).
    /// - Returns: epoch milliseconds in UTC, or `nil` when the text is not a valid time.
    public static func parseCommonLog(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        guard bytes.count == 26,
            bytes[2] == UInt8(ascii: "/"), bytes[6] == UInt8(ascii: "/"), bytes[11] == UInt8(ascii: ":"),
            bytes[14] == UInt8(ascii: ":"), bytes[17] == UInt8(ascii: ":"), bytes[20] == UInt8(ascii: " "),
            let day = twoDigits(bytes, 0), let month = month(bytes[3], bytes[4], bytes[5]),
            let century = twoDigits(bytes, 7), let yearInCentury = twoDigits(bytes, 9),
            let hour = twoDigits(bytes, 12), let minute = twoDigits(bytes, 15), let second = twoDigits(bytes, 18),
            let offset = offsetMinutes(bytes, 21, colon: false),
            let local = epochMilliseconds(
                year: century * 100 + yearInCentury, month: month, day: day,
                hour: hour, minute: minute, second: second)
        else { return nil }
        return local - Int64(offset) * 60_000
    }

    /// Parses an ISO-8601 / RFC 3339 time: `2000-10-10T13:55:36-07:00`, `…Z`, `….123+0200`, `… 13:55:36Z`.
    ///
    /// The date-time separator may be `T`, `t` or a space; fractional seconds have 1 to 9 digits (truncated to
    /// milliseconds); the zone is `Z`, `z`, `±HH:MM` or `±HHMM`. A time without a zone is rejected, since it does not
    /// name an instant.
    /// - Returns: epoch milliseconds in UTC, or `nil`.
    public static func parseISO8601(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        let count = bytes.count
        guard count >= 20,
            bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t") || bytes[10] == UInt8(ascii: " "),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let century = twoDigits(bytes, 0), let yearInCentury = twoDigits(bytes, 2),
            let month = twoDigits(bytes, 5), let day = twoDigits(bytes, 8),
            let hour = twoDigits(bytes, 11), let minute = twoDigits(bytes, 14), let second = twoDigits(bytes, 17)
        else { return nil }
        var position = 19
        var millisecond = 0
        if bytes[position] == UInt8(ascii: ".") || bytes[position] == UInt8(ascii: ",") {
            position += 1
            var digits = 0
            while position < count, let value = digit(bytes[position]) {
                if digits < 3 { millisecond = millisecond * 10 + value }
                digits += 1
                position += 1
            }
            guard (1...9).contains(digits) else { return nil }
            while digits < 3 {
                millisecond *= 10
                digits += 1
            }
        }
        guard position < count else { return nil }
        var offset = 0
        switch bytes[position] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            position += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            if position + 6 == count, let minutes = offsetMinutes(bytes, position, colon: true) {
                offset = minutes
                position += 6
            } else if position + 5 == count, let minutes = offsetMinutes(bytes, position, colon: false) {
                offset = minutes
                position += 5
            } else {
                return nil
            }
        default:
            return nil
        }
        guard position == count,
            let local = epochMilliseconds(
                year: century * 100 + yearInCentury, month: month, day: day,
                hour: hour, minute: minute, second: second, millisecond: millisecond)
        else { return nil }
        return local - Int64(offset) * 60_000
    }
}

/// Parses common-log times, reusing the previous line's result when the minute and offset repeat.
///
/// Consecutive log lines usually share everything but the seconds; the cache then turns a parse into two
/// comparisons and a digit pair.
public struct CommonLogTimeParser: Sendable {
    private var prefixWords: (UInt64, UInt64, UInt64) = (0, 0, 0)
    private var minuteStart: Int64 = 0
    private var valid = false

    public init() {}

    /// Parses `10/Oct/2000:13:55:36 -0700` (26 bytes) into epoch milliseconds UTC, or `nil` when invalid.
    @inline(__always)
    public mutating func parse(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        guard bytes.count == 26 else { return nil }
        // Bytes 0..<17 are `dd/Mon/yyyy:HH:MM`, 20..<26 are ` ±hhmm`; seconds are 18..<20.
        let first = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        let second = bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        // Bytes 16, 17 (minute's last digit, ':'), then 20...25 shifted in: one word for the rest of the key.
        let tail =
            UInt64(bytes.loadUnaligned(fromByteOffset: 16, as: UInt16.self))
            | (bytes.loadUnaligned(fromByteOffset: 18, as: UInt64.self) & 0xFFFF_FFFF_FFFF_0000)
        if valid && first == prefixWords.0 && second == prefixWords.1 && tail == prefixWords.2,
            let seconds = Timestamp.twoDigits(bytes, 18), seconds <= 60
        {
            return minuteStart + Int64(seconds) * 1000
        }
        guard let value = Timestamp.parseCommonLog(bytes), let seconds = Timestamp.twoDigits(bytes, 18) else {
            return nil
        }
        prefixWords = (first, second, tail)
        minuteStart = value - Int64(seconds) * 1000
        valid = true
        return value
    }
}
