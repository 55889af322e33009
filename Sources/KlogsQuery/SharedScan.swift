import Dispatch
import Foundation
import KlogsIngest
import KlogsParquet

// A day scan reads the events dataset a UTC day at a time: each worker takes whole days, decodes each column of a row
// group once for every query it answers, and finishes the day (cuts visits, counts distinct visitors) before it moves
// on. A visit query runs as a day scan of one query; a report runs its queries over events as one day scan.

extension QueryEngine {
    /// Answers queries, those that read the events dataset with the range and filters of the first such query from
    /// one scan, the others one at a time. Each result is that of ``run()`` for its query.
    ///
    /// - Throws: the first ``QueryError`` of any query.
    public static func runSharingScan(_ queries: [Query]) throws -> [QueryResult] {
        let plans = try queries.map { try QueryEngine($0).plan() }
        let shared = plans.firstIndex { $0.dataset == .events }.map { first in
            queries.indices.filter { index in
                plans[index].dataset == .events && plans[index].range == plans[first].range
                    && queries[index].dataDirectory == queries[first].dataDirectory
                    && queries[index].filters == queries[first].filters
            }
        } ?? []
        var results: [QueryResult?] = Array(repeating: nil, count: queries.count)
        if let first = shared.first {
            let answers = try scanDays(
                shared.map { queries[$0] }, range: plans[first].range, partitions: plans[first].partitions)
            for (index, answer) in zip(shared, answers) { results[index] = answer }
        }
        return try queries.indices.map { index in try results[index] ?? QueryEngine(queries[index]).run() }
    }

    /// Answers queries over the events dataset that share the range and the filters of the first, from one scan of
    /// `partitions` a day at a time.
    static func scanDays(_ queries: [Query], range: TimeRange, partitions: [DatasetFiles.Partition]) throws
        -> [QueryResult]
    {
        let parts = try queries.map { try DayScanPart(query: $0, range: range) }
        let selection = RowSelection(query: queries[0], range: range, dataset: .events)
        let workerCount = max(1, min(partitions.count, ProcessInfo.processInfo.activeProcessorCount, 8))
        let workers = (0..<workerCount).map { _ in DayScanWorker(parts: parts, selection: selection) }
        try shareWork(workerCount: workerCount, itemCount: partitions.count) { worker, item in
            try workers[worker].scan(partitions[item])
        }
        var scan = workers[0].statistics
        for worker in workers.dropFirst() { scan.add(worker.statistics) }
        scan.partitionsRead = partitions.count
        scan.files.sort()
        let sawEvents = workers.contains { $0.sawFiles }
        let sawPseudonyms = workers.contains { $0.sawPseudonyms }
        return try queries.indices.map { index in
            try checkPseudonyms(queries[index], range, sawEvents: sawEvents, sawPseudonyms: sawPseudonyms)
            var part = workers[0].parts[index]
            for worker in workers.dropFirst() { part.merge(worker.parts[index]) }
            return QueryEngine(queries[index]).result(of: part, range: range, scan: scan)
        }
    }

    /// The answer from a query's merged aggregators.
    private func result(of part: DayScanPart, range: TimeRange, scan: ScanStatistics) -> QueryResult {
        if let visits = part.visits {
            return combine(requests: part.requests?.result(), visits: visits, range: range, scan: scan)
        }
        var result = part.requests!.result()  // safe because a part without visits has requests
        result.scan = scan
        return result
    }
}

extension QueryEngine {
    /// Shares `itemCount` items among `workerCount` workers, worker `w` doing items `w`, `w + workerCount`, … in turn
    /// with `work(w, item)` (each worker writes only its own state); a worker stops at its first error, and the error
    /// of the first worker that had one is thrown, as a ``QueryError`` (of kind `unreadable` when it was not one).
    static func shareWork(
        workerCount: Int, itemCount: Int, _ work: @Sendable (_ worker: Int, _ item: Int) throws -> Void
    ) throws {
        let errors = WorkerErrors(count: workerCount)
        DispatchQueue.concurrentPerform(iterations: workerCount) { worker in
            for item in stride(from: worker, to: itemCount, by: workerCount) {
                do {
                    try work(worker, item)
                } catch let error as QueryError {
                    errors.errors[worker] = error
                    return
                } catch {
                    errors.errors[worker] = QueryError(.unreadable, "\(error)")
                    return
                }
            }
        }
        if let error = errors.errors.compactMap({ $0 }).first { throw error }
    }
}

/// Each worker's error, written only by that worker.
private final class WorkerErrors: @unchecked Sendable {
    var errors: [QueryError?]

    init(count: Int) { errors = Array(repeating: nil, count: count) }
}

extension ScanStatistics {
    /// Adds what another worker read (not `partitionsRead`, which the caller knows).
    mutating func add(_ other: ScanStatistics) {
        filesRead += other.filesRead
        files += other.files
        rowGroupsRead += other.rowGroupsRead
        rowGroupsSkipped += other.rowGroupsSkipped
        rowsScanned += other.rowsScanned
    }
}

/// One query's share of a day scan: the aggregator of its request metrics, the aggregator of its visits, or both.
struct DayScanPart {
    var requests: Aggregator?
    var visits: VisitAggregator?

    /// The aggregators a query needs: with visits, the visits give the visit metrics (and every metric by entry or
    /// exit page) and the requests the others.
    ///
    /// - Throws: ``QueryError`` of kind `unanswerable` for request counts by entry or exit page.
    init(query: Query, range: TimeRange) throws {
        guard query.needsVisits else {
            requests = Aggregator(query: query, range: range, dataset: .events)
            return
        }
        let byVisitProperty = query.dimensions.contains(where: \.isVisitProperty)
        if let metric = query.metrics.first(where: { byVisitProperty && ($0 == .hits || $0 == .bytes) }) {
            throw QueryError(
                .unanswerable,
                "--metric \(metric.rawValue) counts requests, which have no entry or exit page; with --by entry_page "
                    + "or exit_page ask for visits, pageviews, visitors, bounce_rate, visit_duration or views_per_visit")
        }
        var requestQuery = query
        requestQuery.metrics = byVisitProperty ? [] : query.metrics.filter { !$0.isVisitMetric }
        requestQuery.top = nil
        requests =
            requestQuery.metrics.isEmpty ? nil : Aggregator(query: requestQuery, range: range, dataset: .events)
        visits = VisitAggregator(query: query, range: range)
    }

    /// Adds the matching rows of a row group.
    mutating func add(_ columns: RowGroupColumns) throws {
        try requests?.addRowGroup(columns)
        try visits?.addRowGroup(columns)
    }

    /// Cuts the day's visits and counts its visitors; `dayVisitors` is the day's distinct visitors of the matching
    /// requests once a part has counted them (every part sees the same rows), and saves the others counting again.
    mutating func finishDay(dayVisitors: inout Int64?, counter: DistinctPairCounter) {
        visits?.finishDay(counter: counter)
        guard let wantsVisitors = requests?.wantsVisitors else { return }
        let counted = requests?.finishDay(knownVisitors: dayVisitors, counter: counter)
        if wantsVisitors { dayVisitors = counted }
    }

    /// Adds another worker's days.
    mutating func merge(_ other: DayScanPart) {
        if let other = other.requests { requests?.merge(other) }
        if let other = other.visits { visits?.merge(other) }
    }
}

/// One worker of a day scan: a part per query and what it read. Each worker writes only its own instance.
private final class DayScanWorker: @unchecked Sendable {
    var parts: [DayScanPart]
    let selection: RowSelection
    var statistics = ScanStatistics()
    /// The buffers every part counts its distinct visitors with, one part after the other.
    private let counter = DistinctPairCounter()
    var sawFiles = false
    var sawPseudonyms = false

    init(parts: [DayScanPart], selection: RowSelection) {
        self.parts = parts
        self.selection = selection
    }

    /// Reads every file of one day partition into every part, then finishes the day.
    func scan(_ partition: DatasetFiles.Partition) throws {
        for path in DatasetFiles.files(in: partition) {
            let reader = try ParquetFileReader(path: path)
            sawFiles = true
            if let mode = reader.metadataValue(forKey: "klogs.ip_mode"), mode.contains("hash") { sawPseudonyms = true }
            statistics.filesRead += 1
            statistics.files.append(path)
            for group in reader.rowGroups.indices {
                if selection.canSkip(reader, group) {
                    statistics.rowGroupsSkipped += 1
                    continue
                }
                let columns = RowGroupColumns(reader: reader, group: group, dataset: .events)
                statistics.rowGroupsRead += 1
                statistics.rowsScanned += columns.rowCount
                for index in parts.indices { try parts[index].add(columns) }
            }
        }
        var dayVisitors: Int64?
        for index in parts.indices { parts[index].finishDay(dayVisitors: &dayVisitors, counter: counter) }
    }
}
