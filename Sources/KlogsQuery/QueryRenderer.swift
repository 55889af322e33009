import KlogsIngest

/// Turns a ``QueryResult`` into text: an aligned table for people, CSV and JSON for tools.
///
/// CSV and JSON use the dimension and metric names (`day`, `path`, `hits`, `visitors`, …) as header and keys, and
/// hold the groups only; the table adds a total row over every matching request.
public enum QueryRenderer {
    /// The output formats of `klogs query`.
    public enum Format: String, Sendable, CaseIterable {
        case table, csv, json
    }

    public static func render(_ result: QueryResult, as format: Format) -> String {
        switch format {
        case .table: table(result)
        case .csv: csv(result)
        case .json: json(result)
        }
    }

    /// `1234567` as `1,234,567`.
    public static func thousands(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var output = value < 0 ? "-" : ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { output.append(",") }
            output.append(character)
        }
        return output
    }

    /// A metric value in a table: counts with thousands separators, `43.8%`, `1m 05s`, `2.4`; `-` without visits.
    public static func tableText(_ value: Double, _ metric: QueryMetric) -> String {
        guard !value.isNaN else { return "-" }
        switch metric {
        case .bounceRate: return decimal(value, places: 1) + "%"
        case .visitDuration, .medianVisitDuration: return duration(value)
        case .viewsPerVisit: return decimal(value, places: 2)
        default: return thousands(Int64(value.rounded()))
        }
    }

    /// A metric value in CSV and JSON: counts as integers, the others rounded to 3 decimals; nil without visits.
    public static func plainText(_ value: Double, _ metric: QueryMetric) -> String? {
        guard !value.isNaN else { return nil }
        return metric.isCount ? String(Int64(value.rounded())) : decimal(value, places: 3)
    }

    /// `value` rounded to `places` decimals, without trailing zeros: `43.75`, `2`, `0.5`.
    static func decimal(_ value: Double, places: Int) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = Int64((value * scale).rounded())
        let whole = scaled.magnitude / UInt64(scale)
        var fraction = String(scaled.magnitude % UInt64(scale))
        while fraction.count < places { fraction = "0" + fraction }
        while fraction.last == "0" { fraction.removeLast() }
        return (scaled < 0 ? "-" : "") + String(whole) + (fraction.isEmpty ? "" : "." + fraction)
    }

    /// Seconds as `45s`, `3m 07s`, `1h 02m`.
    public static func duration(_ seconds: Double) -> String {
        let total = Int64(seconds.rounded())
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m \(two(total % 60))s" }
        return "\(total / 3600)h \(two(total / 60 % 60))m"
    }

    static func text(_ value: QueryValue, null: String) -> String {
        switch value {
        case .text(let text): text
        case .number(let number): String(number)
        case .null: null
        }
    }

    /// Aligned columns: text left, numbers right with thousands separators, a rule, and a total row.
    public static func table(_ result: QueryResult) -> String {
        let header = result.dimensions.map(\.rawValue) + result.metrics.map(\.rawValue)
        var lines: [[String]] = result.rows.map { row in
            row.keys.map { text($0, null: "(none)") } + zip(row.values, result.metrics).map(tableText)
        }
        var totalLabel =
            result.dimensions.isEmpty ? [] : ["total"] + Array(repeating: "", count: result.dimensions.count - 1)
        if !result.dimensions.isEmpty && result.rows.count < result.groupCount {
            totalLabel[0] = "total (\(thousands(Int64(result.groupCount))) groups)"
        }
        let totalLine = totalLabel + zip(result.totals, result.metrics).map(tableText)
        let rightAligned = result.dimensions.map(\.isNumeric) + result.metrics.map { _ in true }
        var widths = header.map(\.count)
        for line in lines + [totalLine] {
            for (index, cell) in line.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        func format(_ cells: [String]) -> String {
            var parts: [String] = []
            for (index, cell) in cells.enumerated() {
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                parts.append(rightAligned[index] ? padding + cell : cell + padding)
            }
            var line = parts.joined(separator: "  ")
            while line.last == " " { line.removeLast() }
            return line
        }
        var output = format(header) + "\n"
        let rule = widths.map { String(repeating: "-", count: $0) }
        output += format(rule) + "\n"
        if !result.dimensions.isEmpty {
            for line in lines { output += format(line) + "\n" }
            output += format(rule) + "\n"
        }
        lines = []
        output += format(totalLine) + "\n"
        return output
    }

    /// RFC 4180 CSV with a header line; nulls are empty fields.
    public static func csv(_ result: QueryResult) -> String {
        var output = (result.dimensions.map(\.rawValue) + result.metrics.map(\.rawValue)).joined(separator: ",") + "\n"
        let rows: [QueryResult.Row] =
            result.dimensions.isEmpty ? [QueryResult.Row(keys: [], values: result.totals)] : result.rows
        for row in rows {
            let cells =
                row.keys.map { csvField(text($0, null: "")) } + zip(row.values, result.metrics).map { plainText($0, $1) ?? "" }
            output += cells.joined(separator: ",") + "\n"
        }
        return output
    }

    static func csvField(_ value: String) -> String {
        guard
            value.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 })
        else { return value }
        return "\"" + value.doublingQuotes() + "\""
    }

    /// A JSON array of objects, one per group, one per line.
    public static func json(_ result: QueryResult) -> String {
        let rows: [QueryResult.Row] =
            result.dimensions.isEmpty ? [QueryResult.Row(keys: [], values: result.totals)] : result.rows
        guard !rows.isEmpty else { return "[]\n" }
        var lines: [String] = []
        for row in rows {
            var fields: [String] = []
            for (dimension, value) in zip(result.dimensions, row.keys) {
                let encoded: String =
                    switch value {
                    case .text(let text): jsonString(text)
                    case .number(let number): String(number)
                    case .null: "null"
                    }
                fields.append("\(jsonString(dimension.rawValue)): \(encoded)")
            }
            for (metric, value) in zip(result.metrics, row.values) {
                fields.append("\(jsonString(metric.rawValue)): \(plainText(value, metric) ?? "null")")
            }
            lines.append("  {" + fields.joined(separator: ", ") + "}")
        }
        return "[\n" + lines.joined(separator: ",\n") + "\n]\n"
    }

    /// A JSON string literal (the escaping of the run summary, so every klogs JSON output agrees).
    public static func jsonString(_ value: String) -> String {
        KlogsIngest.jsonString(value)
    }
}

extension String {
    fileprivate func doublingQuotes() -> String {
        var output = ""
        for character in self { output += character == "\"" ? "\"\"" : String(character) }
        return output
    }
}
