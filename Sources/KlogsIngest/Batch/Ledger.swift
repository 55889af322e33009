internal import Foundation
import KlogsCore

/// What klogs has ingested: one entry per source file content, and the list of committed part files.
///
/// It lives in `DATA/_klogs/ledger.json` and is only ever replaced whole, atomically, by a commit (see
/// `Transaction`). A source is recognised by its *head*: the SipHash of its first `headLength` decompressed bytes
/// (at most `Ledger.headLimit`), so `access.log`, `access.log.1` and `access.log.2.gz` holding the same data are one
/// source. `offset` is how many decompressed bytes were ingested, always at a line boundary.
public struct Ledger: Codable, Sendable, Equatable {
    /// One source file content.
    public struct Source: Codable, Sendable, Equatable {
        /// SipHash-2-4 of the first `headLength` decompressed bytes, 16 hex digits.
        public var head: String
        /// How many bytes `head` covers: the file's length when it was shorter than `Ledger.headLimit`.
        public var headLength: Int
        /// Decompressed bytes ingested, at a line boundary.
        public var offset: Int64
        /// Decompressed length when last read.
        public var size: Int64
        /// The path it was last read from (for people; never used to recognise it).
        public var lastPath: String
        /// The UTC time of the last ingest, ISO 8601.
        public var updated: String
        /// Compressed copies already read to their end: `device:inode:size:mtime` (so they are not decompressed
        /// again only to find nothing new).
        public var completeCopies: [String]?
        /// The lines before `offset`, so that a resumed read numbers its lines (in reject reports and messages)
        /// as the file does; `nil` in ledgers written before it was kept, and once unknown it stays unknown.
        public var lines: Int64?

        enum CodingKeys: String, CodingKey {
            case head, offset, size, updated, lines
            case headLength = "head_length"
            case lastPath = "last_path"
            case completeCopies = "complete_copies"
        }
    }

    /// The format version of the file.
    public var version = 1
    /// Every source ever ingested.
    public var sources: [Source] = []
    /// Every committed part file, relative to the data directory, with its row count.
    public var files: [String: Int64] = [:]

    /// How many leading bytes make a source's head.
    public static let headLimit = 4096

    public init() {}

    /// The fixed, public SipHash key of source heads (a head hash is not personal data, only an identity).
    static let headKey = SipHashKey(k0: 0x6b6c_6f67_735f_6865, k1: 0x6164_5f6b_6579_5f31)

    static func headHash(_ bytes: UnsafeRawBufferPointer) -> String {
        let value = SipHasher.hash(bytes, key: headKey)
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }

    /// The entry whose head matches the start of `head` (the longest one), or nil for content never seen.
    func match(head: [UInt8]) -> Int? {
        var best: Int?
        head.withUnsafeBytes { bytes in
            var hashes: [Int: String] = [:]
            for (index, source) in sources.enumerated() where source.headLength > 0 && source.headLength <= bytes.count
            {
                let hash =
                    hashes[source.headLength]
                    ?? Self.headHash(UnsafeRawBufferPointer(rebasing: bytes[0..<source.headLength]))
                hashes[source.headLength] = hash
                if hash == source.head, best.map({ sources[$0].headLength < source.headLength }) ?? true {
                    best = index
                }
            }
        }
        return best
    }

    // MARK: Storage

    static func path(dataDirectory: String) -> String { "\(dataDirectory)/_klogs/ledger.json" }

    /// Reads the ledger of a data directory; an empty ledger when there is none yet.
    ///
    /// - Throws: `BatchError` when the file exists but cannot be read or parsed.
    public static func load(dataDirectory: String) throws -> Ledger {
        let path = path(dataDirectory: dataDirectory)
        guard FileManager.default.fileExists(atPath: path) else { return Ledger() }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return try decode(data)
        } catch let error as BatchError {
            throw error
        } catch {
            throw BatchError(
                "\(path): cannot be read (\(error.localizedDescription)); run 'klogs verify' and restore it from a "
                    + "backup, or move it away to start a new ledger (everything would then be ingested again).")
        }
    }

    static func decode(_ data: Data) throws -> Ledger {
        do {
            return try JSONDecoder().decode(Ledger.self, from: data)
        } catch {
            throw BatchError(
                "the ingest ledger is not valid JSON of the expected shape (\(error)); restore it from a backup or "
                    + "move it away to start a new ledger.")
        }
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try encoder.encode(self)
    }

    /// Replaces the ledger file atomically (temporary file, fsync, rename, directory fsync).
    func save(dataDirectory: String) throws {
        try writeFileAtomically(path: Self.path(dataDirectory: dataDirectory), data: encoded())
    }
}

/// A failure of the batch machinery (lock, ledger, commit, verify, compact, purge); the message says what to do.
public struct BatchError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case general, busy, output }
    public var message: String
    public var kind: Kind
    public init(_ message: String, kind: Kind = .general) {
        self.message = message
        self.kind = kind
    }
    public var description: String { message }
}

/// Writes a small file atomically: `.name.tmp-<random>` beside it, fsync, rename, fsync the directory.
func writeFileAtomically(path: String, data: Data) throws {
    let slash = path.lastIndex(of: "/")
    let directory = slash.map { String(path[..<$0]) } ?? "."
    let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
    let file = try AtomicFile(directory: directory, name: name)
    do {
        try data.withUnsafeBytes { try file.write($0) }
        try file.commit()
    } catch {
        file.abort()
        throw error
    }
}

/// The current UTC time in ISO 8601, to the second.
func utcNowText() -> String {
    Timestamp.dateTimeText(Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
}
