/// A log line format known to klogs: a built-in hand-tuned layout, a compiled nginx or Apache format string, or
/// a JSON-lines field mapping.
///
/// ```swift
/// let format = try LogFormat.compile(#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent"#)
/// let preset = LogFormat.preset(named: "caddy-json")
/// ```
public enum LogFormat: Sendable, Equatable, CaseIterable, CustomStringConvertible {
    /// NCSA combined, nginx's default and Apache's `combined`:
    /// `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"`. Lines that end after `%b` (common format) and
    /// lines with extra trailing fields are accepted.
    case combined
    /// NCSA common, `%h %l %u %t "%r" %>s %b`; anything after `%b` is ignored.
    case common
    /// Apache's `vhost_combined`, `%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"`: the combined
    /// format after a virtual host with an optional port (removed).
    case virtualHostCombined
    /// An nginx `log_format` or Apache `LogFormat` string compiled into a byte-level program.
    case custom(CompiledFormat)
    /// JSON lines (one object per line) read through a field mapping.
    case json(JSONFormat)

    /// The three hand-tuned built-in layouts.
    public static var allCases: [LogFormat] { [.combined, .common, .virtualHostCombined] }

    /// The format's name: the preset name (`combined`, `vhost_combined`, `caddy-json`), or `custom`.
    public var name: String {
        switch self {
        case .combined: "combined"
        case .common: "common"
        case .virtualHostCombined: "vhost_combined"
        case .custom(let format): format.name
        case .json(let format): format.name
        }
    }

    public var description: String { name }

    /// A parser for this format.
    public func makeParser() -> AccessLogParser { AccessLogParser(format: self) }
}

/// Parses access-log lines into an ``AccessRecord`` at byte level, with no allocation per line.
///
/// ```swift
/// var parser = LogFormat.combined.makeParser()
/// var record = AccessRecord()
/// if let reason = parser.parse(line, into: &record) { rejects[reason, default: 0] += 1 } else { use(record) }
/// ```
///
/// Decisions a reader of the data should know:
/// - An empty request line (`"-"`, `""`; servers log these for connections closed or timed out before a request,
///   with status 400 or 408) and a malformed one (`"\x16\x03\x01…"` TLS probes, `"hello"`) are **ingested**, not
///   rejected: their time, status and size are real traffic an analyst counts (scanner and timeout load). Their
///   method and path are `-`, ``AccessRecord/requestKind`` tells them apart and ``AccessRecord/request`` keeps the
///   bytes. A request line is valid when it is a method of RFC 9110 token characters, a space, a non-empty target
///   and optionally a space and `HTTP/…`; spaces inside the target are kept (`GET /a b HTTP/1.1` has path `/a b`).
/// - A status must be exactly three digits (`000`…`999`: nginx logs `499` and `000`); `-` is rejected.
/// - A client field may be a comma-separated X-Forwarded-For list; the first element is the client.
/// - A line cut inside its user agent (a logger's line limit; one such line in the elastic examples) keeps the rest
///   of the line as the user agent; an unterminated request or referrer is rejected.
/// - The parser is a value with a small time cache; use one per thread.
public struct AccessLogParser: Sendable {
    /// The format this parser reads.
    public let format: LogFormat
    private var time = CommonLogTimeParser()
    /// 0 combined, 1 common, 2 vhost_combined, 3 compiled program, 4 JSON lines.
    private let kind: UInt8
    private let program: FormatProgram?
    /// The program's pointers, valid while `program` is held.
    private let programView: ProgramView?
    private let jsonProgram: JSONProgram?
    /// How the last line matched the format (for format detection).
    public internal(set) var lastMatch = FormatMatch()

    /// Creates a parser for `format`.
    public init(format: LogFormat) {
        self.format = format
        switch format {
        case .combined: (kind, program, jsonProgram) = (0, nil, nil)
        case .common: (kind, program, jsonProgram) = (1, nil, nil)
        case .virtualHostCombined: (kind, program, jsonProgram) = (2, nil, nil)
        case .custom(let compiled):
            switch compiled.builtInEquivalent {
            // A string that spells combined or common exactly runs the hand-tuned parser (the differential tests
            // check they agree on the corpus); the only difference is that the built-in accepts any ident where
            // nginx's string has a literal `-`.
            case .combined?: (kind, program, jsonProgram) = (0, nil, nil)
            case .common?: (kind, program, jsonProgram) = (1, nil, nil)
            default: (kind, program, jsonProgram) = (3, compiled.program, nil)
            }
        case .json(let mapping): (kind, program, jsonProgram) = (4, nil, mapping.program)
        }
        programView = program?.view
    }

    /// Parses one line (without its newline) into `record`.
    ///
    /// - Parameters:
    ///   - line: the line's bytes; must stay alive while `record`'s byte views are used.
    ///   - record: the record to fill, reused from line to line.
    /// - Returns: `nil` when the line was parsed, or why it was rejected (then `record` is unspecified).
    /// - Complexity: O(line length); about 110 ns for a typical 240-byte combined line (release, one core).
    public mutating func parse(_ line: UnsafeRawBufferPointer, into record: inout AccessRecord) -> RejectReason? {
        if let reason = parseFields(line, into: &record) { return reason }
        // One check for every format: a time that parsed but lies outside what klogs stores (1970 to 9999).
        return Timestamp.supportedRange.contains(record.timestamp) ? nil : .badTimestamp
    }

    /// Parses the fields of one line, without the range check of the time.
    private mutating func parseFields(_ line: UnsafeRawBufferPointer, into record: inout AccessRecord)
        -> RejectReason?
    {
        record.begin(line)
        var end = line.count
        while end > 0 && (line[end - 1] == UInt8(ascii: " ") || line[end - 1] == UInt8(ascii: "\t")) { end -= 1 }
        guard end > 0 else { return .emptyLine }
        if kind >= 3 {
            // Safe because kind 3 always has a program and kind 4 a JSON program (set together in init).
            if kind == 3 { return programView.unsafelyUnwrapped.run(line, end, &record, &time, &lastMatch) }
            return jsonProgram.unsafelyUnwrapped.run(line, end, &record, &lastMatch)
        }
        var position = 0
        if kind == 2 {
            guard let hostEnd = Self.spaceIndex(line, 0, end), hostEnd > 0 else { return .missingField }
            var nameStart = 0
            var nameEnd = hostEnd
            if line[0] == UInt8(ascii: "[") {
                // An IPv6 literal: `[2001:db8::1]:443` → `2001:db8::1`.
                guard let close = IPAddress.indexOf(UInt8(ascii: "]"), line, 1, hostEnd) else { return .missingField }
                nameStart = 1
                nameEnd = close
            } else if let colon = IPAddress.indexOf(UInt8(ascii: ":"), line, 0, hostEnd) {
                nameEnd = colon
            }
            record.virtualHostField = Self.lowerCased(line, nameStart, nameEnd, &record)
            position = hostEnd + 1
        }
        return parseFromClient(line, position, end, &record)
    }

    @inline(__always)
    private mutating func parseFromClient(
        _ line: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ record: inout AccessRecord
    ) -> RejectReason? {
        // %h, possibly a list "a, b, c". Searched with vector compares: a byte loop over it was a sixth of this
        // parser's instructions.
        guard let clientEnd = ByteSearch.firstOf(UInt8(ascii: " "), UInt8(ascii: " "), in: line, from: start, to: end)
        else { return .missingField }
        guard clientEnd > start, line[start] != UInt8(ascii: "\""), line[start] != UInt8(ascii: "[") else {
            return .badClient
        }
        var position = clientEnd + 1
        if line[clientEnd - 1] == UInt8(ascii: ",") {
            record.clientField = FieldRange(start, clientEnd - 1)
            var tokenEnd = clientEnd
            while line[tokenEnd - 1] == UInt8(ascii: ",") {
                while position < end && line[position] == UInt8(ascii: " ") { position += 1 }
                guard let next = Self.spaceIndex(line, position, end), next > position else { return .missingField }
                tokenEnd = next
                position = next + 1
            }
        } else {
            record.clientField = FieldRange(start, clientEnd)
        }
        // %l and %u.
        guard let identEnd = Self.spaceIndex(line, position, end) else { return .missingField }
        guard let userEnd = Self.spaceIndex(line, identEnd + 1, end) else { return .missingField }
        position = userEnd + 1
        // [%t]
        guard position < end, line[position] == UInt8(ascii: "[") else { return .missingField }
        guard position + 28 <= end, line[position + 27] == UInt8(ascii: "]"),
            let timestamp = time.parse(UnsafeRawBufferPointer(rebasing: line[(position + 1)..<(position + 27)]))
        else { return .badTimestamp }
        record.timestamp = timestamp
        position += 28
        // "%r"
        guard position + 1 < end, line[position] == UInt8(ascii: " "), line[position + 1] == UInt8(ascii: "\"")
        else { return .missingField }
        guard let (request, afterRequest) = Self.quoted(line, position + 2, end, &record) else {
            return .unterminatedQuote
        }
        record.requestField = request
        Self.splitRequest(&record)
        position = afterRequest
        // %>s
        guard position + 4 <= end, line[position] == UInt8(ascii: " ") else { return .missingField }
        guard let hundreds = Timestamp.digit(line[position + 1]), let tens = Timestamp.digit(line[position + 2]),
            let ones = Timestamp.digit(line[position + 3]),
            position + 4 == end || line[position + 4] == UInt8(ascii: " ")
        else { return .badStatus }
        record.status = Int32(hundreds * 100 + tens * 10 + ones)
        position += 5
        // %b
        guard position < end else { return .missingField }
        let bytesEnd = Self.spaceIndex(line, position, end) ?? end
        guard let size = Self.size(line, position, bytesEnd) else { return .badBytes }
        record.responseBytes = size
        position = bytesEnd
        if kind == 1 { return nil }
        // "%{Referer}i" "%{User-Agent}i", both optional; anything after them is ignored.
        guard position + 1 < end, line[position + 1] == UInt8(ascii: "\"") else { return nil }
        guard let (referrer, afterReferrer) = Self.quoted(line, position + 2, end, &record) else {
            return .unterminatedQuote
        }
        if referrer.count > 0 && !(referrer.count == 1 && record.bytes(referrer).first == UInt8(ascii: "-")) {
            record.referrerField = referrer
        }
        position = afterReferrer
        guard position + 1 < end, line[position] == UInt8(ascii: " "), line[position + 1] == UInt8(ascii: "\"") else {
            return nil
        }
        if let (userAgent, _) = Self.quoted(line, position + 2, end, &record) {
            record.userAgentField = userAgent
        } else {
            // A line cut inside its last field (a logger's line limit): the rest of the line is the user agent.
            record.userAgentField = Self.truncatedField(line, position + 2, end, &record)
        }
        return nil
    }

    // MARK: Pieces

    /// The index of the next space in `line[start..<end]`, or `nil`: a byte loop, for the short fields.
    @inline(__always)
    static func spaceIndex(_ line: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int? {
        var index = start
        while index < end {
            if line[index] == UInt8(ascii: " ") { return index }
            index += 1
        }
        return nil
    }

    /// `-` as 0, or a decimal of 1 to 18 digits filling `line[start..<end]`.
    @inline(__always)
    static func size(_ line: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int64? {
        let count = end - start
        guard count > 0 && count <= 18 else { return nil }
        if count == 1 && line[start] == UInt8(ascii: "-") { return 0 }
        var value: Int64 = 0
        for index in start..<end {
            guard let digit = Timestamp.digit(line[index]) else { return nil }
            value = value &* 10 &+ Int64(digit)  // 18 digits at most: no overflow
        }
        return value
    }

    /// The content of a quoted field starting at `start` (after the opening quote), and the index after its
    /// closing quote; `nil` when there is no closing quote.
    ///
    /// Without a backslash the field points into the line (found eight bytes at a time); with one, the field is
    /// unescaped into the record's scratch buffer: `\"`, `\\`, `\xHH` (nginx and Apache), `\n`, `\r`, `\t`, `\b`,
    /// `\v`, `\f` (Apache), `\uXXXX` (nginx `escape=json`, JSON). An unknown or incomplete escape is kept as written.
    @inline(__always)
    static func quoted(
        _ line: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ record: inout AccessRecord
    ) -> (FieldRange, Int)? {
        guard let stop = ByteSearch.firstOf(UInt8(ascii: "\""), UInt8(ascii: "\\"), in: line, from: start, to: end)
        else { return nil }
        if line[stop] == UInt8(ascii: "\"") { return (FieldRange(start, stop), stop + 1) }
        return unescape(line, start, end, &record)
    }

    /// The content of an unterminated quoted field running to the end of the line, unescaped when needed.
    static func truncatedField(
        _ line: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ record: inout AccessRecord
    ) -> FieldRange {
        if ByteSearch.first(UInt8(ascii: "\\"), in: line, from: start, to: end) == nil { return FieldRange(start, end) }
        let outputStart = record.scratchCount
        _ = unescape(line, start, end, &record)
        return FieldRange(outputStart, record.scratchCount, inScratch: true)
    }

    static func unescape(
        _ line: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ record: inout AccessRecord
    ) -> (FieldRange, Int)? {
        record.prepareScratch()
        let outputStart = record.scratchCount
        var index = start
        while index < end {
            let byte = line[index]
            if byte == UInt8(ascii: "\"") {
                return (FieldRange(outputStart, record.scratchCount, inScratch: true), index + 1)
            }
            if byte == UInt8(ascii: "\\") && index + 1 < end {
                let next = line[index + 1]
                var decoded: UInt8? = nil
                var length = 2
                switch next {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded = next
                case UInt8(ascii: "n"): decoded = 0x0A
                case UInt8(ascii: "r"): decoded = 0x0D
                case UInt8(ascii: "t"): decoded = 0x09
                case UInt8(ascii: "b"): decoded = 0x08
                case UInt8(ascii: "v"): decoded = 0x0B
                case UInt8(ascii: "f"): decoded = 0x0C
                case UInt8(ascii: "x"):
                    if index + 3 < end, let high = IPAddress.hexValue(line[index + 2]),
                        let low = IPAddress.hexValue(line[index + 3])
                    {
                        decoded = UInt8(high << 4 | low)
                        length = 4
                    }
                case UInt8(ascii: "u"):
                    // nginx `escape=json` writes control bytes as `\u00XX`; JSON writers may escape any character.
                    if index + 5 < end, let a = IPAddress.hexValue(line[index + 2]),
                        let b = IPAddress.hexValue(line[index + 3]), let c = IPAddress.hexValue(line[index + 4]),
                        let d = IPAddress.hexValue(line[index + 5])
                    {
                        let scalar = UInt32(a) << 12 | UInt32(b) << 8 | UInt32(c) << 4 | UInt32(d)
                        if scalar < 0x80 {
                            decoded = UInt8(scalar)
                            length = 6
                        } else if scalar < 0x800 {
                            record.appendScratch(UInt8(0xC0 | scalar >> 6))
                            decoded = UInt8(0x80 | scalar & 0x3F)
                            length = 6
                        } else if scalar < 0xD800 || scalar > 0xDFFF {
                            record.appendScratch(UInt8(0xE0 | scalar >> 12))
                            record.appendScratch(UInt8(0x80 | (scalar >> 6) & 0x3F))
                            decoded = UInt8(0x80 | scalar & 0x3F)
                            length = 6
                        }
                    }
                default: break
                }
                if let decoded {
                    record.appendScratch(decoded)
                    index += length
                    continue
                }
            }
            record.appendScratch(byte)
            index += 1
        }
        return nil
    }

    /// The lower-cased `line[start..<end]`: the line's bytes when already lower case, else a scratch copy.
    static func lowerCased(
        _ line: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ record: inout AccessRecord
    ) -> FieldRange {
        var index = start
        while index < end && !(line[index] >= UInt8(ascii: "A") && line[index] <= UInt8(ascii: "Z")) { index += 1 }
        if index == end { return FieldRange(start, end) }
        record.prepareScratch()
        let outputStart = record.scratchCount
        for index in start..<end {
            let byte = line[index]
            record.appendScratch(byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte)
        }
        return FieldRange(outputStart, record.scratchCount, inScratch: true)
    }

    /// RFC 9110 `tchar`: the characters of a method token.
    @inline(__always)
    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// Fills method, path, query and protocol from the request field.
    @inline(__always)
    static func splitRequest(_ record: inout AccessRecord) {
        let field = record.requestField
        let request = record.bytes(field)
        let count = request.count
        if count == 0 || (count == 1 && request[0] == UInt8(ascii: "-")) {
            record.requestKind = .empty
            setDash(&record, field)
            return
        }
        var methodEnd = 0
        if count > 4 && request.loadUnaligned(as: UInt32.self) == Self.getAndSpace {
            methodEnd = 3  // most requests: the loop below would stop at the same byte
        } else {
            while methodEnd < count && isTokenCharacter(request[methodEnd]) { methodEnd += 1 }
        }
        guard methodEnd > 0, methodEnd + 1 < count, request[methodEnd] == UInt8(ascii: " "),
            request[methodEnd + 1] != UInt8(ascii: " ")
        else {
            record.requestKind = .malformed
            setDash(&record, field)
            return
        }
        let targetStart = methodEnd + 1
        var targetEnd = count
        // The protocol is the last word when it starts with "HTTP/".
        var lastSpace = count - 1
        if count - 9 > targetStart && Self.endsWithVersion(request) {
            lastSpace = count - 9  // " HTTP/1.1" and the like: the loop below would stop at the same space
        } else {
            while lastSpace > targetStart && request[lastSpace] != UInt8(ascii: " ") { lastSpace -= 1 }
        }
        if lastSpace > targetStart, count - lastSpace > 5, request[lastSpace + 1] == UInt8(ascii: "H"),
            request[lastSpace + 2] == UInt8(ascii: "T"), request[lastSpace + 3] == UInt8(ascii: "T"),
            request[lastSpace + 4] == UInt8(ascii: "P"), request[lastSpace + 5] == UInt8(ascii: "/")
        {
            targetEnd = lastSpace
            record.protocolField = field.slice(lastSpace + 1, count - lastSpace - 1)
        }
        record.requestKind = .valid
        record.methodField = field.slice(0, methodEnd)
        let pathEnd =
            ByteSearch.firstOf(UInt8(ascii: "?"), UInt8(ascii: "#"), in: request, from: targetStart, to: targetEnd)
            ?? targetEnd
        record.pathField = field.slice(targetStart, pathEnd - targetStart)
        if pathEnd < targetEnd && request[pathEnd] == UInt8(ascii: "?") {
            let queryEnd =
                ByteSearch.firstOf(UInt8(ascii: "#"), UInt8(ascii: "#"), in: request, from: pathEnd + 1, to: targetEnd)
                ?? targetEnd
            record.queryField = field.slice(pathEnd + 1, queryEnd - pathEnd - 1)
        }
    }

    /// `GET ` as the little-endian `UInt32` of its bytes.
    static let getAndSpace = UInt32(littleEndian: 0x2054_4547)

    /// Whether `request` (of 9 bytes or more) ends with a space and `HTTP/` and three bytes that are not spaces, as
    /// ` HTTP/1.1` does.
    @inline(__always)
    static func endsWithVersion(_ request: UnsafeRawBufferPointer) -> Bool {
        let count = request.count
        // "HTTP/" is the low five bytes of the little-endian word of the last eight.
        let word = UInt64(littleEndian: request.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self))
        return word & 0xFF_FFFF_FFFF == 0x2F_5054_5448 && request[count - 9] == UInt8(ascii: " ")
            && request[count - 3] != UInt8(ascii: " ") && request[count - 2] != UInt8(ascii: " ")
            && request[count - 1] != UInt8(ascii: " ")
    }

    /// Sets method and path to `-`: the request's own `-` when it is one, else a `-` written to the scratch buffer.
    private static func setDash(_ record: inout AccessRecord, _ field: FieldRange) {
        let dash: FieldRange
        if field.count == 1 && record.bytes(field)[0] == UInt8(ascii: "-") {
            dash = field
        } else {
            record.prepareScratch()
            dash = FieldRange(record.scratchCount, record.scratchCount + 1, inScratch: true)
            record.appendScratch(UInt8(ascii: "-"))
        }
        record.methodField = dash
        record.pathField = dash
    }
}
