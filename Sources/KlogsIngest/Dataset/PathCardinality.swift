import KlogsCore

/// The warning about days with very many distinct paths.
///
/// Paths that carry ids, session tokens or random strings (`/item/8f3a…`, scanners' random URLs) make every day's
/// dictionary large, the `hits` dataset nearly as large as `events`, and queries by path slow. klogs stays within
/// its memory bound whatever the number (see `Partition.internersAreFull`), but says so in the summary, so that
/// the paths can be merged with `--path-rewrite`.
enum PathCardinality {
    /// More distinct paths than this in one UTC day of one run gets a warning.
    static let warningThreshold = 100_000

    /// One warning per day over the threshold, oldest day first.
    static func warnings(distinctPathsByDay: [Int32: Int]) -> [String] {
        distinctPathsByDay.filter { $0.value > warningThreshold }.sorted { $0.key < $1.key }.map { day, count in
            "\(Timestamp.dateText(dayNumber: Int(day))): high path cardinality, about \(formatCount(count)) "
                + "distinct paths in one day (more than \(formatCount(warningThreshold))); paths holding ids or "
                + "random strings make the dataset large and queries by path slow: merge them with --path-rewrite "
                + "(docs/OPERATIONS.md)."
        }
    }
}

extension DatasetWriter {
    /// The cardinality warnings of the partitions finished since the last call, which it forgets.
    func takeCardinalityWarnings() -> [String] {
        defer { distinctPathsByDay.removeAll() }
        return PathCardinality.warnings(distinctPathsByDay: distinctPathsByDay)
    }
}
