import KlogsCore
import KlogsIngest

/// A column a query can group by.
public enum QueryDimension: String, Sendable, CaseIterable, Hashable {
    case day, hour, path, vhost, status
    case statusClass = "status_class"
    case browser, os, device
    case referrerHost = "referrer_host"
    /// `page`, `asset`, `error` or `other` (null for files written before schema version 2).
    case kind
    /// The path of a visit's first page view (visits only; docs/METRICS.md).
    case entryPage = "entry_page"
    /// The path of a visit's last page view.
    case exitPage = "exit_page"

    /// Whether only the `events` dataset holds this dimension.
    public var needsEvents: Bool { self == .referrerHost || isVisitProperty }

    /// Whether the dimension is a property of a visit rather than of a request.
    public var isVisitProperty: Bool { self == .entryPage || self == .exitPage }

    /// Whether values of this dimension are numbers (right-aligned in tables, unquoted in JSON).
    public var isNumeric: Bool { self == .status }
}

/// A measure a query computes per group.
public enum QueryMetric: String, Sendable, CaseIterable, Hashable {
    /// The number of requests.
    case hits
    /// The sum of response sizes.
    case bytes
    /// The number of distinct visitor pseudonyms (exact; from `events` only).
    case visitors
    /// The number of requests of kind `page`.
    case pageviews
    /// The number of visits: runs of one visitor's page views on one UTC day without a gap over the visit timeout.
    case visits
    /// The percentage of visits with a single page view.
    case bounceRate = "bounce_rate"
    /// The mean visit duration in seconds: from the first to the last page view, 0 for a single page view.
    case visitDuration = "visit_duration"
    /// The median visit duration in seconds.
    case medianVisitDuration = "median_visit_duration"
    /// The mean number of page views per visit.
    case viewsPerVisit = "views_per_visit"

    /// Whether the metric is computed from visits (and so needs the events dataset with pseudonyms).
    public var isVisitMetric: Bool {
        switch self {
        case .hits, .bytes, .visitors, .pageviews: false
        case .visits, .bounceRate, .visitDuration, .medianVisitDuration, .viewsPerVisit: true
        }
    }

    /// Whether the metric is a count (an integer); the others are means and percentages.
    public var isCount: Bool {
        switch self {
        case .hits, .bytes, .visitors, .pageviews, .visits: true
        case .bounceRate, .visitDuration, .medianVisitDuration, .viewsPerVisit: false
        }
    }
}

/// Which requests from crawlers and scripts a query counts.
public enum BotPolicy: String, Sendable, CaseIterable, Hashable {
    case include, exclude, only
}

/// A half-open UTC time range `[start, end)` in epoch milliseconds.
public struct TimeRange: Sendable, Hashable, CustomStringConvertible {
    public var start: Int64
    public var end: Int64

    public init(start: Int64, end: Int64) {
        self.start = start
        self.end = end
    }

    /// Whether both ends fall on whole UTC hours, so the hourly `hits` dataset can answer exactly.
    public var isHourAligned: Bool { start % 3_600_000 == 0 && end % 3_600_000 == 0 }

    /// The UTC day numbers the range touches.
    public var days: ClosedRange<Int> {
        Timestamp.dayNumber(start)...max(Timestamp.dayNumber(start), Timestamp.dayNumber(end - 1))
    }

    public var description: String { "\(QueryValueFormat.dateTime(start)) to \(QueryValueFormat.dateTime(end))" }
}

/// The row filters of a query. Every filter that is set must match.
public struct QueryFilters: Sendable, Hashable {
    /// A path prefix, or a glob when it contains `*`, `?` or `[` (`*` also matches `/`).
    public var path: String?
    /// Allowed statuses: exact codes and whole classes.
    public var status: StatusFilter?
    /// Allowed virtual hosts (exact, lower-case).
    public var vhosts: [String] = []
    /// Allowed device classes.
    public var devices: [String] = []
    /// Bot handling; requests from bots are excluded by default.
    public var bots: BotPolicy = .exclude

    public init() {}
}

/// A set of HTTP statuses given as codes (`404`) and classes (`5xx`).
public struct StatusFilter: Sendable, Hashable {
    public var codes: Set<Int32>
    public var classes: Set<Int32>

    /// Parses a comma-separated list like `404,5xx`; nil when an item is neither a code nor a class.
    public init?(parsing text: String) {
        codes = []
        classes = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = String(item).trimmingSpaces().lowercased()
            if item.count == 3, item.hasSuffix("xx"), let digit = Int32(item.prefix(1)), (1...5).contains(digit) {
                classes.insert(digit)
            } else if let code = Int32(item), (100...999).contains(code) {
                codes.insert(code)
            } else {
                return nil
            }
        }
    }

    /// Whether a status is allowed.
    @inline(__always)
    public func contains(_ status: Int32) -> Bool { codes.contains(status) || classes.contains(status / 100) }

    /// Whether any allowed status lies within `[low, high]`.
    func overlaps(_ low: Int32, _ high: Int32) -> Bool {
        if codes.contains(where: { low <= $0 && $0 <= high }) { return true }
        return classes.contains { low <= $0 * 100 + 99 && $0 * 100 <= high }
    }
}

extension String {
    func trimmingSpaces() -> String {
        var slice = Substring(self)
        while slice.first == " " { slice.removeFirst() }
        while slice.last == " " { slice.removeLast() }
        return String(slice)
    }
}

/// A question to answer from the dataset.
///
/// ```swift
/// var query = Query(dataDirectory: "./klogs-data")
/// query.dimensions = [.path]
/// query.top = 10
/// let result = try QueryEngine(query).run()
/// print(QueryRenderer.table(result))
/// ```
public struct Query: Sendable, Hashable {
    /// The data directory holding `events/` and `hits/`.
    public var dataDirectory: String
    /// The time range; nil means the last 7 days that have data.
    public var range: TimeRange?
    /// The group-by columns, in output order; empty gives one row of totals.
    public var dimensions: [QueryDimension] = []
    /// The metrics, in output order; the first one orders `top`.
    public var metrics: [QueryMetric] = [.hits]
    public var filters = QueryFilters()
    /// Keep only the N groups with the largest first metric.
    public var top: Int?
    /// The longest gap between two page views of one visit, in milliseconds (`--visit-timeout`, 30 minutes).
    public var visitTimeout: Int64 = 30 * 60_000

    public init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
    }

    /// Whether the answer needs the per-request `events` dataset rather than the hourly `hits`.
    public func needsEvents(range: TimeRange) -> Bool {
        metrics.contains(.visitors) || needsVisits || dimensions.contains(where: \.needsEvents)
            || !range.isHourAligned
    }

    /// Whether the answer needs visits: a visit metric, or a grouping by entry or exit page.
    public var needsVisits: Bool {
        metrics.contains(where: \.isVisitMetric) || dimensions.contains(where: \.isVisitProperty)
    }
}

/// Something that keeps a query from being answered.
public struct QueryError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// The question cannot be answered from this data (no pseudonyms, no events): a usage error.
        case unanswerable
        /// A file of the dataset could not be read.
        case unreadable
        /// The output could not be written.
        case output
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// Parses the dates and datetimes of `--from` and `--to`.
public enum QueryDate {
    /// A parsed bound: epoch milliseconds, and whether only a date was given.
    public struct Bound: Sendable, Hashable {
        public var milliseconds: Int64
        public var isDateOnly: Bool
    }

    /// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH`, `YYYY-MM-DDTHH:MM` or `YYYY-MM-DDTHH:MM:SS`, with `T` or a space
    /// and an optional trailing `Z`; all times are UTC.
    public static func parse(_ text: String) -> Bound? {
        var bytes = Array(text.utf8)
        if bytes.last == UInt8(ascii: "Z") || bytes.last == UInt8(ascii: "z") { bytes.removeLast() }
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[range] {
                guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard bytes.count >= 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            (1...12).contains(month), (1...Timestamp.daysInMonth(month, year: year)).contains(day)
        else { return nil }
        let midnight = Int64(Timestamp.daysFromCivil(year: year, month: month, day: day)) * 86_400_000
        if bytes.count == 10 { return Bound(milliseconds: midnight, isDateOnly: true) }
        guard bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t") || bytes[10] == UInt8(ascii: " "),
            let hour = number(11..<13), hour < 24
        else { return nil }
        var minute = 0
        var second = 0
        switch bytes.count {
        case 13: break
        case 16:
            guard bytes[13] == UInt8(ascii: ":"), let value = number(14..<16), value < 60 else { return nil }
            minute = value
        case 19:
            guard bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"), let value = number(14..<16),
                value < 60, let seconds = number(17..<19), seconds < 60
            else { return nil }
            minute = value
            second = seconds
        default: return nil
        }
        let offset = Int64(hour * 3600 + minute * 60 + second) * 1000
        return Bound(milliseconds: midnight + offset, isDateOnly: false)
    }

    /// The range for `--from` and `--to`: `from` is inclusive; `to` is exclusive for a datetime and, for a plain
    /// date, includes that whole day.
    public static func range(from: Bound, to: Bound) -> TimeRange {
        TimeRange(start: from.milliseconds, end: to.isDateOnly ? to.milliseconds + 86_400_000 : to.milliseconds)
    }
}

/// How dimension values are written as text.
public enum QueryValueFormat {
    /// `2026-11-01T13:00:00Z`.
    public static func dateTime(_ milliseconds: Int64) -> String {
        let day = Timestamp.dateText(milliseconds)
        let secondsOfDay = Int((milliseconds - Timestamp.dayStart(milliseconds)) / 1000)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(day)T\(two(secondsOfDay / 3600)):\(two(secondsOfDay / 60 % 60)):\(two(secondsOfDay % 60))Z"
    }
}
