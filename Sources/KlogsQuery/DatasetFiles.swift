import Foundation
import KlogsCore
import KlogsIngest

/// The Parquet files of one dataset, in Hive partitions (`date=YYYY-MM-DD`).
///
/// A query reads a snapshot: the files the ingest ledger lists as committed when the query starts. A commit
/// renames its new files into place before it replaces the ledger, and a compaction or purge deletes files after
/// renaming, so a directory listing taken during a commit could see a compacted file next to the files it replaces
/// and count their rows twice. With the ledger's list, files of a commit in progress are not read yet, and a file
/// deleted during the query makes it fail (run it again) instead of answer from a mix. A data directory without a
/// ledger that lists this dataset (files copied from elsewhere, or written by another tool) is read by listing
/// its partitions; hidden files (a writer's temporary names) are ignored.
public struct DatasetFiles: Sendable {
    /// One partition directory.
    public struct Partition: Sendable, Hashable {
        /// The UTC day number of `date=`.
        public var day: Int
        public var path: String
        /// The partition's committed files from the ledger snapshot, or `nil` to list the directory.
        var snapshot: [String]?
    }

    public let dataset: DatasetName
    public let root: String
    /// The committed files of the dataset by partition directory name (`date=…`), or `nil` without a ledger list.
    private let committed: [String: [String]]?

    public init(dataDirectory: String, dataset: DatasetName) {
        self.dataset = dataset
        root = dataDirectory + "/" + dataset.rawValue
        committed = Self.committedFiles(dataDirectory: dataDirectory, dataset: dataset)
    }

    /// The ledger's committed files of `dataset`, grouped by partition directory name; `nil` when there is no
    /// readable ledger or it lists no file of the dataset.
    static func committedFiles(dataDirectory: String, dataset: DatasetName) -> [String: [String]]? {
        guard let ledger = try? Ledger.load(dataDirectory: dataDirectory) else { return nil }
        var result: [String: [String]] = [:]
        let prefix = dataset.rawValue + "/"
        for relative in ledger.files.keys where relative.hasPrefix(prefix) {
            let parts = relative.dropFirst(prefix.count).split(separator: "/", maxSplits: 1)
            guard parts.count == 2 else { continue }
            result[String(parts[0]), default: []].append(String(parts[1]))
        }
        return result.isEmpty ? nil : result
    }

    /// Whether the dataset directory exists.
    public var exists: Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// Every partition, by day: the ledger's, else the directories listed.
    public func partitions() -> [Partition] {
        let names: [String]
        if let committed {
            names = Array(committed.keys)
        } else {
            guard let listed = try? FileManager.default.contentsOfDirectory(atPath: root) else { return [] }
            names = listed
        }
        var result: [Partition] = []
        for name in names where name.hasPrefix("date=") {
            guard let bound = QueryDate.parse(String(name.dropFirst(5))), bound.isDateOnly else { continue }
            let snapshot = committed?[name].map { files in files.sorted().map { root + "/" + name + "/" + $0 } }
            result.append(
                Partition(day: Int(bound.milliseconds / 86_400_000), path: root + "/" + name, snapshot: snapshot))
        }
        return result.sorted { $0.day < $1.day }
    }

    /// The partitions whose day overlaps `range`.
    public func partitions(in range: TimeRange) -> [Partition] {
        let days = range.days
        return partitions().filter { days.contains($0.day) }
    }

    /// The Parquet files of a partition, sorted by name: the snapshot's, else the visible files listed.
    public static func files(in partition: Partition) -> [String] {
        if let snapshot = partition.snapshot { return snapshot }
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
