import FuzzSupport
import KlogsUserAgent

/// The user-agent classifier (uap-core rules from /usr/share/uap-core/regexes.yaml, loaded once) on arbitrary
/// bytes. The cached answer must equal the uncached one, and a class ID must map back to the same class; the
/// prefiltered parser (literal atoms, start offsets, the `^.{0,N}` rewrite) must give what every rule tried in
/// order, as written, gives.
nonisolated(unsafe) let classifier: UserAgentClassifier = {
    do {
        return try UserAgentClassifier(cacheCapacity: 64)
    } catch {
        fatalError("cannot load the uap-core rules: \(error)")
    }
}()

/// The reference: the same rules without the prefilter or any rewrite.
nonisolated(unsafe) let plainParser: UserAgentParser = {
    do {
        let rules = try UserAgentRules(contentsOfFile: UserAgentRules.defaultPath)
        return UserAgentParser(rules: try UserAgentRuleSet(rules, usePrefilter: false))
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
    let prefiltered = classifier.parser.parse(userAgent)
    let plain = plainParser.parse(userAgent)
    require(prefiltered == plain, "the prefiltered parser gives \(prefiltered), every rule in order \(plain)")
    return 0
}

/// The program's entry point (see `runFuzzer`). The rules are loaded before the first input, so that their loading
/// (seconds under ASan on a busy machine) is not counted against the first unit's timeout.
@_cdecl("FuzzUserAgent_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    _ = classifier
    _ = plainParser
    return runFuzzer(argc, argv, fuzz)
}
