internal import Glibc

/// A file that becomes visible under its final name only once it is complete and durable.
///
/// It is written as `.<name>.tmp-<random>` in the target directory (hidden, so dataset readers skip it), with mode
/// 0640 reduced by the umask. `commit()` syncs the file, renames it to its final name (replacing a file of that name)
/// and syncs the directory, so after a crash either the whole file or nothing is there. `abort()`, or releasing the
/// object without committing, removes the temporary file.
///
/// ```swift
/// let file = try AtomicFile(directory: "data/events/date=2026-11-21", name: "part-0.parquet")
/// try file.write(bytes)               // or write(2) to file.fileDescriptor yourself
/// try file.commit()
/// ```
public final class AtomicFile {
    /// The final path, `directory/name`.
    public let path: String
    /// The hidden temporary path written until `commit()`.
    public let temporaryPath: String
    /// The directory holding both.
    public let directory: String
    /// The descriptor to write to, open for writing; valid until `commit()` or `abort()`.
    public let fileDescriptor: Int32

    private enum State { case open, committed, aborted }
    private var state = State.open

    /// Creates the temporary file.
    ///
    /// - Parameters:
    ///   - directory: An existing directory (see `FileSystem.createDirectory(atPath:permissions:)`).
    ///   - name: The final file name, without `/`.
    ///   - permissions: The mode, reduced by the process umask as usual; 0640 by default.
    /// - Throws: `IngestError` naming the directory when the file cannot be created (missing directory,
    ///   permission denied, read-only file system, no space).
    public init(directory: String, name: String, permissions: UInt32 = 0o640) throws {
        guard !name.isEmpty, name != ".", name != "..", !name.utf8.contains(UInt8(ascii: "/")) else {
            throw IngestError(
                .outputFailed(errno: EINVAL), path: name,
                "'\(name)' is not a valid file name for an output file (it must be non-empty and have no '/').")
        }
        let directory = directory.isEmpty ? "." : directory
        let separator = directory.hasSuffix("/") ? "" : "/"
        self.directory = directory
        self.path = directory + separator + name
        let temporaryPath = directory + separator + "." + name + ".tmp-" + (try SecureRandom.hex(byteCount: 8))
        self.temporaryPath = temporaryPath
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions)
        guard descriptor >= 0 else {
            // The message names the final path, which is what the user asked for; the temporary name is a detail.
            throw outputError(path: path, directory: directory, errno: errno, action: "creating a file in")
        }
        self.fileDescriptor = descriptor
    }

    deinit {
        abort()
    }

    /// Writes all of `bytes` at the current position, retrying short writes and `EINTR`.
    ///
    /// - Throws: `IngestError` naming the final path (no space, quota, I/O error); the caller should then `abort()`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(state == .open, "AtomicFile.write after commit or abort")
        var offset = 0
        while offset < bytes.count {
            // Safe because offset < bytes.count, so baseAddress is non-nil and the range is in bounds.
            let count = Glibc.write(fileDescriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if count < 0 {
                if errno == EINTR { continue }
                throw outputError(path: path, directory: directory, errno: errno, action: "writing")
            }
            offset += count
        }
    }

    /// Writes all of `bytes`.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Makes the file durable and visible: sync it, rename it to its final name, sync the directory.
    ///
    /// On failure the temporary file is removed and nothing is visible under the final name (unless a previous
    /// file of that name existed, which is then left as it was).
    ///
    /// - Throws: `IngestError` naming the path (no space, I/O error, read-only file system).
    public func commit() throws {
        precondition(state == .open, "AtomicFile.commit after commit or abort")
        do {
            if fsync(fileDescriptor) != 0 {
                throw outputError(path: path, directory: directory, errno: errno, action: "syncing")
            }
            let closed = close(fileDescriptor)
            state = .aborted  // the descriptor is closed; until the rename succeeds, deinit/abort only unlinks
            if closed != 0 && errno != EINTR {
                throw outputError(path: path, directory: directory, errno: errno, action: "closing")
            }
            if rename(temporaryPath, path) != 0 {
                throw outputError(path: path, directory: directory, errno: errno, action: "renaming into")
            }
            state = .committed
        } catch {
            removeTemporaryFile()
            throw error
        }
        try FileSystem.syncDirectory(directory)
    }

    /// Discards the file: closes and removes the temporary file. Does nothing after `commit()`.
    public func abort() {
        switch state {
        case .committed:
            return
        case .open:
            _ = close(fileDescriptor)
            state = .aborted
            removeTemporaryFile()
        case .aborted:
            removeTemporaryFile()
        }
    }

    private func removeTemporaryFile() {
        _ = unlink(temporaryPath)
    }
}

/// Directory helpers for the dataset and key store.
public enum FileSystem {
    /// Creates a directory and any missing parents (`mkdir -p`), syncing each parent in which one was created.
    ///
    /// Existing directories are left as they are. New ones get `permissions` reduced by the umask.
    ///
    /// - Throws: `IngestError` naming the path that could not be created, or that exists but is not a directory.
    public static func createDirectory(atPath path: String, permissions: UInt32 = 0o750) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        for component in components {
            let parent = prefix.isEmpty ? "." : prefix
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
            if mkdir(prefix, permissions) == 0 {
                try syncDirectory(parent)
                continue
            }
            let code = errno
            var status = stat()
            if stat(prefix, &status) == 0 {
                if status.st_mode & S_IFMT == S_IFDIR { continue }
                throw IngestError(
                    .outputFailed(errno: ENOTDIR), path: prefix,
                    "\(prefix): exists but is not a directory, so '\(path)' cannot be created; move it away or "
                        + "choose another --data directory.")
            }
            throw outputError(path: prefix, directory: parent, errno: code, action: "creating the directory")
        }
    }

    /// `fsync` on a directory, so a rename or creation in it survives a crash.
    ///
    /// File systems that cannot sync directories (`EINVAL`) are tolerated.
    public static func syncDirectory(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw outputError(path: path, directory: path, errno: errno, action: "opening the directory")
        }
        defer { _ = close(descriptor) }
        if fsync(descriptor) != 0 && errno != EINVAL && errno != EROFS {
            throw outputError(path: path, directory: path, errno: errno, action: "syncing the directory")
        }
    }
}

/// A clear message for an output failure, by `errno`.
func outputError(path: String, directory: String, errno code: Int32, action: String) -> IngestError {
    let message: String
    switch code {
    case ENOSPC, EDQUOT:
        message =
            "\(path): no space left on the device (or quota exceeded) while \(action) it; free some space or "
            + "choose another --data directory. The incomplete file was removed."
    case EACCES, EPERM:
        return IngestError(
            .permissionDenied, path: path,
            "\(path): permission denied while \(action) '\(directory)'; run klogs as a user that may write "
                + "there, or fix its permissions (e.g. 'chmod u+w \(directory)').")
    case EROFS:
        message = "\(path): the file system is read-only; choose a writable --data directory."
    case ENOENT:
        message = "\(path): the directory '\(directory)' does not exist; create it first or check the --data path."
    case EIO:
        message = "\(path): input/output error while \(action) it; the disk may be failing: check the system log."
    default:
        message = "\(path): \(action) failed: \(errnoText(code))."
    }
    return IngestError(.outputFailed(errno: code), path: path, message)
}
