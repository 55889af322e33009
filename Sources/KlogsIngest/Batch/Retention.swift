internal import Foundation

/// The retention period: how far back data is kept (the privacy policy's one year by default).
public enum Retention {
    /// The reject reason counted for lines older than the retention period.
    public static let rejectReason = "older_than_retention"

    /// Today's UTC day number (days since 1970-01-01).
    public static func today() -> Int {
        Int(floor(Date().timeIntervalSince1970 / 86_400))
    }

    /// The first UTC day kept with `retentionDays` of retention; `Int32.min` when it is 0 (keep everything).
    static func oldestKeptDay(retentionDays: Int, today: Int = Retention.today()) -> Int32 {
        retentionDays > 0 ? Int32(clamping: today - retentionDays) : .min
    }
}
