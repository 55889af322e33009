internal import Foundation
internal import Glibc
internal import Synchronization

/// A part file being written under a hidden staging name until its transaction commits.
///
/// The name is `.klogs-<transaction>-<n>.staged` in the partition directory: hidden and without the `.parquet`
/// suffix, so no dataset reader ever lists it. `seal()` makes it durable and closes it; `discard()` removes it.
final class StagedFile {
    let directory: String
    let stagedPath: String
    let fileDescriptor: Int32
    private var open = true
    private var kept = false

    init(directory: String, transaction: String, sequence: Int) throws {
        self.directory = directory
        stagedPath = "\(directory)/.klogs-\(transaction)-\(sequence).staged"
        let descriptor = Glibc.open(stagedPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else {
            throw outputError(path: stagedPath, directory: directory, errno: errno, action: "creating a file in")
        }
        fileDescriptor = descriptor
    }

    deinit { if !kept { discard() } }

    /// fsync and close: the content is durable; the name is still hidden.
    func seal() throws {
        guard open else { return }
        if fsync(fileDescriptor) != 0 {
            let code = errno
            discard()
            throw outputError(path: stagedPath, directory: directory, errno: code, action: "syncing")
        }
        open = false
        if close(fileDescriptor) != 0 && errno != EINTR {
            let code = errno
            discard()
            throw outputError(path: stagedPath, directory: directory, errno: code, action: "closing")
        }
    }

    /// Starts writing the file's data to disk without waiting (`sync_file_range(2)`), so that `seal()`'s fsync
    /// finds little left to write: a file written over a whole run is otherwise written back all at once, at
    /// the end of the run. Durability still comes from `seal()` alone; a failure here is left for it to report.
    func startWriteback() {
        guard open else { return }
        _ = linuxSyncFileRange(fileDescriptor, 0, 0, 2)  // SYNC_FILE_RANGE_WRITE; 0 bytes: to the end
    }

    /// From now on the transaction owns the staged file (its manifest names it).
    func handOver() { kept = true }

    func discard() {
        if open {
            _ = close(fileDescriptor)
            open = false
        }
        _ = unlink(stagedPath)
    }
}

/// The commit protocol of a data directory: how a set of new part files, removed part files and a new ledger
/// become visible together, even across a crash at any instant.
///
/// 1. The new part files are written and fsynced under hidden staging names (`StagedFile`).
/// 2. A manifest `_klogs/pending/<id>.json` naming every rename (staged → final), every file to delete and the
///    complete new ledger is written atomically (temporary file, fsync, rename, directory fsync). This is the
///    commit point.
/// 3. The manifest is applied: renames (a final name that exists is replaced), deletions, the ledger file
///    replaced, then the manifest removed.
///
/// `recover` runs first in every writing command, under the data lock: every manifest left by a crash is applied
/// again (each step is idempotent: a missing staged file was already renamed), then every staged file no
/// manifest names (a run that crashed before its commit point) is removed. So a crash leaves either the whole
/// transaction or nothing of it.
struct Transaction: Codable {
    var identifier: String
    /// `[staged, final]` paths relative to the data directory.
    var renames: [[String]]
    /// Paths relative to the data directory to remove.
    var deletes: [String]
    var ledger: Ledger

    static func pendingDirectory(_ dataDirectory: String) -> String { "\(dataDirectory)/_klogs/pending" }

    /// A fresh transaction identifier: UTC time, the process id and random bits.
    ///
    /// The process id lets `recover` tell a crashed writer's staged files from those of a live pipe-mode ingest,
    /// which holds the lock only while it commits.
    static func makeIdentifier() -> String {
        let now = Int64(Date().timeIntervalSince1970)
        let random = String(UInt64.random(in: 0...UInt64.max) & 0xffff_ffff, radix: 16)
        return "\(now)-\(getpid())-\(String(repeating: "0", count: 8 - random.count))\(random)"
    }

    /// Whether a staged file belongs to a process that is still running (`.klogs-<time>-<pid>-<random>-<n>.staged`).
    static func ownerIsAlive(stagedName name: String) -> Bool {
        let parts = name.split(separator: "-")
        guard parts.count >= 5, let pid = Int32(parts[2]), pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// Writes the manifest (the commit point), then applies it.
    ///
    /// - Throws: when the manifest cannot be written (nothing is visible then) or when applying fails (the next
    ///   writing command finishes it).
    func commit(dataDirectory: String) throws {
        let directory = Self.pendingDirectory(dataDirectory)
        try FileSystem.createDirectory(atPath: directory, permissions: 0o700)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try writeFileAtomically(path: "\(directory)/\(identifier).json", data: encoder.encode(self))
        if let hook = ProcessInfo.processInfo.environment["KLOGS_TEST_CRASH_AFTER_MANIFEST"], hook == "1" {
            kill(getpid(), SIGKILL)
        }
        try apply(dataDirectory: dataDirectory)
    }

    /// Applies the manifest; idempotent.
    func apply(dataDirectory: String) throws {
        var directories = Set<String>()
        for pair in renames where pair.count == 2 {
            let staged = "\(dataDirectory)/\(pair[0])"
            let final = "\(dataDirectory)/\(pair[1])"
            if rename(staged, final) != 0 {
                let code = errno
                if code == ENOENT { continue }  // renamed before a crash
                throw outputError(path: final, directory: dataDirectory, errno: code, action: "renaming into")
            }
            directories.insert(String(final[..<(final.lastIndex(of: "/") ?? final.endIndex)]))
        }
        for path in deletes {
            let full = "\(dataDirectory)/\(path)"
            if unlink(full) != 0 && errno != ENOENT {
                throw outputError(path: full, directory: dataDirectory, errno: errno, action: "removing")
            }
            directories.insert(String(full[..<(full.lastIndex(of: "/") ?? full.endIndex)]))
        }
        // The renames' directories are synced and the ledger saved at once: each waits for the disk, and none
        // needs another first. All are done before the manifest goes; a crash before then applies it again.
        let durableSteps: [@Sendable () throws -> Void] =
            directories.sorted().map { directory in { try FileSystem.syncDirectory(directory) } }
            + [{ try ledger.save(dataDirectory: dataDirectory) }]
        try Self.concurrently(durableSteps)
        let manifest = "\(Self.pendingDirectory(dataDirectory))/\(identifier).json"
        if unlink(manifest) != 0 && errno != ENOENT {
            throw outputError(path: manifest, directory: dataDirectory, errno: errno, action: "removing")
        }
        try FileSystem.syncDirectory(Self.pendingDirectory(dataDirectory))
    }

    /// Runs `steps` at once on the dispatch pool's threads (they wait for the disk, not for a core), and returns
    /// when all are done.
    /// - Throws: the error of the first step that failed, in the order given.
    static func concurrently(_ steps: [@Sendable () throws -> Void]) throws {
        guard steps.count > 1 else { return try steps.first?() ?? () }
        let results = Mutex([Result<Void, any Error>?](repeating: nil, count: steps.count))
        DispatchQueue.concurrentPerform(iterations: steps.count) { index in
            let result = Result { try steps[index]() }
            results.withLock { $0[index] = result }
        }
        for result in results.withLock({ $0 }) { try result?.get() }
    }

    /// Finishes or removes what crashed runs left; call with the data lock held.
    ///
    /// - Returns: how many manifests were applied and how many staged files were removed.
    @discardableResult
    static func recover(dataDirectory: String) throws -> (rolledForward: Int, removed: Int) {
        let pending = pendingDirectory(dataDirectory)
        var rolledForward = 0
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: pending)) ?? []).sorted()
        for name in names {
            let path = "\(pending)/\(name)"
            if name.hasPrefix(".") {  // a manifest's own temporary file: never committed
                _ = unlink(path)
                continue
            }
            guard name.hasSuffix(".json") else { continue }
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw BatchError("\(path): cannot read a pending commit: \(error.localizedDescription).")
            }
            guard let transaction = try? JSONDecoder().decode(Transaction.self, from: data) else {
                throw BatchError(
                    "\(path): a pending commit manifest is damaged; move it away and run 'klogs verify'.")
            }
            try transaction.apply(dataDirectory: dataDirectory)
            rolledForward += 1
        }
        var removed = 0
        for path in stagedFiles(dataDirectory: dataDirectory)
        where !ownerIsAlive(stagedName: String(path.split(separator: "/").last ?? "")) {
            if unlink(path) == 0 { removed += 1 }
        }
        for dataset in ["events", "hits"] {
            for directory in partitionDirectories(dataDirectory: dataDirectory, dataset: dataset) {
                for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
                where name.hasPrefix(".part-") && name.contains(".tmp-") {
                    // Temporary files of the AtomicFile-based writer of earlier versions.
                    if unlink("\(directory)/\(name)") == 0 { removed += 1 }
                }
            }
        }
        return (rolledForward, removed)
    }

    /// Every staged file in the partition directories.
    static func stagedFiles(dataDirectory: String) -> [String] {
        var result: [String] = []
        for dataset in ["events", "hits"] {
            for directory in partitionDirectories(dataDirectory: dataDirectory, dataset: dataset) {
                for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
                where name.hasPrefix(".klogs-") && name.hasSuffix(".staged") {
                    result.append("\(directory)/\(name)")
                }
            }
        }
        return result.sorted()
    }

    /// The `date=…` directories of a dataset, sorted.
    static func partitionDirectories(dataDirectory: String, dataset: String) -> [String] {
        let root = "\(dataDirectory)/\(dataset)"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.filter { $0.hasPrefix("date=") }.sorted().map { "\(root)/\($0)" }
    }

    /// The visible part files of a partition directory, sorted by name.
    static func partFiles(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { !$0.hasPrefix(".") && $0.hasSuffix(".parquet") }.sorted()
    }
}

/// Linux's `sync_file_range(2)`, which the Glibc module leaves out (a GNU extension of <fcntl.h>).
@_silgen_name("sync_file_range")
private func linuxSyncFileRange(_ descriptor: Int32, _ offset: Int64, _ count: Int64, _ flags: UInt32) -> Int32
