import Testing

@testable import KlogsParquet

@Suite("Thrift compact protocol")
struct ThriftCompactTests {
    @Test("Varints round trip at every length, including the 64-bit extremes", arguments: [
        UInt64(0), 1, 127, 128, 255, 300, 16_383, 16_384, UInt64(UInt32.max), UInt64.max - 1, UInt64.max,
    ])
    func varintsRoundTrip(value: UInt64) throws {
        var writer = ThriftCompactWriter()
        writer.writeVarint(value)
        var reader = ThriftCompactReader(writer.bytes)
        #expect(try reader.readVarint() == value)
        #expect(reader.position == writer.bytes.count)
    }

    @Test("Zigzag encodes small negative numbers in one byte and round trips extremes", arguments: [
        Int64(0), -1, 1, -64, 63, -65, 64, Int64(Int32.min), Int64(Int32.max), Int64.min, Int64.max,
    ])
    func zigzagRoundTrips(value: Int64) throws {
        var writer = ThriftCompactWriter()
        writer.writeZigZag(value)
        if value >= -64 && value <= 63 { #expect(writer.bytes.count == 1) }
        var reader = ThriftCompactReader(writer.bytes)
        #expect(try reader.readZigZag() == value)
    }

    @Test("Zigzag maps -1 to 1 and 1 to 2 as the spec says")
    func zigzagMatchesSpec() {
        var writer = ThriftCompactWriter()
        writer.writeZigZag(-1)
        writer.writeZigZag(1)
        writer.writeZigZag(-2)
        #expect(writer.bytes == [1, 2, 3])
    }

    @Test("Structs with short and long field deltas, bools, lists and nesting round trip")
    func structsRoundTrip() throws {
        var writer = ThriftCompactWriter()
        writer.beginStruct()
        writer.writeI32(field: 1, -42)
        writer.writeBool(field: 2, true)
        writer.writeBool(field: 3, false)
        writer.writeI64(field: 40, Int64.min)  // delta 37: long form
        writer.writeString(field: 41, "héllo")
        writer.beginList(field: 42, elementType: .i32, count: 20)  // 20 elements: long list header
        for index in 0..<20 { writer.writeI32Value(Int32(index) - 10) }
        writer.beginStruct(field: 43)
        writer.writeI16(field: 7, -300)
        writer.beginStruct(field: 100)
        writer.writeBinary(field: 1, [0, 255, 7])
        writer.endStruct()
        writer.writeDouble(field: 200, 2.5)
        writer.endStruct()
        writer.beginList(field: 44, elementType: .booleanTrue, count: 3)
        writer.writeBoolValue(true)
        writer.writeBoolValue(false)
        writer.writeBoolValue(true)
        writer.writeI32(field: 2, 5)  // id below the previous one: long form
        writer.endStruct()

        var reader = ThriftCompactReader(writer.bytes)
        var seen: [Int16] = []
        try reader.readStruct { reader, id, type in
            seen.append(id)
            switch id {
            case 1: #expect(try reader.readI32(type, field: id, in: "test") == -42)
            case 2 where seen.count == 2: #expect(try reader.readBool(type, field: id, in: "test") == true)
            case 3: #expect(try reader.readBool(type, field: id, in: "test") == false)
            case 40: #expect(try reader.readI64(type, field: id, in: "test") == Int64.min)
            case 41: #expect(try reader.readString(type, field: id, in: "test") == "héllo")
            case 42:
                var values: [Int32] = []
                try reader.readList(type, field: id, in: "test", elementType: .i32) { values.append(try $0.readI32Value()) }
                #expect(values == (0..<20).map { Int32($0) - 10 })
            case 43:
                try reader.readStruct { reader, id, type in
                    switch id {
                    case 7: #expect(try reader.readI16Value() == -300)
                    case 100:
                        try reader.readStruct { reader, id, type in
                            let value = try reader.readBinary(type, field: id, in: "inner")
                            #expect(id == 1)
                            #expect(value == [0, 255, 7])
                        }
                    case 200: #expect(try reader.readDoubleValue() == 2.5)
                    default: Issue.record("unexpected field \(id)")
                    }
                }
            case 44:
                var values: [Bool] = []
                try reader.readList(type, field: id, in: "test", elementType: .booleanTrue) { values.append(try $0.readBoolValue()) }
                #expect(values == [true, false, true])
            case 2: #expect(try reader.readI32(type, field: id, in: "test") == 5)
            default: Issue.record("unexpected field \(id)")
            }
        }
        #expect(seen == [1, 2, 3, 40, 41, 42, 43, 44, 2])
        #expect(reader.position == writer.bytes.count)
    }

    @Test("Skipping unknown fields lands on the next known one")
    func skippingUnknownFields() throws {
        var writer = ThriftCompactWriter()
        writer.beginStruct()
        writer.beginStruct(field: 1)
        writer.beginList(field: 1, elementType: .structure, count: 2)
        for _ in 0..<2 {
            writer.beginStruct()
            writer.writeString(field: 3, "x")
            writer.endStruct()
        }
        writer.writeBool(field: 2, true)
        writer.endStruct()
        writer.writeI32(field: 2, 99)
        writer.endStruct()
        var reader = ThriftCompactReader(writer.bytes)
        var value: Int32?
        try reader.readStruct { reader, id, type in
            if id == 2 { value = try reader.readI32(type, field: id, in: "test") } else { try reader.skip(type) }
        }
        #expect(value == 99)
    }

    @Test("Truncated input and lying lengths throw instead of reading past the end")
    func truncatedInputThrows() {
        var writer = ThriftCompactWriter()
        writer.beginStruct()
        writer.writeString(field: 1, "a long enough string")
        writer.endStruct()
        for cut in 0..<writer.bytes.count {
            var reader = ThriftCompactReader(Array(writer.bytes[0..<cut]))
            #expect(throws: ParquetError.self) { try reader.skip(.structure) }
        }
        var lying = ThriftCompactReader([0x19, 0xF5, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F])  // list<i32> field claiming ~4 billion elements
        #expect(throws: ParquetError.self) { try lying.skip(.structure) }
    }

    @Test("Deep nesting is rejected rather than overflowing the stack")
    func deepNestingIsRejected() {
        let bytes = [UInt8](repeating: 0x1C, count: 10_000)  // field 1 of type struct, forever
        var reader = ThriftCompactReader(bytes)
        #expect(throws: ParquetError.self) { try reader.skip(.structure) }
    }

    @Test("Page headers round trip through encode and decode")
    func pageHeaderRoundTrip() throws {
        var header = PageHeader(type: PageType.dataPage.rawValue, uncompressedSize: 1234, compressedSize: 567)
        header.numberOfValues = 20_000
        header.encoding = .rleDictionary
        var writer = ThriftCompactWriter()
        header.encode(into: &writer)
        var reader = ThriftCompactReader(writer.bytes)
        let decoded = try PageHeader.decode(from: &reader)
        #expect(decoded.type == 0)
        #expect(decoded.uncompressedSize == 1234)
        #expect(decoded.compressedSize == 567)
        #expect(decoded.numberOfValues == 20_000)
        #expect(decoded.encoding == .rleDictionary)
        #expect(decoded.definitionLevelEncoding == .rle)
    }
}

@Suite("RLE / bit-packing hybrid")
struct RunLengthEncodingTests {
    @Test("Random level and id sequences round trip at every bit width", arguments: [1, 2, 3, 7, 8, 13, 20, 31, 32])
    func roundTrips(bitWidth: Int) throws {
        var random = SeededRandom(seed: UInt64(bitWidth))
        let maximum: UInt64 = bitWidth == 32 ? UInt64(UInt32.max) : (1 << UInt64(bitWidth)) - 1
        for length in [0, 1, 7, 8, 9, 63, 64, 1000] {
            var values: [UInt32] = []
            while values.count < length {
                // Mix long runs and noise so both run kinds appear.
                let value = UInt32(random.next() % (maximum + 1))
                let run = random.next() % 4 == 0 ? Int(random.next() % 40) + 1 : 1
                values.append(contentsOf: repeatElement(value, count: min(run, length - values.count)))
            }
            var encoded: [UInt8] = []
            values.withUnsafeBufferPointer { RunLengthEncoding.encode($0, bitWidth: bitWidth, into: &encoded) }
            var decoded: [UInt32] = []
            try RunLengthEncoding.decode(encoded, range: 0..<encoded.count, bitWidth: bitWidth, count: length, into: &decoded)
            #expect(decoded == values, "length \(length)")
        }
    }

    @Test("A literal run ends at a group of eight equal values, and only there")
    func literalRunsEndAtEightEqualValues() {
        func encoded(_ values: [UInt32]) -> [UInt8] {
            var bytes: [UInt8] = []
            values.withUnsafeBufferPointer { RunLengthEncoding.encode($0, bitWidth: 4, into: &bytes) }
            return bytes
        }
        let group: [UInt32] = [1, 2, 3, 4, 5, 6, 7, 8]
        // One literal group, a run of eight 9s, one literal group holding the 3 (padded with zeros).
        #expect(
            encoded(group + repeatElement(9, count: 8) + [3])
                == [0x03, 0x21, 0x43, 0x65, 0x87, 0x10, 0x09, 0x03, 0x03, 0x00, 0x00, 0x00])
        // Seven 9s start no run: two literal groups.
        #expect(
            encoded(group + repeatElement(9, count: 7) + [3])
                == [0x05, 0x21, 0x43, 0x65, 0x87, 0x99, 0x99, 0x99, 0x39])
    }

    @Test("A long run of one value costs a couple of bytes")
    func longRunsAreCompact() {
        let values = [UInt32](repeating: 1, count: 100_000)
        var encoded: [UInt8] = []
        values.withUnsafeBufferPointer { RunLengthEncoding.encode($0, bitWidth: 1, into: &encoded) }
        #expect(encoded.count <= 4)
    }

    @Test("Decoding more values than the data holds throws")
    func shortDataThrows() {
        var decoded: [UInt32] = []
        #expect(throws: ParquetError.self) {
            try RunLengthEncoding.decode([0x03, 0xFF], range: 0..<2, bitWidth: 8, count: 9, into: &decoded)
        }
    }
}
