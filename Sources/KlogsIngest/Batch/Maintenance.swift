internal import Foundation
internal import Glibc
import KlogsCore
import KlogsParquet

/// `klogs compact` and `klogs purge`: whole-partition maintenance under the data lock, through `Transaction`.
public enum DatasetMaintenance {
    /// What a compaction or purge did (or, with `dryRun`, would do).
    public struct Report: Sendable {
        public var lines: [String] = []
        public var text: String { lines.isEmpty ? "nothing to do\n" : lines.joined(separator: "\n") + "\n" }
    }

    // MARK: Compact

    /// Merges the part files of every partition holding more than one into one file; `hits` rows with the same
    /// key are summed. Each partition is one transaction (new file and removal of the old ones together), so a
    /// crash leaves either the old files or the new one; a partition with one file is left alone (idempotent).
    ///
    /// - Throws: `BatchError` (`.busy` when another writer holds the lock) or the write error of a partition.
    public static func compact(dataDirectory root: String, waitSeconds: Double = 0, dryRun: Bool = false) throws
        -> Report
    {
        let lock = try DataLock(dataDirectory: root, waitSeconds: waitSeconds, command: "klogs compact")
        defer { withExtendedLifetime(lock) {} }
        if !dryRun { try Transaction.recover(dataDirectory: root) }
        var ledger = try Ledger.load(dataDirectory: root)
        var report = Report()
        for dataset in DatasetName.allCases {
            for directory in Transaction.partitionDirectories(dataDirectory: root, dataset: dataset.rawValue) {
                let names = Transaction.partFiles(in: directory)
                guard names.count > 1 else { continue }
                let partition = "\(dataset.rawValue)/\(directory.split(separator: "/").last!)"
                if dryRun {
                    report.lines.append("\(partition): would merge \(names.count) files")
                    continue
                }
                let rows = try compactPartition(
                    directory: directory, partition: partition, names: names, dataset: dataset, ledger: &ledger,
                    root: root)
                report.lines.append("\(partition): merged \(names.count) files into one (\(rows) rows)")
            }
        }
        return report
    }

    private static func compactPartition(
        directory: String, partition: String, names: [String], dataset: DatasetName, ledger: inout Ledger,
        root: String
    ) throws -> Int64 {
        let readers = try names.map { try ParquetFileReader(path: "\(directory)/\($0)") }
        let identifier = Transaction.makeIdentifier()
        let staged = try StagedFile(directory: directory, transaction: identifier, sequence: 0)
        var options = ParquetWriterOptions(createdBy: KlogsVersion.description)
        // The merged file has the current schema (older files' missing columns become nulls), so its version too.
        options.keyValueMetadata = readers[0].keyValueMetadata.compactMap { pair in
            pair.key == "klogs.schema_version"
                ? (key: pair.key, value: DatasetName.schemaVersion) : pair.value.map { (key: pair.key, value: $0) }
        }
        let writer = try ParquetFileWriter(
            output: FileDescriptorOutput(fileDescriptor: staged.fileDescriptor, path: staged.stagedPath),
            schema: dataset.schema, options: options)
        var rows: Int64 = 0
        switch dataset {
        case .events:
            for reader in readers {
                for (index, group) in reader.rowGroups.enumerated() where group.numberOfRows > 0 {
                    let columns = try dataset.schema.columns.map {
                        try dataset.readColumnOrNull(reader, rowGroup: index, named: $0.name)
                    }
                    try writer.writeRowGroup(columns)
                    rows += group.numberOfRows
                }
            }
        case .hits:
            let columns = try HitsAggregate.merge(readers)
            rows = Int64(columns[0].count)
            if rows > 0 { try writer.writeRowGroup(columns) }
        }
        try writer.close()
        try staged.seal()
        let final = "\(partition)/part-c\(transactionTag(names).dropFirst())-0.parquet"
        var newLedger = ledger
        let deletes = names.map { "\(partition)/\($0)" }.filter { $0 != final }
        for path in deletes { newLedger.files[path] = nil }
        newLedger.files[final] = rows
        let stagedName = staged.stagedPath.split(separator: "/").last!
        let transaction = Transaction(
            identifier: identifier, renames: [["\(partition)/\(stagedName)", final]], deletes: deletes,
            ledger: newLedger)
        try transaction.commit(dataDirectory: root)
        staged.handOver()
        ledger = newLedger
        return rows
    }

    // MARK: Purge

    /// Deletes the partitions of days before `today - retentionDays`, and every pseudonym key past its grace period
    /// (`keyGraceSeconds` after the end of its day) or past retention.
    ///
    /// Each partition's files are removed in one transaction; the empty directories go afterwards.
    public static func purge(
        dataDirectory root: String, retentionDays: Int, today: Int = Retention.today(), waitSeconds: Double = 0,
        dryRun: Bool = false, keyGraceSeconds: Int64 = KeyLifecycle.defaultGraceSeconds
    ) throws -> Report {
        let lock = try DataLock(dataDirectory: root, waitSeconds: waitSeconds, command: "klogs purge")
        defer { withExtendedLifetime(lock) {} }
        if !dryRun { try Transaction.recover(dataDirectory: root) }
        var ledger = try Ledger.load(dataDirectory: root)
        let cutoff = today - retentionDays
        var report = Report()
        for dataset in DatasetName.allCases {
            for directory in Transaction.partitionDirectories(dataDirectory: root, dataset: dataset.rawValue) {
                let partitionName = String(directory.split(separator: "/").last!)
                guard let day = Retention.dayNumber(dateText: String(partitionName.dropFirst(5))), day < cutoff
                else { continue }
                let partition = "\(dataset.rawValue)/\(partitionName)"
                let names = Transaction.partFiles(in: directory)
                if dryRun {
                    report.lines.append("\(partition): would delete \(names.count) files")
                    continue
                }
                var newLedger = ledger
                let deletes = names.map { "\(partition)/\($0)" }
                for path in deletes { newLedger.files[path] = nil }
                let transaction = Transaction(
                    identifier: Transaction.makeIdentifier(), renames: [], deletes: deletes, ledger: newLedger)
                try transaction.commit(dataDirectory: root)
                ledger = newLedger
                // Leftovers (hidden files of other tools) are removed with the directory.
                try? FileManager.default.removeItem(atPath: directory)
                report.lines.append("\(partition): deleted \(names.count) files")
            }
        }
        // Ledger entries of sources last read before the cutoff: every line they held is past retention (a line is
        // never newer than its ingest), so a copy read again would be refused line by line anyway.
        let stale = ledger.sources.filter { source in
            Retention.dayNumber(dateText: String(source.updated.prefix(10))).map { $0 < cutoff } ?? false
        }
        if !stale.isEmpty {
            if dryRun {
                report.lines.append("ledger: would forget \(stale.count) sources last read before the cutoff")
            } else {
                var newLedger = ledger
                newLedger.sources.removeAll { stale.contains($0) }
                try Transaction(
                    identifier: Transaction.makeIdentifier(), renames: [], deletes: [], ledger: newLedger
                ).commit(dataDirectory: root)
                ledger = newLedger
                report.lines.append("ledger: forgot \(stale.count) sources last read before the cutoff")
            }
        }
        // Keys die by the key grace (48 h by default), which is far shorter than retention: the same rule
        // `klogs ingest` applies on every run, so a data directory that is only purged loses its keys too.
        let keyDirectory = "\(root)/_klogs/keys"
        if FileManager.default.fileExists(atPath: keyDirectory) {
            let store = try KeyStore(directory: keyDirectory)
            let lifecycle = KeyLifecycle(graceSeconds: keyGraceSeconds)
            let days = try store.storedDays().filter { $0 < cutoff || lifecycle.isExpired(day: $0) }
            if dryRun {
                if !days.isEmpty { report.lines.append("keys: would destroy \(days.count) day keys") }
            } else {
                let removed = try store.expire(olderThan: max(cutoff, lifecycle.firstLiveDay))
                if !removed.isEmpty { report.lines.append("keys: destroyed \(removed.count) day keys") }
            }
        }
        return report
    }
}

/// Re-aggregation of `hits` rows read from several files.
enum HitsAggregate {
    struct Key: Hashable {
        var hour: Int64
        var vhost: String?
        var path: String
        var status: Int32
        var browser: String
        var os: String
        var device: String
        var isBot: Bool
        var kind: String?
    }

    static func merge(_ readers: [ParquetFileReader]) throws -> [ColumnValues] {
        var totals: [Key: (hits: Int64, bytes: Int64)] = [:]
        for reader in readers {
            for index in reader.rowGroups.indices {
                let columns = try reader.schema.columns.indices.map {
                    try reader.readColumn(rowGroup: index, column: $0)
                }
                let hours = int64s(columns[0])
                let statuses = int32s(columns[3])
                let bots = booleans(columns[7])
                let hits = int64s(columns[8])
                let bytes = int64s(columns[9])
                let kinds = try DatasetName.hits.readColumnOrNull(reader, rowGroup: index, named: "kind")
                for row in 0..<columns[0].count {
                    let key = Key(
                        hour: hours[row], vhost: columns[1].string(at: row), path: columns[2].string(at: row) ?? "",
                        status: statuses[row], browser: columns[4].string(at: row) ?? "",
                        os: columns[5].string(at: row) ?? "", device: columns[6].string(at: row) ?? "",
                        isBot: bots[row], kind: kinds.string(at: row))
                    totals[key, default: (0, 0)].hits += hits[row]
                    totals[key, default: (0, 0)].bytes += bytes[row]
                }
            }
        }
        let keys = totals.keys.sorted { left, right in
            if (left.hour, left.path, left.status) != (right.hour, right.path, right.status) {
                return (left.hour, left.path, left.status) < (right.hour, right.path, right.status)
            }
            return (left.vhost ?? "", left.browser, left.os, left.device, left.isBot ? 1 : 0, left.kind ?? "")
                < (right.vhost ?? "", right.browser, right.os, right.device, right.isBot ? 1 : 0, right.kind ?? "")
        }
        return [
            .int64(keys.map(\.hour), validity: nil),
            .strings(StringColumn(keys.map(\.vhost))),
            .strings(StringColumn(keys.map { $0.path as String? })),
            .int32(keys.map(\.status), validity: nil),
            .strings(StringColumn(keys.map { $0.browser as String? })),
            .strings(StringColumn(keys.map { $0.os as String? })),
            .strings(StringColumn(keys.map { $0.device as String? })),
            .boolean(keys.map(\.isBot), validity: nil),
            .int64(keys.map { totals[$0]!.hits }, validity: nil),  // safe because the keys come from totals
            .int64(keys.map { totals[$0]!.bytes }, validity: nil),
            .strings(StringColumn(keys.map(\.kind))),
        ]
    }

    static func int64s(_ values: ColumnValues) -> [Int64] {
        if case .int64(let array, _) = values { return array }
        return Array(repeating: 0, count: values.count)
    }
    static func int32s(_ values: ColumnValues) -> [Int32] {
        if case .int32(let array, _) = values { return array }
        return Array(repeating: 0, count: values.count)
    }
    static func booleans(_ values: ColumnValues) -> [Bool] {
        if case .boolean(let array, _) = values { return array }
        return Array(repeating: false, count: values.count)
    }
}
