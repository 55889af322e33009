import KlogsCore
import KlogsIngest

/// Everything a report shows: with pseudonyms and events, from one shared scan of the events and one of the hits
/// (``QueryEngine/runSharingScan(_:)``); otherwise a ``QueryEngine`` run per section.
///
/// It leads with the numbers web analytics leads with (docs/METRICS.md): visitors, visits, page views, bounce rate
/// and visit duration, each over the range and by day (by hour for two days or less); then page views by page, visits
/// by entry page and by referrer host, and requests by browser, system, device and status. Bots are left out of
/// every figure except the bot share. Visitors and visits appear when the data has pseudonyms, referrers and entry
/// pages when it has the events dataset; `notes` says why something is missing.
public struct ReportData: Sendable {
    /// One ranked list: a dimension's values and their metrics, the bars drawn from the first one.
    public struct Ranking: Sendable {
        public var id: String
        public var title: String
        public var column: String
        public var metrics: [QueryMetric]
        public var rows: [(label: String, values: [Double])]
        /// The first metric over all values, including those past the list's end (for the share column).
        public var total: Double
        /// The number of distinct values.
        public var valueCount: Int
    }

    /// The headline figures of the range, or of one point of the time series; nil where the data cannot tell.
    public struct Figures: Sendable {
        public var label: String
        public var pageviews: Int64
        public var visitors: Int64?
        public var visits: Int64?
        /// Percent of visits with one page view; nil also when there were no visits.
        public var bounceRate: Double?
        /// Mean seconds from the first to the last page view of a visit.
        public var visitDuration: Double?
    }

    public var dataDirectory: String
    public var range: TimeRange
    /// `day`, or `hour` for ranges of two days or less.
    public var seriesUnit: QueryDimension
    /// The headline over the whole range (its `label` is the range).
    public var headline: Figures
    public var series: [Figures]
    public var hits: Int64
    public var bytes: Int64
    public var botHits: Int64
    public var rankings: [Ranking]
    /// Why a section is missing (no events, no pseudonyms), in sentences.
    public var notes: [String]

    /// Whether the data has visitors (pseudonyms), and so visits.
    public var hasVisitors: Bool { headline.visitors != nil }

    /// The share of requests made by bots, 0 to 1.
    public var botShare: Double {
        let all = hits + botHits
        return all == 0 ? 0 : Double(botHits) / Double(all)
    }

    /// Computes a report.
    ///
    /// - Parameters:
    ///   - dataDirectory: the data directory.
    ///   - range: the range; nil means the last 7 days with data.
    ///   - top: the length of each ranked list.
    /// - Throws: ``QueryError`` when a file cannot be read.
    public static func build(dataDirectory: String, range: TimeRange?, top: Int = 15) throws -> ReportData {
        guard let range = range ?? DatasetFiles.defaultRange(dataDirectory: dataDirectory) else {
            throw QueryError(.unanswerable, "\(dataDirectory) holds no data; run klogs ingest first")
        }
        var notes: [String] = []
        func query(_ dimensions: [QueryDimension], _ metrics: [QueryMetric], top: Int? = nil, bots: BotPolicy = .exclude)
            -> Query
        {
            var query = Query(dataDirectory: dataDirectory)
            query.range = range
            query.dimensions = dimensions
            query.metrics = metrics
            query.top = top
            query.filters.bots = bots
            return query
        }
        func run(_ dimensions: [QueryDimension], _ metrics: [QueryMetric], top: Int? = nil, bots: BotPolicy = .exclude)
            throws -> QueryResult
        {
            try QueryEngine(query(dimensions, metrics, top: top, bots: bots)).run()
        }
        let unit: QueryDimension = range.end - range.start <= 2 * 86_400_000 ? .hour : .day
        // One query gives the series and, in its totals, the headline (visits never cross a day, so every visit and
        // request of the range is in some point of the series).
        let visitorMetrics: [QueryMetric] = [.visitors, .visits, .bounceRate, .visitDuration]
        let seriesMetrics: [QueryMetric] = [.pageviews] + visitorMetrics + [.hits, .bytes]

        // With pseudonyms and events, the series and every section come from one scan of the events.
        var withVisitors = true
        var byUnit: QueryResult
        var sectionResults: [Result<QueryResult, QueryError>]
        do {
            let queries =
                [query([unit], seriesMetrics)] + Self.sections(withVisitors: true).map { query([$0.dimension], $0.metrics, top: top) }
            let results = try QueryEngine.runSharingScan(queries)
            byUnit = results[0]
            sectionResults = results.dropFirst().map { .success($0) }
        } catch let error as QueryError where error.kind == .unanswerable {
            // Without them, a query at a time, so that each section that can be shown is.
            do {
                byUnit = try run([unit], seriesMetrics)
            } catch let error as QueryError where error.kind == .unanswerable {
                // The note gives the reason visitors alone cannot be counted.
                var reason: QueryError?
                do {
                    _ = try run([], [.visitors])
                } catch let visitorsError as QueryError where visitorsError.kind == .unanswerable {
                    reason = visitorsError
                }
                guard let reason else { throw error }
                notes.append("Visitors and visits are not shown: \(reason.message).")
                withVisitors = false
                byUnit = try run([unit], [.pageviews, .hits, .bytes])
            }
            sectionResults = try Self.sections(withVisitors: withVisitors).map { section in
                do {
                    return .success(try run([section.dimension], section.metrics, top: top))
                } catch let error as QueryError where error.kind == .unanswerable {
                    return .failure(error)
                }
            }
        }
        let headline = Figures(label: "", row: byUnit.totals, metrics: byUnit.metrics)
        let bots = try run([], [.hits], bots: .only)
        let series = Self.series(byUnit, unit: unit, range: range)

        var rankings: [Ranking] = []
        for (section, outcome) in zip(Self.sections(withVisitors: withVisitors), sectionResults) {
            let result: QueryResult
            switch outcome {
            case .success(let answer): result = answer
            case .failure(let error):
                notes.append("\(section.title) are not shown: \(error.message).")
                continue
            }
            let rows = result.rows.map { (label: QueryRenderer.text($0.keys[0], null: "(none)"), values: $0.values) }
            rankings.append(
                Ranking(
                    id: section.id, title: section.title, column: section.column, metrics: section.metrics, rows: rows,
                    total: result.totals[0], valueCount: result.groupCount))
        }
        let totalsByMetric = Dictionary(uniqueKeysWithValues: zip(byUnit.metrics, byUnit.totals))
        return ReportData(
            dataDirectory: dataDirectory, range: range, seriesUnit: unit, headline: headline, series: series,
            hits: Int64(totalsByMetric[.hits] ?? 0), bytes: Int64(totalsByMetric[.bytes] ?? 0),
            botHits: Int64(bots.totals[0]), rankings: rankings, notes: notes)
    }

    /// One ranked list of a report: what it is called and the query behind it.
    private struct Section {
        var id: String
        var title: String
        var dimension: QueryDimension
        var column: String
        var metrics: [QueryMetric]
    }

    /// The ranked lists, in display order; without visitors, entry pages are left out and the others count
    /// requests.
    private static func sections(withVisitors: Bool) -> [Section] {
        let perVisit: [QueryMetric] = [.visits, .bounceRate, .visitDuration]
        let sections = [
            Section(
                id: "pages", title: "Top pages", dimension: .path, column: "Page",
                metrics: withVisitors ? [.pageviews, .visitors] : [.pageviews]),
            Section(id: "entries", title: "Entry pages", dimension: .entryPage, column: "Entry page", metrics: perVisit),
            Section(
                id: "referrers", title: "Referrer hosts", dimension: .referrerHost, column: "Referrer host",
                metrics: withVisitors ? perVisit : [.hits]),
            Section(
                id: "browsers", title: "Browsers", dimension: .browser, column: "Browser",
                metrics: withVisitors ? [.hits, .visitors] : [.hits]),
            Section(
                id: "oses", title: "Operating systems", dimension: .os, column: "Operating system",
                metrics: withVisitors ? [.hits, .visitors] : [.hits]),
            Section(
                id: "devices", title: "Devices", dimension: .device, column: "Device",
                metrics: withVisitors ? [.hits, .visitors] : [.hits]),
            Section(id: "statuses", title: "Status codes", dimension: .status, column: "Status", metrics: [.hits]),
        ]
        return withVisitors ? sections : sections.filter { $0.dimension != .entryPage }
    }

    /// Every day (or hour) of the range, zero where there was nothing, from the first one with data.
    private static func series(_ result: QueryResult, unit: QueryDimension, range: TimeRange) -> [Figures] {
        var byLabel: [String: QueryResult.Row] = [:]
        for row in result.rows { byLabel[QueryRenderer.text(row.keys[0], null: "")] = row }
        let step: Int64 = unit == .day ? 86_400_000 : 3_600_000
        let empty = result.metrics.map { $0.isCount ? 0 : Double.nan }
        var series: [Figures] = []
        var time = range.start - ((range.start % step) + step) % step
        while time < range.end {
            let label = unit == .day ? Timestamp.dateText(time) : QueryValueFormat.dateTime(time)
            let row = byLabel[label]
            if row != nil || !series.isEmpty {
                series.append(Figures(label: label, row: row?.values ?? empty, metrics: result.metrics))
            }
            time += step
        }
        return series
    }

    /// The headline figures with their trend: the second half of the series against the first (nil when a half
    /// has nothing to compare).
    public var headlineItems: [(name: String, text: String, trend: String?)] {
        let half = series.count / 2
        let first = series.prefix(half)
        let second = series.suffix(series.count - half).prefix(half)  // the middle point of an odd count is left out
        func mean(_ points: ArraySlice<Figures>, _ value: (Figures) -> Double?) -> Double? {
            let values = points.compactMap(value)
            return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
        }
        func change(_ value: (Figures) -> Double?, points: Bool) -> String? {
            guard half > 0, let before = mean(first, value), let after = mean(second, value) else { return nil }
            if points {
                let difference = after - before
                return (difference >= 0 ? "+" : "-") + QueryRenderer.decimal(abs(difference), places: 1) + " pts"
            }
            guard before > 0 else { return nil }
            let ratio = (after - before) / before
            return (ratio >= 0 ? "+" : "-") + Self.percent(abs(ratio))
        }
        return headline.items.map { item in
            let trend: String?
            switch item.name {
            case "Visitors": trend = change({ $0.visitors.map(Double.init) }, points: false)
            case "Visits": trend = change({ $0.visits.map(Double.init) }, points: false)
            case "Page views": trend = change({ Double($0.pageviews) }, points: false)
            case "Bounce rate": trend = change({ $0.bounceRate }, points: true)
            default: trend = change({ $0.visitDuration }, points: false)
            }
            return (item.name, item.text, trend)
        }
    }

    /// The range as people read it: `2026-11-01 to 2026-11-03` for whole days.
    public var rangeText: String {
        if range.start % 86_400_000 == 0 && range.end % 86_400_000 == 0 {
            let first = Timestamp.dateText(range.start)
            let last = Timestamp.dateText(range.end - 86_400_000)
            return first == last ? first : "\(first) to \(last)"
        }
        return "\(QueryValueFormat.dateTime(range.start)) to \(QueryValueFormat.dateTime(range.end)) (exclusive)"
    }

    /// `12.3%`.
    static func percent(_ fraction: Double) -> String {
        let tenths = Int((fraction * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }

    /// `1.2 GB`.
    static func byteText(_ bytes: Int64) -> String {
        let units = ["bytes", "kB", "MB", "GB", "TB", "PB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        if unit == 0 { return "\(QueryRenderer.thousands(bytes)) bytes" }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
}

extension ReportData.Figures {
    /// The figures of a result row whose metrics are some of pageviews, visitors, visits, bounce_rate and
    /// visit_duration.
    init(label: String, row: [Double], metrics: [QueryMetric]) {
        func value(_ metric: QueryMetric) -> Double? {
            metrics.firstIndex(of: metric).map { row[$0] }.flatMap { $0.isNaN ? nil : $0 }
        }
        self.init(
            label: label, pageviews: Int64(value(.pageviews) ?? 0), visitors: value(.visitors).map { Int64($0) },
            visits: value(.visits).map { Int64($0) }, bounceRate: value(.bounceRate),
            visitDuration: value(.visitDuration))
    }

    /// The headline figures that are known, as (name, text) pairs in display order.
    var items: [(name: String, text: String)] {
        var items: [(String, String)] = []
        if let visitors { items.append(("Visitors", QueryRenderer.thousands(visitors))) }
        if let visits { items.append(("Visits", QueryRenderer.thousands(visits))) }
        items.append(("Page views", QueryRenderer.thousands(pageviews)))
        if visits != nil {
            items.append(("Bounce rate", bounceRate.map { QueryRenderer.tableText($0, .bounceRate) } ?? "-"))
            items.append(("Visit duration", visitDuration.map { QueryRenderer.duration($0) } ?? "-"))
        }
        return items
    }
}

extension QueryMetric {
    /// The metric's column heading in a report.
    var heading: String {
        switch self {
        case .hits: "requests"
        case .bytes: "bytes"
        case .visitors: "visitors"
        case .pageviews: "page views"
        case .visits: "visits"
        case .bounceRate: "bounce rate"
        case .visitDuration: "visit duration"
        case .medianVisitDuration: "median visit duration"
        case .viewsPerVisit: "views per visit"
        }
    }
}

/// The plain-text (Markdown) report.
public enum MarkdownReport {
    public static func render(_ data: ReportData) -> String {
        var out = "# Visits, \(data.rangeText)\n\n"
        out += "| | | trend |\n|---|---:|---|\n"
        for item in data.headlineItems {
            out += "| \(item.name) | \(item.text) | \(item.trend ?? "") |\n"
        }
        out += "| Requests (without bots) | \(QueryRenderer.thousands(data.hits)) | |\n"
        out += "| Data sent | \(ReportData.byteText(data.bytes)) | |\n"
        out +=
            "| Bot share of requests | \(ReportData.percent(data.botShare)) (\(QueryRenderer.thousands(data.botHits))) | |\n"
        out += "\nTrend: the second half of the range against the first.\n\n"
        let names = data.headline.items.map(\.name)
        out += "## By \(data.seriesUnit.rawValue)\n\n"
        out += "| \(data.seriesUnit.rawValue) | " + names.map { $0.lowercased() }.joined(separator: " | ") + " |\n"
        out += "|---|" + names.map { _ in "---:|" }.joined() + "\n"
        for point in data.series {
            out += "| \(point.label) | " + point.items.map(\.text).joined(separator: " | ") + " |\n"
        }
        for ranking in data.rankings {
            out += "\n## \(ranking.title)\n\n"
            let first = ranking.metrics[0]
            let withShare = first.isCount
            out += "| \(ranking.column) | " + ranking.metrics.map(\.heading).joined(separator: " | ")
                + (withShare ? " | share" : "") + " |\n"
            out += "|---|" + ranking.metrics.map { _ in "---:|" }.joined() + (withShare ? "---:|" : "") + "\n"
            for row in ranking.rows {
                out += "| \(escape(row.label)) | "
                    + zip(row.values, ranking.metrics).map(QueryRenderer.tableText).joined(separator: " | ")
                if withShare {
                    out += " | " + ReportData.percent(ranking.total == 0 ? 0 : row.values[0] / ranking.total)
                }
                out += " |\n"
            }
            if ranking.valueCount > ranking.rows.count {
                out += "\n\(ranking.rows.count) of \(QueryRenderer.thousands(Int64(ranking.valueCount))) shown.\n"
            }
        }
        if !data.notes.isEmpty {
            out += "\n## Notes\n\n" + data.notes.map { "- \($0)\n" }.joined()
        }
        return out
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            if character == "|" || character == "\\" || character == "`" || character == "*" || character == "_" {
                out.append("\\")
            }
            out.append(character)
        }
        return out
    }
}
