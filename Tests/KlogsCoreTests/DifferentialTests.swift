import Foundation
import KlogsCore
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small deterministic generator (SplitMix64) so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Differential and robustness checks")
struct DifferentialTests {
    /// The 16 bytes libc's `inet_pton` gives for `text` (IPv4 mapped), or `nil` when it rejects it.
    func libcAddress(_ text: String) -> [UInt8]? {
        var v6 = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET6, text, &v6) == 1 { return v6 }
        var v4 = [UInt8](repeating: 0, count: 4)
        if inet_pton(AF_INET, text, &v4) == 1 { return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] + v4 }
        return nil
    }

    func libcText(_ bytes: [UInt8]) -> String {
        var output = [CChar](repeating: 0, count: 64)
        _ = inet_ntop(AF_INET6, bytes, &output, 64)
        return String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @Test("IP parsing agrees with libc inet_pton on 200,000 generated strings, and formatting with inet_ntop")
    func ipAgainstLibc() throws {
        var random = SeededGenerator(state: 42)
        let alphabet = Array("0123456789abcdefABCDEF:.".utf8) + Array("0:::..1f".utf8)
        var accepted = 0
        for round in 0..<200_000 {
            var text: String
            if round % 2 == 0 {
                // Mostly valid shapes: eight random groups with runs of zeros, some compressed by hand.
                var groups = (0..<8).map { _ in Bool.random(using: &random) ? "0" : String(UInt16.random(in: 0...0xFFFF, using: &random), radix: 16) }
                if Bool.random(using: &random) {
                    let start = Int.random(in: 0..<8, using: &random)
                    let length = Int.random(in: 1...(8 - start), using: &random)
                    groups.replaceSubrange(start..<(start + length), with: [""])
                    if groups.first == "" { groups.insert("", at: 0) }
                    if groups.last == "" { groups.append("") }
                }
                text = groups.joined(separator: ":")
                if round % 10 == 0 { text = "\(Int.random(in: 0...300, using: &random)).\(Int.random(in: 0...255, using: &random)).1.\(Int.random(in: 0...256, using: &random))" }
            } else {
                let length = Int.random(in: 0...20, using: &random)
                text = String(decoding: (0..<length).map { _ in alphabet.randomElement(using: &random)! }, as: UTF8.self)
            }
            let ours = IPAddress(text)
            let theirs = libcAddress(text)
            #expect(ours?.withCanonicalBytes(Array.init) == theirs, "\(text)")
            if let ours, let theirs {
                accepted += 1
                if ours.family == .ipv6 && theirs[0..<10].contains(where: { $0 != 0 }) {
                    #expect(ours.text == libcText(theirs), "\(text)")
                }
            }
        }
        #expect(accepted > 50_000)
    }

    @Test("The parser never traps on random bytes or on mutated real lines, at every chunk size")
    func parserRobustness() throws {
        var random = SeededGenerator(state: 7)
        let sample = try corpusBytes("logs/elastic-examples/apache_logs").prefix(200_000)
        var input: [UInt8] = []
        for byte in sample {
            switch UInt8.random(in: 0...255, using: &random) {
            case 0: input.append(UInt8(ascii: "\""))
            case 1: input.append(UInt8(ascii: "\\"))
            case 2: input.append(UInt8.random(in: 0...255, using: &random))
            case 3: continue
            case 4: input.append(UInt8(ascii: "\n"))
            default: input.append(byte)
            }
        }
        for _ in 0..<20_000 { input.append(UInt8.random(in: 0...255, using: &random)) }
        for format in LogFormat.allCases {
            let reference = parseStream(input, format: format, chunkSize: nil, maximumLineLength: 4096)
            #expect(reference.contains { $0.parsed != nil } || format == .virtualHostCombined)
            #expect(reference.contains { $0.parsed == nil })
            for size in [1, 7, 4096] {
                #expect(parseStream(input, format: format, chunkSize: size, maximumLineLength: 4096) == reference)
            }
        }
    }

    @Test("Common-log times agree with Foundation's calendar on 20,000 random instants")
    func timesAgainstFoundation() {
        var random = SeededGenerator(state: 1970)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for _ in 0..<20_000 {
            let seconds = Int64.random(in: -2_000_000_000...250_000_000_000, using: &random)
            let offset = Int.random(in: -(12 * 60)...(14 * 60), using: &random)
            let local = Date(timeIntervalSince1970: TimeInterval(seconds + Int64(offset) * 60))
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: local)
            let text = String(format: "%02d/%@/%04d:%02d:%02d:%02d %@%02d%02d", parts.day!, months[parts.month! - 1],
                parts.year!, parts.hour!, parts.minute!, parts.second!, offset < 0 ? "-" : "+", abs(offset) / 60, abs(offset) % 60)
            let parsed = Array(text.utf8).withUnsafeBytes { Timestamp.parseCommonLog($0) }
            #expect(parsed == seconds * 1000, "\(text)")
            #expect(Timestamp.dateText(seconds * 1000) == {
                let utc = calendar.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: TimeInterval(seconds)))
                return String(format: "%04d-%02d-%02d", utc.year!, utc.month!, utc.day!)
            }())
        }
    }

    @Test("ISO 8601 times agree with Foundation's formatter on 20,000 random instants")
    func dateTimesAgainstFoundation() {
        var random = SeededGenerator(state: 8601)
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        for _ in 0..<20_000 {
            let milliseconds = Int64.random(in: 0...253_402_300_799_999, using: &random)
            let date = Date(timeIntervalSince1970: TimeInterval(milliseconds / 1000))
            #expect(Timestamp.dateTimeText(milliseconds) == formatter.string(from: date), "\(milliseconds)")
        }
        #expect(Timestamp.dateTimeText(-1) == "1969-12-31T23:59:59Z")
    }
}
