import ArgumentParser
import Foundation
import KlogsCore
import KlogsIngest
import KlogsParquet
import KlogsUserAgent
import Logging

extension Klogs {
    struct Ingest: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ingest",
            abstract: "Read access logs and add them, anonymised, to the dataset.",
            discussion: """
                Reads the given files, or standard input when there are none or the file is "-", so that \
                `tail -F access.log | klogs ingest` and `zcat *.gz | klogs ingest` work. gzip (also multi-member) \
                and LZ4 frame input are recognised by their first bytes. A line that does not parse is counted \
                by reason and skipped. A summary goes to standard error at the end.

                Exit status: 0 when every input was read to its end (even with rejected lines); 2 when an input \
                could not be read to its end (what was read before the fault is kept); 3 when the dataset could \
                not be written (nothing of the run becomes visible); 64 for invalid options; 65 when no format \
                fits the input (--format auto); 75 when another klogs process holds the data directory's lock \
                (after --wait); 130 or 143 when SIGINT or SIGTERM stopped the reading of files (what was read is \
                committed, the next run reads the rest; with standard input a signal is the normal end: 0).

                Every file is recognised by its first 4 KiB (decompressed) in the ingest ledger \
                (DATA/_klogs/ledger.json): re-running ingests nothing twice, a grown file is read from where the \
                last run stopped, and a rotated or compressed copy of ingested data is skipped. See \
                docs/OPERATIONS.md.
                """)

        @Argument(help: "Access-log files to read; \"-\" or none reads standard input.")
        var files: [String] = []

        @Option(name: .long, help: "The data directory (default: $KLOGS_DATA, else ./klogs-data).")
        var data: String?

        @Option(
            name: .long,
            help: ArgumentHelp(
                "The access-log format: auto (detect from the first lines), or a preset: \(presetNames) (default: auto).",
                discussion: "`klogs formats` shows each preset's definition."))
        var format: String?

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
            help: "How client addresses are anonymised: hash, truncate, drop, or a combination (default: hash).")
        var ipMode: String?

        @Option(
            name: .customLong("ipv4-prefix"), help: "IPv4 prefix length kept in truncate mode (8 to 32; default 24).")
        var ipv4Prefix: Int?

        @Option(
            name: .customLong("ipv6-prefix"), help: "IPv6 prefix length kept in truncate mode (16 to 128; default 48).")
        var ipv6Prefix: Int?

        @Flag(name: .customLong("no-events"), help: "Write only the hourly hits dataset, not one row per request.")
        var noEvents = false

        @Option(name: .long, help: "Parquet page compression (default: lz4-raw).")
        var compression: CompressionOption?

        @Option(name: .customLong("ua-rules"), help: "A uap-core regexes.yaml to classify user agents with.")
        var userAgentRules: String?

        @Flag(
            name: .customLong("no-ua-rules-cache"),
            help: """
                Analyse the user-agent rules afresh, without reading or writing the cache of analysed rules \
                ($XDG_CACHE_HOME/klogs or ~/.cache/klogs).
                """)
        var noUserAgentRuleCache = false

        /// Off, every request is classified `Other` without loading the rules: for measuring what classification
        /// costs (the benchmarks set `classifiesUserAgents` directly), so it is not shown in the help.
        @Flag(name: .customLong("skip-user-agent-classification"), help: .private)
        var skipsUserAgentClassification = false

        /// The class limit is a memory bound against crafted user agents; tests lower it to reach it with small
        /// inputs, so it is not shown in the help.
        @Option(name: .customLong("user-agent-class-limit"), help: .private)
        var userAgentClassLimit: Int?

        @Option(name: .customLong("summary-json"), help: "Also write the run summary as JSON to this file.")
        var summaryJSON: String?

        @Flag(name: .shortAndLong, help: "Print nothing on success, and no progress bar.")
        var quiet = false

        @Flag(name: .customLong("dry-run"), help: "Say what would be read from each input; read and write nothing.")
        var dryRun = false

        @Option(name: .long, help: "Wait up to this many seconds for another klogs writing the data directory.")
        var wait: Double?

        @Option(
            name: .customLong("flush-interval"),
            help: "With standard input, commit what was read at least every this many seconds (default 60).")
        var flushInterval: Double?

        @Option(
            name: .customLong("flush-lines"),
            help: "With standard input, also commit every this many lines (default 1000000).")
        var flushLines: Int?

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Threads that parse files (default: one per core); 1 reads every line on one thread. Standard "
                    + "input is always read on one thread. The output is the same whatever the number."))
        var threads: Int?

        @Option(
            name: .customLong("retention-days"),
            help: "Refuse (count and skip) lines older than this many days; 0 keeps everything (default 365).")
        var retentionDays: Int?

        @Option(
            name: .long,
            help: "A klogs.toml configuration file (default: DATA/klogs.toml when it exists); flags override it.")
        var config: String?

        @Option(
            name: .customLong("key-grace"),
            help: """
                How long a UTC day's pseudonym key is kept after the day ends (48h, 2d, 90m; default 48h); then it \
                is destroyed.
                """)
        var keyGrace: String?

        @Option(
            name: .customLong("client-ip-from"),
            help: """
                Where the client address comes from: the client field (the default), or the right-most untrusted \
                X-Forwarded-For.
                """)
        var clientIPFrom: ClientAddressOption?

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
            help: "The longest stored path in bytes, query included (16 to 65536; default 1024).")
        var maxPathLength: Int?

        @Option(
            name: .customLong("path-rewrite"),
            help: "A REGEX=REPLACEMENT rule applied to paths before storage (PCRE2, $1 for groups); may be repeated.")
        var pathRewrites: [String] = []

        @Option(
            name: .customLong("asset-extensions"),
            help: ArgumentHelp(
                "Comma-separated file extensions that make a request an asset, not a page view, in the kind column; "
                    + "replaces the default list of images, CSS, JavaScript, fonts and media (docs/METRICS.md).",
                valueName: "extensions"))
        var assetExtensions: String?

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
            help: """
                The least severe events logged to standard error, one line each (default warning); logs never hold \
                log content.
                """)
        var logLevel: LogLevelOption?

        func validate() throws {
            _ = try resolvedFormat(format ?? "auto", logFormat: logFormat, jsonFields: jsonFields)
            try Self.check(ipMode: ipMode, ipv4Prefix: ipv4Prefix, ipv6Prefix: ipv6Prefix)
            for value in [wait, flushInterval].compactMap({ $0 }) where value < 0 {
                throw ValidationError("--wait and --flush-interval must be 0 or more, not \(value).")
            }
            if let flushLines, flushLines <= 0 {
                throw ValidationError("--flush-lines must be more than 0, not \(flushLines).")
            }
            if let threads, threads <= 0 {
                throw ValidationError("--threads must be more than 0, not \(threads).")
            }
            if let retentionDays, retentionDays < 0 {
                throw ValidationError("--retention-days must be 0 or more, not \(retentionDays).")
            }
            try validatePrivacyOptions()
            if let assetExtensions {
                _ = try Self.parseAssetExtensions(assetExtensions.split(separator: ",").map(String.init))
            }
            if let metricsFile { try Self.checkMetricsFile(metricsFile, name: "--metrics-file") }
        }

        /// Checks that the metrics file's directory exists, so a typo fails before the run rather than after it.
        static func checkMetricsFile(_ path: String, name: String) throws {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
            else {
                throw ValidationError(
                    "\(name): the directory '\(directory)' does not exist; create it or choose another path.")
            }
        }

        /// The `--asset-extensions` list (or the file's `asset_extensions`), checked.
        static func parseAssetExtensions(_ list: [String]) throws -> AssetExtensions {
            let list = list.map { String($0.filter { $0 != " " }) }
            guard let extensions = AssetExtensions(list) else {
                let entry = AssetExtensions.invalidEntry(in: list) ?? ""
                throw ValidationError(
                    "--asset-extensions: '\(entry)' is not a file extension; use 1 to 8 letters or digits, such as "
                        + "png,css,js.")
            }
            return extensions
        }

        /// Checks the address settings, from flags or from the configuration file.
        static func check(ipMode: String?, ipv4Prefix: Int?, ipv6Prefix: Int?) throws {
            if let ipMode, IPMode(parsing: ipMode) == nil {
                throw ValidationError(
                    "'\(ipMode)' is not an IP mode: use hash, truncate, drop, or a combination like hash,truncate.")
            }
            if let ipv4Prefix, !(8...32).contains(ipv4Prefix) {
                throw ValidationError("--ipv4-prefix must be between 8 and 32, not \(ipv4Prefix).")
            }
            if let ipv6Prefix, !(16...128).contains(ipv6Prefix) {
                throw ValidationError("--ipv6-prefix must be between 16 and 128, not \(ipv6Prefix).")
            }
        }

        func run() throws {
            let (file, dataDirectory) = try loadConfigurationFile(explicit: config, data: data)
            do {
                try Self.check(ipMode: file.ipMode, ipv4Prefix: file.ipv4Prefix, ipv6Prefix: file.ipv6Prefix)
            } catch let error as ValidationError {
                printError("klogs ingest: in the configuration file: \(error.message)")
                throw ExitCode(64)
            }
            func option<Value: ExpressibleByArgument>(_ text: String?, _ key: String) throws -> Value? {
                guard let text else { return nil }
                guard let value = Value(argument: text) else {
                    printError("klogs ingest: in the configuration file: '\(text)' is not a valid \(key).")
                    throw ExitCode(64)
                }
                return value
            }
            var configuration = IngestConfiguration(dataDirectory: dataDirectory, inputs: files)
            do {
                configuration.format = try resolvedFormat(
                    format ?? file.format ?? "auto", logFormat: logFormat ?? file.logFormat,
                    jsonFields: jsonFields ?? file.jsonFields)
            } catch let error as ValidationError {
                printError("klogs ingest: \(error.message)")
                throw ExitCode(64)
            }
            configuration.ipMode = IPMode(parsing: ipMode ?? file.ipMode ?? "hash") ?? .hash
            configuration.ipv4Prefix = ipv4Prefix ?? file.ipv4Prefix ?? 24
            configuration.ipv6Prefix = ipv6Prefix ?? file.ipv6Prefix ?? 48
            configuration.writeEvents = noEvents ? false : (file.events ?? true)
            configuration.compression =
                (try compression ?? option(file.compression, "compression") ?? CompressionOption.lz4Raw)
                .parquetCompression
            configuration.userAgentRules = userAgentRules ?? file.userAgentRules
            configuration.classifiesUserAgents = !skipsUserAgentClassification
            configuration.userAgentRuleCache = noUserAgentRuleCache ? nil : UserAgentRuleCache.standard()
            if let userAgentClassLimit { configuration.userAgentClassLimit = userAgentClassLimit }
            configuration.batch.dryRun = dryRun
            configuration.batch.waitSeconds = wait ?? file.wait ?? 0
            configuration.batch.flushIntervalSeconds = flushInterval ?? file.flushInterval ?? 60
            configuration.batch.flushLines = flushLines ?? file.flushLines ?? 1_000_000
            configuration.batch.retentionDays = retentionDays ?? file.retentionDays ?? 365
            if let fileThreads = file.threads, fileThreads <= 0 {
                throw ValidationError("'threads' in the configuration file must be more than 0, not \(fileThreads).")
            }
            configuration.threads = threads ?? file.threads
            try applyPrivacyOptions(file, to: &configuration)
            if let list = assetExtensions.map({ $0.split(separator: ",").map(String.init) }) ?? file.assetExtensions {
                do {
                    configuration.assetExtensions = try Self.parseAssetExtensions(list)
                } catch let error as ValidationError {
                    printError("klogs ingest: in the configuration file: asset_extensions: \(error.message)")
                    throw ExitCode(64)
                }
            }

            let level = try logLevel ?? option(file.logLevel, "log_level") ?? LogLevelOption.warning
            let logger = Logger(label: "klogs") { StandardErrorLogHandler(label: $0, logLevel: level.level) }
            let metricsFile = metricsFile ?? file.metricsFile
            if self.metricsFile == nil, let metricsFile {
                do {
                    try Self.checkMetricsFile(metricsFile, name: "metrics_file")
                } catch let error as ValidationError {
                    printError("klogs ingest: in the configuration file: \(error.message)")
                    throw ExitCode(64)
                }
            }
            if let metricsFile {
                // In pipe mode the metrics file follows every commit, not just the end of the pipe.
                configuration.onPipeCommit = { figures in
                    Self.writeMetrics(figures, succeeded: true, to: metricsFile, logger: logger)
                }
            }
            logger.info("ingest started", metadata: ["inputs": "\(max(files.count, 1))", "data": "\(configuration.dataDirectory)"])

            // A progress bar while files are read, on a terminal only and not with --quiet.
            let progress = quiet || dryRun || !TerminalProgress.standardErrorIsTerminal ? nil : TerminalProgress()
            if let progress { configuration.onProgress = { progress.update($0) } }

            let summary: IngestSummary
            do {
                defer { progress?.clear() }
                summary = try Ingestor(configuration: configuration).run()
            } catch let error as BatchError {
                printError(error.kind == .busy ? error.message : "klogs ingest: \(error.message)")
                throw error.kind == .busy ? ExitCode.busy : ExitCode.outputError
            } catch let error as IngestFailure {
                if let partial = error.summary {
                    try? writeSummary(partial)
                }
                logger.error("ingest failed; nothing of this run was stored (the reason follows)")
                Self.writeMetrics(error.summary ?? IngestSummary(), succeeded: false, to: metricsFile, logger: logger)
                printError("klogs ingest: \(error.message)")
                throw error.isUnrecognisedFormat ? ExitCode.unrecognisedFormat : ExitCode.outputError
            }
            if dryRun {
                print(summary.notes.joined(separator: "\n"))
                return
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
            Self.writeMetrics(summary, succeeded: summary.inputErrors.isEmpty, to: metricsFile, logger: logger)
            try writeSummary(summary)
            if !quiet || !summary.inputErrors.isEmpty || summary.stoppedBySignal != 0 {
                FileHandle.standardError.write(Data(summary.text.utf8))
            }
            if summary.stoppedBySignal != 0 { throw ExitCode.stopped(bySignal: summary.stoppedBySignal) }
            if !summary.inputErrors.isEmpty { throw ExitCode.inputError }
        }

        /// Writes the metrics file, if one was asked for; a failure is logged but does not change the exit status,
        /// since the dataset is already committed (a stale file shows in monitoring as an old last success time).
        private static func writeMetrics(
            _ summary: IngestSummary, succeeded: Bool, to metricsFile: String?, logger: Logger
        ) {
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
    /// The format from --format (or the configuration file's `format`), --log-format and --json-fields; `nil`
    /// for auto-detection.
    func resolvedFormat(_ format: String, logFormat: String?, jsonFields: String?) throws -> LogFormat? {
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

/// The configuration file (`--config`, else `DATA/klogs.toml` when it exists) and the data directory
/// (`--data`, else the file's `data`, else `$KLOGS_DATA`, else `./klogs-data`). Exits 64 on a bad file.
func loadConfigurationFile(explicit: String?, data: String?) throws -> (ConfigurationFile, String) {
    do {
        if let explicit {
            let file = try ConfigurationFile.load(path: explicit)
            return (file, data ?? file.data ?? defaultDataDirectory())
        }
        let dataDirectory = data ?? defaultDataDirectory()
        guard let path = ConfigurationFile.locate(explicit: nil, dataDirectory: dataDirectory) else {
            return (ConfigurationFile(), dataDirectory)
        }
        return (try ConfigurationFile.load(path: path), dataDirectory)
    } catch let error as BatchError {
        printError("klogs: \(error.message)")
        throw ExitCode(64)
    }
}

extension Klogs.Ingest {
    /// `trusted_proxies`, `kept_query_params` and `[[path_rewrites]]` of the configuration file, where the
    /// corresponding flag was not given. Exits 64 on an invalid value.
    func applyFilePrivacySettings(_ file: ConfigurationFile, to configuration: inout IngestConfiguration) throws {
        if trustedProxies == nil, let proxies = file.trustedProxies {
            switch NetworkPrefix.parseList(proxies.joined(separator: ",")) {
            case .success(let networks): configuration.trustedProxies = networks
            case .failure(let entry):
                printError("klogs ingest: in the configuration file: trusted_proxies: '\(entry.text)' is not a network.")
                throw ExitCode(64)
            }
        }
        if keepQueryParams == nil, let parameters = file.keptQueryParameters {
            configuration.keepQueryParameters = parameters
        }
        if pathRewrites.isEmpty, let rewrites = file.pathRewrites {
            let rules = rewrites.map { "\($0.pattern)=\($0.replacement)" }
            do {
                _ = try PathRewriter(rules: rules)
            } catch {
                printError("klogs ingest: in the configuration file: path_rewrites: \(error)")
                throw ExitCode(64)
            }
            configuration.pathRewrites = rules
        }
    }
}

/// Writes one line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
