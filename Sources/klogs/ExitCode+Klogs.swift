import ArgumentParser

/// The documented exit statuses of klogs (see the README).
extension ExitCode {
    /// Some input could not be read to its end (truncated or corrupt compressed data, an unreadable file);
    /// everything read before the fault was ingested and committed.
    static let inputError = ExitCode(2)
    /// The dataset could not be written (disk full, permissions); nothing of this run became visible.
    static let outputError = ExitCode(3)
}
