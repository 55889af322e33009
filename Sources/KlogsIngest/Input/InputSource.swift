internal import Glibc

/// Where log bytes come from: a file path, or standard input (`-` on the command line).
public enum InputSource: Sendable, Equatable, CustomStringConvertible {
    case path(String)
    case standardInput

    /// Interprets a command-line argument: `-` is standard input, anything else a path.
    public init(argument: String) {
        self = argument == "-" ? .standardInput : .path(argument)
    }

    /// The name used in messages: the path as given, or "standard input".
    public var description: String {
        switch self {
        case .path(let path): return path
        case .standardInput: return "standard input"
        }
    }
}

/// How an input is compressed, decided from its first bytes (never from its name).
public enum InputCompression: String, Sendable, Equatable, CaseIterable {
    /// Uncompressed text.
    case plain
    /// gzip (RFC 1952), one or more members: magic `1f 8b`.
    case gzip
    /// LZ4 frame format, one or more frames: magic `04 22 4d 18`, or a skippable frame `5? 2a 4d 18`.
    case lz4Frame = "lz4"

    /// What the first bytes of an input say about its compression.
    ///
    /// Fewer than 4 bytes are enough when they are the whole input. Formats klogs does not decode (zstd, xz, bzip2,
    /// legacy LZ4) are reported as `.unsupported` so they are not ingested as garbage text.
    static func detect(_ prefix: UnsafeRawBufferPointer) -> Detection {
        let bytes = Array(prefix.prefix(6))
        func starts(with magic: [UInt8]) -> Bool {
            bytes.count >= magic.count && Array(bytes.prefix(magic.count)) == magic
        }
        if starts(with: [0x1f, 0x8b]) { return .compression(.gzip) }
        if starts(with: lz4FrameMagic) || isSkippableFrameMagic(bytes) { return .compression(.lz4Frame) }
        if starts(with: [0x02, 0x21, 0x4c, 0x18]) { return .unsupported(name: "legacy LZ4 (lz4 -l)", tool: "lz4 -dc") }
        if starts(with: [0x28, 0xb5, 0x2f, 0xfd]) { return .unsupported(name: "zstd", tool: "zstd -dc") }
        if starts(with: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) { return .unsupported(name: "xz", tool: "xz -dc") }
        if starts(with: [0x42, 0x5a, 0x68]) && bytes.count >= 4 && (0x31...0x39).contains(bytes[3]) {
            return .unsupported(name: "bzip2", tool: "bzip2 -dc")
        }
        return .compression(.plain)
    }

    enum Detection: Equatable {
        case compression(InputCompression)
        case unsupported(name: String, tool: String)
    }
}

/// The LZ4 frame magic number `0x184D2204`, as it appears in the file (little-endian).
let lz4FrameMagic: [UInt8] = [0x04, 0x22, 0x4d, 0x18]

/// Whether `bytes` start with an LZ4 skippable-frame magic number `0x184D2A50`…`0x184D2A5F`.
func isSkippableFrameMagic<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool where Bytes.Index == Int {
    guard bytes.count >= 4 else { return false }
    let first = bytes.startIndex
    return bytes[first] & 0xf0 == 0x50 && bytes[first + 1] == 0x2a && bytes[first + 2] == 0x4d
        && bytes[first + 3] == 0x18
}

/// The offset of the last newline in `chunk`, or `nil`.
///
/// Searches 4 KiB blocks from the end with `memchr` (glibc's `memrchr` is not in Swift's Glibc module), so a
/// 1 MiB chunk without a newline (a decompression bomb of zeros, a 10 MB line) costs microseconds, not a
/// byte-by-byte loop.
func lastNewline(in chunk: UnsafeRawBufferPointer) -> Int? {
    guard let base = chunk.baseAddress else { return nil }
    let newline = Int32(UInt8(ascii: "\n"))
    var blockEnd = chunk.count
    while blockEnd > 0 {
        let blockStart = max(0, blockEnd - 4096)
        var last: Int?
        var from = blockStart
        // Safe because from..<blockEnd lies inside the chunk.
        while from < blockEnd, let found = memchr(base + from, newline, blockEnd - from) {
            last = UnsafeRawPointer(found) - base
            from = last! + 1  // safe because it was just set
        }
        if let last { return last }
        blockEnd = blockStart
    }
    return nil
}
