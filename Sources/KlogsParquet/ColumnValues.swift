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

    /// The number of rows.
    public var count: Int {
        switch self {
        case .boolean(let values, _): values.count
        case .int32(let values, _): values.count
        case .int64(let values, _): values.count
        case .strings(let column): column.count
        case .dictionaryStrings(_, let indices): indices.count
        }
    }

    /// Whether row `index` is present (not null).
    public func isPresent(_ index: Int) -> Bool {
        switch self {
        case .boolean(_, let validity), .int32(_, let validity), .int64(_, let validity):
            validity?[index] ?? true
        case .strings(let column): column.isPresent(index)
        case .dictionaryStrings(_, let indices): indices[index] >= 0
        }
    }

    /// The number of null rows.
    public var nullCount: Int {
        switch self {
        case .boolean(_, let validity), .int32(_, let validity), .int64(_, let validity):
            validity.map { $0.count { !$0 } } ?? 0
        case .strings(let column): column.validity.map { $0.count { !$0 } } ?? 0
        case .dictionaryStrings(_, let indices): indices.count { $0 < 0 }
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
        default: nil
        }
    }

    /// The physical type these values are stored as.
    public var physicalType: PhysicalType {
        switch self {
        case .boolean: .boolean
        case .int32: .int32
        case .int64: .int64
        case .strings, .dictionaryStrings: .byteArray
        }
    }
}
