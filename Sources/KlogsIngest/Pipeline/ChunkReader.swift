internal import Glibc
import KlogsCore

/// The reader stage of the parallel pipeline: reads (and decompresses) one input into large chunks cut at their
/// last newline, carrying the partial last line into the next chunk.
///
/// It keeps the single-threaded path's rules exactly: bytes before the ledger's start offset are skipped; each
/// chunk's `boundary` is the offset after its last newline (where a later run resumes); a last line without a
/// newline is read only from a compressed input; a line longer than the splitter's limit is reported once as
/// overlong (a worker's `LineSplitter` sees it whole, or, beyond a whole chunk, its first chunk's worth, and the
/// reader drops the rest up to its newline).
///
/// `@unchecked Sendable`: the reader thread uses it while the input is read; the ingest's thread reads the results
/// (`head`, `position`, `boundary`, `readToEnd`, `failure`) only after that thread has finished.
final class ChunkReader: @unchecked Sendable {
    let input: InputReader
    private let startOffset: Int64
    private let chunkBytes: Int
    private let maximumLineLength: Int

    /// The first bytes of the input, for the ledger.
    private(set) var head: [UInt8] = []
    /// Decompressed bytes read so far.
    private(set) var position: Int64 = 0
    /// The offset after the last newline handed on (the ledger's resume point).
    private(set) var boundary: Int64
    /// Whether the input was read to its end.
    private(set) var readToEnd = false
    /// The read error that ended the input early, if any.
    private(set) var failure: IngestError?

    /// The partial last line of the previous chunk.
    private let carry: UnsafeMutableRawBufferPointer
    private var carryCount = 0
    /// True while dropping the rest of a line longer than a whole chunk.
    private var dropping = false

    /// The storage a batch needs: a chunk plus the longest line, so a line that is not overlong always fits.
    static func batchCapacity(chunkBytes: Int, maximumLineLength: Int) -> Int {
        chunkBytes + maximumLineLength + 1
    }

    init(input: InputReader, startOffset: Int64, chunkBytes: Int, maximumLineLength: Int) {
        self.input = input
        self.startOffset = startOffset
        self.chunkBytes = chunkBytes
        self.maximumLineLength = maximumLineLength
        boundary = startOffset
        carry = .allocate(
            byteCount: Self.batchCapacity(chunkBytes: chunkBytes, maximumLineLength: maximumLineLength),
            alignment: 64)
        head.reserveCapacity(Ledger.headLimit)
    }

    deinit { carry.deallocate() }

    /// Reads the whole input into batches.
    ///
    /// - Parameters:
    ///   - take: gives an empty batch, waiting for one; `nil` when the pipeline is stopping.
    ///   - submit: hands a filled batch on, in order. The last batch of the input is always submitted (it may
    ///     be empty), unless the pipeline stops.
    func run(take: () -> ChunkBatch?, submit handOn: (ChunkBatch) -> Void) {
        func submit(_ batch: ChunkBatch) {
            batch.inputBytesRead = Int64(input.bytesRead)
            handOn(batch)
        }
        var sequence = 0
        while let batch = take() {
            batch.sequence = sequence
            sequence += 1
            batch.finishesInput = false
            // Safe because the carry is at most a batch's capacity (it is cut from a batch).
            batch.storage.baseAddress!.copyMemory(from: carry.baseAddress!, byteCount: carryCount)
            batch.byteCount = carryCount
            carryCount = 0
            if fill(batch) {
                submit(batch)
                continue
            }
            // The end of the input (or a read error): hand on what is left.
            if readToEnd && input.isFinishedWriting {
                batch.finishesInput = true
                boundary = position
            } else if let newline = lastNewline(in: batch) {
                boundary = position - Int64(batch.byteCount - newline - 1)
            }
            batch.boundary = boundary
            submit(batch)
            return
        }
    }

    /// Reads into `batch` until it holds a chunk that ends with a newline (or an overlong line's first bytes).
    ///
    /// - Returns: true when the batch holds a chunk and the input goes on; false at the end of the input or after
    ///   a read error (`failure`).
    private func fill(_ batch: ChunkBatch) -> Bool {
        while true {
            let room = UnsafeMutableRawBufferPointer(rebasing: batch.storage[batch.byteCount...])
            let count: Int
            do {
                count = try input.read(into: room)
            } catch let error as IngestError {
                failure = error
                return false
            } catch {
                failure = IngestError(.inputFailed(errno: EIO), path: input.path, "\(input.name): \(error)")
                return false
            }
            if count == 0 {
                readToEnd = true
                return false
            }
            if head.count < Ledger.headLimit {
                head.append(contentsOf: room[0..<min(count, Ledger.headLimit - head.count)])
            }
            let readStart = position
            position += Int64(count)
            batch.byteCount += keep(room, count: count, readStart: readStart)
            if StopSignals.isRequested { return false }  // what was read is committed; the next run reads the rest
            if batch.byteCount >= chunkBytes || batch.byteCount == batch.storage.count {
                if let newline = lastNewline(in: batch) {
                    carryCount = batch.byteCount - newline - 1
                    // Safe because both ranges lie in their buffers and the carry is as large as a batch.
                    carry.baseAddress!.copyMemory(from: batch.storage.baseAddress! + newline + 1, byteCount: carryCount)
                    batch.byteCount = newline + 1
                    boundary = position - Int64(carryCount)
                    batch.boundary = boundary
                    return true
                }
                if batch.byteCount > maximumLineLength {
                    // One line longer than a chunk: its worker reports it as overlong; the rest of it is dropped.
                    dropping = true
                    batch.boundary = boundary
                    return true
                }
            }
        }
    }

    /// Moves the bytes of a read that are to be kept to the front of `room`: none before the start offset, none of
    /// a dropped overlong line.
    ///
    /// - Returns: how many bytes are kept.
    private func keep(_ room: UnsafeMutableRawBufferPointer, count: Int, readStart: Int64) -> Int {
        var first = readStart < startOffset ? Int(min(Int64(count), startOffset - readStart)) : 0
        if dropping && first < count {
            // Safe because first..<count lies in `room`.
            if let found = memchr(room.baseAddress! + first, Int32(UInt8(ascii: "\n")), count - first) {
                dropping = false
                first = room.baseAddress!.distance(to: UnsafeMutableRawPointer(found)) + 1
            } else {
                first = count
            }
        }
        if first > 0 && first < count {
            // Safe because both ranges lie in `room`; memmove handles the overlap.
            memmove(room.baseAddress!, room.baseAddress! + first, count - first)
        }
        return count - first
    }

    /// The index of the last newline of the batch's bytes.
    private func lastNewline(in batch: ChunkBatch) -> Int? {
        // A backward scan: the partial last line is short, so this stops after a few hundred bytes.
        UnsafeRawBufferPointer(rebasing: batch.storage[0..<batch.byteCount]).lastIndex(of: UInt8(ascii: "\n"))
    }
}
