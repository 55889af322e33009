/// Checks that configuration text is well-formed TOML of the shapes a configuration uses, before the TOML parser
/// sees it.
///
/// TOMLKit 0.6.0 bundles a toml++ whose assertions abort the process (exit 134) on some invalid text instead of
/// returning a parse error. The `FuzzConfig` fuzz target found five: a header whose key starts with a byte that
/// cannot start a key (`[[[a`, fixed upstream in toml++ PR #301), a `}` where an array element belongs (`a=[}`),
/// the first one again behind a byte order mark, an unquoted digit-led value with `-` that a space and a digit
/// follow (`a = 5xx------- 2`, taken for a date-time) and 147 nested arrays closed by a `}`. Rather than chase the
/// assertions one by one, klogs checks the whole text against the grammar first, byte by byte, and passes the
/// parser only text it accepts: comments, `key = value` lines, `[table]` and `[[table]]` headers, and values that
/// are strings (all four kinds, escapes checked), booleans, integers, floats, dates and times in the RFC 3339
/// shapes of TOML, arrays and inline tables nested at most `maximumDepth` deep. Valid TOML of that kind passes
/// unchanged, so the parser still gives the meaning (escapes, numbers, duplicate keys) and its own errors.
enum TOMLPreflight {
    /// How deep arrays and inline tables may nest; no setting needs more than two.
    static let maximumDepth = 8

    /// The 1-based line and column (in bytes) of the first text that is not accepted, and what is wrong, or `nil`.
    static func firstProblem(_ text: String) -> (line: Int, column: Int, problem: String)? {
        var reader = Reader(bytes: Array(text.utf8))
        do {
            try reader.document()
            return nil
        } catch {
            return (error.line, error.column, error.message)
        }
    }

    /// Where the text stops being acceptable, and why.
    struct Problem: Error {
        let line: Int
        let column: Int
        let message: String
    }

    /// A recursive-descent reader of the accepted TOML, tracking lines for messages.
    struct Reader {
        let bytes: [UInt8]
        var index = 0
        var line = 1
        /// The index of the first byte of the current line.
        var lineStart = 0
        var depth = 0

        init(bytes: [UInt8]) {
            self.bytes = bytes
            // A UTF-8 byte order mark is skipped (it still counts in the first line's columns).
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        func byte(at offset: Int) -> UInt8? { index + offset < bytes.count ? bytes[index + offset] : nil }

        func problem(_ message: String, at position: Int? = nil) -> Problem {
            Problem(line: line, column: (position ?? index) - lineStart + 1, message: message)
        }

        // MARK: Lines

        mutating func document() throws(Problem) {
            while true {
                skipBlanks()
                switch current {
                case nil: return
                case UInt8(ascii: "#"): skipComment()
                case UInt8(ascii: "["): try header()
                case UInt8(ascii: "\n"), UInt8(ascii: "\r"): break
                default: try keyValue()
                }
                try endOfLine()
            }
        }

        /// After a header or a value: blanks, an optional comment, then a new line or the end of the text.
        mutating func endOfLine() throws(Problem) {
            skipBlanks()
            if current == UInt8(ascii: "#") { skipComment() }
            if current == nil || consumeNewLine() { return }
            throw problem("expected the end of the line")
        }

        /// Consumes `\n` or `\r\n` and starts the next line; false (consuming nothing) otherwise.
        mutating func consumeNewLine() -> Bool {
            if current == UInt8(ascii: "\r") && byte(at: 1) == UInt8(ascii: "\n") { index += 1 }
            guard current == UInt8(ascii: "\n") else { return false }
            index += 1
            line += 1
            lineStart = index
            return true
        }

        mutating func skipBlanks() {
            while current == UInt8(ascii: " ") || current == UInt8(ascii: "\t") { index += 1 }
        }

        /// Moves to the end of a comment's line (the new line is left for the caller).
        mutating func skipComment() {
            while let byte = current, byte != UInt8(ascii: "\n") { index += 1 }
        }

        /// `[table]` or `[[table]]`.
        mutating func header() throws(Problem) {
            index += 1
            let isArrayOfTables = current == UInt8(ascii: "[")
            if isArrayOfTables { index += 1 }
            skipBlanks()
            try key()
            let closing = isArrayOfTables ? "]]" : "]"
            for _ in closing.utf8 {
                guard current == UInt8(ascii: "]") else { throw problem("a table header ends with '\(closing)'") }
                index += 1
            }
        }

        mutating func keyValue() throws(Problem) {
            try key()
            guard current == UInt8(ascii: "=") else { throw problem("expected '=' after the key") }
            index += 1
            skipBlanks()
            try value()
        }

        /// A bare or quoted key, or dotted keys; the blanks after it are skipped.
        mutating func key() throws(Problem) {
            while true {
                switch current {
                case UInt8(ascii: "\""): try basicString(multiLineAllowed: false)
                case UInt8(ascii: "'"): try literalString(multiLineAllowed: false)
                case let byte? where Self.isBareKeyByte(byte):
                    while let byte = current, Self.isBareKeyByte(byte) { index += 1 }
                default:
                    throw problem("a key is a word of letters, digits, '_' and '-', or a quoted string")
                }
                skipBlanks()
                guard current == UInt8(ascii: ".") else { return }
                index += 1
                skipBlanks()
            }
        }

        static func isBareKeyByte(_ byte: UInt8) -> Bool {
            isDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }

        static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        // MARK: Values

        mutating func value() throws(Problem) {
            switch current {
            case UInt8(ascii: "\""): try basicString(multiLineAllowed: true)
            case UInt8(ascii: "'"): try literalString(multiLineAllowed: true)
            case UInt8(ascii: "["): try array()
            case UInt8(ascii: "{"): try inlineTable()
            case nil, UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "#"): throw problem("a value is missing")
            default: try scalar()
            }
        }

        /// Enters an array or inline table; the caller leaves it with `depth -= 1`.
        mutating func enterNested() throws(Problem) {
            guard depth < TOMLPreflight.maximumDepth else {
                throw problem("arrays and inline tables nest at most \(TOMLPreflight.maximumDepth) deep here")
            }
            depth += 1
        }

        /// `[` values separated by commas, over any number of lines with comments, a trailing comma allowed `]`.
        mutating func array() throws(Problem) {
            try enterNested()
            defer { depth -= 1 }
            index += 1
            while true {
                skipArraySpace()
                if current == UInt8(ascii: "]") { break }
                try value()
                skipArraySpace()
                if current == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard current == UInt8(ascii: "]") else { throw problem("expected ',' or ']' in the array") }
                break
            }
            index += 1
        }

        mutating func skipArraySpace() {
            while true {
                skipBlanks()
                if current == UInt8(ascii: "#") { skipComment() }
                guard consumeNewLine() else { return }
            }
        }

        /// `{ key = value, … }` on one line, without a trailing comma.
        mutating func inlineTable() throws(Problem) {
            try enterNested()
            defer { depth -= 1 }
            index += 1
            skipBlanks()
            if current != UInt8(ascii: "}") {
                while true {
                    try keyValue()
                    skipBlanks()
                    guard current == UInt8(ascii: ",") else { break }
                    index += 1
                    skipBlanks()
                }
            }
            guard current == UInt8(ascii: "}") else { throw problem("expected ',' or '}' in the inline table") }
            index += 1
        }

        /// A boolean, a number, or a date or time: the run of bytes up to a value's end, checked as a whole.
        mutating func scalar() throws(Problem) {
            let start = index
            skipToken()
            var token = bytes[start..<index]
            guard !token.isEmpty else { throw problem("a value is missing") }
            // A date, a space and a digit: the space separates a date and a time.
            if DateTimeShape.isDate(token) && current == UInt8(ascii: " ") && byte(at: 1).map(Self.isDigit) == true {
                index += 1
                skipToken()
                token = bytes[start..<index]
            }
            guard ScalarShape.isBoolean(token) || ScalarShape.isNumber(token) || DateTimeShape.isDateTime(token) else {
                throw problem(
                    "a value is a quoted string, a number, true, false, a date or time like 1979-05-27 07:32:00Z, "
                        + "an array or an inline table", at: start)
            }
        }

        /// Moves past an unquoted token: to the next blank, new line, comma, bracket, brace or comment.
        mutating func skipToken() {
            while let byte = current, !" \t\r\n,]}#".utf8.contains(byte) { index += 1 }
        }

        // MARK: Strings

        /// `"…"` with escapes, or `"""…"""` over lines when allowed.
        mutating func basicString(multiLineAllowed: Bool) throws(Problem) {
            let multiLine = multiLineAllowed && opensMultiLine(UInt8(ascii: "\""))
            index += multiLine ? 3 : 1
            while true {
                guard let byte = current else { throw problem("the string is not closed") }
                if byte == UInt8(ascii: "\"") && closes(UInt8(ascii: "\""), multiLine: multiLine) { return }
                if byte == UInt8(ascii: "\\") {
                    try escape(multiLine: multiLine)
                } else {
                    try stringByte(multiLine: multiLine)
                }
            }
        }

        /// `'…'`, or `'''…'''` over lines when allowed; no escapes.
        mutating func literalString(multiLineAllowed: Bool) throws(Problem) {
            let multiLine = multiLineAllowed && opensMultiLine(UInt8(ascii: "'"))
            index += multiLine ? 3 : 1
            while true {
                guard let byte = current else { throw problem("the string is not closed") }
                if byte == UInt8(ascii: "'") && closes(UInt8(ascii: "'"), multiLine: multiLine) { return }
                try stringByte(multiLine: multiLine)
            }
        }

        func opensMultiLine(_ quote: UInt8) -> Bool { byte(at: 1) == quote && byte(at: 2) == quote }

        /// At a quote: consumes it and returns true when it ends the string. A multi-line string ends at three
        /// quotes, of which up to two more before them still belong to the string (`""""` ends with a quote).
        mutating func closes(_ quote: UInt8, multiLine: Bool) -> Bool {
            guard multiLine else {
                index += 1
                return true
            }
            var run = 0
            while current == quote && run < 5 {
                index += 1
                run += 1
            }
            return run >= 3
        }

        /// One byte of string content: a new line only in a multi-line string, no control character but tab.
        mutating func stringByte(multiLine: Bool) throws(Problem) {
            if multiLine && consumeNewLine() { return }
            guard let byte = current, byte >= 0x20 || byte == UInt8(ascii: "\t"), byte != 0x7F else {
                let newLine = current == UInt8(ascii: "\n") || current == UInt8(ascii: "\r")
                throw problem(
                    newLine && !multiLine ? "the string is not closed on its line" : "a control character in a string")
            }
            index += 1
        }

        /// `\b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX`, and in a multi-line basic string a backslash ending the line.
        mutating func escape(multiLine: Bool) throws(Problem) {
            let start = index
            index += 1
            guard let letter = current else { throw problem("the string is not closed") }
            index += 1
            switch letter {
            case UInt8(ascii: "b"), UInt8(ascii: "t"), UInt8(ascii: "n"), UInt8(ascii: "f"), UInt8(ascii: "r"),
                UInt8(ascii: "\""), UInt8(ascii: "\\"):
                return
            case UInt8(ascii: "u"), UInt8(ascii: "U"):
                let count = letter == UInt8(ascii: "u") ? 4 : 8
                for _ in 0..<count {
                    guard let digit = current, Self.isHexDigit(digit) else {
                        throw problem("\\\(Character(Unicode.Scalar(letter))) takes \(count) hex digits", at: start)
                    }
                    index += 1
                }
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                // In a multi-line string, a line-ending backslash: blanks, a new line, then any blanks and new lines.
                guard multiLine else { throw problem("unknown escape sequence in a string", at: start) }
                index -= 1
                skipBlanks()
                guard consumeNewLine() else { throw problem("only blanks may follow a line-ending backslash") }
                repeat { skipBlanks() } while consumeNewLine()
            default:
                throw problem("unknown escape sequence in a string", at: start)
            }
        }

        static func isHexDigit(_ byte: UInt8) -> Bool {
            isDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "f"))
        }
    }

    /// Booleans and numbers as TOML writes them.
    enum ScalarShape {
        static func isBoolean(_ token: ArraySlice<UInt8>) -> Bool {
            token.elementsEqual("true".utf8) || token.elementsEqual("false".utf8)
        }

        /// A decimal integer or float (`_` only between digits, no leading zero), `inf`/`nan` with an optional
        /// sign, or `0x`, `0o`, `0b` integers.
        static func isNumber(_ token: ArraySlice<UInt8>) -> Bool {
            var rest = token
            if let prefix = radixDigits(rest) {
                rest = rest.dropFirst(2)
                return digitGroups(&rest, digits: prefix) && rest.isEmpty
            }
            if rest.first == UInt8(ascii: "+") || rest.first == UInt8(ascii: "-") { rest = rest.dropFirst() }
            if rest.elementsEqual("inf".utf8) || rest.elementsEqual("nan".utf8) { return true }
            let integerStart = rest
            guard digitGroups(&rest, digits: Reader.isDigit) else { return false }
            let integerLength = integerStart.count - rest.count
            if integerLength > 1 && integerStart.first == UInt8(ascii: "0") { return false }
            if rest.first == UInt8(ascii: ".") {
                rest = rest.dropFirst()
                guard digitGroups(&rest, digits: Reader.isDigit) else { return false }
            }
            if rest.first == UInt8(ascii: "e") || rest.first == UInt8(ascii: "E") {
                rest = rest.dropFirst()
                if rest.first == UInt8(ascii: "+") || rest.first == UInt8(ascii: "-") { rest = rest.dropFirst() }
                guard digitGroups(&rest, digits: Reader.isDigit) else { return false }
            }
            return rest.isEmpty
        }

        /// The digit test of a `0x`/`0o`/`0b` token, or `nil` for other tokens.
        static func radixDigits(_ token: ArraySlice<UInt8>) -> ((UInt8) -> Bool)? {
            guard token.count > 2, token.first == UInt8(ascii: "0") else { return nil }
            switch token[token.startIndex + 1] {
            case UInt8(ascii: "x"): return Reader.isHexDigit
            case UInt8(ascii: "o"): return { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "7") }
            case UInt8(ascii: "b"): return { $0 == UInt8(ascii: "0") || $0 == UInt8(ascii: "1") }
            default: return nil
            }
        }

        /// Consumes digits with single underscores between them (at least one digit); false when malformed.
        static func digitGroups(_ rest: inout ArraySlice<UInt8>, digits: (UInt8) -> Bool) -> Bool {
            guard let first = rest.first, digits(first) else { return false }
            rest = rest.dropFirst()
            while let byte = rest.first {
                if digits(byte) {
                    rest = rest.dropFirst()
                } else if byte == UInt8(ascii: "_"), let next = rest.dropFirst().first, digits(next) {
                    rest = rest.dropFirst(2)
                } else {
                    break
                }
            }
            return true
        }
    }

    /// The RFC 3339 shapes of TOML dates and times: `1979-05-27`, `07:32:00.999`, `1979-05-27T07:32:00`, each
    /// date-time with an optional `Z` or `±hh:mm` offset (`T` or a space between date and time).
    enum DateTimeShape {
        static func isDate(_ token: ArraySlice<UInt8>) -> Bool { matches(token, "dddd-dd-dd") }

        static func isDateTime(_ token: ArraySlice<UInt8>) -> Bool {
            var rest = token
            var hasDate = false
            if rest.count >= 10 && isDate(rest.prefix(10)) {
                rest = rest.dropFirst(10)
                hasDate = true
                guard let separator = rest.first else { return true }
                guard separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t") || separator == UInt8(ascii: " ")
                else { return false }
                rest = rest.dropFirst()
            }
            guard rest.count >= 8, matches(rest.prefix(8), "dd:dd:dd") else { return false }
            rest = rest.dropFirst(8)
            if rest.first == UInt8(ascii: ".") {
                rest = rest.dropFirst()
                let fraction = rest.prefix { Reader.isDigit($0) }
                guard !fraction.isEmpty else { return false }
                rest = rest.dropFirst(fraction.count)
            }
            guard hasDate, let offset = rest.first else { return rest.isEmpty }
            if offset == UInt8(ascii: "Z") || offset == UInt8(ascii: "z") { return rest.count == 1 }
            return (offset == UInt8(ascii: "+") || offset == UInt8(ascii: "-")) && matches(rest.dropFirst(), "dd:dd")
        }

        /// Whether `token` has the shape of `pattern`, where `d` stands for a digit.
        static func matches(_ token: ArraySlice<UInt8>, _ pattern: String) -> Bool {
            token.count == pattern.utf8.count
                && zip(token, pattern.utf8).allSatisfy { byte, expected in
                    expected == UInt8(ascii: "d") ? Reader.isDigit(byte) : byte == expected
                }
        }
    }
}
