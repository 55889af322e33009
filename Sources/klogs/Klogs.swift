import ArgumentParser
import KlogsIngest

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
        subcommands: [Ingest.self, Query.self, Report.self, Export.self, Formats.self, UserAgent.self, Generate.self])
}
