import KlogsCore
internal import Glibc  // memcmp for the referrer cache

/// The stored form of a line's host, referrer and client network, interned: one place for both the
/// single-threaded `LineProcessor` and the workers of the parallel pipeline (`ChunkWorker`).
///
/// `scratch` is the caller's reused buffer, so nothing here allocates once it has grown to the longest value.
enum StoredValues {
    /// Interns a virtual host lower-cased and without its port.
    static func internHost(
        _ host: UnsafeRawBufferPointer, scratch: inout [UInt8], into interner: inout ByteInterner
    ) -> Int32 {
        scratch.removeAll(keepingCapacity: true)
        for byte in host {
            if byte == UInt8(ascii: ":") { break }
            scratch.append(byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte)
        }
        // A Host header is the client's to choose (nginx `$host`): an address in it is stored as `[ip]`.
        return internCheckedHost(scratch, into: &interner)
    }

    /// Interns the host of a referrer, or returns -1 when there is none.
    ///
    /// - Parameter cache: the recent referrers of `interner` (a referrer repeats on many lines: the same search
    ///   engine, the site's own pages), whose host ids need no extraction and no hashing of the host.
    static func internReferrerHost(
        _ referrer: UnsafeRawBufferPointer?, scratch: inout [UInt8], into interner: inout ByteInterner,
        cache: inout ReferrerHostCache
    ) -> Int32 {
        guard let referrer else { return -1 }
        if referrer.count == 1 && referrer[0] == UInt8(ascii: "-") { return -1 }
        return cache.hostId(of: referrer) { internReferrerHost(referrer, scratch: &scratch, into: &interner) }
    }

    /// Interns the host of a referrer, or returns -1 when there is none (`ReferrerHost.extract`).
    private static func internReferrerHost(
        _ referrer: UnsafeRawBufferPointer, scratch: inout [UInt8], into interner: inout ByteInterner
    ) -> Int32 {
        switch ReferrerHost.extract(referrer, into: &scratch) {
        case .none: return -1
        case .host:
            return internCheckedHost(scratch, into: &interner)
        case .ipAddress: return interner.intern(ReferrerHost.ipAddressMarker)
        }
    }

    /// Interns a host name, or `[ip]` when it holds an address (`203-0-113-7` is fine, `203.0.113.7.nip.io` is
    /// not).
    ///
    /// Only hosts that passed the check are ever interned, so a host already in the interner needs no new check:
    /// the address scan runs once per distinct host and row group (or chunk), not once per line.
    private static func internCheckedHost(_ host: [UInt8], into interner: inout ByteInterner) -> Int32 {
        host.withUnsafeBytes { host in
            if let id = interner.lookUp(host) { return id }
            if AddressMasking.containsAddress(host) { return interner.intern(ReferrerHost.ipAddressMarker) }
            return interner.intern(host)
        }
    }

    /// Interns the truncated network of a client (truncate mode), or returns -1 (null) when the client is not an
    /// IP address.
    static func internNetwork(
        of client: ClientIdentity, configuration: IngestConfiguration, scratch: inout [UInt8],
        into interner: inout ByteInterner
    ) -> Int32 {
        guard case .address(let address) = client else { return -1 }
        let prefix = address.family == .ipv4 ? configuration.ipv4Prefix : configuration.ipv6Prefix
        scratch.removeAll(keepingCapacity: true)
        address.appendNetwork(prefixLength: prefix, to: &scratch)
        return scratch.withUnsafeBytes { interner.intern($0) }
    }
}

/// A yes-or-no fact about each path of a path interner (is it an asset, is it free of address-like text),
/// remembered by path id: a path repeats on many lines, so the fact is computed once per distinct path instead of
/// once per line.
///
/// A fact must depend on the path's bytes only. The flags follow the interner's ids; `removeAll()` must go with
/// the interner's.
struct PathFlags {
    private var flags: [Bool] = []

    /// The fact for path `id`, or nil when it is not known yet (`learn`).
    @inline(__always)
    func flag(of id: Int32) -> Bool? {
        Int(id) < flags.count ? flags[Int(id)] : nil
    }

    /// Computes the fact for the paths of `paths` up to `id`, and returns path `id`'s.
    mutating func learn(
        upTo id: Int32, of paths: ByteInterner, _ fact: (UnsafeRawBufferPointer) -> Bool
    ) -> Bool {
        while flags.count <= Int(id) {
            flags.append(paths.bytes(of: Int32(flags.count)).withUnsafeBytes(fact))
        }
        return flags[Int(id)]
    }

    /// Records the fact for a path just added as `id`, when the flags of every earlier id are known (otherwise
    /// `learn` computes it later).
    @inline(__always)
    mutating func record(_ flag: Bool, for id: Int32) {
        if Int(id) == flags.count { flags.append(flag) }
    }

    /// Forgets every flag, as the interner forgets its paths.
    mutating func removeAll() {
        flags.removeAll(keepingCapacity: true)
    }
}

extension PathFlags {
    /// Whether path `id` of `paths` is an asset (`AssetExtensions.matches`).
    ///
    /// `paths` is `inout` only so that it is read in place: passed by value from a stored property of a class (a
    /// batch, a partition), it was copied first, a retain and a release of each of its arrays for every new path
    /// of every batch (1% of an ingest's instructions).
    @inline(__always)
    mutating func isAsset(_ id: Int32, of paths: inout ByteInterner, assets: AssetExtensions) -> Bool {
        flag(of: id) ?? learn(upTo: id, of: paths) { assets.matches(path: $0) }
    }
}

/// The stored host ids of recent referrers, in a direct-mapped table of their whole bytes: a repeated referrer
/// (most are) costs a hash and a comparison instead of `ReferrerHost.extract` and the host's interning.
///
/// The ids are those of one interner; `removeAll()` must go with the interner's. Referrers longer than
/// `maximumLength` bytes are not remembered. The result is always what the extraction gives: an entry holds the
/// referrer's bytes and is used only when they are equal.
struct ReferrerHostCache {
    private static let slotBits: UInt64 = 11
    private static let maximumLength = 96
    /// Per slot: the length of the referrer held (-1: none), its host id, and its bytes at `slot * maximumLength`.
    private var lengths = [Int32](repeating: -1, count: 1 << Int(slotBits))
    private var hostIds = [Int32](repeating: 0, count: 1 << Int(slotBits))
    private var bytes = [UInt8](repeating: 0, count: (1 << Int(slotBits)) * maximumLength)
    private let seed = UInt64.random(in: .min ... .max)

    /// The host id of `referrer`: remembered, or made by `make` and remembered.
    @inline(__always)
    mutating func hostId(of referrer: UnsafeRawBufferPointer, make: () -> Int32) -> Int32 {
        let length = referrer.count
        guard length <= Self.maximumLength else { return make() }
        let slot = Int(truncatingIfNeeded: ByteInterner.hash(referrer, seed: seed) >> (64 - Self.slotBits))
        let start = slot * Self.maximumLength
        if lengths[slot] == Int32(length),
            bytes.withUnsafeBytes({ held in
                // Safe because a slot holds `maximumLength` bytes and `length` is at most that.
                length == 0 || memcmp(held.baseAddress! + start, referrer.baseAddress!, length) == 0
            })
        {
            return hostIds[slot]
        }
        let id = make()
        lengths[slot] = Int32(length)
        hostIds[slot] = id
        bytes.withUnsafeMutableBytes { held in
            // Safe because a slot holds `maximumLength` bytes and `length` is at most that.
            if length > 0 { (held.baseAddress! + start).copyMemory(from: referrer.baseAddress!, byteCount: length) }
        }
        return id
    }

    /// Forgets every referrer, as the interner forgets its hosts.
    mutating func removeAll() {
        lengths.withUnsafeMutableBufferPointer { $0.update(repeating: -1) }
    }
}
