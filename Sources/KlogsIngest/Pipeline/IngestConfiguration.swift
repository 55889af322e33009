internal import Foundation
import KlogsCore
import KlogsParquet
import KlogsUserAgent

/// How client addresses are anonymised before anything is stored.
///
/// Modes combine (`hash,truncate`): each adds its own column. No mode ever stores the address itself.
public struct IPMode: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// A keyed, daily-rotating 64-bit pseudonym of (address, user agent) in the `visitor` column.
    public static let hash = IPMode(rawValue: 1 << 0)
    /// The address truncated to a network prefix (/24, /48) in the `client_net` column.
    public static let truncate = IPMode(rawValue: 1 << 1)
    /// No client-derived column at all.
    public static let drop: IPMode = []

    /// Parses `hash`, `truncate`, `drop` or a comma-separated combination such as `hash,truncate`.
    public init?(parsing text: String) {
        var mode: IPMode = []
        for part in text.split(separator: ",") {
            switch part.trimmingSpaces() {
            case "hash": mode.insert(.hash)
            case "truncate": mode.insert(.truncate)
            case "drop": break
            default: return nil
            }
        }
        if text.split(separator: ",").contains(where: { $0.trimmingSpaces() == "drop" }), !mode.isEmpty {
            return nil  // "drop" with another mode is a contradiction.
        }
        self = mode
    }

    /// The mode as written in the key-value metadata of every file: `hash`, `truncate`, `hash,truncate` or `drop`.
    public var description: String {
        var names: [String] = []
        if contains(.hash) { names.append("hash") }
        if contains(.truncate) { names.append("truncate") }
        return names.isEmpty ? "drop" : names.joined(separator: ",")
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var result = self
        while result.first == " " { result.removeFirst() }
        while result.last == " " { result.removeLast() }
        return result
    }
}

/// Everything one `klogs ingest` run needs to know.
public struct IngestConfiguration: Sendable {
    /// The data directory holding `events/`, `hits/` and `_klogs/`.
    public var dataDirectory: String
    /// Input paths; `-` is standard input. Empty means standard input.
    public var inputs: [String]
    /// The access-log format of every input; `nil` detects it from the first lines (`--format auto`).
    public var format: LogFormat? = nil
    /// How client addresses are anonymised.
    public var ipMode: IPMode = .hash
    /// The IPv4 prefix length kept in truncate mode.
    public var ipv4Prefix: Int = 24
    /// The IPv6 prefix length kept in truncate mode.
    public var ipv6Prefix: Int = 48
    /// Whether the per-request `events` dataset is written (the hourly `hits` always is).
    public var writeEvents: Bool = true
    /// The extensions that make a request an `asset` in the `kind` column (`--asset-extensions`).
    public var assetExtensions = AssetExtensions.standard
    /// The Parquet page compression.
    public var compression: ParquetCompression = .lz4Raw
    /// The uap-core rules file used to classify user agents.
    public var userAgentRules: String? = nil
    /// Where the analysed rules are kept between runs (`UserAgentRuleCache`); nil analyses them on every run. The
    /// command sets the user's cache unless `--no-ua-rules-cache` is given.
    public var userAgentRuleCache: UserAgentRuleCache? = nil
    /// Whether user agents are classified. Off, every request is `Other`/`other` and not a bot: only the
    /// benchmarks turn it off, to measure what classification costs.
    public var classifiesUserAgents = true
    /// The most distinct user-agent classes one run stores before it collapses new ones (see `UserAgentTable`).
    public var userAgentClassLimit = UserAgentTable.defaultClassLimit
    /// Rows buffered per partition before an `events` row group is written. About DuckDB's own row-group size:
    /// large enough for good compression and statistics, small enough that the column buffers stay in cache-friendly
    /// reused memory (512 Ki rows cost 9% of an ingest in first-touch page faults).
    public var rowGroupRows: Int = 128 * 1024
    /// Threads that parse files (`--threads`): `nil` is one per core. With 1, every line goes through the
    /// single-threaded path; with more, files go through the parallel pipeline (`ParallelPipeline`), whose output is
    /// the same. Standard input is always read by the single-threaded path.
    public var threads: Int? = nil
    /// The chunk size of the parallel pipeline; tests make it small to cut inputs into many chunks.
    var pipelineChunkBytes = ParallelPipeline.defaultChunkBytes
    /// How far a day's interned values and aggregates grow before they are written out (tests make it small).
    var partitionLimits = Partition.Limits()
    /// The lock, the ledger, pipe-mode commits and retention (see `docs/OPERATIONS.md`).
    public var batch = BatchOptions()
    /// Called after each commit of a long-running pipe (`tail -F | klogs ingest`) with the figures so far, so
    /// monitoring (the `--metrics-file`) follows the pipe rather than waiting for its end.
    public var onPipeCommit: (@Sendable (IngestSummary) -> Void)? = nil
    /// Called while a file is read, after every chunk (about 1 MiB; 2 MiB with several threads), from the ingest's
    /// own thread: for a progress bar.
    /// It must return quickly; standard input does not report progress.
    public var onProgress: (@Sendable (IngestProgress) -> Void)? = nil

    // Privacy (docs/PRIVACY.md).
    /// How long after the end of a UTC day its pseudonym key is kept, in seconds (`--key-grace`, default 48 h).
    public var keyGraceSeconds: Int64 = KeyLifecycle.defaultGraceSeconds
    /// The time the run takes as now, in seconds since the epoch; `nil` is the system clock (tests set it).
    public var currentTime: Int64? = nil
    /// Where the client address comes from (`--client-ip-from`).
    public var clientAddressSource: ClientAddressSource = .clientField
    /// Proxies whose X-Forwarded-For entries are believed (`--trusted-proxies`).
    public var trustedProxies: [NetworkPrefix] = []
    /// Query parameters whose values are kept in the stored path (`--keep-query-params`); all others are dropped.
    public var keepQueryParameters: [String] = []
    /// The longest stored path in bytes, query included (`--max-path-length`).
    public var maximumPathLength: Int = StoredPath.defaultMaximumLength
    /// `REGEX=REPLACEMENT` rules applied to paths before storage (`--path-rewrite`).
    public var pathRewrites: [String] = []
    /// A file that receives `file:line: reason` for every rejected line (`--rejects`).
    public var rejectsPath: String? = nil

    /// The number of threads the run parses files with: `threads`, or one per core.
    public var effectiveThreads: Int {
        max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
    }

    public init(dataDirectory: String, inputs: [String]) {
        self.dataDirectory = dataDirectory
        self.inputs = inputs
    }
}
