import Foundation

/// Analysed rule sets kept on disk between runs, so that a run whose rules file has not changed skips the costly part
/// of loading it: parsing the YAML, analysing every pattern for the prefilter and building it (some 120 M
/// instructions), and compiling every pattern with PCRE2 (some 30 M): a pattern from the cache, known to compile, is
/// compiled on its first match, and a run tries only some of the rules. Measured in `docs/USER-AGENTS.md`.
///
/// ```swift
/// let cache = UserAgentRuleCache.standard()          // $XDG_CACHE_HOME/klogs, or ~/.cache/klogs
/// let (rules, outcome) = try cache!.ruleSet(yaml: text, source: path)
/// ```
///
/// A cache file holds the whole rules text it was made from, and is used only for exactly that text, read by the very
/// executable that wrote it (its device, inode, size and modification time), so a new rules file, a new klogs or a
/// rebuilt one never sees an old analysis. A checksum over the whole file catches a damaged one; it is written to a
/// temporary name and renamed into place, so a reader never sees half a file; and it is read only if it belongs to
/// the user and nobody else may write it. Any problem with the cache falls back to loading the rules as if it were
/// not there: the cache can make a load faster, never different.
public struct UserAgentRuleCache: Sendable {
    /// The directory of the cache files.
    public let directory: String

    /// A cache in `directory`, created (mode 0700) when a rule set is first stored.
    public init(directory: String) {
        self.directory = directory
    }

    /// The user's cache: `$XDG_CACHE_HOME/klogs`, or `$HOME/.cache/klogs`; nil when neither variable is set.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment)
        -> UserAgentRuleCache?
    {
        if let base = environment["XDG_CACHE_HOME"], base.hasPrefix("/") {
            return UserAgentRuleCache(directory: base + "/klogs")
        }
        if let home = environment["HOME"], home.hasPrefix("/") {
            return UserAgentRuleCache(directory: home + "/.cache/klogs")
        }
        return nil
    }

    /// What a load did with the cache.
    public enum Outcome: Sendable, Equatable {
        /// The analysed rules came from the cache.
        case hit
        /// The rules were analysed, and stored for the next run.
        case stored
        /// The rules were analysed, and could not be stored: why.
        case notStored(String)
    }

    /// The most cache files kept (one per rules text and executable), the least recently written removed first.
    static let maximumFiles = 8

    /// The rule set of the `regexes.yaml` text `yaml`: from the cache when it holds this text's analysis, else
    /// parsed, analysed and compiled, then stored.
    ///
    /// - Parameters:
    ///   - yaml: the text of the rules file.
    ///   - source: its path, for error messages.
    /// - Throws: the ``UserAgentError`` that parsing or compiling the rules met (a cached analysis is only of rules
    ///   that loaded without one).
    public func ruleSet(yaml: String, source: String) throws(UserAgentError) -> (UserAgentRuleSet, Outcome) {
        guard let identity = ExecutableIdentity.current else {
            let reason = "the running executable cannot be identified (/proc/self/exe)"
            return (try UserAgentRuleSet(UserAgentRules(yaml: yaml, source: source)), .notStored(reason))
        }
        let key = Self.key(yaml: yaml, identity: identity)
        let path = directory + "/" + Self.fileName(key: key)
        if var archived = Self.archive(at: path, key: key),
            let ruleSet = try UserAgentRuleSet.unarchived(&archived, source: source)
        {
            return (ruleSet, .hit)
        }
        let ruleSet = try UserAgentRuleSet(UserAgentRules(yaml: yaml, source: source))
        do {
            try store(ruleSet, key: key, at: path)
            return (ruleSet, .stored)
        } catch {
            return (ruleSet, .notStored(String(describing: error)))
        }
    }

    /// The cache file of a key: named by its checksum, so that each rules file, and each klogs executable (two
    /// installed versions, a build beside a package), has a file of its own instead of replacing another's.
    static func fileName(key: [UInt8]) -> String {
        let checksum = key.withUnsafeBytes { archiveChecksum($0) }
        let hex = String(checksum, radix: 16)
        return "rules-" + String(repeating: "0", count: 16 - hex.count) + hex + ".cache"
    }

    /// What a cache file must begin with to be used for `yaml` by this executable.
    private static func key(yaml: String, identity: ExecutableIdentity) -> [UInt8] {
        var key = ArchiveWriter()
        key.write(formatName)
        key.write(UInt32(0x0102_0304))  // the byte order of every number that follows
        identity.archive(into: &key)
        // The searched form of a rule, and so its analysis, depends on PCRE2's newline setting; the rules are
        // compiled on first use, known to compile with this version of PCRE2.
        key.write(CompiledPattern.newlineIsLineFeed)
        key.write(CompiledPattern.libraryVersion)
        key.write(yaml)
        return key.bytes
    }

    /// The first bytes of a cache file.
    private static let formatName = "klogs user-agent rules cache 1"

    /// The archived rule set in the cache file at `path`, after its key: nil when there is no such file, or it is
    /// not the user's own, or it is damaged, or it was made for another text or another executable.
    private static func archive(at path: String, key: [UInt8]) -> ArchiveReader? {
        guard let bytes = ownFileContents(path), bytes.count >= key.count + 8 else { return nil }
        let body = bytes.count - 8
        let intact = bytes.withUnsafeBytes { file in
            key.withUnsafeBytes { key in
                // Safe because the file holds at least the key's length and the trailer.
                file.loadUnaligned(fromByteOffset: body, as: UInt64.self)
                    == archiveChecksum(UnsafeRawBufferPointer(rebasing: file[..<body]))
                    && memcmp(file.baseAddress!, key.baseAddress!, key.count) == 0
            }
        }
        return intact ? ArchiveReader(bytes, from: key.count, to: body) : nil
    }

    /// The contents of the regular file at `path` if it belongs to this user and no one else may write it.
    private static func ownFileContents(_ path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_uid == geteuid(),
            status.st_mode & (S_IWGRP | S_IWOTH) == 0
        else { return nil }
        let size = Int(status.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        let complete = bytes.withUnsafeMutableBytes { buffer in
            var done = 0
            while done < size {
                // Safe because `done` < `size`, the buffer's length.
                let count = Foundation.read(descriptor, buffer.baseAddress! + done, size - done)
                if count <= 0 { return false }
                done += count
            }
            return true
        }
        return complete ? bytes : nil
    }

    /// Writes `ruleSet` to `path` under `key`: to a temporary file first, renamed into place; then removes the
    /// oldest files beyond ``maximumFiles``.
    private func store(_ ruleSet: UserAgentRuleSet, key: [UInt8], at path: String) throws(CacheError) {
        var archive = ArchiveWriter(capacity: key.count + 4 << 20)
        archive.append(key)
        ruleSet.archive(into: &archive)
        var bytes = archive.bytes
        let checksum = bytes.withUnsafeBytes { archiveChecksum($0) }
        withUnsafeBytes(of: checksum) { bytes += $0 }

        do {
            // The XDG base directory specification asks for 0700 on a cache directory it creates, parents included.
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CacheError(directory, reason: error.localizedDescription)
        }
        let temporary = path + ".\(getpid()).\(UInt32.random(in: 0 ... .max)).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw CacheError(temporary, errno) }
        let written = bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                // Safe because `done` < the buffer's length.
                let count = Foundation.write(descriptor, buffer.baseAddress! + done, buffer.count - done)
                if count <= 0 { return false }
                done += count
            }
            return true
        }
        let failure = errno
        close(descriptor)
        guard written, rename(temporary, path) == 0 else {
            let error = CacheError(temporary, written ? errno : failure)
            unlink(temporary)
            throw error
        }
        removeOldFiles()
    }

    /// Removes the least recently written cache files beyond ``maximumFiles``.
    private func removeOldFiles() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        let files = names.filter { $0.hasPrefix("rules-") && $0.hasSuffix(".cache") }.compactMap {
            name -> (path: String, written: Int)? in
            var status = stat()
            let path = directory + "/" + name
            guard lstat(path, &status) == 0 else { return nil }
            return (path, Int(status.st_mtim.tv_sec) * 1_000_000_000 + Int(status.st_mtim.tv_nsec))
        }
        for file in files.sorted(by: { $0.written > $1.written }).dropFirst(Self.maximumFiles) { unlink(file.path) }
    }

    /// Why a rule set could not be stored: the path and the system's reason.
    struct CacheError: Error, CustomStringConvertible {
        let path: String
        let reason: String

        init(_ path: String, reason: String) {
            self.path = path
            self.reason = reason
        }

        init(_ path: String, _ code: Int32) {
            self.init(path, reason: String(cString: strerror(code)))
        }

        var description: String { "\(path): \(reason)" }
    }
}

/// Which executable file this process runs, as far as a cache needs to know: a rebuilt or reinstalled klogs has
/// another inode, size or modification time.
struct ExecutableIdentity: Sendable {
    let device: UInt64
    let inode: UInt64
    let size: Int
    let modifiedSeconds: Int
    let modifiedNanoseconds: Int

    /// The running executable's identity; nil where `/proc/self/exe` cannot be examined.
    static let current: ExecutableIdentity? = {
        var status = stat()
        guard stat("/proc/self/exe", &status) == 0 else { return nil }
        return ExecutableIdentity(
            device: UInt64(status.st_dev), inode: UInt64(status.st_ino), size: Int(status.st_size),
            modifiedSeconds: Int(status.st_mtim.tv_sec), modifiedNanoseconds: Int(status.st_mtim.tv_nsec))
    }()

    func archive(into archive: inout ArchiveWriter) {
        archive.write(device)
        archive.write(inode)
        archive.write(size)
        archive.write(modifiedSeconds)
        archive.write(modifiedNanoseconds)
    }
}

extension UserAgentRuleSet {
    /// Writes what ``UserAgentRuleCache`` keeps of the rule set: the rules, their tails, the prefilter and the capture
    /// counts.
    func archive(into archive: inout ArchiveWriter) {
        rules.archive(into: &archive)
        archive.write(patternTails.count)
        for tail in patternTails { PatternTail.archive(tail, into: &archive) }
        prefilter.archive(into: &archive)
        let counts = captureCounts
        archive.write(counts.patterns)
        archive.write(counts.tails)
    }

    /// The rule set that ``archive(into:)`` wrote, its patterns compiled on first match; nil when the archive is
    /// malformed.
    ///
    /// - Throws: what building the rule set throws (nothing for rules that were stored: they compiled then).
    static func unarchived(_ archive: inout ArchiveReader, source: String) throws(UserAgentError) -> UserAgentRuleSet? {
        let rules: UserAgentRules
        let tails: [PatternTail?]
        let prefilter: LiteralPrefilter
        let counts: (patterns: [Int32], tails: [Int32])
        do {
            rules = try UserAgentRules(archive: &archive, source: source)
            tails = try (0..<archive.readCount(atMost: rules.count)).map { _ throws(ArchiveReader.Malformed) in
                try PatternTail.unarchived(&archive)
            }
            prefilter = try LiteralPrefilter(archive: &archive)
            counts = (try archive.readArray(), try archive.readArray())
            guard archive.atEnd, tails.count == rules.count, counts.patterns.count == rules.count,
                counts.tails.count == rules.count, prefilter.deviceRange.upperBound == rules.count,
                prefilter.browserRange.count == rules.browserRules.count,
                prefilter.osRange.count == rules.osRules.count
            else { return nil }
        } catch {
            return nil
        }
        return try UserAgentRuleSet(rules, usePrefilter: true, tails: tails, known: counts) { prefilter }
    }
}

extension UserAgentRules {
    /// The number of rules in the three lists.
    var count: Int { browserRules.count + osRules.count + deviceRules.count }

    /// Writes the three lists for ``UserAgentRuleCache``.
    func archive(into archive: inout ArchiveWriter) {
        for kind in Kind.allCases {
            let list = rules(kind)
            archive.write(list.count)
            for rule in list {
                archive.write(rule.regex)
                archive.write(rule.caseInsensitive)
                for replacement in rule.replacements { archive.write(replacement) }
                archive.write(rule.line)
            }
        }
    }

    /// Reads the lists that ``archive(into:)`` wrote.
    init(archive: inout ArchiveReader, source: String) throws(ArchiveReader.Malformed) {
        var lists: [[Rule]] = []
        for kind in Kind.allCases {
            let count = try archive.readCount(atMost: 1 << 20)
            var list: [Rule] = []
            list.reserveCapacity(count)
            for _ in 0..<count {
                let regex = try archive.readString()
                let caseInsensitive = try archive.readBool()
                var replacements: [String?] = []
                for _ in kind.replacementKeys { replacements.append(try archive.readOptionalString()) }
                list.append(
                    Rule(
                        regex: regex, caseInsensitive: caseInsensitive, replacements: replacements,
                        line: try archive.readInt()))
            }
            lists.append(list)
        }
        (browserRules, osRules, deviceRules) = (lists[0], lists[1], lists[2])
        self.source = source
    }
}

extension PatternTail {
    /// Writes a rule's tail, or its absence, for ``UserAgentRuleCache``.
    static func archive(_ tail: PatternTail?, into archive: inout ArchiveWriter) {
        archive.write(tail?.pattern)
        if let tail { archive.write(tail.headWidth) }
    }

    init(pattern: String, headWidth: Int?) {
        self.pattern = pattern
        self.headWidth = headWidth
    }

    /// Reads what ``archive(_:into:)`` wrote.
    static func unarchived(_ archive: inout ArchiveReader) throws(ArchiveReader.Malformed) -> PatternTail? {
        guard let pattern = try archive.readOptionalString() else { return nil }
        return PatternTail(pattern: pattern, headWidth: try archive.readOptionalInt())
    }
}
