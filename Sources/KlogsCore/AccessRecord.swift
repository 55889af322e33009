/// Why a line was not ingested. The raw values are stable snake_case keys of the run summary's JSON.
public enum RejectReason: String, CaseIterable, Sendable, Hashable {
    /// The line is empty or holds only spaces and tabs.
    case emptyLine = "empty_line"
    /// The line is longer than the splitter's limit (reported by the ingest from ``SplitLine/overlong``).
    case lineTooLong = "line_too_long"
    /// The client field is empty or starts with a quote or a bracket.
    case badClient = "bad_client"
    /// The time is not `[dd/Mon/yyyy:HH:MM:SS ±hhmm]` with a real date, or the offset exceeds ±14:00.
    case badTimestamp = "bad_timestamp"
    /// The status is not three digits (`-` included).
    case badStatus = "bad_status"
    /// The size is neither `-` nor a decimal number of at most 18 digits.
    case badBytes = "bad_bytes"
    /// A field is missing or a separator is not where the format puts it (e.g. no ident and user fields).
    case missingField = "missing_field"
    /// The request or referrer has no closing quote (a user agent cut at the end of the line is accepted).
    case unterminatedQuote = "unterminated_quote"
}

/// What the request line (`"%r"`) held.
public enum RequestKind: UInt8, Sendable {
    /// `METHOD target [HTTP/x]`: method, path, query and protocol are filled.
    case valid
    /// `"-"` or `""`, as servers log a connection closed before a request (408, 400): method and path are `-`.
    case empty
    /// Anything else (TLS or RDP probes such as `\x16\x03\x01…`, `hello`): method and path are `-`, ``AccessRecord/request``
    /// keeps the bytes.
    case malformed
}

/// A byte range of a field, in the line or in the record's scratch buffer (unescaped quoted fields).
@usableFromInline
struct FieldRange: Sendable {
    @usableFromInline var start: Int32
    /// The length; -1 when the field is absent.
    @usableFromInline var count: Int32
    @usableFromInline var inScratch: Bool

    @usableFromInline static let absent = FieldRange(start: 0, count: -1, inScratch: false)
    @usableFromInline static let empty = FieldRange(start: 0, count: 0, inScratch: false)

    @inline(__always)
    init(start: Int32, count: Int32, inScratch: Bool) {
        self.start = start
        self.count = count
        self.inScratch = inScratch
    }

    @inline(__always)
    init(_ start: Int, _ end: Int, inScratch: Bool = false) {
        self.start = Int32(truncatingIfNeeded: start)
        self.count = Int32(truncatingIfNeeded: end - start)
        self.inScratch = inScratch
    }

    @inlinable @inline(__always)
    var isAbsent: Bool { count < 0 }

    /// The sub-range `offset..<offset + length` of this field, in the same buffer.
    @inline(__always)
    func slice(_ offset: Int, _ length: Int) -> FieldRange {
        FieldRange(start: start + Int32(offset), count: Int32(length), inScratch: inScratch)
    }
}

/// The record's unescape buffer: one allocation, grown to the longest line seen, freed with the record.
///
/// Unsafe memory of the record lives here. Capacity always covers `line.count + 2` once `prepare` ran for a line,
/// so unescaping a line never needs to grow it again. The fill count lives in the record (a struct field needs no
/// dynamic exclusivity check on every line, a class property does).
@usableFromInline
final class ScratchBuffer {
    @usableFromInline private(set) var base: UnsafeMutableRawPointer
    @usableFromInline private(set) var capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = capacity
        base = .allocate(byteCount: capacity, alignment: 8)
    }

    deinit { base.deallocate() }

    /// Makes room for every unescaped field of a line of `lineLength` bytes (unescaping never lengthens),
    /// keeping the first `count` bytes.
    @inline(__always)
    func prepare(lineLength: Int, keeping count: Int) {
        guard lineLength + 2 > capacity else { return }
        let newCapacity = max(capacity * 2, lineLength + 2)
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 8)
        // Safe because the first count <= capacity bytes were initialised.
        newBase.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }
}

/// One parsed access-log line: the fields as byte ranges into the line, numbers already converted.
///
/// A record is a reusable work area: parsers fill it in place, without allocating per line in the steady state.
/// The byte views (``client``, ``path``, …) are valid only until the next parse into this record and only while
/// the line's buffer is alive; intern or copy what must outlive the line. Copies of a record share its scratch
/// buffer, so keep one record per parser.
///
/// Quoted fields are unescaped (`\"`, `\\`, `\xHH`, `\n`, `\t`, …) into the record's scratch buffer only when they
/// hold an escape; otherwise they point into the line.
public struct AccessRecord {
    /// The line last parsed into this record.
    public private(set) var line: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
    @usableFromInline let scratch = ScratchBuffer()
    /// The bytes of `scratch` used by the current line.
    @usableFromInline var scratchCount = 0

    /// The request time in milliseconds since the Unix epoch, UTC.
    public var timestamp: Int64 = 0
    /// The HTTP status.
    public var status: Int32 = 0
    /// The response size in bytes (`-` counts as 0).
    public var responseBytes: Int64 = 0
    /// What the request line held; method and path are `-` unless ``RequestKind/valid``.
    public var requestKind: RequestKind = .empty

    @usableFromInline var clientField = FieldRange.absent
    @usableFromInline var virtualHostField = FieldRange.absent
    @usableFromInline var requestField = FieldRange.absent
    @usableFromInline var methodField = FieldRange.absent
    @usableFromInline var pathField = FieldRange.absent
    @usableFromInline var queryField = FieldRange.absent
    @usableFromInline var protocolField = FieldRange.absent
    @usableFromInline var referrerField = FieldRange.absent
    @usableFromInline var userAgentField = FieldRange.absent
    @usableFromInline var forwardedForField = FieldRange.absent

    /// Creates an empty record.
    public init() {}

    /// Starts a new line: forgets the previous fields and empties the scratch buffer.
    @inline(__always)
    mutating func begin(_ line: UnsafeRawBufferPointer) {
        self.line = line
        scratchCount = 0
        virtualHostField = .absent
        queryField = .absent
        referrerField = .absent
        userAgentField = .absent
        forwardedForField = .absent
        protocolField = .empty
    }

    /// Makes room in the scratch buffer for the current line's unescaped fields.
    @inline(__always)
    mutating func prepareScratch() {
        scratch.prepare(lineLength: line.count, keeping: scratchCount)
    }

    /// Appends a byte to the scratch buffer; `prepareScratch()` guarantees room.
    @inline(__always)
    mutating func appendScratch(_ byte: UInt8) {
        precondition(scratchCount < scratch.capacity, "scratch buffer overflow")
        // Safe because scratchCount < capacity, checked above.
        scratch.base.storeBytes(of: byte, toByteOffset: scratchCount, as: UInt8.self)
        scratchCount += 1
    }

    @inlinable @inline(__always)
    func bytes(_ field: FieldRange) -> UnsafeRawBufferPointer {
        let base: UnsafeRawPointer? =
            field.inScratch ? UnsafeRawPointer(scratch.base) : line.baseAddress
        // Safe because every range was made from offsets inside the line or the scratch buffer of this parse.
        return UnsafeRawBufferPointer(start: base.map { $0 + Int(field.start) }, count: max(Int(field.count), 0))
    }

    @inlinable @inline(__always)
    func optionalBytes(_ field: FieldRange) -> UnsafeRawBufferPointer? {
        field.isAbsent ? nil : bytes(field)
    }

    /// The client field as logged (`%h`): an address, a host name or another token. For an X-Forwarded-For style
    /// list (`10.0.0.2, 10.0.0.1, 127.0.0.1`) the first element, the originating client.
    @inlinable @inline(__always) public var client: UnsafeRawBufferPointer { bytes(clientField) }
    /// The virtual host (port removed), or `nil` when the format has none.
    @inlinable @inline(__always) public var virtualHost: UnsafeRawBufferPointer? { optionalBytes(virtualHostField) }
    /// The whole request line, unescaped (`GET /a?b HTTP/1.1`).
    @inlinable @inline(__always) public var request: UnsafeRawBufferPointer { bytes(requestField) }
    /// The request method, or `-` for an empty or malformed request.
    @inlinable @inline(__always) public var method: UnsafeRawBufferPointer { bytes(methodField) }
    /// The request target without query string and fragment, as logged (not percent-decoded); `-` for an empty
    /// or malformed request.
    @inlinable @inline(__always) public var path: UnsafeRawBufferPointer { bytes(pathField) }
    /// The query string after `?` (without the `?` and without any `#fragment`), or `nil` when there is no `?`.
    @inlinable @inline(__always) public var query: UnsafeRawBufferPointer? { optionalBytes(queryField) }
    /// The protocol (`HTTP/1.1`, `HTTP/2.0`, `HTTP/3`), or empty when the request line has none.
    @inlinable @inline(__always) public var httpProtocol: UnsafeRawBufferPointer { bytes(protocolField) }
    /// The referrer as logged, unescaped; `nil` when absent, empty or `-`.
    @inlinable @inline(__always) public var referrer: UnsafeRawBufferPointer? { optionalBytes(referrerField) }
    /// The user agent as logged, unescaped (may be `-`); `nil` when the line has no user-agent field.
    @inlinable @inline(__always) public var userAgent: UnsafeRawBufferPointer? { optionalBytes(userAgentField) }
    /// The X-Forwarded-For field as logged (`203.0.113.7, 10.0.0.1`: the originating client first), or `nil` when
    /// the format has none or it is empty or `-`. Only formats with `$http_x_forwarded_for`,
    /// `%{X-Forwarded-For}i` or a mapped JSON field fill it.
    @inlinable @inline(__always) public var forwardedFor: UnsafeRawBufferPointer? { optionalBytes(forwardedForField) }
}
