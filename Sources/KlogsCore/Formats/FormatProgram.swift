/// What a field of a log format carries into the ``AccessRecord``.
enum FieldKind: UInt8, Sendable {
    /// Read and thrown away (`$request_time`, `%l`, `$upstream_addr`, …).
    case skip
    /// The client address (`$remote_addr`, `%h`, `%a`); an unquoted `a, b, c` list keeps its first element.
    case client
    /// The client when the format has no primary one (`$realip_remote_addr`, `%{c}a`).
    case clientFallback
    /// The X-Forwarded-For header.
    case forwardedFor
    /// `10/Oct/2000:13:55:36 -0700` (26 bytes).
    case timeLocal
    /// ISO 8601 / RFC 3339.
    case timeISO8601
    /// Seconds with a fraction (`$msec`: `1700000000.123`).
    case timeSecondsFraction
    /// Whole seconds since the epoch (`%{sec}t`).
    case timeSeconds
    /// Milliseconds since the epoch (`%{msec}t`).
    case timeMilliseconds
    /// Microseconds since the epoch (`%{usec}t`).
    case timeMicroseconds
    /// A JSON time: a number of epoch seconds (or milliseconds) or an ISO 8601 or common-log string.
    case timeAny
    /// The request line `METHOD target PROTOCOL`.
    case request
    /// The method alone (`$request_method`, `%m`).
    case method
    /// The target with its query (`$request_uri`, `%U%q`).
    case target
    /// The path alone (`$uri`, `%U`).
    case path
    /// The query alone, with or without a leading `?` (`$args`, `%q`).
    case query
    /// The protocol alone (`$server_protocol`, `%H`).
    case httpProtocol
    /// Three digits.
    case status
    /// Body bytes (`$body_bytes_sent`, `%b`, `%B`); `-` is 0.
    case bodyBytes
    /// Bytes with headers (`$bytes_sent`, `%O`); used when the format has no body size.
    case bytesSent
    /// The Referer header.
    case referrer
    /// The User-Agent header.
    case userAgent
    /// A host name, lower-cased, port removed (`$host`, `%v`).
    case host
}

/// How a line matched its format: used to rank formats when detecting one.
public struct FormatMatch: Sendable, Equatable {
    /// Fields of the format holding a value other than empty or `-`.
    public var capturedFields = 0
    /// The line ended before the format did (accepted when time and status were read).
    public var missingFields = false
    /// Bytes followed the format's last element.
    public var trailingBytes = false

    public init() {}
}

/// One field of a compiled format and the literal text after it.
struct FormatStep: Sendable {
    var kind: FieldKind
    /// The field is between quotes: it is read up to an unescaped `"`, with escapes decoded.
    var quoted: Bool
    /// The field has a fixed width in bytes (the common-log time: 26), or 0.
    var width: Int32
    /// The literal after the field, in the program's literal bytes; for a quoted field it starts with the quote.
    var literalStart: Int32
    var literalCount: Int32

    // Derived by `FormatProgram.init` for the per-line loop.

    /// How the field's end is found and what is done with its bytes, in one byte: the per-line loop switches once
    /// per field.
    var operation = StepOperation.storeToken
    /// A token's last byte is followed by this one: the literal's first byte, or a space when no literal follows.
    var terminator = UInt8(ascii: " ")
    /// `terminator` in every byte of a word, for the eight-bytes-at-a-time search.
    var terminatorPattern: UInt64 = 0
    /// A token that may be an unquoted list `a, b, c` (a client, forwarded-for or skipped field ended by a space).
    var allowsList = false
    /// Bytes of the literal matched by finding the field's end (a token's terminator, a closing quote): 0 or 1.
    var consumed: Int32 = 0
    /// The rest of the literal, compared after the field: little-endian in `tailWord`, covered by `tailMask`,
    /// when at most eight bytes; a longer rest has mask 0 and word 1, which never match, and is compared byte by
    /// byte.
    var tailWord: UInt64 = 0
    var tailMask: UInt64 = 0
}

/// How the per-line loop finds the end of a field.
enum FieldShape: UInt8, Sendable {
    /// Up to the first `terminator` byte (the end of the line when there is none).
    case token
    /// A fixed number of bytes (`width`).
    case fixed
    /// Up to the closing quote, escapes decoded.
    case quoted
}

/// What the per-line loop does with a field, and how it finds the field's end (the suffix: its ``FieldShape``).
///
/// The fields of every common layout have an inline path; the others go through
/// ``FormatProgram/store(_:_:_:_:_:_:)``.
enum StepOperation: UInt8, Sendable {
    /// Read and thrown away.
    case skipToken, skipFixed, skipQuoted
    /// An unquoted client (a list goes through `store`).
    case clientToken
    /// An unquoted size, `-` for 0.
    case bodyBytesToken
    /// Three unquoted digits.
    case statusFixed
    /// The unquoted 26-byte common-log time.
    case timeFixed
    /// The quoted request line, split into method, path, query and protocol.
    case requestQuoted
    /// The quoted Referer.
    case referrerQuoted
    /// The quoted User-Agent.
    case userAgentQuoted
    /// Anything else, through `store`.
    case storeToken, storeFixed, storeQuoted

    /// How the field's end is found.
    var shape: FieldShape {
        switch self {
        case .skipToken, .clientToken, .bodyBytesToken, .storeToken: .token
        case .skipFixed, .statusFixed, .timeFixed, .storeFixed: .fixed
        case .skipQuoted, .requestQuoted, .referrerQuoted, .userAgentQuoted, .storeQuoted: .quoted
        }
    }

    /// The operation for a field of `kind` read with `shape` (`width` bytes wide when fixed).
    init(_ kind: FieldKind, _ shape: FieldShape, width: Int32) {
        switch (kind, shape) {
        case (.skip, .token): self = .skipToken
        case (.skip, .fixed): self = .skipFixed
        case (.skip, .quoted): self = .skipQuoted
        case (.client, .token): self = .clientToken
        case (.bodyBytes, .token): self = .bodyBytesToken
        // The inline status and time read exactly 3 and 26 bytes.
        case (.status, .fixed) where width == 3: self = .statusFixed
        case (.timeLocal, .fixed) where width == 26: self = .timeFixed
        case (.request, .quoted): self = .requestQuoted
        case (.referrer, .quoted): self = .referrerQuoted
        case (.userAgent, .quoted): self = .userAgentQuoted
        case (_, .token): self = .storeToken
        case (_, .fixed): self = .storeFixed
        case (_, .quoted): self = .storeQuoted
        }
    }
}

/// What the per-line loop needs to know of a program besides its steps, worked out once when it is compiled.
struct ProgramTraits: Sendable {
    /// The length of the literal before the first field.
    var leadingCount: Int
    /// The request is built from method, target or path and query, and protocol (no `$request`).
    var composesRequest: Bool
    /// The format has a time field and a status field.
    var hasTime: Bool
    var hasStatus: Bool
    /// The run of steps that spells a common layout's fields, executed without dispatch, and its first step.
    var unrolledRun: UnrolledRun
    var unrolledStart: Int
    /// The unrolled run has the literals nginx and Apache write between its fields, so it runs as one fused pass
    /// that compares them as constants (``ProgramView`` falls back to the unrolled steps for irregular lines).
    var fusesRun: Bool
}

/// A compiled format: a leading literal, then fields each followed by a literal. Owns its memory; immutable.
final class FormatProgram: Sendable {
    /// Safe to share: written only in `init`, freed in `deinit`.
    nonisolated(unsafe) let steps: UnsafeMutableBufferPointer<FormatStep>
    nonisolated(unsafe) let literals: UnsafeMutableRawBufferPointer
    let traits: ProgramTraits

    init(leading: [UInt8], steps rawSteps: [FormatStep], literals allLiterals: [UInt8]) {
        // With a request line in the format, it alone gives method, path and protocol: separate method and
        // protocol fields are read but not stored (else an invalid request line could get a method of its own).
        let hasRequest = rawSteps.contains { $0.kind == .request }
        let steps = rawSteps.map { raw in
            var step = raw
            if hasRequest && (step.kind == .method || step.kind == .httpProtocol) { step.kind = .skip }
            return Self.prepared(step, allLiterals)
        }
        self.steps = .allocate(capacity: max(steps.count, 1))
        _ = self.steps.initialize(from: steps)
        literals = .allocate(byteCount: max(allLiterals.count, 1), alignment: 8)
        literals.copyBytes(from: allLiterals)
        let kinds = Set(steps.map(\.kind))
        let (unrolledRun, unrolledStart) = UnrolledRun.find(in: steps.map(\.operation))
        let runLiterals = steps.dropFirst(unrolledStart).prefix(unrolledRun.length).map { step in
            Array(allLiterals[Int(step.literalStart)..<Int(step.literalStart + step.literalCount)])
        }
        traits = ProgramTraits(
            leadingCount: leading.count,
            composesRequest: !kinds.contains(.request) && kinds.contains(.method)
                && (kinds.contains(.target) || kinds.contains(.path)),
            hasTime: !kinds.isDisjoint(with: [
                .timeLocal, .timeISO8601, .timeSecondsFraction, .timeSeconds, .timeMilliseconds, .timeMicroseconds,
                .timeAny,
            ]),
            hasStatus: kinds.contains(.status), unrolledRun: unrolledRun, unrolledStart: unrolledStart,
            fusesRun: unrolledRun.isFusable(literals: runLiterals))
    }

    /// The step with the fields the per-line loop reads derived from its kind, quoting, width and literal.
    private static func prepared(_ raw: FormatStep, _ allLiterals: [UInt8]) -> FormatStep {
        var step = raw
        let literal = allLiterals[Int(raw.literalStart)..<Int(raw.literalStart + raw.literalCount)]
        let shape: FieldShape = raw.quoted ? .quoted : raw.width > 0 ? .fixed : .token
        step.operation = StepOperation(raw.kind, shape, width: raw.width)
        step.terminator = literal.first ?? UInt8(ascii: " ")
        step.terminatorPattern = 0x0101_0101_0101_0101 &* UInt64(step.terminator)
        step.allowsList = shape == .token && step.terminator == UInt8(ascii: " ")
            && [.client, .clientFallback, .forwardedFor, .skip].contains(raw.kind)
        // A closing quote is the literal's first byte; a token's terminator too, when a literal follows.
        step.consumed = shape == .fixed || literal.isEmpty ? 0 : 1
        let tail = literal.dropFirst(Int(step.consumed))
        if tail.count <= 8 {
            for (offset, byte) in tail.enumerated() { step.tailWord |= UInt64(byte) << (8 * UInt64(offset)) }
            step.tailMask = tail.count == 8 ? ~0 : (1 << (8 * UInt64(tail.count))) - 1
        } else {
            (step.tailWord, step.tailMask) = (1, 0)
        }
        return step
    }

    deinit {
        steps.deallocate()
        literals.deallocate()
    }

    /// The layout as bytes (leading literal, then each field kind, quoting and literal), to recognise strings that
    /// spell a built-in layout.
    var signature: [UInt8] {
        var bytes = Array(UnsafeRawBufferPointer(rebasing: literals[0..<traits.leadingCount]))
        for step in steps {
            bytes += [0xFF, step.kind.rawValue, step.quoted ? 1 : 0, UInt8(truncatingIfNeeded: step.width)]
            bytes += Array(UnsafeRawBufferPointer(rebasing: literals[Int(step.literalStart)..<Int(step.literalStart + step.literalCount)]))
        }
        return bytes
    }

    /// A borrowed view of the program for the per-line loop: plain pointers, no reference counting.
    var view: ProgramView { view(unrolled: true) }

    /// A view of the program that runs its common-layout run fused or unrolled, or every step through the generic
    /// loop (`unrolled: false`; `fused: false` keeps the unrolled steps: for the tests that check all agree).
    func view(unrolled: Bool, fused: Bool = true) -> ProgramView {
        var traits = traits
        if !unrolled { traits.unrolledRun = .none }
        if !unrolled || !fused { traits.fusesRun = false }
        return ProgramView(
            steps: UnsafePointer(steps.baseAddress!), count: steps.count,
            literals: UnsafeRawPointer(literals.baseAddress!), traits: traits)
    }

    /// The reject reason of a field of the wrong shape.
    static func malformed(_ kind: FieldKind) -> RejectReason {
        switch kind {
        case .timeLocal, .timeISO8601, .timeSecondsFraction, .timeSeconds, .timeMilliseconds, .timeMicroseconds,
            .timeAny:
            .badTimestamp
        case .status: .badStatus
        case .bodyBytes, .bytesSent: .badBytes
        case .client, .clientFallback: .badClient
        default: .missingField
        }
    }
}

/// Fields seen so far in one line, for the choices made once the line is read.
struct FieldState {
    var timeSeen = false
    var statusSeen = false
    var bodySeen = false
    var fallbackClient = FieldRange.absent
    var target = FieldRange.absent
    /// The target came from `$request_uri` (it holds its query), not from `$uri`.
    var targetHasQuery = false
    var query = FieldRange.absent
}

extension AccessRecord {
    /// Resets the fields a program or JSON mapping may leave unset.
    @inline(__always)
    mutating func resetForProgram() {
        clientField = .empty
        requestField = .empty
        methodField = .absent
        pathField = .absent
        requestKind = .empty
        timestamp = 0
        status = 0
        responseBytes = 0
    }
}

extension FormatProgram {
    /// Whether a field holds a value: not empty and not `-`.
    @inline(__always)
    static func hasValue(_ bytes: UnsafeRawBufferPointer) -> Bool {
        !(bytes.isEmpty || (bytes.count == 1 && bytes[0] == UInt8(ascii: "-")))
    }

    /// Stores one field's value into the record.
    @inline(__always)
    static func store(
        _ kind: FieldKind, _ field: FieldRange, _ record: inout AccessRecord, _ time: inout CommonLogTimeParser,
        _ fields: inout FieldState, _ match: inout FormatMatch
    ) -> RejectReason? {
        let bytes = record.bytes(field)
        if kind != .skip && hasValue(bytes) { match.capturedFields += 1 }
        switch kind {
        case .skip:
            return nil
        case .client:
            guard !bytes.isEmpty, bytes[0] != UInt8(ascii: "\""), bytes[0] != UInt8(ascii: "[") else {
                return .badClient
            }
            // The first element of a list `a, b, c`.
            var stop = 0
            while stop < bytes.count && bytes[stop] != UInt8(ascii: ",") { stop += 1 }
            record.clientField = field.slice(0, stop)
        case .clientFallback:
            var stop = 0
            while stop < bytes.count && bytes[stop] != UInt8(ascii: ",") { stop += 1 }
            fields.fallbackClient = field.slice(0, stop)
        case .forwardedFor:
            if hasValue(bytes) { record.forwardedForField = field }
        case .timeLocal:
            guard bytes.count == 26, let value = time.parse(bytes) else { return .badTimestamp }
            record.timestamp = value
            fields.timeSeen = true
        case .timeISO8601:
            guard let value = Timestamp.parseISO8601(bytes) else { return .badTimestamp }
            record.timestamp = value
            fields.timeSeen = true
        case .timeSecondsFraction, .timeSeconds, .timeMilliseconds, .timeMicroseconds, .timeAny:
            guard let value = epochTime(kind, bytes) else { return .badTimestamp }
            record.timestamp = value
            fields.timeSeen = true
        case .request:
            record.requestField = field
            AccessLogParser.splitRequest(&record)
        case .method:
            // A request line in the format is the source of method, path and protocol, whichever field comes
            // first: a separate method or protocol field then changes nothing (so an invalid request line never
            // gets a method of its own).
            if record.requestField.count == 0 { record.methodField = field }
        case .target:
            fields.target = field
            fields.targetHasQuery = true
        case .path:
            if fields.target.isAbsent { fields.target = field }
        case .query:
            var query = field
            if bytes.first == UInt8(ascii: "?") { query = field.slice(1, bytes.count - 1) }
            if hasValue(bytes) { fields.query = query }
        case .httpProtocol:
            if record.requestField.count == 0 { record.protocolField = hasValue(bytes) ? field : .empty }
        case .status:
            guard bytes.count == 3, let hundreds = Timestamp.digit(bytes[0]), let tens = Timestamp.digit(bytes[1]),
                let ones = Timestamp.digit(bytes[2])
            else { return .badStatus }
            record.status = Int32(hundreds * 100 + tens * 10 + ones)
            fields.statusSeen = true
        case .bodyBytes, .bytesSent:
            if kind == .bytesSent && fields.bodySeen { return nil }
            guard let size = numberOrDash(bytes) else { return .badBytes }
            record.responseBytes = size
            if kind == .bodyBytes { fields.bodySeen = true }
        case .referrer:
            if hasValue(bytes) { record.referrerField = field }
        case .userAgent:
            record.userAgentField = field
        case .host:
            guard hasValue(bytes) else { return nil }
            var start = 0
            var stop = bytes.count
            if bytes[0] == UInt8(ascii: "[") {
                if let close = IPAddress.indexOf(UInt8(ascii: "]"), bytes, 1, bytes.count) {
                    start = 1
                    stop = close
                }
            } else if let colon = IPAddress.indexOf(UInt8(ascii: ":"), bytes, 0, bytes.count) {
                stop = colon
            }
            record.virtualHostField = lowerCased(field.slice(start, stop - start), &record)
        }
        return nil
    }

    /// The field lower-cased: itself when already lower case, else a scratch copy.
    static func lowerCased(_ field: FieldRange, _ record: inout AccessRecord) -> FieldRange {
        let bytes = record.bytes(field)
        guard bytes.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else { return field }
        record.prepareScratch()
        let outputStart = record.scratchCount
        for index in 0..<bytes.count {
            let byte = record.bytes(field)[index]
            record.appendScratch(byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte)
        }
        return FieldRange(outputStart, record.scratchCount, inScratch: true)
    }

    /// `-` or empty as 0, or a decimal of at most 18 digits.
    @inline(__always)
    static func numberOrDash(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        if !hasValue(bytes) { return 0 }
        guard bytes.count <= 18 else { return nil }
        var value: Int64 = 0
        for byte in bytes {
            guard let digit = Timestamp.digit(byte) else { return nil }
            value = value * 10 + Int64(digit)
        }
        return value
    }

    /// Epoch milliseconds from a number of seconds (with an optional fraction), milliseconds or microseconds, or
    /// for ``FieldKind/timeAny`` also from an ISO 8601 or common-log text.
    static func epochTime(_ kind: FieldKind, _ bytes: UnsafeRawBufferPointer) -> Int64? {
        guard !bytes.isEmpty else { return nil }
        if kind == .timeAny, bytes.count >= 20 {
            if bytes[4] == UInt8(ascii: "-") { return Timestamp.parseISO8601(bytes) }
            if bytes.count == 26 { return Timestamp.parseCommonLog(bytes) }
            return nil
        }
        var whole: Int64 = 0
        var index = 0
        var digits = 0
        while index < bytes.count, let digit = Timestamp.digit(bytes[index]) {
            guard digits < 18 else { return nil }
            whole = whole * 10 + Int64(digit)
            index += 1
            digits += 1
        }
        guard digits > 0 else { return nil }
        var fraction: Int64 = 0
        var fractionDigits = 0
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < bytes.count, let digit = Timestamp.digit(bytes[index]) {
                if fractionDigits < 3 {
                    fraction = fraction * 10 + Int64(digit)
                    fractionDigits += 1
                }
                index += 1
            }
        }
        // A JSON number may carry an exponent (`1.7e9`): not a time klogs reads.
        guard index == bytes.count else { return nil }
        while fractionDigits < 3 {
            fraction *= 10
            fractionDigits += 1
        }
        switch kind {
        case .timeMilliseconds: return whole
        case .timeMicroseconds: return whole / 1000
        case .timeAny where digits >= 12 && fraction == 0: return whole  // epoch milliseconds
        default:
            // Up to 18 digits of seconds: far past year 9999, and past Int64 once in milliseconds (no trap).
            let (milliseconds, overflow) = whole.multipliedReportingOverflow(by: 1000)
            return overflow ? nil : milliseconds + fraction
        }
    }
}


extension FieldState {
    /// The choices made once a line's fields are read: the fallback client when there is no other, the request
    /// composed from separate fields (`composesRequest`), method and path split from the request line.
    ///
    /// A method of the per-line state, not a static of ``FormatProgram``: a class's static would fetch its
    /// metadata on every line.
    @inline(__always)
    func finish(_ record: inout AccessRecord, composesRequest: Bool) {
        if record.clientField.count == 0 && !fallbackClient.isAbsent {
            record.clientField = fallbackClient
        }
        if composesRequest { composeRequest(&record) }
        if record.methodField.isAbsent || record.pathField.isAbsent {
            if record.requestField.count == 0 { AccessLogParser.splitRequest(&record) }
        }
    }

    /// Builds `METHOD target PROTOCOL` in the scratch buffer from separate fields and splits it.
    func composeRequest(_ record: inout AccessRecord) {
        let method = record.methodField
        guard !method.isAbsent, !target.isAbsent, FormatProgram.hasValue(record.bytes(method)) else {
            record.methodField = .absent
            return
        }
        let protocolField = record.protocolField
        record.prepareScratch()
        let start = record.scratchCount
        func append(_ field: FieldRange, _ record: inout AccessRecord) {
            let count = record.bytes(field).count
            for index in 0..<count { record.appendScratch(record.bytes(field)[index]) }
        }
        // Room: method, target, query and protocol are distinct parts of the line, plus at most three separators;
        // the separators between them in the line are at least as long unless the fields are adjacent in JSON.
        let needed = Int(method.count) + Int(target.count) + max(Int(query.count), 0)
            + Int(protocolField.count) + 3
        guard needed + record.scratchCount + 2 <= record.line.count + 2 else {
            record.methodField = .absent
            return
        }
        append(method, &record)
        record.appendScratch(UInt8(ascii: " "))
        append(target, &record)
        if !query.isAbsent && !targetHasQuery {
            record.appendScratch(UInt8(ascii: "?"))
            append(query, &record)
        }
        if protocolField.count > 0 {
            record.appendScratch(UInt8(ascii: " "))
            append(protocolField, &record)
        }
        record.requestField = FieldRange(start, record.scratchCount, inScratch: true)
        record.protocolField = .empty
        AccessLogParser.splitRequest(&record)
    }
}
