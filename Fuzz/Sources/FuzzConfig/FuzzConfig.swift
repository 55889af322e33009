import FuzzSupport
import KlogsIngest

/// The configuration file parser (TOML through TOMLKit, then klogs' keys) on arbitrary text: it returns a
/// configuration or throws a `BatchError` naming the file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    do {
        _ = try ConfigurationFile.parse(text, name: "fuzz.toml")
    } catch let error as BatchError {
        require(error.description.hasPrefix("fuzz.toml"), "the error does not name the file: \(error)")
    } catch {
        require(false, "ConfigurationFile.parse threw \(type(of: error)), not BatchError")
    }
    return 0
}

/// The program's entry point (see `runFuzzer`).
@_cdecl("FuzzConfig_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
