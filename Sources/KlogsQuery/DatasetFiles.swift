import Foundation
import KlogsCore
import KlogsIngest

/// The Parquet files of one dataset, found by listing its Hive partitions (`date=YYYY-MM-DD`).
///
/// Only the partitions a range touches are listed; hidden files (a writer's temporary names) are ignored.
public struct DatasetFiles: Sendable {
    /// One partition directory.
    public struct Partition: Sendable, Hashable {
        /// The UTC day number of `date=`.
        public var day: Int
        public var path: String
    }

    public let dataset: DatasetName
    public let root: String

    public init(dataDirectory: String, dataset: DatasetName) {
        self.dataset = dataset
        root = dataDirectory + "/" + dataset.rawValue
    }

    /// Whether the dataset directory exists.
    public var exists: Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// Every partition, by day.
    public func partitions() -> [Partition] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return [] }
        var result: [Partition] = []
        for name in names where name.hasPrefix("date=") {
            guard let bound = QueryDate.parse(String(name.dropFirst(5))), bound.isDateOnly else { continue }
            result.append(Partition(day: Int(bound.milliseconds / 86_400_000), path: root + "/" + name))
        }
        return result.sorted { $0.day < $1.day }
    }

    /// The partitions whose day overlaps `range`.
    public func partitions(in range: TimeRange) -> [Partition] {
        let days = range.days
        return partitions().filter { days.contains($0.day) }
    }

    /// The visible Parquet files of a partition, sorted by name.
    public static func files(in partition: Partition) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: partition.path) else { return [] }
        return names.filter { !$0.hasPrefix(".") && $0.hasSuffix(".parquet") }.sorted().map {
            partition.path + "/" + $0
        }
    }

    /// The day of the latest partition in either dataset, if there is any data.
    public static func latestDay(dataDirectory: String) -> Int? {
        DatasetName.allCases.compactMap {
            DatasetFiles(dataDirectory: dataDirectory, dataset: $0).partitions().last?.day
        }
        .max()
    }

    /// The default range: the last 7 days up to and including the latest day with data.
    public static func defaultRange(dataDirectory: String) -> TimeRange? {
        guard let last = latestDay(dataDirectory: dataDirectory) else { return nil }
        return TimeRange(start: Int64(last - 6) * 86_400_000, end: Int64(last + 1) * 86_400_000)
    }
}
