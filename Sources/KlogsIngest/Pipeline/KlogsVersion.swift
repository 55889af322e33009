/// The version of klogs, recorded in every Parquet file it writes (`created_by`, `klogs.version`).
public enum KlogsVersion {
    public static let number = "0.1.0"
    /// `klogs version 0.1.0`, as Parquet's `created_by` expects: application, "version", version.
    public static var description: String { "klogs version \(number)" }
}
