import Foundation
import Glibc
import KlogsIngest
import Testing

/// The names in a directory, sorted.
func directoryListing(_ path: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: path).sorted()
}

/// The permission bits of a path.
func permissions(_ path: String) -> UInt32 {
    var status = stat()
    guard stat(path, &status) == 0 else { return 0xffff_ffff }
    return UInt32(status.st_mode & 0o7777)
}

/// Runs `body` with the process umask set to `mask`, then restores it.
/// The umask is process-wide: tests that depend on it are in a serialized suite.
func withUmask<T>(_ mask: mode_t, _ body: () throws -> T) rethrows -> T {
    let previous = umask(mask)
    defer { umask(previous) }
    return try body()
}

@Suite("Atomic files and directories", .serialized)
struct AtomicFileTests {
    @Test("Commit makes the file visible under its name with mode 0640, and no temporary file remains")
    func commit() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try withUmask(0o022) {
            let file = try AtomicFile(directory: directory.path, name: "part-0.parquet")
            #expect(file.temporaryPath.hasPrefix(directory.path + "/.part-0.parquet.tmp-"))
            try file.write(Array("hello\n".utf8))
            #expect(try directoryListing(directory.path).count == 1)
            #expect(!FileManager.default.fileExists(atPath: file.path), "nothing visible before commit")
            try file.commit()
            #expect(try directoryListing(directory.path) == ["part-0.parquet"])
            #expect(permissions(file.path) == 0o640)
            #expect(FileManager.default.contents(atPath: file.path) == Data("hello\n".utf8))
        }
    }

    @Test("A stricter umask is respected")
    func stricterUmask() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try withUmask(0o077) {
            let file = try AtomicFile(directory: directory.path, name: "a")
            try file.commit()
            #expect(permissions(file.path) == 0o600)
        }
    }

    @Test("Writing to the descriptor directly works, and commit replaces an existing file")
    func descriptorAndReplace() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        _ = try directory.file("state.json", Array("old".utf8))
        let file = try AtomicFile(directory: directory.path, name: "state.json")
        _ = "new".withCString { write(file.fileDescriptor, $0, 3) }
        try file.commit()
        #expect(FileManager.default.contents(atPath: file.path) == Data("new".utf8))
        #expect(try directoryListing(directory.path) == ["state.json"])
    }

    @Test("Abort, or releasing without commit, leaves nothing behind")
    func abortLeavesNothing() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = try AtomicFile(directory: directory.path, name: "x.parquet")
        try file.write([1, 2, 3])
        file.abort()
        file.abort()  // twice is harmless
        #expect(try directoryListing(directory.path).isEmpty)
        do {
            let dropped = try AtomicFile(directory: directory.path, name: "y.parquet")
            try dropped.write([1, 2, 3])
        }
        #expect(try directoryListing(directory.path).isEmpty)
    }

    @Test("Two files with the same final name get different temporary names")
    func distinctTemporaryNames() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let first = try AtomicFile(directory: directory.path, name: "same")
        let second = try AtomicFile(directory: directory.path, name: "same")
        #expect(first.temporaryPath != second.temporaryPath)
    }

    @Test("Invalid names are refused", arguments: ["", ".", "..", "a/b"])
    func invalidNames(name: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        #expect(throws: IngestError.self) { try AtomicFile(directory: directory.path, name: name) }
    }

    @Test("A missing directory is a clear error")
    func missingDirectory() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let missing = directory.path + "/missing"
        let error = try #require(throws: IngestError.self) { try AtomicFile(directory: missing, name: "a") }
        #expect(
            error.description == "\(missing)/a: the directory '\(missing)' does not exist; create it first or "
                + "check the --data path.")
    }

    @Test("A directory that may not be written is a clear error, and leaves nothing behind")
    func readOnlyDirectory() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let target: String
        if geteuid() == 0 {
            // Root writes through directory modes, so a 0555 directory cannot stop it; sysfs refuses new files
            // even to root (EACCES), so it stands in when running as root.
            guard FileManager.default.fileExists(atPath: "/sys/kernel") else { return }
            target = "/sys"
        } else {
            target = directory.path + "/locked"
            try FileSystem.createDirectory(atPath: target)
            #expect(chmod(target, 0o555) == 0)
        }
        defer { if target != "/sys" { _ = chmod(target, 0o755) } }
        let before = try directoryListing(target)
        let error = try #require(throws: IngestError.self) { try AtomicFile(directory: target, name: "a") }
        #expect(error.description.hasPrefix(target + "/a: "), "\(error)")
        if error.kind == .permissionDenied {
            #expect(error.description.contains("permission denied"))
            #expect(error.description.contains("chmod u+w \(target)"))
        } else {
            #expect(error.kind == .outputFailed(errno: EROFS), "\(error)")
            #expect(error.description.contains("read-only"))
        }
        #expect(try directoryListing(target) == before)
    }

    @Test("A full device is reported with the path and the remedy, and nothing stays visible")
    func deviceFull() throws {
        // /dev/full fails every write with ENOSPC; AtomicFile over it cannot be built, so check the write path
        // by writing through a descriptor swapped for /dev/full.
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = try AtomicFile(directory: directory.path, name: "events.parquet")
        let full = open("/dev/full", O_WRONLY)
        guard full >= 0 else { return }
        defer { close(full) }
        #expect(dup2(full, file.fileDescriptor) >= 0)
        let error = try #require(throws: IngestError.self) { try file.write([UInt8](repeating: 0, count: 4096)) }
        #expect(error.description.contains("no space left"), "\(error)")
        #expect(error.description.contains(file.path))
        file.abort()
        #expect(try directoryListing(directory.path).isEmpty)
    }

    @Test("createDirectory makes missing parents with mode 0750 and accepts existing ones")
    func createDirectories() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let nested = directory.path + "/events/date=2026-11-21/"
        try withUmask(0o022) {
            try FileSystem.createDirectory(atPath: nested)
            try FileSystem.createDirectory(atPath: nested)
        }
        #expect(permissions(directory.path + "/events") == 0o750)
        #expect(permissions(nested) == 0o750)
        _ = try directory.file("plain", [1])
        let error = try #require(throws: IngestError.self) {
            try FileSystem.createDirectory(atPath: directory.path + "/plain/sub")
        }
        #expect(error.description.contains("exists but is not a directory"))
    }
}
