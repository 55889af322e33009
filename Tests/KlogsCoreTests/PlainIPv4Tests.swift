import Testing

@testable import KlogsCore

@Suite("The word-at-a-time IPv4 parser")
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
            samples.append("\(state % 300).\((state >> 8) % 300).\((state >> 16) % 300).\((state >> 24) % 300)")
        }
        for sample in samples {
            Array(sample.utf8).withUnsafeBytes { bytes in
                #expect(IPAddress.parsePlainIPv4(bytes) == IPAddress.parseIPv4(bytes, 0, bytes.count), "\(sample)")
            }
        }
    }

    @Test("Every combination of part shapes agrees too, read from a buffer of exactly its size")
    func agreesOnEveryPartShape() {
        // Parts of every length from 0 to 4, with and without leading zeros, at and beyond 255.
        let parts = ["", "0", "00", "7", "07", "10", "99", "000", "012", "100", "255", "256", "299", "999", "1000"]
        var checked = 0
        var accepted = 0
        for a in parts {
            for b in parts {
                for c in parts {
                    for d in parts {
                        let address = "\(a).\(b).\(c).\(d)"
                        // The address alone, and with a byte before or after it that is not part of an address.
                        for sample in [address, address + "x", "/" + address, address + "."] {
                            let bytes = Array(sample.utf8)
                            // Copied to a buffer of exactly its size: a read past the end would be caught by the
                            // address sanitizer (`make test-asan`).
                            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
                            defer { buffer.deallocate() }
                            buffer.copyBytes(from: bytes)
                            let view = UnsafeRawBufferPointer(buffer)
                            let expected = IPAddress.parseIPv4(view, 0, view.count)
                            #expect(IPAddress.parsePlainIPv4(view) == expected, "\(sample)")
                            checked += 1
                            if expected != nil { accepted += 1 }
                        }
                    }
                }
            }
        }
        #expect(checked == 4 * 15 * 15 * 15 * 15)
        #expect(accepted == 6 * 6 * 6 * 6)  // 0, 7, 10, 99, 100 and 255, bare: the parts without a leading zero
    }

    @Test("Any byte in any position, control and non-ASCII bytes included, is judged as the general parser judges it")
    func agreesOnEveryByteInEveryPosition() {
        // The shortest and longest addresses and one between; the word-at-a-time classification must treat every
        // byte value (0x00, 0x2F and 0x3A around the digits, 0xAE and 0xB0 to 0xB9, which differ from a dot or a
        // digit only in the top bit) as the byte loop does.
        for address in ["1.2.3.4", "10.20.30.40", "192.168.100.200", "255.255.255.255"] {
            let original = Array(address.utf8)
            for position in original.indices {
                for byte in UInt8.min...UInt8.max {
                    var bytes = original
                    bytes[position] = byte
                    bytes.withUnsafeBytes { view in
                        #expect(
                            IPAddress.parsePlainIPv4(view) == IPAddress.parseIPv4(view, 0, view.count),
                            "\(address) with byte \(byte) at \(position)")
                    }
                }
            }
        }
    }
}
