internal import Glibc

/// The one-writer lock of a data directory: an exclusive `flock` on `DATA/_klogs/lock`.
///
/// Held for the whole of an ingest, compact or purge; released when the object goes away or the process ends
/// (also on `kill -9`: the kernel drops `flock` locks with the descriptor). Readers never take it.
public final class DataLock {
    private let descriptor: Int32
    public let path: String

    /// Takes the lock, waiting up to `waitSeconds` (0: do not wait).
    ///
    /// - Throws: `BatchError` of kind `.busy` when another klogs holds it after the wait; `.output` when the lock
    ///   file cannot be created.
    public init(dataDirectory: String, waitSeconds: Double = 0, command: String = "klogs") throws {
        try FileSystem.createDirectory(atPath: dataDirectory + "/_klogs", permissions: 0o700)
        path = dataDirectory + "/_klogs/lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw BatchError(
                "\(path): cannot open the lock file: \(String(cString: strerror(errno))); check the permissions of "
                    + "the data directory.", kind: .output)
        }
        self.descriptor = descriptor
        var deadline = Double(0)
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        deadline = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 + waitSeconds
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            guard code == EWOULDBLOCK else {
                close(descriptor)
                throw BatchError("\(path): cannot lock: \(String(cString: strerror(code))).", kind: .output)
            }
            clock_gettime(CLOCK_MONOTONIC, &now)
            if Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 >= deadline {
                close(descriptor)
                throw BatchError(
                    "\(command): another klogs process (ingest, compact or purge) is writing to '\(dataDirectory)'"
                        + (waitSeconds > 0 ? " and did not finish within \(Int(waitSeconds)) s" : "")
                        + "; try again later, or pass --wait SECONDS to wait for it.", kind: .busy)
            }
            usleep(100_000)
        }
    }

    private var held = true

    /// Releases the lock now (it is also released when the object goes away).
    public func release() {
        guard held else { return }
        held = false
        _ = flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    deinit {
        release()
    }
}
