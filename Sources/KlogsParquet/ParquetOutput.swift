#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
#elseif canImport(Musl)
import Musl
private let systemWrite = Musl.write
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
#endif

/// Where a ``ParquetFileWriter`` sends its bytes.
public protocol ParquetOutput {
    /// The number of bytes written so far (the file offset of the next byte).
    var position: Int64 { get }
    /// Writes `bytes` in full or throws.
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Pushes buffered bytes to their destination; called by ``ParquetFileWriter/close()``.
    mutating func flush() throws
}

extension ParquetOutput {
    public mutating func flush() throws {}
}

/// An output that collects the file in memory, for tests and small files.
public struct InMemoryOutput: ParquetOutput, Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public var position: Int64 { Int64(bytes.count) }

    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        self.bytes.append(contentsOf: bytes)
    }
}

/// Buffered writes to an open POSIX file descriptor, which the caller owns (opens, fsyncs, closes).
///
/// ```swift
/// let fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL, 0o644)
/// let writer = try ParquetFileWriter(output: FileDescriptorOutput(fileDescriptor: fd, path: temporaryPath), ...)
/// ```
public struct FileDescriptorOutput: ParquetOutput, Sendable {
    /// The descriptor written to.
    public let fileDescriptor: Int32
    /// The path named in error messages.
    public let path: String
    private var buffer: [UInt8] = []
    private let bufferSize: Int
    public private(set) var position: Int64

    /// Creates an output that buffers up to `bufferSize` bytes per `write(2)`.
    ///
    /// - Parameters:
    ///   - fileDescriptor: an open, writable descriptor positioned where the file starts.
    ///   - path: the file's name for error messages.
    ///   - bufferSize: bytes collected before a system call; larger writes go straight through.
    ///   - startingPosition: the offset of the descriptor's current position (0 for a new file).
    public init(fileDescriptor: Int32, path: String = "<file descriptor>", bufferSize: Int = 1 << 20,
                startingPosition: Int64 = 0) {
        self.fileDescriptor = fileDescriptor
        self.path = path
        self.bufferSize = max(1, bufferSize)
        self.position = startingPosition
        buffer.reserveCapacity(self.bufferSize)
    }

    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        if buffer.count + bytes.count > bufferSize { try flush() }
        if bytes.count >= bufferSize {
            try writeFully(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
        position += Int64(bytes.count)
    }

    public mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try writeFully($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeFully(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            // Safe because offset < bytes.count, so the base address exists and the range is inside the buffer.
            let written = systemWrite(fileDescriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                let code = errno
                if code == EINTR { continue }
                throw ParquetError(
                    .io, "\(path): writing \(bytes.count - offset) bytes failed: \(String(cString: strerror(code))) (errno \(code))")
            }
            offset += written
        }
    }
}
