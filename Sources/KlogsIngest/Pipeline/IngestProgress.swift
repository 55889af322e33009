/// How far the reading of one input file has come: what ``IngestConfiguration/onProgress`` receives.
///
/// Sent once per chunk read (about 1 MiB of log), never per line, from the thread that reads the file.
public struct IngestProgress: Sendable, Hashable {
    /// The input's path as given on the command line.
    public var input: String
    /// Bytes read from the file so far: compressed bytes for a gzip or LZ4 file, so they compare with ``totalBytes``.
    public var bytesRead: Int64
    /// The file's size on disk, or nil when it has none (a pipe or a device).
    public var totalBytes: Int64?
    /// Lines split from the file so far in this run.
    public var linesRead: Int

    public init(input: String, bytesRead: Int64, totalBytes: Int64?, linesRead: Int) {
        self.input = input
        self.bytesRead = bytesRead
        self.totalBytes = totalBytes
        self.linesRead = linesRead
    }
}
