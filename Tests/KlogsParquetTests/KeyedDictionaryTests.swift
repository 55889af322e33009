import Testing

@testable import KlogsParquet

@Suite("Keyed dictionary strings")
struct KeyedDictionaryTests {
    /// Writer options that exercise every branch: many small pages, with and without page statistics, and a
    /// dictionary limit low enough for the PLAIN fallback.
    static let optionSets: [ParquetWriterOptions] = [
        ParquetWriterOptions(),
        ParquetWriterOptions(dataPageSize: 64, dataPageRowLimit: 97),
        ParquetWriterOptions(dataPageRowLimit: 250, writesPageStatistics: false),
        ParquetWriterOptions(dictionaryPageLimit: 40),
    ]

    /// Random keyed rows: `keyCount` keys, each mapped to an entry of a 30-word dictionary or (some) to null, and
    /// rows that repeat keys in runs and in noise, as user-agent classes do.
    static func sample(rows: Int, keyCount: Int, nullKeys: Bool, seed: UInt64)
        -> (dictionary: StringColumn, keys: [Int32], indexOfKey: [Int32])
    {
        var random = SeededRandom(seed: seed)
        var dictionary = StringColumn()
        for index in 0..<30 { dictionary.append("value \(index * 7 % 30)") }
        let indexOfKey = (0..<keyCount).map { _ -> Int32 in
            nullKeys && random.next() % 5 == 0 ? -1 : Int32(random.next() % 30)
        }
        var keys: [Int32] = []
        while keys.count < rows {
            let key = Int32(random.next() % UInt64(keyCount))
            let run = random.next() % 3 == 0 ? Int(random.next() % 20) + 1 : 1
            keys.append(contentsOf: repeatElement(key, count: min(run, rows - keys.count)))
        }
        return (dictionary, keys, indexOfKey)
    }

    @Test(
        "Keyed rows encode to the same pages and statistics as the equal dictionary indices",
        arguments: [(0, false), (1, false), (1000, false), (1000, true), (5003, true)], optionSets.indices)
    func sameBytesAsIndices(shape: (rows: Int, nullKeys: Bool), options: Int) throws {
        let (dictionary, keys, indexOfKey) = Self.sample(
            rows: shape.rows, keyCount: 40, nullKeys: shape.nullKeys, seed: UInt64(shape.rows))
        let rows = KeyedRows(keys: keys, keyCount: indexOfKey.count)
        let keyed = ColumnValues.keyedDictionaryStrings(dictionary: dictionary, rows: rows, indexOfKey: indexOfKey)
        let indexed = keyed.resolvingKeys
        #expect(indexed == .dictionaryStrings(dictionary: dictionary, indices: keys.map { indexOfKey[Int($0)] }))
        #expect(keyed.count == indexed.count && keyed.nullCount == indexed.nullCount)
        #expect((0..<keyed.count).allSatisfy { keyed.string(at: $0) == indexed.string(at: $0) })

        for column in [ParquetColumn.string("s", optional: true), .string("s", optional: false)]
        where column.isOptional || !shape.nullKeys {
            var encoder = ColumnChunkEncoder(options: Self.optionSets[options])
            let fromKeys = try encoder.encode(keyed, column: column)
            let fromIndices = try encoder.encode(indexed, column: column)
            #expect(fromKeys.bytes == fromIndices.bytes)
            #expect(fromKeys.statistics == fromIndices.statistics)
            #expect(fromKeys.metadata(at: 4) == fromIndices.metadata(at: 4))
        }
    }

    @Test("Several columns share one KeyedRows and read back with their own values")
    func sharedRowsReadBack() throws {
        let rows = KeyedRows(keys: [2, 0, 2, 1, 1, 2], keyCount: 3)
        let browsers = StringColumn(["Firefox", "Chrome", "curl"])
        let systems = StringColumn(["Linux", "Windows"])
        let bytes = try writeInMemory(
            schema: ParquetSchema(columns: [.string("browser"), .string("os", optional: true)]),
            rowGroups: [[
                .keyedDictionaryStrings(dictionary: browsers, rows: rows, indexOfKey: [1, 0, 2]),
                .keyedDictionaryStrings(dictionary: systems, rows: rows, indexOfKey: [1, 0, -1]),
            ]])
        let reader = try ParquetFileReader(bytes: bytes)
        let browser = try reader.readColumn(rowGroup: 0, column: 0)
        let os = try reader.readColumn(rowGroup: 0, column: 1)
        #expect((0..<6).map { browser.string(at: $0) } == ["curl", "Chrome", "curl", "Firefox", "Firefox", "curl"])
        #expect((0..<6).map { os.string(at: $0) } == [nil, "Windows", nil, "Linux", "Linux", nil])
        #expect(reader.rowGroups[0].columns[1].statistics?.nullCount == 3)
    }

    @Test("A key outside the table, an index outside the dictionary and a null in a required column are refused")
    func invalidRowsAreRefused() {
        let dictionary = StringColumn(["a", "b"])
        func encode(_ keys: [Int32], _ indexOfKey: [Int32], keyCount: Int? = nil, optional: Bool = true) throws {
            var encoder = ColumnChunkEncoder(options: ParquetWriterOptions())
            let rows = KeyedRows(keys: keys, keyCount: keyCount ?? indexOfKey.count)
            _ = try encoder.encode(
                .keyedDictionaryStrings(dictionary: dictionary, rows: rows, indexOfKey: indexOfKey),
                column: .string("s", optional: optional))
        }
        #expect(throws: ParquetError.invalidArgument("column 's' row 2 has key 3 outside 0..<2")) {
            try encode([0, 1, 3], [0, 1])
        }
        #expect(throws: ParquetError.invalidArgument("column 's' row 1 has key -1 outside 0..<2")) {
            try encode([0, -1], [0, 1])
        }
        #expect(throws: ParquetError.invalidArgument("column 's' row 0 has key 2 outside 0..<2")) {
            try encode([2], [0, 1], keyCount: 3)
        }
        #expect(throws: ParquetError.invalidArgument("column 's' row 1 has dictionary index 5 outside -1..<2")) {
            try encode([0, 1], [0, 5])
        }
        let requiredNull = "column 's' is REQUIRED but row 1 is null; declare it optional or fill the value"
        #expect(throws: ParquetError.invalidArgument(requiredNull)) {
            try encode([0, 1], [0, -1], optional: false)
        }
        // A key no row holds may map anywhere: it is never read.
        #expect(throws: Never.self) { try encode([0, 0], [1, 99]) }
    }
}

@Suite("Bit-packing of narrow values")
struct NarrowBitPackingTests {
    /// The specification's layout, one bit at a time: value `i`'s bit `b` is bit `i * width + b` of the run.
    static func referencePacking(_ values: [UInt32], bitWidth: Int) -> [UInt8] {
        let groups = (values.count + 7) / 8
        var bytes = [UInt8](repeating: 0, count: groups * bitWidth)
        for (index, value) in values.enumerated() {
            for bit in 0..<bitWidth where value >> UInt32(bit) & 1 == 1 {
                let position = index * bitWidth + bit
                bytes[position / 8] |= 1 << UInt8(position % 8)
            }
        }
        return bytes
    }

    @Test("Literal runs are the reference bit layout at every width up to 9", arguments: 1...9)
    func matchesReference(bitWidth: Int) {
        var random = SeededRandom(seed: UInt64(bitWidth) + 100)
        for length in [1, 5, 8, 9, 16, 17, 23, 64, 200] {
            // Consecutive values differ, so the whole sequence is one literal run.
            let valueCount = UInt64(1) << UInt64(bitWidth)
            var values = [UInt32(random.next() % valueCount)]
            while values.count < length {
                let step = 1 + random.next() % (valueCount - 1)
                values.append(UInt32((UInt64(values[values.count - 1]) + step) % valueCount))
            }
            var encoded: [UInt8] = []
            values.withUnsafeBufferPointer { RunLengthEncoding.encode($0, bitWidth: bitWidth, into: &encoded) }
            var header: [UInt8] = []
            RunLengthEncoding.appendVarint(UInt64((length + 7) / 8) << 1 | 1, to: &header)
            #expect(encoded == header + Self.referencePacking(values, bitWidth: bitWidth), "length \(length)")
        }
    }
}

@Suite("Bit-packing of booleans")
struct BooleanPackingTests {
    @Test(
        "Booleans pack eight to a byte, least-significant bit first, with the right extremes",
        arguments: [0, 1, 7, 8, 9, 64, 101])
    func matchesReference(count: Int) {
        var random = SeededRandom(seed: UInt64(count))
        for pattern in ["random", "all true", "all false"] {
            let values = (0..<count).map { _ in
                pattern == "random" ? random.next() % 2 == 0 : pattern == "all true"
            }
            var expected = [UInt8](repeating: 0, count: (count + 7) / 8)
            for (index, value) in values.enumerated() where value { expected[index / 8] |= 1 << UInt8(index % 8) }
            var page: [UInt8] = [0xAA]
            let (sawTrue, sawFalse) = values.withUnsafeBytes { ColumnChunkEncoder.appendPacked($0, to: &page) }
            #expect(page == [0xAA] + expected, "\(pattern)")
            #expect(sawTrue == values.contains(true) && sawFalse == values.contains(false), "\(pattern)")
        }
    }
}
