import Foundation
import KlogsTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@testable import KlogsParquet

@Suite("Writer to reader round trips")
struct RoundTripTests {
    struct Layout: Sendable, CustomTestStringConvertible {
        var compression: ParquetCompression
        var pageSize: Int
        var dictionaryForPlainStrings: Bool
        var testDescription: String { "\(compression), pages of \(pageSize) B, dictionary \(dictionaryForPlainStrings)" }
    }

    static let layouts: [Layout] = [
        Layout(compression: .lz4Raw, pageSize: 1 << 20, dictionaryForPlainStrings: true),
        Layout(compression: .uncompressed, pageSize: 1 << 20, dictionaryForPlainStrings: false),
        Layout(compression: .lz4Raw, pageSize: 100, dictionaryForPlainStrings: false),
        Layout(compression: .uncompressed, pageSize: 37, dictionaryForPlainStrings: true),
    ]

    @Test("Every column kind, required and optional, survives several row groups", arguments: layouts)
    func everyKindRoundTrips(layout: Layout) throws {
        var random = SeededRandom(seed: 42)
        var columns: [ParquetColumn] = []
        for kind in ColumnKind.allCases {
            columns.append(kind.column("\(kind.rawValue)_required", optional: false))
            columns.append(kind.column("\(kind.rawValue)_optional", optional: true))
        }
        let schema = ParquetSchema(columns: columns)
        let groupSizes = [1000, 1, 2500]
        let groups: [[ColumnValues]] = groupSizes.map { rows in
            ColumnKind.allCases.flatMap { kind in
                [randomValues(kind, count: rows, optional: false, random: &random),
                 randomValues(kind, count: rows, optional: true, random: &random)]
            }
        }
        let options = ParquetWriterOptions(
            compression: layout.compression, dataPageSize: layout.pageSize,
            dictionaryEncodesPlainStrings: layout.dictionaryForPlainStrings,
            createdBy: "klogs version 0.1.0 (build test)", keyValueMetadata: [("klogs.dataset", "events"), ("k", "")])
        let bytes = try writeInMemory(schema: schema, rowGroups: groups, options: options)

        let reader = try ParquetFileReader(bytes: bytes)
        #expect(reader.schema == schema)
        #expect(reader.numberOfRows == Int64(groupSizes.reduce(0, +)))
        #expect(reader.rowGroups.map(\.numberOfRows) == groupSizes.map(Int64.init))
        #expect(reader.createdBy == "klogs version 0.1.0 (build test)")
        #expect(reader.metadataValue(forKey: "klogs.dataset") == "events")
        #expect(reader.metadataValue(forKey: "k") == "")
        #expect(reader.hasColumnOrders)
        for (groupIndex, group) in groups.enumerated() {
            for columnIndex in columns.indices {
                let read = try reader.readColumn(rowGroup: groupIndex, column: columnIndex)
                #expect(cells(read) == cells(group[columnIndex]), "group \(groupIndex) column \(columns[columnIndex].name)")
                let chunk = reader.rowGroups[groupIndex].columns[columnIndex]
                #expect(chunk.codec == layout.compression.codec)
                let expected = expectedStatistics(group[columnIndex])
                #expect(chunk.statistics?.nullCount == Int64(expected.nulls))
                #expect(cell(chunk.statistics?.min) == expected.min, "min of \(columns[columnIndex].name)")
                #expect(cell(chunk.statistics?.max) == expected.max, "max of \(columns[columnIndex].name)")
                #expect(chunk.encodings.contains(.rle))
            }
        }
    }

    @Test("Small pages split a chunk into many pages and still read back")
    func smallPagesMakeManyPages() throws {
        var random = SeededRandom(seed: 7)
        let values = randomValues(.int64, count: 5000, optional: true, random: &random)
        let schema = ParquetSchema(columns: [ParquetColumn(name: "n", type: .int64, isOptional: true)])
        let bytes = try writeInMemory(
            schema: schema, rowGroups: [[values]], options: ParquetWriterOptions(dataPageSize: 256, dataPageRowLimit: 100))
        let reader = try ParquetFileReader(bytes: bytes)
        let chunk = reader.rowGroups[0].columns[0]
        let pages = chunk.encodingCounts?.filter { $0.pageType == 0 }.map(\.count).reduce(0, +) ?? 0
        #expect(pages == 157)  // 256 B / 8 B = 32 rows per page: ceil(5000 / 32)
        #expect(cells(try reader.readColumn(rowGroup: 0, column: 0)) == cells(values))
    }

    @Test("Every data page header carries the statistics of its own rows", arguments: ColumnKind.allCases)
    func pageStatistics(kind: ColumnKind) throws {
        var random = SeededRandom(seed: 21)
        let values = randomValues(kind, count: 3000, optional: true, nullRate: 0.3, random: &random)
        let column = kind.column("c", optional: true)
        let bytes = try writeInMemory(
            schema: ParquetSchema(columns: [column]), rowGroups: [[values]],
            options: ParquetWriterOptions(dataPageSize: 300, dataPageRowLimit: 250, dictionaryEncodesPlainStrings: false))
        let chunk = try ParquetFileReader(bytes: bytes).rowGroups[0].columns[0]
        let all = cells(values)
        var position = Int(chunk.startOffset)
        var row = 0
        var pages = 0
        while row < all.count {
            var reader = ThriftCompactReader(bytes, range: position..<bytes.count)
            let header = try PageHeader.decode(from: &reader, physicalType: column.type)
            position = reader.position + Int(header.compressedSize)
            guard header.type == PageType.dataPage.rawValue else { continue }
            let rows = all[row..<(row + Int(header.numberOfValues))]
            let expected = expectedStatistics(rows)
            #expect(header.statistics?.nullCount == Int64(expected.nulls), "page \(pages)")
            #expect(cell(header.statistics?.min) == expected.min, "page \(pages)")
            #expect(cell(header.statistics?.max) == expected.max, "page \(pages)")
            row += Int(header.numberOfValues)
            pages += 1
        }
        #expect(pages > 5)
    }

    @Test("The row limit bounds pages of dictionary ids")
    func rowLimitBoundsPages() throws {
        var random = SeededRandom(seed: 8)
        let values = randomValues(.dictionaryStrings, count: 10_000, optional: false, random: &random)
        let bytes = try writeInMemory(
            schema: ParquetSchema(columns: [.string("s")]), rowGroups: [[values]],
            options: ParquetWriterOptions(dataPageRowLimit: 1000))
        let reader = try ParquetFileReader(bytes: bytes)
        let counts = reader.rowGroups[0].columns[0].encodingCounts ?? []
        #expect(counts.contains(PageEncodingCount(pageType: 2, encoding: .plain, count: 1)))
        #expect(counts.contains(PageEncodingCount(pageType: 0, encoding: .rleDictionary, count: 10)))
        #expect(cells(try reader.readColumn(rowGroup: 0, column: 0)) == cells(values))
    }

    @Test("All-null columns of every kind read back as nulls with no min or max", arguments: ColumnKind.allCases)
    func allNullColumns(kind: ColumnKind) throws {
        var random = SeededRandom(seed: 3)
        let values = randomValues(kind, count: 777, optional: true, nullRate: 1.0, random: &random)
        #expect(values.nullCount == 777)
        let bytes = try writeInMemory(schema: ParquetSchema(columns: [kind.column("c", optional: true)]), rowGroups: [[values]])
        let reader = try ParquetFileReader(bytes: bytes)
        #expect(cells(try reader.readColumn(rowGroup: 0, column: 0)) == Array(repeating: .null, count: 777))
        let statistics = reader.rowGroups[0].columns[0].statistics
        #expect(statistics?.nullCount == 777)
        #expect(statistics?.min == nil)
        #expect(statistics?.max == nil)
    }

    @Test("Empty strings are values, not nulls", arguments: [true, false])
    func emptyStrings(dictionary: Bool) throws {
        let strings = StringColumn(["", nil, "", "x", ""])
        let bytes = try writeInMemory(
            schema: ParquetSchema(columns: [.string("s", optional: true)]), rowGroups: [[.strings(strings)]],
            options: ParquetWriterOptions(dictionaryEncodesPlainStrings: dictionary))
        let reader = try ParquetFileReader(bytes: bytes)
        let read = try reader.readColumn(rowGroup: 0, column: 0)
        #expect((0..<5).map { read.string(at: $0) } == ["", nil, "", "x", ""])
        #expect(reader.rowGroups[0].columns[0].statistics?.min == .bytes([]))
        #expect(reader.rowGroups[0].columns[0].statistics?.max == .bytes(Array("x".utf8)))
    }

    @Test("A file with no rows has a schema and no row groups")
    func zeroRowFile() throws {
        let schema = ParquetSchema(columns: [.string("s"), ParquetColumn(name: "b", type: .boolean, isOptional: true)])
        let bytes = try writeInMemory(schema: schema, rowGroups: [[.strings(StringColumn()), .boolean([], validity: nil)]])
        let reader = try ParquetFileReader(bytes: bytes)
        #expect(reader.schema == schema)
        #expect(reader.numberOfRows == 0)
        #expect(reader.rowGroups.isEmpty)
    }

    @Test("A dictionary over the limit falls back to PLAIN pages with the same values", arguments: [true, false])
    func dictionaryFallsBackToPlain(givenIDs: Bool) throws {
        var random = SeededRandom(seed: 11)
        let values = randomValues(givenIDs ? .dictionaryStrings : .plainStrings, count: 3000, optional: true, random: &random)
        let bytes = try writeInMemory(
            schema: ParquetSchema(columns: [.string("s", optional: true)]), rowGroups: [[values]],
            options: ParquetWriterOptions(dictionaryPageLimit: 500))
        let reader = try ParquetFileReader(bytes: bytes)
        let chunk = reader.rowGroups[0].columns[0]
        #expect(!chunk.encodings.contains(.rleDictionary))
        #expect(chunk.dictionaryPageOffset == nil)
        let read = try reader.readColumn(rowGroup: 0, column: 0)
        guard case .strings = read else {
            Issue.record("expected PLAIN strings, got \(read)")
            return
        }
        #expect(cells(read) == cells(values))
        let expected = expectedStatistics(values)
        #expect(cell(chunk.statistics?.min) == expected.min)
        #expect(cell(chunk.statistics?.max) == expected.max)
    }

    @Test("Unused dictionary entries are dropped and the ids come back as a dictionary")
    func unusedDictionaryEntriesAreDropped() throws {
        var dictionary = StringColumn()
        for index in 0..<100 { dictionary.append("entry \(index)") }
        let indices: [Int32] = [5, 99, -1, 5, 42, 42, 99]
        let bytes = try writeInMemory(
            schema: ParquetSchema(columns: [.string("s", optional: true)]),
            rowGroups: [[.dictionaryStrings(dictionary: dictionary, indices: indices)]])
        let reader = try ParquetFileReader(bytes: bytes)
        let read = try reader.readColumn(rowGroup: 0, column: 0)
        guard case .dictionaryStrings(let readDictionary, _) = read else {
            Issue.record("expected dictionary strings, got \(read)")
            return
        }
        #expect(readDictionary.count == 3)
        #expect((0..<7).map { read.string(at: $0) } == ["entry 5", "entry 99", nil, "entry 5", "entry 42", "entry 42", "entry 99"])
        let chunk = reader.rowGroups[0].columns[0]
        #expect(chunk.encodings == [.plain, .rle, .rleDictionary])
        #expect(chunk.statistics?.min == .bytes(Array("entry 42".utf8)))
        #expect(chunk.statistics?.max == .bytes(Array("entry 99".utf8)))
        #expect(chunk.statistics?.nullCount == 1)
    }

    @Test("Integer statistics use signed order and booleans false before true")
    func statisticsOrder() throws {
        let schema = ParquetSchema(columns: [
            ParquetColumn(name: "i", type: .int32), ParquetColumn(name: "l", type: .int64),
            ParquetColumn(name: "b", type: .boolean, isOptional: true),
        ])
        let bytes = try writeInMemory(schema: schema, rowGroups: [[
            .int32([3, -7, Int32.max, 0], validity: nil),
            .int64([Int64.min, 5, -1, 0], validity: nil),
            .boolean([true, false, true, true], validity: [true, false, true, true]),
        ]])
        let reader = try ParquetFileReader(bytes: bytes)
        let statistics = reader.rowGroups[0].columns.map(\.statistics)
        #expect(statistics[0]?.min == .int32(-7))
        #expect(statistics[0]?.max == .int32(Int32.max))
        #expect(statistics[1]?.min == .int64(Int64.min))
        #expect(statistics[1]?.max == .int64(5))
        #expect(statistics[2]?.min == .boolean(true))  // The only false is null.
        #expect(statistics[2]?.max == .boolean(true))
        #expect(statistics[2]?.nullCount == 1)
    }

    @Test("Values that do not fit the schema are rejected with the column's name")
    func invalidValuesAreRejected() throws {
        let schema = ParquetSchema(columns: [ParquetColumn(name: "status", type: .int32), .string("path")])
        let writer = try ParquetFileWriter(output: InMemoryOutput(), schema: schema)
        let path = ColumnValues.strings(StringColumn(["/"]))
        #expect(throws: ParquetError.self) { try writer.writeRowGroup([.int64([1], validity: nil), path]) }
        #expect(throws: ParquetError.self) { try writer.writeRowGroup([.int32([1, 2], validity: nil), path]) }
        #expect(throws: ParquetError.self) { try writer.writeRowGroup([.int32([1], validity: nil)]) }
        do {
            try writer.writeRowGroup([.int32([1], validity: [false]), path])
            Issue.record("a null in a REQUIRED column was accepted")
        } catch let error as ParquetError {
            #expect(error.kind == .invalidArgument)
            #expect(error.message.contains("'status'"))
            #expect(error.message.contains("REQUIRED"))
        }
        #expect(throws: ParquetError.self) {
            try writer.writeRowGroup([.int32([1], validity: nil), .dictionaryStrings(dictionary: StringColumn(["a"]), indices: [1])])
        }
        // The writer is still usable after rejected input.
        try writer.writeRowGroup([.int32([200], validity: nil), path])
        try writer.close()
        #expect(throws: ParquetError.self) { try writer.close() }
        let reader = try ParquetFileReader(bytes: writer.output.bytes)
        #expect(reader.numberOfRows == 1)
    }

    @Test("Schemas the writer cannot write are rejected")
    func invalidSchemasAreRejected() {
        #expect(throws: ParquetError.self) { try ParquetFileWriter(output: InMemoryOutput(), schema: ParquetSchema(columns: [])) }
        #expect(throws: ParquetError.self) {
            try ParquetFileWriter(output: InMemoryOutput(), schema: ParquetSchema(columns: [.string("a"), .string("a")]))
        }
        #expect(throws: ParquetError.self) {
            try ParquetFileWriter(output: InMemoryOutput(), schema: ParquetSchema(columns: [ParquetColumn(name: "d", type: .double)]))
        }
        #expect(throws: ParquetError.self) {
            try ParquetFileWriter(
                output: InMemoryOutput(),
                schema: ParquetSchema(columns: [ParquetColumn(name: "s", type: .int32, logical: .string)]))
        }
    }

    @Test("Chunks encoded separately and appended make the same file as writeRowGroup")
    func appendingEncodedChunks() throws {
        var random = SeededRandom(seed: 5)
        let schema = ParquetSchema(columns: [.string("s", optional: true), .timestampMilliseconds("ts")])
        let group = [
            randomValues(.dictionaryStrings, count: 500, optional: true, random: &random),
            randomValues(.timestamp, count: 500, optional: false, random: &random),
        ]
        let direct = try writeInMemory(schema: schema, rowGroups: [group])
        #expect(cells(try ParquetFileReader(bytes: direct).readRowGroup(0)[0]) == cells(group[0]))
        let writer = try ParquetFileWriter(output: InMemoryOutput(), schema: schema)
        var encoder = ColumnChunkEncoder(options: writer.options)
        let chunks = try zip(group, schema.columns).map { try encoder.encode($0, column: $1) }
        try writer.appendRowGroup(chunks)
        #expect(writer.numberOfRows == 500)
        #expect(writer.numberOfRowGroups == 1)
        try writer.close()
        #expect(writer.output.bytes == direct)
    }

    @Test("A file descriptor output writes a file the reader opens by path")
    func fileDescriptorOutput() throws {
        let directory = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("part-0.parquet").path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(descriptor >= 0)
        var random = SeededRandom(seed: 9)
        let values = randomValues(.plainStrings, count: 50_000, optional: true, random: &random)
        let writer = try ParquetFileWriter(
            output: FileDescriptorOutput(fileDescriptor: descriptor, path: path, bufferSize: 4096),
            schema: ParquetSchema(columns: [.string("s", optional: true)]))
        try writer.writeRowGroup([values])
        try writer.writeRowGroup([values])
        try writer.close()
        #expect(close(descriptor) == 0)
        let reader = try ParquetFileReader(path: path)
        #expect(reader.numberOfRows == 100_000)
        #expect(cells(try reader.readColumn(rowGroup: 1, named: "s")) == cells(values))
        #expect(throws: ParquetError.self) { try ParquetFileReader(path: directory.appendingPathComponent("missing").path) }
    }
}

@Suite("Page checksums")
struct PageChecksumTests {
    @Test("The CRC-32 matches zlib's check value")
    func crcCheckValue() {
        let bytes = Array("123456789".utf8)
        #expect(CRC32.checksum(bytes, range: 0..<bytes.count) == 0xCBF4_3926)
    }

    @Test("Pages written with checksums read back, and a flipped byte fails the check", arguments: ParquetCompression.allCases)
    func checksummedPages(compression: ParquetCompression) throws {
        let schema = ParquetSchema(columns: [ParquetColumn(name: "n", type: .int64)])
        var options = ParquetWriterOptions(compression: compression, writesPageChecksums: true)
        options.encodesIntegersCompactly = false  // one 8,000-byte PLAIN page, so the flip below lands in its body
        var bytes = try writeInMemory(
            schema: schema, rowGroups: [[.int64(Array(0..<1000), validity: nil)]], options: options)
        #expect(cells(try ParquetFileReader(bytes: bytes).readColumn(rowGroup: 0, column: 0)) == (0..<1000).map { .integer($0) })
        bytes[bytes.count / 4] ^= 0x01  // Inside the only page's body.
        let reader = try ParquetFileReader(bytes: bytes)
        do {
            _ = try reader.readColumn(rowGroup: 0, column: 0)
            Issue.record("a damaged page passed its CRC check")
        } catch let error as ParquetError {
            #expect(error.message.contains("CRC"))
        }
        if compression == .uncompressed {
            // Without verification the flipped bit simply changes a value.
            let values = cells(try reader.readColumn(rowGroup: 0, column: 0, verifyingChecksums: false))
            #expect(values.count == 1000)
            #expect(values != (0..<1000).map { .integer($0) })
        }
    }
}

@Suite("Dictionary statistics order")
struct DictionaryOrderTests {
    @Test("byteOrder sorts strings byte-wise: shared 16-byte prefixes, prefixes of each other, zero and high bytes")
    func byteOrder() {
        var random = SeededRandom(seed: 7)
        var strings: [[UInt8]] = [[], [0], [0, 0], [0xFF], Array("/products/update-1".utf8), Array("/products/update-10".utf8),
                                  Array("/products/update-".utf8), Array("/products/update-1".utf8) + [0]]
        let alphabet: [UInt8] = [0, 0x2F, 0x61, 0x62, 0x80, 0xFF]
        for _ in 0..<2_000 {
            let length = Int(random.next() % 24)
            strings.append((0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
        }
        var arena: [UInt8] = []
        var ranges: [Range<Int>] = []
        for string in strings {
            ranges.append(arena.count..<(arena.count + string.count))
            arena.append(contentsOf: string)
        }
        let order = arena.withUnsafeBufferPointer { ColumnChunkEncoder.byteOrder(of: ranges, in: $0) }
        #expect(order.sorted() == Array(strings.indices))
        for (left, right) in zip(order, order.dropFirst()) {
            #expect(!strings[right].lexicographicallyPrecedes(strings[left]), "\(strings[left]) before \(strings[right])")
        }
    }
}
