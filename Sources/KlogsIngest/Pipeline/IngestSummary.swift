/// What one ingest run read, kept, rejected and wrote.
///
/// Printed to standard error at the end of `klogs ingest` and written as JSON with `--summary-json`.
/// It never holds log content: only counts, reasons, file names given on the command line and durations.
public struct IngestSummary: Sendable, Equatable {
    /// Bytes read from the inputs after decompression.
    public var bytesRead: Int64 = 0
    /// Bytes read from the inputs before decompression (equal to `bytesRead` for plain input).
    public var compressedBytesRead: Int64 = 0
    /// The format the lines were parsed with (`combined`, `caddy-json`, `custom`, …); `auto` when no line was read.
    public var format: String = ""
    /// Whether the format was detected from the first lines (`--format auto`).
    public var formatDetected = false
    /// Lines read, including rejected ones.
    public var linesRead: Int64 = 0
    /// Lines parsed and stored.
    public var linesIngested: Int64 = 0
    /// Rejected lines by reason (the reasons' stable snake_case names).
    public var rejected: [String: Int64] = [:]
    /// Lines whose client field is not an IP address (a host name, `-`, `unix:`); still ingested.
    public var clientsNotIP: Int64 = 0
    /// Parquet files made visible by this run.
    public var filesWritten: Int = 0
    /// Wall-clock duration of the run in seconds.
    public var elapsedSeconds: Double = 0
    /// Problems that did not stop the run (trailing garbage after gzip data, an unreadable input among several).
    public var warnings: [String] = []
    /// Inputs that could not be read to their end, with the reason.
    public var inputErrors: [String] = []
    /// What the ingest ledger decided per input (read from byte N, skipped as already ingested), and recovery.
    public var notes: [String] = []
    /// The signal (SIGINT 2, SIGTERM 15) that stopped the reading of files before their end, or 0. What was read
    /// up to then was committed; the next run reads the rest.
    public var stoppedBySignal: Int32 = 0

    // Privacy counters (docs/PRIVACY.md).
    /// Lines of a day whose pseudonym key was already destroyed, pseudonymised with a key made for this run only.
    public var lateLinesEphemeralKey: Int64 = 0
    /// Pseudonym keys destroyed by this run because their day is past the grace period.
    public var keysExpired: Int = 0
    /// Lines whose selected client is neither an IP address nor a host name (`-`, `unix:`, `unknown`, garbage).
    public var clientsInvalid: Int64 = 0
    /// Lines whose client was taken from an X-Forwarded-For chain rather than the first logged address.
    public var clientsFromForwardedFor: Int64 = 0
    /// Lines whose stored path had address-like text replaced by `:ip`.
    public var pathsAddressMasked: Int64 = 0
    /// Lines whose stored path was cut to the maximum length.
    public var pathsTruncated: Int64 = 0
    /// Lines whose query string lost parameters (all but the kept ones).
    public var queriesDropped: Int64 = 0
    /// Lines written to the reject report.
    public var rejectsReported: Int64 = 0

    public init() {}

    /// Lines rejected for any reason.
    public var linesRejected: Int64 { rejected.values.reduce(0, +) }

    /// Adds what an input reader read (bytes before and after decompression) and its warnings.
    mutating func addCounts(of reader: InputReader) {
        bytesRead += Int64(reader.bytesDelivered)
        compressedBytesRead += Int64(reader.bytesRead)
        warnings.append(contentsOf: reader.warnings.map(\.description))
    }

    /// Lines read per second of wall-clock time.
    public var linesPerSecond: Double { elapsedSeconds > 0 ? Double(linesRead) / elapsedSeconds : 0 }

    /// The summary as one JSON object with stable keys.
    public var json: String {
        var out = "{"
        out += "\"bytes_read\":\(bytesRead),"
        out += "\"compressed_bytes_read\":\(compressedBytesRead),"
        out += "\"format\":\(jsonString(format)),"
        out += "\"format_detected\":\(formatDetected),"
        out += "\"lines_read\":\(linesRead),"
        out += "\"lines_ingested\":\(linesIngested),"
        out += "\"lines_rejected\":\(linesRejected),"
        out += "\"rejected\":{"
        out += rejected.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\($0.value)" }.joined(separator: ",")
        out += "},"
        out += "\"clients_not_ip\":\(clientsNotIP),"
        out += "\"files_written\":\(filesWritten),"
        out += "\"elapsed_seconds\":\(formatFixed(elapsedSeconds, decimals: 3)),"
        out += "\"lines_per_second\":\(formatFixed(linesPerSecond, decimals: 0)),"
        out += "\"warnings\":[\(warnings.map(jsonString).joined(separator: ","))],"
        out += "\"input_errors\":[\(inputErrors.map(jsonString).joined(separator: ","))],"
        out += "\"late_lines_ephemeral_key\":\(lateLinesEphemeralKey),"
        out += "\"keys_expired\":\(keysExpired),"
        out += "\"clients_invalid\":\(clientsInvalid),"
        out += "\"clients_from_forwarded_for\":\(clientsFromForwardedFor),"
        out += "\"paths_address_masked\":\(pathsAddressMasked),"
        out += "\"paths_truncated\":\(pathsTruncated),"
        out += "\"queries_dropped\":\(queriesDropped),"
        out += "\"rejects_reported\":\(rejectsReported),"
        out += "\"stopped_by_signal\":\(stoppedBySignal)"
        out += "}\n"
        return out
    }

    /// The summary as a few lines for a person at a terminal.
    public var text: String {
        var lines: [String] = []
        let compressed = compressedBytesRead != bytesRead ? " (\(formatBytes(compressedBytesRead)) compressed)" : ""
        lines.append("read     \(formatCount(linesRead)) lines, \(formatBytes(bytesRead))\(compressed)")
        if !format.isEmpty {
            lines.append("format   \(format)\(formatDetected ? " (detected from the first lines)" : "")")
        }
        lines.append("ingested \(formatCount(linesIngested)) lines")
        if linesRejected > 0 {
            let reasons = rejected.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
                .map { "\($0.key) \(formatCount($0.value))" }.joined(separator: ", ")
            lines.append("rejected \(formatCount(linesRejected)) lines: \(reasons)")
        } else {
            lines.append("rejected 0 lines")
        }
        if clientsNotIP > 0 {
            lines.append("note     \(formatCount(clientsNotIP)) lines have a client that is not an IP address")
        }
        if lateLinesEphemeralKey > 0 {
            lines.append(
                "note     \(formatCount(lateLinesEphemeralKey)) late lines of days whose key is destroyed got a "
                    + "one-run key")
        }
        if keysExpired > 0 { lines.append("expired  \(keysExpired) pseudonym keys") }
        lines.append("wrote    \(filesWritten) files")
        lines.append(
            "took     \(formatFixed(elapsedSeconds, decimals: 2)) s, \(formatCount(Int64(linesPerSecond))) lines/s")
        for note in notes { lines.append("input    \(note)") }
        for warning in warnings { lines.append("warning  \(warning)") }
        for error in inputErrors { lines.append("error    \(error)") }
        if stoppedBySignal != 0 {
            lines.append(
                "stopped  by \(StopSignals.name(of: stoppedBySignal)): what was read is committed; run the same "
                    + "command again to read the rest")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `1234567` → `1,234,567`.
public func formatCount(_ value: Int64) -> String {
    let digits = String(value.magnitude)
    var out = ""
    for (index, character) in digits.enumerated() {
        if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
        out.append(character)
    }
    return value < 0 ? "-" + out : out
}

/// A byte count in the largest binary unit that keeps it above 1: `1.5 MiB`.
public func formatBytes(_ value: Int64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var amount = Double(value)
    var unit = 0
    while amount >= 1024, unit < units.count - 1 {
        amount /= 1024
        unit += 1
    }
    return unit == 0 ? "\(value) B" : "\(formatFixed(amount, decimals: 1)) \(units[unit])"
}

/// A fixed-point rendering without Foundation: `formatFixed(3.14159, decimals: 2)` is `3.14`.
public func formatFixed(_ value: Double, decimals: Int) -> String {
    guard value.isFinite else { return "0" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (value.magnitude * scale).rounded()
    let whole = Int64(scaled / scale)
    let fraction = Int64(scaled - Double(whole) * scale)
    let sign = value < 0 && scaled > 0 ? "-" : ""
    guard decimals > 0 else { return sign + String(whole) }
    var fractionText = String(fraction)
    while fractionText.count < decimals { fractionText = "0" + fractionText }
    return sign + String(whole) + "." + fractionText
}

/// A JSON string literal, escaping quotes, backslashes and control characters.
public func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case let c where c.value < 0x20:
            let hex = String(c.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
