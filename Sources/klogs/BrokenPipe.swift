import Glibc

/// Makes a read-only command end quietly, with status 0, when the reader of its output goes away
/// (`klogs query … | head -1`): the output was wanted only that far, which is not an error.
///
/// Without this, the first write after the reader has gone raises SIGPIPE, whose default action ends the process
/// with status 141 (a failure under `set -o pipefail`). Only for commands that change nothing (query, export,
/// report, formats, verify): `klogs ingest` keeps the default, so a broken pipe never passes for a success there.
func exitQuietlyOnBrokenPipe() {
    // `_exit` is async-signal-safe; nothing is left to flush that anyone could read.
    _ = signal(SIGPIPE) { _ in _exit(0) }
}
