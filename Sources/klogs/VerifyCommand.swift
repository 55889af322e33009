import ArgumentParser
import KlogsIngest

extension Klogs {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check every Parquet file of the dataset and that the ingest ledger agrees with them.",
            discussion: """
                Reads every part file completely (magic, footer, every column of every row group, page CRC-32s \
                where written, row counts) and compares the files with the ledger (DATA/_klogs/ledger.json). \
                Also reports an interrupted commit or unfinished files left by a crash (the next ingest finishes \
                or removes them). Takes no lock and changes nothing.

                Exit status: 0 when everything is sound; 1 when a problem was found (each is listed); 64 for \
                invalid options.
                """)

        @Option(name: .long, help: "The data directory (default: $KLOGS_DATA, else ./klogs-data).")
        var data: String?

        func run() throws {
            exitQuietlyOnBrokenPipe()
            let report = DatasetVerifier.verify(dataDirectory: data ?? defaultDataDirectory())
            print(report.text, terminator: "")
            if !report.isSound { throw ExitCode.verifyFailed }
        }
    }

    struct Compact: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "compact",
            abstract: "Merge the part files of each partition into one.",
            discussion: """
                Each partition with more than one file gets one file instead: events rows are copied, hits rows \
                with the same key are summed. Each partition is replaced atomically; running it again changes \
                nothing. Takes the data directory's lock like ingest.

                Exit status: 0 on success; 3 when a file could not be written (the partition is left as it was); \
                64 for invalid options; 75 when another klogs holds the lock.
                """)

        @Option(name: .long, help: "The data directory (default: $KLOGS_DATA, else ./klogs-data).")
        var data: String?

        @Option(name: .long, help: "Wait up to this many seconds for another klogs writing the data directory.")
        var wait: Double = 0

        @Flag(name: .customLong("dry-run"), help: "Say which partitions would be merged; change nothing.")
        var dryRun = false

        func run() throws {
            try runMaintenance("klogs compact") {
                try DatasetMaintenance.compact(
                    dataDirectory: data ?? defaultDataDirectory(), waitSeconds: wait, dryRun: dryRun)
            }
        }
    }

    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "purge",
            abstract: "Delete the partitions and pseudonym keys older than the retention period.",
            discussion: """
                Removes every events and hits partition of a UTC day before today minus the retention period \
                (365 days by default, the privacy policy's one year), and the pseudonym keys of those days. \
                Takes the data directory's lock like ingest.

                Exit status: 0 on success; 3 when something could not be removed; 64 for invalid options; 75 \
                when another klogs holds the lock.
                """)

        @Option(name: .long, help: "The data directory (default: $KLOGS_DATA, else ./klogs-data).")
        var data: String?

        @Option(
            name: .customLong("older-than"),
            help: "The retention period, in days: 400 or 400d (default: retention_days of klogs.toml, else 365).")
        var olderThan: String?

        @Option(name: .long, help: "A klogs.toml configuration file (default: DATA/klogs.toml when it exists).")
        var config: String?

        @Option(name: .long, help: "Wait up to this many seconds for another klogs writing the data directory.")
        var wait: Double = 0

        @Flag(name: .customLong("dry-run"), help: "Say what would be deleted; change nothing.")
        var dryRun = false

        static func days(_ text: String) -> Int? {
            Int(text.hasSuffix("d") ? String(text.dropLast()) : text).flatMap { $0 > 0 ? $0 : nil }
        }

        func validate() throws {
            if let olderThan, Self.days(olderThan) == nil {
                throw ValidationError("--older-than must be a number of days above 0, like 365d, not '\(olderThan)'.")
            }
        }

        func run() throws {
            let (file, dataDirectory) = try loadConfigurationFile(explicit: config, data: data)
            let retention = olderThan.flatMap(Self.days) ?? file.retentionDays ?? 365
            guard retention > 0 else {
                printError("klogs purge: retention_days is 0 (keep everything): nothing to purge.")
                return
            }
            try runMaintenance("klogs purge") {
                try DatasetMaintenance.purge(
                    dataDirectory: dataDirectory, retentionDays: retention, waitSeconds: wait, dryRun: dryRun)
            }
        }
    }
}

/// Runs a maintenance command and maps its errors to the documented exit statuses.
private func runMaintenance(_ name: String, _ body: () throws -> DatasetMaintenance.Report) throws {
    do {
        print(try body().text, terminator: "")
    } catch let error as BatchError where error.kind == .busy {
        printError(error.message)
        throw ExitCode.busy
    } catch {
        printError("\(name): \(error)")
        throw ExitCode.outputError
    }
}
