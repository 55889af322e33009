/// JSON access logs, one object per line, read through a mapping from record fields to JSON keys.
///
/// ```swift
/// let caddy = JSONFormat.caddy
/// let mine = try JSONFormat(fields: "client=remote,time=@timestamp,status=code,request=req")
/// ```
///
/// A key path names nested objects with dots (`request.headers.User-Agent`); a field may list alternatives with
/// `|` (`time=time_iso8601|time_local|msec`), the first one present in the line wins. An array value (Caddy's
/// header lists) gives its first element. A time is a number of epoch seconds (with a fraction; 12 digits or more
/// without a fraction are milliseconds) or an ISO 8601 or common-log string. Lines need a client, a time and a
/// status; anything else may be absent. Without `request`, the request is built from `method`, `uri` (or `path`
/// and `query`) and `protocol`.
public struct JSONFormat: Sendable, Equatable, CustomStringConvertible {
    /// The record fields a mapping can fill, with the names used in `--json-fields`.
    static let targets: [(String, FieldKind)] = [
        ("client", .client), ("forwarded_for", .forwardedFor), ("time", .timeAny), ("request", .request),
        ("method", .method), ("uri", .target), ("path", .path), ("query", .query), ("protocol", .httpProtocol),
        ("status", .status), ("bytes", .bodyBytes), ("referrer", .referrer), ("user_agent", .userAgent),
        ("host", .host),
    ]

    /// The preset name, or `custom-json`.
    public let name: String
    /// The mapping as `target=path|path,…`, in the order of ``targets``.
    public let mapping: String
    let program: JSONProgram

    /// Creates a mapping from `target=key.path|other.path,…`.
    ///
    /// - Parameters:
    ///   - fields: the mapping; targets are `client`, `forwarded_for`, `time`, `request`, `method`, `uri`, `path`,
    ///     `query`, `protocol`, `status`, `bytes`, `referrer`, `user_agent`, `host`.
    ///   - base: a mapping whose targets this one overrides (`--format caddy-json --json-fields client=…`).
    ///   - name: the name shown in summaries.
    /// - Throws: ``FormatError`` for an unknown target or an empty key.
    public init(fields: String, base: JSONFormat? = nil, name: String = "custom-json") throws {
        var entries = base.map { Self.entries($0.mapping) } ?? [:]
        for part in fields.split(separator: ",") {
            let pieces = part.split(separator: "=", maxSplits: 1)
            let target = pieces.first.map { String($0).trimmed } ?? ""
            guard pieces.count == 2, Self.targets.contains(where: { $0.0 == target }) else {
                throw FormatError(
                    "'\(part)' in the JSON field mapping: write target=key.path with a target among "
                        + Self.targets.map(\.0).joined(separator: ", ") + ".")
            }
            let paths = pieces[1].split(separator: "|").map { String($0).trimmed }
            guard !paths.isEmpty, paths.allSatisfy({ !$0.isEmpty && !$0.split(separator: ".").isEmpty }) else {
                throw FormatError("'\(part)' in the JSON field mapping has an empty key.")
            }
            entries[target] = paths
        }
        guard entries["time"] != nil, entries["status"] != nil, entries["client"] != nil else {
            throw FormatError("the JSON field mapping needs at least client=…, time=… and status=….")
        }
        self.name = name
        mapping = Self.targets.compactMap { target in
            entries[target.0].map { "\(target.0)=\($0.joined(separator: "|"))" }
        }.joined(separator: ",")
        var programEntries: [(FieldKind, [[UInt8]])] = []
        for (target, kind) in Self.targets {
            for path in entries[target] ?? [] {
                programEntries.append((kind, path.split(separator: ".").map { Array($0.utf8) }))
            }
        }
        program = JSONProgram(programEntries)
    }

    static func entries(_ mapping: String) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for part in mapping.split(separator: ",") {
            let pieces = part.split(separator: "=", maxSplits: 1)
            if pieces.count == 2 { result[String(pieces[0])] = pieces[1].split(separator: "|").map(String.init) }
        }
        return result
    }

    public var description: String { "\(name): \(mapping)" }

    public static func == (a: JSONFormat, b: JSONFormat) -> Bool { a.name == b.name && a.mapping == b.mapping }
}

extension String {
    fileprivate var trimmed: String {
        var text = Substring(self)
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return String(text)
    }
}

/// The compiled mapping: key paths as bytes, matched while one forward scan walks the object.
final class JSONProgram: Sendable {
    struct Entry {
        var kind: FieldKind
        var components: [[UInt8]]
    }
    let entries: [Entry]
    /// The deepest key path, at most 8.
    let depth: Int

    init(_ entries: [(FieldKind, [[UInt8]])]) {
        self.entries = entries.map { Entry(kind: $0.0, components: $0.1) }
        depth = min(entries.map(\.1.count).max() ?? 1, 8)
    }

    /// Parses one JSON object line into `record`.
    func run(_ line: UnsafeRawBufferPointer, _ end: Int, _ record: inout AccessRecord, _ match: inout FormatMatch)
        -> RejectReason?
    {
        record.resetForProgram()
        match = FormatMatch()
        var time = CommonLogTimeParser()
        var fields = FieldState()
        var position = 0
        while position < end && Self.isSpace(line[position]) { position += 1 }
        guard position < end, line[position] == UInt8(ascii: "{") else { return .missingField }
        var assigned: UInt64 = 0
        var failure: RejectReason? = nil
        let parsed = withUnsafeTemporaryAllocation(of: FieldRange.self, capacity: 8) { path -> Int? in
            var scan = Scan(line: line, end: end, path: path, program: self)
            return scan.object(position, 0, &record, &time, &fields, &match, &assigned, &failure)
        }
        if let failure { return failure }
        guard let after = parsed else { return .missingField }
        if after < end { match.trailingBytes = true }
        guard fields.timeSeen else { return .missingField }
        guard fields.statusSeen else { return .missingField }
        guard record.clientField.count > 0 || !fields.fallbackClient.isAbsent else { return .badClient }
        fields.finish(&record, composesRequest: record.requestField.count == 0)
        return nil
    }

    @inline(__always)
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == 0x0A || byte == 0x0D
    }

    /// One line's walk: the key path so far lives in `path`.
    struct Scan {
        let line: UnsafeRawBufferPointer
        let end: Int
        let path: UnsafeMutableBufferPointer<FieldRange>
        let program: JSONProgram
        /// Objects and arrays open around the current value; deeper than 32 is refused (no stack exhaustion on
        /// a hostile line of brackets).
        var nesting = 0

        func skipSpaces(_ position: Int) -> Int {
            var position = position
            while position < end && JSONProgram.isSpace(line[position]) { position += 1 }
            return position
        }

        /// Parses an object starting at `{`; returns the index after `}` or `nil` when malformed.
        mutating func object(
            _ start: Int, _ depth: Int, _ record: inout AccessRecord, _ time: inout CommonLogTimeParser,
            _ fields: inout FieldState, _ match: inout FormatMatch, _ assigned: inout UInt64,
            _ failure: inout RejectReason?
        ) -> Int? {
            var position = skipSpaces(start + 1)
            if position < end && line[position] == UInt8(ascii: "}") { return position + 1 }
            while position < end {
                guard line[position] == UInt8(ascii: "\"") else { return nil }
                // Keys are compared as written (escaped keys are not expected in access logs).
                var keyEnd = position + 1
                while keyEnd < end && line[keyEnd] != UInt8(ascii: "\"") {
                    keyEnd += line[keyEnd] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard keyEnd < end else { return nil }
                if depth < path.count { path[depth] = FieldRange(position + 1, keyEnd) }
                position = skipSpaces(keyEnd + 1)
                guard position < end, line[position] == UInt8(ascii: ":") else { return nil }
                position = skipSpaces(position + 1)
                guard let after = value(position, depth + 1, &record, &time, &fields, &match, &assigned, &failure)
                else { return nil }
                position = skipSpaces(after)
                guard position < end else { return nil }
                if line[position] == UInt8(ascii: "}") { return position + 1 }
                guard line[position] == UInt8(ascii: ",") else { return nil }
                position = skipSpaces(position + 1)
            }
            return nil
        }

        /// Parses a value at key depth `depth`; returns the index after it.
        mutating func value(
            _ start: Int, _ depth: Int, _ record: inout AccessRecord, _ time: inout CommonLogTimeParser,
            _ fields: inout FieldState, _ match: inout FormatMatch, _ assigned: inout UInt64,
            _ failure: inout RejectReason?
        ) -> Int? {
            guard start < end else { return nil }
            switch line[start] {
            case UInt8(ascii: "{"):
                guard nesting < 32 else { return nil }
                nesting += 1
                defer { nesting -= 1 }
                return object(start, depth, &record, &time, &fields, &match, &assigned, &failure)
            case UInt8(ascii: "["):
                guard nesting < 32 else { return nil }
                nesting += 1
                defer { nesting -= 1 }
                var position = skipSpaces(start + 1)
                if position < end && line[position] == UInt8(ascii: "]") { return position + 1 }
                while position < end {
                    guard let after = value(position, depth, &record, &time, &fields, &match, &assigned, &failure)
                    else { return nil }
                    position = skipSpaces(after)
                    guard position < end else { return nil }
                    if line[position] == UInt8(ascii: "]") { return position + 1 }
                    guard line[position] == UInt8(ascii: ",") else { return nil }
                    position = skipSpaces(position + 1)
                }
                return nil
            case UInt8(ascii: "\""):
                let entry = matchingEntry(depth, assigned)
                if entry < 0 {
                    var index = start + 1
                    while index < end && line[index] != UInt8(ascii: "\"") {
                        index += line[index] == UInt8(ascii: "\\") ? 2 : 1
                    }
                    return index < end ? index + 1 : nil
                }
                guard let (field, after) = AccessLogParser.quoted(line, start + 1, end, &record) else { return nil }
                store(entry, field, &record, &time, &fields, &match, &assigned, &failure)
                return after
            default:
                var index = start
                while index < end {
                    let byte = line[index]
                    if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]")
                        || JSONProgram.isSpace(byte)
                    {
                        break
                    }
                    index += 1
                }
                guard index > start else { return nil }
                let entry = matchingEntry(depth, assigned)
                if entry >= 0 {
                    let isNull = index - start == 4 && line[start] == UInt8(ascii: "n")
                    if !isNull {
                        store(entry, FieldRange(start, index), &record, &time, &fields, &match, &assigned, &failure)
                    }
                }
                return index
            }
        }

        /// The first unassigned entry whose key path is the current one, or -1.
        func matchingEntry(_ depth: Int, _ assigned: UInt64) -> Int {
            guard depth <= path.count else { return -1 }
            for (index, entry) in program.entries.enumerated() where entry.components.count == depth {
                if index < 64 && assigned & (1 << UInt64(index)) != 0 { continue }
                var same = true
                for level in 0..<depth {
                    let key = path[level]
                    let component = entry.components[level]
                    guard Int(key.count) == component.count else { same = false; break }
                    for offset in 0..<component.count where line[Int(key.start) + offset] != component[offset] {
                        same = false
                        break
                    }
                    if !same { break }
                }
                if same { return index }
            }
            return -1
        }

        mutating func store(
            _ entry: Int, _ field: FieldRange, _ record: inout AccessRecord, _ time: inout CommonLogTimeParser,
            _ fields: inout FieldState, _ match: inout FormatMatch, _ assigned: inout UInt64,
            _ failure: inout RejectReason?
        ) {
            let kind = program.entries[entry].kind
            // Alternatives for the same target: mark them all as filled.
            for (index, other) in program.entries.enumerated() where other.kind == kind && index < 64 {
                assigned |= 1 << UInt64(index)
            }
            if failure == nil, let reason = FormatProgram.store(kind, field, &record, &time, &fields, &match) {
                failure = reason
            }
        }
    }
}
