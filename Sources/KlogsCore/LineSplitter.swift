/// One line produced by ``LineSplitter``.
public enum SplitLine {
    /// A complete line: its bytes without the `\n` and without a trailing `\r`.
    ///
    /// The buffer is valid only during the callback: it points into the fed chunk or into the splitter's carry buffer.
    case complete(UnsafeRawBufferPointer)
    /// A line longer than the splitter's limit. Its bytes were dropped up to the next newline, never buffered.
    case overlong
}

/// Splits a stream of byte chunks into lines, never rescanning a byte and never allocating in the steady state.
///
/// Feed chunks of any size; the splitter calls `body` with each complete line and its 1-based line number. The
/// partial last line of a chunk is carried over in a reused buffer; lines wholly inside a chunk are handed out
/// without a copy. Newlines are found with `memchr`. A line longer than ``maximumLineLength`` is reported once as
/// ``SplitLine/overlong`` and its bytes are dropped until the next newline, so memory stays bounded.
///
/// ```swift
/// var splitter = LineSplitter()
/// chunk.withUnsafeBytes { splitter.feed($0) { number, line in ... } }
/// splitter.finish { number, line in ... }   // a last line without a newline
/// ```
public struct LineSplitter: Sendable {
    /// The longest line accepted, in bytes before the `\n` (a trailing `\r` counts).
    public let maximumLineLength: Int
    /// The number of lines reported so far (complete and overlong).
    public private(set) var lineCount: Int = 0
    /// The partial last line of the previous chunk.
    private var carry: [UInt8] = []
    /// True while dropping the rest of an overlong line.
    private var dropping = false

    /// Creates a splitter.
    /// - Parameter maximumLineLength: the longest line accepted; 64 KiB by default.
    public init(maximumLineLength: Int = 64 * 1024) {
        precondition(maximumLineLength > 0, "maximumLineLength must be positive")
        self.maximumLineLength = maximumLineLength
        carry.reserveCapacity(min(maximumLineLength, 4096))
    }

    /// Splits one chunk, calling `body` for each line completed in it.
    ///
    /// - Parameters:
    ///   - chunk: the next bytes of the stream, of any size (even empty).
    ///   - body: called with the 1-based line number and the line, in order.
    /// - Complexity: O(chunk.count); lines inside the chunk are not copied.
    public mutating func feed(
        _ chunk: UnsafeRawBufferPointer, _ body: (_ number: Int, _ line: SplitLine) throws -> Void
    ) rethrows {
        let end = chunk.count
        var position = 0
        if dropping {
            guard let newline = ByteSearch.first(UInt8(ascii: "\n"), in: chunk, from: 0, to: end) else { return }
            dropping = false
            position = newline + 1
        } else if !carry.isEmpty {
            guard let newline = ByteSearch.first(UInt8(ascii: "\n"), in: chunk, from: 0, to: end) else {
                appendToCarry(chunk, from: 0, to: end)
                if dropping {
                    lineCount += 1
                    try body(lineCount, .overlong)
                }
                return
            }
            position = newline + 1
            lineCount += 1
            if carry.count + newline > maximumLineLength {
                carry.removeAll(keepingCapacity: true)
                try body(lineCount, .overlong)
            } else {
                carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<newline]))
                try carry.withUnsafeBytes { try body(lineCount, .complete(Self.trimmingReturn($0, 0, $0.count))) }
                carry.removeAll(keepingCapacity: true)
            }
        }
        while position < end {
            guard let newline = ByteSearch.first(UInt8(ascii: "\n"), in: chunk, from: position, to: end) else {
                appendToCarry(chunk, from: position, to: end)
                if dropping {
                    lineCount += 1
                    try body(lineCount, .overlong)
                }
                return
            }
            lineCount += 1
            if newline - position > maximumLineLength {
                try body(lineCount, .overlong)
            } else {
                try body(lineCount, .complete(Self.trimmingReturn(chunk, position, newline)))
            }
            position = newline + 1
        }
    }

    /// Emits the last line if the stream did not end with a newline, and resets the splitter for a new stream.
    ///
    /// - Parameter body: called at most once, with the final line.
    public mutating func finish(_ body: (_ number: Int, _ line: SplitLine) throws -> Void) rethrows {
        defer {
            carry.removeAll(keepingCapacity: true)
            dropping = false
        }
        guard !carry.isEmpty else { return }
        lineCount += 1
        try carry.withUnsafeBytes { try body(lineCount, .complete(Self.trimmingReturn($0, 0, $0.count))) }
    }

    /// Forgets any partial line and restarts the numbering, keeping the carry buffer's capacity.
    public mutating func reset() {
        carry.removeAll(keepingCapacity: true)
        dropping = false
        lineCount = 0
    }

    /// Appends `chunk[start..<end]` to the carry, or switches to dropping when the line would exceed the limit.
    private mutating func appendToCarry(_ chunk: UnsafeRawBufferPointer, from start: Int, to end: Int) {
        if carry.count + (end - start) > maximumLineLength {
            carry.removeAll(keepingCapacity: true)
            dropping = true
        } else {
            carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[start..<end]))
        }
    }

    @inline(__always)
    private static func trimmingReturn(_ buffer: UnsafeRawBufferPointer, _ start: Int, _ end: Int)
        -> UnsafeRawBufferPointer
    {
        var end = end
        if end > start && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: buffer[start..<end])
    }
}
