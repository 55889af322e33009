#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The work behind `klogs useragent`: classify user agents given as arguments, or one per line of an input, and write
/// one JSON object per line (see ``userAgentJSONLine(_:)``).
///
/// ```swift
/// let classifier = try UserAgentClassifier(rulesPath: rulesPath)
/// try writeUserAgentJSONLines(arguments: agents, classifier: classifier)   // stdin when `agents` is empty
/// ```
///
/// - Parameters:
///   - arguments: user agents to classify; when empty, lines are read from `input` instead (LF or CRLF endings; a
///     last line without a newline counts).
///   - classifier: the classifier to use (its cache helps with repeated lines).
///   - input: a file descriptor to read lines from; standard input by default.
///   - output: a file descriptor to write to; standard output by default.
/// - Throws: ``UserAgentLinesError`` when reading or writing fails.
public func writeUserAgentJSONLines(
    arguments: [String], classifier: UserAgentClassifier, input: Int32 = 0, output: Int32 = 1
) throws(UserAgentLinesError) {
    var writer = LineWriter(descriptor: output)
    if !arguments.isEmpty {
        for agent in arguments { try writer.append(userAgentJSONLine(classifier.classify(agent))) }
        try writer.flush()
        return
    }
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    var pending: [UInt8] = []
    func emit(_ line: ArraySlice<UInt8>) throws(UserAgentLinesError) {
        var line = line
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        let value = line.withUnsafeBufferPointer { classifier.classify($0) }
        try writer.append(userAgentJSONLine(value))
    }
    while true {
        let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            throw .cannotRead(reason: String(cString: strerror(errno)))
        }
        if count == 0 { break }
        pending += buffer[..<count]
        var start = pending.startIndex
        while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
            try emit(pending[start..<newline])
            start = newline + 1
        }
        pending.removeSubrange(..<start)
    }
    if !pending.isEmpty { try emit(pending[...]) }
    try writer.flush()
}

/// Why ``writeUserAgentJSONLines(arguments:classifier:input:output:)`` failed.
public enum UserAgentLinesError: Error, CustomStringConvertible {
    case cannotRead(reason: String)
    case cannotWrite(reason: String)

    public var description: String {
        switch self {
        case .cannotRead(let reason): "cannot read user agents from standard input: \(reason)"
        case .cannotWrite(let reason): "cannot write the classifications: \(reason)"
        }
    }
}

/// Collects lines and writes them in 64 KiB blocks.
private struct LineWriter {
    let descriptor: Int32
    var bytes: [UInt8] = []

    init(descriptor: Int32) {
        self.descriptor = descriptor
        bytes.reserveCapacity(1 << 16)
    }

    mutating func append(_ line: String) throws(UserAgentLinesError) {
        bytes += line.utf8
        bytes.append(UInt8(ascii: "\n"))
        if bytes.count >= 1 << 16 { try flush() }
    }

    mutating func flush() throws(UserAgentLinesError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw .cannotWrite(reason: String(cString: strerror(errno)))
            }
            offset += written
        }
        bytes.removeAll(keepingCapacity: true)
    }
}
