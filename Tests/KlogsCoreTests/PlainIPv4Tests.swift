import Testing

@testable import KlogsCore

@Suite("The one-pass IPv4 parser")
struct PlainIPv4Tests {
    @Test("It accepts exactly what the general IPv4 parser accepts, with the same value")
    func agreesWithTheGeneralParser() {
        var samples = [
            "0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "1.2.3.0",
            "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4:80", "1234.1.1.1", "", "1", "::1", "1.2.3.4 ", "203.0.113.7",
        ]
        // Seeded strings over the characters of addresses, so that near misses are common.
        var state: UInt64 = 42
        let alphabet = Array("0123456789..:a")
        for _ in 0..<20_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let length = Int(state >> 60) + 3
            var text = ""
            for position in 0..<length {
                text.append(alphabet[Int((state >> UInt64(4 * (position % 15))) % UInt64(alphabet.count))])
            }
            samples.append(text)
            state = state &* 6_364_136_223_846_793_005 &+ 1
            samples.append("\(state % 300).\(state >> 8 % 300).\(state >> 16 % 300).\(state >> 24 % 300)")
        }
        for sample in samples {
            Array(sample.utf8).withUnsafeBytes { bytes in
                #expect(IPAddress.parsePlainIPv4(bytes) == IPAddress.parseIPv4(bytes, 0, bytes.count), "\(sample)")
            }
        }
    }
}
