internal import Glibc
import KlogsCore

/// The `--rejects FILE` report: one line per rejected line, `file:line: reason`, never the line's content.
///
/// The file name is the input as given on the command line (`-` for standard input) with address-like text masked;
/// the reason is the summary's snake_case name (`bad_timestamp`). The report is created 0640 (less if the umask
/// says so), replacing an earlier one, and written in 64 KiB blocks.
final class RejectReport {
    let path: String
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var input: [UInt8] = Array("-".utf8)
    private let reasonNames: [[UInt8]] = RejectReason.allCases.map { Array($0.rawValue.utf8) }
    private(set) var linesWritten: Int64 = 0
    /// The first write error, if any: the run goes on and reports it as a warning.
    private(set) var writeError: String?

    /// Creates (or truncates) the report file.
    ///
    /// - Throws: `IngestError` when the file cannot be created.
    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o640)
        guard descriptor >= 0 else {
            let code = errno
            throw IngestError(
                .outputFailed(errno: code), path: path,
                "\(path): cannot create the reject report (\(errnoText(code))); check that its directory exists and "
                    + "is writable, or leave out --rejects.")
        }
        buffer.reserveCapacity(1 << 16)
    }

    deinit { _ = close(descriptor) }

    /// Starts the lines of another input.
    func begin(input name: String) {
        input = Array(AddressMasking.maskMessage(name).utf8)
    }

    /// Adds `input:lineNumber: reason`.
    func add(lineNumber: Int, reason: RejectReason) {
        buffer.append(contentsOf: input)
        buffer.append(UInt8(ascii: ":"))
        buffer.append(contentsOf: String(lineNumber).utf8)
        buffer.append(contentsOf: ": ".utf8)
        buffer.append(contentsOf: reasonNames[RejectReason.allCases.firstIndex(of: reason) ?? 0])
        buffer.append(UInt8(ascii: "\n"))
        linesWritten += 1
        if buffer.count >= 1 << 16 {
            do { try flush() } catch {
                if writeError == nil { writeError = "\(error)" }
                buffer.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Writes what is buffered.
    func flush() throws {
        var offset = 0
        while offset < buffer.count {
            let count = buffer.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 {
                if errno == EINTR { continue }
                let code = errno
                throw IngestError(
                    .outputFailed(errno: code), path: path,
                    "\(path): cannot write the reject report (\(errnoText(code))); free some space or leave out "
                        + "--rejects.")
            }
            offset += count
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
