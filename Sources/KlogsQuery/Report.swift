import KlogsCore
import KlogsIngest

/// Everything a report shows, computed by a handful of ``QueryEngine`` runs.
///
/// Bots are left out of every figure except the bot share. Visitors appear when the data has pseudonyms, referrer
/// hosts when it has the events dataset.
public struct ReportData: Sendable {
    /// One ranked list: a dimension's values and their hits (and visitors, when known).
    public struct Ranking: Sendable {
        public var id: String
        public var title: String
        public var column: String
        public var rows: [(label: String, hits: Int64, visitors: Int64?)]
        /// The hits over all values, including those past the list's end.
        public var totalHits: Int64
        /// The number of distinct values.
        public var valueCount: Int
    }

    /// One point of the time series.
    public struct Point: Sendable {
        public var label: String
        public var hits: Int64
        public var visitors: Int64?
    }

    public var dataDirectory: String
    public var range: TimeRange
    /// `day`, or `hour` for ranges of two days or less.
    public var seriesUnit: QueryDimension
    public var series: [Point]
    public var hits: Int64
    public var bytes: Int64
    public var visitors: Int64?
    public var botHits: Int64
    public var rankings: [Ranking]
    /// Why a section is missing (no events, no pseudonyms), in sentences.
    public var notes: [String]

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
        func run(_ dimensions: [QueryDimension], _ metrics: [QueryMetric], top: Int? = nil, bots: BotPolicy = .exclude)
            throws -> QueryResult
        {
            var query = Query(dataDirectory: dataDirectory)
            query.range = range
            query.dimensions = dimensions
            query.metrics = metrics
            query.top = top
            query.filters.bots = bots
            return try QueryEngine(query).run()
        }
        // Visitors when the data has them.
        var withVisitors = true
        do {
            _ = try run([], [.visitors])
        } catch let error as QueryError where error.kind == .unanswerable {
            withVisitors = false
            notes.append("Visitors are not shown: \(error.message).")
        }
        let metrics: [QueryMetric] = withVisitors ? [.hits, .visitors] : [.hits]
        let totals = try run([], [.hits, .bytes] + (withVisitors ? [.visitors] : []))
        let bots = try run([], [.hits], bots: .only)
        let unit: QueryDimension = range.end - range.start <= 2 * 86_400_000 ? .hour : .day
        let seriesResult = try run([unit], metrics)
        // Every day (or hour) of the range, zero where there was nothing, from the first one with data.
        var byLabel: [String: QueryResult.Row] = [:]
        for row in seriesResult.rows { byLabel[QueryRenderer.text(row.keys[0], null: "")] = row }
        let step: Int64 = unit == .day ? 86_400_000 : 3_600_000
        var series: [Point] = []
        var time = range.start - ((range.start % step) + step) % step
        while time < range.end {
            let label = unit == .day ? Timestamp.dateText(time) : QueryValueFormat.dateTime(time)
            let row = byLabel[label]
            if row != nil || !series.isEmpty {
                series.append(
                    Point(label: label, hits: row?.values[0] ?? 0, visitors: withVisitors ? (row?.values[1] ?? 0) : nil)
                )
            }
            time += step
        }

        var rankings: [Ranking] = []
        let sections: [(String, String, QueryDimension, String)] = [
            ("pages", "Top pages", .path, "Page"),
            ("referrers", "Referrer hosts", .referrerHost, "Referrer host"),
            ("browsers", "Browsers", .browser, "Browser"),
            ("oses", "Operating systems", .os, "Operating system"),
            ("devices", "Devices", .device, "Device"),
            ("statuses", "Status codes", .status, "Status"),
        ]
        for (id, title, dimension, column) in sections {
            let result: QueryResult
            do {
                result = try run([dimension], dimension == .referrerHost || withVisitors ? metrics : [.hits], top: top)
            } catch let error as QueryError where error.kind == .unanswerable {
                notes.append("\(title) are not shown: \(error.message).")
                continue
            }
            let rows = result.rows.map { row in
                (
                    label: QueryRenderer.text(row.keys[0], null: "(none)"), hits: row.values[0],
                    visitors: row.values.count > 1 ? Optional(row.values[1]) : nil
                )
            }
            rankings.append(
                Ranking(
                    id: id, title: title, column: column, rows: rows, totalHits: result.totals[0],
                    valueCount: result.groupCount))
        }
        return ReportData(
            dataDirectory: dataDirectory, range: range, seriesUnit: unit, series: series, hits: totals.totals[0],
            bytes: totals.totals[1], visitors: withVisitors ? totals.totals[2] : nil, botHits: bots.totals[0],
            rankings: rankings, notes: notes)
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

/// The plain-text (Markdown) report.
public enum MarkdownReport {
    public static func render(_ data: ReportData) -> String {
        var out = "# Visits, \(data.rangeText)\n\n"
        out += "| | |\n|---|---:|\n"
        out += "| Requests (without bots) | \(QueryRenderer.thousands(data.hits)) |\n"
        if let visitors = data.visitors { out += "| Visitors | \(QueryRenderer.thousands(visitors)) |\n" }
        out += "| Data sent | \(ReportData.byteText(data.bytes)) |\n"
        out +=
            "| Bot share of requests | \(ReportData.percent(data.botShare)) (\(QueryRenderer.thousands(data.botHits))) |\n\n"
        out += "## Requests\(data.visitors == nil ? "" : " and visitors") by \(data.seriesUnit.rawValue)\n\n"
        out +=
            data.visitors == nil
            ? "| \(data.seriesUnit.rawValue) | requests |\n|---|---:|\n"
            : "| \(data.seriesUnit.rawValue) | requests | visitors |\n|---|---:|---:|\n"
        for point in data.series {
            out += "| \(point.label) | \(QueryRenderer.thousands(point.hits)) |"
            if let visitors = point.visitors { out += " \(QueryRenderer.thousands(visitors)) |" }
            out += "\n"
        }
        for ranking in data.rankings {
            let hasVisitors = ranking.rows.first?.visitors != nil
            out += "\n## \(ranking.title)\n\n"
            out += "| \(ranking.column) | requests | share |\(hasVisitors ? " visitors |" : "")\n"
            out += "|---|---:|---:|\(hasVisitors ? "---:|" : "")\n"
            for row in ranking.rows {
                let share = ranking.totalHits == 0 ? 0 : Double(row.hits) / Double(ranking.totalHits)
                out += "| \(escape(row.label)) | \(QueryRenderer.thousands(row.hits)) | \(ReportData.percent(share)) |"
                if let visitors = row.visitors { out += " \(QueryRenderer.thousands(visitors)) |" }
                out += "\n"
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
