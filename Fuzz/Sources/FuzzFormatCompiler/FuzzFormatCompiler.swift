import FuzzSupport
import KlogsCore

/// The format-string compiler on arbitrary text, in both dialects and as a JSON mapping: it either compiles or
/// throws a `FormatError` with a message; it never crashes or hangs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    for dialect in [nil, CompiledFormat.Dialect.nginx, .apache] {
        do {
            let format = try CompiledFormat(text, dialect: dialect, allowsBuiltIn: false)
            require(format.definition == text, "the definition is not kept as given")
        } catch let error as FormatError {
            require(!error.message.isEmpty, "a FormatError without a message")
        } catch {
            require(false, "CompiledFormat threw \(type(of: error)), not FormatError")
        }
    }
    do {
        _ = try JSONFormat(fields: text)
    } catch let error as FormatError {
        require(!error.message.isEmpty, "a FormatError without a message")
    } catch {
        require(false, "JSONFormat threw \(type(of: error)), not FormatError")
    }
    return 0
}

/// The program's entry point (see `runFuzzer`).
@_cdecl("FuzzFormatCompiler_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
