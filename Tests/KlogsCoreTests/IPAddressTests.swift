import KlogsCore
import Testing

@Suite("IP addresses")
struct IPAddressTests {
    @Test("Valid addresses parse to their canonical text", arguments: [
        ("1.2.3.4", "1.2.3.4", IPAddress.Family.ipv4),
        ("0.0.0.0", "0.0.0.0", .ipv4),
        ("255.255.255.255", "255.255.255.255", .ipv4),
        ("1.2.3.4:5678", "1.2.3.4", .ipv4),
        ("::ffff:1.2.3.4", "1.2.3.4", .ipv4),
        ("::FFFF:102:304", "1.2.3.4", .ipv4),
        ("[::ffff:1.2.3.4]:80", "1.2.3.4", .ipv4),
        ("::1", "::1", .ipv6),
        ("::", "::", .ipv6),
        ("[::1]", "::1", .ipv6),
        ("[::1]:443", "::1", .ipv6),
        ("fe80::1%eth0", "fe80::1", .ipv6),
        ("[fe80::1%25eth0]:8080", "fe80::1", .ipv6),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1", .ipv6),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", .ipv6),
        ("2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1", .ipv6),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1", .ipv6),
        ("2001:db8::", "2001:db8::", .ipv6),
        ("1::", "1::", .ipv6),
        ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8", .ipv6),
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0", .ipv6),
        ("2a02:cf40:10ff:f00f:0000:0000:0:8000", "2a02:cf40:10ff:f00f::8000", .ipv6),
        ("2001:41d0:8:e8ad::1", "2001:41d0:8:e8ad::1", .ipv6),
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221", .ipv6),
        ("::192.0.2.33", "::c000:221", .ipv6),
    ])
    func valid(input: String, canonical: String, family: IPAddress.Family) throws {
        let address = try #require(IPAddress(input))
        #expect(address.text == canonical)
        #expect(address.family == family)
        #expect(IPAddress(canonical) == address)
    }

    @Test("Host names, tokens and broken addresses are not addresses", arguments: [
        "", "-", "unix:", "localhost", "unicomp6.unicomp.net", "monitoring-server", "1.2.3", "1.2.3.4.5",
        "256.1.1.1", "01.2.3.4", "1.2.3.04", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:x", " 1.2.3.4", "1.2.3.4 ",
        ":", ":::", "1:2", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "12345::", "::g", "1:",
        ":1", "fe80::1%", "[::1", "[::1]x", "[::1]:", "[::1]:99999", "[1.2.3.4]:80x", "::ffff:1.2.3.256",
        "1:2:3:4:5:6:7:1.2.3.4", "cafe.babe", "dead:beef",
    ])
    func invalid(input: String) {
        #expect(IPAddress(input) == nil)
    }

    @Test("IPv4 truncation keeps the first bits for every prefix length 0...32")
    func ipv4Truncation() throws {
        let address = try #require(IPAddress("203.0.113.255"))
        let value: UInt32 = 0xCB00_71FF
        for prefix in 0...32 {
            let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix)
            let network = address.truncated(toPrefixLength: prefix)
            #expect(network.ipv4 == value & mask, "/\(prefix)")
            #expect(network.family == .ipv4)
        }
        #expect(address.networkText(prefixLength: 24) == "203.0.113.0/24")
        #expect(address.networkText(prefixLength: 16) == "203.0.0.0/16")
        #expect(address.networkText(prefixLength: 0) == "0.0.0.0/0")
        #expect(address.networkText(prefixLength: 32) == "203.0.113.255/32")
        #expect(try #require(IPAddress("::ffff:203.0.113.9")).networkText(prefixLength: 24) == "203.0.113.0/24")
    }

    @Test("IPv6 truncation keeps the first bits for every prefix length 0...128")
    func ipv6Truncation() throws {
        let address = try #require(IPAddress("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))
        for prefix in 0...128 {
            let network = address.truncated(toPrefixLength: prefix)
            let ones = network.high.nonzeroBitCount + network.low.nonzeroBitCount
            #expect(ones == prefix, "/\(prefix)")
            // The kept bits are the leading ones.
            let bits = (0..<128).map { index in
                index < 64 ? network.high >> (63 - index) & 1 : network.low >> (127 - index) & 1
            }
            #expect(bits == (0..<128).map { $0 < prefix ? 1 : 0 }, "/\(prefix)")
        }
        let documentation = try #require(IPAddress("2001:db8:1:2:3:4:5:6"))
        #expect(documentation.networkText(prefixLength: 48) == "2001:db8:1::/48")
        #expect(documentation.networkText(prefixLength: 64) == "2001:db8:1:2::/64")
        #expect(documentation.networkText(prefixLength: 56) == "2001:db8:1::/56")
        #expect(documentation.networkText(prefixLength: 0) == "::/0")
        #expect(documentation.networkText(prefixLength: 128) == "2001:db8:1:2:3:4:5:6/128")
        #expect(try #require(IPAddress("2001:db8:1:ab:cd::")).networkText(prefixLength: 60) == "2001:db8:1:a0::/60")
    }

    @Test("Canonical bytes are the 16 network-order bytes, IPv4 mapped")
    func canonicalBytes() throws {
        let v4 = try #require(IPAddress("1.2.3.4"))
        #expect(v4.withCanonicalBytes(Array.init) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 1, 2, 3, 4])
        let v6 = try #require(IPAddress("2001:db8::ff"))
        #expect(v6.withCanonicalBytes(Array.init) == [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff])
    }
}
