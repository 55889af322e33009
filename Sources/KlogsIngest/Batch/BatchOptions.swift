/// How an ingest cooperates with other runs and with time: the lock, the ledger, pipe-mode commits, retention.
public struct BatchOptions: Sendable, Equatable {
    /// How long to wait for another writer's lock before giving up (0: do not wait).
    public var waitSeconds: Double = 0
    /// Report what would be read, read and write nothing.
    public var dryRun = false
    /// In pipe mode (standard input), commit at least this often, in seconds.
    public var flushIntervalSeconds: Double = 60
    /// In pipe mode, also commit after this many lines.
    public var flushLines: Int = 1_000_000
    /// Lines older than this many days (before today, UTC) are refused and counted; 0 keeps everything.
    ///
    /// 0 here, so library users and tests with fixed dates are not surprised a year later; `klogs ingest`
    /// (`--retention-days`, `retention_days`) defaults to 365, the privacy policy's one year.
    public var retentionDays: Int = 0

    public init() {}
}
