import FuzzSupport
import KlogsUserAgent

/// The user-agent classifier (uap-core rules from /usr/share/uap-core/regexes.yaml, loaded once) on arbitrary
/// bytes. The cached answer must equal the uncached one, and a class ID must map back to the same class.
nonisolated(unsafe) let classifier: UserAgentClassifier = {
    do {
        return try UserAgentClassifier(cacheCapacity: 64)
    } catch {
        fatalError("cannot load the uap-core rules: \(error)")
    }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let userAgent = UnsafeBufferPointer(start: start.assumingMemoryBound(to: UInt8.self), count: count)
    let cached = classifier.classify(userAgent)
    let uncached = classifier.classifyUncached(userAgent)
    require(cached == uncached, "cached \(cached) differs from uncached \(uncached)")
    let id = classifier.classID(userAgent)
    require(classifier.userAgentClass(forID: id) == cached, "class ID \(id) maps to another class")
    return 0
}

/// The program's entry point (see `runFuzzer`). The rules are loaded before the first input, so that their loading
/// (seconds under ASan on a busy machine) is not counted against the first unit's timeout.
@_cdecl("FuzzUserAgent_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    _ = classifier
    return runFuzzer(argc, argv, fuzz)
}
