import ArgumentParser
import Foundation
import KlogsQuery

extension Klogs {
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Write a visit report for a date range: an HTML page with charts, or plain-text Markdown.",
            discussion: """
                The report shows requests and visitors over time (by day, or by hour for two days or less), top \
                pages, referrer hosts, browsers, operating systems, devices, status codes and the share of \
                requests from bots, with the totals. Bots are left out of every figure except the bot share. \
                Visitors appear when the data has pseudonyms (--ip-mode hash), referrer hosts when it has the \
                events dataset.

                The HTML file is self-contained (no network, no external files): charts are inline SVG and \
                tables with bars, each with a text alternative and a table of the numbers; it reads on a phone \
                and a desktop and prints. Without --html, the Markdown report goes to standard output.

                --from and --to work as in klogs query: UTC, --from inclusive, a plain-date --to includes that \
                day; the default is the last 7 days up to the newest day that has data.

                Exit status: 0 on success; 2 when a file of the dataset cannot be read; 3 when the report cannot \
                be written; 64 for invalid options or a data directory without data.
                """)

        @OptionGroup var range: RangeOptions

        @Option(name: .long, help: ArgumentHelp("Write the HTML report to this file.", valueName: "file"))
        var html: String?

        @Option(name: .long, help: "The format written to standard output.")
        var output: ReportOutput?

        @Option(name: .long, help: "The number of entries in each ranked list.")
        var top: Int = 15

        func validate() throws {
            guard (1...1000).contains(top) else {
                throw ValidationError("--top must be between 1 and 1000, not \(top).")
            }
        }

        func run() throws {
            exitQuietlyOnBrokenPipe()
            keepScanMemory()
            let data: ReportData
            do {
                data = try ReportData.build(dataDirectory: range.dataDirectory, range: try range.timeRange(), top: top)
            } catch let error as QueryError {
                printError("klogs report: \(error.message)")
                throw error.kind == .unreadable ? ExitCode.inputError : ExitCode.validationFailure
            }
            if let html {
                do {
                    try Data(HTMLReport.render(data).utf8).write(to: URL(fileURLWithPath: html), options: .atomic)
                } catch {
                    printError("klogs report: cannot write \(html): \(error.localizedDescription)")
                    throw ExitCode.outputError
                }
            }
            switch output ?? (html == nil ? .markdown : nil) {
            case .markdown?: FileHandle.standardOutput.write(Data(MarkdownReport.render(data).utf8))
            case .html?: FileHandle.standardOutput.write(Data(HTMLReport.render(data).utf8))
            case nil: break
            }
        }
    }
}

enum ReportOutput: String, ExpressibleByArgument, CaseIterable {
    case markdown, html
}
