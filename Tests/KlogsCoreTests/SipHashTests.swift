import KlogsCore
import Testing

@Suite("SipHash and visitor pseudonyms")
struct SipHashTests {
    /// The 64 SipHash-2-4 outputs of the reference implementation's `vectors.h` (the paper's appendix), as the
    /// output bytes in order: key 00 01 … 0f, message 00 01 … (n-1) for n = 0…63.
    static let vectors: [String] = [
        "310e0edd47db6f72", "fd67dc93c539f874", "5a4fa9d909806c0d", "2d7efbd796666785",
        "b7877127e09427cf", "8da699cd64557618", "cee3fe586e46c9cb", "37d1018bf50002ab",
        "6224939a79f5f593", "b0e4a90bdf82009e", "f3b9dd94c5bb5d7a", "a7ad6b22462fb3f4",
        "fbe50e86bc8f1e75", "903d84c02756ea14", "eef27a8e90ca23f7", "e545be4961ca29a1",
        "db9bc2577fcc2a3f", "9447be2cf5e99a69", "9cd38d96f0b3c14b", "bd6179a71dc96dbb",
        "98eea21af25cd6be", "c7673b2eb0cbf2d0", "883ea3e395675393", "c8ce5ccd8c030ca8",
        "94af49f6c650adb8", "eab8858ade92e1bc", "f315bb5bb835d817", "adcf6b0763612e2f",
        "a5c91da7acaa4dde", "716595876650a2a6", "28ef495c53a387ad", "42c341d8fa92d832",
        "ce7cf2722f512771", "e37859f94623f3a7", "381205bb1ab0e012", "ae97a10fd434e015",
        "b4a31508beff4d31", "81396229f0907902", "4d0cf49ee5d4dcca", "5c73336a76d8bf9a",
        "d0a704536ba93e0e", "925958fcd6420cad", "a915c29bc8067318", "952b79f3bc0aa6d4",
        "f21df2e41d4535f9", "87577519048f53a9", "10a56cf5dfcd9adb", "eb75095ccd986cd0",
        "51a9cb9ecba312e6", "96afadfc2ce666c7", "72fe52975a4364ee", "5a1645b276d592a1",
        "b274cb8ebf87870a", "6f9bb4203de7b381", "eaecb2a30b22a87f", "9924a43cc1315724",
        "bd838d3aafbf8db7", "0b1a2a3265d51aea", "135079a3231ce660", "932b2846e4d70666",
        "e1915f5cb1eca46c", "f325965ca16d629f", "575ff28e60381be5", "724506eb4c328a95",
    ]

    /// The output bytes, read little-endian as SipHash defines its 64-bit result.
    static func expected(_ index: Int) -> UInt64 {
        let hex = Array(vectors[index].utf8)
        var value: UInt64 = 0
        for byteIndex in 0..<8 {
            let byte = UInt64(String(decoding: hex[(2 * byteIndex)..<(2 * byteIndex + 2)], as: UTF8.self), radix: 16)!
            value |= byte << (8 * byteIndex)
        }
        return value
    }

    static let key = SipHashKey(bytes: 0..<16)!

    @Test("All 64 reference vectors match, in one piece, two pieces and byte by byte", arguments: 0..<64)
    func referenceVector(length: Int) {
        let message = (0..<length).map { UInt8($0) }
        let expected = Self.expected(length)
        #expect(message.withUnsafeBytes { SipHasher.hash($0, key: Self.key) } == expected)
        for split in [0, 1, 3, length / 2, max(length - 1, 0), length] where split <= length {
            var hasher = SipHasher(key: Self.key)
            message.withUnsafeBytes {
                hasher.append(UnsafeRawBufferPointer(rebasing: $0[0..<split]))
                hasher.append(UnsafeRawBufferPointer(rebasing: $0[split...]))
            }
            #expect(hasher.finalize() == expected, "split at \(split)")
        }
        var bytewise = SipHasher(key: Self.key)
        for byte in message { bytewise.append(byte) }
        #expect(bytewise.finalize() == expected)
    }

    @Test("Keys round-trip through their 16 bytes")
    func keyBytes() {
        #expect(Self.key.k0 == 0x0706_0504_0302_0100 && Self.key.k1 == 0x0f0e_0d0c_0b0a_0908)
        #expect(Self.key.bytes == Array(0..<16))
        #expect(SipHashKey(bytes: [1, 2, 3]) == nil)
    }

    /// A stand-in for the user-agent fingerprint (FNV-1a): the pseudonym takes any 64-bit fingerprint.
    static func fingerprint(_ agent: String) -> UInt64 {
        agent.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }

    func pseudonym(_ client: String, _ agent: String, _ host: String? = nil, key: SipHashKey = key) -> Int64 {
        let pseudonyms = VisitorPseudonym(key: key)
        let fingerprint = Self.fingerprint(agent)
        return Array(client.utf8).withUnsafeBytes { clientBytes in
            if let host {
                return Array(host.utf8).withUnsafeBytes {
                    pseudonyms.pseudonym(
                        client: ClientIdentity(clientBytes), userAgentFingerprint: fingerprint, virtualHost: $0)
                }
            }
            return pseudonyms.pseudonym(client: ClientIdentity(clientBytes), userAgentFingerprint: fingerprint)
        }
    }

    @Test("Pseudonyms depend on the canonical address, the user agent, the host and the key")
    func pseudonyms() {
        let base = pseudonym("203.0.113.7", "Mozilla/5.0")
        #expect(pseudonym("203.0.113.7", "Mozilla/5.0") == base)
        #expect(pseudonym("::ffff:203.0.113.7", "Mozilla/5.0") == base)
        #expect(pseudonym("203.0.113.7:5678", "Mozilla/5.0") == base)
        #expect(pseudonym("2001:db8::1", "x") == pseudonym("2001:0DB8:0:0::1", "x"))
        #expect(pseudonym("203.0.113.8", "Mozilla/5.0") != base)
        #expect(pseudonym("203.0.113.7", "Mozilla/5.1") != base)
        #expect(pseudonym("203.0.113.7", "Mozilla/5.0", "a.example") != base)
        #expect(pseudonym("203.0.113.7", "Mozilla/5.0", "") != base)
        #expect(pseudonym("203.0.113.7", "Mozilla/5.0", key: SipHashKey(k0: 1, k1: 2)) != base)
        #expect(pseudonym("203.0.113.7", "Mozilla/5.0", key: SipHashKey(k0: 0x0706_0504_0302_0100, k1: 1)) != base)
        // Tokens that are not addresses are hashed as text; moving bytes between fields changes the value.
        #expect(pseudonym("localhost", "ab") != pseudonym("localhosta", "b"))
        #expect(pseudonym("localhost", "x", "a.example") != pseudonym("localhosta", "x", ".example"))
        #expect(pseudonym("unicomp6.unicomp.net", "x") == pseudonym("unicomp6.unicomp.net", "x"))
        // A virtual host whose bytes spell another field's word is still told apart from that field.
        #expect(pseudonym("203.0.113.7", "x", "") != pseudonym("203.0.113.7", "x"))
    }

    @Test("A pseudonym is SipHash-2-4 of the documented message")
    func pseudonymMessage() {
        func words(_ values: [UInt64]) -> [UInt8] {
            values.flatMap { value in (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        }
        let fingerprint = Self.fingerprint("Mozilla/5.0")
        // 203.0.113.7 as IPv4-mapped IPv6, network order: ::ffff:cb00:7107.
        let address: [UInt8] = Array(repeating: 0, count: 10) + [0xFF, 0xFF, 203, 0, 113, 7]
        let withHost = words([4]) + address + words([fingerprint, 9 | 1 << 63]) + Array("a.example".utf8)
        let withoutHost = words([4]) + address + words([fingerprint, 0])
        let token = words([0, 9]) + Array("localhost".utf8) + words([fingerprint, 0])
        func sipHash(_ message: [UInt8]) -> Int64 {
            Int64(bitPattern: message.withUnsafeBytes { SipHasher.hash($0, key: Self.key) })
        }
        #expect(pseudonym("203.0.113.7", "Mozilla/5.0", "a.example") == sipHash(withHost))
        #expect(pseudonym("203.0.113.7", "Mozilla/5.0") == sipHash(withoutHost))
        #expect(pseudonym("localhost", "Mozilla/5.0") == sipHash(token))
    }

    /// Pseudonyms computed by the first implementation (before the address start was hashed once per key): stored
    /// datasets hold these values, so every later implementation must give them.
    @Test(
        "Pseudonym values are pinned for a fixed key",
        arguments: [
            ("203.0.113.7", "Mozilla/5.0", nil, -3_575_540_002_989_627_141),
            ("2001:db8::1", "curl/8.0", nil, -5_335_439_017_884_964_276),
            ("::", "", nil, 1_103_054_802_426_917_609),
            ("203.0.113.7", "Mozilla/5.0", "a.example", 7_372_112_011_183_209_994),
            ("localhost", "Mozilla/5.0", nil, 3_945_020_310_728_333_294),
        ] as [(String, String, String?, Int64)])
    func pinnedPseudonyms(client: String, agent: String, host: String?, expected: Int64) {
        #expect(pseudonym(client, agent, host) == expected)
        var cache = CachedVisitorPseudonym()
        cache.use(Self.key)
        for _ in 0..<2 {
            let cached = Array(client.utf8).withUnsafeBytes { clientBytes in
                let identity = ClientIdentity(clientBytes)
                guard let host else {
                    return cache.pseudonym(client: identity, userAgentFingerprint: Self.fingerprint(agent))
                }
                return Array(host.utf8).withUnsafeBytes {
                    cache.pseudonym(client: identity, userAgentFingerprint: Self.fingerprint(agent), virtualHost: $0)
                }
            }
            #expect(cached == expected)
        }
    }

    @Test("Finishing with three or four words equals appending them, after whole words or pending bytes")
    func finalizeAppendingWords() {
        let words: [UInt64] = [0x0123_4567_89AB_CDEF, 0, .max, 42]
        for prefixLength in [0, 3, 8, 13, 16] {
            let prefix = (0..<prefixLength).map { UInt8($0) }
            var start = SipHasher(key: Self.key)
            start.append(contentsOf: prefix)
            var appended = start
            for word in words { appended.append(word) }
            #expect(start.finalize(appending: words[0], words[1], words[2], words[3]) == appended.finalize())
            var appendedThree = start
            for word in words.dropFirst() { appendedThree.append(word) }
            #expect(start.finalize(appending: words[1], words[2], words[3]) == appendedThree.finalize())
        }
    }

    @Test("An empty cache matches nothing, not even the all-zero inputs its free slots hold")
    func emptyCacheEntries() {
        let zero = IPAddress(high: 0, low: 0)
        let pseudonyms = VisitorPseudonym(key: Self.key)
        var cache = CachedVisitorPseudonym()
        for key in [Self.key, SipHashKey(k0: 1, k1: 2), Self.key] {
            cache.use(key)
            let expected = VisitorPseudonym(key: key)
            for fingerprint: UInt64 in [0, 1, 0, 1] {
                #expect(
                    cache.pseudonym(client: .address(zero), userAgentFingerprint: fingerprint)
                        == expected.pseudonym(address: zero, userAgentFingerprint: fingerprint))
            }
        }
        // Pinned like the values above: the all-zero address with fingerprints 0 and 1.
        #expect(pseudonyms.pseudonym(address: zero, userAgentFingerprint: 0) == 5_654_189_986_672_699_032)
        #expect(pseudonyms.pseudonym(address: zero, userAgentFingerprint: 1) == 3_414_217_930_242_109_666)
    }

    @Test("The cached pseudonymiser gives VisitorPseudonym's values, across repeats, collisions and key changes")
    func cachedPseudonyms() {
        let clients = (0..<3_000).map { "198.51.\($0 / 200).\($0 % 200)" } + ["2001:db8::7", "localhost"]
        let agents = ["Mozilla/5.0", "curl/8.0", ""]
        let keys = [Self.key, SipHashKey(k0: 1, k1: 2)]
        var cache = CachedVisitorPseudonym()
        #expect(Array("198.51.0.1".utf8).withUnsafeBytes {
            cache.pseudonym(client: ClientIdentity($0), userAgentFingerprint: 1)
        } == nil)
        // Keys switch back and forth; each client comes back several times, most of them from the cache.
        for round in 0..<6 {
            let key = keys[round % 2]
            cache.use(key)
            for (index, client) in clients.enumerated() {
                let agent = agents[(index + round / 2) % agents.count]
                let host: String? = index % 100 == 0 ? "a.example" : nil
                let expected = pseudonym(client, agent, host, key: key)
                let cached = Array(client.utf8).withUnsafeBytes { clientBytes in
                    let identity = ClientIdentity(clientBytes)
                    let fingerprint = Self.fingerprint(agent)
                    guard let host else {
                        return cache.pseudonym(client: identity, userAgentFingerprint: fingerprint)
                    }
                    return Array(host.utf8).withUnsafeBytes {
                        cache.pseudonym(client: identity, userAgentFingerprint: fingerprint, virtualHost: $0)
                    }
                }
                #expect(cached == expected, "round \(round), client \(index)")
            }
        }
        cache.forgetKey()
        #expect(Array("198.51.0.1".utf8).withUnsafeBytes {
            cache.pseudonym(client: ClientIdentity($0), userAgentFingerprint: 1)
        } == nil)
    }
}
