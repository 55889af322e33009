import FuzzSupport
import KlogsCore

/// A compiled custom format on log lines: the input's first line is an nginx or Apache format string (also tried as
/// a JSON field mapping), the other lines are parsed with every format it compiles to, with the record invariants of
/// `parseAndCheck`. The compiled program runs with and without the built-in twin for combined and common.
nonisolated(unsafe) var record = AccessRecord()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = UnsafeRawBufferPointer(start: start, count: count)
    let newline = data.firstIndex(of: UInt8(ascii: "\n")) ?? data.count
    let definition = String(decoding: data[0..<newline], as: UTF8.self)
    let body = UnsafeRawBufferPointer(rebasing: data[min(newline + 1, data.count)...])
    var formats: [LogFormat] = []
    if let compiled = try? CompiledFormat(definition, allowsBuiltIn: false) { formats.append(.custom(compiled)) }
    if let compiled = try? CompiledFormat(definition) { formats.append(.custom(compiled)) }
    if let mapping = try? JSONFormat(fields: definition) { formats.append(.json(mapping)) }
    var parsers = formats.map { $0.makeParser() }
    forEachLine(body) { line in
        for index in parsers.indices { parseAndCheck(&parsers[index], line, &record) }
    }
    return 0
}

/// The program's entry point (see `runFuzzer`).
@_cdecl("FuzzCustomFormat_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
