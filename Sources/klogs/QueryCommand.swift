import ArgumentParser
import Foundation
import KlogsIngest
import KlogsQuery

extension Klogs {
    struct Query: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "query",
            abstract: "Answer a question about the visits: counts grouped by day, path, status and more.",
            discussion: """
                Reads the hourly hits dataset, or the events dataset when visitors or referrer hosts are asked for \
                (or when --from or --to is not on a whole hour). Only the date partitions in range are read, and \
                row groups whose statistics rule them out are skipped.

                Dates and times are UTC. --from is inclusive. --to is exclusive for a date and time \
                (--to 2026-11-05T12:00 stops before noon) and inclusive for a plain date (--to 2026-11-05 \
                includes the whole 5th). Without --from and --to, the last 7 days up to the newest day that has \
                data are used.

                Page views, visits, bounce rate and visit duration are defined in docs/METRICS.md: a visit is a \
                run of one visitor's page views on one UTC day with no gap over --visit-timeout; it belongs to the \
                group of its first page view. Visits need visitor pseudonyms (--ip-mode hash).

                Rows are ordered by their values (days ascending, empty values last); with --top, by the first \
                metric from largest to smallest. The table ends with a total row over every matching request, \
                also those cut by --top. CSV and JSON use the --by and --metric names as header and keys.

                Exit status: 0 on success; 2 when a file of the dataset cannot be read; 64 for invalid options and \
                for questions the data cannot answer (visitors and visits from data ingested with --ip-mode \
                truncate or drop, referrer hosts without the events dataset).
                """)

        @OptionGroup var range: RangeOptions
        @OptionGroup var filters: FilterOptions

        @Option(
            name: .long, parsing: .upToNextOption,
            help: ArgumentHelp(
                "Group by one or more of: day, hour, path, vhost, status, status_class, browser, os, device, kind, "
                    + "referrer_host (events only), entry_page, exit_page (visits only). Repeat or separate with "
                    + "commas.", valueName: "column"))
        var by: [String] = []

        @Option(
            name: .long,
            help: ArgumentHelp(
                "The metrics, comma-separated: hits, bytes, visitors (distinct visitor pseudonyms), pageviews, "
                    + "visits, bounce_rate (%), visit_duration and median_visit_duration (seconds), views_per_visit "
                    + "(default: pageviews,visitors with --by path, else hits).", valueName: "metrics"))
        var metric: String?

        @Option(
            name: .customLong("visit-timeout"),
            help: ArgumentHelp(
                "The longest gap between two page views of one visit (30m, 1h, 90s).", valueName: "duration"))
        var visitTimeout: String = "30m"

        @Option(name: .long, help: "Keep only the N groups with the largest first metric.")
        var top: Int?

        @Option(name: .long, help: "The output format.")
        var output: QueryRenderer.Format = .table

        @Flag(name: .long, help: "Also print to standard error what was read and what was skipped.")
        var explain = false

        func dimensions() throws -> [QueryDimension] {
            var result: [QueryDimension] = []
            for item in by.flatMap({ $0.split(separator: ",") }) {
                guard let dimension = QueryDimension(rawValue: String(item)) else {
                    throw ValidationError(
                        "'\(item)' is not a --by column; use "
                            + QueryDimension.allCases.map(\.rawValue).joined(separator: ", ") + ".")
                }
                guard !result.contains(dimension) else { throw ValidationError("--by names '\(item)' twice.") }
                result.append(dimension)
            }
            return result
        }

        /// Whether --metric was left out, so the metrics are the defaults.
        var metricsAreDefault: Bool { metric == nil }

        func metrics() throws -> [QueryMetric] {
            guard let metric else {
                return try dimensions() == [.path] ? [.pageviews, .visitors] : [.hits]
            }
            var result: [QueryMetric] = []
            for item in metric.split(separator: ",") {
                guard let value = QueryMetric(rawValue: String(item)) else {
                    throw ValidationError(
                        "'\(item)' is not a metric; use "
                            + QueryMetric.allCases.map(\.rawValue).joined(separator: ", ") + ".")
                }
                guard !result.contains(value) else { throw ValidationError("--metric names '\(item)' twice.") }
                result.append(value)
            }
            guard !result.isEmpty else {
                throw ValidationError("--metric needs at least one metric, such as hits or pageviews.")
            }
            if try dimensions().contains(where: \.isVisitProperty),
                let request = result.first(where: { $0 == .hits || $0 == .bytes })
            {
                throw ValidationError(
                    "--metric \(request.rawValue) counts requests, which have no entry or exit page; with --by "
                        + "entry_page or exit_page use visits, pageviews, visitors, bounce_rate, visit_duration, "
                        + "median_visit_duration or views_per_visit.")
            }
            return result
        }

        /// The visit timeout in milliseconds.
        func visitTimeoutMilliseconds() throws -> Int64 {
            guard let seconds = KeyLifecycle.parseDuration(visitTimeout), seconds > 0 else {
                throw ValidationError(
                    "--visit-timeout '\(visitTimeout)' is not a duration; use a number with s, m or h, such as 30m.")
            }
            return seconds * 1000
        }

        func validate() throws {
            _ = try dimensions()
            _ = try metrics()
            _ = try visitTimeoutMilliseconds()
            if let top, top < 1 { throw ValidationError("--top must be at least 1, not \(top).") }
        }

        func run() throws {
            exitQuietlyOnBrokenPipe()
            var query = KlogsQuery.Query(dataDirectory: range.dataDirectory)
            query.range = try range.timeRange()
            query.dimensions = try dimensions()
            query.metrics = try metrics()
            query.filters = try filters.queryFilters()
            query.top = top
            query.visitTimeout = try visitTimeoutMilliseconds()
            let result = try runQuery(query, command: "query", fallback: metricsAreDefault ? [.pageviews] : nil)
            if explain { printError("klogs query: \(result.dataset.rawValue): \(result.scan.summary)") }
            FileHandle.standardOutput.write(Data(QueryRenderer.render(result, as: output).utf8))
        }
    }
}

/// Keeps freed scan buffers in the process instead of returning them to the kernel after every file.
///
/// A scan decodes each file into a few large arrays; by default glibc maps each one fresh (zeroed pages, page
/// faults) and unmaps it when freed. Raising the thresholds once reuses the memory and cut the system time of a
/// month-long query from about 0.3 s to 0.03 s.
func keepScanMemory() {
    #if canImport(Glibc)
        // <malloc.h> is not part of the Glibc module: M_TRIM_THRESHOLD is -1 and M_MMAP_THRESHOLD is -3 there.
        _ = glibcMallopt(-3, 32 << 20)
        _ = glibcMallopt(-1, 512 << 20)
    #endif
}

#if canImport(Glibc)
    @_silgen_name("mallopt")
    private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif

/// Runs a query and maps its errors to the documented exit statuses.
///
/// - Parameter fallback: metrics to answer with instead when the data cannot answer the default metrics (visitors
///   without pseudonyms or without events); a note on standard error says so.
func runQuery(_ query: KlogsQuery.Query, command: String, fallback: [QueryMetric]? = nil) throws -> QueryResult {
    keepScanMemory()
    do {
        do {
            return try QueryEngine(query).run()
        } catch let error as QueryError where error.kind == .unanswerable && fallback != nil {
            var reduced = query
            reduced.metrics = fallback ?? query.metrics
            let result = try QueryEngine(reduced).run()
            printError("klogs \(command): showing \(reduced.metrics.map(\.rawValue).joined(separator: ",")) only: \(error.message)")
            return result
        }
    } catch let error as QueryError {
        printError("klogs \(command): \(error.message)")
        switch error.kind {
        case .unanswerable: throw ExitCode.validationFailure
        case .unreadable: throw ExitCode.inputError
        case .output: throw ExitCode.outputError
        }
    }
}

/// `--data`, `--from`, `--to`, shared by query, report and export.
struct RangeOptions: ParsableArguments {
    @Option(name: .long, help: "The data directory (default: $KLOGS_DATA, else ./klogs-data).")
    var data: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The first UTC date or time included: YYYY-MM-DD, or YYYY-MM-DDTHH[:MM[:SS]].", valueName: "date"))
    var from: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The end: a plain date is included whole; a date and time is excluded (the range stops before it).",
            valueName: "date"))
    var to: String?

    var dataDirectory: String { data ?? defaultDataDirectory() }

    func validate() throws {
        for (name, value) in [("--from", from), ("--to", to)] {
            if let value, QueryDate.parse(value) == nil {
                throw ValidationError(
                    "\(name) '\(value)' is not a date or time; write 2026-11-05 or 2026-11-05T13:00 (UTC).")
            }
        }
        if let range = try timeRange(), range.end <= range.start {
            throw ValidationError("--to must come after --from: the range \(range) is empty.")
        }
    }

    /// The range, or nil for the default (the last 7 days with data). A missing end is the newest data's end;
    /// a missing start is 7 days before the end.
    func timeRange() throws -> TimeRange? {
        let start = from.flatMap(QueryDate.parse)
        let end = to.flatMap(QueryDate.parse)
        switch (start, end) {
        case (nil, nil): return nil
        case (let start?, let end?): return QueryDate.range(from: start, to: end)
        case (let start?, nil):
            let last = DatasetFiles.latestDay(dataDirectory: dataDirectory).map { Int64($0 + 1) * 86_400_000 }
            return TimeRange(
                start: start.milliseconds, end: max(last ?? start.milliseconds + 86_400_000, start.milliseconds + 1))
        case (nil, let end?):
            let range = QueryDate.range(from: end, to: end)
            return TimeRange(start: (end.isDateOnly ? range.end : range.end) - 7 * 86_400_000, end: range.end)
        }
    }
}

/// The row filters, shared by query and report.
struct FilterOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Only paths starting with this prefix, or matching this glob when it has *, ? or [ (* also matches /).",
            valueName: "prefix-or-glob"))
    var path: String?

    @Option(name: .long, help: ArgumentHelp("Only these statuses, comma-separated: 404,5xx.", valueName: "statuses"))
    var status: String?

    @Option(name: .long, help: ArgumentHelp("Only these virtual hosts, comma-separated.", valueName: "hosts"))
    var vhost: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Only these device classes, comma-separated: desktop, mobile, tablet, bot, other.", valueName: "devices"))
    var device: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Requests from crawlers and scripts: exclude them (the default, unless --device names bot), include "
                + "them, or count only them."))
    var bots: BotPolicy?

    func validate() throws {
        if let status, StatusFilter(parsing: status) == nil {
            throw ValidationError(
                "--status '\(status)' is not a list of statuses; write codes and classes like 404,5xx.")
        }
        let devices = ["desktop", "mobile", "tablet", "bot", "other"]
        for item in device?.split(separator: ",") ?? [] where !devices.contains(String(item)) {
            throw ValidationError(
                "--device '\(item)' is not a device class; use desktop, mobile, tablet, bot or other.")
        }
    }

    func queryFilters() throws -> QueryFilters {
        var filters = QueryFilters()
        filters.path = path
        filters.status = status.flatMap(StatusFilter.init(parsing:))
        filters.vhosts = vhost?.split(separator: ",").map { $0.lowercased() } ?? []
        filters.devices = device?.split(separator: ",").map(String.init) ?? []
        filters.bots = bots ?? (filters.devices.contains("bot") ? .include : .exclude)
        return filters
    }
}

extension BotPolicy: ExpressibleByArgument {}
extension QueryRenderer.Format: ExpressibleByArgument {}
