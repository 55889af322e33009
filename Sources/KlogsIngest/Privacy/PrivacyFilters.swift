import KlogsCore
import KlogsUserAgent

/// The per-line privacy decisions of an ingest, outside the line processor so they can be read (and tested) in
/// one place: which client a line is from, and the path it is stored under.
///
/// Allocation-free per line once the buffers have grown to the longest path.
struct PrivacyFilters {
    private let source: ClientAddressSource
    private let selector: ForwardedClientSelector
    private let storedPath: StoredPath
    private let rewriter: PathRewriter?
    private var pathBuffer: [UInt8] = []

    // Counters for the summary.
    /// Clients that are not an IP address (host names and tokens).
    private(set) var clientsNotIP: Int64 = 0
    private(set) var clientsInvalid: Int64 = 0
    private(set) var clientsFromForwardedFor: Int64 = 0
    private(set) var pathsMasked: Int64 = 0
    private(set) var pathsTruncated: Int64 = 0
    private(set) var queriesDropped: Int64 = 0

    init(configuration: IngestConfiguration) throws {
        source = configuration.clientAddressSource
        selector = ForwardedClientSelector(trustedProxies: configuration.trustedProxies)
        storedPath = StoredPath(
            keptQueryParameters: configuration.keepQueryParameters, maximumLength: configuration.maximumPathLength)
        rewriter = configuration.pathRewrites.isEmpty ? nil : try PathRewriter(rules: configuration.pathRewrites)
        pathBuffer.reserveCapacity(storedPath.maximumLength + 64)
    }

    /// The client identity of a record under the configured source. Counts clients that are not an IP address, and
    /// among them the invalid ones: in the client field,
    /// neither an address nor a host name (`-`, `unix:`, empty, garbage); in an X-Forwarded-For chain, anything
    /// that is not an address (`unknown`).
    @inline(__always)
    mutating func client(of record: AccessRecord) -> ClientIdentity {
        let identity: ClientIdentity
        switch source {
        case .clientField:
            identity = ClientIdentity(record.client)
        case .forwardedFor:
            if let chain = record.forwardedFor {
                // A format that logs the header as a field of its own (`$http_x_forwarded_for`,
                // `%{X-Forwarded-For}i`): the connecting peer (the client field) ends the chain.
                identity = selector.select(forwardedFor: chain, peer: record.client)
            } else {
                // Otherwise the chain is the list logged in the client field (nginx behind proxies).
                identity = selector.select(forwardedFor: ForwardedClientSelector.clientList(of: record), peer: nil)
            }
            if case .address(let address) = identity, address != IPAddress(parsing: record.client) {
                clientsFromForwardedFor += 1
            }
        }
        guard case .token(let token) = identity else { return identity }
        clientsNotIP += 1
        // A host name is a client in a host-name log (`HostnameLookups On`); in an X-Forwarded-For chain it is not.
        if source == .forwardedFor || !Self.isHostName(token) {
            clientsInvalid += 1
        }
        return identity
    }

    /// Calls `body` with the path to store for a record: rewritten, masked, with only the kept query parameters,
    /// capped.
    @inline(__always)
    mutating func withStoredPath<Result>(
        of record: AccessRecord, _ body: (UnsafeRawBufferPointer) -> Result
    ) -> Result {
        let query = record.query
        if let rewriter {
            return rewriter.rewrite(record.path) { rewritten in store(rewritten, query: query, body) }
        }
        return store(record.path, query: query, body)
    }

    /// The id in `paths` of the path to store for a record (`withStoredPath`, interned).
    ///
    /// The stored path is the logged one exactly when it holds no address-like text, is within the length cap, is
    /// not rewritten and no query parameter is kept. In that case the logged path is interned directly, with one
    /// hash: a new path is added only when `AddressMasking` finds nothing in it, and a known one is used when
    /// `addressFree` says (remembered per id) that its bytes hold no address-like text, so a repeated path is not
    /// scanned again. Anything else (an address, a masked path that still looks like one) goes through
    /// `withStoredPath`.
    @inline(__always)
    mutating func storedPathId(
        of record: AccessRecord, in paths: inout ByteInterner, addressFree: inout PathFlags
    ) -> Int32 {
        let path = record.path
        let query = record.query
        if rewriter == nil, path.count <= storedPath.maximumLength,
            query == nil || storedPath.keptQueryParameters.isEmpty,
            let (id, isNew) = paths.intern(path, admittingNew: { !AddressMasking.containsAddress($0) })
        {
            let isAddressFree: Bool
            if isNew {
                addressFree.record(true, for: id)
                isAddressFree = true
            } else {
                isAddressFree =
                    addressFree.flag(of: id)
                    ?? addressFree.learn(upTo: id, of: paths) { !AddressMasking.containsAddress($0) }
            }
            if isAddressFree {
                if let query, !query.isEmpty { queriesDropped += 1 }
                return id
            }
        }
        return withStoredPath(of: record) { paths.intern($0) }
    }

    @inline(__always)
    private mutating func store<Result>(
        _ path: UnsafeRawBufferPointer, query: UnsafeRawBufferPointer?, _ body: (UnsafeRawBufferPointer) -> Result
    ) -> Result {
        if storedPath.isUnchanged(path: path, query: nil) {
            guard let query else { return body(path) }
            // The common case of a query and no kept parameters: the path as logged, the query dropped.
            if storedPath.keptQueryParameters.isEmpty {
                if !query.isEmpty { queriesDropped += 1 }
                return body(path)
            }
        }
        let changes = storedPath.write(path: path, query: query, into: &pathBuffer)
        if changes.contains(.maskedAddress) { pathsMasked += 1 }
        if changes.contains(.truncated) { pathsTruncated += 1 }
        if changes.contains(.droppedQuery) { queriesDropped += 1 }
        return pathBuffer.withUnsafeBytes { body($0) }
    }

    /// Whether a client token is a plausible host name (`unicomp6.unicomp.net`, `localhost`): letters, digits,
    /// hyphens and dots, starting with a letter or digit.
    static func isHostName(_ token: UnsafeRawBufferPointer) -> Bool {
        guard let first = token.first, isAlphanumeric(first), token.count <= 253 else { return false }
        for byte in token where !(isAlphanumeric(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")) {
            return false
        }
        return true
    }

    @inline(__always)
    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
    }

    /// Adds the counters to a summary.
    func addCounts(to summary: inout IngestSummary) {
        summary.clientsNotIP += clientsNotIP
        summary.clientsInvalid += clientsInvalid
        summary.clientsFromForwardedFor += clientsFromForwardedFor
        summary.pathsAddressMasked += pathsMasked
        summary.pathsTruncated += pathsTruncated
        summary.queriesDropped += queriesDropped
    }
}
