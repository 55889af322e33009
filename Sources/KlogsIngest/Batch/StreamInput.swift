internal import Glibc
import KlogsCore

extension InputReader {
    /// Whether `path` names a stream rather than a file: a FIFO (named pipe), a character device or a socket, as
    /// `klogs ingest <(zcat access.log.gz)` gives (`/dev/fd/63`).
    ///
    /// A stream can be read only once, so it cannot be matched in the ledger by its head and then read again.
    static func isStream(path: String) -> Bool {
        var status = stat()
        guard stat(path, &status) == 0 else { return false }
        let type = status.st_mode & S_IFMT
        return type == S_IFIFO || type == S_IFCHR || type == S_IFSOCK
    }
}

extension Ingestor {
    /// Reads a stream given as a path (a FIFO, `/dev/stdin`, `<(…)`) like standard input: once, to its end, with
    /// its last line read even without a newline, and not in the ledger (it cannot be read twice, so a re-run
    /// does not recognise it). Its lines join the run's one commit. Read errors go into the summary.
    func ingestStream(
        _ path: String, through processor: inout LineProcessor, buffer: UnsafeMutableRawBufferPointer,
        ranges: inout [String], summary: inout IngestSummary
    ) throws {
        processor.begin(input: path)
        let reader: InputReader
        do {
            reader = try InputReader(path: path)
        } catch {
            summary.inputErrors.append("\(error)")
            return
        }
        defer { summary.addCounts(of: reader) }
        var splitter = LineSplitter()
        do {
            while !StopSignals.isRequested {
                let count = try reader.read(into: buffer)
                if count == 0 { break }
                try splitter.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) { number, line in
                    try processor.process(line, number: number)
                }
                try processor.installRulesIfLoaded()
            }
            if StopSignals.isRequested {
                summary.notes.append("\(path): a stream, stopped by a signal after \(reader.bytesDelivered) bytes")
            } else {
                try splitter.finish { number, line in try processor.process(line, number: number) }
                summary.notes.append(
                    "\(path): a stream (not a regular file), read once: \(reader.bytesDelivered) bytes")
            }
        } catch let error as IngestError {
            summary.inputErrors.append("\(error)")
        }
        // Not a ledger range: it only makes the commit's file names unique, as a stream's content is never seen again.
        ranges.append("stream:\(Transaction.makeIdentifier())")
    }

    /// The note for a file whose reading a signal stopped.
    static func stopNote(path: String, boundary: Int64) -> String {
        "\(path): stopped by a signal after byte \(boundary) (the last complete line); the next run reads the rest"
    }
}
