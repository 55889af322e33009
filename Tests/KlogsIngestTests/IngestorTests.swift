import Foundation
import KlogsCore
import KlogsGenerator
import KlogsParquet
import KlogsTestSupport
import Testing

@testable import KlogsIngest

/// End-to-end runs of the ingest on the bundled sample and generated logs, checked with klogs' own Parquet reader.
/// (The independent checks with pyarrow and DuckDB are in Tests/interop.)
@Suite struct IngestorTests {
    static let sample = TestPaths.fixtures.appendingPathComponent("sample-access.log").path

    /// Runs an ingest into `directory/data` and returns its summary.
    func ingest(
        _ inputs: [String], into directory: TemporaryDirectory, _ adjust: (inout IngestConfiguration) -> Void = { _ in }
    ) throws -> IngestSummary {
        var configuration = IngestConfiguration(dataDirectory: directory.path + "/data", inputs: inputs)
        adjust(&configuration)
        return try Ingestor(configuration: configuration).run()
    }

    /// Every Parquet file under a directory, sorted.
    func parquetFiles(under root: String) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: root)
        var files: [String] = []
        while let name = enumerator?.nextObject() as? String {
            if name.hasSuffix(".parquet") { files.append(root + "/" + name) }
        }
        return files.sorted()
    }

    /// Every file under a directory, hidden ones included.
    func allFiles(under root: String) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: root)
        var files: [String] = []
        while let name = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + name, isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(root + "/" + name)
            }
        }
        return files.sorted()
    }

    /// The sum of an INT64 column over every row group of the files.
    func sum(_ column: String, in files: [String]) throws -> Int64 {
        var total: Int64 = 0
        for file in files {
            let reader = try ParquetFileReader(path: file)
            let index = try #require(reader.schema.index(of: column))
            for rowGroup in 0..<reader.rowGroups.count {
                guard case .int64(let values, _) = try reader.readColumn(rowGroup: rowGroup, column: index) else {
                    Issue.record("\(column) is not INT64")
                    return 0
                }
                total += values.reduce(0, +)
            }
        }
        return total
    }

    @Test func theSampleIsIngestedWithItsMalformedLinesCountedByReason() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let summary = try ingest([Self.sample], into: directory)
        #expect(summary.linesRead == 2_000)
        #expect(summary.linesIngested == 1_996)
        #expect(summary.linesRejected == 4)
        #expect(summary.inputErrors.isEmpty)
        #expect(summary.bytesRead == Int64(try Data(contentsOf: URL(fileURLWithPath: Self.sample)).count))

        let events = parquetFiles(under: directory.path + "/data/events")
        let hits = parquetFiles(under: directory.path + "/data/hits")
        #expect(events.count == 3)  // three days
        #expect(hits.count == 3)
        #expect(summary.filesWritten == events.count + hits.count)
        #expect(try sum("hits", in: hits) == 1_996)
        #expect(try sum("bytes", in: hits) == sum("bytes", in: events))
        var rows = 0
        for file in events { rows += Int(try ParquetFileReader(path: file).numberOfRows) }
        #expect(rows == 1_996)
    }

    @Test func filesArePartitionedByTheUTCDateOfTheirRows() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        _ = try ingest([Self.sample], into: directory)
        for file in parquetFiles(under: directory.path + "/data/events") {
            let reader = try ParquetFileReader(path: file)
            let partition = URL(fileURLWithPath: file).deletingLastPathComponent().lastPathComponent
            guard case .int64(let timestamps, _) = try reader.readColumn(rowGroup: 0, column: 0) else {
                Issue.record("ts is not INT64")
                continue
            }
            for timestamp in timestamps {
                #expect("date=" + Timestamp.dateText(timestamp) == partition)
            }
        }
    }

    @Test func filesCarryTheirKlogsMetadataAndDefaultToLZ4Raw() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        _ = try ingest([Self.sample], into: directory) { $0.ipMode = [.hash, .truncate] }
        for file in parquetFiles(under: directory.path + "/data") {
            let reader = try ParquetFileReader(path: file)
                        #expect(reader.metadataValue(forKey: "klogs.schema_version") == DatasetName.schemaVersion)
            #expect(reader.metadataValue(forKey: "klogs.ip_mode") == "hash,truncate")
            #expect(reader.metadataValue(forKey: "klogs.dataset") == (file.contains("/events/") ? "events" : "hits"))
            #expect(reader.createdBy?.hasPrefix("klogs version ") == true)
            for column in 0..<reader.schema.columns.count {
                #expect(reader.rowGroups[0].columns[column].codec == .lz4Raw)
            }
        }
    }

    @Test func outputIsReadableByTheGroupOnlyAndNoTemporaryFileRemains() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        _ = try ingest([Self.sample], into: directory)
        for file in allFiles(under: directory.path + "/data") {
            let name = URL(fileURLWithPath: file).lastPathComponent
            #expect(!name.hasPrefix("."), "a temporary file was left behind: \(name)")
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            let mode = (attributes[.posixPermissions] as? Int ?? 0) & 0o777
            if file.contains("/_klogs/keys/") {
                #expect(mode == 0o600)
            } else {
                #expect(mode & 0o027 == 0, "\(name) has mode \(String(mode, radix: 8))")
            }
        }
    }

    @Test(arguments: ["hash", "truncate", "drop", "hash,truncate"])
    func noClientAddressOrUserAgentReachesAnyOutputByte(mode: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let summary = try ingest([Self.sample], into: directory) { $0.ipMode = IPMode(parsing: mode)! }
        var output = Data(summary.json.utf8) + Data(summary.text.utf8)
        for file in allFiles(under: directory.path + "/data") {
            output.append(try Data(contentsOf: URL(fileURLWithPath: file)))
        }
        // Every client field and user agent of the input, as logged.
        let log = try String(contentsOfFile: Self.sample, encoding: .utf8)
        var needles = Set<String>()
        for line in log.split(separator: "\n") {
            if let client = line.split(separator: " ").first, client.count >= 7 { needles.insert(String(client)) }
            let quoted = line.split(separator: "\"")
            if quoted.count >= 6, quoted[5].count > 20 { needles.insert(String(quoted[5])) }
        }
        #expect(needles.count > 100)
        for needle in needles {
            #expect(output.range(of: Data(needle.utf8)) == nil, "an input value reached the output")
        }
    }

    @Test func modesFillOnlyTheirOwnColumns() throws {
        for (mode, visitorNulls, networkNulls) in [("hash", false, true), ("truncate", true, false), ("drop", true, true)] {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            _ = try ingest([Self.sample], into: directory) { $0.ipMode = IPMode(parsing: mode)! }
            for file in parquetFiles(under: directory.path + "/data/events") {
                let reader = try ParquetFileReader(path: file)
                let visitors = try reader.readColumn(rowGroup: 0, column: 1)
                let networks = try reader.readColumn(rowGroup: 0, column: 2)
                #expect((visitors.nullCount == visitors.count) == visitorNulls, "visitor in \(mode) mode")
                if networkNulls {
                    #expect(networks.nullCount == networks.count, "client_net in \(mode) mode")
                } else {
                    #expect(networks.nullCount < networks.count / 10, "client_net in \(mode) mode")
                }
            }
        }
    }

    @Test func theSameVisitorOnTheSameDayHasTheSamePseudonymAcrossRuns() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let line = "198.51.100.7 - - [01/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"Mozilla/5.0 test\"\n"
        let other = "198.51.100.8 - - [01/Nov/2026:11:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"Mozilla/5.0 test\"\n"
        let nextDay = "198.51.100.7 - - [02/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"Mozilla/5.0 test\"\n"
        let first = try directory.file("a.log", Array((line + other + nextDay).utf8))
        let second = try directory.file("b.log", Array(line.utf8))
        // 2026-11-02 12:00 UTC: both days' keys are alive (older days get one-run keys, see PrivacyIngestTests).
        _ = try ingest([first], into: directory) { $0.currentTime = 1_793_620_800 }
        _ = try ingest([second], into: directory) { $0.currentTime = 1_793_620_800 }
        var pseudonyms: [String: [Int64]] = [:]
        for file in parquetFiles(under: directory.path + "/data/events") {
            let reader = try ParquetFileReader(path: file)
            guard case .int64(let values, _) = try reader.readColumn(rowGroup: 0, column: 1) else { continue }
            let partition = URL(fileURLWithPath: file).deletingLastPathComponent().lastPathComponent
            pseudonyms[partition, default: []].append(contentsOf: values)
        }
        let firstDay = try #require(pseudonyms["date=2026-11-01"]).sorted()
        let secondDay = try #require(pseudonyms["date=2026-11-02"])
        #expect(firstDay.count == 3)
        #expect(Set(firstDay).count == 2)  // the repeated visitor matches itself, the other differs
        #expect(!firstDay.contains(secondDay[0]))  // the next day's key gives an unrelated value
    }

    @Test func aTruncatedGzipKeepsWhatCameBeforeTheFaultAndSaysHowFarItGot() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let text = try Data(contentsOf: URL(fileURLWithPath: Self.sample))
        let compressed = gzip(Array(text))
        let cut = try directory.file("access.log.2.gz", Array(compressed.prefix(compressed.count / 2)))
        let whole = try directory.file("access.log.1", Array(text))
        let summary = try ingest([cut, whole], into: directory)
        #expect(summary.inputErrors.count == 1)
        #expect(summary.inputErrors.first?.contains("access.log.2.gz") == true)
        // The ledger recognises the whole file as the same data as the cut copy: it is read from where the cut
        // copy stopped, so every line counts once.
        #expect(summary.linesIngested == 1_996)
        #expect(try sum("hits", in: parquetFiles(under: directory.path + "/data/hits")) == summary.linesIngested)
    }

    @Test func aMultiMemberGzipIsReadToItsEnd() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let text = Array(try Data(contentsOf: URL(fileURLWithPath: Self.sample)))
        let half = text.firstIndex(of: UInt8(ascii: "\n"), after: text.count / 2)
        let members = gzip(Array(text[..<half])) + gzip(Array(text[half...]))
        let path = try directory.file("rotated.gz", members)
        let summary = try ingest([path], into: directory)
        #expect(summary.linesIngested == 1_996)
        #expect(summary.bytesRead == Int64(text.count))
    }

    @Test func withoutEventsOnlyTheHourlyDatasetIsWritten() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let summary = try ingest([Self.sample], into: directory) { $0.writeEvents = false }
        #expect(parquetFiles(under: directory.path + "/data/events").isEmpty)
        #expect(try sum("hits", in: parquetFiles(under: directory.path + "/data/hits")) == summary.linesIngested)
    }

    @Test func smallRowGroupsGiveTheSameTotalsAsOneBigOne() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var generator = LogGenerator(LogGenerator.Configuration(lines: 30_000, seed: 3, days: 2))
        let path = try directory.file("generated.log", generator.generateAll())
        let summary = try ingest([path], into: directory) { $0.rowGroupRows = 1_000 }
        let events = parquetFiles(under: directory.path + "/data/events")
        var rows = 0
        for file in events {
            let reader = try ParquetFileReader(path: file)
            #expect(reader.rowGroups.count > 1)
            rows += Int(reader.numberOfRows)
        }
        #expect(Int64(rows) == summary.linesIngested)
        #expect(try sum("hits", in: parquetFiles(under: directory.path + "/data/hits")) == summary.linesIngested)
        #expect(summary.linesIngested == Int64(generator.statistics.wellFormedLines))
    }
}

extension Array where Element == UInt8 {
    /// The index just past the first `byte` at or after `start`.
    fileprivate func firstIndex(of byte: UInt8, after start: Int) -> Int {
        var index = start
        while index < count, self[index] != byte { index += 1 }
        return Swift.min(index + 1, count)
    }
}
