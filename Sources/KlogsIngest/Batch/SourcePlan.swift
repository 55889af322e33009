internal import Foundation
internal import Glibc

/// What an ingest will do with one input file, decided from its head, its size and the ledger.
struct SourcePlan {
    enum Action: Equatable {
        /// Nothing to read: empty, or every byte already ingested.
        case skip(reason: String)
        /// Read the decompressed bytes from `offset` on.
        case read(offset: Int64)
    }
    var action: Action
    /// The index of the matching ledger entry, nil for content never seen.
    var ledgerIndex: Int?
    /// `device:inode:size:mtime` of the file, to recognise an unchanged compressed copy.
    var statKey: String
    var compression: InputCompression
    var fileSize: Int64
    /// Bytes skipped at the offset: the rest of a line that an earlier run read without its newline.
    var continuation: Int64 = 0
    /// The lines of the file before the offset read from (the first line read is `linesBefore + 1`), or `nil`
    /// when the ledger does not know them (it predates the count).
    var linesBefore: Int64? = 0

    /// Reads the head of `path` (its first `Ledger.headLimit` decompressed bytes) and matches it in the ledger.
    ///
    /// - Throws: `IngestError` when the file cannot be opened or its head cannot be decoded.
    init(path: String, ledger: Ledger) throws {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw InputReader.openError(path: path, errno: errno)
        }
        statKey =
            "\(status.st_dev):\(status.st_ino):\(status.st_size):\(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec)"
        fileSize = Int64(status.st_size)
        let reader = try InputReader(path: path)
        compression = reader.compression
        var head = [UInt8](repeating: 0, count: Ledger.headLimit)
        var filled = 0
        try head.withUnsafeMutableBytes { buffer in
            while filled < buffer.count {
                let count = try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
                if count == 0 { break }
                filled += count
            }
        }
        head.removeSubrange(filled...)
        compression = reader.compression
        if filled == 0 {
            action = .skip(reason: "empty")
            ledgerIndex = nil
            return
        }
        ledgerIndex = ledger.match(head: head)
        guard let index = ledgerIndex else {
            action = .read(offset: 0)
            return
        }
        let source = ledger.sources[index]
        linesBefore = source.offset == 0 ? 0 : source.lines
        let copyText = source.lastPath == path ? "" : " (a copy of \(source.lastPath))"
        if compression == .plain {
            action =
                fileSize <= source.offset
                ? .skip(reason: "already ingested\(copyText)") : .read(offset: source.offset)
            if case .read(let offset) = action { try skipContinuation(path: path, offset: offset) }
        } else if source.completeCopies?.contains(statKey) == true {
            action = .skip(reason: "already ingested\(copyText)")
        } else {
            action = .read(offset: source.offset)
        }
    }

    /// When the last run read a last line without its newline (the file was finished writing, see
    /// ``InputReader/isFinishedWriting``) and the file has grown since, the bytes up to the next newline continue
    /// that line, which is already ingested: start after them (noted in ``continuation``), or skip the file while
    /// they have no newline.
    ///
    /// The ledger's offset is always just after a newline, except after such a line: the byte before it tells.
    private mutating func skipContinuation(path: String, offset: Int64) throws {
        guard offset > 0 else { return }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw InputReader.openError(path: path, errno: errno) }
        defer { close(descriptor) }
        var window = [UInt8](repeating: 0, count: 64 * 1024)
        var position = offset - 1
        while true {
            let count = window.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(position)) }
            guard count > 0 else { break }
            // The first byte read is the one before the offset: a newline means the usual line boundary.
            let start = position == offset - 1 ? 1 : 0
            if position == offset - 1 && window[0] == UInt8(ascii: "\n") { return }
            if let newline = window[start..<count].firstIndex(of: UInt8(ascii: "\n")) {
                let next = position + Int64(newline) + 1
                continuation = next - offset
                action = .read(offset: next)
                return
            }
            position += Int64(count)
        }
        action = .skip(
            reason: "the line read without a newline at byte \(offset) goes on, with no newline yet")
    }
}

extension Ledger {
    /// Records that a source was read: its head, the line boundary reached, its length.
    mutating func record(
        plan: SourcePlan, path: String, head: [UInt8], offset: Int64, lines: Int, size: Int64, readToEnd: Bool
    ) {
        let headLength = min(head.count, Ledger.headLimit)
        let headHash = head.withUnsafeBytes { Ledger.headHash(UnsafeRawBufferPointer(rebasing: $0[0..<headLength])) }
        var source =
            plan.ledgerIndex.map { sources[$0] }
            ?? Source(head: headHash, headLength: headLength, offset: 0, size: 0, lastPath: path, updated: "")
        if headLength >= source.headLength {
            source.head = headHash
            source.headLength = headLength
        }
        if offset >= source.offset {
            source.lines = plan.linesBefore.map { $0 + Int64(lines) }
        }
        source.offset = max(source.offset, offset)
        source.size = max(source.size, size)
        source.lastPath = path
        source.updated = utcNowText()
        if plan.compression != .plain, readToEnd, offset == size {
            var copies = source.completeCopies ?? []
            if !copies.contains(plan.statKey) { copies.append(plan.statKey) }
            source.completeCopies = Array(copies.suffix(16))
        }
        if let index = plan.ledgerIndex {
            sources[index] = source
        } else {
            sources.append(source)
        }
    }
}

/// The tag in the names of a transaction's part files: a hash of the source ranges it holds.
func transactionTag(_ ranges: [String]) -> String {
    let text = Array(ranges.joined(separator: ";").utf8)
    return "r" + text.withUnsafeBytes { Ledger.headHash($0) }
}
