internal import CLZ4
internal import Glibc

/// Reads the bytes of one log input, decompressed, into a buffer the caller provides and reuses.
///
/// The compression is detected from the first bytes (gzip, LZ4 frame, else plain), never from the name. gzip may hold
/// several members and LZ4 several frames (`cat a.gz b.gz`, logrotate): all are read, in order. Memory is bounded
/// whatever the input: one 1 MiB input buffer plus the decoder's state, so a decompression bomb only streams.
///
/// ```swift
/// let reader = try InputReader(source: InputSource(argument: "access.log.2.gz"))
/// let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
/// defer { buffer.deallocate() }
/// while case let count = try reader.read(into: buffer), count > 0 {
///     // split lines in buffer[0..<count]
/// }
/// for warning in reader.warnings { print(warning) }
/// ```
///
/// Everything decoded before an error (a truncated or corrupt file) is delivered first; the next `read` throws.
/// Bytes after the last complete gzip member or LZ4 frame that are not another one are ignored with an
/// `InputWarning`, as `gzip -d` does ("decompression OK, trailing garbage ignored"): the log data before them is
/// intact, so the run keeps it and the summary shows the warning.
///
/// A reader is used by one thread at a time.
public final class InputReader {
    /// The size of the reads from the file descriptor.
    public static let chunkSize = 1 << 20

    /// The input's name in messages: the path as given, or "standard input".
    public let name: String
    /// The path, or `nil` for standard input or a descriptor.
    public let path: String?
    /// The compression detected from the first bytes.
    public private(set) var compression: InputCompression
    /// The size of the input in bytes when it is a regular file, for progress; `nil` for pipes and terminals.
    public let fileSize: Int?
    /// Bytes read from the file descriptor so far (compressed bytes for gzip and LZ4).
    public private(set) var bytesRead = 0
    /// Decompressed bytes delivered to the caller so far.
    public private(set) var bytesDelivered = 0
    /// Non-fatal observations (trailing garbage), for the ingest summary.
    public private(set) var warnings: [InputWarning] = []
    /// Complete gzip members or LZ4 frames (including skippable frames) decoded so far; 0 for plain input.
    public private(set) var membersDecoded = 0

    private let descriptor: Int32
    private let closesDescriptor: Bool
    /// The input buffer; `start..<end` holds bytes read but not yet decoded or delivered.
    private let buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var reachedEndOfInput = false
    /// Compressed bytes handed to the decoder and consumed by it (the offset of the next undecoded byte).
    private var bytesConsumed = 0
    private var decoder: Decoder
    /// An error found after some output was produced in the same call: thrown by the next `read`.
    private var pendingError: IngestError?
    private var finished = false

    private enum Decoder {
        case plain
        case gzip(GzipInflater)
        case lz4(LZ4FrameDecoder)
    }

    /// Opens an input: a file by path, or standard input.
    ///
    /// - Throws: `IngestError` when the path does not exist, may not be read, is a directory, or is compressed in a
    ///   format klogs does not read (zstd, xz, bzip2, legacy LZ4).
    public convenience init(source: InputSource) throws {
        switch source {
        case .standardInput:
            try self.init(fileDescriptor: STDIN_FILENO, name: source.description, closeWhenDone: false)
        case .path(let path):
            try self.init(path: path)
        }
    }

    /// Opens a file for reading; `-` is not special here (use `init(source:)` for command-line arguments).
    public convenience init(path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            throw Self.openError(path: path, errno: errno)
        }
        try self.init(descriptor: descriptor, name: path, path: path, closeWhenDone: true)
    }

    /// Reads from a descriptor that is already open (a pipe, a socket, standard input).
    ///
    /// - Parameters:
    ///   - fileDescriptor: Open for reading; blocking or not.
    ///   - name: The name in messages, e.g. "standard input".
    ///   - closeWhenDone: Whether the reader closes the descriptor when it is released.
    public convenience init(fileDescriptor: Int32, name: String, closeWhenDone: Bool) throws {
        try self.init(descriptor: fileDescriptor, name: name, path: nil, closeWhenDone: closeWhenDone)
    }

    private init(descriptor: Int32, name: String, path: String?, closeWhenDone: Bool) throws {
        self.descriptor = descriptor
        self.closesDescriptor = closeWhenDone
        self.name = name
        self.path = path
        // From here on, deinit closes the descriptor and frees the buffer, even when init throws below.
        self.buffer = .allocate(byteCount: Self.chunkSize, alignment: 64)
        var status = stat()
        if fstat(descriptor, &status) == 0 {
            let type = status.st_mode & S_IFMT
            if type == S_IFDIR {
                self.compression = .plain
                self.fileSize = nil
                self.decoder = .plain
                throw IngestError(
                    .isDirectory, path: path,
                    "\(name): is a directory, not a log file; give the files inside it instead, e.g. '\(name)/*.log'.")
            }
            self.fileSize = type == S_IFREG ? Int(status.st_size) : nil
            if type == S_IFREG { _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_SEQUENTIAL) }
        } else {
            self.fileSize = nil
        }
        // Decide the compression from the first bytes. Until then, `decoder` is plain so deinit is safe.
        self.compression = .plain
        self.decoder = .plain
        try fill(atLeast: 6)
        let detection = InputCompression.detect(UnsafeRawBufferPointer(rebasing: buffer[start..<end]))
        switch detection {
        case .unsupported(let format, let tool):
            throw IngestError(
                .unsupportedFormat, path: path,
                "\(name): the data is compressed with \(format), which klogs does not read; decompress it into "
                    + "klogs' standard input instead, e.g. '\(tool) \(path ?? "FILE") | klogs ingest -'.")
        case .compression(let compression):
            self.compression = compression
            switch compression {
            case .plain: decoder = .plain
            case .gzip: decoder = .gzip(GzipInflater())
            case .lz4Frame: decoder = .lz4(try LZ4FrameDecoder(name: name, path: path))
            }
        }
    }

    deinit {
        buffer.deallocate()
        if closesDescriptor { _ = close(descriptor) }
    }

    /// Fills `output` with the next decompressed bytes.
    ///
    /// Any buffer size works (1 byte to many MiB); the bytes delivered do not depend on it. Bytes decoded before an
    /// error are delivered first; the error is thrown by the call after.
    ///
    /// - Returns: The number of bytes written at the start of `output`; 0 only at the end of the input (or when
    ///   `output` is empty).
    /// - Throws: `IngestError` for a read failure, truncated or corrupt compressed data, or a checksum mismatch.
    public func read(into output: UnsafeMutableRawBufferPointer) throws -> Int {
        if let pendingError { throw pendingError }
        guard output.count > 0, !finished else { return 0 }
        let count: Int
        do {
            switch decoder {
            case .plain: count = try readPlain(into: output)
            case .gzip(let inflater): count = try readGzip(inflater, into: output)
            case .lz4(let frameDecoder): count = try readLZ4(frameDecoder, into: output)
            }
        } catch let error as IngestError {
            pendingError = error
            throw error
        }
        bytesDelivered += count
        return count
    }

    // MARK: Whether the last line is complete

    /// How long a plain file must go unmodified before klogs takes it as finished: 5 minutes.
    public static let settleSeconds = 300

    /// Whether nothing more will be written to the input, so that a last line without a newline is complete and is
    /// read: a compressed file (compressed whole, after rotation), or a plain regular file not modified for
    /// ``settleSeconds`` (a rotated file, a copy, a file no server writes any more). A plain file modified more
    /// recently may still be being written: its unterminated last line waits for a later run. Asked when the
    /// input was read to its end, so a write during the read counts.
    public var isFinishedWriting: Bool {
        if compression != .plain { return true }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return false }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        // A modification time in the future (a clock set back) never settles.
        return now.tv_sec - status.st_mtim.tv_sec >= Self.settleSeconds
    }

    // MARK: Plain

    private func readPlain(into output: UnsafeMutableRawBufferPointer) throws -> Int {
        if start == end {
            if reachedEndOfInput { return 0 }
            // Large caller buffers are filled by read(2) directly, without a copy.
            if output.count >= Self.chunkSize / 4 {
                let count = try readDescriptor(into: output)
                if count == 0 { reachedEndOfInput = true }
                bytesConsumed += count
                return count
            }
            try refill()
            if start == end { return 0 }
        }
        let count = min(output.count, end - start)
        // Safe because both ranges are in bounds: count ≤ output.count and start + count ≤ end ≤ buffer.count.
        output.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: count)
        start += count
        bytesConsumed += count
        return count
    }

    // MARK: gzip

    private func readGzip(_ inflater: GzipInflater, into output: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            if !inflater.isInMember {
                // Between members: the next two bytes must be the gzip magic, else this is the end.
                try fill(atLeast: 2)
                if start == end { return 0 }
                let first = buffer[start]
                if !(first == 0x1f && end - start >= 2 && buffer[start + 1] == 0x8b) {
                    try skipTrailingBytes()
                    return 0
                }
                inflater.startMember()
            }
            if start == end && !reachedEndOfInput { try refill() }
            let step = inflater.inflate(
                input: UnsafeRawBufferPointer(rebasing: buffer[start..<end]), output: output)
            start += step.consumed
            bytesConsumed += step.consumed
            switch step.result {
            case .memberEnd:
                membersDecoded += 1
                if step.produced > 0 { return step.produced }
            case .progress:
                if step.produced > 0 { return step.produced }
                if start == end && reachedEndOfInput {
                    throw IngestError(
                        .truncated, path: path,
                        "\(name): gzip data ends after \(formatCount(bytesConsumed)) bytes "
                            + "(\(formatCount(bytesDelivered)) bytes decompressed) in the middle of member "
                            + "\(membersDecoded + 1); the file is cut short or still being written: wait until it "
                            + "is complete, or copy it again.")
                }
                if step.consumed == 0 && start < end {
                    // ISA-L took no input although some was offered and there was room for output: never expected.
                    throw corruptGzip(detail: "the decoder stopped making progress")
                }
            case .failed(let message, let isChecksum):
                let error: IngestError
                if isChecksum {
                    error = IngestError(
                        .checksumMismatch, path: path,
                        "\(name): gzip member \(membersDecoded + 1) fails its check (\(message)) at byte "
                            + "\(formatCount(bytesConsumed)); the file is damaged: copy it again from its source.")
                } else {
                    error = corruptGzip(detail: message)
                }
                if step.produced > 0 {
                    pendingError = error
                    return step.produced
                }
                throw error
            }
        }
    }

    private func corruptGzip(detail: String) -> IngestError {
        IngestError(
            .corrupt, path: path,
            "\(name): gzip data is corrupt near byte \(formatCount(bytesConsumed)) in member \(membersDecoded + 1) "
                + "(\(detail)); the file is damaged: copy it again from its source, or leave it out.")
    }

    // MARK: LZ4 frame

    private func readLZ4(_ frameDecoder: LZ4FrameDecoder, into output: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            if frameDecoder.isAtFrameBoundary {
                // Between frames: the next four bytes must be a frame or skippable-frame magic, else this is the end.
                try fill(atLeast: 4)
                if start == end { return 0 }
                let next = UnsafeRawBufferPointer(rebasing: buffer[start..<min(end, start + 4)])
                if !(next.elementsEqual(lz4FrameMagic) || isSkippableFrameMagic(Array(next))) {
                    try skipTrailingBytes()
                    return 0
                }
            }
            if start == end && !reachedEndOfInput { try refill() }
            let step = frameDecoder.decompress(
                input: UnsafeRawBufferPointer(rebasing: buffer[start..<end]), output: output)
            start += step.consumed
            bytesConsumed += step.consumed
            if let failure = step.failure {
                let isChecksum = failure.contains("Checksum")
                throw IngestError(
                    isChecksum ? .checksumMismatch : .corrupt, path: path,
                    "\(name): LZ4 frame \(membersDecoded + 1) is "
                        + (isChecksum ? "damaged (checksum mismatch, \(failure))" : "corrupt (\(failure))")
                        + " near byte \(formatCount(bytesConsumed)); copy the file again from its source, "
                        + "or leave it out.")
            }
            if frameDecoder.isAtFrameBoundary { membersDecoded += 1 }
            if step.produced > 0 { return step.produced }
            if frameDecoder.isAtFrameBoundary { continue }
            if start == end && reachedEndOfInput {
                throw IngestError(
                    .truncated, path: path,
                    "\(name): LZ4 data ends after \(formatCount(bytesConsumed)) bytes "
                        + "(\(formatCount(bytesDelivered)) bytes decompressed) in the middle of frame "
                        + "\(membersDecoded + 1); the file is cut short or still being written: wait until it is "
                        + "complete, or copy it again.")
            }
            if step.consumed == 0 && start < end {
                throw IngestError(
                    .corrupt, path: path,
                    "\(name): LZ4 frame \(membersDecoded + 1) is corrupt near byte \(formatCount(bytesConsumed)) "
                        + "(the decoder stopped making progress); copy the file again, or leave it out.")
            }
        }
    }

    // MARK: Trailing bytes

    /// Reads and ignores everything after the last complete member or frame, recording a warning.
    private func skipTrailingBytes() throws {
        let offset = bytesConsumed
        var count = 0
        var allZero = true
        while true {
            if start < end {
                let pending = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
                if allZero { allZero = !pending.contains { $0 != 0 } }
                count += pending.count
                bytesConsumed += pending.count
                start = end
            }
            if reachedEndOfInput { break }
            try refill()
        }
        warnings.append(
            InputWarning(
                kind: allZero ? .trailingZeros : .trailingGarbage, source: name, offset: offset,
                byteCount: count))
        finished = true
    }

    // MARK: Reading the descriptor

    /// Reads until at least `count` bytes are buffered or the input ends.
    private func fill(atLeast count: Int) throws {
        while end - start < count && !reachedEndOfInput { try refill() }
    }

    /// Moves the unread bytes to the front of the buffer and reads more after them (one `read(2)`).
    private func refill() throws {
        if start > 0 {
            if start < end {
                // Safe because both ranges lie in the buffer; memmove handles the overlap.
                memmove(buffer.baseAddress!, buffer.baseAddress! + start, end - start)
            }
            end -= start
            start = 0
        }
        guard end < buffer.count else { return }
        let count = try readDescriptor(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
        if count == 0 { reachedEndOfInput = true }
        end += count
    }

    /// One `read(2)`, retried on `EINTR`, waiting with `poll(2)` when the descriptor is non-blocking.
    private func readDescriptor(into target: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let count = Glibc.read(descriptor, target.baseAddress, target.count)
            if count >= 0 {
                bytesRead += count
                return count
            }
            let code = errno
            switch code {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK:
                var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                _ = poll(&request, 1, -1)
            case EISDIR:
                throw IngestError(
                    .isDirectory, path: path,
                    "\(name): is a directory, not a log file; give the files inside it instead.")
            default:
                throw IngestError(
                    .inputFailed(errno: code), path: path,
                    "\(name): reading failed after \(formatCount(bytesRead)) bytes: \(errnoText(code)); check the "
                        + "device or file system, then run again.")
            }
        }
    }

    static func openError(path: String, errno code: Int32) -> IngestError {
        switch code {
        case ENOENT:
            return IngestError(
                .notFound, path: path,
                "\(path): no such file; check the path (use '-' to read standard input).")
        case EACCES, EPERM:
            return IngestError(
                .permissionDenied, path: path,
                "\(path): permission denied; run klogs as a user that may read it (for nginx logs, often a member "
                    + "of group 'adm'), or pipe it in: 'sudo cat \(path) | klogs ingest -'.")
        case ENOTDIR:
            return IngestError(
                .notFound, path: path,
                "\(path): a part of the path is not a directory; check the path.")
        case EISDIR:
            return IngestError(
                .isDirectory, path: path,
                "\(path): is a directory, not a log file; give the files inside it instead.")
        default:
            return IngestError(
                .inputFailed(errno: code), path: path,
                "\(path): cannot be opened: \(errnoText(code)).")
        }
    }
}

// MARK: - Decoders

/// Owns a liblz4 frame decompression context and frees it in `deinit`.
final class LZ4FrameDecoder {
    private var context: OpaquePointer?
    /// Whether the last call completed a frame (or none has started yet).
    private(set) var isAtFrameBoundary = true

    init(name: String, path: String?) throws {
        let status = LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(status) == 0, context != nil else {
            throw IngestError(
                .inputFailed(errno: ENOMEM), path: path,
                "\(name): cannot start LZ4 decoding (\(String(cString: LZ4F_getErrorName(status)))); the system may "
                    + "be out of memory.")
        }
    }

    deinit {
        if let context { _ = LZ4F_freeDecompressionContext(context) }
    }

    /// One `LZ4F_decompress` call from `input` into `output`.
    func decompress(input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer)
        -> (consumed: Int, produced: Int, failure: String?)
    {
        var inputCount = input.count
        var outputCount = output.count
        let hint = LZ4F_decompress(context, output.baseAddress, &outputCount, input.baseAddress, &inputCount, nil)
        if LZ4F_isError(hint) != 0 {
            return (inputCount, 0, String(cString: LZ4F_getErrorName(hint)))
        }
        // A hint of 0 means the frame is complete; the context then expects the next frame.
        isAtFrameBoundary = hint == 0
        return (inputCount, outputCount, nil)
    }
}
