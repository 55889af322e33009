import Dispatch
import Foundation
import KlogsCore
import KlogsIngest
import KlogsParquet

// Visits (docs/METRICS.md): a visit is a run of one visitor's page views on one UTC day with no gap over the visit
// timeout. Pseudonyms never cross a UTC day, so days are independent: each worker of a day scan (SharedScan.swift)
// takes whole days, reads every file of a day once (request metrics and page views from the same decoded columns),
// and cuts the day's page views into visits before it moves on.

extension QueryEngine {
    /// Joins the request metrics and the visit metrics of each group, then orders and cuts the groups.
    func combine(requests: QueryResult?, visits: VisitAggregator, range: TimeRange, scan: ScanStatistics)
        -> QueryResult
    {
        let byVisitProperty = query.dimensions.contains(where: \.isVisitProperty)
        func fromVisits(_ metric: QueryMetric) -> Bool {
            metric.isVisitMetric || byVisitProperty || requests == nil
        }
        let requestPositions = requests.map { result in
            Dictionary(uniqueKeysWithValues: result.metrics.enumerated().map { ($1, $0) })
        } ?? [:]
        var index: [[QueryValue]: Int] = [:]
        var keys: [[QueryValue]] = []
        var requestRows: [Int?] = []
        var visitGroups: [Int?] = []
        func slot(_ key: [QueryValue]) -> Int {
            if let existing = index[key] { return existing }
            index[key] = keys.count
            keys.append(key)
            requestRows.append(nil)
            visitGroups.append(nil)
            return keys.count - 1
        }
        for (row, value) in (requests?.rows ?? []).enumerated() { requestRows[slot(value.keys)] = row }
        for group in visits.keys.indices { visitGroups[slot(visits.keyValues(group))] = group }

        func value(_ metric: QueryMetric, _ position: Int) -> Double {
            if fromVisits(metric) {
                return visitGroups[position].map { visits.value(metric, group: $0) } ?? (metric.isCount ? 0 : .nan)
            }
            guard let row = requestRows[position], let column = requestPositions[metric] else { return 0 }
            return requests?.rows[row].values[column] ?? 0
        }
        var rows = keys.indices.map { position in
            QueryResult.Row(keys: keys[position], values: query.metrics.map { value($0, position) })
        }
        rows = QueryResult.ordered(rows, dimensions: query.dimensions, top: query.top)
        let totals = query.metrics.map { metric in
            fromVisits(metric)
                ? visits.total(metric) : requestPositions[metric].flatMap { requests?.totals[$0] } ?? 0
        }
        return QueryResult(
            dimensions: query.dimensions, metrics: query.metrics, range: range, dataset: .events, rows: rows,
            totals: totals, groupCount: keys.count, scan: scan)
    }
}

extension QueryResult {
    /// Orders rows by their dimension values (numbers and dates ascending, strings by bytes, nulls last), or with
    /// `top` by the first metric from largest to smallest (NaN last), then by values, and keeps `top` rows.
    static func ordered(_ rows: [Row], dimensions: [QueryDimension], top: Int?) -> [Row] {
        func keyPrecedes(_ left: Row, _ right: Row) -> Bool {
            for (leftValue, rightValue) in zip(left.keys, right.keys) where leftValue != rightValue {
                switch (leftValue, rightValue) {
                case (.null, _): return false
                case (_, .null): return true
                case (.number(let a), .number(let b)): return a < b
                case (.text(let a), .text(let b)): return a.utf8.lexicographicallyPrecedes(b.utf8)
                case (.number, .text): return true
                case (.text, .number): return false
                }
            }
            return false
        }
        guard let top else { return rows.sorted(by: keyPrecedes) }
        let sorted = rows.sorted { left, right in
            let a = left.values.first ?? 0
            let b = right.values.first ?? 0
            if a != b && !(a.isNaN && b.isNaN) {
                if a.isNaN { return false }
                if b.isNaN { return true }
                return a > b
            }
            return keyPrecedes(left, right)
        }
        return Array(sorted.prefix(max(top, 0)))
    }
}

/// Cuts page views into visits and adds each visit to the group of its entry page view.
///
/// Page views of one day are collected column by column (visitor, time, and one id per grouping dimension), put in
/// time order, and walked once: an open-addressing table maps each visitor to its open visit, which closes when the
/// next page view comes more than the timeout later (or at the end of the day). Each visit belongs to the group of
/// its first page view (`exit_page` takes its last); among page views of the same second, the first and last are
/// taken in path order, so the answer does not depend on file order.
struct VisitAggregator {
    let query: Query
    let range: TimeRange

    // String ids: one table per dimension; `paths` holds the paths of page views (entry and exit pages, ties).
    private var tables: [StringTable]
    private var paths = StringTable()
    private let needsPaths: Bool
    private let wantsDurations: Bool
    private let wantsVisitors: Bool

    // The day's page views.
    private var viewVisitors: [Int64] = []
    private var viewTimes: [Int64] = []
    private var viewPaths: [Int32] = []
    private var viewDimensions: [[Int32]]

    // Groups and their sums; index `keys.count` would be a new group.
    private var groupIndex: GroupIndex
    private(set) var keys: [GroupKey] = []
    private var stats: [VisitStats] = []
    private var totals = VisitStats()
    /// The day's visitors per group (see VisitorSets.swift).
    private var dayVisitors = DayVisitorCounter()

    init(query: Query, range: TimeRange) {
        self.query = query
        self.range = range
        tables = Array(repeating: StringTable(), count: query.dimensions.count)
        groupIndex = GroupIndex(dimensions: query.dimensions, range: range)
        viewDimensions = Array(repeating: [], count: query.dimensions.count)
        // Paths name entry and exit pages and order page views of the same time; the day and the hour are the same
        // for those, so grouping by them alone needs no paths.
        needsPaths = query.dimensions.contains { $0 != .day && $0 != .hour }
        wantsDurations = query.metrics.contains(.medianVisitDuration)
        // Visitors come from the visits only by entry or exit page; otherwise the requests count them.
        wantsVisitors = query.metrics.contains(.visitors) && query.dimensions.contains(where: \.isVisitProperty)
    }

    // MARK: Collecting page views

    /// Adds the page views among the matching rows of a row group.
    mutating func addRowGroup(_ columns: RowGroupColumns) throws {
        let rowCount = columns.rowCount
        guard rowCount > 0 else { return }
        let selection = RowSelection(query: query, range: range, dataset: .events)
        let (keep, times) = try columns.matchingRows(selection, needsTimes: true)
        let isPage = try columns.pageRows()
        guard case .int64(let visitors, let validity) = try columns.column("visitor") else { return }
        let pathIds = needsPaths ? GlobalIds(try columns.column("path")) : nil
        var dimensionIds: [GlobalIds?] = []
        var statuses: [Int32] = []
        for dimension in query.dimensions {
            switch dimension {
            case .day, .hour, .entryPage, .exitPage: dimensionIds.append(nil)
            case .status, .statusClass:
                if case .int32(let values, _) = try columns.column("status") { statuses = values }
                dimensionIds.append(nil)
            default: dimensionIds.append(GlobalIds(try columns.column(dimension.columnName)))
            }
        }
        // The rows that are page views with a visitor, then their values a column at a time.
        var rows: [Int] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<rowCount where keep[row] && isPage[row] && (validity?[row] ?? true) { rows.append(row) }
        viewVisitors.append(contentsOf: rows.lazy.map { visitors[$0] })
        viewTimes.append(contentsOf: rows.lazy.map { times[$0] })
        if var pathIds { viewPaths.append(contentsOf: rows.map { pathIds.id($0, in: &paths) }) }
        for (index, dimension) in query.dimensions.enumerated() {
            let values: [Int32]
            switch dimension {
            case .day: values = rows.map { Int32(truncatingIfNeeded: times[$0] / 86_400_000) }
            case .hour: values = rows.map { Int32(truncatingIfNeeded: times[$0] / 3_600_000) }
            case .status: values = rows.map { statuses[$0] }
            case .statusClass: values = rows.map { statuses[$0] / 100 }
            case .entryPage, .exitPage: values = rows.map { _ in 0 }  // taken from `viewPaths` when the visit closes
            default:
                var ids = dimensionIds[index]!  // safe because set above for every other dimension
                values = rows.map { ids.id($0, in: &tables[index]) }
            }
            viewDimensions[index].append(contentsOf: values)
        }
    }

    // MARK: Cutting visits

    /// Cuts the collected page views of a day into visits and forgets them.
    ///
    /// - Parameter counter: the thread's shared counting buffers (see ``DistinctPairCounter``), if any.
    mutating func finishDay(counter: DistinctPairCounter? = nil) {
        defer {
            viewVisitors.removeAll(keepingCapacity: true)
            viewTimes.removeAll(keepingCapacity: true)
            viewPaths.removeAll(keepingCapacity: true)
            for index in viewDimensions.indices { viewDimensions[index].removeAll(keepingCapacity: true) }
        }
        let count = viewTimes.count
        guard count > 0 else { return }
        var order = [Int32](0..<Int32(count))
        if !viewTimes.indices.dropFirst().allSatisfy({ viewTimes[$0 - 1] <= viewTimes[$0] }) {
            let times = viewTimes
            order.sort { times[Int($0)] < times[Int($1)] }
        }
        // Visitors are independent: the page views are cut a share of the visitors at a time, so that the open
        // visits of a share stay in the processor's cache (one table for the day's visitors would not).
        let (shares, starts) = shareByVisitor(order)
        var open = OpenVisits()
        for share in 0..<(starts.count - 1) {
            open.removeAll()
            for index in starts[share]..<starts[share + 1] { add(shares[index], to: &open) }
            for visit in open.visits { close(visit) }
        }
        if wantsVisitors { countVisitors(counter: counter) }
    }

    /// About how many page views a share of visitors has: their open visits take about 100 KiB.
    private static let shareTarget = 16_384

    /// The page views in `order` grouped by a hash of their visitor into shares of about ``shareTarget``, each in
    /// `order`'s order and with what cutting visits reads of them; share `s` is `shares[starts[s]..<starts[s + 1]]`.
    private func shareByVisitor(_ order: [Int32]) -> (shares: [PageView], starts: [Int]) {
        var bits = 0
        while bits < 16 && order.count >> bits > Self.shareTarget { bits += 1 }
        let shift = UInt64(64 - bits)  // a shift by 64 gives 0: one share
        let visitors = viewVisitors
        func share(_ view: Int32) -> Int {
            Int(UInt64(bitPattern: Int64(mixVisitor(UInt64(bitPattern: visitors[Int(view)])))) >> shift)
        }
        var starts = [Int](repeating: 0, count: (1 << bits) + 1)
        for view in order { starts[share(view) + 1] += 1 }
        for index in 0..<(1 << bits) { starts[index + 1] += starts[index] }
        var next = starts
        let keys = query.dimensions.first.map { $0.isVisitProperty ? [] : viewDimensions[0] } ?? []
        var shares = [PageView](repeating: PageView(), count: order.count)
        for view in order {
            let row = Int(view)
            let index = share(view)
            shares[next[index]] = PageView(
                visitor: visitors[row], time: viewTimes[row], view: view, path: needsPaths ? viewPaths[row] : 0,
                key: keys.isEmpty ? 0 : keys[row])
            next[index] += 1
        }
        return (shares, starts)
    }

    /// Adds a page view to its visitor's open visit, or closes that visit and opens one.
    @inline(__always)
    private mutating func add(_ view: PageView, to open: inout OpenVisits) {
        let (slot, isNew) = open.slot(of: view.visitor)
        if isNew {
            open.start(slot, view)
            return
        }
        let visit = open.visits[slot]
        if view.time - visit.last > query.visitTimeout {
            close(visit)
            open.start(slot, view)
            return
        }
        var next = visit
        next.views += 1
        if view.time > visit.last {
            next.last = view.time
            next.exitPath = view.path
        } else if needsPaths && pathPrecedes(visit.exitPath, view.path) {
            next.exitPath = view.path
        }
        if view.time == visit.first && needsPaths && pathPrecedes(view.path, visit.entryPath) {
            next.entryView = view.view
            next.entryPath = view.path
            next.entryKey = view.key
        }
        open.update(slot, next)
    }

    /// Adds the day's distinct visitors to their groups and to the total.
    private mutating func countVisitors(counter: DistinctPairCounter?) {
        var counts = [Int64](repeating: 0, count: stats.count)
        let distinct = dayVisitors.finishDay(groupCounts: &counts, counter: counter)
        for group in counts.indices { stats[group].visitors += counts[group] }
        // Without dimensions the one group is the total.
        if !query.dimensions.isEmpty { totals.visitors += distinct }
    }

    /// Whether the path of one page view sorts before another's (for page views of the same time).
    private func pathPrecedes(_ left: Int32, _ right: Int32) -> Bool {
        guard let a = paths.values[Int(left)], let b = paths.values[Int(right)] else {
            return false
        }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Adds a finished visit to its group.
    private mutating func close(_ visit: OpenVisits.Visit) {
        let group = query.dimensions.isEmpty ? 0 : group(of: visit)
        if group == stats.count {  // the one group of a query without dimensions
            groupIndex[GroupKey()] = 0
            keys.append(GroupKey())
            stats.append(VisitStats())
        }
        let duration = visit.last - visit.first
        let views = Int64(visit.views)
        stats[group].add(views: views, duration: duration, durations: wantsDurations)
        if !query.dimensions.isEmpty {
            totals.add(views: views, duration: duration, durations: wantsDurations)
        }
        if wantsVisitors { dayVisitors.add(group: Int32(group), visitor: visit.visitor) }
    }

    /// The group of a visit, made when new: the values of its entry page view (and the path of its last for
    /// `exit_page`).
    private mutating func group(of visit: OpenVisits.Visit) -> Int {
        var key = GroupKey()
        for (index, dimension) in query.dimensions.enumerated() {
            switch dimension {
            case .entryPage: key[index] = visit.entryPath
            case .exitPage: key[index] = visit.exitPath
            default: key[index] = index == 0 ? visit.entryKey : viewDimensions[index][Int(visit.entryView)]
            }
        }
        if let existing = groupIndex[key] { return Int(existing) }
        groupIndex[key] = Int32(keys.count)
        keys.append(key)
        stats.append(VisitStats())
        return keys.count - 1
    }

    // MARK: Results

    /// The value of a metric for a group.
    func value(_ metric: QueryMetric, group: Int) -> Double { stats[group].value(metric) }

    /// The value of a metric over every visit (without dimensions, the one group is the total).
    func total(_ metric: QueryMetric) -> Double {
        query.dimensions.isEmpty ? (stats.first ?? VisitStats()).value(metric) : totals.value(metric)
    }

    /// The dimension values of a group.
    func keyValues(_ group: Int) -> [QueryValue] {
        query.dimensions.enumerated().map { index, dimension in
            let table = dimension.isVisitProperty ? paths : tables[index]
            return Aggregator.dimensionValue(dimension, keys[group][index], table: table)
        }
    }

    /// Adds the visits of another worker (other days).
    mutating func merge(_ other: VisitAggregator) {
        for (otherGroup, otherKey) in other.keys.enumerated() {
            var key = GroupKey()
            for (index, dimension) in query.dimensions.enumerated() {
                switch dimension {
                case .day, .hour, .status, .statusClass: key[index] = otherKey[index]
                case .entryPage, .exitPage:
                    key[index] = other.paths.values[Int(otherKey[index])].map { paths.id(Array($0.utf8)[...]) } ?? 0
                default:
                    key[index] =
                        other.tables[index].values[Int(otherKey[index])].map { tables[index].id(Array($0.utf8)[...]) }
                        ?? 0
                }
            }
            if let existing = groupIndex[key] {
                stats[Int(existing)].merge(other.stats[otherGroup])
            } else {
                groupIndex[key] = Int32(keys.count)
                keys.append(key)
                stats.append(other.stats[otherGroup])
            }
        }
        totals.merge(other.totals)
    }
}

/// The sums of the visits of one group.
struct VisitStats {
    var visits: Int64 = 0
    var bounces: Int64 = 0
    var pageviews: Int64 = 0
    /// Milliseconds.
    var durationSum: Int64 = 0
    /// Every visit's duration in milliseconds, kept only for the median.
    var durations: [Int64] = []
    /// Distinct visitors, summed over days (a pseudonym belongs to one day); counted by ``VisitAggregator``.
    var visitors: Int64 = 0

    mutating func add(views: Int64, duration: Int64, durations keepDuration: Bool) {
        visits += 1
        pageviews += views
        if views == 1 { bounces += 1 }
        durationSum += duration
        if keepDuration { durations.append(duration) }
    }

    mutating func merge(_ other: VisitStats) {
        visits += other.visits
        bounces += other.bounces
        pageviews += other.pageviews
        durationSum += other.durationSum
        durations += other.durations
        visitors += other.visitors
    }

    /// A metric's value; a mean or percentage over no visits is NaN.
    func value(_ metric: QueryMetric) -> Double {
        let count = Double(visits)
        switch metric {
        case .visits: return count
        case .pageviews: return Double(pageviews)
        case .visitors: return Double(visitors)
        case .bounceRate: return visits == 0 ? .nan : 100 * Double(bounces) / count
        case .visitDuration: return visits == 0 ? .nan : Double(durationSum) / count / 1000
        case .viewsPerVisit: return visits == 0 ? .nan : Double(pageviews) / count
        case .medianVisitDuration: return Self.median(durations).map { $0 / 1000 } ?? .nan
        case .hits, .bytes: return .nan
        }
    }

    /// The median (the mean of the two middle values for an even count), or nil for none.
    static func median(_ values: [Int64]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? Double(sorted[middle]) : (Double(sorted[middle - 1]) + Double(sorted[middle])) / 2
    }
}

/// Per row of a row group, the global id of a string column's value in a ``StringTable``, each dictionary entry
/// looked up once.
private struct GlobalIds {
    let dictionary: StringColumn
    let indices: [Int32]
    private var map: [Int32]

    init(_ values: ColumnValues) {
        (dictionary, indices) = RowSelection.dictionary(values)
        map = Array(repeating: -1, count: dictionary.count)
    }

    /// The id of a row's value; 0 is null.
    mutating func id(_ row: Int, in table: inout StringTable) -> Int32 {
        let local = Int(indices[row])
        guard local >= 0 else { return 0 }
        if map[local] < 0 { map[local] = table.id(dictionary[local]) }
        return map[local]
    }
}

/// A page view as cutting visits reads it.
private struct PageView {
    var visitor: Int64 = 0
    var time: Int64 = 0
    /// The index in the day's page views.
    var view: Int32 = 0
    /// The path id (0 when the query needs no paths).
    var path: Int32 = 0
    /// The id of the query's first dimension (0 for none, or for entry or exit page).
    var key: Int32 = 0
}

/// The open visit of each visitor of a share of a day: an open-addressing table from pseudonym to slot, and the
/// slots' visits.
///
/// Pseudonyms are keyed hashes, so their bits are already uniform: the table uses them as they are.
private struct OpenVisits {
    /// One open visit.
    struct Visit {
        var visitor: Int64
        var first: Int64 = 0
        var last: Int64 = 0
        var views: Int32 = 0
        /// The entry page view: its index in the day's page views, its path id and its first dimension's id.
        var entryView: Int32 = 0
        var entryPath: Int32 = 0
        var entryKey: Int32 = 0
        /// The path id of the exit page view.
        var exitPath: Int32 = 0
    }

    /// A table entry: a pseudonym and its slot, or slot -1 when empty.
    private struct Entry {
        var visitor: Int64 = 0
        var slot: Int32 = -1
    }

    private var table: [Entry]
    private var mask: Int
    private(set) var visits: [Visit] = []

    init() {
        table = Array(repeating: Entry(), count: 1 << 12)
        mask = table.count - 1
    }

    /// Forgets every visit and keeps the table's size.
    mutating func removeAll() {
        guard !visits.isEmpty else { return }
        for index in table.indices { table[index].slot = -1 }
        visits.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    private func position(of visitor: Int64) -> Int {
        Int(truncatingIfNeeded: UInt64(bitPattern: visitor) >> 7) & mask
    }

    /// The slot of a visitor, and whether it was just made (its visit then needs ``start(_:view:time:)``).
    mutating func slot(of visitor: Int64) -> (Int, Bool) {
        var position = position(of: visitor)
        while true {
            let entry = table[position]
            if entry.slot < 0 { break }
            if entry.visitor == visitor { return (Int(entry.slot), false) }
            position = (position + 1) & mask
        }
        let slot = visits.count
        table[position] = Entry(visitor: visitor, slot: Int32(slot))
        visits.append(Visit(visitor: visitor))
        if visits.count * 2 > table.count { grow() }
        return (slot, true)
    }

    /// Doubles the table when it is half full.
    private mutating func grow() {
        table = Array(repeating: Entry(), count: table.count * 2)
        mask = table.count - 1
        for (slot, visit) in visits.enumerated() {
            var position = position(of: visit.visitor)
            while table[position].slot >= 0 { position = (position + 1) & mask }
            table[position] = Entry(visitor: visit.visitor, slot: Int32(slot))
        }
    }

    /// Replaces the visit of a slot.
    mutating func update(_ slot: Int, _ visit: Visit) { visits[slot] = visit }

    /// Opens a visit in a slot with its first page view.
    mutating func start(_ slot: Int, _ view: PageView) {
        visits[slot].first = view.time
        visits[slot].last = view.time
        visits[slot].views = 1
        visits[slot].entryView = view.view
        visits[slot].entryPath = view.path
        visits[slot].entryKey = view.key
        visits[slot].exitPath = view.path
    }
}
