internal import Glibc

/// SIGINT and SIGTERM during `klogs ingest`: the handler only records the signal; the ingest checks it between
/// reads, stops reading, commits what it has read (up to the last complete line), and says so.
///
/// The handler is installed with `SA_RESETHAND`: a second signal finds the default action and ends the process at
/// once, which is safe (nothing of an unfinished commit is visible; the next run cleans up), so an impatient
/// second Ctrl-C always works. Without `SA_RESTART`, so a pipe-mode wait for input is interrupted.
struct StopSignals {
    /// The signal received (SIGINT or SIGTERM) since `install()`, or 0.
    nonisolated(unsafe) private(set) static var received: sig_atomic_t = 0

    private var previousInterrupt = sigaction()
    private var previousTerminate = sigaction()

    /// Whether a stop was asked for.
    static var isRequested: Bool { received != 0 }

    /// Installs the handlers and forgets any earlier signal; `restore()` puts the previous handlers back.
    static func install() -> StopSignals {
        received = 0
        var signals = StopSignals()
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { number in StopSignals.received = number }
        sigemptyset(&action.sa_mask)
        action.sa_flags = Int32(truncatingIfNeeded: SA_RESETHAND)  // 0x80000000: the sign bit
        sigaction(SIGINT, &action, &signals.previousInterrupt)
        sigaction(SIGTERM, &action, &signals.previousTerminate)
        return signals
    }

    /// Puts back the handlers found by `install()`.
    func restore() {
        var interrupt = previousInterrupt
        var terminate = previousTerminate
        sigaction(SIGINT, &interrupt, nil)
        sigaction(SIGTERM, &terminate, nil)
    }

    /// The signal's name for messages: `SIGINT`, `SIGTERM`.
    static func name(of number: Int32) -> String {
        switch number {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        default: return "signal \(number)"
        }
    }
}
