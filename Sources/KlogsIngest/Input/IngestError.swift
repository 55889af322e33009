internal import Glibc

/// The one error type of `KlogsIngest`: what went wrong, where, and how to fix it.
///
/// `description` is a complete sentence meant for a person, naming the file (or "standard input"), the byte offset
/// where it matters, and the remedy. It never contains file content.
///
/// ```
/// access.log.2.gz: gzip data ends after 812,340 bytes (3,145,728 bytes decompressed); the file is cut short or
/// still being written: wait until it is complete, or copy it again.
/// ```
public struct IngestError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure this is, for callers that react differently (skip a file, stop the run).
    public enum Kind: Sendable, Equatable {
        /// The input path does not exist.
        case notFound
        /// The process may not read or write the path.
        case permissionDenied
        /// A directory was given where a file was expected.
        case isDirectory
        /// Opening or reading failed for another operating-system reason (`errno` kept).
        case inputFailed(errno: Int32)
        /// Compressed data ends in the middle of a gzip member or LZ4 frame.
        case truncated
        /// Compressed data cannot be decoded (bad header, bad block, wrong length).
        case corrupt
        /// The input is compressed in a format klogs does not decode (zstd, xz, bzip2, legacy LZ4).
        case unsupportedFormat
        /// The data decoded but its checksum does not match (CRC-32 for gzip, xxHash-32 for LZ4 frames).
        case checksumMismatch
        /// A key directory or key file is accessible by group or others.
        case insecurePermissions
        /// A key file exists but does not hold a key.
        case invalidKeyFile
        /// Creating, writing, syncing or renaming an output file failed (`errno` kept).
        case outputFailed(errno: Int32)
    }

    /// What kind of failure this is.
    public var kind: Kind
    /// The file concerned, as given; `nil` for standard input.
    public var path: String?
    /// The full message, a sentence naming the file, the offset where it matters and the remedy.
    public var description: String

    public init(_ kind: Kind, path: String?, _ description: String) {
        self.kind = kind
        self.path = path
        self.description = description
    }
}

/// A non-fatal observation about an input, for the ingest summary.
public struct InputWarning: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Bytes after the last complete gzip member or LZ4 frame that are not another one; they were ignored.
        case trailingGarbage
        /// Only zero bytes after the last complete gzip member or LZ4 frame (tape or block padding); ignored.
        case trailingZeros
    }

    public var kind: Kind
    /// The input's display name (the path, or "standard input").
    public var source: String
    /// Where the ignored bytes start, counted in compressed (on-disk) bytes.
    public var offset: Int
    /// How many bytes were ignored.
    public var byteCount: Int

    public var description: String {
        switch kind {
        case .trailingGarbage:
            return "\(source): decompression OK, trailing garbage ignored (\(formatCount(byteCount)) bytes from byte "
                + "\(formatCount(offset)) are not compressed data); the file may have been appended to after "
                + "compression."
        case .trailingZeros:
            return "\(source): decompression OK, \(formatCount(byteCount)) trailing zero bytes ignored from byte "
                + "\(formatCount(offset))."
        }
    }
}

/// `1234567` → `"1,234,567"`, as in the messages.
func formatCount<Integer: BinaryInteger>(_ value: Integer) -> String {
    let digits = String(value.magnitude)
    var result = value < 0 ? "-" : ""
    for (index, digit) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
        result.append(digit)
    }
    return result
}

/// The text of an `errno` value, e.g. "No space left on device".
func errnoText(_ code: Int32) -> String {
    String(cString: strerror(code))
}
