internal import Foundation
import KlogsParquet

/// `klogs verify`: every part file readable to its last value, and the ledger and the files in agreement.
public enum DatasetVerifier {
    /// What a verification found.
    public struct Report: Sendable {
        /// Files checked and rows read.
        public var filesChecked = 0
        public var rowsRead: Int64 = 0
        /// Everything wrong, one sentence each; empty when the dataset is sound.
        public var problems: [String] = []
        public var isSound: Bool { problems.isEmpty }

        public var text: String {
            var lines = ["checked \(filesChecked) files, \(rowsRead) rows"]
            lines += problems.map { "problem  \($0)" }
            lines.append(isSound ? "ok" : "\(problems.count) problem(s) found")
            return lines.joined(separator: "\n") + "\n"
        }
    }

    /// Checks a data directory: each visible Parquet file (magic, footer, every column of every row group decoded,
    /// row counts, the `klogs.dataset` key), the ledger (readable, each listed file present with its row count,
    /// each file listed), and that no interrupted commit or staged file is left.
    ///
    /// Page CRC-32s are checked wherever a page carries one (the reader verifies them by default).
    public static func verify(dataDirectory root: String) -> Report {
        var report = Report()
        let ledger: Ledger?
        do { ledger = try Ledger.load(dataDirectory: root) } catch {
            report.problems.append("\(error)")
            ledger = nil
        }
        let pending = (try? FileManager.default.contentsOfDirectory(atPath: Transaction.pendingDirectory(root))) ?? []
        for name in pending where name.hasSuffix(".json") && !name.hasPrefix(".") {
            report.problems.append(
                "_klogs/pending/\(name): an interrupted commit is pending; the next 'klogs ingest' (or compact, "
                    + "purge) completes it.")
        }
        for path in Transaction.stagedFiles(dataDirectory: root)
        where !Transaction.ownerIsAlive(stagedName: String(path.split(separator: "/").last ?? "")) {
            report.problems.append(
                "\(path): an unfinished file of an interrupted run; the next 'klogs ingest' removes it.")
        }
        var seen = Set<String>()
        for dataset in DatasetName.allCases {
            for directory in Transaction.partitionDirectories(dataDirectory: root, dataset: dataset.rawValue) {
                for name in Transaction.partFiles(in: directory) {
                    let relative = "\(dataset.rawValue)/\(directory.split(separator: "/").last!)/\(name)"
                    seen.insert(relative)
                    report.filesChecked += 1
                    let rows = check(path: "\(directory)/\(name)", dataset: dataset, report: &report)
                    report.rowsRead += rows ?? 0
                    if let ledger, let rows {
                        if let listed = ledger.files[relative] {
                            if listed != rows {
                                report.problems.append(
                                    "\(relative): holds \(rows) rows, the ledger says \(listed).")
                            }
                        } else {
                            report.problems.append(
                                "\(relative): not in the ledger (copied in by hand, or written by another tool).")
                        }
                    }
                }
            }
        }
        if let ledger {
            for file in ledger.files.keys.sorted() where !seen.contains(file) {
                report.problems.append("\(file): in the ledger but missing from the data directory.")
            }
            for source in ledger.sources where source.offset > source.size || source.offset < 0 {
                report.problems.append(
                    "ledger: source \(source.head) (\(source.lastPath)) has offset \(source.offset) beyond its size "
                        + "\(source.size).")
            }
        }
        return report
    }

    /// Reads one file completely; the number of rows, or nil (with a problem reported) when it is damaged.
    static func check(path: String, dataset: DatasetName, report: inout Report) -> Int64? {
        do {
            let reader = try ParquetFileReader(path: path)
            if let name = reader.metadataValue(forKey: "klogs.dataset"), name != dataset.rawValue {
                report.problems.append("\(path): a '\(name)' file in the '\(dataset.rawValue)' dataset.")
            }
            guard dataset.accepts(columnNames: reader.schema.columns.map(\.name)) else {
                report.problems.append("\(path): its columns are not those of the '\(dataset.rawValue)' schema.")
                return nil
            }
            var total: Int64 = 0
            for (index, group) in reader.rowGroups.enumerated() {
                for column in reader.schema.columns.indices {
                    let values = try reader.readColumn(rowGroup: index, column: column)
                    if Int64(values.count) != group.numberOfRows {
                        report.problems.append(
                            "\(path): row group \(index), column \(reader.schema.columns[column].name) has "
                                + "\(values.count) values for \(group.numberOfRows) rows.")
                        return nil
                    }
                }
                total += group.numberOfRows
            }
            if total != reader.numberOfRows {
                report.problems.append("\(path): the footer says \(reader.numberOfRows) rows, the row groups \(total).")
                return nil
            }
            return total
        } catch {
            report.problems.append("\(path): cannot be read: \(error)")
            return nil
        }
    }
}
