import ArgumentParser
import Foundation
import KlogsCore
import KlogsIngest
import KlogsParquet
import Logging

extension Klogs {
    struct Ingest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read access logs and add them, anonymised, to the dataset.",
            discussion: """
                Reads the given files, or standard input when there are none or the file is "-", so that \
                `tail -F access.log | klogs ingest` and `zcat *.gz | klogs ingest` work. gzip (also multi-member) \
                and LZ4 frame input are recognised by their first bytes. A line that does not parse is counted \
                by reason and skipped. A summary goes to standard error at the end.

                Exit status: 0 when every input was read to its end (even with rejected lines); 2 when an input \
                could not be read to its end (what was read before the fault is kept); 3 when the dataset could \
                not be written (nothing of the run becomes visible); 64 for invalid options.
                """)

        @Argument(help: "Access-log files to read; \"-\" or none reads standard input.")
        var files: [String] = []

        @Option(name: .long, help: "The data directory (default: $KLOGS_DATA, else ./klogs-data).")
        var data: String?

        @Option(
            name: .long,
            help: ArgumentHelp(
                "The access-log format: auto (detect from the first lines), or a preset: \(presetNames).",
                discussion: "`klogs formats` shows each preset's definition."))
        var format: String = "auto"

        @Option(
            name: .customLong("log-format"),
            help: """
                An nginx log_format or Apache LogFormat string to parse the input with, e.g. \
                '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent'; \
                overrides --format.
                """)
        var logFormat: String?

        @Option(
            name: .customLong("json-fields"),
            help: """
                JSON lines: which keys hold the fields, as target=key.path[|alternative],… with targets client, \
                forwarded_for, time, request, method, uri, path, query, protocol, status, bytes, referrer, \
                user_agent, host; overrides those of a JSON --format preset.
                """)
        var jsonFields: String?

        @Option(
            name: .customLong("ip-mode"),
            help: "How client addresses are anonymised: hash, truncate, drop, or a combination like hash,truncate.")
        var ipMode: String = "hash"

        @Option(name: .customLong("ipv4-prefix"), help: "IPv4 prefix length kept in truncate mode (8 to 32).")
        var ipv4Prefix: Int = 24

        @Option(name: .customLong("ipv6-prefix"), help: "IPv6 prefix length kept in truncate mode (16 to 128).")
        var ipv6Prefix: Int = 48

        @Flag(name: .customLong("no-events"), help: "Write only the hourly hits dataset, not one row per request.")
        var noEvents = false

        @Option(name: .long, help: "Parquet page compression.")
        var compression: CompressionOption = .lz4Raw

        @Option(name: .customLong("ua-rules"), help: "A uap-core regexes.yaml to classify user agents with.")
        var userAgentRules: String?

        @Option(name: .customLong("summary-json"), help: "Also write the run summary as JSON to this file.")
        var summaryJSON: String?

        @Flag(name: .shortAndLong, help: "Print nothing on success.")
        var quiet = false

        @Option(
            name: .customLong("key-grace"),
            help: "How long a UTC day's pseudonym key is kept after the day ends (48h, 2d, 90m); then it is destroyed.")
        var keyGrace: String = "48h"

        @Option(
            name: .customLong("client-ip-from"),
            help: "Where the client address comes from: the client field, or the right-most untrusted X-Forwarded-For.")
        var clientIPFrom: ClientAddressOption = .client

        @Option(
            name: .customLong("trusted-proxies"),
            help: "Comma-separated networks (CIDR) of proxies whose X-Forwarded-For entries are believed.")
        var trustedProxies: String?

        @Option(
            name: .customLong("keep-query-params"),
            help: "Comma-separated query parameters whose values are kept (utm_source,utm_medium); others are dropped.")
        var keepQueryParams: String?

        @Option(
            name: .customLong("max-path-length"),
            help: "The longest stored path in bytes, query included (16 to 65536).")
        var maxPathLength: Int = 1024

        @Option(
            name: .customLong("path-rewrite"),
            help: "A REGEX=REPLACEMENT rule applied to paths before storage (PCRE2, $1 for groups); may be repeated.")
        var pathRewrites: [String] = []

        @Option(name: .customLong("rejects"), help: "Write 'file:line: reason' for every rejected line to this file.")
        var rejects: String?

        @Option(
            name: .customLong("metrics-file"),
            help: """
                Write the run's figures (lines read, ingested and rejected by reason, files written, duration, \
                last success time) to this file in the Prometheus text format, atomically, for node_exporter's \
                textfile collector; the name should end in .prom.
                """)
        var metricsFile: String?

        @Option(
            name: .customLong("log-level"),
            help: "The least severe events logged to standard error, one line each; logs never hold log content.")
        var logLevel: LogLevelOption = .warning

        func validate() throws {
            _ = try resolvedFormat()
            guard IPMode(parsing: ipMode) != nil else {
                throw ValidationError(
                    "'\(ipMode)' is not an IP mode: use hash, truncate, drop, or a combination like hash,truncate.")
            }
            guard (8...32).contains(ipv4Prefix) else {
                throw ValidationError("--ipv4-prefix must be between 8 and 32, not \(ipv4Prefix).")
            }
            guard (16...128).contains(ipv6Prefix) else {
                throw ValidationError("--ipv6-prefix must be between 16 and 128, not \(ipv6Prefix).")
            }
            try validatePrivacyOptions()
            if let metricsFile {
                let directory = URL(fileURLWithPath: metricsFile).deletingLastPathComponent().path
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
                else {
                    throw ValidationError(
                        "--metrics-file: the directory '\(directory)' does not exist; create it or choose another path.")
                }
            }
        }

        func run() throws {
            var configuration = IngestConfiguration(
                dataDirectory: data ?? defaultDataDirectory(), inputs: files)
            configuration.format = try resolvedFormat()
            configuration.ipMode = IPMode(parsing: ipMode) ?? .hash
            configuration.ipv4Prefix = ipv4Prefix
            configuration.ipv6Prefix = ipv6Prefix
            configuration.writeEvents = !noEvents
            configuration.compression = compression.parquetCompression
            configuration.userAgentRules = userAgentRules
            applyPrivacyOptions(to: &configuration)

            let logger = Logger(label: "klogs") { StandardErrorLogHandler(label: $0, logLevel: logLevel.level) }
            logger.info("ingest started", metadata: ["inputs": "\(max(files.count, 1))", "data": "\(configuration.dataDirectory)"])

            let summary: IngestSummary
            do {
                summary = try Ingestor(configuration: configuration).run()
            } catch let error as IngestFailure {
                if let partial = error.summary {
                    try? writeSummary(partial)
                }
                logger.error("ingest failed; nothing of this run was stored", metadata: ["reason": "\(error.message)"])
                writeMetrics(error.summary ?? IngestSummary(), succeeded: false, logger: logger)
                printError("klogs ingest: \(error.message)")
                throw ExitCode.outputError
            }
            for warning in summary.warnings { logger.warning("input warning", metadata: ["detail": "\(warning)"]) }
            for inputError in summary.inputErrors {
                logger.error("input not read to its end", metadata: ["detail": "\(inputError)"])
            }
            logger.info(
                "ingest finished",
                metadata: [
                    "lines_read": "\(summary.linesRead)", "lines_ingested": "\(summary.linesIngested)",
                    "lines_rejected": "\(summary.linesRejected)", "files_written": "\(summary.filesWritten)",
                    "seconds": "\(formatFixed(summary.elapsedSeconds, decimals: 3))",
                ])
            writeMetrics(summary, succeeded: summary.inputErrors.isEmpty, logger: logger)
            try writeSummary(summary)
            if !quiet || !summary.inputErrors.isEmpty {
                FileHandle.standardError.write(Data(summary.text.utf8))
            }
            if !summary.inputErrors.isEmpty { throw ExitCode.inputError }
        }

        /// Writes the metrics file, if one was asked for; a failure is logged but does not change the exit status,
        /// since the dataset is already committed (a stale file shows in monitoring as an old last success time).
        private func writeMetrics(_ summary: IngestSummary, succeeded: Bool, logger: Logger) {
            guard let metricsFile else { return }
            do {
                try MetricsFile.write(IngestMetrics(summary: summary, succeeded: succeeded), to: metricsFile)
                logger.debug("metrics written", metadata: ["path": "\(metricsFile)"])
            } catch {
                logger.error("cannot write the metrics file", metadata: ["path": "\(metricsFile)", "reason": "\(error)"])
            }
        }

        private func writeSummary(_ summary: IngestSummary) throws {
            guard let summaryJSON else { return }
            do {
                // Created 0640 (less if the umask says so) like every other output, and replaced atomically.
                let url = URL(fileURLWithPath: summaryJSON)
                let file = try AtomicFile(
                    directory: url.deletingLastPathComponent().path, name: url.lastPathComponent, permissions: 0o640)
                try file.write(Array(summary.json.utf8))
                try file.commit()
            } catch {
                printError("klogs ingest: cannot write the summary to \(summaryJSON): \(error)")
                throw ExitCode.outputError
            }
        }
    }
}

/// The preset names for help texts: `auto`, `combined`, ….
let presetNames = LogFormat.presets.map(\.name).joined(separator: ", ")

extension Klogs.Ingest {
    /// The format from --format, --log-format and --json-fields; `nil` for auto-detection.
    func resolvedFormat() throws -> LogFormat? {
        if let logFormat {
            do {
                return try LogFormat.compile(logFormat)
            } catch let error as FormatError {
                throw ValidationError("--log-format: \(error.message)")
            }
        }
        var base: LogFormat? = nil
        if format != "auto" {
            guard let preset = LogFormat.preset(named: format) else {
                throw ValidationError("'\(format)' is not a format: use auto or one of \(presetNames).")
            }
            base = preset
        }
        if let jsonFields {
            var baseMapping: JSONFormat? = nil
            if case .json(let mapping)? = base { baseMapping = mapping }
            do {
                return .json(try JSONFormat(fields: jsonFields, base: baseMapping))
            } catch let error as FormatError {
                throw ValidationError("--json-fields: \(error.message)")
            }
        }
        return base
    }
}

enum CompressionOption: String, ExpressibleByArgument, CaseIterable {
    case lz4Raw = "lz4-raw"
    case uncompressed

    var parquetCompression: ParquetCompression {
        switch self {
        case .lz4Raw: .lz4Raw
        case .uncompressed: .uncompressed
        }
    }
}

/// The levels of `--log-level`, least to most severe.
enum LogLevelOption: String, ExpressibleByArgument, CaseIterable {
    case trace, debug, info, notice, warning, error, critical

    var level: Logger.Level { Logger.Level(rawValue: rawValue) ?? .warning }
}

/// `$KLOGS_DATA`, else `./klogs-data`.
func defaultDataDirectory() -> String {
    if let path = ProcessInfo.processInfo.environment["KLOGS_DATA"], !path.isEmpty { return path }
    return "./klogs-data"
}

/// Writes one line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
