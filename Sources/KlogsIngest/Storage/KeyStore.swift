internal import Foundation
internal import Glibc
import KlogsCore
internal import Synchronization

/// A 128-bit pseudonym key: the two 64-bit halves of a SipHash key.
public struct PseudonymKey: Sendable, Equatable, Hashable {
    public var key0: UInt64
    public var key1: UInt64

    public init(key0: UInt64, key1: UInt64) {
        self.key0 = key0
        self.key1 = key1
    }
}

/// The per-UTC-day pseudonym keys of a data directory, in `DATA/_klogs/keys/YYYY-MM-DD.key`.
///
/// Each day's key is 128 bits from the system's secure generator, made the first time the day is seen and kept until
/// it is expired. Keys never leave this directory: the directory is 0700 and each file 0600, and a directory or file
/// that group or others may access is refused with the `chmod` that fixes it.
///
/// A key file is created so that every run agrees on it: the key is written to a temporary file and synced, then
/// `link(2)`ed to its final name, which fails if the name exists. The first writer wins; a run that loses the race
/// reads the winner's key. A reader therefore never sees a partly written key.
///
/// File format: 32 lowercase hexadecimal digits (`key0` then `key1`, each big-endian in the text) and a newline.
///
/// ```swift
/// let keys = try KeyStore(dataDirectory: "klogs-data")
/// let today = Int(time(nil) / 86_400)
/// let key = KeyStore.isExpired(day: day, today: today, graceDays: grace) ? try KeyStore.ephemeralKey()
///                                                                         : try keys.key(for: day)
/// ```
///
/// Methods may be called from several threads.
public final class KeyStore: Sendable {
    /// The directory holding the key files.
    public let directory: String
    private let cache = Mutex<[Int: PseudonymKey]>([:])

    /// Opens (creating if needed) the key directory of a klogs data directory: `DATA/_klogs/keys`.
    public convenience init(dataDirectory: String) throws {
        let base = dataDirectory.hasSuffix("/") ? String(dataDirectory.dropLast()) : dataDirectory
        try self.init(directory: (base.isEmpty ? "." : base) + "/_klogs/keys")
    }

    /// Opens a key directory, creating it (mode 0700, parents 0750) if it does not exist.
    ///
    /// - Throws: `IngestError` when the directory cannot be created, or when group or others may access it
    ///   (`.insecurePermissions`, with the `chmod 700` that fixes it).
    public init(directory: String) throws {
        self.directory = directory
        let parent = (directory as NSString).deletingLastPathComponent
        if !parent.isEmpty { try FileSystem.createDirectory(atPath: parent, permissions: 0o750) }
        if mkdir(directory, 0o700) == 0 {
            try FileSystem.syncDirectory(parent.isEmpty ? "." : parent)
        } else if errno != EEXIST {
            throw outputError(path: directory, directory: parent, errno: errno, action: "creating the directory")
        }
        var status = stat()
        guard stat(directory, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw IngestError(
                .outputFailed(errno: ENOTDIR), path: directory,
                "\(directory): exists but is not a directory; move it away so klogs can keep its keys there.")
        }
        let mode = UInt32(status.st_mode & 0o777)
        if mode & 0o077 != 0 {
            throw IngestError(
                .insecurePermissions, path: directory,
                "\(directory): the key directory may be accessed by group or others (mode \(octal(mode))); the "
                    + "keys must stay private: run 'chmod 700 \(directory)' and run klogs again.")
        }
    }

    /// The key of a UTC day, read from its file or, the first time the day is seen, created.
    ///
    /// Call `isExpired(day:today:graceDays:)` first: for an expired day, use `ephemeralKey()` rather than
    /// creating a stored key again.
    ///
    /// - Parameter day: Days since 1970-01-01 (UTC).
    /// - Throws: `IngestError` when the key file cannot be read or written, is accessible by group or others, or
    ///   does not hold a key.
    public func key(for day: Int) throws -> PseudonymKey {
        if let key = cache.withLock({ $0[day] }) { return key }
        let key: PseudonymKey
        if let existing = try readKey(day: day) {
            key = existing
        } else {
            key = try createKey(day: day)
        }
        cache.withLock { $0[day] = key }
        return key
    }

    /// The key of a UTC day if its file exists; never creates one.
    public func existingKey(for day: Int) throws -> PseudonymKey? {
        if let key = cache.withLock({ $0[day] }) { return key }
        guard let key = try readKey(day: day) else { return nil }
        cache.withLock { $0[day] = key }
        return key
    }

    /// Destroys the keys of all days before `cutoffDay`: each file is overwritten with random bytes, synced and
    /// removed. Leftover temporary key files of those days (from an interrupted run) go the same way.
    ///
    /// Overwriting is best effort: on copy-on-write or journaling file systems and SSDs the old blocks may survive
    /// until reused. Removing the file is what makes klogs forget the key.
    ///
    /// - Returns: The days whose key file was removed, in increasing order.
    /// - Throws: `IngestError` when the directory cannot be listed or a file cannot be removed.
    @discardableResult
    public func expire(olderThan cutoffDay: Int) throws -> [Int] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw IngestError(
                .outputFailed(errno: EIO), path: directory,
                "\(directory): cannot list the key directory to expire old keys; check that it exists and is "
                    + "readable by this user.")
        }
        var removed: [Int] = []
        for name in names.sorted() {
            guard let (day, isTemporary) = Self.parseFileName(name), day < cutoffDay else { continue }
            let path = directory + "/" + name
            shred(path)
            if unlink(path) != 0 && errno != ENOENT {
                throw outputError(path: path, directory: directory, errno: errno, action: "removing")
            }
            cache.withLock { _ = $0.removeValue(forKey: day) }
            if !isTemporary { removed.append(day) }
        }
        if !names.isEmpty { try FileSystem.syncDirectory(directory) }
        return removed.sorted()
    }

    /// The days that have a key file, in increasing order.
    public func storedDays() throws -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name in
            Self.parseFileName(name).flatMap { $0.isTemporary ? nil : $0.day }
        }.sorted()
    }

    /// Whether a day's key has been (or is due to be) destroyed: the day is more than `graceDays` before `today`.
    ///
    /// `expire(olderThan: today - graceDays)` removes exactly the keys of the expired days.
    public static func isExpired(day: Int, today: Int, graceDays: Int) -> Bool {
        day < today - graceDays
    }

    /// A fresh random key that is never stored: for records of a day whose key was destroyed, so they get
    /// pseudonyms that link within this run only.
    public static func ephemeralKey() throws -> PseudonymKey {
        PseudonymKey(key0: try SecureRandom.next(), key1: try SecureRandom.next())
    }

    /// `2026-11-21.key` for the day 20,778.
    public static func fileName(for day: Int) -> String {
        let (year, month, dayOfMonth) = Timestamp.civilFromDays(day)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(dayOfMonth, 2)).key"
    }

    // MARK: Files

    private func path(for day: Int) -> String {
        directory + "/" + Self.fileName(for: day)
    }

    /// Reads a day's key file; `nil` if it does not exist.
    private func readKey(day: Int) throws -> PseudonymKey? {
        let path = path(for: day)
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        if descriptor < 0 {
            let code = errno
            if code == ENOENT { return nil }
            if code == ELOOP {
                throw IngestError(
                    .insecurePermissions, path: path,
                    "\(path): the key file is a symbolic link, which klogs refuses; replace it with the file itself.")
            }
            throw outputError(path: path, directory: directory, errno: code, action: "reading")
        }
        defer { _ = close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw IngestError(
                .invalidKeyFile, path: path, "\(path): is not a regular file; move it away from the key directory.")
        }
        let mode = UInt32(status.st_mode & 0o777)
        if mode & 0o077 != 0 {
            throw IngestError(
                .insecurePermissions, path: path,
                "\(path): the key file may be accessed by group or others (mode \(octal(mode))); run "
                    + "'chmod 600 \(path)' and run klogs again.")
        }
        var bytes = [UInt8](repeating: 0, count: 64)
        var count = 0
        while count < bytes.count {
            let result = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress! + count, 64 - count) }
            if result < 0 {
                if errno == EINTR { continue }
                throw outputError(path: path, directory: directory, errno: errno, action: "reading")
            }
            if result == 0 { break }
            count += result
        }
        guard let key = Self.parseKey(bytes.prefix(count)) else {
            throw IngestError(
                .invalidKeyFile, path: path,
                "\(path): does not hold a klogs key (expected 32 hexadecimal digits and a newline, found "
                    + "\(count) bytes). If it is damaged, the day's pseudonyms cannot be reproduced; move it away "
                    + "and klogs will make a new key for that day.")
        }
        return key
    }

    /// Makes a new key for a day and publishes it unless another run did first; returns the day's key either way.
    private func createKey(day: Int) throws -> PseudonymKey {
        let finalPath = path(for: day)
        let candidate = try Self.ephemeralKey()
        let text = Array(Self.formatKey(candidate).utf8)
        let temporaryPath = directory + "/." + Self.fileName(for: day) + ".tmp-" + (try SecureRandom.hex(byteCount: 8))
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else {
            throw outputError(path: temporaryPath, directory: directory, errno: errno, action: "creating a key in")
        }
        defer { _ = unlink(temporaryPath) }
        do {
            defer { _ = close(descriptor) }
            try writeAll(descriptor, text, path: finalPath)
            if fsync(descriptor) != 0 {
                throw outputError(path: finalPath, directory: directory, errno: errno, action: "syncing")
            }
        }
        // link(2) fails with EEXIST when another run published first: then that run's key is the day's key.
        if link(temporaryPath, finalPath) != 0 {
            let code = errno
            if code == EPERM || code == EOPNOTSUPP {
                throw IngestError(
                    .outputFailed(errno: code), path: finalPath,
                    "\(finalPath): the file system of '\(directory)' does not support hard links, which klogs uses "
                        + "to create keys safely; put the data directory on a local Linux file system (ext4, xfs, "
                        + "btrfs).")
            }
            if code != EEXIST {
                throw outputError(path: finalPath, directory: directory, errno: code, action: "creating")
            }
        }
        _ = unlink(temporaryPath)
        try FileSystem.syncDirectory(directory)
        guard let key = try readKey(day: day) else {
            throw IngestError(
                .outputFailed(errno: ENOENT), path: finalPath,
                "\(finalPath): the key file vanished right after it was created; is another program removing "
                    + "files in '\(directory)'?")
        }
        return key
    }

    private func writeAll(_ descriptor: Int32, _ bytes: [UInt8], path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 {
                if errno == EINTR { continue }
                throw outputError(path: path, directory: directory, errno: errno, action: "writing")
            }
            offset += count
        }
    }

    /// Overwrites a key file with random bytes of the same length and syncs it (best effort, errors ignored).
    private func shred(_ path: String) {
        let descriptor = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { _ = close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return }
        let length = min(Int(status.st_size), 4096)
        var noise = [UInt8](repeating: 0, count: length)
        noise.withUnsafeMutableBytes { try? SecureRandom.fill($0) }
        try? writeAll(descriptor, noise, path: path)
        _ = fsync(descriptor)
    }

    // MARK: Formats

    static func formatKey(_ key: PseudonymKey) -> String {
        func hex64(_ value: UInt64) -> String {
            hexString((0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) })
        }
        return hex64(key.key0) + hex64(key.key1) + "\n"
    }

    static func parseKey<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> PseudonymKey? {
        let digits = Array(bytes)
        guard digits.count == 33, digits[32] == UInt8(ascii: "\n") else { return nil }
        var values: [UInt64] = [0, 0]
        for index in 0..<32 {
            let digit = digits[index]
            let nibble: UInt8
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = digit - UInt8(ascii: "a") + 10
            default: return nil
            }
            values[index / 16] = values[index / 16] << 4 | UInt64(nibble)
        }
        return PseudonymKey(key0: values[0], key1: values[1])
    }

    /// `("2026-11-21.key")` → `(20778, false)`; `(".2026-11-21.key.tmp-…")` → `(20778, true)`; else `nil`.
    static func parseFileName(_ name: String) -> (day: Int, isTemporary: Bool)? {
        var text = Substring(name)
        var isTemporary = false
        if text.hasPrefix(".") {
            guard let range = text.range(of: ".key.tmp-") else { return nil }
            text = text[text.index(after: text.startIndex)..<range.lowerBound] + ".key"
            isTemporary = true
        }
        let utf8 = Array(text.utf8)
        guard utf8.count == 14, utf8[4] == UInt8(ascii: "-"), utf8[7] == UInt8(ascii: "-"),
            text.hasSuffix(".key"),
            let year = Int(String(decoding: utf8[0..<4], as: UTF8.self)),
            let month = Int(String(decoding: utf8[5..<7], as: UTF8.self)),
            let day = Int(String(decoding: utf8[8..<10], as: UTF8.self)),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        let days = Timestamp.daysFromCivil(year: year, month: month, day: day)
        // Reject dates that do not exist (2026-02-30): they would not round-trip.
        guard fileName(for: days) == String(text) else { return nil }
        return (days, isTemporary)
    }
}

/// `0o755` → `"0755"`.
func octal(_ mode: UInt32) -> String {
    let text = String(mode, radix: 8)
    return String(repeating: "0", count: max(0, 4 - text.count)) + text
}
