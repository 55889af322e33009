import Foundation
import KlogsIngest
import KlogsTestSupport
import Testing

@testable import KlogsQuery

/// Visits, bounces and durations over hand-built request sequences, ingested as log lines and queried back.
@Suite struct VisitTests {
    static let browser = "Mozilla/5.0 (X11; Linux x86_64; rv:144.0) Gecko/20100101 Firefox/144.0"
    static let crawler = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

    /// One request: who (a visitor number, or a bot), when (`day` of November 2026 and `HH:MM:SS` UTC), what.
    struct Request: Sendable {
        var visitor: Int
        var day = 1
        var time: String
        var path = "/"
        var status = 200
        var bot = false

        /// A combined log line from a documentation address per visitor.
        var line: String {
            let day = day < 10 ? "0\(day)" : "\(day)"
            return "192.0.2.\(visitor) - - [\(day)/Nov/2026:\(time) +0000] \"GET \(path) HTTP/1.1\" \(status) 100 "
                + "\"-\" \"\(bot ? VisitTests.crawler : VisitTests.browser)\"\n"
        }
    }

    /// A case: the requests and the expected visits, bounces, summed durations (seconds) and page views.
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var requests: [Request]
        var visits: Int
        var bounces: Int
        var durationSeconds: Int
        var pageviews: Int
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "a gap of 29 minutes stays in the visit",
            requests: [Request(visitor: 1, time: "10:00:00"), Request(visitor: 1, time: "10:29:00", path: "/a")],
            visits: 1, bounces: 0, durationSeconds: 29 * 60, pageviews: 2),
        Case(
            name: "a gap of exactly 30 minutes stays in the visit",
            requests: [Request(visitor: 1, time: "10:00:00"), Request(visitor: 1, time: "10:30:00", path: "/a")],
            visits: 1, bounces: 0, durationSeconds: 30 * 60, pageviews: 2),
        Case(
            name: "a gap of 31 minutes starts a new visit",
            requests: [Request(visitor: 1, time: "10:00:00"), Request(visitor: 1, time: "10:31:00", path: "/a")],
            visits: 2, bounces: 2, durationSeconds: 0, pageviews: 2),
        Case(
            name: "gaps of 20 minutes chain into one long visit",
            requests: ["10:00:00", "10:20:00", "10:40:00", "11:00:00"].map { Request(visitor: 1, time: $0) },
            visits: 1, bounces: 0, durationSeconds: 3600, pageviews: 4),
        Case(
            name: "midnight ends every visit",
            requests: [
                Request(visitor: 1, day: 1, time: "23:50:00"), Request(visitor: 1, day: 2, time: "00:05:00", path: "/a"),
            ],
            visits: 2, bounces: 2, durationSeconds: 0, pageviews: 2),
        Case(
            name: "bots make no visits",
            requests: [
                Request(visitor: 1, time: "10:00:00", bot: true),
                Request(visitor: 1, time: "10:05:00", path: "/a", bot: true),
            ],
            visits: 0, bounces: 0, durationSeconds: 0, pageviews: 0),
        Case(
            name: "assets and errors neither make nor extend a visit",
            requests: [
                Request(visitor: 1, time: "10:00:00"), Request(visitor: 1, time: "10:10:00", path: "/app.js"),
                Request(visitor: 1, time: "10:20:00", path: "/missing", status: 404),
                Request(visitor: 1, time: "10:35:00", path: "/b"), Request(visitor: 2, time: "10:40:00", path: "/logo.png"),
            ],
            visits: 2, bounces: 2, durationSeconds: 0, pageviews: 2),
        Case(
            name: "interleaved visitors are cut separately",
            requests: [
                Request(visitor: 1, time: "10:00:00"), Request(visitor: 2, time: "10:01:00"),
                Request(visitor: 1, time: "10:10:00", path: "/a"), Request(visitor: 2, time: "10:50:00", path: "/b"),
            ],
            visits: 3, bounces: 2, durationSeconds: 600, pageviews: 4),
        Case(
            name: "lines out of order are put in time order",
            requests: [
                Request(visitor: 1, time: "10:40:00", path: "/c"), Request(visitor: 1, time: "10:00:00"),
                Request(visitor: 1, time: "10:20:00", path: "/b"),
            ],
            visits: 1, bounces: 0, durationSeconds: 2400, pageviews: 3),
    ]

    /// Ingests the requests into a new data directory and returns it.
    static func ingest(_ requests: [Request]) throws -> URL {
        let root = try TestPaths.makeTemporaryDirectory("klogs-visits")
        let log = root.appendingPathComponent("access.log")
        try Data(requests.map(\.line).joined().utf8).write(to: log)
        var configuration = IngestConfiguration(dataDirectory: root.path + "/data", inputs: [log.path])
        configuration.batch.retentionDays = 0
        _ = try Ingestor(configuration: configuration).run()
        return root
    }

    static func query(_ root: URL, _ adjust: (inout Query) -> Void = { _ in }) throws -> QueryResult {
        var query = Query(dataDirectory: root.path + "/data")
        query.range = TimeRange(start: SampleData.day("2026-11-01"), end: SampleData.day("2026-11-03"))
        query.metrics = [.visits, .bounceRate, .visitDuration, .pageviews, .viewsPerVisit]
        adjust(&query)
        return try QueryEngine(query).run()
    }

    @Test(arguments: cases)
    func visitsBouncesAndDurations(_ example: Case) throws {
        let root = try Self.ingest(example.requests)
        defer { try? FileManager.default.removeItem(at: root) }
        let totals = try Self.query(root).totals
        #expect(totals[0] == Double(example.visits))
        #expect(totals[3] == Double(example.pageviews))
        if example.visits == 0 {
            #expect(totals[1].isNaN && totals[2].isNaN && totals[4].isNaN)
        } else {
            #expect(totals[1] == 100 * Double(example.bounces) / Double(example.visits))
            #expect(totals[2] == Double(example.durationSeconds) / Double(example.visits))
            #expect(totals[4] == Double(example.pageviews) / Double(example.visits))
        }
    }

    @Test func entryAndExitPagesAreTheFirstAndLastPageViews() throws {
        let root = try Self.ingest(Self.cases[7].requests)  // interleaved visitors
        defer { try? FileManager.default.removeItem(at: root) }
        func visits(_ dimension: QueryDimension) throws -> [String: Double] {
            let result = try Self.query(root) {
                $0.dimensions = [dimension]
                $0.metrics = [.visits]
            }
            return Dictionary(
                uniqueKeysWithValues: result.rows.map { (QueryRenderer.text($0.keys[0], null: "-"), $0.values[0]) })
        }
        #expect(try visits(.entryPage) == ["/": 2, "/b": 1])
        #expect(try visits(.exitPage) == ["/a": 1, "/": 1, "/b": 1])
        // A visit belongs to the group of its first page view, for every dimension: `path` too.
        #expect(try visits(.path) == ["/": 2, "/b": 1])
    }

    @Test func pageViewsOfOneSecondAreTakenInPathOrder() throws {
        let root = try Self.ingest([
            Request(visitor: 1, time: "10:00:00", path: "/z"), Request(visitor: 1, time: "10:00:00", path: "/m"),
            Request(visitor: 1, time: "10:05:00", path: "/b"), Request(visitor: 1, time: "10:05:00", path: "/y"),
        ])
        defer { try? FileManager.default.removeItem(at: root) }
        let entry = try Self.query(root) {
            $0.dimensions = [.entryPage, .exitPage]
            $0.metrics = [.visits]
        }
        #expect(entry.rows.map(\.keys) == [[.text("/m"), .text("/y")]])
    }

    @Test func theMedianDurationIsTheMiddleVisit() throws {
        let root = try Self.ingest([
            Request(visitor: 1, time: "10:00:00"),  // 0 s
            Request(visitor: 2, time: "10:00:00"), Request(visitor: 2, time: "10:10:00"),  // 600 s
            Request(visitor: 3, time: "10:00:00"), Request(visitor: 3, time: "10:30:00"),  // 1800 s
        ])
        defer { try? FileManager.default.removeItem(at: root) }
        let result = try Self.query(root) { $0.metrics = [.medianVisitDuration, .visitDuration] }
        #expect(result.totals == [600, 800])
        #expect(VisitStats.median([4, 1, 3, 2]) == 2.5 && VisitStats.median([]) == nil)
    }

    @Test func aShorterTimeoutCutsMoreVisits() throws {
        let root = try Self.ingest(Self.cases[0].requests)  // a gap of 29 minutes
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try Self.query(root) { $0.visitTimeout = 10 * 60_000 }.totals[0] == 2)
    }

    @Test func visitsAreRefusedWithoutPseudonyms() throws {
        do {
            var query = Query(dataDirectory: SampleData.truncated)
            query.range = TimeRange(start: SampleData.day("2026-11-01"), end: SampleData.day("2026-11-04"))
            query.metrics = [.visits]
            _ = try QueryEngine(query).run()
            Issue.record("expected an error")
        } catch let error as QueryError {
            #expect(error.kind == .unanswerable)
            #expect(error.message.contains("cannot be joined into visits"))
        }
    }

    @Test func metricsAreRenderedForPeopleAndForTools() {
        #expect(QueryRenderer.tableText(43.75, .bounceRate) == "43.8%")
        #expect(QueryRenderer.tableText(65, .visitDuration) == "1m 05s")
        #expect(QueryRenderer.tableText(3725, .visitDuration) == "1h 02m")
        #expect(QueryRenderer.tableText(.nan, .viewsPerVisit) == "-")
        #expect(QueryRenderer.plainText(1.0 / 3, .viewsPerVisit) == "0.333")
        #expect(QueryRenderer.plainText(1234, .pageviews) == "1234")
        #expect(QueryRenderer.plainText(.nan, .bounceRate) == nil)
    }
}
