import Testing

@testable import KlogsParquet

@Suite("Hostile inputs to the reader")
struct HostileInputTests {
    /// A small valid file with every column kind, several pages and two row groups.
    static func validFile(compression: ParquetCompression = .lz4Raw) throws -> [UInt8] {
        var random = SeededRandom(seed: 99)
        var columns: [ParquetColumn] = []
        for kind in ColumnKind.allCases {
            columns.append(kind.column("\(kind.rawValue)_r", optional: false))
            columns.append(kind.column("\(kind.rawValue)_o", optional: true))
        }
        let groups: [[ColumnValues]] = [60, 25].map { rows in
            ColumnKind.allCases.flatMap { kind in
                [randomValues(kind, count: rows, optional: false, random: &random),
                 randomValues(kind, count: rows, optional: true, random: &random)]
            }
        }
        return try writeInMemory(
            schema: ParquetSchema(columns: columns), rowGroups: groups,
            options: ParquetWriterOptions(compression: compression, dataPageSize: 64, createdBy: "klogs test",
                                          keyValueMetadata: [("a", "b")]))
    }

    /// Opens and fully decodes a file; returns whether it succeeded. Any ParquetError is fine, a crash is not.
    @discardableResult
    static func readEverything(_ bytes: [UInt8]) -> Bool {
        do {
            let reader = try ParquetFileReader(bytes: bytes, name: "fuzzed.parquet")
            for group in reader.rowGroups.indices {
                for column in reader.schema.columns.indices {
                    _ = try reader.readColumn(rowGroup: group, column: column)
                }
            }
            return true
        } catch let error as ParquetError {
            #expect(!error.message.isEmpty)
            #expect(error.message.contains("fuzzed.parquet"), "error without the file name: \(error.message)")
            return false
        } catch {
            Issue.record("a non-ParquetError escaped: \(error)")
            return false
        }
    }

    @Test("The valid fixture itself reads", arguments: ParquetCompression.allCases)
    func fixtureReads(compression: ParquetCompression) throws {
        #expect(Self.readEverything(try Self.validFile(compression: compression)))
    }

    @Test("Every truncation of a valid file throws")
    func truncatedFilesThrow() throws {
        let bytes = try Self.validFile()
        for length in 0..<bytes.count {
            #expect(!Self.readEverything(Array(bytes[0..<length])), "a \(length)-byte prefix was accepted")
        }
    }

    @Test("Bad magic at either end throws a malformed-file error")
    func badMagicThrows() throws {
        let bytes = try Self.validFile()
        for position in [0, 1, 2, 3, bytes.count - 4, bytes.count - 1] {
            var damaged = bytes
            damaged[position] ^= 0x20
            #expect(throws: ParquetError.self) { try ParquetFileReader(bytes: damaged) }
        }
        var encrypted = bytes
        encrypted.replaceSubrange((bytes.count - 4)..<bytes.count, with: Array("PARE".utf8))
        do {
            _ = try ParquetFileReader(bytes: encrypted)
            Issue.record("an encrypted footer was accepted")
        } catch let error as ParquetError {
            #expect(error.kind == .unsupported)
        }
    }

    @Test("Footer lengths pointing outside the file or inside the pages throw", arguments: [
        UInt32(0), 1, 7, UInt32.max, UInt32(Int32.max), 1 << 20,
    ])
    func lyingFooterLength(length: UInt32) throws {
        var bytes = try Self.validFile()
        for index in 0..<4 { bytes[bytes.count - 8 + index] = UInt8(truncatingIfNeeded: length >> (8 * UInt32(index))) }
        #expect(throws: ParquetError.self) { try ParquetFileReader(bytes: bytes) }
    }

    @Test("A footer length reaching the leading magic throws")
    func footerLengthCoveringEverything() throws {
        var bytes = try Self.validFile()
        let length = UInt32(bytes.count - 8)
        for index in 0..<4 { bytes[bytes.count - 8 + index] = UInt8(truncatingIfNeeded: length >> (8 * UInt32(index))) }
        #expect(throws: ParquetError.self) { try ParquetFileReader(bytes: bytes) }
    }

    @Test("Random byte flips anywhere never crash the reader", arguments: [ParquetCompression.lz4Raw, .uncompressed])
    func randomFlipsAnywhere(compression: ParquetCompression) throws {
        let bytes = try Self.validFile(compression: compression)
        var random = SeededRandom(seed: compression == .lz4Raw ? 1 : 2)
        for _ in 0..<1500 {
            var damaged = bytes
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let position = Int(random.next() % UInt64(damaged.count))
                damaged[position] = random.next() % 2 == 0 ? UInt8(truncatingIfNeeded: random.next()) : damaged[position] ^ 0xFF
            }
            Self.readEverything(damaged)
        }
    }

    @Test("Random byte flips in the footer never crash the reader")
    func randomFlipsInFooter() throws {
        let bytes = try Self.validFile()
        var footerLength = 0
        for index in 0..<4 { footerLength |= Int(bytes[bytes.count - 8 + index]) << (8 * index) }
        let footer = (bytes.count - 8 - footerLength)..<(bytes.count - 8)
        var random = SeededRandom(seed: 3)
        var accepted = 0
        for _ in 0..<2000 {
            var damaged = bytes
            for _ in 0..<(1 + Int(random.next() % 3)) {
                let position = footer.lowerBound + Int(random.next() % UInt64(footer.count))
                damaged[position] = UInt8(truncatingIfNeeded: random.next())
            }
            if Self.readEverything(damaged) { accepted += 1 }
        }
        // Some flips land in values that do not matter (a statistic, created_by); most must be caught.
        #expect(accepted < 2000)
    }

    @Test("Random bytes after a valid magic never crash the reader")
    func randomFiles() {
        var random = SeededRandom(seed: 4)
        for _ in 0..<500 {
            let size = 12 + Int(random.next() % 300)
            var bytes = (0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            bytes.replaceSubrange(0..<4, with: Array("PAR1".utf8))
            bytes.replaceSubrange((size - 4)..<size, with: Array("PAR1".utf8))
            let footerLength = UInt32(random.next() % UInt64(size - 11))
            for index in 0..<4 { bytes[size - 8 + index] = UInt8(truncatingIfNeeded: footerLength >> (8 * UInt32(index))) }
            Self.readEverything(bytes)
        }
    }

    @Test("Random input to the Snappy and LZ4 decoders throws or decodes, never crashes")
    func decompressorsSurviveGarbage() {
        var random = SeededRandom(seed: 5)
        for _ in 0..<2000 {
            let bytes = (0..<Int(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let size = Int(random.next() % 200)
            _ = try? PageCodec.decompressSnappy(bytes, range: 0..<bytes.count, uncompressedSize: size)
            _ = try? PageCodec.decompressLZ4(bytes, range: 0..<bytes.count, uncompressedSize: size)
        }
    }

    @Test("A hand-made Snappy block with literals and overlapping copies decodes")
    func snappyBlockDecodes() throws {
        // "abcabcabcabcX": literal "abc", copy length 9 offset 3 (tag 1: length 4..11), literal "X".
        let block: [UInt8] = [13, 0x08, 0x61, 0x62, 0x63, (9 - 4) << 2 | 1, 3, 0x00, 0x58]
        let output = try PageCodec.decompressSnappy(block, range: 0..<block.count, uncompressedSize: 13)
        #expect(String(decoding: output, as: UTF8.self) == "abcabcabcabcX")
        #expect(throws: ParquetError.self) {
            try PageCodec.decompressSnappy(block, range: 0..<block.count, uncompressedSize: 14)
        }
        let badOffset: [UInt8] = [5, 0x00, 0x61, (4 - 4) << 2 | 1, 9]
        #expect(throws: ParquetError.self) {
            try PageCodec.decompressSnappy(badOffset, range: 0..<badOffset.count, uncompressedSize: 5)
        }
    }

    @Test("A page header claiming a huge uncompressed size is refused before allocating")
    func hugeUncompressedSizeIsRefused() throws {
        let schema = ParquetSchema(columns: [ParquetColumn(name: "n", type: .int64)])
        // 16,000 bytes of zeros compress to a few dozen; a claim of 1,000,000 (same varint length) is beyond LZ4.
        var options = ParquetWriterOptions()
        options.encodesIntegersCompactly = false  // a PLAIN page of 16,000 bytes
        var bytes = try writeInMemory(
            schema: schema, rowGroups: [[.int64(Array(repeating: 0, count: 2000), validity: nil)]], options: options)
        var writer = ThriftCompactWriter()
        var header = PageHeader(type: 0, uncompressedSize: 1_000_000, compressedSize: 0)
        var reader = ThriftCompactReader(bytes, range: 4..<bytes.count)
        let original = try PageHeader.decode(from: &reader, physicalType: .int64)
        header.compressedSize = original.compressedSize
        header.numberOfValues = original.numberOfValues
        header.statistics = original.statistics
        header.encode(into: &writer)
        guard writer.bytes.count == reader.position - 4 else {
            Issue.record("the rewritten header has a different length; adjust the test")
            return
        }
        bytes.replaceSubrange(4..<reader.position, with: writer.bytes)
        do {
            _ = try ParquetFileReader(bytes: bytes).readColumn(rowGroup: 0, column: 0)
            Issue.record("a lying page size was accepted")
        } catch let error as ParquetError {
            #expect(error.message.contains("column 'n'"))
            #expect(error.message.contains("expand"))
        }
    }

    @Test("Unsupported codecs and types are named in the error")
    func unsupportedFeaturesAreNamed() throws {
        let schema = ParquetSchema(columns: [ParquetColumn(name: "n", type: .int32)])
        let bytes = try writeInMemory(schema: schema, rowGroups: [[.int32([1, 2, 3], validity: nil)]],
                                      options: ParquetWriterOptions(compression: .uncompressed))
        // Patch the codec in the footer: find ColumnMetaData's codec field (short form 0x15 after path list) by
        // re-encoding the footer with codec ZSTD.
        let reader = try ParquetFileReader(bytes: bytes)
        var chunk = reader.rowGroups[0].columns[0]
        chunk.codec = .zstd
        var footer = FileMetadata(
            version: 1, schema: [SchemaElement(name: "schema", numberOfChildren: 1),
                                 SchemaElement(type: .int32, repetition: 0, name: "n")],
            numberOfRows: 3, rowGroups: [RowGroupMetadata(columns: [chunk], totalByteSize: 0, numberOfRows: 3)],
            keyValueMetadata: [], createdBy: nil, hasColumnOrders: false)
        let footerStart = bytes.count - 8 - (Int(bytes[bytes.count - 8]) | Int(bytes[bytes.count - 7]) << 8)
        var patched = Array(bytes[0..<footerStart]) + footer.encode()
        let length = UInt32(patched.count - footerStart)
        patched += (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * UInt32($0))) } + Array("PAR1".utf8)
        do {
            _ = try ParquetFileReader(bytes: patched, name: "zstd.parquet").readColumn(rowGroup: 0, column: 0)
            Issue.record("ZSTD was accepted")
        } catch let error as ParquetError {
            #expect(error.kind == .unsupported)
            #expect(error.message.contains("zstd.parquet, row group 0, column 'n'"))
            #expect(error.message.contains("ZSTD"))
        }
        footer.schema[1].type = .double
        chunk.type = .double
        chunk.codec = .uncompressed
        footer.rowGroups[0].columns = [chunk]
        patched = Array(bytes[0..<footerStart]) + footer.encode()
        let doubleLength = UInt32(patched.count - footerStart)
        patched += (0..<4).map { UInt8(truncatingIfNeeded: doubleLength >> (8 * UInt32($0))) } + Array("PAR1".utf8)
        do {
            _ = try ParquetFileReader(bytes: patched).readColumn(rowGroup: 0, column: 0)
            Issue.record("DOUBLE was accepted")
        } catch let error as ParquetError {
            #expect(error.kind == .unsupported)
            #expect(error.message.contains("DOUBLE"))
        }
    }
}
