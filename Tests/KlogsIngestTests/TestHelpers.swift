import CLZ4
import CZlib
import Foundation
import Glibc
import KlogsIngest
import KlogsTestSupport
import Testing

/// A small seeded generator (SplitMix64), so test data is the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Log-like text of about `byteCount` bytes.
func sampleText(byteCount: Int, seed: UInt64) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    let paths = ["/", "/index.html", "/api/v1/items", "/static/app.js", "/favicon.ico", "/search?q=swift"]
    var result: [UInt8] = []
    result.reserveCapacity(byteCount + 200)
    while result.count < byteCount {
        let address = "\(generator.next() % 256).\(generator.next() % 256).\(generator.next() % 256).1"
        let path = paths[Int(generator.next() % UInt64(paths.count))]
        let status = [200, 304, 404, 500][Int(generator.next() % 4)]
        let line =
            "\(address) - - [21/Nov/2026:10:\(generator.next() % 60):00 +0000] \"GET \(path) HTTP/1.1\" "
            + "\(status) \(generator.next() % 100_000) \"-\" \"Mozilla/5.0\"\n"
        result.append(contentsOf: line.utf8)
    }
    return Array(result.prefix(byteCount))
}

/// Random bytes (incompressible).
func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
}

/// One gzip member of `data`, made with zlib's deflate.
func gzip(_ data: [UInt8], level: Int32 = 6) -> [UInt8] {
    var stream = z_stream()
    precondition(klogs_deflateInit2(&stream, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK)
    defer { deflateEnd(&stream) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(data.count))) + 64)
    var input = data
    let produced: Int = input.withUnsafeMutableBytes { inputBytes in
        output.withUnsafeMutableBytes { outputBytes in
            stream.next_in = inputBytes.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_in = uInt(inputBytes.count)
            stream.next_out = outputBytes.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(outputBytes.count)
            let status = deflate(&stream, Z_FINISH)
            precondition(status == Z_STREAM_END)
            return outputBytes.count - Int(stream.avail_out)
        }
    }
    return Array(output.prefix(produced))
}

/// How zlib ends a gzip member: the reference that klogs' ISA-L reader is checked against.
enum ZlibOutcome: Equatable {
    case complete, truncated, corrupt, checksumMismatch
}

/// zlib's reading of one gzip member (and nothing after it counts): the bytes it inflates (at most 16 MiB), how many
/// input bytes it used, and how it ends.
func zlibInflate(_ compressed: [UInt8]) -> (bytes: [UInt8], consumed: Int, outcome: ZlibOutcome) {
    var stream = z_stream()
    precondition(klogs_inflateInit2(&stream, 16 + MAX_WBITS) == Z_OK)
    defer { inflateEnd(&stream) }
    var output: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    var input = compressed
    var status = Z_OK
    input.withUnsafeMutableBytes { inputBytes in
        stream.next_in = inputBytes.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.avail_in = uInt(inputBytes.count)
        while status == Z_OK && output.count < 16 << 20 {
            let produced: Int = chunk.withUnsafeMutableBytes { chunkBytes in
                stream.next_out = chunkBytes.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(chunkBytes.count)
                status = inflate(&stream, Z_NO_FLUSH)
                return chunkBytes.count - Int(stream.avail_out)
            }
            output += chunk.prefix(produced)
        }
    }
    let consumed = compressed.count - Int(stream.avail_in)
    let message = stream.msg.map { String(cString: $0) } ?? ""
    switch status {
    case Z_STREAM_END: return (output, consumed, .complete)
    case Z_OK, Z_BUF_ERROR: return (output, consumed, .truncated)
    case _ where message.contains("incorrect data check") || message.contains("incorrect length check"):
        return (output, consumed, .checksumMismatch)
    default: return (output, consumed, .corrupt)
    }
}

/// One gzip member of `data` whose header has every optional field (RFC 1952 FEXTRA, FNAME, FCOMMENT, FHCRC): zlib's
/// member with its plain 10-byte header replaced. `name` and `comment` must not contain a zero byte.
func gzipWithHeaderFields(_ data: [UInt8], extra: [UInt8], name: [UInt8], comment: [UInt8]) -> [UInt8] {
    precondition(extra.count <= 0xffff && !name.contains(0) && !comment.contains(0))
    let plain = gzip(data)
    var header = Array(plain.prefix(10))
    header[3] = 0x04 | 0x08 | 0x10 | 0x02  // FEXTRA, FNAME, FCOMMENT, FHCRC
    header += [UInt8(extra.count & 0xff), UInt8(extra.count >> 8)] + extra
    header += name + [0] + comment + [0]
    let crc = header.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
    header += [UInt8(crc & 0xff), UInt8((crc >> 8) & 0xff)]
    return header + plain.dropFirst(10)
}

/// One LZ4 frame of `data`, made with `LZ4F_compressFrame`.
func lz4Frame(_ data: [UInt8], contentChecksum: Bool = true) -> [UInt8] {
    var preferences = LZ4F_preferences_t()
    preferences.frameInfo.contentChecksumFlag = contentChecksum ? LZ4F_contentChecksumEnabled : LZ4F_noContentChecksum
    preferences.frameInfo.blockSizeID = LZ4F_max64KB
    let bound = LZ4F_compressFrameBound(data.count, &preferences)
    var output = [UInt8](repeating: 0, count: bound)
    let size = output.withUnsafeMutableBytes { outputBytes in
        data.withUnsafeBytes { inputBytes in
            LZ4F_compressFrame(outputBytes.baseAddress, bound, inputBytes.baseAddress, inputBytes.count, &preferences)
        }
    }
    precondition(LZ4F_isError(size) == 0)
    return Array(output.prefix(size))
}

/// An LZ4 skippable frame holding `payloadCount` bytes.
func lz4SkippableFrame(payloadCount: Int, magicLowNibble: UInt8 = 0) -> [UInt8] {
    let size = UInt32(payloadCount)
    return [0x50 | magicLowNibble, 0x2a, 0x4d, 0x18]
        + [UInt8(size & 0xff), UInt8(size >> 8 & 0xff), UInt8(size >> 16 & 0xff), UInt8(size >> 24)]
        + [UInt8](repeating: 0xab, count: payloadCount)
}

/// A temporary directory removed at the end of the scope that holds it.
final class TemporaryDirectory {
    let url: URL
    var path: String { url.path }
    init() throws { url = try TestPaths.makeTemporaryDirectory("klogs-ingest-test") }
    /// Removes the directory. Call it from a `defer` right after creating the directory: that also keeps the
    /// object alive to the end of the scope (Swift may release an object after its last use).
    func remove() {
        // Restore permissions the tests may have removed, so the directory can be deleted.
        _ = chmod(url.path, 0o700)
        try? FileManager.default.removeItem(at: url)
    }

    /// Writes `bytes` to a file in the directory and returns its path.
    func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = url.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// Everything a reader delivers, read through a buffer of `bufferSize` bytes, and the error that ended it, if any.
func readAll(_ reader: InputReader, bufferSize: Int = 1 << 20) -> (bytes: [UInt8], error: IngestError?) {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
    defer { buffer.deallocate() }
    var result: [UInt8] = []
    do {
        while true {
            let count = try reader.read(into: buffer)
            if count == 0 { break }
            result.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        return (result, nil)
    } catch let error as IngestError {
        return (result, error)
    } catch {
        Issue.record("unexpected error type: \(error)")
        return (result, nil)
    }
}

/// Writes `bytes` to a file and reads it back through an `InputReader`.
func readFile(
    _ bytes: [UInt8], bufferSize: Int = 1 << 20, name: String = "input.log"
) throws -> (bytes: [UInt8], error: IngestError?, reader: InputReader) {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let path = try directory.file(name, bytes)
    let reader = try InputReader(path: path)
    let (output, error) = readAll(reader, bufferSize: bufferSize)
    return (output, error, reader)
}
