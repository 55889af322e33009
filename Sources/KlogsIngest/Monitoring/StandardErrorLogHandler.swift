internal import Glibc
public import Logging

/// A swift-log handler that writes one line per event to standard error, for journald, cron mail or a terminal:
///
///     2026-11-22T03:40:01Z info klogs: ingest finished files_written=2 lines_ingested=1200 lines_read=1203
///
/// The UTC time, the level, the label, the message, then the metadata sorted by key. Line breaks in a message or
/// value become `\n`, so an event is always exactly one line; values with spaces or quotes are quoted.
///
/// klogs logs counts, durations, file names given on the command line and error descriptions: never a client
/// address, a user agent, a request path or a query string. Callers keep it that way; this handler cannot tell.
///
/// ```swift
/// LoggingSystem.bootstrap { label in StandardErrorLogHandler(label: label, logLevel: .info) }
/// ```
public struct StandardErrorLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String

    public init(label: String, logLevel: Logger.Level = .warning) {
        self.label = label
        self.logLevel = logLevel
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let line = Self.format(
            time: Self.utcTimestamp(), level: event.level, label: label, message: "\(event.message)", metadata: merged)
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        // One write(2) per line, so lines from concurrent writers do not interleave.
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                // Safe because offset < buffer.count, so the base address is non-nil and the range is in bounds.
                let written = write(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0, errno == EINTR { continue }
                if written <= 0 { return }
                offset += written
            }
        }
    }

    /// One event as one line (without the line feed).
    static func format(
        time: String, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata
    ) -> String {
        var line = "\(time) \(level) \(label): \(oneLine(message))"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            line += " \(oneLine(key))=\(quotedIfNeeded(oneLine("\(value)")))"
        }
        return line
    }

    private static func oneLine(_ text: String) -> String {
        guard text.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return text }
        return text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
            .joined(separator: "\\n")
    }

    private static func quotedIfNeeded(_ text: String) -> String {
        guard text.isEmpty || text.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) else { return text }
        var out = "\""
        for character in text {
            if character == "\"" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out + "\""
    }

    /// The current UTC time as `yyyy-mm-ddThh:mm:ssZ`.
    private static func utcTimestamp() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
