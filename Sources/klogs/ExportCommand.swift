import ArgumentParser
import Foundation
import KlogsIngest
import KlogsQuery

extension Klogs {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write everything klogs holds for a date range, as CSV, JSON lines or Parquet.",
            discussion: """
                Every row of the chosen dataset in the range is written unchanged, bots included, with every \
                column of docs/SCHEMA.md: what a data owner needs to answer an access request, or to move the \
                data elsewhere. Timestamps are UTC, written as 2026-11-01T13:04:05.123Z in CSV and JSON lines. \
                Without --from and --to, the last 7 days up to the newest day that has data are exported.

                Exit status: 0 on success; 2 when a file of the dataset cannot be read; 3 when the output cannot \
                be written; 64 for invalid options.
                """)

        @OptionGroup var range: RangeOptions

        @Option(name: .long, help: "The dataset to export: events (one row per request) or hits (hourly counts).")
        var dataset: DatasetOption = .events

        @Option(name: .long, help: "The output format.")
        var format: Exporter.Format = .csv

        @Option(
            name: .shortAndLong,
            help: ArgumentHelp("The file to write; standard output when absent or \"-\".", valueName: "file"))
        var output: String?

        func run() throws {
            exitQuietlyOnBrokenPipe()
            guard let timeRange = try range.timeRange() ?? DatasetFiles.defaultRange(dataDirectory: range.dataDirectory)
            else {
                printError("klogs export: \(range.dataDirectory) holds no data.")
                throw ExitCode.validationFailure
            }
            keepScanMemory()
            let exporter = Exporter(
                dataDirectory: range.dataDirectory, dataset: dataset.name, range: timeRange, format: format)
            let destination = output ?? "-"
            let descriptor: Int32
            if destination == "-" {
                descriptor = 1
            } else {
                descriptor = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                guard descriptor >= 0 else {
                    printError("klogs export: cannot open \(destination): \(String(cString: strerror(errno))).")
                    throw ExitCode.outputError
                }
            }
            defer { if descriptor != 1 { close(descriptor) } }
            do {
                try exporter.write(
                    toFileDescriptor: descriptor, name: destination == "-" ? "standard output" : destination)
            } catch let error as QueryError {
                printError("klogs export: \(error.message)")
                throw error.kind == .output ? ExitCode.outputError : ExitCode.inputError
            }
        }
    }
}

enum DatasetOption: String, ExpressibleByArgument, CaseIterable {
    case events, hits

    var name: DatasetName { self == .events ? .events : .hits }
}

extension Exporter.Format: ExpressibleByArgument {}
