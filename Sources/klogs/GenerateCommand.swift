import ArgumentParser
import Foundation
import KlogsGenerator

extension Klogs {
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate",
            abstract: "Write a realistic, synthetic access log (for demos, tests and benchmarks).",
            discussion: """
                The log is deterministic: the same seed and options give the same bytes on every machine. It holds \
                invented clients only (IPv4 and IPv6), Zipf-distributed paths, real-looking browsers and bots, \
                and a few malformed lines, like a real server's log.
                """)

        @Option(name: .long, help: "Number of lines, malformed ones included.")
        var lines: Int = 10_000

        @Option(name: .long, help: "The seed; equal seeds give equal logs.")
        var seed: UInt64 = 1

        @Option(name: .long, help: "The UTC date of the first day, as YYYY-MM-DD.")
        var start: String = "2026-11-01"

        @Option(name: .long, help: "Number of days the lines are spread over.")
        var days: Int = 1

        @Option(name: .long, help: "The line layout.")
        var format: GeneratedFormat = .combined

        @Option(name: .long, help: "The file to write; standard output when absent.")
        var output: String?

        func validate() throws {
            guard lines >= 0 else { throw ValidationError("--lines must not be negative.") }
            guard days >= 1 else { throw ValidationError("--days must be at least 1.") }
            guard LogGenerator.epochSeconds(parsing: start) != nil else {
                throw ValidationError("--start must be a date like 2026-11-01, not '\(start)'.")
            }
        }

        func run() throws {
            var generator = LogGenerator(
                LogGenerator.Configuration(
                    lines: lines, seed: seed, startTime: LogGenerator.epochSeconds(parsing: start) ?? 0,
                    days: days, format: format.generatorFormat))
            let handle: FileHandle
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: nil) else {
                    throw ValidationError("cannot create \(output): check that its directory exists and is writable.")
                }
                handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            } else {
                handle = FileHandle.standardOutput
            }
            try generator.write { chunk in try handle.write(contentsOf: Data(chunk)) }
            if output != nil { try handle.close() }
        }
    }
}

enum GeneratedFormat: String, ExpressibleByArgument, CaseIterable {
    case combined, common

    var generatorFormat: LogGenerator.Format {
        switch self {
        case .combined: .combined
        case .common: .common
        }
    }
}
