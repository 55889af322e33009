/// Builds a document in the Prometheus text exposition format (version 0.0.4), as node_exporter's textfile
/// collector reads it.
///
/// Each metric family is introduced by its `# HELP` and `# TYPE` lines, followed by its samples. Help text and
/// label values are escaped as the format requires; metric and label names are checked, since a wrong name makes
/// the collector drop the whole file.
///
/// ```swift
/// var text = PrometheusText()
/// text.family("klogs_ingest_lines_read", type: .gauge, help: "Lines read by the last run.")
/// text.sample("klogs_ingest_lines_read", value: 1200)
/// print(text.document)
/// ```
public struct PrometheusText: Sendable {
    /// The metric types of the text format.
    public enum MetricType: String, Sendable {
        case counter, gauge, untyped
    }

    /// The document so far, ending in a newline once anything was added.
    public private(set) var document = ""

    public init() {}

    /// Starts a metric family: its `# HELP` and `# TYPE` lines.
    ///
    /// - Precondition: `name` matches `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    public mutating func family(_ name: String, type: MetricType, help: String) {
        precondition(Self.isValidMetricName(name), "invalid Prometheus metric name '\(name)'")
        document += "# HELP \(name) \(Self.escapeHelp(help))\n"
        document += "# TYPE \(name) \(type.rawValue)\n"
    }

    /// Adds one sample of an integer value.
    public mutating func sample(_ name: String, labels: KeyValuePairs<String, String> = [:], value: Int64) {
        appendSample(name, labels: labels, value: String(value))
    }

    /// Adds one sample of a floating-point value, written with `decimals` digits after the point.
    public mutating func sample(
        _ name: String, labels: KeyValuePairs<String, String> = [:], value: Double, decimals: Int = 3
    ) {
        let text: String
        if value.isNaN {
            text = "NaN"
        } else if value.isInfinite {
            text = value < 0 ? "-Inf" : "+Inf"
        } else {
            text = formatFixed(value, decimals: decimals)
        }
        appendSample(name, labels: labels, value: text)
    }

    private mutating func appendSample(_ name: String, labels: KeyValuePairs<String, String>, value: String) {
        precondition(Self.isValidMetricName(name), "invalid Prometheus metric name '\(name)'")
        document += name
        if !labels.isEmpty {
            document += "{"
            for (index, label) in labels.enumerated() {
                precondition(Self.isValidLabelName(label.key), "invalid Prometheus label name '\(label.key)'")
                if index > 0 { document += "," }
                document += "\(label.key)=\"\(Self.escapeLabelValue(label.value))\""
            }
            document += "}"
        }
        document += " \(value)\n"
    }

    /// Whether `name` is a valid metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    public static func isValidMetricName(_ name: String) -> Bool {
        isName(name, allowingColon: true)
    }

    /// Whether `name` is a valid label name: `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__` (reserved).
    public static func isValidLabelName(_ name: String) -> Bool {
        isName(name, allowingColon: false) && !name.hasPrefix("__")
    }

    private static func isName(_ name: String, allowingColon: Bool) -> Bool {
        guard let first = name.utf8.first else { return false }
        func isLetter(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || byte == UInt8(ascii: "_") || (allowingColon && byte == UInt8(ascii: ":"))
        }
        guard isLetter(first) else { return false }
        return name.utf8.allSatisfy { isLetter($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// Help text escapes backslash and line feed.
    static func escapeHelp(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\n", "\r\n", "\r": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// Label values escape backslash, double quote and line feed.
    static func escapeLabelValue(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n", "\r\n", "\r": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
