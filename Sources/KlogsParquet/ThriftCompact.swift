/// The element and field types of the Thrift compact protocol, as they appear on the wire.
enum ThriftType: UInt8, Sendable {
    case stop = 0
    case booleanTrue = 1
    case booleanFalse = 2
    case byte = 3
    case i16 = 4
    case i32 = 5
    case i64 = 6
    case double = 7
    case binary = 8
    case list = 9
    case set = 10
    case map = 11
    case structure = 12
}

/// Encodes values with the Thrift compact protocol into a growing byte array.
///
/// Fields are written in increasing id order by the caller; the encoder tracks the previous field id of every open
/// struct so it can use the one-byte short form (delta 1…15) and fall back to the long form otherwise.
///
/// ```swift
/// var writer = ThriftCompactWriter()
/// writer.writeI32(field: 1, 2)
/// writer.writeString(field: 6, "klogs")
/// writer.writeStop()
/// ```
struct ThriftCompactWriter {
    /// The encoded bytes so far.
    var bytes: [UInt8] = []
    private var lastFieldID: Int16 = 0
    private var enclosingFieldIDs: [Int16] = []

    init() {}

    // MARK: Primitive encodings

    /// Appends an unsigned LEB128 varint.
    mutating func writeVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// Appends a zigzag-encoded signed varint.
    mutating func writeZigZag(_ value: Int64) {
        writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    // MARK: Fields

    /// Appends a field header, in the short form when the id delta allows it.
    mutating func writeFieldHeader(_ id: Int16, _ type: ThriftType) {
        let delta = Int(id) - Int(lastFieldID)
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            writeZigZag(Int64(id))
        }
        lastFieldID = id
    }

    mutating func writeBool(field id: Int16, _ value: Bool) {
        writeFieldHeader(id, value ? .booleanTrue : .booleanFalse)
    }

    mutating func writeI16(field id: Int16, _ value: Int16) {
        writeFieldHeader(id, .i16)
        writeZigZag(Int64(value))
    }

    mutating func writeI32(field id: Int16, _ value: Int32) {
        writeFieldHeader(id, .i32)
        writeZigZag(Int64(value))
    }

    mutating func writeI64(field id: Int16, _ value: Int64) {
        writeFieldHeader(id, .i64)
        writeZigZag(value)
    }

    mutating func writeDouble(field id: Int16, _ value: Double) {
        writeFieldHeader(id, .double)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func writeBinary(field id: Int16, _ value: some Collection<UInt8>) {
        writeFieldHeader(id, .binary)
        writeBinaryValue(value)
    }

    mutating func writeString(field id: Int16, _ value: String) {
        writeBinary(field: id, Array(value.utf8))
    }

    /// Appends a length-prefixed binary value (a list element or a field body).
    mutating func writeBinaryValue(_ value: some Collection<UInt8>) {
        writeVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// Appends a zigzag i32 value (a list element).
    mutating func writeI32Value(_ value: Int32) { writeZigZag(Int64(value)) }

    /// Appends a zigzag i64 value (a list element).
    mutating func writeI64Value(_ value: Int64) { writeZigZag(value) }

    /// Appends a bool list element: one byte, 1 for true and 0 for false.
    mutating func writeBoolValue(_ value: Bool) { bytes.append(value ? 1 : 0) }

    /// Starts a struct-typed field; end it with ``endStruct()``.
    mutating func beginStruct(field id: Int16) {
        writeFieldHeader(id, .structure)
        beginStruct()
    }

    /// Starts a struct value (a list element or the top-level struct); end it with ``endStruct()``.
    mutating func beginStruct() {
        enclosingFieldIDs.append(lastFieldID)
        lastFieldID = 0
    }

    /// Writes the stop byte of the current struct and returns to the enclosing one.
    mutating func endStruct() {
        bytes.append(ThriftType.stop.rawValue)
        lastFieldID = enclosingFieldIDs.popLast() ?? 0
    }

    /// Writes a stop byte without leaving a struct (for a top-level struct written without ``beginStruct()``).
    mutating func writeStop() {
        bytes.append(ThriftType.stop.rawValue)
    }

    /// Starts a list-typed field whose elements the caller appends next.
    mutating func beginList(field id: Int16, elementType: ThriftType, count: Int) {
        writeFieldHeader(id, .list)
        writeListHeader(elementType: elementType, count: count)
    }

    /// Appends a list header: the size in the high nibble when below 15, otherwise 0xF and a varint.
    mutating func writeListHeader(elementType: ThriftType, count: Int) {
        // Bools inside lists use type 1 (the compact protocol's BOOL element type).
        let type = elementType == .booleanFalse ? ThriftType.booleanTrue.rawValue : elementType.rawValue
        if count < 15 {
            bytes.append(UInt8(count) << 4 | type)
        } else {
            bytes.append(0xF0 | type)
            writeVarint(UInt64(count))
        }
    }
}

/// Decodes Thrift compact protocol values from a byte range, checking every length against the bytes that remain.
///
/// A hostile input can at worst make it throw: list sizes are bounded by the remaining bytes (every element takes at
/// least one byte), binary lengths by the remaining bytes, and nesting by ``maximumDepth``.
struct ThriftCompactReader {
    /// The buffer holding the encoded bytes.
    let bytes: [UInt8]
    /// The next byte to read.
    private(set) var position: Int
    /// One past the last byte this reader may read.
    let end: Int
    /// How deeply structs and lists may nest before the input is rejected.
    static let maximumDepth = 64

    private var lastFieldID: Int16 = 0
    private var enclosingFieldIDs: [Int16] = []
    private var depth = 0

    /// Creates a reader over `bytes[range]`.
    init(_ bytes: [UInt8], range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count, "range outside the buffer")
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
    }

    /// Creates a reader over all of `bytes`.
    init(_ bytes: [UInt8]) {
        self.init(bytes, range: 0..<bytes.count)
    }

    private func truncated(_ what: String) -> ParquetError {
        .malformed("Thrift data ends at byte \(position) in the middle of \(what)")
    }

    mutating func readByte() throws -> UInt8 {
        guard position < end else { throw truncated("a value") }
        let byte = bytes[position]
        position += 1
        return byte
    }

    mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw truncated("a varint") }
            let byte = bytes[position]
            position += 1
            guard shift < 64 else { throw ParquetError.malformed("Thrift varint at byte \(position) is longer than 10 bytes") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func readZigZag() throws -> Int64 {
        let raw = try readVarint()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    mutating func readI32Value() throws -> Int32 {
        let value = try readZigZag()
        guard let narrow = Int32(exactly: value) else {
            throw ParquetError.malformed("Thrift i32 value \(value) at byte \(position) is out of range")
        }
        return narrow
    }

    mutating func readI16Value() throws -> Int16 {
        let value = try readZigZag()
        guard let narrow = Int16(exactly: value) else {
            throw ParquetError.malformed("Thrift i16 value \(value) at byte \(position) is out of range")
        }
        return narrow
    }

    mutating func readI64Value() throws -> Int64 { try readZigZag() }

    mutating func readDoubleValue() throws -> Double {
        guard end - position >= 8 else { throw truncated("a double") }
        var bits: UInt64 = 0
        for index in 0..<8 { bits |= UInt64(bytes[position + index]) << (8 * UInt64(index)) }
        position += 8
        return Double(bitPattern: bits)
    }

    /// Reads a length-prefixed binary value.
    mutating func readBinaryValue() throws -> [UInt8] {
        let length = try readVarint()
        guard length <= UInt64(end - position) else {
            throw ParquetError.malformed(
                "Thrift binary value at byte \(position) claims \(length) bytes but only \(end - position) remain")
        }
        let start = position
        position += Int(length)
        return Array(bytes[start..<position])
    }

    mutating func readStringValue() throws -> String {
        String(decoding: try readBinaryValue(), as: UTF8.self)
    }

    /// Reads a bool list element (1 true, 0 or 2 false).
    mutating func readBoolValue() throws -> Bool {
        try readByte() == 1
    }

    /// Enters a struct: subsequent field headers are relative to field id 0.
    mutating func beginStruct() throws {
        depth += 1
        guard depth <= Self.maximumDepth else {
            throw ParquetError.malformed("Thrift structs nest more than \(Self.maximumDepth) deep at byte \(position)")
        }
        enclosingFieldIDs.append(lastFieldID)
        lastFieldID = 0
    }

    /// Leaves a struct after its stop byte was read by ``readFieldHeader()``.
    mutating func endStruct() {
        depth -= 1
        lastFieldID = enclosingFieldIDs.popLast() ?? 0
    }

    /// Reads a field header; returns nil at the struct's stop byte.
    ///
    /// For a bool field the returned type is ``ThriftType/booleanTrue`` or ``ThriftType/booleanFalse``, which is the
    /// value itself.
    mutating func readFieldHeader() throws -> (id: Int16, type: ThriftType)? {
        let byte = try readByte()
        if byte == 0 { return nil }
        guard let type = ThriftType(rawValue: byte & 0x0F) else {
            throw ParquetError.malformed("Thrift field at byte \(position - 1) has unknown type \(byte & 0x0F)")
        }
        let delta = Int16(byte >> 4)
        let id: Int16
        if delta != 0 {
            let (sum, overflow) = lastFieldID.addingReportingOverflow(delta)
            guard !overflow else { throw ParquetError.malformed("Thrift field id overflows at byte \(position - 1)") }
            id = sum
        } else {
            id = try readI16Value()
        }
        lastFieldID = id
        return (id, type)
    }

    /// Reads a list header: the element type and the element count, bounded by the bytes that remain.
    mutating func readListHeader() throws -> (elementType: ThriftType, count: Int) {
        let byte = try readByte()
        guard let type = ThriftType(rawValue: byte & 0x0F) else {
            throw ParquetError.malformed("Thrift list at byte \(position - 1) has unknown element type \(byte & 0x0F)")
        }
        var count = UInt64(byte >> 4)
        if count == 15 { count = try readVarint() }
        // Every element takes at least one byte, so a count beyond the remaining bytes is a lie.
        guard count <= UInt64(end - position) else {
            throw ParquetError.malformed(
                "Thrift list at byte \(position) claims \(count) elements but only \(end - position) bytes remain")
        }
        return (type, Int(count))
    }

    /// Checks that a field has the expected wire type.
    func expect(_ type: ThriftType, _ expected: ThriftType, field: Int16, in structName: String) throws {
        let matches = type == expected
            || (expected == .booleanTrue && (type == .booleanTrue || type == .booleanFalse))
        guard matches else {
            throw ParquetError.malformed(
                "Thrift \(structName) field \(field) has wire type \(type) where \(expected) was expected (byte \(position))")
        }
    }

    mutating func readI32(_ type: ThriftType, field: Int16, in structName: String) throws -> Int32 {
        try expect(type, .i32, field: field, in: structName)
        return try readI32Value()
    }

    mutating func readI64(_ type: ThriftType, field: Int16, in structName: String) throws -> Int64 {
        try expect(type, .i64, field: field, in: structName)
        return try readI64Value()
    }

    mutating func readBinary(_ type: ThriftType, field: Int16, in structName: String) throws -> [UInt8] {
        try expect(type, .binary, field: field, in: structName)
        return try readBinaryValue()
    }

    mutating func readString(_ type: ThriftType, field: Int16, in structName: String) throws -> String {
        try expect(type, .binary, field: field, in: structName)
        return try readStringValue()
    }

    func readBool(_ type: ThriftType, field: Int16, in structName: String) throws -> Bool {
        try expect(type, .booleanTrue, field: field, in: structName)
        return type == .booleanTrue
    }

    /// Reads a list of elements of one expected type with `element` called once per element.
    mutating func readList(
        _ type: ThriftType, field: Int16, in structName: String, elementType: ThriftType,
        _ element: (inout ThriftCompactReader) throws -> Void
    ) throws {
        try expect(type, .list, field: field, in: structName)
        let header = try readListHeader()
        guard header.count == 0 || header.elementType == elementType
            || (elementType == .booleanTrue && header.elementType == .booleanFalse)
        else {
            throw ParquetError.malformed(
                "Thrift \(structName) field \(field) is a list of \(header.elementType) where \(elementType) was expected")
        }
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else {
            throw ParquetError.malformed("Thrift values nest more than \(Self.maximumDepth) deep at byte \(position)")
        }
        for _ in 0..<header.count { try element(&self) }
    }

    /// Reads a struct with `field` called for every field header until the stop byte.
    mutating func readStruct(_ field: (inout ThriftCompactReader, Int16, ThriftType) throws -> Void) throws {
        try beginStruct()
        while let header = try readFieldHeader() {
            try field(&self, header.id, header.type)
        }
        endStruct()
    }

    /// Skips one value of a wire type, including nested structs and containers.
    mutating func skip(_ type: ThriftType) throws {
        switch type {
        case .stop:
            throw ParquetError.malformed("Thrift stop byte where a value was expected at byte \(position)")
        case .booleanTrue, .booleanFalse:
            break  // The value is in the field header.
        case .byte:
            _ = try readByte()
        case .i16, .i32, .i64:
            _ = try readVarint()
        case .double:
            _ = try readDoubleValue()
        case .binary:
            let length = try readVarint()
            guard length <= UInt64(end - position) else { throw truncated("a binary value") }
            position += Int(length)
        case .list, .set:
            let header = try readListHeader()
            try nest {
                for _ in 0..<header.count {
                    if header.elementType == .booleanTrue || header.elementType == .booleanFalse {
                        _ = try $0.readByte()
                    } else {
                        try $0.skip(header.elementType)
                    }
                }
            }
        case .map:
            let count = try readVarint()
            guard count <= UInt64(end - position) else { throw truncated("a map") }
            if count == 0 { return }
            let types = try readByte()
            guard let keyType = ThriftType(rawValue: types >> 4), let valueType = ThriftType(rawValue: types & 0x0F)
            else { throw ParquetError.malformed("Thrift map at byte \(position) has unknown key or value types") }
            try nest {
                for _ in 0..<count {
                    try $0.skipElement(keyType)
                    try $0.skipElement(valueType)
                }
            }
        case .structure:
            try beginStruct()
            while let header = try readFieldHeader() { try skip(header.type) }
            endStruct()
        }
    }

    private mutating func skipElement(_ type: ThriftType) throws {
        if type == .booleanTrue || type == .booleanFalse { _ = try readByte() } else { try skip(type) }
    }

    private mutating func nest(_ body: (inout ThriftCompactReader) throws -> Void) throws {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else {
            throw ParquetError.malformed("Thrift values nest more than \(Self.maximumDepth) deep at byte \(position)")
        }
        try body(&self)
    }
}
