import Foundation
import KlogsTestSupport
import Testing

@testable import KlogsParquet

/// Why a Python-backed check could not run.
struct PythonFailure: Error, CustomStringConvertible { var description: String }

/// Runs a Python script with pyarrow and duckdb and decodes its standard output as JSON.
///
/// A missing interpreter or a failing script fails the test with the reason; interop is never skipped silently.
func runPythonJSON<T: Decodable>(_ script: String, _ arguments: [String], as type: T.Type) throws -> T {
    let python = TestPaths.python
    guard FileManager.default.isExecutableFile(atPath: python.path) else {
        throw PythonFailure(description: """
            No Python interpreter at \(python.path): the interop tests need pyarrow and duckdb. \
            Run `make venv`, or set KLOGS_PYTHON to a python that has them (e.g. /work/main/.venv/bin/python).
            """)
    }
    let result = try runPython(script, arguments)
    guard result.status == 0 else {
        throw PythonFailure(description: "python exited with \(result.status):\n\(result.standardError)")
    }
    do {
        return try JSONDecoder().decode(T.self, from: Data(result.standardOutput.utf8))
    } catch {
        throw PythonFailure(description: "python printed unexpected output (\(error)):\n\(result.standardOutput.prefix(2000))\n\(result.standardError)")
    }
}

/// Python's tagged value notation (`null`, `b:true`, `i:42`, `s:text`) as a ``Cell``.
func cell(tagged: String?) -> Cell {
    guard let tagged else { return .null }
    let payload = String(tagged.dropFirst(2))
    switch tagged.prefix(2) {
    case "b:": return .boolean(payload == "true")
    case "i:": return .integer(Int64(payload)!)
    default: return .bytes(Array(payload.utf8))
    }
}

/// Shared Python helpers: tag values so JSON keeps 64-bit integers and types exact.
let pythonPrelude = """
    import json, sys
    import pyarrow as pa, pyarrow.parquet as pq, pyarrow.compute as pc
    def tag(v):
        if v is None: return None
        if isinstance(v, bool): return "b:true" if v else "b:false"
        if isinstance(v, int): return "i:%d" % v
        return "s:" + v
    def tagged_column(col):
        if pa.types.is_timestamp(col.type): col = col.cast(pa.int64())
        return [tag(v) for v in col.to_pylist()]

    """

@Suite("Interoperability with pyarrow and DuckDB")
struct InteropTests {
    static func sampleFile(compression: ParquetCompression) throws -> (path: URL, schema: ParquetSchema, groups: [[ColumnValues]]) {
        var random = SeededRandom(seed: 2026)
        var columns: [ParquetColumn] = []
        for kind in ColumnKind.allCases {
            columns.append(kind.column("\(kind.rawValue)_required", optional: false))
            columns.append(kind.column("\(kind.rawValue)_optional", optional: true))
        }
        columns.append(.string("all_null", optional: true))
        let schema = ParquetSchema(columns: columns)
        let groups: [[ColumnValues]] = [3000, 1234].map { rows in
            ColumnKind.allCases.flatMap { kind in
                [randomValues(kind, count: rows, optional: false, random: &random),
                 randomValues(kind, count: rows, optional: true, random: &random)]
            } + [.strings(StringColumn(Array(repeating: nil, count: rows)))]
        }
        let options = ParquetWriterOptions(
            compression: compression, dataPageSize: 4096, createdBy: "klogs version 0.1.0 (build interop)",
            keyValueMetadata: [("klogs.schema_version", "1")])
        let bytes = try writeInMemory(schema: schema, rowGroups: groups, options: options)
        let directory = try TestPaths.makeTemporaryDirectory("klogs-parquet-interop")
        let path = directory.appendingPathComponent("sample.parquet")
        try Data(bytes).write(to: path)
        return (path, schema, groups)
    }

    struct PyarrowReport: Decodable {
        var columns: [String: [String?]]
        var types: [String: String]
        var compressions: [String]
        var statisticsProblems: [String]
        var createdBy: String
        var metadata: [String: String]
        var numRows: Int
        var rowGroups: Int
    }

    @Test("pyarrow reads our files with the values, types, codec and statistics we wrote", arguments: ParquetCompression.allCases)
    func pyarrowReadsOurFiles(compression: ParquetCompression) throws {
        let (path, schema, groups) = try Self.sampleFile(compression: compression)
        defer { try? FileManager.default.removeItem(at: path.deletingLastPathComponent()) }
        let script = pythonPrelude + """
            f = pq.ParquetFile(sys.argv[1])
            t = pq.read_table(sys.argv[1])
            md = f.metadata
            problems = []
            compressions = set()
            for g in range(md.num_row_groups):
                part = f.read_row_group(g)
                for c in range(md.num_columns):
                    cc = md.row_group(g).column(c)
                    compressions.add(cc.compression)
                    name = cc.path_in_schema
                    col = part.column(name)
                    s = cc.statistics
                    if s is None:
                        problems.append("%s: no statistics" % name); continue
                    if s.null_count != col.null_count:
                        problems.append("%s: null_count %s, expected %s" % (name, s.null_count, col.null_count))
                    if col.null_count == len(col):
                        if s.has_min_max: problems.append("%s: min/max on an all-null chunk" % name)
                        continue
                    if not s.has_min_max:
                        problems.append("%s: no min/max" % name); continue
                    mm = pc.min_max(col)
                    lo, hi = mm["min"].as_py(), mm["max"].as_py()
                    if pa.types.is_string(col.type):
                        # Parquet orders strings byte-wise; compare as UTF-8 bytes.
                        vals = [v.encode() for v in col.to_pylist() if v is not None]
                        lo, hi = min(vals).decode(), max(vals).decode()
                    if s.min != lo or s.max != hi:
                        problems.append("%s: min/max %r/%r, expected %r/%r" % (name, s.min, s.max, lo, hi))
            print(json.dumps({
                "columns": {n: tagged_column(t.column(n)) for n in t.column_names},
                "types": {fld.name: str(fld.type) for fld in t.schema},
                "compressions": sorted(compressions),
                "statisticsProblems": problems,
                "createdBy": md.created_by,
                "metadata": {k.decode(): v.decode() for k, v in (md.metadata or {}).items()},
                "numRows": md.num_rows,
                "rowGroups": md.num_row_groups,
            }))
            """
        let report = try runPythonJSON(script, [path.path], as: PyarrowReport.self)
        #expect(report.numRows == 4234)
        #expect(report.rowGroups == 2)
        #expect(report.compressions == [compression == .lz4Raw ? "LZ4" : "UNCOMPRESSED"])
        #expect(report.statisticsProblems == [])
        #expect(report.createdBy == "klogs version 0.1.0 (build interop)")
        #expect(report.metadata["klogs.schema_version"] == "1")
        for (index, column) in schema.columns.enumerated() {
            let expected = groups.flatMap { cells($0[index]) }
            #expect(report.columns[column.name]?.map(cell(tagged:)) == expected, "column \(column.name)")
        }
        #expect(report.types["timestamp_required"] == "timestamp[ms, tz=UTC]")
        #expect(report.types["plainStrings_optional"] == "string")
        #expect(report.types["boolean_required"] == "bool")
        #expect(report.types["int32_optional"] == "int32")
        #expect(report.types["int64_required"] == "int64")
    }

    @Test("pyarrow verifies the page checksums we write")
    func pyarrowVerifiesOurChecksums() throws {
        let directory = try TestPaths.makeTemporaryDirectory("klogs-parquet-crc")
        defer { try? FileManager.default.removeItem(at: directory) }
        var random = SeededRandom(seed: 12)
        let values = [randomValues(.dictionaryStrings, count: 3000, optional: true, random: &random),
                      randomValues(.int64, count: 3000, optional: true, random: &random)]
        let schema = ParquetSchema(columns: [.string("s", optional: true), ParquetColumn(name: "n", type: .int64, isOptional: true)])
        var bytes = try writeInMemory(schema: schema, rowGroups: [values],
                                      options: ParquetWriterOptions(dataPageSize: 1000, writesPageChecksums: true))
        let good = directory.appendingPathComponent("good.parquet")
        try Data(bytes).write(to: good)
        bytes[bytes.count / 3] ^= 0x10
        let bad = directory.appendingPathComponent("bad.parquet")
        try Data(bytes).write(to: bad)
        let script = """
            import json, sys
            import pyarrow.parquet as pq
            rows = pq.read_table(sys.argv[1], page_checksum_verification=True).num_rows
            try:
                pq.read_table(sys.argv[2], page_checksum_verification=True)
                bad = "accepted"
            except Exception as e:
                bad = str(e)
            print(json.dumps({"rows": rows, "bad": bad}))
            """
        struct Report: Decodable { var rows: Int; var bad: String }
        let report = try runPythonJSON(script, [good.path, bad.path], as: Report.self)
        #expect(report.rows == 3000)
        #expect(report.bad != "accepted")
    }

    @Test("pyarrow and DuckDB read a file with no rows")
    func zeroRowFileInterop() throws {
        let directory = try TestPaths.makeTemporaryDirectory("klogs-parquet-empty")
        defer { try? FileManager.default.removeItem(at: directory) }
        let schema = ParquetSchema(columns: [.timestampMilliseconds("ts"), .string("path", optional: true)])
        let bytes = try writeInMemory(schema: schema, rowGroups: [])
        let path = directory.appendingPathComponent("empty.parquet")
        try Data(bytes).write(to: path)
        let script = """
            import json, sys, duckdb
            import pyarrow.parquet as pq
            t = pq.read_table(sys.argv[1])
            n = duckdb.connect().execute("select count(*) from read_parquet(?)", [sys.argv[1]]).fetchone()[0]
            print(json.dumps({"rows": t.num_rows, "names": t.column_names, "types": [str(f.type) for f in t.schema], "duckdb": n}))
            """
        struct Report: Decodable { var rows: Int; var names: [String]; var types: [String]; var duckdb: Int }
        let report = try runPythonJSON(script, [path.path], as: Report.self)
        #expect(report.rows == 0)
        #expect(report.duckdb == 0)
        #expect(report.names == ["ts", "path"])
        #expect(report.types == ["timestamp[ms, tz=UTC]", "string"])
    }

    struct DuckDBReport: Decodable {
        var compressions: [String]
        var schema: [String: [String?]]
        var sums: [String: String?]
        var counts: [String: String]
        var describe: [String: String]
    }

    @Test("DuckDB reads our files: LZ4_RAW codec, schema types, sums and UTC timestamps")
    func duckdbReadsOurFiles() throws {
        let (path, schema, groups) = try Self.sampleFile(compression: .lz4Raw)
        defer { try? FileManager.default.removeItem(at: path.deletingLastPathComponent()) }
        let script = """
            import json, sys, duckdb
            p = sys.argv[1]
            con = duckdb.connect()
            comp = [r[0] for r in con.execute("select distinct compression from parquet_metadata(?)", [p]).fetchall()]
            schema = {r[0]: [str(r[1]), str(r[2]) if r[2] is not None else None, str(r[3]) if r[3] is not None else None]
                      for r in con.execute("select name, type, converted_type, logical_type from parquet_schema(?)", [p]).fetchall()}
            cols = ["int32_required", "int32_optional", "timestamp_required", "timestamp_optional"]
            sums = {}
            for c in cols:
                expr = ('epoch_ms("%s")' if c.startswith("timestamp") else '"%s"') % c
                v = con.execute('select sum(%s)::varchar from read_parquet(?)' % expr, [p]).fetchone()[0]
                sums[c] = v
            counts = {}
            for c in ["dictionaryStrings_optional", "plainStrings_required", "boolean_optional", "all_null"]:
                counts[c] = str(con.execute('select count("%s") from read_parquet(?)' % c, [p]).fetchone()[0])
            counts["true"] = str(con.execute('select count(*) from read_parquet(?) where boolean_required', [p]).fetchone()[0])
            describe = {r[0]: r[1] for r in con.execute("describe select * from read_parquet(?)", [p]).fetchall()}
            print(json.dumps({"compressions": comp, "schema": schema, "sums": sums, "counts": counts, "describe": describe}))
            """
        let report = try runPythonJSON(script, [path.path], as: DuckDBReport.self)
        #expect(report.compressions == ["LZ4_RAW"])
        #expect(report.schema["int32_required"]?.first == "INT32")
        #expect(report.schema["int64_optional"]?.first == "INT64")
        #expect(report.schema["boolean_required"]?.first == "BOOLEAN")
        #expect(report.schema["plainStrings_required"]?.first == "BYTE_ARRAY")
        #expect(report.schema["plainStrings_required"]?[1] == "UTF8")
        #expect(report.schema["timestamp_required"]?[1] == "TIMESTAMP_MILLIS")
        #expect(report.describe["timestamp_required"] == "TIMESTAMP WITH TIME ZONE")
        #expect(report.describe["plainStrings_optional"] == "VARCHAR")
        #expect(report.describe["boolean_optional"] == "BOOLEAN")

        func column(_ name: String) -> [Cell] {
            let index = schema.index(of: name)!
            return groups.flatMap { cells($0[index]) }
        }
        for name in ["int32_required", "int32_optional", "timestamp_required", "timestamp_optional"] {
            let sum = column(name).reduce(Int64(0)) { total, cell in
                if case .integer(let value) = cell { return total + value }
                return total
            }
            #expect(report.sums[name] == .some(String(sum)), "sum of \(name)")
        }
        func present(_ name: String) -> Int { column(name).count { $0 != .null } }
        #expect(report.counts["dictionaryStrings_optional"] == String(present("dictionaryStrings_optional")))
        #expect(report.counts["plainStrings_required"] == "4234")
        #expect(report.counts["boolean_optional"] == String(present("boolean_optional")))
        #expect(report.counts["all_null"] == "0")
        #expect(report.counts["true"] == String(column("boolean_required").count { $0 == .boolean(true) }))
    }

    struct PyarrowFiles: Decodable {
        struct File: Decodable {
            var path: String
            var columns: [String: [String?]]
            var codecs: [String]
            var encodings: [String]
            var version: String
            /// Per row group, per column: [null_count, min, max] tagged, or nil without statistics.
            var statistics: [[[String?]?]]
        }
        var files: [File]
        var directory: String
    }

    @Test("Our reader decodes pyarrow's files: snappy, lz4, none; dictionary and plain; pages v1 and v2; nulls")
    func readerDecodesPyarrowFiles() throws {
        let directory = try TestPaths.makeTemporaryDirectory("klogs-parquet-pyarrow")
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = pythonPrelude + """
            import random, datetime, os
            out = sys.argv[1]
            rnd = random.Random(7)
            n = 5000
            def maybe(v, rate=0.15): return None if rnd.random() < rate else v
            words = ["", "a", "GET", "/index.html", "héllo", "\\U0001F600", "zz", "b"] + ["/p/%d" % i for i in range(300)]
            base = datetime.datetime(2026, 11, 21, tzinfo=datetime.timezone.utc)
            data = {
                "flag": pa.array([rnd.random() < 0.3 for _ in range(n)], pa.bool_()),
                "flag_opt": pa.array([maybe(rnd.random() < 0.7) for _ in range(n)], pa.bool_()),
                "status": pa.array([rnd.choice([200, 200, 304, 404, 500, -1]) for _ in range(n)], pa.int32()),
                "small_opt": pa.array([maybe(rnd.randint(-2**31, 2**31 - 1)) for _ in range(n)], pa.int32()),
                "bytes": pa.array([rnd.randint(-2**63, 2**63 - 1) for _ in range(n)], pa.int64()),
                "ts": pa.array([base + datetime.timedelta(milliseconds=rnd.randint(0, 86_400_000)) for _ in range(n)], pa.timestamp("ms", tz="UTC")),
                "ts_opt": pa.array([maybe(base + datetime.timedelta(milliseconds=rnd.randint(0, 10**9))) for _ in range(n)], pa.timestamp("ms", tz="UTC")),
                "path": pa.array([rnd.choice(words) for _ in range(n)], pa.string()),
                "path_opt": pa.array([maybe(rnd.choice(words), 0.4) for _ in range(n)], pa.string()),
                "unique_opt": pa.array([maybe("u%d-%s" % (i, "x" * rnd.randint(0, 40))) for i in range(n)], pa.string()),
                "nothing": pa.array([None] * n, pa.string()),
            }
            table = pa.table(data)
            def stats(path):
                md = pq.ParquetFile(path).metadata
                out = []
                for g in range(md.num_row_groups):
                    row = []
                    for c in range(md.num_columns):
                        st = md.row_group(g).column(c).statistics
                        if st is None: row.append(None); continue
                        lo = hi = None
                        if st.has_min_max:
                            lo, hi = st.min, st.max
                            if isinstance(lo, datetime.datetime):
                                lo = int(lo.timestamp() * 1000); hi = int(hi.timestamp() * 1000)
                        row.append(["i:%d" % st.null_count if st.has_null_count else None, tag(lo), tag(hi)])
                    out.append(row)
                return out
            files = []
            i = 0
            for compression in ["snappy", "lz4", "none"]:
                for dictionary in [True, False]:
                    for version in ["1.0", "2.0"]:
                        path = os.path.join(out, "f%d.parquet" % i); i += 1
                        pq.write_table(table, path, compression=compression, use_dictionary=dictionary,
                                       data_page_version=version, data_page_size=2000, row_group_size=2000)
                        md = pq.ParquetFile(path).metadata
                        codecs = sorted({md.row_group(g).column(c).compression for g in range(md.num_row_groups) for c in range(md.num_columns)})
                        encodings = sorted({e for g in range(md.num_row_groups) for c in range(md.num_columns) for e in md.row_group(g).column(c).encodings})
                        files.append({"path": path, "version": version, "codecs": codecs, "statistics": stats(path), "encodings": encodings,
                                      "columns": {name: tagged_column(table.column(name)) for name in table.column_names}})
            path = os.path.join(out, "crc.parquet")
            pq.write_table(table, path, compression="snappy", write_page_checksum=True, data_page_size=2000, row_group_size=2000)
            files.append({"path": path, "version": "1.0", "codecs": ["SNAPPY"], "encodings": [], "statistics": stats(path),
                          "columns": {name: tagged_column(table.column(name)) for name in table.column_names}})
            print(json.dumps({"files": files, "directory": out}))
            """
        let report = try runPythonJSON(script, [directory.path], as: PyarrowFiles.self)
        #expect(report.files.count == 13)
        var codecsSeen = Set<String>()
        var encodingsSeen = Set<String>()
        for file in report.files {
            codecsSeen.formUnion(file.codecs)
            encodingsSeen.formUnion(file.encodings)
            let reader = try ParquetFileReader(path: file.path)
            #expect(reader.numberOfRows == 5000)
            // The first data page's header says which page version pyarrow wrote.
            let bytes = try ParquetFileReader.readFile(file.path)
            var headerReader = ThriftCompactReader(bytes, range: Int(reader.rowGroups[0].columns[0].dataPageOffset)..<bytes.count)
            let firstHeader = try PageHeader.decode(from: &headerReader)
            let pageType = firstHeader.type
            if file.path.hasSuffix("crc.parquet") { #expect(firstHeader.crc != nil, "pyarrow wrote no page CRC") }
            #expect(pageType == (file.version == "2.0" ? 3 : 0), "page type \(pageType) in \(file.path)")
            #expect(reader.rowGroups.count == 3)
            #expect(reader.schema.columns.first { $0.name == "ts" }?.logical == .timestampMillisecondsUTC)
            #expect(reader.schema.columns.first { $0.name == "path" }?.logical == .string)
            for (group, row) in file.statistics.enumerated() {
                for (index, expected) in row.enumerated() {
                    let statistics = reader.rowGroups[group].columns[index].statistics
                    guard let expected else {
                        #expect(statistics == nil)
                        continue
                    }
                    let name = reader.schema.columns[index].name
                    #expect(statistics?.nullCount.map { Cell.integer($0) } == expected[0].map(cell(tagged:)), "\(name) nulls")
                    #expect(cell(statistics?.min) == expected[1].map(cell(tagged:)), "\(name) min in \(file.path)")
                    #expect(cell(statistics?.max) == expected[2].map(cell(tagged:)), "\(name) max in \(file.path)")
                }
            }
            for (index, column) in reader.schema.columns.enumerated() {
                var read: [Cell] = []
                for group in reader.rowGroups.indices {
                    read += cells(try reader.readColumn(rowGroup: group, column: index))
                }
                let expected = file.columns[column.name]?.map(cell(tagged:))
                #expect(read == expected, "\(file.path) column \(column.name) (\(file.codecs), \(file.encodings))")
            }
        }
        #expect(codecsSeen == ["SNAPPY", "LZ4", "UNCOMPRESSED"])
        #expect(encodingsSeen.isSuperset(of: ["PLAIN", "RLE", "RLE_DICTIONARY"]))
    }

    @Test("Random byte flips in pyarrow's snappy, lz4 and v2 files never crash the reader")
    func flipsInPyarrowFiles() throws {
        let directory = try TestPaths.makeTemporaryDirectory("klogs-parquet-fuzz")
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = pythonPrelude + """
            import os, random
            rnd = random.Random(3)
            n = 200
            t = pa.table({
                "b": pa.array([None if rnd.random() < 0.2 else rnd.random() < 0.5 for _ in range(n)]),
                "i": pa.array([None if rnd.random() < 0.2 else rnd.randint(-1000, 1000) for _ in range(n)], pa.int32()),
                "l": pa.array([rnd.randint(-2**40, 2**40) for _ in range(n)], pa.int64()),
                "s": pa.array([None if rnd.random() < 0.3 else rnd.choice(["a", "bb", "ccc", "/x/y"]) for _ in range(n)]),
            })
            paths = []
            for codec in ["snappy", "lz4"]:
                for version in ["1.0", "2.0"]:
                    for dictionary in [True, False]:
                        path = os.path.join(sys.argv[1], "%s-%s-%s.parquet" % (codec, version, dictionary))
                        pq.write_table(t, path, compression=codec, data_page_version=version, use_dictionary=dictionary,
                                       data_page_size=200, row_group_size=100)
                        paths.append(path)
            print(json.dumps(paths))
            """
        let paths = try runPythonJSON(script, [directory.path], as: [String].self)
        var random = SeededRandom(seed: 17)
        for path in paths {
            let original = try ParquetFileReader.readFile(path)
            #expect(HostileInputTests.readEverything(original))
            for _ in 0..<250 {
                var damaged = original
                for _ in 0..<(1 + Int(random.next() % 4)) {
                    damaged[Int(random.next() % UInt64(damaged.count))] = UInt8(truncatingIfNeeded: random.next())
                }
                HostileInputTests.readEverything(damaged)
            }
        }
    }
}
