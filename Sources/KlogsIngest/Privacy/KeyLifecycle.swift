internal import Glibc

/// When pseudonym keys die, and which key a day's records get: the key lifecycle of `docs/PRIVACY.md`.
///
/// A UTC day's key lives from the first line of that day klogs sees until the day is more than the grace period
/// in the past: the key of day D is destroyed once `now ≥ end of D + grace` (end of D = 00:00 UTC of D + 1). With
/// the default 48 h grace, the key of 2026-11-20 dies at 2026-11-23 00:00 UTC. Every `klogs ingest` (and
/// `klogs purge`) destroys the keys that are due, so nobody, not even the data owner, can recompute a day's
/// pseudonyms afterwards.
///
/// Lines of a day whose key is gone (late lines) are still ingested, with a fresh random key made for that day in
/// this run and never stored: their pseudonyms link within the run only and match nothing stored before.
///
/// ```swift
/// let lifecycle = KeyLifecycle(graceSeconds: 48 * 3600, now: KeyLifecycle.currentTime())
/// let expired = try lifecycle.expire(in: keys)              // at the start of every run
/// let key = try lifecycle.key(for: day, in: keys)           // stored key, or an ephemeral one for late lines
/// ```
public struct KeyLifecycle: Sendable {
    /// How long after the end of a UTC day its key is kept, in seconds.
    public var graceSeconds: Int64
    /// The time the run takes as "now", in seconds since the Unix epoch.
    public var now: Int64

    /// The default grace period: 48 hours.
    public static let defaultGraceSeconds: Int64 = 48 * 3600

    public init(graceSeconds: Int64 = defaultGraceSeconds, now: Int64 = KeyLifecycle.currentTime()) {
        self.graceSeconds = max(0, graceSeconds)
        self.now = now
    }

    /// Parses a grace period: a number with a unit, `48h`, `2d`, `90m`, `3600s`, or a bare number of hours.
    ///
    /// - Returns: seconds, or `nil` for anything else (negative values, other units, more than 366 days).
    public static func parseDuration(_ text: String) -> Int64? {
        var digits = Substring(text)
        var unit: Int64 = 3600
        switch digits.last {
        case "s": unit = 1
        case "m": unit = 60
        case "h": unit = 3600
        case "d": unit = 86_400
        case let last? where !last.isNumber: return nil
        default: break
        }
        if let last = digits.last, !last.isNumber { digits = digits.dropLast() }
        guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            let value = Int64(digits), value * unit <= 366 * 86_400
        else { return nil }
        return value * unit
    }

    /// The system clock in seconds since the Unix epoch.
    public static func currentTime() -> Int64 {
        Int64(time(nil))
    }

    /// The first day whose key is still alive: every day before it is expired.
    public var firstLiveDay: Int {
        let limit = now - graceSeconds
        // Floor division: day D is expired iff (D + 1) · 86 400 ≤ now − grace.
        return Int(limit >= 0 ? limit / 86_400 : (limit - 86_399) / 86_400)
    }

    /// Whether the key of `day` (days since 1970-01-01, UTC) is due to be destroyed.
    public func isExpired(day: Int) -> Bool {
        day < firstLiveDay
    }

    /// Destroys the stored keys of every expired day.
    ///
    /// - Returns: the days whose key file was removed.
    /// - Throws: `IngestError` when the key directory cannot be listed or a key file cannot be removed.
    @discardableResult
    public func expire(in keys: KeyStore) throws -> [Int] {
        try keys.expire(olderThan: firstLiveDay)
    }

    /// Destroys the expired keys of a data directory, if it has a key directory (without creating one).
    ///
    /// For `klogs ingest` in every mode and for `klogs purge`.
    ///
    /// - Returns: the days whose key file was removed (empty when there is no key directory).
    /// - Throws: `IngestError` when the key directory is accessible by others or a key cannot be removed.
    @discardableResult
    public func expireKeys(dataDirectory: String) throws -> [Int] {
        let base = dataDirectory.hasSuffix("/") ? String(dataDirectory.dropLast()) : dataDirectory
        let directory = (base.isEmpty ? "." : base) + "/_klogs/keys"
        var status = stat()
        guard lstat(directory, &status) == 0 else { return [] }
        return try expire(in: try KeyStore(directory: directory))
    }
}

/// The pseudonym key of each day a run meets: the stored key of a live day, or, for an expired day, a random key
/// made once per day in this run and never written anywhere.
final class RunKeys {
    private let store: KeyStore
    private let lifecycle: KeyLifecycle
    private var ephemeral: [Int: PseudonymKey] = [:]

    init(store: KeyStore, lifecycle: KeyLifecycle) {
        self.store = store
        self.lifecycle = lifecycle
    }

    /// The key for records of `day`, and whether it is an ephemeral one (the day's stored key is gone).
    func key(for day: Int) throws -> (key: PseudonymKey, isEphemeral: Bool) {
        guard lifecycle.isExpired(day: day) else { return (try store.key(for: day), false) }
        if let key = ephemeral[day] { return (key, true) }
        let key = try KeyStore.ephemeralKey()
        ephemeral[day] = key
        return (key, true)
    }
}
