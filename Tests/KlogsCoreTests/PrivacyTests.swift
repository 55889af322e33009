import KlogsCore
import Testing

/// Runs `body` with the UTF-8 bytes of `text`.
private func withBytes<R>(_ text: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    var copy = text
    return copy.withUTF8 { body(UnsafeRawBufferPointer($0)) }
}

private func describe(_ identity: ClientIdentity) -> String {
    switch identity {
    case .address(let address): address.text
    case .token(let token): "token:" + String(decoding: token, as: UTF8.self)
    }
}

@Suite("Privacy: truncation, trusted proxies, X-Forwarded-For, stored paths, masking")
struct PrivacyTests {
    @Test(
        "Truncation of logged spellings to networks",
        arguments: [
            ("203.0.113.77", 24, 48, "203.0.113.0/24"),
            ("203.0.113.77:51234", 24, 48, "203.0.113.0/24"),
            ("::ffff:203.0.113.77", 24, 48, "203.0.113.0/24"),
            ("[::ffff:203.0.113.77]:443", 16, 48, "203.0.0.0/16"),
            ("::FFFF:CB00:714D", 8, 48, "203.0.0.0/8"),
            ("203.0.113.77", 32, 48, "203.0.113.77/32"),
            ("203.0.113.77", 0, 48, "0.0.0.0/0"),
            ("2001:db8:abcd:12:1:2:3:4", 24, 48, "2001:db8:abcd::/48"),
            ("2001:DB8:ABCD:0012::1", 24, 56, "2001:db8:abcd::/56"),
            ("2001:db8:abcd:1234::1", 24, 56, "2001:db8:abcd:1200::/56"),
            ("fe80::1ff:fe23:4567:890a%eth0", 24, 64, "fe80::/64"),
            ("[fe80::1%25en0]:8080", 24, 10, "fe80::/10"),
            ("::1", 24, 128, "::1/128"),
            ("::", 24, 0, "::/0"),
            ("2001:8db8::1", 24, 17, "2001:8000::/17"),
            ("64:ff9b::192.0.2.33", 24, 96, "64:ff9b::/96"),
        ])
    func truncation(input: String, ipv4Prefix: Int, ipv6Prefix: Int, expected: String) throws {
        let address = try #require(IPAddress(input))
        let prefix = address.family == .ipv4 ? ipv4Prefix : ipv6Prefix
        #expect(address.networkText(prefixLength: prefix) == expected)
    }

    @Test(
        "Invalid client fields have no network",
        arguments: [
            "-", "unix:", "", "unicomp6.unicomp.net", "localhost", "unknown", "1.2.3.4.5", "::ffff:1.2.3.999",
            "fe80::1%", "[::1", "203.0.113.7,",
        ])
    func invalidClients(input: String) {
        #expect(IPAddress(input) == nil)
        #expect(withBytes(input) { describe(ClientIdentity($0)) } == "token:" + input)
    }

    @Test(
        "Networks in CIDR notation",
        arguments: [
            ("10.0.0.0/8", "10.255.1.2", true),
            ("10.0.0.0/8", "11.0.0.1", false),
            ("10.1.2.3/8", "10.9.9.9", true),
            ("10.0.0.0/8", "::ffff:10.1.1.1", true),
            ("10.0.0.0/8", "::a01:101", false),
            ("192.168.1.7", "192.168.1.7", true),
            ("192.168.1.7", "192.168.1.8", false),
            ("0.0.0.0/0", "8.8.8.8", true),
            ("0.0.0.0/0", "2001:db8::1", false),
            ("2001:db8::/32", "2001:db8:ffff::1", true),
            ("2001:db8::/32", "2001:db9::1", false),
            ("::/0", "2001:db8::1", true),
            ("fd00::/8", "fdff::1", true),
            ("2001:db8::1/128", "2001:db8::1", true),
            ("2001:db8::1/127", "2001:db8::", true),
        ])
    func networks(network: String, address: String, contained: Bool) throws {
        let prefix = try #require(NetworkPrefix(network))
        #expect(prefix.contains(try #require(IPAddress(address))) == contained)
    }

    @Test(
        "Malformed networks are refused",
        arguments: [
            "10.0.0.0/33", "2001:db8::/129", "10.0.0.0/", "/8", "10.0.0/8", "10.0.0.0/8/8", "host/8", "10.0.0.0/-1",
            "10.0.0.0/ 8",
        ])
    func malformedNetworks(text: String) {
        #expect(NetworkPrefix(text) == nil)
    }

    @Test("A list of networks reports its first bad entry")
    func networkLists() throws {
        guard case .success(let list) = NetworkPrefix.parseList("10.0.0.0/8, 192.168.0.0/16,::1") else {
            Issue.record("a valid list was refused")
            return
        }
        #expect(list.map(\.description) == ["10.0.0.0/8", "192.168.0.0/16", "::1/128"])
        guard case .failure(let entry) = NetworkPrefix.parseList("10.0.0.0/8,nope") else {
            Issue.record("an invalid list was accepted")
            return
        }
        #expect(entry.text == "nope")
    }

    static let proxies = ["10.0.0.0/8", "192.168.0.0/16", "2001:db8:ffff::/48"]

    @Test(
        "X-Forwarded-For: the right-most address that is not a trusted proxy",
        arguments: [
            // (chain, peer, expected)
            ("203.0.113.7", nil, "203.0.113.7"),
            ("203.0.113.7, 10.0.0.1", nil, "203.0.113.7"),
            ("203.0.113.7,10.0.0.1,10.0.0.2", nil, "203.0.113.7"),
            // A client that sends its own X-Forwarded-For cannot choose its address: the spoofed left-most is skipped.
            ("1.1.1.1, 203.0.113.7, 10.0.0.1", nil, "203.0.113.7"),
            ("6.6.6.6, 7.7.7.7, 198.51.100.20", nil, "198.51.100.20"),
            ("spoofed, 203.0.113.7, 10.0.0.1", nil, "203.0.113.7"),
            // The peer comes last in the chain.
            ("203.0.113.7", "10.0.0.1", "203.0.113.7"),
            ("1.1.1.1, 203.0.113.7", "192.168.1.1", "203.0.113.7"),
            ("203.0.113.7", "198.51.100.1", "198.51.100.1"),
            ("-", "198.51.100.1", "198.51.100.1"),
            ("", "198.51.100.1", "198.51.100.1"),
            // Every hop trusted: the left-most one.
            ("10.0.0.5, 10.0.0.1", nil, "10.0.0.5"),
            ("10.0.0.5", "10.0.0.1", "10.0.0.5"),
            // Addresses with ports, brackets, IPv6 and IPv4-mapped.
            ("203.0.113.7:51000, 10.0.0.1:80", nil, "203.0.113.7"),
            ("[2001:db8:1::7]:443, 2001:db8:ffff::1", nil, "2001:db8:1::7"),
            ("2001:db8:1::7, ::ffff:10.0.0.1", nil, "2001:db8:1::7"),
            // An entry that is not an address ends the walk: the client is invalid.
            ("203.0.113.7, unknown, 10.0.0.1", nil, "token:unknown"),
            ("203.0.113.7, unix:", nil, "token:unix:"),
            ("unknown", "10.0.0.1", "token:unknown"),
            ("", nil, "token:"),
        ] as [(String, String?, String)])
    func forwardedFor(chain: String, peer: String?, expected: String) throws {
        let selector = ForwardedClientSelector(
            trustedProxies: try Self.proxies.map { try #require(NetworkPrefix($0)) })
        let result = withBytes(chain) { chainBytes in
            if let peer {
                return withBytes(peer) { describe(selector.select(forwardedFor: chainBytes, peer: $0)) }
            }
            return describe(selector.select(forwardedFor: chainBytes, peer: nil))
        }
        #expect(result == expected)
    }

    @Test("Without trusted proxies the right-most entry is the client")
    func noTrustedProxies() {
        let selector = ForwardedClientSelector(trustedProxies: [])
        let result = withBytes("1.1.1.1, 203.0.113.7, 10.0.0.1") {
            describe(selector.select(forwardedFor: $0, peer: nil))
        }
        #expect(result == "10.0.0.1")
    }

    @Test("The list logged in the client field is found whole")
    func clientFieldList() throws {
        var parser = AccessLogParser(format: .combined)
        var record = AccessRecord()
        let line = "10.0.0.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 +0100] \"GET / HTTP/1.1\" 200 5 \"-\" \"x\""
        let list = withBytes(line) { bytes -> String in
            #expect(parser.parse(bytes, into: &record) == nil)
            return String(decoding: ForwardedClientSelector.clientList(of: record), as: UTF8.self)
        }
        #expect(list == "10.0.0.2, 10.0.0.1, 127.0.0.1")
        let single = "203.0.113.7 - - [07/Dec/2016:11:05:07 +0100] \"GET / HTTP/1.1\" 200 5 \"-\" \"x\""
        let one = withBytes(single) { bytes -> String in
            #expect(parser.parse(bytes, into: &record) == nil)
            return String(decoding: ForwardedClientSelector.clientList(of: record), as: UTF8.self)
        }
        #expect(one == "203.0.113.7")
    }

    @Test(
        "Address-like text is masked",
        arguments: [
            ("/lookup/203.0.113.77", "/lookup/:ip"),
            ("/lookup/203.0.113.77/details", "/lookup/:ip/details"),
            ("/ip-203.0.113.77.html", "/ip-:ip.html"),
            ("/x1203.0.113.77", "/x:ip"),
            ("/v/2001:db8::77", "/v/:ip"),
            ("/v/[2001:db8::77]/x", "/v/[:ip]/x"),
            ("/v/::ffff:203.0.113.77", "/v/:ip"),
            ("/a/203.0.113.77:8080", "/a/:ip:8080"),
            ("/static/app.1234.js", "/static/app.1234.js"),
            ("/v1.2.3/page", "/v1.2.3/page"),
            ("/2026/11/22/post", "/2026/11/22/post"),
            ("/a:b/c", "/a:b/c"),
            ("/", "/"),
        ])
    func masking(input: String, expected: String) {
        var output: [UInt8] = []
        let count = withBytes(input) {
            AddressMasking.mask($0, marker: AddressMasking.pathMarker, appendingTo: &output)
        }
        #expect(String(decoding: output, as: UTF8.self) == expected)
        #expect(withBytes(input) { AddressMasking.containsAddress($0) } == (count > 0))
        #expect((count > 0) == (input != expected))
    }

    @Test(
        "The address check agrees with masking wherever the separators fall in the eight-byte words",
        arguments: ["1.2.3.4", "fe80::1", "1.2.3", "a:b", "9.x/9.y/9.z", ":/:", "..:.", "2001:db8::1.2.3.4"])
    func addressCheckAtEveryOffset(core: String) {
        for before in 0...17 {
            for after in 0...17 {
                let input = "/" + String(repeating: "p", count: before) + "/" + core + "/"
                    + String(repeating: "q", count: after)
                var output: [UInt8] = []
                let masked = withBytes(input) {
                    AddressMasking.mask($0, marker: AddressMasking.pathMarker, appendingTo: &output)
                }
                let found = withBytes(input) { AddressMasking.containsAddress($0) }
                #expect(found == (masked > 0), "\(input)")
                #expect(found == ["1.2.3.4", "fe80::1", "2001:db8::1.2.3.4"].contains(core), "\(input)")
            }
        }
    }

    @Test("Messages lose addresses and query strings")
    func messages() {
        #expect(AddressMasking.maskMessage("access-203.0.113.7.log: cannot read") == "access-[ip].log: cannot read")
        #expect(AddressMasking.maskMessage("GET /a?token=secret&b=1 failed") == "GET /a?… failed")
        #expect(AddressMasking.maskMessage("is it? yes") == "is it? yes")
        #expect(AddressMasking.maskMessage("fe80::1 and 2001:db8::1") == "[ip] and [ip]")
    }

    @Test(
        "Stored paths keep only the listed query parameters",
        arguments: [
            ("/p", "utm_source=news&email=a@b.c&utm_medium=mail", "/p?utm_source=news&utm_medium=mail"),
            ("/p", "email=a@b.c", "/p"),
            ("/p", "", "/p"),
            ("/p", "utm_source", "/p?utm_source"),
            ("/p", "UTM_SOURCE=x", "/p"),
            ("/p", "utm_source=203.0.113.7", "/p?utm_source=:ip"),
            ("/p", "a=1&&utm_medium=x&", "/p?utm_medium=x"),
            ("/u/203.0.113.7", "q=1", "/u/:ip"),
        ])
    func queries(path: String, query: String, expected: String) {
        let filter = StoredPath(keptQueryParameters: ["utm_source", "utm_medium"])
        var output: [UInt8] = []
        withBytes(path) { pathBytes in
            withBytes(query) { queryBytes in
                _ = filter.write(path: pathBytes, query: queryBytes, into: &output)
            }
        }
        #expect(String(decoding: output, as: UTF8.self) == expected)
    }

    @Test("Paths are capped without splitting a UTF-8 sequence or a percent escape")
    func capping() {
        let filter = StoredPath(maximumLength: 10)
        func stored(_ path: String) -> String {
            var output: [UInt8] = []
            let changes = withBytes(path) { filter.write(path: $0, query: nil, into: &output) }
            #expect(changes.contains(.truncated) == (path.utf8.count > 10))
            return String(decoding: output, as: UTF8.self)
        }
        #expect(stored("/abcdefghijklmnop") == "/abcdefghi")
        #expect(stored("/abcdefgh%41bc") == "/abcdefgh")
        #expect(stored("/abcdefg%41bc") == "/abcdefg")
        #expect(stored("/abcdef%41bc") == "/abcdef%41")
        #expect(stored("/abcdefgéé") == "/abcdefgé")
        #expect(stored("/abcdefghé") == "/abcdefgh")
        #expect(stored("/short") == "/short")
        #expect(withBytes("/short") { filter.isUnchanged(path: $0, query: nil) })
    }
}
