import FuzzSupport
import KlogsCore

/// Every preset's line parser (combined, common, vhost_combined, the compiled nginx presets and the JSON ones) on
/// each line of the input, with the record invariants of `parseAndCheck`; then format detection on the same lines.
nonisolated(unsafe) var parsers = LogFormat.presets.map { $0.format.makeParser() }
nonisolated(unsafe) var record = AccessRecord()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = UnsafeRawBufferPointer(start: start, count: count)
    var lines: [UnsafeRawBufferPointer] = []
    forEachLine(data) { line in
        lines.append(line)
        for index in parsers.indices { parseAndCheck(&parsers[index], line, &record) }
    }
    _ = FormatDetector.detect(Array(lines.prefix(FormatDetector.sampleLineCount)))
    return 0
}

/// The program's entry point (see `runFuzzer`).
@_cdecl("FuzzLineParser_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
