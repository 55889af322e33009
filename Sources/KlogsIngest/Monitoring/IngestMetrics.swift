internal import Glibc
import KlogsCore

/// The figures of one ingest run as a Prometheus textfile, for node_exporter's textfile collector.
///
/// Every figure is a gauge describing the latest run (`klogs_ingest_lines_read` is the lines that run read), so a
/// dashboard plots runs and an alert compares `time() - klogs_ingest_last_success_timestamp_seconds` with the
/// schedule. Rejected lines are broken down by reason, every reason always present (0 when none), so that a rate
/// or a sum over reasons never sees a series disappear. Only counts, durations and times: never log content.
///
/// ```swift
/// var metrics = IngestMetrics(summary: summary, succeeded: true)
/// try MetricsFile.write(metrics, to: "/var/lib/prometheus/node-exporter/klogs.prom")
/// ```
public struct IngestMetrics: Sendable {
    /// The run's counts so far (the final ones at the end of a run, the committed ones in pipe mode).
    public var summary: IngestSummary
    /// Whether the run (or, in pipe mode, the latest commit) succeeded.
    public var succeeded: Bool
    /// When these figures were taken, in seconds since the Unix epoch.
    public var timestamp: Double
    /// When a run last succeeded, in seconds since the Unix epoch; `timestamp` when this one did, otherwise the
    /// value carried over from the previous metrics file (nil when there was none).
    public var lastSuccessTimestamp: Double?

    public init(summary: IngestSummary, succeeded: Bool, timestamp: Double = MetricsFile.now()) {
        self.summary = summary
        self.succeeded = succeeded
        self.timestamp = timestamp
        self.lastSuccessTimestamp = succeeded ? timestamp : nil
    }

    /// The document in the Prometheus text format.
    public var text: String {
        var out = PrometheusText()
        out.family("klogs_build_info", type: .gauge, help: "The klogs version and git commit that wrote this file.")
        out.sample("klogs_build_info", labels: ["version": KlogsVersion.number, "commit": KlogsVersion.commit], value: 1)

        out.family("klogs_ingest_lines_read", type: .gauge, help: "Lines read by the last ingest run, rejected ones included.")
        out.sample("klogs_ingest_lines_read", value: summary.linesRead)
        out.family("klogs_ingest_lines_ingested", type: .gauge, help: "Lines parsed and stored by the last ingest run.")
        out.sample("klogs_ingest_lines_ingested", value: summary.linesIngested)

        out.family("klogs_ingest_lines_rejected", type: .gauge, help: "Lines rejected by the last ingest run, by reason.")
        var reasons = Set(RejectReason.allCases.map(\.rawValue))
        reasons.formUnion([Retention.rejectReason, Retention.futureRejectReason])  // counted by date, not parse
        reasons.formUnion(summary.rejected.keys)
        for reason in reasons.sorted() {
            out.sample("klogs_ingest_lines_rejected", labels: ["reason": reason], value: summary.rejected[reason] ?? 0)
        }

        out.family("klogs_ingest_bytes_read", type: .gauge, help: "Bytes read by the last ingest run, after decompression.")
        out.sample("klogs_ingest_bytes_read", value: summary.bytesRead)
        out.family("klogs_ingest_files_written", type: .gauge, help: "Parquet files made visible by the last ingest run.")
        out.sample("klogs_ingest_files_written", value: Int64(summary.filesWritten))
        out.family("klogs_ingest_input_errors", type: .gauge, help: "Inputs the last ingest run could not read to their end.")
        out.sample("klogs_ingest_input_errors", value: Int64(summary.inputErrors.count))
        out.family("klogs_ingest_duration_seconds", type: .gauge, help: "Wall-clock duration of the last ingest run.")
        out.sample("klogs_ingest_duration_seconds", value: summary.elapsedSeconds)

        out.family("klogs_ingest_last_run_success", type: .gauge, help: "1 when the last ingest run succeeded, 0 when it failed.")
        out.sample("klogs_ingest_last_run_success", value: succeeded ? 1 : 0)
        out.family("klogs_ingest_last_run_timestamp_seconds", type: .gauge, help: "When the last ingest run wrote these figures, in Unix time.")
        out.sample("klogs_ingest_last_run_timestamp_seconds", value: timestamp)
        if let lastSuccessTimestamp {
            out.family(
                "klogs_ingest_last_success_timestamp_seconds", type: .gauge,
                help: "When an ingest run last succeeded, in Unix time.")
            out.sample("klogs_ingest_last_success_timestamp_seconds", value: lastSuccessTimestamp)
        }
        return out.document
    }
}

/// Writes metrics files atomically: node_exporter never reads half a file.
public enum MetricsFile {
    /// Writes `metrics` to `path` through an `AtomicFile` (a hidden temporary file in the same directory, renamed),
    /// mode 0644 so that node_exporter, running as another user, can read it.
    ///
    /// When the run failed, the last success time is carried over from the file being replaced.
    ///
    /// - Throws: `IngestError` naming the path when the directory does not exist or is not writable.
    public static func write(_ metrics: IngestMetrics, to path: String) throws {
        var metrics = metrics
        if metrics.lastSuccessTimestamp == nil {
            metrics.lastSuccessTimestamp = lastSuccessTimestamp(inFileAt: path)
        }
        let (directory, name) = split(path)
        let file = try AtomicFile(directory: directory, name: name, permissions: 0o644)
        try file.write(Array(metrics.text.utf8))
        try file.commit()
    }

    /// The `klogs_ingest_last_success_timestamp_seconds` value of an existing metrics file, if any.
    public static func lastSuccessTimestamp(inFileAt path: String) -> Double? {
        guard let text = readSmallFile(path) else { return nil }
        let prefix = "klogs_ingest_last_success_timestamp_seconds "
        for line in text.split(separator: "\n") where line.hasPrefix(prefix) {
            return Double(line.dropFirst(prefix.count))
        }
        return nil
    }

    /// The current time in seconds since the Unix epoch.
    public static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    private static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    /// Reads at most 64 KiB of a file as UTF-8; nil when it cannot be opened.
    private static func readSmallFile(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { _ = close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 64 * 1024)
        var count = 0
        while count < bytes.count {
            let got = bytes.withUnsafeMutableBytes { buffer in
                // Safe because count < buffer.count, so the base address is non-nil and the range is in bounds.
                read(descriptor, buffer.baseAddress! + count, buffer.count - count)
            }
            if got < 0, errno == EINTR { continue }
            if got <= 0 { break }
            count += got
        }
        return String(decoding: bytes[..<count], as: UTF8.self)
    }
}
