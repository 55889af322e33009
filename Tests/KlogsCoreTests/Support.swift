import Foundation
import KlogsCore
import KlogsTestSupport

/// The fields of a parsed record as text, comparable in tests.
struct ParsedLine: Equatable, CustomStringConvertible {
    var client = ""
    var virtualHost: String?
    var timestamp: Int64 = 0
    var method = ""
    var path = ""
    var query: String?
    var httpProtocol = ""
    var status: Int32 = 0
    var responseBytes: Int64 = 0
    var referrer: String?
    var userAgent: String?
    var requestKind = RequestKind.valid
    var request = ""

    init() {}

    init(_ record: AccessRecord) {
        client = text(record.client)
        virtualHost = record.virtualHost.map(text)
        timestamp = record.timestamp
        method = text(record.method)
        path = text(record.path)
        query = record.query.map(text)
        httpProtocol = text(record.httpProtocol)
        status = record.status
        responseBytes = record.responseBytes
        referrer = record.referrer.map(text)
        userAgent = record.userAgent.map(text)
        requestKind = record.requestKind
        request = text(record.request)
    }

    var description: String {
        "\(client) \(virtualHost ?? "nil") \(timestamp) \(method) \(path) \(query ?? "nil") \(httpProtocol) \(status) "
            + "\(responseBytes) \(referrer ?? "nil") \(userAgent ?? "nil") \(requestKind)"
    }
}

/// Decodes bytes as text for assertions; invalid UTF-8 is shown as `\xHH` so nothing is hidden.
func text(_ bytes: UnsafeRawBufferPointer) -> String {
    if let valid = String(validating: bytes, as: UTF8.self) { return valid }
    return bytes.map { $0 < 0x80 ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }.joined()
}

/// One line's outcome: the parsed fields or the reject reason.
enum Outcome: Equatable, CustomStringConvertible {
    case parsed(ParsedLine)
    case rejected(RejectReason)
    case overlong

    var description: String {
        switch self {
        case .parsed(let line): return line.description
        case .rejected(let reason): return "rejected: \(reason.rawValue)"
        case .overlong: return "overlong"
        }
    }

    var parsed: ParsedLine? {
        if case .parsed(let line) = self { return line }
        return nil
    }
}

/// Parses one line given as text.
func parse(_ line: String, _ format: LogFormat = .combined) -> Outcome {
    var parser = format.makeParser()
    var record = AccessRecord()
    var bytes = Array(line.utf8)
    return bytes.withUnsafeMutableBytes { buffer in
        if let reason = parser.parse(UnsafeRawBufferPointer(buffer), into: &record) { return .rejected(reason) }
        return .parsed(ParsedLine(record))
    }
}

/// Splits `data` into lines through chunks of `chunkSize` bytes (all at once when `nil`) and parses each line.
func parseStream(
    _ data: [UInt8], format: LogFormat, chunkSize: Int?, maximumLineLength: Int = 64 * 1024
) -> [Outcome] {
    var splitter = LineSplitter(maximumLineLength: maximumLineLength)
    var parser = format.makeParser()
    var record = AccessRecord()
    var outcomes: [Outcome] = []
    var expectedNumber = 1
    func handle(_ number: Int, _ line: SplitLine) {
        precondition(number == expectedNumber, "line numbers must be consecutive")
        expectedNumber += 1
        switch line {
        case .overlong: outcomes.append(.overlong)
        case .complete(let bytes):
            if let reason = parser.parse(bytes, into: &record) {
                outcomes.append(.rejected(reason))
            } else {
                outcomes.append(.parsed(ParsedLine(record)))
            }
        }
    }
    split(data, chunkSize: chunkSize, with: &splitter, handle)
    return outcomes
}

/// Feeds `data` to `splitter` in chunks of `chunkSize` bytes (all at once when `nil`), then finishes the stream.
func split(
    _ data: [UInt8], chunkSize: Int?, with splitter: inout LineSplitter, _ handle: (Int, SplitLine) -> Void
) {
    data.withUnsafeBytes { all in
        let size = chunkSize ?? max(all.count, 1)
        var start = 0
        repeat {
            let end = min(start + size, all.count)
            splitter.feed(UnsafeRawBufferPointer(rebasing: all[start..<end]), handle)
            start = end
        } while start < all.count
    }
    splitter.finish(handle)
}

/// The chunk sizes every stream test goes through; `nil` is the whole input at once.
let chunkSizes: [Int?] = [1, 2, 3, 7, 64, 4096, nil]

/// The bytes of a corpus file.
func corpusBytes(_ relativePath: String) throws -> [UInt8] {
    let url = TestPaths.corpus.appendingPathComponent(relativePath)
    return [UInt8](try Data(contentsOf: url))
}

/// Milliseconds since the epoch of a UTC date and time, computed independently with Foundation.
func foundationEpochMilliseconds(_ iso: String) -> Int64 {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    guard let date = formatter.date(from: iso) else { fatalError("bad test date \(iso)") }
    return Int64((date.timeIntervalSince1970 * 1000).rounded())
}
