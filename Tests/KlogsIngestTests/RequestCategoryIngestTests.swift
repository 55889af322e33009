import Foundation
import KlogsCore
import KlogsParquet
import Testing

@testable import KlogsIngest

/// The `kind` column written by an ingest, in both datasets.
@Suite struct RequestCategoryIngestTests {
    static let browser = "Mozilla/5.0 (X11; Linux x86_64; rv:144.0) Gecko/20100101 Firefox/144.0"
    static let crawler = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

    /// One combined line at 10:00 UTC on 1 November 2026 from a documentation address.
    static func line(_ request: String, _ status: Int, agent: String = browser) -> String {
        "192.0.2.1 - - [01/Nov/2026:10:00:00 +0000] \"\(request) HTTP/1.1\" \(status) 100 \"-\" \"\(agent)\"\n"
    }

    static let lines: [(line: String, kind: String)] = [
        (line("GET /", 200), "page"),
        (line("GET /blog/post?utm_source=x", 200), "page"),
        (line("GET /static/app.js", 200), "asset"),
        (line("GET /img/logo.PNG", 304), "asset"),
        (line("GET /missing", 404), "error"),
        (line("POST /login", 302), "other"),
        (line("GET /", 200, agent: crawler), "other"),
        (line("GET /docs/a.pdf", 200), "page"),
    ]

    /// The `kind` values of every row of a dataset (each `hits` row repeated `hits` times).
    func kinds(_ dataset: DatasetName, under root: String) throws -> [String: Int64] {
        var counts: [String: Int64] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root + "/" + dataset.rawValue)
        while let name = enumerator?.nextObject() as? String {
            guard name.hasSuffix(".parquet") else { continue }
            let reader = try ParquetFileReader(path: root + "/" + dataset.rawValue + "/" + name)
            for group in reader.rowGroups.indices {
                let kinds = try reader.readColumn(rowGroup: group, named: "kind")
                let hits: [Int64]
                if dataset == .hits, case .int64(let values, _) = try reader.readColumn(rowGroup: group, named: "hits")
                {
                    hits = values
                } else {
                    hits = Array(repeating: 1, count: kinds.count)
                }
                for row in 0..<kinds.count { counts[kinds.string(at: row) ?? "null", default: 0] += hits[row] }
            }
        }
        return counts
    }

    func ingest(_ adjust: (inout IngestConfiguration) -> Void = { _ in }) throws -> (TemporaryDirectory, String) {
        let directory = try TemporaryDirectory()
        let log = try directory.file("access.log", Array(Self.lines.map(\.line).joined().utf8))
        var configuration = IngestConfiguration(dataDirectory: directory.path + "/data", inputs: [log])
        configuration.batch.retentionDays = 0
        adjust(&configuration)
        _ = try Ingestor(configuration: configuration).run()
        return (directory, directory.path + "/data")
    }

    @Test func everyRowHasItsKindInEventsAndHits() throws {
        let (directory, data) = try ingest()
        defer { directory.remove() }
        let expected = Dictionary(Self.lines.map { ($0.kind, Int64(1)) }, uniquingKeysWith: +)
        #expect(try kinds(.events, under: data) == expected)
        #expect(try kinds(.hits, under: data) == expected)
    }

    @Test func assetExtensionsReplaceTheDefaultList() throws {
        let (directory, data) = try ingest { $0.assetExtensions = AssetExtensions(["pdf"])! }
        defer { directory.remove() }
        // app.js and logo.PNG are pages now (the 304 too), a.pdf an asset.
        #expect(try kinds(.events, under: data) == ["page": 4, "asset": 1, "error": 1, "other": 2])
    }
}
