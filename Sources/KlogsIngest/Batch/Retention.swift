internal import Foundation

/// The retention period: how far back data is kept (the privacy policy's one year by default).
public enum Retention {
    /// The reject reason counted for lines older than the retention period.
    public static let rejectReason = "older_than_retention"

    /// The reject reason counted for lines dated after tomorrow (UTC) while a retention period is set.
    public static let futureRejectReason = "in_the_future"

    /// How many days after today a line may be dated: a server clock a little ahead is tolerated, a line of year
    /// 9999 is not (its partition would outlive every purge, and its pseudonym key every expiry).
    public static let futureToleranceDays = 1

    /// Today's UTC day number (days since 1970-01-01).
    public static func today() -> Int {
        Int(floor(Date().timeIntervalSince1970 / 86_400))
    }

    /// The first UTC day kept with `retentionDays` of retention; `Int32.min` when it is 0 (keep everything).
    static func oldestKeptDay(retentionDays: Int, today: Int = Retention.today()) -> Int32 {
        retentionDays > 0 ? Int32(clamping: today - retentionDays) : .min
    }

    /// The last UTC day kept: tomorrow with a retention period, `Int32.max` when it is 0 (keep everything).
    static func newestKeptDay(retentionDays: Int, today: Int = Retention.today()) -> Int32 {
        retentionDays > 0 ? Int32(clamping: today + futureToleranceDays) : .max
    }

    /// The day number of a `YYYY-MM-DD` date, or nil when it is not one.
    public static func dayNumber(dateText text: String) -> Int? {
        let parts = text.split(separator: "-")
        guard parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        // Days from civil (H. Hinnant).
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
