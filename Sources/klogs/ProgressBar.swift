import Foundation
import KlogsIngest
import Synchronization

/// The text of one progress line: input name, bar, percentage, bytes done of total, lines per second, time left.
///
/// ```
/// access.log.gz [##########..........]  52%  12.3 MB of 23.6 MB  1.21 M lines/s  ETA 0:09
/// ```
///
/// A pure function of its inputs, so the layout is tested without a terminal; ``TerminalProgress`` draws it.
enum ProgressBar {
    /// The line for one moment of one input, at most `width` characters long.
    ///
    /// The figures always show (cut at the terminal's edge if they must be). The name, up to 40 characters, comes
    /// before them, cut from the left (the file name's end is what tells files apart), and the bar between, in the
    /// room left: the bar needs 8 columns and a name of 12 (or the whole name when shorter), else it goes; a name
    /// needs 8 columns (or all it has), else it goes too.
    ///
    /// - Parameters:
    ///   - input: The input's path.
    ///   - bytesDone: Bytes read from the file (compressed bytes of a compressed file).
    ///   - totalBytes: The file's size, or nil when unknown: then there is no bar, percentage or ETA.
    ///   - linesPerSecond: The rate of lines so far, or nil before there is one.
    ///   - secondsLeft: The estimated time to the end, or nil when there is no estimate yet.
    ///   - width: The terminal's width in columns.
    static func render(
        input: String, bytesDone: Int64, totalBytes: Int64?, linesPerSecond: Double?, secondsLeft: Double?,
        width: Int
    ) -> String {
        var figures = "\(bytes(bytesDone))"
        var fraction: Double?
        if let totalBytes, totalBytes > 0 {
            let done = min(1, max(0, Double(bytesDone) / Double(totalBytes)))
            fraction = done
            figures = "\(percent(done))  \(bytes(bytesDone)) of \(bytes(totalBytes))"
        }
        figures += "  \(linesPerSecond.map(rate) ?? "…") lines/s"
        if fraction != nil { figures += "  ETA \(duration(secondsLeft))" }

        let room = width - figures.count - 1  // the columns before " " + figures
        let minimumBar = 8 + 3  // " [" + 8 columns + "]"
        let fullName = shortened(input, to: 40)
        if let fraction, room >= min(fullName.count, 12) + minimumBar {
            let name = shortened(fullName, to: room - minimumBar)
            let barWidth = room - name.count - 3
            let filled = Int((fraction * Double(barWidth)).rounded(.down))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: barWidth - filled)
            return "\(name) [\(bar)] \(figures)"
        }
        if room >= min(fullName.count, 8) {
            return "\(shortened(fullName, to: room)) \(figures)"
        }
        return String(figures.prefix(max(0, width)))
    }

    /// `text` cut to `limit` characters by dropping its start, marked with "…".
    static func shortened(_ text: String, to limit: Int) -> String {
        guard text.count > limit else { return text }
        return "…" + text.suffix(max(0, limit - 1))
    }

    /// A percentage, right-aligned in four columns: "  7%", "100%".
    static func percent(_ fraction: Double) -> String {
        let text = "\(Int((fraction * 100).rounded(.down)))%"
        return String(repeating: " ", count: max(0, 4 - text.count)) + text
    }

    /// A byte count in decimal units: "512 B", "12.3 kB", "223.4 MB", "1.2 GB".
    static func bytes(_ count: Int64) -> String {
        let value = Double(count)
        switch value {
        case ..<1_000: return "\(count) B"
        case ..<1_000_000: return "\(oneDecimal(value / 1e3)) kB"
        case ..<1_000_000_000: return "\(oneDecimal(value / 1e6)) MB"
        default: return "\(oneDecimal(value / 1e9)) GB"
        }
    }

    /// A rate: "850", "12.5 k", "1.21 M".
    static func rate(_ perSecond: Double) -> String {
        switch perSecond {
        case ..<1_000: return "\(Int(max(0, perSecond).rounded()))"
        case ..<1_000_000: return "\(oneDecimal(perSecond / 1e3)) k"
        default: return String(format: "%.2f M", perSecond / 1e6)
        }
    }

    /// A time left as m:ss or h:mm:ss, or "--:--" without an estimate.
    static func duration(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite, seconds >= 0, seconds < 360_000 else { return "--:--" }
        let total = Int(seconds.rounded(.up))
        let (hours, minutes, rest) = (total / 3600, total / 60 % 60, total % 60)
        return hours > 0
            ? String(format: "%d:%02d:%02d", hours, minutes, rest) : String(format: "%d:%02d", minutes, rest)
    }

    private static func oneDecimal(_ value: Double) -> String { String(format: "%.1f", value) }
}

/// Draws ``ProgressBar`` lines on standard error, which must be a terminal, redrawing in place with a carriage
/// return at most ten times a second, and erases the line at the end.
///
/// ``update(_:)`` is called from the reading thread for every chunk; all but one call in ten per second return after
/// reading the clock.
final class TerminalProgress: Sendable {
    private struct State {
        /// The input being shown, and when and where its reading was first reported (the rate's baseline).
        var input = ""
        var start = ContinuousClock.now
        var startBytes: Int64 = 0
        var startLines = 0
        var lastDraw: ContinuousClock.Instant?
        var drawn = false
    }

    private let state = Mutex(State())
    private static let interval = Duration.milliseconds(100)

    /// Whether standard error is a terminal, where a progress bar belongs.
    static var standardErrorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Redraws the bar with `progress` unless the last drawing was less than 0.1 s ago.
    func update(_ progress: IngestProgress) {
        let now = ContinuousClock.now
        let line: String? = state.withLock { state in
            if state.input != progress.input {
                // The first report of a file is drawn at once, and is the baseline of the rates.
                state = State(
                    input: progress.input, start: now, startBytes: progress.bytesRead,
                    startLines: progress.linesRead, lastDraw: nil, drawn: state.drawn)
            } else if let last = state.lastDraw, now - last < Self.interval {
                return nil
            }
            state.lastDraw = now
            state.drawn = true
            let seconds = Self.seconds(now - state.start)
            let linesPerSecond = seconds > 0 ? Double(progress.linesRead - state.startLines) / seconds : nil
            let bytesPerSecond = seconds > 0 ? Double(progress.bytesRead - state.startBytes) / seconds : 0
            let secondsLeft = progress.totalBytes.flatMap { total in
                bytesPerSecond > 0 ? Double(max(0, total - progress.bytesRead)) / bytesPerSecond : nil
            }
            return ProgressBar.render(
                input: progress.input, bytesDone: progress.bytesRead, totalBytes: progress.totalBytes,
                linesPerSecond: linesPerSecond, secondsLeft: secondsLeft, width: Self.terminalWidth() - 1)
        }
        if let line { Self.write("\r\u{1B}[K" + line) }
    }

    /// Erases the bar, if one was drawn, so that what follows starts on a clean line.
    func clear() {
        let drawn = state.withLock { state in
            defer { state.drawn = false }
            return state.drawn
        }
        if drawn { Self.write("\r\u{1B}[K") }
    }

    /// The terminal's width from the kernel, else $COLUMNS, else 80.
    private static func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init) ?? 80
    }

    private static func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = Foundation.write(STDERR_FILENO, bytes.baseAddress, bytes.count) }
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
