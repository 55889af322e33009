import Foundation
import KlogsIngest
import KlogsTestSupport
import Testing

@testable import KlogsQuery

/// A dataset ingested once from the bundled sample (2,000 lines over 2026-11-01 to 2026-11-03), shared by the tests.
enum SampleData {
    static let directory: String = {
        let root = try! TestPaths.makeTemporaryDirectory("klogs-query")  // Safe because a failure here fails every test.
        let data = root.path + "/data"
        let sample = TestPaths.fixtures.appendingPathComponent("sample-access.log").path
        var configuration = IngestConfiguration(dataDirectory: data, inputs: [sample])
        configuration.rowGroupRows = 100  // many row groups, so statistics can skip some
        _ = try! Ingestor(configuration: configuration).run()
        return data
    }()

    static let truncated: String = {
        let root = try! TestPaths.makeTemporaryDirectory("klogs-query-truncated")
        let sample = TestPaths.fixtures.appendingPathComponent("sample-access.log").path
        var configuration = IngestConfiguration(dataDirectory: root.path + "/data", inputs: [sample])
        configuration.ipMode = .truncate
        _ = try! Ingestor(configuration: configuration).run()
        return root.path + "/data"
    }()

    static func query(_ adjust: (inout Query) -> Void) throws -> QueryResult {
        var query = Query(dataDirectory: directory)
        query.range = TimeRange(start: day("2026-11-01"), end: day("2026-11-04"))
        adjust(&query)
        return try QueryEngine(query).run()
    }

    static func day(_ text: String) -> Int64 { QueryDate.parse(text)!.milliseconds }
}

/// Compares text with a golden file in fixtures/golden; `KLOGS_UPDATE_GOLDEN=1` rewrites the file instead.
func expectGolden(_ text: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let url = TestPaths.fixtures.appendingPathComponent("golden/\(name)")
    if ProcessInfo.processInfo.environment["KLOGS_UPDATE_GOLDEN"] == "1" {
        try Data(text.utf8).write(to: url)
        return
    }
    let expected = try String(contentsOf: url, encoding: .utf8)
    #expect(text == expected, "differs from fixtures/golden/\(name)", sourceLocation: sourceLocation)
}

@Suite struct QueryEngineTests {
    @Test func totalsWithoutDimensionsCountEveryNonBotRequest() throws {
        let all = try SampleData.query {
            $0.filters.bots = .include
            $0.metrics = [.hits, .bytes]
        }
        let humans = try SampleData.query { $0.filters.bots = .exclude }
        let bots = try SampleData.query { $0.filters.bots = .only }
        #expect(all.rows.count == 1 && all.totals[0] > 0 && all.rows[0].values == all.totals)
        #expect(humans.totals[0] + bots.totals[0] == all.totals[0])
    }

    @Test func hitsAndEventsGiveTheSameCounts() throws {
        let fromHits = try SampleData.query { $0.dimensions = [.day, .status] }
        let fromEvents = try SampleData.query {
            $0.dimensions = [.day, .status]
            $0.metrics = [.hits, .visitors]
        }
        #expect(fromHits.dataset == .hits)
        #expect(fromEvents.dataset == .events)
        #expect(fromHits.rows.map(\.keys) == fromEvents.rows.map(\.keys))
        #expect(fromHits.rows.map { $0.values[0] } == fromEvents.rows.map { $0.values[0] })
    }

    @Test func onlyThePartitionsInRangeAreRead() throws {
        let result = try SampleData.query {
            $0.range = TimeRange(start: SampleData.day("2026-11-02"), end: SampleData.day("2026-11-03"))
        }
        #expect(result.scan.partitionsRead == 1)
        #expect(result.scan.files.allSatisfy { $0.contains("date=2026-11-02") })
    }

    @Test func rowGroupsOutsideTheHoursAreSkippedByStatistics() throws {
        let start = SampleData.day("2026-11-02T10")
        let result = try SampleData.query {
            $0.range = TimeRange(start: start, end: start + 3_600_000)
            $0.metrics = [.visitors]
        }
        #expect(result.dataset == .events)
        #expect(result.scan.rowGroupsSkipped > 0)
        #expect(result.scan.rowGroupsRead < result.scan.rowGroupsSkipped)
    }

    @Test func topKeepsTheLargestFirstMetricAndTotalsCountEverything() throws {
        let all = try SampleData.query { $0.dimensions = [.path] }
        let top = try SampleData.query {
            $0.dimensions = [.path]
            $0.top = 3
        }
        #expect(top.rows.count == 3)
        #expect(top.rows.map { $0.values[0] } == all.rows.map { $0.values[0] }.sorted(by: >).prefix(3).map { $0 })
        #expect(top.totals == all.totals)
        #expect(top.groupCount == all.rows.count)
    }

    @Test(arguments: ["/static/", "/static/*.css", "*.svg", "/[ab]*"])
    func pathFiltersKeepOnlyMatchingPaths(pattern: String) throws {
        let result = try SampleData.query {
            $0.dimensions = [.path]
            $0.filters.path = pattern
            $0.filters.bots = .include
        }
        let matcher = PathPattern(pattern)
        #expect(!result.rows.isEmpty)
        for row in result.rows {
            guard case .text(let path) = row.keys[0] else {
                Issue.record("path is not text")
                continue
            }
            #expect(matcher.matches(Array(path.utf8)))
        }
    }

    @Test func visitorsAreRefusedWhenTheDataHasNoPseudonyms() throws {
        var query = Query(dataDirectory: SampleData.truncated)
        query.metrics = [.visitors]
        #expect(throws: QueryError.self) { try QueryEngine(query).run() }
        do {
            _ = try QueryEngine(query).run()
        } catch let error as QueryError {
            #expect(error.kind == .unanswerable)
            #expect(error.message.contains("no visitor pseudonyms"))
        }
    }

    @Test func theDefaultRangeIsTheLastSevenDaysWithData() throws {
        let range = DatasetFiles.defaultRange(dataDirectory: SampleData.directory)
        #expect(range == TimeRange(start: SampleData.day("2026-10-28"), end: SampleData.day("2026-11-04")))
    }

    @Test func tableCSVAndJSONMatchTheirGoldenFiles() throws {
        let byDay = try SampleData.query {
            $0.dimensions = [.day]
            $0.metrics = [.hits, .bytes, .visitors]
        }
        try expectGolden(QueryRenderer.table(byDay), "query-by-day.txt")
        let topPaths = try SampleData.query {
            $0.dimensions = [.path]
            $0.top = 10
        }
        try expectGolden(QueryRenderer.table(topPaths), "query-top-paths.txt")
        let statuses = try SampleData.query {
            $0.dimensions = [.statusClass, .device]
            $0.filters.bots = .include
            $0.metrics = [.hits, .bytes]
        }
        try expectGolden(QueryRenderer.csv(statuses), "query-status-device.csv")
        let referrers = try SampleData.query {
            $0.dimensions = [.referrerHost]
            $0.top = 5
            $0.metrics = [.hits, .visitors]
        }
        try expectGolden(QueryRenderer.json(referrers), "query-referrers.json")
    }
}

@Suite struct QueryInputTests {
    static let midnight: Int64 = 1_793_836_800_000
    static let dateCases: [(String, Int64, Bool)] = [
        ("2026-11-05", midnight, true),
        ("2026-11-05T13", midnight + 46_800_000, false),
        ("2026-11-05T13:30", midnight + 48_600_000, false),
        ("2026-11-05 13:30:15Z", midnight + 48_615_000, false),
    ]

    @Test(arguments: dateCases)
    func datesAndTimesParseAsUTC(text: String, milliseconds: Int64, dateOnly: Bool) {
        #expect(QueryDate.parse(text) == QueryDate.Bound(milliseconds: milliseconds, isDateOnly: dateOnly))
    }

    @Test(arguments: ["2026-13-01", "2026-02-30", "26-11-05", "2026-11-05T24", "2026-11-05T10:60", "yesterday", ""])
    func invalidDatesAreRejected(text: String) {
        #expect(QueryDate.parse(text) == nil)
    }

    @Test func aPlainDateToIncludesTheWholeDayAndADateTimeToExcludes() {
        let from = QueryDate.parse("2026-11-05")!
        #expect(QueryDate.range(from: from, to: QueryDate.parse("2026-11-05")!).end == from.milliseconds + 86_400_000)
        #expect(
            QueryDate.range(from: from, to: QueryDate.parse("2026-11-05T12:00")!).end == from.milliseconds + 43_200_000)
    }

    @Test func statusFiltersTakeCodesAndClasses() throws {
        let filter = try #require(StatusFilter(parsing: "404, 5xx"))
        #expect(filter.contains(404) && filter.contains(503) && !filter.contains(200) && !filter.contains(403))
        #expect(filter.overlaps(500, 599) && filter.overlaps(400, 410) && !filter.overlaps(200, 399))
        #expect(StatusFilter(parsing: "4xy") == nil)
        #expect(StatusFilter(parsing: "") == nil)
    }

    static let patternCases: [(String, String, Bool)] = [
        ("/blog/", "/blog/post", true), ("/blog/", "/blo", false), ("/blog/*", "/blog/a/b", true),
        ("*.css", "/a/b.css", true), ("*.css", "/a/b.css.map", false), ("/?", "/a", true), ("/[a-c]x", "/bx", true),
        ("/[!a-c]x", "/bx", false), ("/a*b*c", "/aXbYc", true), ("/a*b*c", "/aXbY", false),
    ]

    @Test(arguments: patternCases)
    func pathPatternsArePrefixesOrGlobs(pattern: String, path: String, matches: Bool) {
        #expect(PathPattern(pattern).matches(Array(path.utf8)) == matches)
    }

    @Test func numbersGetThousandsSeparators() {
        #expect(QueryRenderer.thousands(0) == "0")
        #expect(QueryRenderer.thousands(999) == "999")
        #expect(QueryRenderer.thousands(1000) == "1,000")
        #expect(QueryRenderer.thousands(1_234_567) == "1,234,567")
        #expect(QueryRenderer.thousands(-12_345) == "-12,345")
    }

    @Test func csvAndJSONEscape() {
        #expect(QueryRenderer.csvField("a,b\"c") == "\"a,b\"\"c\"")
        #expect(QueryRenderer.jsonString("a\"\\\n\u{1}") == "\"a\\\"\\\\\\n\\u0001\"")
    }
}

@Suite struct ReportTests {
    static let range = TimeRange(start: SampleData.day("2026-11-01"), end: SampleData.day("2026-11-04"))

    @Test func theMarkdownReportMatchesItsGoldenFile() throws {
        let data = try ReportData.build(dataDirectory: SampleData.directory, range: Self.range, top: 5)
        try expectGolden(MarkdownReport.render(data), "report-sample.md")
    }

    @Test func theReportAgreesWithQueries() throws {
        let data = try ReportData.build(dataDirectory: SampleData.directory, range: Self.range, top: 5)
        let totals = try SampleData.query {
            $0.metrics = [.hits, .bytes, .visitors, .pageviews, .visits, .bounceRate, .visitDuration]
        }
        #expect(totals.totals[0...2] == [Double(data.hits), Double(data.bytes), Double(data.headline.visitors ?? -1)])
        #expect(Double(data.headline.pageviews) == totals.totals[3] && Double(data.headline.visits ?? -1) == totals.totals[4])
        #expect(data.headline.bounceRate == totals.totals[5] && data.headline.visitDuration == totals.totals[6])
        #expect(data.series.map(\.pageviews).reduce(0, +) == data.headline.pageviews)
        #expect(data.series.compactMap(\.visits).reduce(0, +) == data.headline.visits)
        #expect(
            data.rankings.map(\.id) == ["pages", "entries", "referrers", "browsers", "oses", "devices", "statuses"])
        #expect(data.headlineItems.map(\.name) == ["Visitors", "Visits", "Page views", "Bounce rate", "Visit duration"])
        #expect(data.seriesUnit == .day)
        let all = try SampleData.query { $0.filters.bots = .include }
        #expect(Double(data.hits + data.botHits) == all.totals[0])
    }

    @Test func queriesSharingAScanAnswerAsEachAlone() throws {
        func query(_ dimensions: [QueryDimension], _ metrics: [QueryMetric], top: Int? = nil) -> Query {
            var query = Query(dataDirectory: SampleData.directory)
            query.range = Self.range
            query.dimensions = dimensions
            query.metrics = metrics
            query.top = top
            return query
        }
        // Visits and requests over events, grouped and not, and one over hits that is run alone.
        let queries = [
            query([.day], [.pageviews, .visitors, .visits, .bounceRate, .visitDuration, .hits, .bytes]),
            query([.path], [.pageviews, .visitors], top: 5), query([.entryPage], [.visits, .medianVisitDuration]),
            query([.referrerHost], [.visits, .viewsPerVisit]), query([.browser, .device], [.hits, .visitors]),
            query([], [.visitors, .visits]), query([.status], [.hits]),
        ]
        let shared = try QueryEngine.runSharingScan(queries)
        #expect(shared.count == queries.count)
        for (query, result) in zip(queries, shared) {
            let alone = try QueryEngine(query).run()
            // Printed, so that NaN equals NaN.
            #expect("\(result.rows)" == "\(alone.rows)", "\(query.dimensions)")
            #expect("\(result.totals)" == "\(alone.totals)" && result.groupCount == alone.groupCount)
            #expect(result.dataset == alone.dataset && result.scan.rowsScanned == alone.scan.rowsScanned)
        }
    }

    @Test func withoutPseudonymsTheReportLeavesVisitorsOutAndSaysWhy() throws {
        let data = try ReportData.build(dataDirectory: SampleData.truncated, range: Self.range)
        #expect(data.headline.visitors == nil && data.headline.visits == nil)
        #expect(data.notes.contains { $0.contains("Visitors and visits are not shown") })
        #expect(data.headlineItems.map(\.name) == ["Page views"])
        #expect(!data.rankings.contains { $0.id == "entries" })
        let html = HTMLReport.render(data)
        #expect(!html.contains("Visitors</th>") && !html.contains("Visits</th>"))
    }

    @Test func theHTMLIsSelfContainedAndEscapesLogText() throws {
        let data = try ReportData.build(dataDirectory: SampleData.directory, range: Self.range)
        let html = HTMLReport.render(data)
        for needle in ["src=", "href=", "http://", "https://", "url("] { #expect(!html.contains(needle), "\(needle)") }
        #expect(HTMLReport.escape("<a href=\"x\">&'") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;")
    }

    @Test func axesEndOnRoundNumbers() {
        #expect(HTMLReport.niceCeiling(0) == 20)  // the smallest that splits into four whole steps
        #expect(HTMLReport.niceCeiling(3977) == 5000)
        #expect(HTMLReport.niceCeiling(638) == 1000)
        #expect(HTMLReport.niceCeiling(150) == 200)
    }
}

@Suite struct EmptyDataTests {
    @Test func aDirectoryWithoutDataIsAnUnanswerableQuestion() throws {
        let directory = try TestPaths.makeTemporaryDirectory("klogs-query-empty")
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            _ = try QueryEngine(Query(dataDirectory: directory.path)).run()
            Issue.record("expected an error")
        } catch let error as QueryError {
            #expect(error.kind == .unanswerable)
            #expect(error.message.contains("holds no klogs data"))
        }
    }

    @Test func aRangeWithoutDataGivesZeroTotals() throws {
        let result = try SampleData.query {
            $0.range = TimeRange(start: SampleData.day("2025-01-01"), end: SampleData.day("2025-01-02"))
            $0.dimensions = [.day]
        }
        #expect(result.rows.isEmpty)
        #expect(result.totals == [0])
        #expect(result.scan.partitionsRead == 0)
        #expect(QueryRenderer.json(result) == "[]\n")
    }
}
