import Dispatch
import Foundation
import KlogsCore
import KlogsIngest
import KlogsParquet

/// One value of a dimension in a result row.
public enum QueryValue: Sendable, Hashable {
    case text(String)
    case number(Int64)
    case null
}

/// The answer to a ``Query``.
public struct QueryResult: Sendable {
    /// One group: its dimension values and metric values, in the query's orders.
    public struct Row: Sendable, Hashable {
        public var keys: [QueryValue]
        /// The metric values: counts are whole numbers; a mean or percentage without visits is NaN.
        public var values: [Double]

        public init(keys: [QueryValue], values: [Double]) {
            self.keys = keys
            self.values = values
        }
    }

    public var dimensions: [QueryDimension]
    public var metrics: [QueryMetric]
    public var range: TimeRange
    /// The dataset the answer was computed from.
    public var dataset: DatasetName
    /// The groups, ordered (see ``QueryEngine``).
    public var rows: [Row]
    /// The metrics over every matching request, including groups cut by `top`.
    public var totals: [Double]
    /// The number of groups before `top`.
    public var groupCount: Int
    public var scan: ScanStatistics
}

/// What a query read and what it skipped.
public struct ScanStatistics: Sendable, Hashable {
    public var partitionsRead = 0
    public var filesRead = 0
    public var rowGroupsRead = 0
    /// Row groups ruled out by their min/max statistics without decoding a page.
    public var rowGroupsSkipped = 0
    public var rowsScanned = 0
    /// The files read, for checks that pruning works.
    public var files: [String] = []

    public var summary: String {
        "\(partitionsRead) partitions, \(filesRead) files, \(rowGroupsRead) row groups read, "
            + "\(rowGroupsSkipped) skipped by statistics, \(rowsScanned) rows scanned"
    }
}

/// Answers a ``Query`` by scanning the dataset.
///
/// The engine reads `hits` unless the query needs `events` (visitors, referrer hosts, or a range that does not
/// start and end on whole hours). It lists only the partitions in range, skips row groups whose statistics rule
/// them out, and aggregates on dictionary indices: each string column's dictionary is looked at once per row group,
/// rows are grouped on integers.
///
/// Rows are ordered by their dimension values (dates ascending, nulls last) or, with `top`, by the first metric
/// descending and then by dimension values.
public struct QueryEngine {
    public let query: Query

    public init(_ query: Query) {
        self.query = query
    }

    /// Runs the query.
    ///
    /// - Throws: ``QueryError`` of kind `unanswerable` when the data cannot answer (no pseudonyms for visitors, no
    ///   events dataset), `unreadable` when a file is damaged.
    public func run() throws -> QueryResult {
        let (range, dataset, partitions) = try plan()
        if query.needsVisits { return try Self.scanDays([query], range: range, partitions: partitions)[0] }
        return try scanRequests(range: range, dataset: dataset, partitions: partitions)
    }

    /// The range (the query's, else the default), the dataset to read and its partitions in range.
    ///
    /// - Throws: ``QueryError`` of kind `unanswerable` when there is no data, or the query needs the events dataset
    ///   and there is none.
    func plan() throws -> (range: TimeRange, dataset: DatasetName, partitions: [DatasetFiles.Partition]) {
        guard let range = query.range ?? DatasetFiles.defaultRange(dataDirectory: query.dataDirectory) else {
            throw QueryError(
                .unanswerable,
                "\(query.dataDirectory) holds no klogs data (no hits/date=… or events/date=… partitions); "
                    + "run klogs ingest first, or name the data directory with --data or $KLOGS_DATA")
        }
        let dataset: DatasetName = query.needsEvents(range: range) ? .events : .hits
        let files = DatasetFiles(dataDirectory: query.dataDirectory, dataset: dataset)
        if dataset == .events && !files.exists
            && DatasetFiles(dataDirectory: query.dataDirectory, dataset: .hits).exists
        {
            throw QueryError(
                .unanswerable,
                Self.eventsReason(query, range) + ", but this data directory has no events "
                    + "dataset (it was ingested with --no-events); use whole hours and leave out visitors and referrer_host"
            )
        }
        return (range, dataset, files.partitions(in: range))
    }

    /// Answers a query without visits.
    private func scanRequests(range: TimeRange, dataset: DatasetName, partitions: [DatasetFiles.Partition]) throws
        -> QueryResult
    {
        // Work is shared by up to one worker per core, each with its own aggregator; the results are merged. Distinct
        // visitors are counted a day at a time, so with visitors a work item is a whole day; otherwise a file.
        let items: [[String]] =
            query.metrics.contains(.visitors)
            ? partitions.map(DatasetFiles.files(in:)) : partitions.flatMap(DatasetFiles.files(in:)).map { [$0] }
        let workerCount = max(1, min(items.count, ProcessInfo.processInfo.activeProcessorCount, 8))
        let slots = (0..<workerCount).map { _ in WorkerSlot(Aggregator(query: query, range: range, dataset: dataset)) }
        try Self.shareWork(workerCount: workerCount, itemCount: items.count) { worker, item in
            for path in items[item] { try slots[worker].add(path) }
            slots[worker].aggregator.finishDay()
        }
        var aggregator = slots[0].aggregator
        for slot in slots.dropFirst() { aggregator.merge(slot.aggregator) }
        aggregator.scan.partitionsRead = partitions.count
        aggregator.scan.files.sort()
        let sawEvents = slots.contains { $0.sawFiles }
        let sawPseudonyms = slots.contains { $0.sawPseudonyms }
        try Self.checkPseudonyms(query, range, sawEvents: sawEvents, sawPseudonyms: sawPseudonyms)
        return aggregator.result()
    }

    /// Refuses visitors and visits when the files read hold no pseudonyms (truncate or drop mode).
    static func checkPseudonyms(_ query: Query, _ range: TimeRange, sawEvents: Bool, sawPseudonyms: Bool) throws {
        guard sawEvents && !sawPseudonyms else { return }
        if query.needsVisits {
            throw QueryError(
                .unanswerable,
                "the data from \(range) has no visitor pseudonyms: it was ingested with --ip-mode truncate or drop, "
                    + "so requests cannot be joined into visits (a truncated network is shared by many people); ask "
                    + "for pageviews, hits or bytes instead (docs/METRICS.md)")
        }
        if query.metrics.contains(.visitors) {
            throw QueryError(
                .unanswerable,
                "the data from \(range) has no visitor pseudonyms: it was ingested with --ip-mode truncate or drop, "
                    + "so visitors cannot be counted; ask for hits or bytes instead")
        }
    }

    private static func eventsReason(_ query: Query, _ range: TimeRange) -> String {
        if query.needsVisits { return "visits are built from the events dataset" }
        if query.metrics.contains(.visitors) { return "visitors are counted from the events dataset" }
        if query.dimensions.contains(.referrerHost) { return "referrer hosts are kept only in the events dataset" }
        return "the range \(range) does not start and end on whole hours, which needs the events dataset"
    }
}

/// One worker's aggregator and what it saw; each worker writes only its own slot.
final class WorkerSlot: @unchecked Sendable {
    var aggregator: Aggregator
    var sawFiles = false
    var sawPseudonyms = false

    init(_ aggregator: Aggregator) { self.aggregator = aggregator }

    /// Opens a file and adds its matching rows.
    func add(_ path: String) throws {
        let reader = try ParquetFileReader(path: path)
        sawFiles = true
        if let mode = reader.metadataValue(forKey: "klogs.ip_mode"), mode.contains("hash") { sawPseudonyms = true }
        aggregator.scan.filesRead += 1
        aggregator.scan.files.append(path)
        try aggregator.add(reader)
    }
}

/// Bytes as a dictionary key, hashed in one bulk call rather than byte by byte.
struct ByteKey: Hashable {
    var bytes: [UInt8]

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

/// Interned strings of one dimension; id 0 is null.
struct StringTable {
    var ids: [ByteKey: Int32] = [:]
    var values: [String?] = [nil]

    mutating func id(_ bytes: ArraySlice<UInt8>) -> Int32 {
        let key = ByteKey(bytes: Array(bytes))
        if let id = ids[key] { return id }
        let id = Int32(values.count)
        ids[key] = id
        values.append(String(decoding: key.bytes, as: UTF8.self))
        return id
    }
}

/// A group key: one global id per dimension (day number, hour number, status, class digit, or string id).
struct GroupKey: Hashable {
    var ids = SIMD16<Int32>()

    subscript(index: Int) -> Int32 {
        get { ids[index] }
        set { ids[index] = newValue }
    }

    static func == (left: GroupKey, right: GroupKey) -> Bool { left.ids == right.ids }

    func hash(into hasher: inout Hasher) {
        withUnsafeBytes(of: ids) { hasher.combine(bytes: $0) }
    }
}

/// Group numbers by group key.
///
/// A query with one dimension (every report query, most others) looks its groups up in an array indexed by the
/// dimension's id: string ids, statuses and class digits are small, and day and hour numbers are counted from the
/// range's start. Other keys go to a dictionary. A visit query looks up a group for every visit, and hashing the
/// 64-byte key took a third of its time.
struct GroupIndex {
    /// The id that `dense[0]` stands for.
    private let base: Int
    private let isDense: Bool
    /// Per id from `base`, the group number, or -1.
    private var dense: [Int32] = []
    private var sparse: [GroupKey: Int32] = [:]
    /// Ids past this many from `base` go to `sparse`, so a stray value never makes a huge array.
    private static let denseLimit = 1 << 22

    init(dimensions: [QueryDimension], range: TimeRange) {
        isDense = dimensions.count == 1
        switch dimensions.first {
        case .day?: base = Int(range.start / 86_400_000)
        case .hour?: base = Int(range.start / 3_600_000)
        default: base = 0
        }
    }

    /// The position of a key in `dense`, or nil when it belongs in `sparse`.
    @inline(__always)
    private func position(_ key: GroupKey) -> Int? {
        guard isDense else { return nil }
        let position = Int(key[0]) - base
        return position >= 0 && position < Self.denseLimit ? position : nil
    }

    subscript(key: GroupKey) -> Int32? {
        get {
            guard let position = position(key) else { return sparse[key] }
            return position < dense.count && dense[position] >= 0 ? dense[position] : nil
        }
        set {
            guard let position = position(key) else {
                sparse[key] = newValue
                return
            }
            if position >= dense.count { dense += repeatElement(-1, count: position + 1 - dense.count) }
            dense[position] = newValue ?? -1
        }
    }
}

/// The per-dimension local ids of one row group's rows and how to turn them into global ids.
private struct LocalColumn {
    enum Kind {
        /// `local - 1` indexes the dictionary; 0 is null.
        case strings(dictionary: StringColumn)
        /// `local + base` is the value.
        case offset(base: Int64)
    }

    var kind: Kind
    /// Per row, `ids[row] + shift` is the local id.
    var ids: [Int32]
    var shift: Int32 = 0
    var cardinality: Int
}

/// Accumulates groups over row groups.
struct Aggregator {
    let query: Query
    let range: TimeRange
    let dataset: DatasetName
    var scan = ScanStatistics()

    var tables: [StringTable]
    var groupIndex: GroupIndex
    var keys: [GroupKey] = []
    var hits: [Int64] = []
    var bytes: [Int64] = []
    var pageviews: [Int64] = []
    var totalHits: Int64 = 0
    var totalPageviews: Int64 = 0
    var totalBytes: Int64 = 0
    /// Distinct visitors per group and in total: the day's (group, pseudonym) pairs are collected and counted by
    /// ``finishDay()`` (see VisitorSets.swift).
    var visitors: [Int64] = []
    var totalVisitors: Int64 = 0
    private var dayVisitors = DayVisitorCounter()
    let wantsVisitors: Bool
    let wantsPageviews: Bool

    init(query: Query, range: TimeRange, dataset: DatasetName) {
        self.query = query
        self.range = range
        self.dataset = dataset
        tables = Array(repeating: StringTable(), count: query.dimensions.count)
        groupIndex = GroupIndex(dimensions: query.dimensions, range: range)
        wantsVisitors = query.metrics.contains(.visitors)
        wantsPageviews = query.metrics.contains(.pageviews)
    }

    private var selection: RowSelection { RowSelection(query: query, range: range, dataset: dataset) }

    /// Adds every row group of a file that may hold matching rows.
    mutating func add(_ reader: ParquetFileReader) throws {
        for group in reader.rowGroups.indices {
            if selection.canSkip(reader, group) {
                scan.rowGroupsSkipped += 1
                continue
            }
            scan.rowGroupsRead += 1
            try addRowGroup(reader, group)
        }
    }

    private mutating func addRowGroup(_ reader: ParquetFileReader, _ group: Int) throws {
        try addRowGroup(RowGroupColumns(reader: reader, group: group, dataset: dataset))
    }

    /// Adds the matching rows of a row group (its columns may be shared with a ``VisitAggregator``).
    mutating func addRowGroup(_ columns: RowGroupColumns) throws {
        let rowCount = columns.rowCount
        guard rowCount > 0 else { return }
        scan.rowsScanned += rowCount
        let needsTime = query.dimensions.contains(.day) || query.dimensions.contains(.hour)
        let (keep, times) = try columns.matchingRows(selection, needsTimes: needsTime)
        func column(_ name: String) throws -> ColumnValues { try columns.column(name) }

        // Local ids per dimension.
        var locals: [LocalColumn] = []
        for dimension in query.dimensions {
            switch dimension {
            case .day, .hour:
                let unit: Int64 = dimension == .day ? 86_400_000 : 3_600_000
                var low = Int64.max
                var high = Int64.min
                for time in times {
                    low = min(low, time / unit)
                    high = max(high, time / unit)
                }
                var ids = [Int32](repeating: 0, count: rowCount)
                for row in 0..<rowCount { ids[row] = Int32(times[row] / unit - low) }
                locals.append(LocalColumn(kind: .offset(base: low), ids: ids, cardinality: Int(high - low + 1)))
            case .status, .statusClass:
                guard case .int32(let statuses, _) = try column("status") else { return }
                let divisor: Int32 = dimension == .status ? 1 : 100
                var low = Int32.max
                var high = Int32.min
                for status in statuses {
                    low = min(low, status / divisor)
                    high = max(high, status / divisor)
                }
                var ids = [Int32](repeating: 0, count: rowCount)
                for row in 0..<rowCount { ids[row] = statuses[row] / divisor - low }
                locals.append(LocalColumn(kind: .offset(base: Int64(low)), ids: ids, cardinality: Int(high - low) + 1))
            default:
                let (dictionary, indices) = RowSelection.dictionary(try column(dimension.columnName))
                locals.append(
                    LocalColumn(
                        kind: .strings(dictionary: dictionary), ids: indices, shift: 1,
                        cardinality: dictionary.count + 1))
            }
        }

        // Metric columns.
        let hitCounts: [Int64] = dataset == .hits ? RowSelection.int64s(try column("hits")) : []
        let byteCounts: [Int64] =
            query.metrics.contains(.bytes) || dataset == .hits ? RowSelection.int64s(try column("bytes")) : []
        var visitorValues: [Int64] = []
        var visitorValidity: [Bool]? = nil
        if wantsVisitors, case .int64(let values, let validity) = try column("visitor") {
            visitorValues = values
            visitorValidity = validity
        }
        let wantsBytes = !byteCounts.isEmpty
        let isPage: [Bool] = wantsPageviews ? try columns.pageRows() : []

        // Mixed-radix local keys; a dense table maps them to global groups when small enough.
        var strides: [Int] = []
        var product = 1
        var dense = true
        for local in locals {
            strides.append(product)
            let (next, overflow) = product.multipliedReportingOverflow(by: max(local.cardinality, 1))
            if overflow || next > 1 << 22 { dense = false }
            product = overflow ? Int.max : next
        }
        var denseGroups = dense ? [Int32](repeating: -1, count: product) : []
        var sparseGroups: [Int: Int32] = [:]
        var localToGlobal: [[Int32]] = locals.map { local in
            if case .strings = local.kind { return [Int32](repeating: -1, count: local.cardinality) }
            return []
        }
        let dimensionCount = locals.count

        // Each kept row's group (-1 for a row left out), then the sums over them, a metric at a time.
        var rowGroups = [Int32](repeating: -1, count: rowCount)
        if dimensionCount == 0 {
            // One group, made by the first kept row.
            for row in 0..<rowCount where keep[row] {
                if keys.isEmpty { _ = newGroup(GroupKey()) }
                rowGroups[row] = 0
            }
        } else {
            let singleIds = dimensionCount == 1 ? locals[0].ids : []
            let singleShift = dimensionCount == 1 ? Int(locals[0].shift) : 0
            for row in 0..<rowCount where keep[row] {
                var localKey = 0
                if dimensionCount == 1 {
                    localKey = Int(singleIds[row]) &+ singleShift
                } else {
                    for dimension in 0..<dimensionCount {
                        localKey &+=
                            (Int(locals[dimension].ids[row]) &+ Int(locals[dimension].shift)) &* strides[dimension]
                    }
                }
                var groupId = dense ? denseGroups[localKey] : sparseGroups[localKey] ?? -1
                if groupId < 0 {
                    var key = GroupKey()
                    for dimension in 0..<dimensionCount {
                        let local = locals[dimension].ids[row] &+ locals[dimension].shift
                        switch locals[dimension].kind {
                        case .offset(let base): key[dimension] = Int32(Int64(local) + base)
                        case .strings(let dictionary):
                            var global = localToGlobal[dimension][Int(local)]
                            if global < 0 {
                                global = local == 0 ? 0 : tables[dimension].id(dictionary[Int(local) - 1])
                                localToGlobal[dimension][Int(local)] = global
                            }
                            key[dimension] = global
                        }
                    }
                    groupId = groupIndex[key] ?? newGroup(key)
                    if dense { denseGroups[localKey] = groupId } else { sparseGroups[localKey] = groupId }
                }
                rowGroups[row] = groupId
            }
        }
        let isHits = dataset == .hits
        totalHits &+= Self.addUp(rowGroups, into: &hits) { isHits ? hitCounts[$0] : 1 }
        if wantsBytes { totalBytes &+= Self.addUp(rowGroups, into: &bytes) { byteCounts[$0] } }
        if wantsPageviews {
            totalPageviews &+= Self.addUp(rowGroups, into: &pageviews) { isPage[$0] ? (isHits ? hitCounts[$0] : 1) : 0 }
        }
        if wantsVisitors && !visitorValues.isEmpty {
            dayVisitors.add(groups: rowGroups, visitors: visitorValues, validity: visitorValidity)
        }
    }

    /// Adds `value(row)` of every row with a group (not -1) to that group's sum, and returns the sum of them all.
    @inline(__always)
    private static func addUp(_ rowGroups: [Int32], into sums: inout [Int64], _ value: (Int) -> Int64) -> Int64 {
        var total: Int64 = 0
        sums.withUnsafeMutableBufferPointer { sums in
            rowGroups.withUnsafeBufferPointer { groups in
                for row in groups.indices where groups[row] >= 0 {
                    let amount = value(row)
                    sums[Int(groups[row])] &+= amount
                    total &+= amount
                }
            }
        }
        return total
    }

    /// Makes a group with zero sums and returns its number.
    private mutating func newGroup(_ key: GroupKey) -> Int32 {
        let group = Int32(keys.count)
        groupIndex[key] = group
        keys.append(key)
        hits.append(0)
        bytes.append(0)
        pageviews.append(0)
        visitors.append(0)
        return group
    }

    /// Counts the distinct visitors of a finished UTC day and forgets them: a pseudonym belongs to one day, so the
    /// visitors of the days add up. A query with visitors must give each day to one aggregator whole and call this
    /// after it.
    ///
    /// - Parameters:
    ///   - knownVisitors: the day's distinct visitors, when another aggregator with visitors counted them from the
    ///     same rows (they do not depend on the groups): they are not counted again.
    ///   - counter: the thread's shared counting buffers (see ``DistinctPairCounter``), if any.
    /// - Returns: the day's distinct visitors (0 without visitors).
    @discardableResult
    mutating func finishDay(knownVisitors: Int64? = nil, counter: DistinctPairCounter? = nil) -> Int64 {
        // Without dimensions the one group is the total.
        let day =
            query.dimensions.isEmpty
            ? dayVisitors.finishDay(counter: counter)
            : dayVisitors.finishDay(groupCounts: &visitors, knownTotal: knownVisitors, counter: counter)
        totalVisitors += day
        return day
    }

    /// Adds the groups and totals of another aggregator of the same query (another worker's share of the files, and
    /// with visitors another worker's days).
    mutating func merge(_ other: Aggregator) {
        for (otherGroup, otherKey) in other.keys.enumerated() {
            var key = GroupKey()
            for (index, dimension) in query.dimensions.enumerated() {
                switch dimension {
                case .day, .hour, .status, .statusClass: key[index] = otherKey[index]
                default:
                    let value = other.tables[index].values[Int(otherKey[index])]
                    key[index] = value.map { tables[index].id(Array($0.utf8)[...]) } ?? 0
                }
            }
            let group = Int(groupIndex[key] ?? newGroup(key))
            hits[group] &+= other.hits[otherGroup]
            pageviews[group] &+= other.pageviews[otherGroup]
            bytes[group] &+= other.bytes[otherGroup]
            visitors[group] &+= other.visitors[otherGroup]
        }
        totalHits &+= other.totalHits
        totalBytes &+= other.totalBytes
        totalPageviews &+= other.totalPageviews
        totalVisitors &+= other.totalVisitors
        scan.add(other.scan)
    }

    /// The value of one dimension of a key.
    private func value(_ dimension: QueryDimension, _ id: Int32, table: Int) -> QueryValue {
        Self.dimensionValue(dimension, id, table: tables[table])
    }

    /// The value of a dimension from its id: a day or hour number, a status or class digit, or a string id.
    static func dimensionValue(_ dimension: QueryDimension, _ id: Int32, table: StringTable) -> QueryValue {
        switch dimension {
        case .day: .text(Timestamp.dateText(dayNumber: Int(id)))
        case .hour: .text(QueryValueFormat.dateTime(Int64(id) * 3_600_000))
        case .status: .number(Int64(id))
        case .statusClass: .text("\(id)xx")
        default: table.values[Int(id)].map(QueryValue.text) ?? .null
        }
    }

    /// The value of a request metric for a group (visit metrics come from ``VisitAggregator``).
    func metricValue(_ metric: QueryMetric, _ group: Int) -> Double {
        switch metric {
        case .hits: Double(hits[group])
        case .bytes: Double(bytes[group])
        case .visitors:
            query.dimensions.isEmpty ? totalValue(.visitors) : Double(visitors[group])
        case .pageviews: Double(pageviews[group])
        default: 0
        }
    }

    /// The value of a request metric over every matching request.
    func totalValue(_ metric: QueryMetric) -> Double {
        switch metric {
        case .hits: Double(totalHits)
        case .bytes: Double(totalBytes)
        case .visitors: Double(totalVisitors)
        case .pageviews: Double(totalPageviews)
        default: 0
        }
    }

    /// Orders two keys by their dimension values: numbers and dates ascending, strings by bytes, nulls last.
    private func keyPrecedes(_ left: GroupKey, _ right: GroupKey) -> Bool {
        for (index, dimension) in query.dimensions.enumerated() where left[index] != right[index] {
            switch dimension {
            case .day, .hour, .status, .statusClass: return left[index] < right[index]
            default:
                let leftValue = tables[index].values[Int(left[index])]
                let rightValue = tables[index].values[Int(right[index])]
                guard let leftValue else { return false }
                guard let rightValue else { return true }
                return leftValue.utf8.lexicographicallyPrecedes(rightValue.utf8)
            }
        }
        return false
    }

    func result() -> QueryResult {
        var order = Array(keys.indices)
        if let top = query.top {
            let first = query.metrics.first ?? .hits
            let sortValues: [Double] = order.map { metricValue(first, $0) }
            order.sort { left, right in
                if sortValues[left] != sortValues[right] { return sortValues[left] > sortValues[right] }
                return keyPrecedes(keys[left], keys[right])
            }
            order = Array(order.prefix(max(top, 0)))
        } else {
            order.sort { keyPrecedes(keys[$0], keys[$1]) }
        }
        let rows = order.map { group in
            QueryResult.Row(
                keys: query.dimensions.enumerated().map { value($1, keys[group][$0], table: $0) },
                values: query.metrics.map { metricValue($0, group) })
        }
        let totals = query.metrics.map(totalValue)
        return QueryResult(
            dimensions: query.dimensions, metrics: query.metrics, range: range, dataset: dataset, rows: rows,
            totals: totals, groupCount: keys.count, scan: scan)
    }
}

extension QueryDimension {
    /// The Parquet column holding a string dimension.
    var columnName: String {
        switch self {
        case .referrerHost: "referrer_host"
        default: rawValue
        }
    }
}

/// A `--path` filter: a prefix, or a glob when the pattern contains `*`, `?` or `[`.
///
/// In a glob, `*` matches any run of bytes including `/`, `?` one byte, `[abc]` / `[a-z]` / `[!a]` one byte of a set;
/// the glob must match the whole path.
public struct PathPattern: Sendable {
    let pattern: [UInt8]
    let isGlob: Bool

    public init(_ text: String) {
        pattern = Array(text.utf8)
        isGlob = Self.isGlob(text)
    }

    public static func isGlob(_ text: String) -> Bool {
        text.utf8.contains { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") }
    }

    public func matches(_ path: some Collection<UInt8>) -> Bool {
        let path = Array(path)
        return isGlob ? Self.glob(pattern[...], path[...]) : path.starts(with: pattern)
    }

    private static func glob(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>) -> Bool {
        var p = pattern.startIndex
        var t = text.startIndex
        var starP = -1
        var starT = -1
        while t < text.endIndex {
            if p < pattern.endIndex && pattern[p] == UInt8(ascii: "*") {
                starP = p
                starT = t
                p += 1
                continue
            }
            if p < pattern.endIndex, let next = single(pattern, p, text[t]) {
                p = next
                t += 1
                continue
            }
            if starP >= 0 {
                p = starP + 1
                starT += 1
                t = starT
                continue
            }
            return false
        }
        while p < pattern.endIndex && pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.endIndex
    }

    /// Matches one byte at pattern position `p`; returns the next pattern position, or nil.
    private static func single(_ pattern: ArraySlice<UInt8>, _ p: Int, _ byte: UInt8) -> Int? {
        switch pattern[p] {
        case UInt8(ascii: "?"): return p + 1
        case UInt8(ascii: "["):
            var index = p + 1
            var negate = false
            if index < pattern.endIndex && (pattern[index] == UInt8(ascii: "!") || pattern[index] == UInt8(ascii: "^"))
            {
                negate = true
                index += 1
            }
            var matched = false
            var first = true
            while index < pattern.endIndex && (first || pattern[index] != UInt8(ascii: "]")) {
                first = false
                let low = pattern[index]
                if index + 2 < pattern.endIndex && pattern[index + 1] == UInt8(ascii: "-")
                    && pattern[index + 2] != UInt8(ascii: "]")
                {
                    if low <= byte && byte <= pattern[index + 2] { matched = true }
                    index += 3
                } else {
                    if low == byte { matched = true }
                    index += 1
                }
            }
            guard index < pattern.endIndex else { return pattern[p] == byte ? p + 1 : nil }  // no closing ]: literal
            return matched != negate ? index + 1 : nil
        default:
            return pattern[p] == byte ? p + 1 : nil
        }
    }
}
