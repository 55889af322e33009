/// The version of klogs, recorded in every Parquet file it writes (`created_by`, `klogs.version`).
public enum KlogsVersion {
    public static let number = "0.1.0"
    /// The short git commit the binary was built from, or `unknown` for a build outside `make`.
    public static var commit: String { BuildInfo.commit }
    /// `klogs version 0.1.0 (build 1a2b3c4)`: what `klogs --version` prints and what Parquet's `created_by` holds,
    /// in the form Parquet readers parse (application, "version", version, "(build " commit ")").
    public static var description: String { "klogs version \(number) (build \(commit))" }
}
