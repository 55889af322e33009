public import KlogsCore

/// Stops the fuzzer with a message when an invariant does not hold (a crash libFuzzer records with its input).
///
/// `precondition` would do the same in a debug build; this one also fires in the optimised fuzz build.
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("invariant broken: \(message())") }
}

/// Calls `body` with each `\n`-separated line of `data` (without the newline), the last one even when unterminated.
public func forEachLine(_ data: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
    var start = 0
    for index in 0..<data.count where data[index] == UInt8(ascii: "\n") {
        body(UnsafeRawBufferPointer(rebasing: data[start..<index]))
        start = index + 1
    }
    if start < data.count { body(UnsafeRawBufferPointer(rebasing: data[start..<data.count])) }
}

/// Parses `line` with `parser` and checks what a parsed record promises: every field lies inside the line or, once
/// unescaped into the record's scratch buffer, is no longer than the line; the status has three digits; the size is
/// not negative; the method and path are `-` unless the request line was valid.
public func parseAndCheck(_ parser: inout AccessLogParser, _ line: UnsafeRawBufferPointer, _ record: inout AccessRecord) {
    guard parser.parse(line, into: &record) == nil else { return }
    let fields: [(String, UnsafeRawBufferPointer?)] = [
        ("client", record.client), ("virtual host", record.virtualHost), ("request", record.request),
        ("method", record.method), ("path", record.path), ("query", record.query),
        ("protocol", record.httpProtocol), ("referrer", record.referrer), ("user agent", record.userAgent),
        ("forwarded for", record.forwardedFor),
    ]
    for (name, field) in fields {
        guard let field else { continue }
        require(field.count <= line.count, "\(name) has \(field.count) bytes, the line \(line.count)")
        require(isInside(field, line) || !overlaps(field, line), "\(name) straddles the end of the line")
    }
    require((0...999).contains(record.status), "status \(record.status) is not three digits")
    require(record.responseBytes >= 0, "negative response size \(record.responseBytes)")
    if record.requestKind != .valid {
        require(Array(record.method) == [UInt8(ascii: "-")], "method of an invalid request is not '-'")
        require(Array(record.path) == [UInt8(ascii: "-")], "path of an invalid request is not '-'")
    }
}

/// Whether `field` lies wholly inside `line` (an empty field anywhere counts as inside).
func isInside(_ field: UnsafeRawBufferPointer, _ line: UnsafeRawBufferPointer) -> Bool {
    guard field.count > 0, let start = field.baseAddress else { return true }
    guard let lineStart = line.baseAddress else { return false }
    return start >= lineStart && start + field.count <= lineStart + line.count
}

/// Whether `field` shares any byte with `line`.
func overlaps(_ field: UnsafeRawBufferPointer, _ line: UnsafeRawBufferPointer) -> Bool {
    guard field.count > 0, line.count > 0, let start = field.baseAddress, let lineStart = line.baseAddress else {
        return false
    }
    return start < lineStart + line.count && lineStart < start + field.count
}

/// libFuzzer's driver, linked in by `-sanitize=fuzzer`.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafeRawPointer, Int) -> CInt
) -> CInt

/// Runs libFuzzer on `callback` with the command-line arguments.
///
/// SwiftPM links every executable with `main` pointing at `<Module>_main`, so each target defines that symbol and
/// calls this instead of relying on libFuzzer's own `main` (which the linker then leaves out).
public func runFuzzer(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
    _ callback: @convention(c) (UnsafeRawPointer, Int) -> CInt
) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments, callback)
}
