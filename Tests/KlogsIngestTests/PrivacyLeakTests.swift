import Foundation
import KlogsCore
import KlogsParquet
import KlogsTestSupport
import Testing

@testable import KlogsIngest

/// The leak test of issue 3: logs full of canary addresses (as clients, in X-Forwarded-For lists, referrers, paths
/// and query strings), canary user agents and canary query values; no canary may appear in any byte under the
/// data directory, in the summary (text and JSON) or in the reject report, in any mode.
@Suite struct PrivacyLeakTests {
    static let ipv4 = (70...99).map { "198.18.41.\($0)" }
    static let ipv6 = (0x70...0x7f).map { "2001:db8:c0ff:ee::\(String($0, radix: 16))" }
    /// Spellings that are not canonical, and the canonical text a careless writer would produce from them.
    static let otherSpellings = [
        ("2001:0db8:c0ff:00ee:0000:0000:0000:0090", "2001:db8:c0ff:ee::90"),
        ("::ffff:198.18.41.100", "198.18.41.100"),
        ("FD12:3456:789A::9", "fd12:3456:789a::9"),
        ("fe80::c0ff:ee%eth0", "fe80::c0ff:ee"),
    ]
    static let userAgentToken = "zq81x"
    static let queryValue = "canaryqv"

    static func canaryLog() -> String {
        var lines: [String] = []
        func line(_ client: String, _ request: String, _ referrer: String, _ agent: String, day: String = "21") {
            lines.append(
                "\(client) - - [\(day)/Nov/2026:10:00:00 +0000] \"\(request)\" 200 512 \"\(referrer)\" \"\(agent)\"")
        }
        for (index, address) in ipv4.prefix(10).enumerated() {
            let other = ipv4[10 + index]
            let more = ipv4[20 + index]
            line(
                address, "GET /lookup/\(other)?ip=\(more)&utm_source=\(other)&token=\(queryValue)\(index) HTTP/1.1",
                "http://\(other)/from?ip=\(more)",
                "Mozilla/5.0 (X11; Linux x86_64; \(userAgentToken)-\(index); +\(more)) Gecko/20100101 Firefox/115.0")
        }
        for (index, address) in ipv6.prefix(8).enumerated() {
            let other = ipv6[8 + index]
            line(
                address, "GET /v6/\(other)/x?addr=\(other)&q=\(queryValue)v6\(index)#\(queryValue)frag HTTP/2.0",
                "https://[\(other)]:8443/p?q=\(queryValue)ref",
                "Mozilla/5.0 (compatible; \(userAgentToken)\(index)bot/2.\(index))")
        }
        for (spelling, _) in otherSpellings {
            line(spelling, "GET /u/\(spelling) HTTP/1.1", "http://\(ipv4[0]).nip.io/", "curl/8.0 \(userAgentToken)")
        }
        // X-Forwarded-For lists in the client field, with a spoofed left-most entry.
        line("\(ipv4[1]), \(ipv4[2]), 10.0.0.1", "GET /xff HTTP/1.1", "-", "\(userAgentToken)-xff/1.0")
        line("\(ipv6[1]), \(ipv4[3])", "GET /xff HTTP/1.1", "-", "\(userAgentToken)-xff/1.0")
        // Clients that are not addresses, lines that are rejected, malformed requests.
        line("-", "GET /?\(queryValue)=1 HTTP/1.1", "-", userAgentToken)
        line("unix:", "GET / HTTP/1.1", "-", userAgentToken)
        line(ipv4[4], "GET /?ip=\(ipv4[5]) HTTP/1.1", "-", userAgentToken, day: "99")
        line(ipv4[6], "\\x16\\x03\\x01 \(ipv4[7]) \(queryValue)", "-", userAgentToken)
        lines.append("\(ipv4[8]) garbage \(queryValue) \(userAgentToken)")
        lines.append("\(ipv6[2]) - - [21/Nov/2026:10:00:00 +0000] \"GET /?a=\(queryValue) HTTP/1.1\" abc 5 \"-\" \"x\"")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Lines of the `combined-xff` format (nginx combined plus `"$http_x_forwarded_for"`), canaries in every field.
    static func forwardedLog() -> String {
        var lines: [String] = []
        for index in 0..<8 {
            let peer = index % 2 == 0 ? "10.0.0.\(index + 1)" : ipv4[index]
            let chain = index % 3 == 0 ? "\(ipv6[index]), \(ipv4[10 + index])" : "\(ipv4[20 + index]), 10.0.0.9"
            lines.append(
                "\(peer) - - [21/Nov/2026:10:00:00 +0000] \"GET /x/\(ipv4[index])?ip=\(ipv6[8 + index]) HTTP/1.1\" 200 5 "
                    + "\"http://\(ipv4[29 - index])/\" \"Mozilla/5.0 \(userAgentToken)\(index)\" \"\(chain)\"")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static var needles: [String] {
        ipv4 + ipv6 + otherSpellings.flatMap { [$0.0, $0.1] } + [userAgentToken, queryValue]
    }

    @Test(arguments: [
        ("hash", ClientAddressSource.clientField), ("truncate", .clientField), ("drop", .clientField),
        ("hash,truncate", .clientField), ("hash,truncate", .forwardedFor), ("truncate", .forwardedFor),
    ])
    func noCanaryReachesAnyOutputByte(mode: String, source: ClientAddressSource) throws {
        for compression in [ParquetCompression.uncompressed, .lz4Raw] {
            try check(mode: mode, source: source, compression: compression)
        }
        // Canaries in a logged X-Forwarded-For field as well.
        try check(mode: mode, source: source, compression: .uncompressed, forwardedField: true)
    }

    func check(
        mode: String, source: ClientAddressSource, compression: ParquetCompression, forwardedField: Bool = false
    ) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let text = forwardedField ? Self.forwardedLog() : Self.canaryLog()
        let log = try directory.file("canaries.log", Array(text.utf8))
        let rejects = directory.path + "/rejects.txt"
        var configuration = IngestConfiguration(dataDirectory: directory.path + "/data", inputs: [log])
        configuration.ipMode = try #require(IPMode(parsing: mode))
        configuration.clientAddressSource = source
        configuration.trustedProxies = [NetworkPrefix("10.0.0.0/8")!]
        configuration.keepQueryParameters = ["utm_source"]
        configuration.rejectsPath = rejects
        configuration.currentTime = 1_795_262_400  // 2026-11-21 12:00 UTC: the day's key is live
        configuration.compression = compression
        if forwardedField { configuration.format = LogFormat.preset(named: "combined-xff") }
        let summary = try Ingestor(configuration: configuration).run()
        #expect(summary.linesIngested >= (forwardedField ? 8 : 25))
        #expect(summary.linesRejected == (forwardedField ? 0 : 3))

        var output = Data(summary.json.utf8) + Data(summary.text.utf8)
        output.append(try Data(contentsOf: URL(fileURLWithPath: rejects)))
        let enumerator = FileManager.default.enumerator(atPath: directory.path + "/data")
        var files = 0
        while let name = enumerator?.nextObject() as? String {
            let path = directory.path + "/data/" + name
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue
            else { continue }
            output.append(try Data(contentsOf: URL(fileURLWithPath: path)))
            files += 1
        }
        #expect(files >= 2)
        if compression == .uncompressed && !forwardedField {
            // The search can see stored text: the masked path with its kept parameter is there.
            #expect(output.range(of: Data("/lookup/:ip?utm_source=:ip".utf8)) != nil)
            #expect(output.range(of: Data("Firefox".utf8)) != nil)
        }
        for needle in Self.needles {
            for variant in Set([needle, needle.lowercased(), needle.uppercased()]) {
                #expect(output.range(of: Data(variant.utf8)) == nil, "\(variant) reached the output in \(mode) mode")
            }
        }
    }
}
