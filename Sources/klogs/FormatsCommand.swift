import ArgumentParser
import KlogsCore

extension Klogs {
    struct Formats: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "formats",
            abstract: "List the access-log format presets and their definitions.",
            discussion: """
                Give a preset to `klogs ingest --format NAME`, or your own nginx log_format or Apache LogFormat \\
                string with --log-format. Without either, ingest detects the format from the first lines.
                """)

        func run() throws {
            exitQuietlyOnBrokenPipe()
            print(FormatCatalogue.text)
        }
    }
}

/// The text `klogs formats` prints.
enum FormatCatalogue {
    static var text: String {
        var lines: [String] = []
        let width = LogFormat.presets.map(\.name.count).max() ?? 0
        for preset in LogFormat.presets {
            let padding = String(repeating: " ", count: width - preset.name.count)
            lines.append("\(preset.name)\(padding)  \(preset.origin)")
            lines.append("\(String(repeating: " ", count: width))    \(preset.definition)")
        }
        lines.append("")
        lines.append("auto (the default) picks the preset that parses the first 100 lines.")
        return lines.joined(separator: "\n")
    }
}
