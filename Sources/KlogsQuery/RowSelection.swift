import KlogsIngest
import KlogsParquet

/// The columns of one row group, each read at most once (and a column newer than the file read as nulls).
final class RowGroupColumns {
    let reader: ParquetFileReader
    let group: Int
    let dataset: DatasetName
    let rowCount: Int
    private var cache: [String: ColumnValues] = [:]
    /// The last selection's matching rows: the queries sharing a scan share their range and filters.
    private var selected: (selection: SelectionKey, keep: [Bool], times: [Int64], hasTimes: Bool)?
    private var pages: [Bool]?

    /// What decides which rows a ``RowSelection`` keeps.
    private struct SelectionKey: Equatable {
        var range: TimeRange
        var filters: QueryFilters
    }

    init(reader: ParquetFileReader, group: Int, dataset: DatasetName) {
        self.reader = reader
        self.group = group
        self.dataset = dataset
        rowCount = Int(reader.rowGroups[group].numberOfRows)
    }

    /// The values of a column.
    ///
    /// - Throws: ``QueryError`` of kind `unreadable` when the column cannot be read or has the wrong length.
    func column(_ name: String) throws -> ColumnValues {
        if let values = cache[name] { return values }
        let values = try dataset.readColumnOrNull(reader, rowGroup: group, named: name)
        guard values.count == rowCount else {
            throw QueryError(
                .unreadable, "\(reader.name): column '\(name)' has \(values.count) rows, not \(rowCount)")
        }
        cache[name] = values
        return values
    }

    /// The rows that pass a selection, and the time column when read (see ``RowSelection/matchingRows(_:needsTimes:)``),
    /// computed once for the aggregators that share the row group.
    func matchingRows(_ selection: RowSelection, needsTimes: Bool) throws -> (keep: [Bool], times: [Int64]) {
        let key = SelectionKey(range: selection.range, filters: selection.query.filters)
        if let selected, selected.selection == key, selected.hasTimes || !needsTimes {
            return (selected.keep, selected.times)
        }
        let (keep, times) = try selection.matchingRows(self, needsTimes: needsTimes)
        selected = (key, keep, times, needsTimes || !times.isEmpty)
        return (keep, times)
    }

    /// Per row, whether it is a page view (see ``RowSelection/pageRows(_:)``), computed once.
    func pageRows() throws -> [Bool] {
        if let pages { return pages }
        let rows = RowSelection.pageRows(try column("kind"))
        pages = rows
        return rows
    }
}

/// Which row groups and rows a query reads: the range and the filters, applied first to row-group statistics and
/// then row by row (string filters once per dictionary entry).
struct RowSelection {
    let query: Query
    let range: TimeRange
    let dataset: DatasetName

    var timeColumn: String { dataset == .events ? "ts" : "hour" }

    /// Whether a row group's statistics rule it out.
    func canSkip(_ reader: ParquetFileReader, _ group: Int) -> Bool {
        func stats(_ name: String) -> ParquetStatistics? {
            guard let index = reader.schema.index(of: name) else { return nil }
            return reader.rowGroups[group].columns[index].statistics
        }
        if let time = stats(timeColumn), case .int64(let low)? = time.min, case .int64(let high)? = time.max {
            if high < range.start || low >= range.end { return true }
        }
        if let filter = query.filters.status, let status = stats("status"),
            case .int32(let low)? = status.min, case .int32(let high)? = status.max, !filter.overlaps(low, high)
        {
            return true
        }
        if query.filters.bots != .include, let bot = stats("is_bot"),
            case .boolean(let low)? = bot.min, case .boolean(let high)? = bot.max
        {
            if query.filters.bots == .exclude && low { return true }
            if query.filters.bots == .only && !high { return true }
        }
        if let prefix = query.filters.path, !PathPattern.isGlob(prefix), let path = stats("path"),
            case .bytes(let low)? = path.min, case .bytes(let high)? = path.max
        {
            let prefixBytes = Array(prefix.utf8)
            if high.lexicographicallyPrecedes(prefixBytes) { return true }
            if prefixBytes.lexicographicallyPrecedes(low) && !low.starts(with: prefixBytes) { return true }
        }
        for (name, allowed) in [("vhost", query.filters.vhosts), ("device", query.filters.devices)]
        where !allowed.isEmpty {
            if let column = stats(name), case .bytes(let low)? = column.min, case .bytes(let high)? = column.max,
                column.nullCount.map({ $0 == 0 }) ?? false
            {
                let anyInside = allowed.contains { value in
                    let bytes = Array(value.utf8)
                    return !bytes.lexicographicallyPrecedes(low) && !high.lexicographicallyPrecedes(bytes)
                }
                if !anyInside { return true }
            }
        }
        return false
    }

    /// The rows of a row group inside the range that pass every filter, and the time column when it was read (always
    /// when `needsTimes`; otherwise only when the row group straddles the range).
    func matchingRows(_ columns: RowGroupColumns, needsTimes: Bool) throws -> (keep: [Bool], times: [Int64]) {
        let reader = columns.reader
        let group = columns.group
        let rowCount = columns.rowCount
        let filters = query.filters
        var keep = [Bool](repeating: true, count: rowCount)
        func column(_ name: String) throws -> ColumnValues { try columns.column(name) }

        // The time column: needed to filter unless the row group lies inside the range.
        var times: [Int64] = []
        var timeInside = false
        if let index = reader.schema.index(of: timeColumn),
            let stats = reader.rowGroups[group].columns[index].statistics,
            case .int64(let low)? = stats.min, case .int64(let high)? = stats.max
        {
            timeInside = low >= range.start && high < range.end
        }
        if needsTimes || !timeInside {
            times = Self.int64s(try column(timeColumn))
            if !timeInside {
                for row in 0..<rowCount where times[row] < range.start || times[row] >= range.end { keep[row] = false }
            }
        }

        func stringFilter(_ name: String, _ allowed: (ArraySlice<UInt8>) -> Bool) throws {
            let (dictionary, indices) = Self.dictionary(try column(name))
            var passes = [Bool](repeating: false, count: dictionary.count)
            for entry in 0..<dictionary.count { passes[entry] = allowed(dictionary[entry]) }
            for row in 0..<rowCount where keep[row] {
                let index = Int(indices[row])
                if index < 0 || !passes[index] { keep[row] = false }
            }
        }
        if let pattern = filters.path {
            let matcher = PathPattern(pattern)
            try stringFilter("path") { matcher.matches($0) }
        }
        if !filters.vhosts.isEmpty {
            let allowed = Set(filters.vhosts.map { Array($0.utf8) })
            try stringFilter("vhost") { allowed.contains(Array($0)) }
        }
        if !filters.devices.isEmpty {
            let allowed = Set(filters.devices.map { Array($0.utf8) })
            try stringFilter("device") { allowed.contains(Array($0)) }
        }
        if let statusFilter = filters.status {
            guard case .int32(let statuses, _) = try column("status") else { return (keep.map { _ in false }, times) }
            for row in 0..<rowCount where keep[row] && !statusFilter.contains(statuses[row]) { keep[row] = false }
        }
        if filters.bots != .include {
            guard case .boolean(let bots, _) = try column("is_bot") else { return (keep.map { _ in false }, times) }
            let wanted = filters.bots == .only
            for row in 0..<rowCount where keep[row] && bots[row] != wanted { keep[row] = false }
        }
        return (keep, times)
    }

    /// A string column as a dictionary and per-row indices (-1 for null), whatever its encoding.
    static func dictionary(_ values: ColumnValues) -> (StringColumn, [Int32]) {
        switch values {
        case .dictionaryStrings(let dictionary, let indices): return (dictionary, indices)
        case .keyedDictionaryStrings: return dictionary(values.resolvingKeys)
        case .strings(let column):
            var ids: [[UInt8]: Int32] = [:]
            var dictionary = StringColumn()
            var indices = [Int32](repeating: -1, count: column.count)
            for row in 0..<column.count where column.isPresent(row) {
                let key = Array(column[row])
                if let id = ids[key] {
                    indices[row] = id
                } else {
                    let id = Int32(dictionary.count)
                    ids[key] = id
                    dictionary.append(bytes: key)
                    indices[row] = id
                }
            }
            return (dictionary, indices)
        default: return (StringColumn(), Array(repeating: -1, count: values.count))
        }
    }

    /// An integer column as Int64 values.
    static func int64s(_ values: ColumnValues) -> [Int64] {
        switch values {
        case .int64(let values, _): values
        case .int32(let values, _): values.map(Int64.init)
        default: []
        }
    }

    /// Per row, whether the `kind` column says `page` (never for a null: files written before schema version 2).
    static func pageRows(_ kinds: ColumnValues) -> [Bool] {
        let (dictionary, indices) = dictionary(kinds)
        let page = Array("page".utf8)
        let isPage = (0..<dictionary.count).map { dictionary[$0].elementsEqual(page) }
        return indices.map { $0 >= 0 && isPage[Int($0)] }
    }
}
