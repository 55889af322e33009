import Foundation
import KlogsTestSupport
import Testing

@testable import KlogsParquet

@Suite("Integer encodings: DELTA_BINARY_PACKED and dictionaries")
struct IntegerEncodingTests {
    /// Seeded series of the shapes log columns have, and the edge cases of wrapping arithmetic.
    static func series(_ name: String, count: Int) -> [Int64] {
        var random = SeededRandom(seed: UInt64(count) &* 31 &+ UInt64(name.utf8.count))
        switch name {
        case "timestamps":  // increasing by up to a few seconds, in milliseconds
            var time: Int64 = 1_793_491_200_000
            return (0..<count).map { _ in
                time += Int64(random.next() % 3_000)
                return time
            }
        case "sizes": return (0..<count).map { _ in Int64(random.next() % 200_000) }
        case "random": return (0..<count).map { _ in Int64(bitPattern: random.next()) }
        case "extremes": return (0..<count).map { $0 % 3 == 0 ? .min : ($0 % 3 == 1 ? .max : 0) }
        default: return (0..<count).map { _ in 42 }  // constant
        }
    }

    static let shapes = ["timestamps", "sizes", "random", "extremes", "constant"]
    static let counts = [0, 1, 2, 31, 32, 33, 127, 128, 129, 130, 1000, 4097]

    private func roundTrip<T: FixedWidthInteger & SignedInteger>(_ values: [T]) throws -> ([T], encodedCount: Int) {
        var bytes: [UInt8] = [0xEE]  // the codec must honour its range's start
        values.withUnsafeBufferPointer { DeltaBinaryPacked.encode($0, into: &bytes) }
        var decoded: [T] = []
        try DeltaBinaryPacked.decode(bytes, range: 1..<bytes.count, count: values.count, into: &decoded)
        let estimate = values.withUnsafeBufferPointer { DeltaBinaryPacked.encodedSize($0) }
        #expect(estimate >= bytes.count - 1 && estimate <= bytes.count - 1 + 9, "the size estimate is off")
        return (decoded, bytes.count - 1)
    }

    @Test("DELTA_BINARY_PACKED round-trips 64-bit series of every length", arguments: shapes, counts)
    func deltaRoundTrips64(shape: String, count: Int) throws {
        let values = Self.series(shape, count: count)
        #expect(try roundTrip(values).0 == values)
    }

    @Test("DELTA_BINARY_PACKED round-trips 32-bit series, wrapping differences included", arguments: shapes, [0, 1, 129, 1000])
    func deltaRoundTrips32(shape: String, count: Int) throws {
        let values = Self.series(shape, count: count).map { Int32(truncatingIfNeeded: $0) }
        #expect(try roundTrip(values).0 == values)
    }

    @Test("Encodes the format's example exactly: 1, 2, 3, 4, 5")
    func formatExample() {
        var bytes: [UInt8] = []
        [Int64(1), 2, 3, 4, 5].withUnsafeBufferPointer { DeltaBinaryPacked.encode($0, into: &bytes) }
        // Header: 128 values per block, 4 miniblocks, 5 values, first value 1 (zigzag 2); one block: smallest
        // difference 1 (zigzag 2) and four zero bit widths, so no miniblock bytes at all.
        #expect(bytes == [0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0, 0, 0, 0])
    }

    @Test("Timestamps a few seconds apart take under 2 bytes each instead of 8")
    func timestampsAreSmall() throws {
        let (_, size) = try roundTrip(Self.series("timestamps", count: 10_000))
        #expect(size < 2 * 10_000)
    }

    @Test("Damaged DELTA_BINARY_PACKED data is an error, never a crash", arguments: 0..<200)
    func damagedData(seed: Int) {
        var bytes: [UInt8] = []
        Self.series("sizes", count: 300).withUnsafeBufferPointer { DeltaBinaryPacked.encode($0, into: &bytes) }
        var random = SeededRandom(seed: UInt64(seed))
        if seed % 2 == 0 {
            bytes.removeLast(Int(random.next() % UInt64(bytes.count)) + 1)  // truncated
        } else {
            bytes[Int(random.next() % 12)] = UInt8(truncatingIfNeeded: random.next())  // a header or width byte
        }
        var decoded: [Int64] = []
        // Either it throws, or (a flip that keeps the layout valid) it yields 300 values.
        if (try? DeltaBinaryPacked.decode(bytes, range: 0..<bytes.count, count: 300, into: &decoded)) != nil {
            #expect(decoded.count == 300)
        }
    }

    @Test("The choice: deltas for timestamps, a dictionary for statuses and visitors, PLAIN for random values")
    func choice() {
        func name(_ values: [Int64]) -> String {
            switch IntegerEncodingChoice.choose(values, dictionaryLimit: 1 << 20) {
            case .plain: "plain"
            case .deltaBinaryPacked: "delta"
            case .dictionary: "dictionary"
            }
        }
        var random = SeededRandom(seed: 3)
        let statuses: [Int64] = (0..<10_000).map { _ in [200, 200, 200, 304, 404, 301, 500][Int(random.next() % 7)] }
        let visitors = (0..<10_000).map { _ in Int64(bitPattern: (random.next() % 800) &* 0x9E37_79B9_7F4A_7C15) }
        #expect(name(Self.series("timestamps", count: 10_000)) == "delta")
        #expect(name(statuses) == "dictionary")
        #expect(name(visitors) == "dictionary")
        // Pseudonyms spread over all 64 bits, a few requests each: LZ4 hardly shrinks them as PLAIN (6% on the
        // benchmark's visitors), so PLAIN counts all its bytes and the dictionary (some 45 KB against 80 KB) wins.
        // Counted at half, as PLAIN integers with a common upper half are, PLAIN (40 KB) would.
        let pseudonyms = (0..<10_000).map { _ in Int64(bitPattern: (random.next() % 4_000) &* 0x9E37_79B9_7F4A_7C15) }
        #expect(!IntegerEncodingChoice.haveOneUpperHalf(pseudonyms) && name(pseudonyms) == "dictionary")
        #expect(IntegerEncodingChoice.haveOneUpperHalf(Self.series("timestamps", count: 1_000)))
        #expect(name(Self.series("random", count: 10_000)) == "plain")
        #expect(name([]) == "plain")
    }

    @Test("The dictionary keeps first-occurrence order and gives up past its budget")
    func dictionary() throws {
        let values: [Int32] = [7, 3, 7, -1, 3, 7]
        let (dictionary, ids) = try #require(IntegerEncodingChoice.buildDictionary(values, smallerThan: 100))
        #expect(dictionary == [7, 3, -1])
        #expect(ids == [0, 1, 0, 2, 1, 0])
        // 3 entries need 12 bytes and the ids 2 more.
        #expect(IntegerEncodingChoice.buildDictionary(values, smallerThan: 14) == nil)
        #expect(IntegerEncodingChoice.buildDictionary(values, smallerThan: 15) != nil)
        #expect(IntegerEncodingChoice.buildDictionary(values, smallerThan: 100, dictionaryLimit: 11) == nil)
        let many = (0..<5_000).map { Int64($0 * 7919) }
        let (bigDictionary, bigIds) = try #require(
            IntegerEncodingChoice.buildDictionary(many + many, smallerThan: 1 << 20))
        #expect(bigDictionary == many)
        #expect(bigIds.map { bigDictionary[Int($0)] } == many + many)
    }

    /// Columns of every shape the dictionary builder tells apart: narrow ranges take the table indexed by value,
    /// wide ones the hash table.
    static let dictionaryShapes: [(name: String, values: [Int64])] = {
        var random = SeededRandom(seed: 5)
        return [
            ("empty", []),
            ("one value", [-7]),
            ("all equal", Array(repeating: 404, count: 1_000)),
            ("statuses", (0..<3_000).map { _ in [200, 304, 404, 500, 503][Int(random.next() % 5)] }),
            ("negative narrow", (0..<3_000).map { _ in -Int64(random.next() % 700) }),
            ("span at the table's limit", (0..<70_000).map { _ in Int64(random.next() % 65_536) }),
            ("span just past it", (0..<70_000).map { _ in Int64(random.next() % 65_537) }),
            ("Int64 extremes", (0..<1_000).map { [Int64.min, .max, 0, -1][$0 % 4] }),
            ("wide repeated", (0..<3_000).map { _ in Int64(bitPattern: (random.next() % 90) &* 0x9E37_79B9_7F4A_7C15) }),
            ("distinct", (0..<3_000).map { Int64($0) * 1_000_003 }),
            // Wide columns past `DistinctCount.leastRows`, counted before they are hashed.
            ("pseudonyms", (0..<20_000).map { _ in Int64(bitPattern: (random.next() % 6_000) &* 0x9E37_79B9_7F4A_7C15) }),
            ("sizes", (0..<20_000).map { _ in Int64(random.next() % 10_000_000) }),
            ("milliseconds", (0..<20_000).map { Int64(1_790_000_000_000 + $0 * 250) }),
            ("wide with few values", (0..<20_000).map { _ in Int64(random.next() % 3) << 40 }),
        ]
    }()

    @Test("The distinct count's lower bound never exceeds the distinct values, and its estimate is close",
        arguments: dictionaryShapes.indices)
    func distinctCount(shape: Int) {
        let values = Self.dictionaryShapes[shape].values
        let distinct = Set(values).count
        let count = values.withUnsafeBufferPointer { DistinctCount($0) }
        #expect(count.atLeast <= distinct)
        #expect(count.atLeast <= count.estimate)
        // With four bits a value, collisions hide at most about an eighth of the values; the estimate corrects
        // for them.
        #expect(count.atLeast >= distinct * 7 / 8 - 1)
        #expect(abs(count.estimate - distinct) <= max(2, distinct / 20))
        #expect(count.isComplete)
        // Told that 1,000 distinct values are enough, it stops at the first look past them (every 4,096 values).
        let early = values.withUnsafeBufferPointer { DistinctCount($0) { $0 >= 1_000 } }
        #expect(early.atLeast <= distinct)
        #expect(early.isComplete == (values.count <= 4_096 || early.atLeast < 1_000))
    }

    /// The dictionary and ids a plain `Dictionary` gives, and the size ``IntegerEncodingChoice`` compares.
    private func oracle<T: FixedWidthInteger & SignedInteger>(_ values: [T]) -> (dictionary: [T], ids: [UInt32], size: Int) {
        var index: [T: UInt32] = [:]
        var dictionary: [T] = []
        let ids = values.map { value -> UInt32 in
            if let id = index[value] { return id }
            index[value] = UInt32(dictionary.count)
            dictionary.append(value)
            return UInt32(dictionary.count - 1)
        }
        let idWidth = max(1, 32 - UInt32(max(0, dictionary.count - 1)).leadingZeroBitCount)
        return (dictionary, ids, dictionary.count * MemoryLayout<T>.size + (values.count * idWidth + 7) / 8)
    }

    @Test("The dictionary builder agrees with a plain Dictionary and gives up exactly when it cannot win",
        arguments: dictionaryShapes.indices)
    func dictionaryAgreesWithOracle(shape: Int) throws {
        let values = Self.dictionaryShapes[shape].values
        try checkDictionary(values)
        try checkDictionary(values.map { Int32(truncatingIfNeeded: $0) })
    }

    private func checkDictionary<T: FixedWidthInteger & SignedInteger>(_ values: [T]) throws {
        let expected = oracle(values)
        let built = try #require(IntegerEncodingChoice.buildDictionary(values, smallerThan: expected.size + 1))
        #expect(built.dictionary == expected.dictionary)
        #expect(built.ids == expected.ids)
        #expect(IntegerEncodingChoice.buildDictionary(values, smallerThan: expected.size) == nil)
    }

    @Test("The choice is the smallest of the three sizes computed in full", arguments: dictionaryShapes.indices)
    func choiceAgreesWithSizes(shape: Int) {
        let values = Self.dictionaryShapes[shape].values
        let plain = values.count * 8 / 2
        let delta = values.withUnsafeBufferPointer { DeltaBinaryPacked.encodedSize($0) }
        let dictionary = oracle(values).size
        let expected = dictionary < min(plain, delta) ? "dictionary" : (delta < plain ? "delta" : "plain")
        let chosen =
            switch IntegerEncodingChoice.choose(values, dictionaryLimit: 1 << 20) {
            case .plain: "plain"
            case .deltaBinaryPacked: "delta"
            case .dictionary: "dictionary"
            }
        #expect(chosen == expected)
    }

    @Test("The DELTA_BINARY_PACKED size estimate is exact but for the first value, counted at 10 bytes",
        arguments: shapes, counts)
    func deltaSizeIsExact(shape: String, count: Int) {
        let values = Self.series(shape, count: count)
        var bytes: [UInt8] = []
        values.withUnsafeBufferPointer { DeltaBinaryPacked.encode($0, into: &bytes) }
        let first = DeltaBinaryPacked.zigzag(values.first ?? 0)
        let firstSize = max(1, (64 - first.leadingZeroBitCount + 6) / 7)
        #expect(values.withUnsafeBufferPointer { DeltaBinaryPacked.encodedSize($0) } == bytes.count - firstSize + 10)
    }

    @Test("DELTA_BINARY_PACKED round-trips negative differences and every bit width from 0 to 64")
    func deltaWidths() throws {
        var values: [Int64] = []
        for width in 0...64 {
            // 32 rising values then a fall: a miniblock of each width, with negative differences between blocks.
            let step: Int64 = width == 0 ? 0 : (width == 64 ? .max : (1 << Int64(width - 1)))
            var value: Int64 = -5
            for _ in 0..<32 {
                values.append(value)
                value = value &+ step
            }
        }
        #expect(try roundTrip(values).0 == values)
        let values32 = values.map { Int32(truncatingIfNeeded: $0) }
        #expect(try roundTrip(values32).0 == values32)
    }

    /// Columns whose chunks take each encoding, with and without nulls, over several row groups and small pages.
    static func encodedFile(options: ParquetWriterOptions) throws -> (bytes: [UInt8], groups: [[ColumnValues]]) {
        let schema = ParquetSchema(columns: [
            .timestampMilliseconds("ts"),
            ParquetColumn(name: "status", type: .int32, isOptional: false),
            ParquetColumn(name: "visitor", type: .int64, isOptional: true),
            ParquetColumn(name: "bytes", type: .int64, isOptional: true),
            ParquetColumn(name: "random", type: .int64, isOptional: false),
        ])
        var random = SeededRandom(seed: 11)
        let groups: [[ColumnValues]] = [5_000, 1, 30_000].map { rows in
            let validity = (0..<rows).map { _ in random.next() % 5 != 0 }
            return [
                .int64(series("timestamps", count: rows), validity: nil),
                .int32((0..<rows).map { _ in [200, 304, 404, 500][Int(random.next() % 4)] }, validity: nil),
                .int64((0..<rows).map { _ in Int64(random.next() % 300) &* 0x1234_5678_9ABC }, validity: validity),
                .int64(series("sizes", count: rows), validity: validity),
                .int64(series("random", count: rows), validity: nil),
            ]
        }
        let writer = try ParquetFileWriter(output: InMemoryOutput(), schema: schema, options: options)
        for group in groups { try writer.writeRowGroup(group) }
        try writer.close()
        return (writer.output.bytes, groups)
    }

    @Test("Files with every integer encoding read back with their values and statistics", arguments: [1 << 20, 300])
    func fileRoundTrip(pageSize: Int) throws {
        let (bytes, groups) = try Self.encodedFile(options: ParquetWriterOptions(dataPageSize: pageSize))
        let reader = try ParquetFileReader(bytes: bytes)
        var encodings: Set<ParquetEncoding> = []
        for (groupIndex, group) in groups.enumerated() {
            for (columnIndex, values) in group.enumerated() {
                #expect(cells(try reader.readColumn(rowGroup: groupIndex, column: columnIndex)) == cells(values))
                let chunk = reader.rowGroups[groupIndex].columns[columnIndex]
                let expected = expectedStatistics(values)
                #expect(chunk.statistics?.nullCount == Int64(expected.nulls))
                #expect(cell(chunk.statistics?.min) == expected.min)
                #expect(cell(chunk.statistics?.max) == expected.max)
                encodings.formUnion(chunk.encodings)
            }
        }
        #expect(encodings.isSuperset(of: [.plain, .deltaBinaryPacked, .rleDictionary]))
    }

    @Test("The compact encodings make the file smaller than PLAIN everywhere")
    func smallerThanPlain() throws {
        var plainOptions = ParquetWriterOptions()
        plainOptions.encodesIntegersCompactly = false
        let compact = try Self.encodedFile(options: ParquetWriterOptions()).bytes.count
        let plain = try Self.encodedFile(options: plainOptions).bytes.count
        #expect(compact < plain * 3 / 4)
    }

    @Test("pyarrow and DuckDB read every integer encoding we write, value for value")
    func peersReadThem() throws {
        let (bytes, groups) = try Self.encodedFile(options: ParquetWriterOptions(dataPageSize: 300))
        let directory = try TestPaths.makeTemporaryDirectory("klogs-parquet-integers")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("integers.parquet")
        try Data(bytes).write(to: path)
        let script = pythonPrelude + """
            import duckdb
            t = pq.read_table(sys.argv[1])
            con = duckdb.connect()
            names = t.column_names
            columns = ", ".join(('epoch_ms("%s")' if n == "ts" else '"%s"') % n for n in names)
            duck = con.execute("select " + columns + " from read_parquet(?)", [sys.argv[1]]).fetchall()
            encodings = sorted({e for g in range(pq.ParquetFile(sys.argv[1]).metadata.num_row_groups)
                                for c in range(len(names))
                                for e in pq.ParquetFile(sys.argv[1]).metadata.row_group(g).column(c).encodings})
            print(json.dumps({
                "pyarrow": {n: tagged_column(t.column(n)) for n in names},
                "duckdb": {n: [tag(row[i]) for row in duck] for i, n in enumerate(names)},
                "encodings": encodings,
            }))
            """
        struct Report: Decodable {
            var pyarrow: [String: [String?]]
            var duckdb: [String: [String?]]
            var encodings: [String]
        }
        let report = try runPythonJSON(script, [path.path], as: Report.self)
        #expect(report.encodings.contains("DELTA_BINARY_PACKED"))
        #expect(report.encodings.contains("RLE_DICTIONARY"))
        let names = ["ts", "status", "visitor", "bytes", "random"]
        for (index, name) in names.enumerated() {
            let expected = groups.flatMap { cells($0[index]) }
            #expect(report.pyarrow[name]?.map { cell(tagged: $0) } == expected, "pyarrow, column \(name)")
            #expect(report.duckdb[name]?.map { cell(tagged: $0) } == expected, "DuckDB, column \(name)")
        }
    }
}
