/// A column of byte strings stored as one contiguous byte arena plus offsets, with optional nulls.
///
/// Entry `i` is `bytes[offsets[i] ..< offsets[i + 1]]`; `offsets` therefore has `count + 1` elements and starts at 0.
/// A null entry (``validity`` false) should be empty; its bytes are ignored either way.
///
/// ```swift
/// var hosts = StringColumn()
/// hosts.append("example.org")
/// hosts.appendNull()
/// ```
public struct StringColumn: Sendable, Hashable {
    /// The UTF-8 bytes of all entries, back to back.
    public var bytes: [UInt8]
    /// The start of every entry and the end of the last: `count + 1` non-decreasing offsets starting at 0.
    public var offsets: [Int32]
    /// Which entries are present; nil means all are.
    public var validity: [Bool]?

    /// Creates an empty column.
    public init() {
        bytes = []
        offsets = [0]
        validity = nil
    }

    /// Creates a column from its arena, offsets and validity as described on the type.
    public init(bytes: [UInt8], offsets: [Int32], validity: [Bool]? = nil) {
        self.bytes = bytes
        self.offsets = offsets
        self.validity = validity
    }

    /// Creates a column from Swift strings; nil entries are nulls.
    public init(_ strings: some Sequence<String?>) {
        self.init()
        for string in strings {
            if let string { append(string) } else { appendNull() }
        }
    }

    /// The number of entries, nulls included.
    public var count: Int { offsets.count - 1 }

    /// Appends a present entry.
    public mutating func append(_ string: String) {
        bytes.append(contentsOf: string.utf8)
        appendOffset()
    }

    /// Appends a present entry from raw bytes.
    public mutating func append(bytes newBytes: some Sequence<UInt8>) {
        bytes.append(contentsOf: newBytes)
        appendOffset()
    }

    /// Appends a null entry.
    public mutating func appendNull() {
        if validity == nil { validity = Array(repeating: true, count: count) }
        offsets.append(offsets[offsets.count - 1])
        validity!.append(false)  // Safe because it was made non-nil just above.
    }

    private mutating func appendOffset() {
        offsets.append(Int32(truncatingIfNeeded: bytes.count))
        validity?.append(true)
    }

    /// Whether entry `index` is present.
    public func isPresent(_ index: Int) -> Bool { validity?[index] ?? true }

    /// The bytes of entry `index` (empty for a null).
    public subscript(index: Int) -> ArraySlice<UInt8> {
        bytes[Int(offsets[index])..<Int(offsets[index + 1])]
    }

    /// Entry `index` as a String, or nil for a null.
    public func string(at index: Int) -> String? {
        isPresent(index) ? String(decoding: self[index], as: UTF8.self) : nil
    }
}

/// The values of one column for one row group, in the shape the writer takes and the reader returns.
///
/// Every case holds one entry per row. For the numeric and boolean cases a null row still has an entry in the
/// values array (its value is ignored and read back as zero or false) and `validity[row]` is false; a nil `validity`
/// means no nulls.
public enum ColumnValues: Sendable, Hashable {
    case boolean([Bool], validity: [Bool]?)
    case int32([Int32], validity: [Bool]?)
    case int64([Int64], validity: [Bool]?)
    /// Strings as an arena and offsets, nulls in the column's own validity.
    case strings(StringColumn)
    /// Strings as ids into a dictionary: `indices[row]` is an index into `dictionary`, or -1 for a null.
    ///
    /// The writer uses the ids directly without hashing any string; dictionary entries no row uses are dropped.
    /// The dictionary must not contain nulls; duplicates are allowed but waste space.
    case dictionaryStrings(dictionary: StringColumn, indices: [Int32])
    /// Strings derived from a small key per row: row `r` is `dictionary[indexOfKey[rows.keys[r]]]`, or null where
    /// that index is -1.
    ///
    /// The same values as `.dictionaryStrings` with `indices[r] = indexOfKey[rows.keys[r]]`, written to the same
    /// bytes, but the writer finds the dictionary entries in use per key instead of per row, and several columns
    /// derived from the same keys (the browser, OS and device of a user-agent class) share one ``KeyedRows``.
    /// The writer's choice for columns with many rows per key; the reader never returns it.
    case keyedDictionaryStrings(dictionary: StringColumn, rows: KeyedRows, indexOfKey: [Int32])

    /// The number of rows.
    public var count: Int {
        switch self {
        case .boolean(let values, _): values.count
        case .int32(let values, _): values.count
        case .int64(let values, _): values.count
        case .strings(let column): column.count
        case .dictionaryStrings(_, let indices): indices.count
        case .keyedDictionaryStrings(_, let rows, _): rows.keys.count
        }
    }

    /// Whether row `index` is present (not null).
    public func isPresent(_ index: Int) -> Bool {
        switch self {
        case .boolean(_, let validity), .int32(_, let validity), .int64(_, let validity):
            validity?[index] ?? true
        case .strings(let column): column.isPresent(index)
        case .dictionaryStrings(_, let indices): indices[index] >= 0
        case .keyedDictionaryStrings(_, let rows, let indexOfKey): indexOfKey[Int(rows.keys[index])] >= 0
        }
    }

    /// The number of null rows.
    public var nullCount: Int {
        switch self {
        case .boolean(_, let validity), .int32(_, let validity), .int64(_, let validity):
            validity.map { $0.count { !$0 } } ?? 0
        case .strings(let column): column.validity.map { $0.count { !$0 } } ?? 0
        case .dictionaryStrings(_, let indices): indices.count { $0 < 0 }
        case .keyedDictionaryStrings(_, let rows, let indexOfKey): rows.keys.count { indexOfKey[Int($0)] < 0 }
        }
    }

    /// The string at `index` for either string case, or nil for a null or a non-string column.
    ///
    /// Meant for tests and diagnostics; it allocates a String.
    public func string(at index: Int) -> String? {
        switch self {
        case .strings(let column): column.string(at: index)
        case .dictionaryStrings(let dictionary, let indices):
            indices[index] < 0 ? nil : String(decoding: dictionary[Int(indices[index])], as: UTF8.self)
        case .keyedDictionaryStrings(let dictionary, let rows, let indexOfKey):
            indexOfKey[Int(rows.keys[index])] < 0
                ? nil : String(decoding: dictionary[Int(indexOfKey[Int(rows.keys[index])])], as: UTF8.self)
        default: nil
        }
    }

    /// The physical type these values are stored as.
    public var physicalType: PhysicalType {
        switch self {
        case .boolean: .boolean
        case .int32: .int32
        case .int64: .int64
        case .strings, .dictionaryStrings, .keyedDictionaryStrings: .byteArray
        }
    }

    /// `.keyedDictionaryStrings` as the equal `.dictionaryStrings` (an index per row); any other case unchanged.
    public var resolvingKeys: ColumnValues {
        guard case .keyedDictionaryStrings(let dictionary, let rows, let indexOfKey) = self else { return self }
        return .dictionaryStrings(dictionary: dictionary, indices: rows.keys.map { indexOfKey[Int($0)] })
    }
}

/// Rows that each hold a small integer key, and how many rows hold each key: what the columns of
/// ``ColumnValues/keyedDictionaryStrings(dictionary:rows:indexOfKey:)`` derived from the same keys share.
///
/// ```swift
/// let rows = KeyedRows(keys: [0, 2, 2, 1], keyCount: 3)  // counted once, used by both columns
/// let browser = ColumnValues.keyedDictionaryStrings(dictionary: browsers, rows: rows, indexOfKey: [0, 1, 1])
/// let os = ColumnValues.keyedDictionaryStrings(dictionary: systems, rows: rows, indexOfKey: [0, 0, -1])
/// ```
public struct KeyedRows: Sendable, Hashable {
    /// Each row's key.
    public let keys: [Int32]
    /// How many rows hold each key (the key is the index), for the keys `0..<keyCount`.
    let rowCounts: [Int]
    /// The first row whose key is outside `0..<keyCount`, if any: the writer refuses such rows.
    let invalidRow: Int?

    /// Counts the rows of each key.
    ///
    /// - Parameters:
    ///   - keys: each row's key, in `0..<keyCount`.
    ///   - keyCount: the number of keys, that is the length of the `indexOfKey` tables of the columns.
    /// - Complexity: O(rows + keyCount): the one pass over the rows that the columns sharing them make before their
    ///   data pages.
    public init(keys: [Int32], keyCount: Int) {
        self.keys = keys
        var invalidRow: Int?
        var rowCounts = [Int](repeating: 0, count: max(keyCount, 0))
        keys.withUnsafeBufferPointer { keys in
            rowCounts.withUnsafeMutableBufferPointer { counts in
                for (row, key) in keys.enumerated() {
                    // Safe because the comparison keeps the index inside `counts` (negative keys wrap to large).
                    if UInt(truncatingIfNeeded: Int(key)) < UInt(counts.count) {
                        counts[Int(key)] += 1
                    } else if invalidRow == nil {
                        invalidRow = row
                    }
                }
            }
        }
        self.rowCounts = rowCounts
        self.invalidRow = invalidRow
    }
}
