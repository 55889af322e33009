/// Classifies user agents into browser, OS, device family, device class and bot flag, at ingest speed: a bounded
/// cache in front of the prefiltered uap-core parser.
///
/// ```swift
/// let classifier = try UserAgentClassifier()           // /usr/share/uap-core/regexes.yaml
/// let c = classifier.classify("curl/8.5.0")
/// print(userAgentJSONLine(c))   // {"browser":"curl","browser_major":"8",…,"device":"bot","is_bot":true}
/// ```
///
/// Every distinct ``UserAgentClass`` gets a dense integer id (0, 1, 2, … in order of first appearance) that stays the
/// same for the life of the classifier, even when the cache evicts the agents that produced it; ``classID(_:)`` is the
/// cheapest entry point for dictionary encoding.
///
/// Not thread-safe: use one classifier per thread. To load the rules only once, build one ``UserAgentRuleSet`` and
/// pass it to each classifier (the ids then differ between classifiers).
public final class UserAgentClassifier {
    /// The parser behind the cache.
    public let parser: UserAgentParser
    private let cache: UserAgentCache
    private var classes: [UserAgentClass] = []
    private var classIDs: [UserAgentClass: Int32] = [:]
    /// Classes found by the classifiers of other threads (see ``init(rules:cacheCapacity:shared:)``).
    public let shared: SharedClassifications?

    /// Lookups so far.
    public var lookupCount: Int { cache.lookupCount }
    /// Lookups that missed the cache (and ran the parser).
    public var missCount: Int { cache.missCount }
    /// The number of user agents the cache holds at most.
    public var cacheCapacity: Int { cache.capacity }

    /// Loads and compiles a rule file and makes an empty cache.
    ///
    /// - Parameters:
    ///   - rulesPath: a uap-core `regexes.yaml`; Debian's by default.
    ///   - cacheCapacity: how many distinct user agents to remember.
    /// - Throws: ``UserAgentError`` naming the file and, for a bad rule, its line and regex.
    public convenience init(rulesPath: String = UserAgentRules.defaultPath, cacheCapacity: Int = 20_000)
        throws(UserAgentError)
    {
        self.init(rules: try UserAgentRuleSet(contentsOfFile: rulesPath), cacheCapacity: cacheCapacity)
    }

    /// A classifier over already compiled rules (which may be shared with classifiers on other threads).
    ///
    /// - Parameter shared: the classes that classifiers on other threads found, consulted on a miss of this
    ///   classifier's cache before the rules run, and given this classifier's own findings.
    public init(rules: UserAgentRuleSet, cacheCapacity: Int = 20_000, shared: SharedClassifications? = nil) {
        parser = UserAgentParser(rules: rules)
        cache = UserAgentCache(capacity: max(cacheCapacity, 1))
        self.shared = shared
    }

    /// A classifier with the same rules, cache capacity and shared classes, and an empty cache and no ids yet.
    public func emptied() -> UserAgentClassifier {
        UserAgentClassifier(rules: parser.rules, cacheCapacity: cacheCapacity, shared: shared)
    }

    /// The class id of a user agent: a cache lookup, and on a miss a full classification.
    ///
    /// - Complexity: a hash of the bytes and at most eight comparisons on a hit (no allocation); the prefilter scan
    ///   and a few PCRE2 matches on a miss.
    @inline(__always)
    public func classID(_ userAgent: UnsafeBufferPointer<UInt8>) -> Int32 {
        classID(userAgent, fingerprint: Self.fingerprint(userAgent))
    }

    /// The class id of a user agent whose ``fingerprint(_:)`` the caller already has (the ingest also uses it in
    /// the visitor pseudonym, so the bytes are hashed once per line).
    @inline(__always)
    public func classID(_ userAgent: UnsafeBufferPointer<UInt8>, fingerprint hash: UInt64) -> Int32 {
        if let id = cache.value(for: userAgent, hash: hash) { return id }
        return classIDOfUncached(userAgent, fingerprint: hash)
    }

    /// Starts loading the cache's entries for a user agent with this ``fingerprint(_:)`` into the processor caches,
    /// for a ``classID(_:fingerprint:)`` after some other work: only a hint, it changes nothing.
    @inline(__always)
    public func prefetch(fingerprint: UInt64) {
        cache.prefetch(hash: fingerprint)
    }

    /// A cache miss of ``classID(_:fingerprint:)``: classifies the user agent, numbers its class and caches it.
    /// Not inlined, so that the hit path inlined into callers stays small.
    @usableFromInline
    @inline(never)
    func classIDOfUncached(_ userAgent: UnsafeBufferPointer<UInt8>, fingerprint hash: UInt64) -> Int32 {
        let id = intern(sharedClass(of: userAgent, fingerprint: hash))
        cache.insert(userAgent, hash: hash, value: id)
        return id
    }

    /// The class of a user agent missing from the cache: the one another thread found, or classified here (and
    /// shared).
    private func sharedClass(of userAgent: UnsafeBufferPointer<UInt8>, fingerprint hash: UInt64) -> UserAgentClass {
        guard let shared else { return classifyUncached(userAgent) }
        if let found = shared.userAgentClass(of: userAgent, fingerprint: hash) { return found }
        let classified = classifyUncached(userAgent)
        shared.remember(classified, of: userAgent, fingerprint: hash)
        return classified
    }

    /// A fast unkeyed 64-bit hash of user-agent bytes: the cache's key hash, and the user agent's part of the
    /// visitor pseudonym (`VisitorPseudonym`). Pinned by a test: changing it changes every pseudonym.
    @inline(__always)
    public static func fingerprint(_ userAgent: UnsafeBufferPointer<UInt8>) -> UInt64 {
        UserAgentCache.hash(userAgent)
    }

    /// The class of a user agent (cached).
    @inline(__always)
    public func classify(_ userAgent: UnsafeBufferPointer<UInt8>) -> UserAgentClass {
        classes[Int(classID(userAgent))]
    }

    /// The class of a user agent (cached).
    public func classify(_ userAgent: String) -> UserAgentClass {
        var userAgent = userAgent
        return userAgent.withUTF8 { classify($0) }
    }

    /// The class with id `id`, as returned by ``classID(_:)``.
    public func userAgentClass(forID id: Int32) -> UserAgentClass {
        classes[Int(id)]
    }

    /// Every class seen so far; its index is its id.
    public var knownClasses: [UserAgentClass] { classes }

    /// Classifies without touching the cache or the ids.
    public func classifyUncached(_ userAgent: UnsafeBufferPointer<UInt8>) -> UserAgentClass {
        // Family and major suffice for the class; minor and patch would only cost strings.
        let parsed = parser.parse(userAgent, versionFields: 2)
        return DeviceClassification.classify(parsed, userAgent, markers: parser.lastMarkers)
    }

    /// Classifies without touching the cache or the ids.
    public func classifyUncached(_ userAgent: String) -> UserAgentClass {
        var userAgent = userAgent
        return userAgent.withUTF8 { classifyUncached($0) }
    }

    private func intern(_ value: UserAgentClass) -> Int32 {
        if let id = classIDs[value] { return id }
        let id = Int32(classes.count)
        classes.append(value)
        classIDs[value] = id
        return id
    }
}
