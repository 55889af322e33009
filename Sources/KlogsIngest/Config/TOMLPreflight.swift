/// Finds the syntax errors that would crash the TOML parser, so that they are reported as errors instead.
///
/// TOMLKit 0.6.0 bundles a toml++ with two assertions that invalid text reaches, aborting the process (exit 134)
/// instead of returning a parse error; both found by the `FuzzConfig` fuzz target:
/// - `parse_table_header` calls `parse_key` on whatever byte follows `[` or `[[`, asserting that it can start a key
///   (`[[[a]]]`, `[.a]`, `[=`, `[é]`, `[` at the end of a line fail). Fixed upstream in toml++ PR #301.
/// - `parse_array` calls `parse_value` on a `}` where an element is expected (`a = [}`, `a = [1, }`).
/// - `parse_value` asserts on an unquoted value that starts with a digit, holds `-` (so it may be a date) and is
///   followed by a space and a digit (the space of a date-time), unless it is a real `YYYY-MM-DD` date
///   (`a = 5xx------- 2`).
/// Valid TOML has none of these, so checking first changes nothing for a valid file.
///
/// The scan knows just enough TOML to tell a header from a `[` inside a value: strings (basic, literal and
/// multi-line, which may span lines), comments, and the brackets and braces of arrays and inline tables.
enum TOMLPreflight {
    /// The 1-based line and column of the first text that would crash the parser, and what is wrong, or `nil`.
    static func firstCrashingSyntax(_ text: String) -> (line: Int, column: Int, problem: String)? {
        let bytes = Array(text.utf8)
        var scanner = Scanner(bytes: bytes)
        // A UTF-8 byte order mark, which toml++ skips, does not stop a header on the first line being one.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { scanner.index = 3 }
        /// The open arrays (`[`) and inline tables (`{`) of the value being read, innermost last.
        var containers: [UInt8] = []
        var expectingElement = false
        var atLineStart = true
        while scanner.index < bytes.count {
            let byte = bytes[scanner.index]
            switch byte {
            case UInt8(ascii: "\n"):
                scanner.newLine()
                atLineStart = true
                continue
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                scanner.index += 1
                continue
            case UInt8(ascii: "#"):
                scanner.skipToEndOfLine()
                continue
            case UInt8(ascii: "}") where expectingElement:
                return (scanner.line, scanner.index - scanner.lineStart + 1, "an array has '}' where a value belongs")
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                scanner.skipString()
            case UInt8(ascii: "[") where atLineStart && containers.isEmpty:
                var next = scanner.index + 1
                if next < bytes.count && bytes[next] == UInt8(ascii: "[") { next += 1 }
                while next < bytes.count && (bytes[next] == UInt8(ascii: " ") || bytes[next] == UInt8(ascii: "\t")) {
                    next += 1
                }
                guard next < bytes.count, startsKey(bytes[next]) else {
                    return (scanner.line, next - scanner.lineStart + 1, "a table header must start with a key, as in '[section]'")
                }
                // A header's quoted keys hold no newline, and nothing but a comment may follow it on its line.
                scanner.skipToEndOfLine()
                continue
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                containers.append(byte)
                scanner.index += 1
                atLineStart = false
                expectingElement = byte == UInt8(ascii: "[")
                continue
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                _ = containers.popLast()
                scanner.index += 1
            case UInt8(ascii: ",") where containers.last == UInt8(ascii: "["):
                scanner.index += 1
                atLineStart = false
                expectingElement = true
                continue
            case UInt8(ascii: "0")...UInt8(ascii: "9") where scanner.startsToken:
                let start = scanner.index
                scanner.skipToken()
                if !isDateBeforeTime(bytes[start..<scanner.index], followedBy: bytes[scanner.index...]) {
                    return (scanner.line, start - scanner.lineStart + 1, "a date must be written YYYY-MM-DD")
                }
            default:
                scanner.index += 1
            }
            atLineStart = false
            expectingElement = false
        }
        return nil
    }

    /// False for a digit-led token with a `-` that a space and a digit follow (what toml++ takes for the date of a
    /// date-time) unless it is a `YYYY-MM-DD` date; true for every other token.
    static func isDateBeforeTime(_ token: ArraySlice<UInt8>, followedBy rest: ArraySlice<UInt8>) -> Bool {
        guard token.contains(UInt8(ascii: "-")), rest.count >= 2, rest.first == UInt8(ascii: " "),
            isDigit(rest[rest.startIndex + 1])
        else { return true }
        let shape = Array("dddd-dd-dd".utf8)
        return token.count == shape.count
            && zip(token, shape).allSatisfy { byte, expected in
                expected == UInt8(ascii: "d") ? isDigit(byte) : byte == expected
            }
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// Whether `byte` may follow `[` in a header without crashing toml++: a bare-key character, a quote, or `]`.
    static func startsKey(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "\""),
            UInt8(ascii: "'"), UInt8(ascii: "]"):
            true
        default: false
        }
    }

    /// A position in the text, with the line it is on.
    struct Scanner {
        let bytes: [UInt8]
        var index = 0
        var line = 1
        /// The index of the first byte of the current line.
        var lineStart = 0

        mutating func newLine() {
            index += 1
            line += 1
            lineStart = index
        }

        /// Whether the byte at `index` starts a token: it is first on its line or follows a separator.
        var startsToken: Bool {
            guard index > lineStart else { return true }
            return [" ", "\t", "=", "[", "{", ","].contains(Character(Unicode.Scalar(bytes[index - 1])))
        }

        /// Moves past an unquoted token: to the next space, tab, newline, comma, bracket, brace or comment.
        mutating func skipToken() {
            while index < bytes.count && !" \t\r\n,]}#".utf8.contains(bytes[index]) { index += 1 }
        }

        /// Moves to the newline ending the current line (or the end of the text).
        mutating func skipToEndOfLine() {
            while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
        }

        /// Moves past the string starting at `index` (a quote): `"…"` with escapes, `'…'`, or the multi-line
        /// `"""…"""` and `'''…'''`. An unterminated one ends at the end of its line (single-line) or of the text.
        mutating func skipString() {
            let quote = bytes[index]
            let multiLine = index + 2 < bytes.count && bytes[index + 1] == quote && bytes[index + 2] == quote
            index += multiLine ? 3 : 1
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\\") && quote == UInt8(ascii: "\"") {
                    index += 2
                    continue
                }
                if byte == UInt8(ascii: "\n") {
                    guard multiLine else { return }
                    newLine()
                    continue
                }
                index += 1
                if byte == quote {
                    guard multiLine else { return }
                    if index + 1 < bytes.count && bytes[index] == quote && bytes[index + 1] == quote {
                        index += 2
                        // Up to two more quotes belong to the string (`""""` ends with a quote inside).
                        while index < bytes.count && bytes[index] == quote { index += 1 }
                        return
                    }
                }
            }
        }
    }
}
