/// Picks the preset that parses the first lines of a log: `--format auto`.
///
/// ```swift
/// switch FormatDetector.detect(firstLines) {
/// case .detected(let format, _): use(format)
/// case .failed(let message, _): print(message)
/// }
/// ```
///
/// Every preset parses the sample. The winner parses the most lines; among equals, the one that captures the most
/// values (fields other than empty or `-`), then the one with the fewest lines that end early or carry extra
/// trailing fields, then the earlier preset in ``LogFormat/presets``. A winner must parse at least half of the
/// non-empty sample lines. Messages never hold log content, only preset names, counts and line numbers.
public enum FormatDetector {
    /// Lines looked at: the first 100, or fewer when 64 KiB hold less.
    public static let sampleLineCount = 100
    /// Bytes of lines looked at, at most.
    public static let sampleByteCount = 64 * 1024

    /// How one preset fared on the sample.
    public struct Candidate: Sendable, Equatable {
        /// The preset name.
        public var name: String
        /// The preset's format.
        public var format: LogFormat
        /// Non-empty sample lines it parsed.
        public var parsedLines: Int
        /// Values captured over all parsed lines.
        public var capturedFields: Int
        /// Parsed lines that ended early or had trailing fields.
        public var inexactLines: Int
        /// The 1-based number of the first non-empty sample line it rejected, or `nil`.
        public var firstFailingLine: Int?
    }

    /// What detection found.
    public enum Detection: Sendable {
        /// The chosen format, and every candidate best first.
        case detected(LogFormat, [Candidate])
        /// No preset parses enough of the sample: a message for a person, and every candidate best first.
        case failed(String, [Candidate])
    }

    /// Ranks every preset on `lines` (the first lines of the input, without their newlines).
    ///
    /// - Complexity: O(presets × sample bytes); a few milliseconds for a full sample.
    public static func detect(_ lines: [UnsafeRawBufferPointer]) -> Detection {
        var record = AccessRecord()
        var candidates: [Candidate] = []
        var nonEmpty = 0
        for line in lines where !isBlank(line) { nonEmpty += 1 }
        for preset in LogFormat.presets {
            var parser = preset.format.makeParser()
            var twin: AccessLogParser? = nil
            if let program = LogFormat.detectionTwins[preset.name] {
                twin = AccessLogParser(program: program)
            }
            var candidate = Candidate(
                name: preset.name, format: preset.format, parsedLines: 0, capturedFields: 0, inexactLines: 0,
                firstFailingLine: nil)
            for (index, line) in lines.enumerated() where !isBlank(line) {
                if parser.parse(line, into: &record) != nil {
                    if candidate.firstFailingLine == nil { candidate.firstFailingLine = index + 1 }
                    continue
                }
                candidate.parsedLines += 1
                var match = parser.lastMatch
                if twin != nil {
                    if twin!.parse(line, into: &record) == nil {
                        match = twin!.lastMatch
                    } else {
                        match = FormatMatch()
                        match.missingFields = true
                    }
                }
                candidate.capturedFields += match.capturedFields
                if match.missingFields || match.trailingBytes { candidate.inexactLines += 1 }
            }
            candidates.append(candidate)
        }
        let order = Dictionary(uniqueKeysWithValues: LogFormat.presets.enumerated().map { ($1.name, $0) })
        candidates.sort { a, b in
            if a.parsedLines != b.parsedLines { return a.parsedLines > b.parsedLines }
            if a.capturedFields != b.capturedFields { return a.capturedFields > b.capturedFields }
            if a.inexactLines != b.inexactLines { return a.inexactLines < b.inexactLines }
            return order[a.name, default: 0] < order[b.name, default: 0]
        }
        guard let best = candidates.first, nonEmpty > 0, best.parsedLines > 0, best.parsedLines * 2 >= nonEmpty else {
            return .failed(failureMessage(candidates, lines: lines.count, nonEmpty: nonEmpty), candidates)
        }
        return .detected(best.format, candidates)
    }

    /// The message when nothing fits: the nearest presets with counts and the first failing line numbers.
    static func failureMessage(_ candidates: [Candidate], lines: Int, nonEmpty: Int) -> String {
        guard nonEmpty > 0 else {
            return "cannot detect the log format: the first \(lines) lines are empty; give it with --format."
        }
        let nearest = candidates.prefix(3).map { candidate in
            var text = "\(candidate.name) parses \(candidate.parsedLines) of \(nonEmpty)"
            if let line = candidate.firstFailingLine { text += ", first failing line \(line)" }
            return text
        }.joined(separator: "; ")
        return "cannot detect the log format from the first \(lines) lines: no preset parses at least half of them "
            + "(nearest: \(nearest)). Give the format with --format NAME (see `klogs formats`) or with "
            + "--log-format '<nginx log_format or Apache LogFormat string>'."
    }

    static func isBlank(_ line: UnsafeRawBufferPointer) -> Bool {
        line.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
    }
}

extension AccessLogParser {
    /// A parser running a compiled program directly (the detection twin of a built-in layout).
    init(program: FormatProgram) {
        self.init(format: .custom(CompiledFormat(program: program)))
    }
}

extension CompiledFormat {
    init(program: FormatProgram) {
        name = "twin"
        definition = ""
        dialect = .apache
        self.program = program
        builtInEquivalent = nil
    }
}
