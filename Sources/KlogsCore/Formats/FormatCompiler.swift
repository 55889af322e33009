/// A format string that klogs cannot compile, with what is wrong and how to fix it.
public struct FormatError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, naming the offending part of the format string.
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// An nginx `log_format` or Apache `LogFormat` string compiled once into a byte-level program.
///
/// ```swift
/// let format = try CompiledFormat(
///     #"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time"#)
/// var parser = LogFormat.custom(format).makeParser()
/// ```
///
/// The program is a leading literal followed by fields, each followed by the literal text after it. A field ends
/// at the first byte of that literal (a quoted field at its unescaped closing quote; `$time_local` after its fixed
/// 26 bytes), so parsing a line is one forward scan with no regular expression and no allocation.
///
/// Decisions:
/// - The dialect is nginx when the string holds a `$variable`, else Apache. A whole directive is accepted too:
///   `log_format main escape=json '…' '…';` or `LogFormat "…" nickname`.
/// - Variables klogs does not store (`$request_time`, `$upstream_*`, `$ssl_*`, other `$http_*`, `%D`, `%{…}e`, …)
///   are read and skipped; an unquoted `a, b, c` list counts as one field.
/// - Quoted fields are unescaped: nginx `\xHH` (`escape=default`), `\"`, `\\` and `\uXXXX` (`escape=json`),
///   Apache `\"`, `\\`, `\xhh`, `\n`, `\t`.
/// - A line that ends early is accepted when its time and status were read; bytes after the format's end are
///   ignored (extra trailing fields).
/// - Two fields with nothing between them cannot be told apart and are refused, except Apache's `%U%q`.
public struct CompiledFormat: Sendable, Equatable, CustomStringConvertible {
    /// The string dialects klogs compiles.
    public enum Dialect: String, Sendable { case nginx, apache }

    /// The preset name, or `custom`.
    public let name: String
    /// The format string as given.
    public let definition: String
    /// The dialect it was read as.
    public let dialect: Dialect
    let program: FormatProgram
    /// The hand-tuned built-in layout this string spells exactly (nginx's or Apache's combined or common), which
    /// parsers then use instead of the program.
    let builtInEquivalent: BuiltInLayout?

    /// Compiles a format string.
    ///
    /// - Parameters:
    ///   - definition: an nginx `log_format` string or directive, or an Apache `LogFormat` string or directive.
    ///   - dialect: the dialect, or `nil` to tell from the string.
    ///   - name: the name shown in summaries.
    ///   - allowsBuiltIn: whether a string that spells nginx's or Apache's combined or common layout exactly runs
    ///     the hand-tuned built-in parser instead of the program (the default; `false` to test the program).
    /// - Throws: ``FormatError`` naming the part that cannot be compiled.
    public init(_ definition: String, dialect: Dialect? = nil, name: String = "custom", allowsBuiltIn: Bool = true)
        throws
    {
        let (body, directiveDialect) = try Self.unwrapDirective(definition)
        let dialect = dialect ?? directiveDialect ?? Self.guessDialect(body)
        let elements: [FormatElement]
        switch dialect {
        case .nginx: elements = try NginxFormatReader.elements(body)
        case .apache: elements = try ApacheFormatReader.elements(body)
        }
        self.name = name
        self.definition = definition
        self.dialect = dialect
        let program = try Self.assemble(elements, definition: definition)
        self.program = program
        let signature = program.signature
        builtInEquivalent = allowsBuiltIn ? Self.builtInSignatures.first { $0.0 == signature }?.1 : nil
    }

    /// The signatures of the strings that spell the built-in combined and common layouts.
    static let builtInSignatures: [([UInt8], BuiltInLayout)] = {
        var result: [([UInt8], BuiltInLayout)] = []
        for (definition, format) in [
            (#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#, BuiltInLayout.combined),
            (#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i""#, .combined),
            (#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent"#, .common),
            (#"%h %l %u %t "%r" %>s %b"#, .common),
        ] {
            // Safe because these fixed strings compile (covered by tests).
            let elements = definition.contains("$")
                ? try! NginxFormatReader.elements(definition) : try! ApacheFormatReader.elements(definition)
            result.append((try! assemble(elements, definition: definition).signature, format))
        }
        return result
    }()

    public var description: String { "\(name) (\(dialect.rawValue)): \(definition)" }

    public static func == (a: CompiledFormat, b: CompiledFormat) -> Bool {
        a.name == b.name && a.definition == b.definition && a.dialect == b.dialect
    }

    /// nginx when a `$letter` or `${` appears, else Apache.
    static func guessDialect(_ text: String) -> Dialect {
        let bytes = Array(text.utf8)
        for index in bytes.indices.dropLast() where bytes[index] == UInt8(ascii: "$") {
            let next = bytes[index + 1]
            if next == UInt8(ascii: "{") || next == UInt8(ascii: "_") || (next | 0x20 >= UInt8(ascii: "a") && next | 0x20 <= UInt8(ascii: "z")) {
                return .nginx
            }
        }
        return .apache
    }

    /// The format string inside `log_format name [escape=…] '…' '…';` or `LogFormat "…" [nickname]`, else the text.
    static func unwrapDirective(_ text: String) throws -> (String, Dialect?) {
        var trimmed = Substring(text)
        while trimmed.first == " " || trimmed.first == "\t" { trimmed.removeFirst() }
        if trimmed.hasPrefix("log_format ") || trimmed.hasPrefix("log_format\t") {
            // Concatenate every quoted string; words outside quotes are the name and parameters.
            var result = ""
            var quote: Character? = nil
            var escaped = false
            for character in trimmed.dropFirst("log_format".count) {
                if let open = quote {
                    if escaped {
                        switch character {
                        case "n": result.append("\n")
                        case "t": result.append("\t")
                        case "r": result.append("\r")
                        case "\"", "'", "\\": result.append(character)
                        default: result.append("\\"); result.append(character)
                        }
                        escaped = false
                    } else if character == "\\" {
                        escaped = true
                    } else if character == open {
                        quote = nil
                    } else {
                        result.append(character)
                    }
                } else if character == "'" || character == "\"" {
                    quote = character
                } else if character == ";" {
                    break
                }
            }
            guard quote == nil else { throw FormatError("the log_format directive has an unterminated quoted string.") }
            return (result, .nginx)
        }
        if trimmed.hasPrefix("LogFormat ") || trimmed.hasPrefix("LogFormat\t") {
            var rest = trimmed.dropFirst("LogFormat".count)
            while rest.first == " " || rest.first == "\t" { rest.removeFirst() }
            guard rest.first == "\"" else { return (String(rest), .apache) }
            var result = ""
            var escaped = false
            for character in rest.dropFirst() {
                if escaped {
                    // Keep the escape: the Apache reader decodes it.
                    result.append("\\")
                    result.append(character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    return (result, .apache)
                } else {
                    result.append(character)
                }
            }
            throw FormatError("the LogFormat directive's format string has no closing quote.")
        }
        return (text, nil)
    }

    /// Joins literals, checks that fields are separated, and marks quoted fields.
    static func assemble(_ elements: [FormatElement], definition: String) throws -> FormatProgram {
        // Merge adjacent literals; fold %U%q into one target field.
        var merged: [FormatElement] = []
        for element in elements {
            switch (merged.last, element) {
            case (.literal(let a)?, .literal(let b)):
                merged[merged.count - 1] = .literal(a + b)
            case (.field(let a, _, let nameA)?, .field(let b, _, let nameB)):
                if a == .path && b == .query {
                    merged[merged.count - 1] = .field(.target, 0, nameA + nameB)
                } else {
                    throw FormatError(
                        "\(nameA)\(nameB) in the format: two fields with nothing between them cannot be told apart; "
                            + "log them with a separator (a space or a quote) between them.")
                }
            default:
                if case .literal(let bytes) = element, bytes.isEmpty { continue }
                merged.append(element)
            }
        }
        var leading: [UInt8] = []
        var index = 0
        if case .literal(let bytes)? = merged.first {
            leading = bytes
            index = 1
        }
        var literals = leading
        var steps: [FormatStep] = []
        var previousLiteral = leading
        while index < merged.count {
            guard case .field(let kind, let width, _) = merged[index] else { index += 1; continue }
            var following: [UInt8] = []
            if index + 1 < merged.count, case .literal(let bytes) = merged[index + 1] { following = bytes }
            let quoted = previousLiteral.last == UInt8(ascii: "\"") && following.first == UInt8(ascii: "\"")
                && width == 0
            steps.append(
                FormatStep(
                    kind: kind, quoted: quoted, width: Int32(width), literalStart: Int32(literals.count),
                    literalCount: Int32(following.count)))
            literals += following
            previousLiteral = following
            index += following.isEmpty ? 1 : 2
        }
        guard steps.contains(where: { $0.kind != .skip }) else {
            throw FormatError(
                "the format has no field klogs stores (a client, time, request or status); check the string: \(definition)")
        }
        let kinds = Set(steps.map(\.kind))
        let timeKinds: Set<FieldKind> = [
            .timeLocal, .timeISO8601, .timeSecondsFraction, .timeSeconds, .timeMilliseconds, .timeMicroseconds,
        ]
        guard !kinds.isDisjoint(with: timeKinds) else {
            throw FormatError(
                "the format has no time field: add $time_local, $time_iso8601 or $msec (nginx), or %t (Apache).")
        }
        guard kinds.contains(.status) else {
            throw FormatError("the format has no status field: add $status (nginx) or %>s (Apache).")
        }
        return FormatProgram(leading: leading, steps: steps, literals: literals)
    }
}

/// A hand-tuned built-in layout a compiled string may spell exactly.
enum BuiltInLayout: Sendable { case combined, common }

/// A piece of a format string: literal text, or a field with its fixed width (0 when variable) and its name.
enum FormatElement: Equatable {
    case literal([UInt8])
    case field(FieldKind, Int, String)
}

/// Reads nginx `log_format` strings.
enum NginxFormatReader {
    /// What each nginx variable carries; any other variable is skipped.
    static let variables: [String: FieldKind] = [
        "remote_addr": .client, "realip_remote_addr": .clientFallback, "http_x_forwarded_for": .forwardedFor,
        "time_local": .timeLocal, "time_iso8601": .timeISO8601, "msec": .timeSecondsFraction,
        "request": .request, "request_method": .method, "request_uri": .target, "uri": .path,
        "document_uri": .path, "args": .query, "query_string": .query, "server_protocol": .httpProtocol,
        "status": .status, "body_bytes_sent": .bodyBytes, "bytes_sent": .bytesSent, "http_referer": .referrer,
        "http_user_agent": .userAgent, "host": .host, "server_name": .host, "http_host": .host,
    ]

    static func elements(_ text: String) throws -> [FormatElement] {
        let bytes = Array(text.utf8)
        var elements: [FormatElement] = []
        var literal: [UInt8] = []
        var index = 0
        func isNameByte(_ byte: UInt8) -> Bool {
            (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z")) || byte == UInt8(ascii: "_")
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
        }
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "$"), index + 1 < bytes.count else {
                literal.append(byte)
                index += 1
                continue
            }
            var nameStart = index + 1
            var nameEnd: Int
            if bytes[nameStart] == UInt8(ascii: "{") {
                nameStart += 1
                guard let close = bytes[nameStart...].firstIndex(of: UInt8(ascii: "}")) else {
                    throw FormatError("the variable at byte \(index + 1) of the format has no closing '}'.")
                }
                nameEnd = close
                index = close + 1
            } else {
                nameEnd = nameStart
                while nameEnd < bytes.count && isNameByte(bytes[nameEnd]) { nameEnd += 1 }
                index = nameEnd
            }
            guard nameEnd > nameStart else {
                literal.append(byte)
                index = nameStart
                continue
            }
            let name = String(decoding: bytes[nameStart..<nameEnd], as: UTF8.self)
            if !literal.isEmpty {
                elements.append(.literal(literal))
                literal = []
            }
            let kind = variables[name.lowercased()] ?? .skip
            elements.append(.field(kind, kind == .timeLocal ? 26 : kind == .status ? 3 : 0, "$" + name))
        }
        if !literal.isEmpty { elements.append(.literal(literal)) }
        return elements
    }
}

/// Reads Apache `mod_log_config` format strings.
enum ApacheFormatReader {
    static func elements(_ text: String) throws -> [FormatElement] {
        let bytes = Array(text.utf8)
        var elements: [FormatElement] = []
        var literal: [UInt8] = []
        func flush() {
            if !literal.isEmpty {
                elements.append(.literal(literal))
                literal = []
            }
        }
        func field(_ kind: FieldKind, _ width: Int, _ name: String) {
            flush()
            elements.append(.field(kind, width, name))
        }
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\") && index + 1 < bytes.count {
                // Escapes of the configuration string.
                switch bytes[index + 1] {
                case UInt8(ascii: "n"): literal.append(0x0A)
                case UInt8(ascii: "t"): literal.append(0x09)
                case UInt8(ascii: "r"): literal.append(0x0D)
                default: literal.append(bytes[index + 1])
                }
                index += 2
                continue
            }
            guard byte == UInt8(ascii: "%") else {
                literal.append(byte)
                index += 1
                continue
            }
            let start = index
            index += 1
            // Modifiers: conditions `!400,501`, `<` and `>`.
            while index < bytes.count,
                bytes[index] == UInt8(ascii: "!") || bytes[index] == UInt8(ascii: ",")
                    || bytes[index] == UInt8(ascii: "<") || bytes[index] == UInt8(ascii: ">")
                    || (bytes[index] >= UInt8(ascii: "0") && bytes[index] <= UInt8(ascii: "9"))
            {
                index += 1
            }
            var argument: String? = nil
            if index < bytes.count && bytes[index] == UInt8(ascii: "{") {
                guard let close = bytes[index...].firstIndex(of: UInt8(ascii: "}")) else {
                    throw FormatError("the directive at byte \(start + 1) of the format has no closing '}'.")
                }
                argument = String(decoding: bytes[(index + 1)..<close], as: UTF8.self)
                index = close + 1
            }
            // `%^ti` and `%^to`: two-letter directives.
            var letter = ""
            if index + 2 < bytes.count && bytes[index] == UInt8(ascii: "^") {
                letter = String(decoding: bytes[index..<(index + 3)], as: UTF8.self)
                index += 3
            } else if index < bytes.count {
                letter = String(UnicodeScalar(bytes[index]))
                index += 1
            } else {
                throw FormatError("the format ends with a lone '%'; write '%%' for a percent sign.")
            }
            let name = String(decoding: bytes[start..<index], as: UTF8.self)
            switch letter {
            case "%": literal.append(UInt8(ascii: "%"))
            case "h": field(.client, 0, name)
            case "a": field(argument?.lowercased() == "c" ? .clientFallback : .client, 0, name)
            case "t":
                switch try timeKind(argument, name) {
                case .bracketed:
                    literal.append(UInt8(ascii: "["))
                    field(.timeLocal, 26, name)
                    literal.append(UInt8(ascii: "]"))
                case .kind(let kind): field(kind, kind == .timeLocal ? 26 : 0, name)
                }
            case "r": field(.request, 0, name)
            case "m": field(.method, 0, name)
            case "U": field(.path, 0, name)
            case "q": field(.query, 0, name)
            case "H": field(.httpProtocol, 0, name)
            case "s": field(.status, 3, name)
            case "b", "B": field(.bodyBytes, 0, name)
            case "O": field(.bytesSent, 0, name)
            case "v", "V": field(.host, 0, name)
            case "i":
                switch argument?.lowercased() {
                case "referer", "referrer": field(.referrer, 0, name)
                case "user-agent": field(.userAgent, 0, name)
                case "x-forwarded-for": field(.forwardedFor, 0, name)
                case "host": field(.host, 0, name)
                default: field(.skip, 0, name)
                }
            case "A", "l", "u", "p", "P", "D", "T", "I", "S", "f", "k", "L", "R", "X", "e", "n", "o", "C", "^ti",
                "^to", "F":
                field(.skip, 0, name)
            default:
                throw FormatError(
                    "\(name) is not an Apache mod_log_config directive klogs knows; see the LogFormat documentation.")
            }
        }
        flush()
        return elements
    }

    enum TimeForm { case bracketed, kind(FieldKind) }

    /// The time field of `%t` or `%{format}t`.
    static func timeKind(_ argument: String?, _ name: String) throws -> TimeForm {
        guard var format = argument else { return .bracketed }
        for prefix in ["begin:", "end:"] where format.hasPrefix(prefix) { format.removeFirst(prefix.count) }
        switch format {
        case "": return .bracketed
        case "sec": return .kind(.timeSeconds)
        case "msec": return .kind(.timeMilliseconds)
        case "usec": return .kind(.timeMicroseconds)
        case "msec_frac", "usec_frac": return .kind(.skip)
        case "%d/%b/%Y:%H:%M:%S %z": return .kind(.timeLocal)
        case "%Y-%m-%dT%H:%M:%S%z", "%FT%T%z", "%Y-%m-%dT%H:%M:%S%Ez", "%Y-%m-%d %H:%M:%S%z":
            return .kind(.timeISO8601)
        default:
            throw FormatError(
                "\(name): klogs reads %t, %{sec}t, %{msec}t, %{usec}t, %{%d/%b/%Y:%H:%M:%S %z}t and "
                    + "%{%Y-%m-%dT%H:%M:%S%z}t; a time without its UTC offset does not name an instant.")
        }
    }
}
