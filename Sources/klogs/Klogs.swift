import ArgumentParser
import KlogsIngest

/// The `klogs` command and its subcommands.
///
/// Every command names itself (`commandName`): ArgumentParser otherwise derives the name from the type's name
/// with `String(describing:)`, a reflection whose protocol-conformance look-ups cost some 12 million instructions
/// (about 3 ms, before anything else starts) on every run.
@main
struct Klogs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "klogs",
        abstract: "Turn web-server access logs into anonymous, compact, queryable visit statistics.",
        discussion: """
            klogs reads nginx and Apache access logs (plain, gzip or LZ4; files or standard input), anonymises \
            every client address before anything is stored, classifies user agents, and writes date-partitioned \
            Parquet datasets that DuckDB, pyarrow, pandas, Spark and Trino read as they are.
            """,
        version: KlogsVersion.description,
        subcommands: [
            Ingest.self, Query.self, Report.self, Export.self, Verify.self, Compact.self, Purge.self, Formats.self,
            UserAgent.self, Generate.self,
        ])
}
