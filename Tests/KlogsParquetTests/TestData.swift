import KlogsParquet

/// SplitMix64: a tiny seeded generator so every random test is reproducible.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One value of any column, for comparing what was written with what was read regardless of representation.
enum Cell: Hashable, CustomStringConvertible {
    case null
    case boolean(Bool)
    case integer(Int64)
    case bytes([UInt8])

    var description: String {
        switch self {
        case .null: "null"
        case .boolean(let value): "\(value)"
        case .integer(let value): "\(value)"
        case .bytes(let value): "\"\(String(decoding: value, as: UTF8.self))\""
        }
    }
}

/// The cells of a column, nulls as ``Cell/null`` whatever the null representation.
func cells(_ values: ColumnValues) -> [Cell] {
    switch values {
    case .boolean(let array, _):
        return array.indices.map { values.isPresent($0) ? .boolean(array[$0]) : .null }
    case .int32(let array, _):
        return array.indices.map { values.isPresent($0) ? .integer(Int64(array[$0])) : .null }
    case .int64(let array, _):
        return array.indices.map { values.isPresent($0) ? .integer(array[$0]) : .null }
    case .strings(let column):
        return (0..<column.count).map { column.isPresent($0) ? .bytes(Array(column[$0])) : .null }
    case .dictionaryStrings(let dictionary, let indices):
        return indices.map { $0 < 0 ? .null : .bytes(Array(dictionary[Int($0)])) }
    case .keyedDictionaryStrings:
        return cells(values.resolvingKeys)
    }
}

/// The kinds of column the random tests generate.
enum ColumnKind: String, CaseIterable, Sendable {
    case boolean, int32, int64, timestamp, plainStrings, dictionaryStrings

    func column(_ name: String, optional: Bool) -> ParquetColumn {
        switch self {
        case .boolean: ParquetColumn(name: name, type: .boolean, isOptional: optional)
        case .int32: ParquetColumn(name: name, type: .int32, isOptional: optional)
        case .int64: ParquetColumn(name: name, type: .int64, isOptional: optional)
        case .timestamp: .timestampMilliseconds(name, optional: optional)
        case .plainStrings, .dictionaryStrings: .string(name, optional: optional)
        }
    }
}

/// A few words with shared prefixes, the empty string and multi-byte UTF-8, so string order matters.
let sampleWords = ["", "a", "ab", "abc", "b", "GET", "POST", "/index.html", "/", "héllo", "zz", "\u{1F600}", "Z", "a\u{0}b"]

/// Random values of a kind; `nullRate` in 0...1 applies only when `optional`.
func randomValues(
    _ kind: ColumnKind, count: Int, optional: Bool, nullRate: Double = 0.2, random: inout SeededRandom
) -> ColumnValues {
    func validity(_ random: inout SeededRandom) -> [Bool]? {
        guard optional else { return nil }
        return (0..<count).map { _ in Double(random.next() % 1000) / 1000 >= nullRate }
    }
    switch kind {
    case .boolean:
        let valid = validity(&random)
        return .boolean((0..<count).map { _ in random.next() & 1 == 1 }, validity: valid)
    case .int32:
        let valid = validity(&random)
        return .int32((0..<count).map { _ in Int32(truncatingIfNeeded: random.next()) >> Int32(random.next() % 31) }, validity: valid)
    case .int64:
        let valid = validity(&random)
        return .int64((0..<count).map { _ in Int64(bitPattern: random.next()) >> Int64(random.next() % 63) }, validity: valid)
    case .timestamp:
        let valid = validity(&random)
        return .int64((0..<count).map { _ in 1_763_700_000_000 + Int64(random.next() % 86_400_000) }, validity: valid)
    case .plainStrings:
        let valid = validity(&random)
        var column = StringColumn()
        for row in 0..<count {
            if let valid, !valid[row] {
                column.appendNull()
            } else if random.next() % 3 == 0 {
                column.append(sampleWords[Int(random.next() % UInt64(sampleWords.count))])
            } else {
                column.append("/path/\(random.next() % 500)")
            }
        }
        return .strings(column)
    case .dictionaryStrings:
        var dictionary = StringColumn()
        for word in sampleWords { dictionary.append(word) }
        for index in 0..<200 { dictionary.append("/page/\(index)?q=\(index * 7)") }
        let indices = (0..<count).map { _ -> Int32 in
            if optional && Double(random.next() % 1000) / 1000 < nullRate { return -1 }
            return Int32(random.next() % UInt64(dictionary.count))
        }
        return .dictionaryStrings(dictionary: dictionary, indices: indices)
    }
}

/// Writes a file to memory.
func writeInMemory(
    schema: ParquetSchema, rowGroups: [[ColumnValues]], options: ParquetWriterOptions = ParquetWriterOptions()
) throws -> [UInt8] {
    let writer = try ParquetFileWriter(output: InMemoryOutput(), schema: schema, options: options)
    for group in rowGroups { try writer.writeRowGroup(group) }
    try writer.close()
    return writer.output.bytes
}

/// The expected statistics of written values.
func expectedStatistics(_ values: ColumnValues) -> (nulls: Int, min: Cell?, max: Cell?) {
    expectedStatistics(cells(values))
}

/// The expected statistics of some cells.
func expectedStatistics(_ all: some Collection<Cell>) -> (nulls: Int, min: Cell?, max: Cell?) {
    let present = all.filter { $0 != .null }
    func less(_ a: Cell, _ b: Cell) -> Bool {
        switch (a, b) {
        case (.boolean(let x), .boolean(let y)): !x && y
        case (.integer(let x), .integer(let y)): x < y
        case (.bytes(let x), .bytes(let y)): x.lexicographicallyPrecedes(y)
        default: false
        }
    }
    return (all.count - present.count, present.min(by: less), present.max(by: less))
}

/// A statistics scalar as a ``Cell``.
func cell(_ scalar: ParquetScalar?) -> Cell? {
    switch scalar {
    case nil: nil
    case .boolean(let value): .boolean(value)
    case .int32(let value): .integer(Int64(value))
    case .int64(let value): .integer(value)
    case .bytes(let value): .bytes(value)
    }
}
