import ArgumentParser

/// The documented exit statuses of klogs (see the README).
extension ExitCode {
    /// Some input could not be read to its end (truncated or corrupt compressed data, an unreadable file);
    /// everything read before the fault was ingested and committed.
    static let inputError = ExitCode(2)
    /// The dataset could not be written (disk full, permissions); nothing of this run became visible.
    static let outputError = ExitCode(3)
    /// Another klogs process (ingest, compact, purge) holds the data directory's lock, also after `--wait`.
    static let busy = ExitCode(75)
    /// `klogs verify` found a problem in the dataset.
    static let verifyFailed = ExitCode(1)
    /// No log format fits the input (`--format auto`); nothing was stored. Give `--format` or `--log-format`.
    static let unrecognisedFormat = ExitCode(65)
    /// SIGINT (130) or SIGTERM (143), the shell's 128 + signal: the reading of files was stopped; what was read
    /// was committed and the next run reads the rest.
    static func stopped(bySignal signal: Int32) -> ExitCode { ExitCode(128 + signal) }
}
