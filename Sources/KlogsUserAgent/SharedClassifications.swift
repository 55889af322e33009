import Synchronization

/// The classes of the user agents that any of several classifiers has classified, for the others.
///
/// The parallel ingest gives each worker a classifier of its own, whose cache needs no lock. Without this, each
/// worker ran the rules on every distinct user agent of the input, once per worker: real traffic brings tens of
/// thousands of distinct agents a day, at some 5 µs each. A classifier consults it only on a miss of its own cache,
/// so the lock is taken once per distinct agent per worker, not per line.
///
/// The answer is the one the rules give (the rules are the same for every classifier that shares it), so sharing
/// changes no class. Bounded: when the stored agents reach `byteLimit` bytes it is emptied and fills again, so input
/// crafted to be unique costs only classifications. Thread-safe.
public final class SharedClassifications: Sendable {
    /// A user agent's bytes and their hash (``UserAgentClassifier/fingerprint(_:)``, computed once by the caller).
    private struct Key: Hashable {
        let hash: UInt64
        let bytes: [UInt8]

        func hash(into hasher: inout Hasher) {
            hasher.combine(hash)
        }
    }

    private struct State {
        var classes: [Key: UserAgentClass] = [:]
        var byteCount = 0
    }

    private let state = Mutex(State())
    /// The most bytes kept at once: the agents' bytes and ``entryOverhead`` per agent.
    public let byteLimit: Int
    /// What an entry costs besides the agent's bytes: the key, the class and its strings, the table's slot.
    static let entryOverhead = 160

    /// - Parameter byteLimit: the most bytes to keep (8 MiB holds some 30,000 typical agents).
    public init(byteLimit: Int = 8 << 20) {
        self.byteLimit = byteLimit
    }

    /// The class stored for `userAgent`, if another classifier has classified it.
    ///
    /// - Parameter fingerprint: ``UserAgentClassifier/fingerprint(_:)`` of `userAgent`.
    func userAgentClass(of userAgent: UnsafeBufferPointer<UInt8>, fingerprint: UInt64) -> UserAgentClass? {
        let key = Key(hash: fingerprint, bytes: Array(userAgent))
        return state.withLock { $0.classes[key] }
    }

    /// Stores the class of `userAgent` for the other classifiers.
    ///
    /// - Parameter fingerprint: ``UserAgentClassifier/fingerprint(_:)`` of `userAgent`.
    func remember(_ userAgentClass: UserAgentClass, of userAgent: UnsafeBufferPointer<UInt8>, fingerprint: UInt64) {
        let key = Key(hash: fingerprint, bytes: Array(userAgent))
        state.withLock { state in
            let cost = userAgent.count + Self.entryOverhead
            if state.byteCount + cost > byteLimit {
                state.classes.removeAll(keepingCapacity: true)
                state.byteCount = 0
            }
            if state.classes.updateValue(userAgentClass, forKey: key) == nil { state.byteCount += cost }
        }
    }

    /// The number of user agents stored.
    public var count: Int { state.withLock { $0.classes.count } }
}
