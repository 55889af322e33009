import Foundation
import KlogsTestSupport
import Testing

@testable import KlogsIngest

@Suite("Ingest ledger, configuration file and retention")
struct BatchTests {
    @Test func aSourceIsRecognisedByItsHeadAndTheLongestMatchingHeadWins() {
        var ledger = Ledger()
        let short = Array("203.0.113.1 - - [01/Nov/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1\n".utf8)
        let long = short + Array(repeating: UInt8(ascii: "x"), count: 5000)
        func source(_ bytes: [UInt8], length: Int) -> Ledger.Source {
            let hash = bytes.withUnsafeBytes { Ledger.headHash(UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
            return Ledger.Source(
                head: hash, headLength: length, offset: Int64(length), size: Int64(length), lastPath: "a",
                updated: "")
        }
        ledger.sources = [source(short, length: short.count), source(long, length: Ledger.headLimit)]
        #expect(ledger.match(head: Array(long.prefix(Ledger.headLimit))) == 1)
        #expect(ledger.match(head: short + Array("more\n".utf8)) == 0)  // a short file that grew
        #expect(ledger.match(head: Array("other".utf8) + short) == nil)
        #expect(ledger.match(head: []) == nil)
    }

    @Test func theLedgerRoundTripsThroughJSON() throws {
        var ledger = Ledger()
        ledger.sources.append(
            Ledger.Source(
                head: "0123456789abcdef", headLength: 4096, offset: 10, size: 12, lastPath: "access.log",
                updated: "2026-11-22T00:00:00Z", completeCopies: ["1:2:3:4.5"]))
        ledger.files["hits/date=2026-11-01/part-r1-0.parquet"] = 42
        #expect(try Ledger.decode(ledger.encoded()) == ledger)
    }

    @Test func theExampleConfigurationParses() throws {
        let path = TestPaths.packageRoot.appendingPathComponent("docs/klogs.example.toml").path
        let file = try ConfigurationFile.load(path: path)
        #expect(file.ipMode == "hash")
        #expect(file.retentionDays == 365)
        #expect(file.flushInterval == 60)
        #expect(file.pathRewrites?.first?.replacement == "/user/:id")
        #expect(file.trustedProxies == nil)
        #expect(file.keyGrace == "48h")
        #expect(file.clientIPFrom == "client")
        #expect(file.maxPathLength == 1024)
        #expect(file.logLevel == "warning")
        #expect(file.rejects == nil && file.metricsFile == nil)
    }

    @Test func everyKeyOfTheFileIsReadIntoItsSetting() throws {
        let file = try ConfigurationFile.parse(
            """
            key_grace = "2d"
            client_ip_from = "x-forwarded-for"
            trusted_proxies = ["10.0.0.0/8"]
            max_path_length = 200
            rejects = "/tmp/rejects.txt"
            metrics_file = "/tmp/klogs.prom"
            log_level = "info"
            """)
        #expect(file.keyGrace == "2d")
        #expect(file.clientIPFrom == "x-forwarded-for")
        #expect(file.trustedProxies == ["10.0.0.0/8"])
        #expect(file.maxPathLength == 200)
        #expect(file.rejects == "/tmp/rejects.txt")
        #expect(file.metricsFile == "/tmp/klogs.prom")
        #expect(file.logLevel == "info")
    }

    @Test(arguments: [
        ("retension_days = 3", "unknown key 'retension_days'"),
        ("retention_days = \"a year\"", "'retention_days' must be an integer"),
        ("kept_query_params = [1]", "'kept_query_params' must be an array of strings"),
        ("[[path_rewrites]]\npattern = \"a\"\nreplace = \"b\"", "unknown key 'path_rewrites.replace'"),
        ("ip_mode = ", "not valid TOML"),
        ("max_path_length = \"long\"", "'max_path_length' must be an integer"),
        ("client_ip_from = 1", "'client_ip_from' must be a string"),
    ])
    func aBadConfigurationNamesTheKey(text: String, message: String) {
        #expect {
            _ = try ConfigurationFile.parse(text)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    /// Text that made the bundled toml++ abort the process (an assertion) before klogs checked it first; found by
    /// the FuzzConfig fuzz target (`[[[a`, `a=[}`, a byte order mark before `[«`, and `a = 5xx------- 2` are its crash inputs, minimised).
    @Test(arguments: [
        ("[[[a", "klogs.toml:1:3:"),
        ("[[[1]]]", "klogs.toml:1:3:"),
        ("data = \"x\"\n[.a]", "klogs.toml:2:2:"),
        ("[[ [a", "klogs.toml:1:4:"),
        ("[[,", "klogs.toml:1:3:"),
        ("[=", "klogs.toml:1:2:"),
        ("[ #c", "klogs.toml:1:3:"),
        ("[\na]", "klogs.toml:1:2:"),
        ("[\u{e9}]", "klogs.toml:1:2:"),
        ("\u{FEFF}[\u{AB}", "klogs.toml:1:5:"),
        ("a=[}", "klogs.toml:1:4:"),
        ("a = [1, }", "klogs.toml:1:9:"),
        ("a=[[}", "klogs.toml:1:5:"),
        ("a = [ # c\n}", "klogs.toml:2:1:"),
        ("a = [{b = 1}, }", "klogs.toml:1:15:"),
        ("a = {b = [}}", "klogs.toml:1:11:"),
        ("a = 5xx------- 2", "klogs.toml:1:5:"),
        ("a = [5\u{e9}\u{e9}------- 2]", "klogs.toml:1:6:"),
        ("0=" + String(repeating: "[", count: 147) + "}\"\n", "klogs.toml:1:11:"),
        ("a = {b = {c = {d = {e = {f = {g = {h = {i = {j = 1}}}}}}}}}", "klogs.toml:1:"),
        ("a = \"\\q\"", "klogs.toml:1:6:"),
        ("a = \"b\nc = 1", "klogs.toml:1:"),
        ("a = 1979-05-27 7:32:00", "klogs.toml:1:5:"),
        ("a = 1979-05-27T07:32", "klogs.toml:1:5:"),
        ("a = 1__0", "klogs.toml:1:5:"),
        ("a = 01", "klogs.toml:1:5:"),
        ("a = tru", "klogs.toml:1:5:"),
        ("a = 1 b", "klogs.toml:1:7:"),
        ("a = {b = 1,}", "klogs.toml:1:12:"),
        ("a = [1 2]", "klogs.toml:1:8:"),
        ("a = '''x", "klogs.toml:1:9:"),
        ("a = \"\\u12\"", "klogs.toml:1:6:"),
        ("[a]]", "klogs.toml:1:4:"),
        ("[[a]", "klogs.toml:1:5:"),
        ("a \n= 1", "klogs.toml:1:3:"),
        ("a = \r", "klogs.toml:1:5:"),
    ])
    func textThatWouldCrashTheTOMLParserIsASyntaxError(text: String, location: String) {
        #expect {
            _ = try ConfigurationFile.parse(text)
        } throws: { error in
            "\(error)".hasPrefix(location) && "\(error)".contains("not valid TOML")
        }
    }

    @Test func aFileThatIsNotUTF8NamesWhereItStopsBeingText() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("klogs-\(UUID()).toml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("data = \"x\"\nwait = 1 # \u{e9}".utf8 + [0xFF, 0x0A]).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try ConfigurationFile.load(path: path)
        } throws: { error in
            "\(error)" == "\(path):2:14: not valid TOML: the file is not UTF-8 text."
        }
    }

    /// A `[` that starts a line inside a multi-line string or an array is not a header; `}` closing an inline table
    /// inside an array is not a missing element.
    @Test func bracketsInsideValuesAreNotHeaders() throws {
        let text = #"""
            log_format = '''
            [$time_local] $remote_addr "$request" $status $body_bytes_sent'''
            json_fields = """
            [.x = \" ""
            [é"""
            trusted_proxies = [
              "10.0.0.0/8", # a comment with [.
            ]
            [[path_rewrites]]
            pattern = "[}"
            replacement = "x"
            """#
        #expect(TOMLPreflight.firstProblem(text) == nil)
        #expect(TOMLPreflight.firstProblem("a = [{b = 1}, {c = [2, 3]}, ]\nd = {e = 1}") == nil)
        let dates = "a = 1979-05-27 07:32:00Z\nb = 1979-05-27 07:32:00-08:00\nc = [1979-05-27, 2]\n1-2 = 3\nd = -1"
        #expect(TOMLPreflight.firstProblem(dates) == nil)
        let values = #"""
            a = "tab\t quote\" backslash\\ \u00e9 \U0001F600"
            b = 'C:\path'
            c = """
            one \
              two"""" # four quotes: one belongs to the string
            d = '''x''''
            e = [ 0x1f, 0o17, 0b101, +1_000, -0.5e-3, 6.02E+23, inf, -nan, true, false, ]
            f = 07:32:00.5
            g = 1979-05-27t07:32:00+01:00
            "quoted key".bare-key = { x = 1, y = [ "a", { z = 2 } ] }
            [ table . 'sub' ] # comment
            [[array.of]]
            """#
        #expect(TOMLPreflight.firstProblem(values) == nil)
        #expect(TOMLPreflight.firstProblem("a = 1\r\nb = 2\r\n") == nil)
        // The TOML parser reads it too: the first complaint is about the meaning, not the syntax.
        #expect {
            _ = try ConfigurationFile.parse(values)
        } throws: { error in
            "\(error)".contains("unknown key 'a'")
        }
        #expect(throws: Never.self) { try ConfigurationFile.parse("retention_days = 30\nwait = 1_000") }
        let config = try ConfigurationFile.parse(text)
        #expect(config.logFormat?.hasPrefix("[$time_local]") == true)
        #expect(config.jsonFields == "[.x = \" \"\"\n[é")
        #expect(config.trustedProxies == ["10.0.0.0/8"])
    }

    @Test func datesBecomeDayNumbers() {
        #expect(Retention.dayNumber(dateText: "1970-01-01") == 0)
        #expect(Retention.dayNumber(dateText: "2026-11-21") == 20_778)
        #expect(Retention.dayNumber(dateText: "2024-02-29") == 19_782)
        #expect(Retention.dayNumber(dateText: "2026-13-01") == nil)
        #expect(Retention.oldestKeptDay(retentionDays: 365, today: 20_778) == 20_413)
        #expect(Retention.oldestKeptDay(retentionDays: 0, today: 20_778) == .min)
    }

    @Test func recoveryRollsAnInterruptedCommitForwardAndRemovesOrphans() throws {
        let root = try TestPaths.makeTemporaryDirectory("klogs-batch").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let partition = "hits/date=2026-11-01"
        try FileManager.default.createDirectory(atPath: "\(root)/\(partition)", withIntermediateDirectories: true)
        func touch(_ relative: String) {
            _ = FileManager.default.createFile(atPath: "\(root)/\(relative)", contents: Data("x".utf8))
        }
        let staged = ["\(partition)/.klogs-1-999999999-a-1.staged", "\(partition)/.klogs-1-999999999-a-2.staged"]
        staged.forEach(touch)
        touch("\(partition)/.klogs-2-999999998-b-1.staged")  // a crashed run's file that no manifest names
        let ownName = "\(partition)/.klogs-3-\(ProcessInfo.processInfo.processIdentifier)-c-1.staged"
        touch(ownName)  // a live writer's file (this process)
        touch("\(partition)/part-old.parquet")
        var ledger = Ledger()
        ledger.files = ["\(partition)/part-r1-0.parquet": 1, "\(partition)/part-r1-1.parquet": 1]
        let transaction = Transaction(
            identifier: "t1",
            renames: [
                [staged[0], "\(partition)/part-r1-0.parquet"],
                [staged[1], "\(partition)/part-r1-1.parquet"],
            ],
            deletes: ["\(partition)/part-old.parquet"], ledger: ledger)
        // The commit point was reached, then the process died after the first rename.
        try FileSystem.createDirectory(atPath: Transaction.pendingDirectory(root))
        try writeFileAtomically(
            path: Transaction.pendingDirectory(root) + "/t1.json", data: JSONEncoder().encode(transaction))
        try FileManager.default.moveItem(
            atPath: "\(root)/\(staged[0])", toPath: "\(root)/\(partition)/part-r1-0.parquet")

        let result = try Transaction.recover(dataDirectory: root)
        #expect(result.rolledForward == 1)
        #expect(result.removed == 1)
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: "\(root)/\(partition)"))
        #expect(names == ["part-r1-0.parquet", "part-r1-1.parquet", String(ownName.split(separator: "/").last!)])
        #expect(try Ledger.load(dataDirectory: root) == ledger)
        #expect(try FileManager.default.contentsOfDirectory(atPath: Transaction.pendingDirectory(root)).isEmpty)
        // Idempotent.
        let again = try Transaction.recover(dataDirectory: root)
        #expect(again.rolledForward == 0 && again.removed == 0)
    }
}
