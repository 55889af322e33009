import Benchmark
import Foundation
import KlogsGenerator
import KlogsIngest
import KlogsQuery

// The analyst metrics over a month of 1M-lines-a-day data (issue 11's target: each answers in under 2 seconds).
//
// The month (30 days from 2026-10-01, 1M generated combined lines a day, one seed per day; about 500 MB of Parquet)
// is ingested once into the temporary directory and kept there for later runs: making it takes a few minutes.

let monthStart: Int64 = 1_790_812_800  // 2026-10-01T00:00:00Z
let monthDays = 30

/// The month's data directory, made on first use (a marker file says it is complete).
nonisolated(unsafe) let monthData: String = {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("klogs-bench-month-v1").path
    let marker = directory + "/.complete"
    if FileManager.default.fileExists(atPath: marker) { return directory }
    try? FileManager.default.removeItem(atPath: directory)
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("klogs-bench-month-day.log").path
    for day in 0..<monthDays {
        var generator = LogGenerator(
            LogGenerator.Configuration(
                lines: 1_000_000, seed: 100 + UInt64(day), startTime: monthStart + Int64(day) * 86_400, days: 1))
        FileManager.default.createFile(atPath: log, contents: Data(generator.generateAll()))
        let configuration = IngestConfiguration(dataDirectory: directory, inputs: [log])
        do {
            _ = try Ingestor(configuration: configuration).run()
        } catch {
            fatalError("ingesting day \(day) of the benchmark month failed: \(error)")
        }
    }
    try? FileManager.default.removeItem(atPath: log)
    FileManager.default.createFile(atPath: marker, contents: Data())
    return directory
}()

/// The whole month as a query range.
let monthRange = TimeRange(start: monthStart * 1000, end: (monthStart + Int64(monthDays) * 86_400) * 1000)

/// Runs one query over the month.
func runMonthQuery(_ dimensions: [QueryDimension], _ metrics: [QueryMetric], top: Int? = nil) throws -> QueryResult {
    var query = Query(dataDirectory: monthData)
    query.range = monthRange
    query.dimensions = dimensions
    query.metrics = metrics
    query.top = top
    return try QueryEngine(query).run()
}

let benchmarks: @Sendable () -> Void = {
    let month = Benchmark.Configuration(
        metrics: [.wallClock, .cpuTotal, .peakMemoryResident],
        timeUnits: .milliseconds, warmupIterations: 1, maxDuration: .seconds(60), maxIterations: 5)

    Benchmark("Month: visits, bounce rate, visit duration, views per visit, page views, visitors",
        configuration: month)
    { benchmark in
        _ = monthData
        benchmark.startMeasurement()
        blackHole(
            try runMonthQuery([], [.visits, .bounceRate, .visitDuration, .viewsPerVisit, .pageviews, .visitors]))
    }

    Benchmark("Month: by path (page views, visitors), top 10", configuration: month) { benchmark in
        _ = monthData
        benchmark.startMeasurement()
        blackHole(try runMonthQuery([.path], [.pageviews, .visitors], top: 10))
    }

    Benchmark("Month: by entry page (visits, bounce rate, visit duration), top 10", configuration: month) {
        benchmark in
        _ = monthData
        benchmark.startMeasurement()
        blackHole(try runMonthQuery([.entryPage], [.visits, .bounceRate, .visitDuration], top: 10))
    }

    Benchmark("Month: report", configuration: month) { benchmark in
        _ = monthData
        benchmark.startMeasurement()
        blackHole(try ReportData.build(dataDirectory: monthData, range: monthRange))
    }
}
