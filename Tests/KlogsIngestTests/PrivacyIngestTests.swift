import Foundation
import Glibc
import KlogsCore
import KlogsParquet
import KlogsTestSupport
import Testing

@testable import KlogsIngest

/// The privacy promises of an ingest run end to end: key lifecycle, client selection, stored paths, reject
/// reports, and no canary value anywhere in the output (docs/PRIVACY.md).
@Suite struct PrivacyIngestTests {
    /// 2026-11-01 as days since the epoch.
    static let november1 = 20_758

    static func line(
        _ client: String, day: Int = 1, hour: Int = 10, path: String = "/", referrer: String = "-",
        agent: String = "Mozilla/5.0 test", status: Int = 200
    ) -> String {
        let dayText = day < 10 ? "0\(day)" : "\(day)"
        let hourText = hour < 10 ? "0\(hour)" : "\(hour)"
        return "\(client) - - [\(dayText)/Nov/2026:\(hourText):00:00 +0000] \"GET \(path) HTTP/1.1\" \(status) 5 "
            + "\"\(referrer)\" \"\(agent)\"\n"
    }

    /// Seconds since the epoch at `hour`:00 UTC of a November 2026 day.
    static func time(november day: Int, hour: Int = 12) -> Int64 {
        Int64(november1 + day - 1) * 86_400 + Int64(hour) * 3600
    }

    func ingest(
        _ inputs: [String], into directory: TemporaryDirectory, _ adjust: (inout IngestConfiguration) -> Void = { _ in }
    ) throws -> IngestSummary {
        // These tests read the same log again on purpose, to compare pseudonyms across runs: forget the ingest
        // ledger, which would otherwise (rightly) skip a log it has read.
        try? FileManager.default.removeItem(atPath: directory.path + "/data/_klogs/ledger.json")
        var configuration = IngestConfiguration(dataDirectory: directory.path + "/data", inputs: inputs)
        configuration.currentTime = Self.time(november: 2)
        adjust(&configuration)
        return try Ingestor(configuration: configuration).run()
    }

    /// The values of a column in every `events` file, keyed by partition (`date=2026-11-01`).
    func column(_ name: String, in directory: TemporaryDirectory) throws -> [String: [ColumnValues]] {
        var result: [String: [ColumnValues]] = [:]
        let root = directory.path + "/data/events"
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let file = enumerator?.nextObject() as? String {
            guard file.hasSuffix(".parquet") else { continue }
            let reader = try ParquetFileReader(path: root + "/" + file)
            let index = try #require(reader.schema.index(of: name))
            let partition = String(file.split(separator: "/")[0])
            for rowGroup in 0..<reader.rowGroups.count {
                result[partition, default: []].append(try reader.readColumn(rowGroup: rowGroup, column: index))
            }
        }
        return result
    }

    func pseudonyms(in directory: TemporaryDirectory, partition: String) throws -> [Int64] {
        try (column("visitor", in: directory)[partition] ?? []).flatMap { values -> [Int64] in
            guard case .int64(let numbers, _) = values else { return [] }
            return numbers
        }
    }

    func strings(_ name: String, in directory: TemporaryDirectory) throws -> [String?] {
        try column(name, in: directory).values.flatMap { $0 }.flatMap { values in
            (0..<values.count).map { values.string(at: $0) }
        }
    }

    func keyDays(in directory: TemporaryDirectory) throws -> [Int] {
        try KeyStore(dataDirectory: directory.path + "/data").storedDays()
    }

    // MARK: Key lifecycle

    @Test func aDaysKeyLivesUntilTheGracePeriodAfterTheDayEnds() {
        let lifecycle = KeyLifecycle(graceSeconds: 48 * 3600, now: Self.time(november: 4, hour: 0))
        // 2026-11-01 ended at 11-02 00:00; plus 48 h is 11-04 00:00: its key is due now.
        #expect(lifecycle.isExpired(day: Self.november1))
        #expect(!lifecycle.isExpired(day: Self.november1 + 1))
        let justBefore = KeyLifecycle(graceSeconds: 48 * 3600, now: Self.time(november: 4, hour: 0) - 1)
        #expect(!justBefore.isExpired(day: Self.november1))
        let noGrace = KeyLifecycle(graceSeconds: 0, now: Self.time(november: 2, hour: 0))
        #expect(noGrace.isExpired(day: Self.november1))
        #expect(!noGrace.isExpired(day: Self.november1 + 1))
        #expect(KeyLifecycle.parseDuration("48h") == 172_800)
        #expect(KeyLifecycle.parseDuration("2d") == 172_800)
        #expect(KeyLifecycle.parseDuration("90m") == 5400)
        #expect(KeyLifecycle.parseDuration("36") == 129_600)
        #expect(KeyLifecycle.parseDuration("0h") == 0)
        for bad in ["", "h", "-1h", "2w", "1.5h", "400d", "9999999999"] {
            #expect(KeyLifecycle.parseDuration(bad) == nil, "\(bad)")
        }
    }

    @Test(arguments: ["hash", "truncate", "drop"])
    func everyIngestDestroysTheKeysPastTheirGrace(mode: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try KeyStore(dataDirectory: directory.path + "/data")
        for day in [Self.november1, Self.november1 + 2, Self.november1 + 3, Self.november1 + 4] {
            _ = try store.key(for: day)
        }
        let log = try directory.file("a.log", Array(Self.line("198.51.100.7", day: 5).utf8))
        let summary = try ingest([log], into: directory) {
            $0.ipMode = IPMode(parsing: mode)!
            $0.currentTime = Self.time(november: 5)
        }
        // Now 11-05 12:00: the key of 11-01 died at 11-04 00:00; 11-03's lives until 11-06 00:00.
        #expect(summary.keysExpired == 1)
        var expected = [Self.november1 + 2, Self.november1 + 3, Self.november1 + 4]
        if mode == "hash" { expected.append(Self.november1 + 4) }
        #expect(try keyDays(in: directory) == Array(Set(expected)).sorted())
        #expect(summary.json.contains("\"keys_expired\":1"))
    }

    @Test func lateLinesGetAOneRunKeyThatMatchesNothingStored() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let log = try directory.file(
            "a.log",
            Array((Self.line("198.51.100.7") + Self.line("198.51.100.7", hour: 11) + Self.line("198.51.100.8")).utf8))
        // While the key of 11-01 lives, two runs agree.
        let first = try ingest([log], into: directory) { $0.currentTime = Self.time(november: 2) }
        #expect(first.lateLinesEphemeralKey == 0)
        let stored = try pseudonyms(in: directory, partition: "date=2026-11-01")
        #expect(stored.count == 3 && Set(stored).count == 2)
        _ = try ingest([log], into: directory) { $0.currentTime = Self.time(november: 3) }
        #expect(Set(try pseudonyms(in: directory, partition: "date=2026-11-01")) == Set(stored))
        #expect(try keyDays(in: directory) == [Self.november1])

        // Once the day is more than 48 h in the past its key is destroyed, and re-ingesting the log gives values
        // that match nothing stored, while still linking within the run.
        let late = try ingest([log], into: directory) { $0.currentTime = Self.time(november: 4, hour: 1) }
        #expect(late.keysExpired == 1)
        #expect(late.lateLinesEphemeralKey == 3)
        #expect(late.json.contains("\"late_lines_ephemeral_key\":3"))
        #expect(late.text.contains("3 late lines"))
        #expect(try keyDays(in: directory) == [])
        let all = try pseudonyms(in: directory, partition: "date=2026-11-01")
        let fresh = all.filter { !stored.contains($0) }
        #expect(fresh.count == 3 && Set(fresh).count == 2)

        // A second late run gets yet another key: nothing links across runs either.
        _ = try ingest([log], into: directory) { $0.currentTime = Self.time(november: 4, hour: 2) }
        let again = try pseudonyms(in: directory, partition: "date=2026-11-01").filter {
            !stored.contains($0) && !fresh.contains($0)
        }
        #expect(again.count == 3)
    }

    @Test func theSameVisitorGetsTheSamePseudonymAcrossFilesAndAnotherOneTheNextDay() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let a = try directory.file("a.log", Array((Self.line("2001:db8::7") + Self.line("198.51.100.7")).utf8))
        let b = try directory.file(
            "b.log", Array((Self.line("2001:DB8:0:0::7", hour: 20) + Self.line("2001:db8::7", day: 2)).utf8))
        _ = try ingest([a, b], into: directory)
        let first = try pseudonyms(in: directory, partition: "date=2026-11-01")
        let second = try pseudonyms(in: directory, partition: "date=2026-11-02")
        #expect(first.count == 3 && Set(first).count == 2)
        #expect(!first.contains(second[0]))
    }

    @Test func aKeyDirectoryOthersCanReadIsRefusedWithTheFix() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        _ = try KeyStore(dataDirectory: directory.path + "/data")
        let keys = directory.path + "/data/_klogs/keys"
        var status = stat()
        #expect(stat(keys, &status) == 0 && status.st_mode & 0o777 == 0o700)
        _ = chmod(keys, 0o755)
        let log = try directory.file("a.log", Array(Self.line("198.51.100.7").utf8))
        for mode in ["hash", "truncate"] {
            do {
                _ = try ingest([log], into: directory) { $0.ipMode = IPMode(parsing: mode)! }
                Issue.record("a world-readable key directory was used in \(mode) mode")
            } catch let failure as IngestFailure {
                #expect(failure.message.contains("chmod 700"))
            }
        }
    }

    // MARK: Clients

    @Test func xForwardedForSkipsTrustedProxiesAndIgnoresSpoofedEntries() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let text =
            Self.line("6.6.6.6, 203.0.113.7, 10.0.0.1")  // a spoofed left-most entry
            + Self.line("203.0.113.8, 10.0.0.1, 10.0.0.2")
            + Self.line("198.51.100.9")
            + Self.line("unknown, 10.0.0.1")
            + Self.line("-")
        let log = try directory.file("a.log", Array(text.utf8))
        let summary = try ingest([log], into: directory) {
            $0.ipMode = .truncate
            $0.clientAddressSource = .forwardedFor
            $0.trustedProxies = ["10.0.0.0/8"].compactMap(NetworkPrefix.init)
        }
        #expect(summary.linesIngested == 5)
        let networks = try strings("client_net", in: directory)
        #expect(
            networks.sorted { ($0 ?? "") < ($1 ?? "") } == [
                nil, nil, "198.51.100.0/24", "203.0.113.0/24", "203.0.113.0/24",
            ])
        #expect(summary.clientsFromForwardedFor == 1)  // the spoofed line; the second picks its left-most
        #expect(summary.clientsInvalid == 2)
        #expect(summary.json.contains("\"clients_invalid\":2"))
    }

    @Test func aLoggedXForwardedForFieldIsTheChainAndTheClientFieldItsLastHop() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        func line(_ peer: String, _ forwarded: String) -> String {
            Self.line(peer).dropLast() + " \"\(forwarded)\"\n"
        }
        let text =
            line("10.0.0.5", "6.6.6.6, 203.0.113.7")  // via our proxy: the spoofed left-most entry is skipped
            + line("10.0.0.5", "203.0.113.8, 10.0.0.9")
            + line("198.51.100.3", "-")  // no header: the peer
            + line("198.51.100.4", "203.0.113.9")  // an untrusted peer: its header cannot be believed
            + line("10.0.0.5", "unknown")
        let log = try directory.file("a.log", Array(text.utf8))
        let summary = try ingest([log], into: directory) {
            $0.format = LogFormat.preset(named: "combined-xff")
            $0.ipMode = .truncate
            $0.clientAddressSource = .forwardedFor
            $0.trustedProxies = ["10.0.0.0/8"].compactMap(NetworkPrefix.init)
        }
        #expect(summary.linesIngested == 5)
        let networks = try strings("client_net", in: directory).map { $0 ?? "null" }.sorted()
        #expect(networks == ["198.51.100.0/24", "198.51.100.0/24", "203.0.113.0/24", "203.0.113.0/24", "null"])
        #expect(summary.clientsInvalid == 1)
        #expect(summary.clientsFromForwardedFor == 2)
    }

    // MARK: Paths and rejects

    @Test func storedPathsAreRewrittenMaskedFilteredAndCapped() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let long = "/" + String(repeating: "a", count: 100)
        let text =
            Self.line("198.51.100.7", path: "/user/12345/profile?utm_source=news&token=s3cret#frag")
            + Self.line("198.51.100.7", path: "/lookup/203.0.113.99")
            + Self.line("198.51.100.7", path: "/search?q=me&utm_medium=mail")
            + Self.line("198.51.100.7", path: long)
            + Self.line("198.51.100.7", path: "/caf%C3%A9")
            + Self.line("198.51.100.7", referrer: "http://203.0.113.99.nip.io/x?ip=203.0.113.99")
        let log = try directory.file("a.log", Array(text.utf8))
        let summary = try ingest([log], into: directory) {
            $0.pathRewrites = ["/user/[0-9]+=/user/:id"]
            $0.keepQueryParameters = ["utm_source", "utm_medium"]
            $0.maximumPathLength = 64
        }
        let paths = Set(try strings("path", in: directory).compactMap { $0 })
        #expect(
            paths == [
                "/user/:id/profile?utm_source=news", "/lookup/:ip", "/search?utm_medium=mail",
                String(long.prefix(64)), "/caf%C3%A9", "/",
            ])
        #expect(try strings("referrer_host", in: directory).contains("[ip]"))
        #expect(summary.pathsTruncated == 1)
        #expect(summary.pathsAddressMasked == 1)
        #expect(summary.queriesDropped == 2)
    }

    /// A path is looked up by its logged bytes once it is known (`PrivacyFilters.storedPathId`): a repeated path
    /// with an address must be masked every time, and a logged path equal to a masked one must stay as it is.
    @Test(arguments: [1, 2]) func aRepeatedPathIsMaskedOnEveryLine(threads: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let logged = [
            "/lookup/203.0.113.99", "/lookup/:ip", "/lookup/203.0.113.99", "/v6/2001:db8::1?q=1", "/lookup/:ip",
            "/v6/2001:db8::1", "/plain?token=s3cret", "/plain", "/lookup/203.0.113.99", "/plain?",
        ]
        let text = logged.map { Self.line("198.51.100.7", path: $0) }.joined()
        let log = try directory.file("a.log", Array(text.utf8))
        let summary = try ingest([log], into: directory) { $0.threads = threads }
        let paths = try strings("path", in: directory).compactMap { $0 }.sorted()
        let expected =
            Array(repeating: "/lookup/:ip", count: 5) + Array(repeating: "/plain", count: 3)
            + Array(repeating: "/v6/:ip", count: 2)
        #expect(paths == expected)
        #expect(summary.pathsAddressMasked == 5)
        #expect(summary.queriesDropped == 2)
    }

    @Test func aVirtualHostHoldingAnAddressIsStoredAsAMarker() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let text =
            "203.0.113.61:80 " + Self.line("198.51.100.7") + "Example.COM:443 " + Self.line("198.51.100.7")
        let log = try directory.file("a.log", Array(text.utf8))
        _ = try ingest([log], into: directory) { $0.format = .virtualHostCombined }
        #expect(Set(try strings("vhost", in: directory)) == ["[ip]", "example.com"])
    }

    @Test func rejectedLinesAreReportedByFileLineAndReasonOnly() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let text =
            Self.line("198.51.100.7")
            + "203.0.113.50 - - [99/Nov/2026:10:00:00 +0000] \"GET /?secret=canary HTTP/1.1\" 200 5 \"-\" \"agent\"\n"
            + "garbage from 203.0.113.51\n"
            + Self.line("198.51.100.7")
        let log = try directory.file("a.log", Array(text.utf8))
        let report = directory.path + "/rejects.txt"
        let summary = try ingest([log, log], into: directory) { $0.rejectsPath = report }
        let lines = try String(contentsOfFile: report, encoding: .utf8).split(separator: "\n").map(String.init)
        // The second mention of the same file is skipped by the ingest ledger (already read in this run).
        #expect(lines == ["\(log):2: bad_timestamp", "\(log):3: missing_field"])
        #expect(summary.rejectsReported == 2)
        var status = stat()
        #expect(stat(report, &status) == 0 && status.st_mode & 0o037 == 0)
    }
}
