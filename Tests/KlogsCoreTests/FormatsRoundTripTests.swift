import KlogsCore
import Testing

/// A seeded generator for property tests (SplitMix64).
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// What a server logs for one request, and how it writes each field in nginx and Apache.
struct RandomRequest {
    var client: String
    var milliseconds: Int64
    var offsetMinutes: Int
    var method: String
    var path: [UInt8]
    var query: [UInt8]?
    var httpProtocol: String
    var status: Int
    var bytes: Int64
    var referrer: [UInt8]?
    var userAgent: [UInt8]
    var host: String
    var forwardedFor: String?

    init(_ random: inout SplitMix) {
        client = Bool.random(using: &random)
            ? "\(Int.random(in: 1...223, using: &random)).\(Int.random(in: 0...255, using: &random)).0.\(Int.random(in: 1...254, using: &random))"
            : "2001:db8::\(String(Int.random(in: 1...0xffff, using: &random), radix: 16))"
        milliseconds = Int64.random(in: 946_684_800_000...1_900_000_000_000, using: &random)
        offsetMinutes = [0, 60, -420, 330, 600, -180].randomElement(using: &random)!
        method = ["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS"].randomElement(using: &random)!
        let pathBytes = Array("/abcxyz09-_.~%".utf8) + [UInt8(ascii: "\""), UInt8(ascii: "\\"), 0xC3, 0xA9, 0x01]
        path = [UInt8(ascii: "/")] + (0..<Int.random(in: 0...12, using: &random)).map { _ in
            pathBytes.randomElement(using: &random)!
        }
        query = Bool.random(using: &random) ? Array("a=1&b=\(Int.random(in: 0...99, using: &random))".utf8) : nil
        httpProtocol = ["HTTP/1.0", "HTTP/1.1", "HTTP/2.0", "HTTP/3"].randomElement(using: &random)!
        status = [200, 204, 301, 304, 400, 404, 408, 499, 500, 503].randomElement(using: &random)!
        bytes = Bool.random(using: &random) ? 0 : Int64.random(in: 1...10_000_000, using: &random)
        let textBytes = Array("Mozilla/5.0 (X11; Linux) abc;,[]{}=".utf8) + [0x22, 0x5C, 0xE2, 0x82, 0xAC, 0x09]
        referrer = Bool.random(using: &random)
            ? Array("https://ref.example/\(Int.random(in: 0...9, using: &random))".utf8) : nil
        userAgent = (0..<Int.random(in: 1...40, using: &random)).map { _ in textBytes.randomElement(using: &random)! }
        host = ["www.example.com", "api.example.org", "localhost"].randomElement(using: &random)!
        forwardedFor = Bool.random(using: &random) ? "203.0.113.\(Int.random(in: 1...254, using: &random)), 10.0.0.1" : nil
    }

    /// The common-log time `10/Oct/2000:13:55:36 -0700`.
    var commonLogTime: String {
        let local = milliseconds / 1000 + Int64(offsetMinutes) * 60
        let (year, month, day) = Timestamp.civilFromDays(Int(local / 86_400))
        let second = Int(local % 86_400)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let sign = offsetMinutes < 0 ? "-" : "+"
        return "\(pad(day))/\(months[month - 1])/\(year):\(pad(second / 3600)):\(pad(second / 60 % 60)):"
            + "\(pad(second % 60)) \(sign)\(pad(abs(offsetMinutes) / 60))\(pad(abs(offsetMinutes) % 60))"
    }

    /// The ISO 8601 time nginx writes for `$time_iso8601`: `2000-10-10T13:55:36-07:00`.
    var isoTime: String {
        let local = milliseconds / 1000 + Int64(offsetMinutes) * 60
        let (year, month, day) = Timestamp.civilFromDays(Int(local / 86_400))
        let second = Int(local % 86_400)
        let sign = offsetMinutes < 0 ? "-" : "+"
        return "\(year)-\(pad(month))-\(pad(day))T\(pad(second / 3600)):\(pad(second / 60 % 60)):\(pad(second % 60))"
            + "\(sign)\(pad(abs(offsetMinutes) / 60)):\(pad(abs(offsetMinutes) % 60))"
    }

    var target: [UInt8] { path + (query.map { [UInt8(ascii: "?")] + $0 } ?? []) }
    var requestLine: [UInt8] { Array(method.utf8) + [0x20] + target + [0x20] + Array(httpProtocol.utf8) }

    func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}

/// nginx `escape=default`: `"`, `\` and bytes outside 0x20...0x7E as `\xHH`.
func nginxEscaped(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    for byte in bytes {
        if byte == 0x22 || byte == 0x5C || byte < 0x20 || byte > 0x7E {
            out += Array("\\x".utf8) + Array(String(byte, radix: 16, uppercase: true).utf8).padded()
        } else {
            out.append(byte)
        }
    }
    return out
}

/// Apache: `\"`, `\\`, and other bytes outside 0x20...0x7E as `\xhh`.
func apacheEscaped(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    for byte in bytes {
        if byte == 0x22 || byte == 0x5C {
            out += [0x5C, byte]
        } else if byte < 0x20 || byte > 0x7E {
            out += Array("\\x".utf8) + Array(String(byte, radix: 16).utf8).padded()
        } else {
            out.append(byte)
        }
    }
    return out
}

extension Array where Element == UInt8 {
    fileprivate func padded() -> [UInt8] { count == 1 ? [UInt8(ascii: "0")] + self : self }
}

/// One element of a random format: how it is written in each dialect and how a request renders it.
struct RandomElement: Sendable {
    var nginx: String
    var apache: String
    var render: @Sendable (RandomRequest, _ apache: Bool) -> [UInt8]
}

@Suite("Format round trip")
struct FormatRoundTripTests {
    static func quoted(_ value: [UInt8]?, _ apache: Bool) -> [UInt8] {
        guard let value else { return Array("\"-\"".utf8) }
        return [0x22] + (apache ? apacheEscaped(value) : nginxEscaped(value)) + [0x22]
    }

    /// Elements every format has (client, time, request, status, size), then optional ones.
    static let clients = [RandomElement(nginx: "$remote_addr", apache: "%h") { r, _ in Array(r.client.utf8) }]
    static let times = [
        RandomElement(nginx: "[$time_local]", apache: "%t") { r, _ in Array("[\(r.commonLogTime)]".utf8) },
        RandomElement(nginx: "$time_iso8601", apache: "%{%Y-%m-%dT%H:%M:%S%z}t") { r, _ in Array(r.isoTime.utf8) },
    ]
    static let requests = [
        RandomElement(nginx: "\"$request\"", apache: "\"%r\"") { r, apache in quoted(r.requestLine, apache) },
    ]
    static let optional = [
        RandomElement(nginx: "\"$http_referer\"", apache: "\"%{Referer}i\"") { r, apache in quoted(r.referrer, apache) },
        RandomElement(nginx: "\"$http_user_agent\"", apache: "\"%{User-Agent}i\"") { r, apache in
            quoted(r.userAgent, apache)
        },
        RandomElement(nginx: "$host", apache: "%v") { r, _ in Array(r.host.utf8) },
        RandomElement(nginx: "\"$http_x_forwarded_for\"", apache: "\"%{X-Forwarded-For}i\"") { r, apache in
            quoted(r.forwardedFor.map { Array($0.utf8) }, apache)
        },
        RandomElement(nginx: "rt=$request_time", apache: "rt=%D") { _, _ in Array("rt=0.012".utf8) },
        RandomElement(nginx: "\"$upstream_addr\"", apache: "\"%{X-Other}i\"") { _, _ in
            Array("\"10.0.0.5:80, 10.0.0.6:80\"".utf8)
        },
    ]

    @Test("Random formats and requests: render the way nginx and Apache would, parse back, get the request")
    func roundTrip() throws {
        var random = SplitMix(state: 20_261_122)
        for _ in 0..<300 {
            let apache = Bool.random(using: &random)
            var elements = [Self.clients[0], Self.times.randomElement(using: &random)!, Self.requests[0]]
            elements.append(RandomElement(nginx: "$status", apache: "%>s") { r, _ in Array("\(r.status)".utf8) })
            elements.append(
                RandomElement(nginx: "$body_bytes_sent", apache: "%b") { r, apache in
                    Array((apache && r.bytes == 0 ? "-" : "\(r.bytes)").utf8)
                })
            for element in Self.optional where Bool.random(using: &random) { elements.append(element) }
            elements.shuffle(using: &random)
            let separators = [" ", " ", " | ", "\t", " :: "]
            var separatorChoice: [String] = []
            for _ in elements.indices { separatorChoice.append(separators.randomElement(using: &random)!) }
            var definition = ""
            for (index, element) in elements.enumerated() {
                if index > 0 { definition += separatorChoice[index] }
                definition += apache ? element.apache : element.nginx
            }
            let format = try LogFormat.compile(definition)
            var parser = format.makeParser()
            var record = AccessRecord()
            for _ in 0..<5 {
                let request = RandomRequest(&random)
                var line: [UInt8] = []
                for (index, element) in elements.enumerated() {
                    if index > 0 { line += Array(separatorChoice[index].utf8) }
                    line += element.render(request, apache)
                }
                let reason = line.withUnsafeBytes { parser.parse($0, into: &record) }
                #expect(reason == nil, "\(definition)")
                guard reason == nil else { continue }
                line.withUnsafeBytes { _ in
                    // The record's byte views point into `line`, alive in this closure.
                    let context = Comment(rawValue: definition)
                    #expect(text(record.client) == request.client, context)
                    #expect(record.timestamp == request.milliseconds / 1000 * 1000, context)
                    #expect(text(record.method) == request.method, context)
                    #expect(Array(record.path) == request.path, context)
                    #expect(record.query.map { Array($0) } == request.query, context)
                    #expect(text(record.httpProtocol) == request.httpProtocol, context)
                    #expect(record.status == Int32(request.status) && record.responseBytes == request.bytes, context)
                    if definition.contains("Referer") || definition.contains("referer") {
                        #expect(record.referrer.map { Array($0) } == request.referrer, context)
                    }
                    if definition.contains("gent") {
                        #expect(record.userAgent.map { Array($0) } == request.userAgent, context)
                    }
                    if definition.contains("$host") || definition.contains("%v") {
                        #expect(record.virtualHost.map(text) == request.host, context)
                    }
                    if definition.contains("orwarded") {
                        #expect(record.forwardedFor.map(text) == request.forwardedFor, context)
                    }
                }
            }
        }
    }
}
