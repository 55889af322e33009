import KlogsCore
import KlogsUserAgent

/// Gives each user-agent class of a run a small integer id, and the dictionary ids of its column values.
///
/// The raw user agent never reaches a dataset: rows store the class id, and the class's browser, OS and device
/// names are looked up by id when a row group is written.
///
/// A class holds only what is stored (browser, OS, their majors, device, bot flag), so the thousands of phone
/// models that uap-core tells apart make no classes of their own. The table holds at most `classLimit` classes:
/// user agents crafted to be unique (`Firefox/1`, `Firefox/2`, … a million times) would otherwise grow it, its
/// dictionaries and every row group's dictionaries without bound. Past the limit, a new class is stored without
/// its versions, and past twice the limit as `Other` (keeping device and bot flag); the summary then warns. Which
/// classes are collapsed depends only on the order of the lines, so every thread count stores the same values.
struct UserAgentTable {
    /// The default `classLimit`: real traffic has hundreds to a few thousand classes a day.
    static let defaultClassLimit = 50_000

    /// The most classes the table holds before it collapses new ones, and the most its classifier numbers before
    /// it is replaced by a new one.
    let classLimit: Int
    /// Whether new classes are collapsed past the limit: a parallel worker's table never does (the run's table
    /// collapses its classes, in the order of the lines), its worker empties it instead.
    let collapsesPastLimit: Bool
    /// Whether a class was collapsed because the table was full.
    private(set) var reachedClassLimit = false

    /// The distinct classes seen so far; a row stores an index into this array.
    private(set) var classes: [UserAgentClass] = []
    private var classIds: [UserAgentClass: Int32] = [:]

    /// Whether each class is a bot, parallel to `classes`: a row's flag without copying its class.
    private(set) var isBotFlags: [Bool] = []

    /// Whether the class of a row is a bot.
    func isBot(_ classId: Int32) -> Bool { isBotFlags[Int(classId)] }

    /// Dictionary ids of each class's column values, parallel to `classes`.
    private(set) var browserIds: [Int32] = []
    private(set) var browserMajorIds: [Int32] = []
    private(set) var osIds: [Int32] = []
    private(set) var osMajorIds: [Int32] = []
    private(set) var deviceIds: [Int32] = []
    /// The class's identity in the hourly aggregates: (browser, os, device, is_bot) without versions.
    private(set) var hitsClassIds: [Int32] = []

    /// The dictionaries of the string columns derived from classes.
    private(set) var browsers = StringDictionary()
    private(set) var browserMajors = StringDictionary()
    private(set) var operatingSystems = StringDictionary()
    private(set) var osMajors = StringDictionary()
    private(set) var devices = StringDictionary()
    private var hitsClassKeys: [HitsClassKey: Int32] = [:]
    /// `(browser, os, device, isBot)` dictionary ids of each hits class.
    private(set) var hitsClasses: [HitsClassKey] = []

    private var classifier: UserAgentClassifier?
    /// This table's class id of each of the classifier's class ids (-1: not seen yet).
    private var tableIdOfClassifierId: [Int32] = []

    /// The class used for lines without a user-agent field (the common log format).
    private(set) var absentClassId: Int32 = 0

    /// Families and versions that are words of the rules file; others are not stored (see Privacy/).
    private(set) var vocabulary: UserAgentVocabulary?

    init(classifier: UserAgentClassifier?, classLimit: Int = Self.defaultClassLimit) {
        self.init(
            classifier: classifier,
            vocabulary: classifier.flatMap { UserAgentVocabulary(rulesPath: $0.parser.rules.source) },
            classLimit: classLimit)
    }

    /// A table whose vocabulary was read already: the parallel pipeline's workers share the run's.
    init(
        classifier: UserAgentClassifier?, vocabulary: UserAgentVocabulary?, classLimit: Int = Self.defaultClassLimit,
        collapsesPastLimit: Bool = true
    ) {
        self.classifier = classifier
        self.vocabulary = vocabulary
        self.classLimit = max(classLimit, 2)
        self.collapsesPastLimit = collapsesPastLimit
        absentClassId = intern(UserAgentClass.unknown)
    }

    /// Whether the table classifies user agents (it has a classifier); false without classification, and before
    /// ``install(classifier:vocabulary:)``.
    var isClassifying: Bool { classifier != nil }

    /// Gives a table made before its run's rules were loaded (see `BackgroundRuleLoad`) its classifier and the
    /// vocabulary of the same rules file, before it classifies its first user agent.
    mutating func install(classifier: UserAgentClassifier, vocabulary: UserAgentVocabulary) {
        precondition(self.classifier == nil, "a table's rules are installed once")
        self.classifier = classifier
        self.vocabulary = vocabulary
    }

    /// An empty table with the same rules, vocabulary and limit, and a classifier of its own (an empty cache):
    /// what a table becomes when no stored row refers to its ids any more. Whether the limit was reached is kept,
    /// for the summary.
    func emptied() -> UserAgentTable {
        var table = UserAgentTable(
            classifier: classifier?.emptied(),
            vocabulary: vocabulary, classLimit: classLimit, collapsesPastLimit: collapsesPastLimit)
        table.reachedClassLimit = reachedClassLimit
        return table
    }

    /// The summary's warning when the limit was reached.
    var classLimitWarning: String? {
        guard reachedClassLimit else { return nil }
        return "more than \(formatCount(classLimit)) distinct user-agent classes (browser, OS, versions, device) in "
            + "one run: past that, new classes were stored without their versions (and as Other past twice that "
            + "number); user agents crafted to be unique do this (docs/OPERATIONS.md, hostile input)."
    }

    /// The fingerprint of a record's user agent (its hash: the class lookup's key and the pseudonym's part of it),
    /// and the class cache's entries for it set loading, so that ``classId(of:fingerprint:)``, called after the
    /// line's other work, finds them in the processor caches.
    @inline(__always)
    func fingerprint(prefetching userAgent: UnsafeRawBufferPointer?) -> UInt64 {
        let fingerprint = UserAgentClassifier.fingerprint(Self.bytes(userAgent))
        classifier?.prefetch(fingerprint: fingerprint)
        return fingerprint
    }

    /// The class id of a record's user agent (`absentClassId` when the line has none).
    ///
    /// - Parameter fingerprint: ``fingerprint(prefetching:)`` of `userAgent`.
    @inline(__always)
    mutating func classId(of userAgent: UnsafeRawBufferPointer?, fingerprint: UInt64) -> Int32 {
        userAgent == nil ? absentClassId : classId(of: Self.bytes(userAgent), fingerprint: fingerprint)
    }

    /// The class id of a record's user agent and whether it is a bot; while the rules load (`pending`), a
    /// provisional id instead: the complement (`~`) of the agent's id in `provisional`, not a bot. Both are settled
    /// once the rules are there (``classIds(of:)``, `RequestCategory.settled(isBot:)`).
    @inline(__always)
    mutating func classId(
        of userAgent: UnsafeRawBufferPointer?, fingerprint: UInt64, pending: Bool, provisional: inout ByteInterner
    ) -> (id: Int32, isBot: Bool) {
        guard pending else {
            let id = classId(of: userAgent, fingerprint: fingerprint)
            return (id, isBot(id))
        }
        return (userAgent.map { ~provisional.intern($0) } ?? absentClassId, false)
    }

    @inline(__always)
    private static func bytes(_ userAgent: UnsafeRawBufferPointer?) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer<UInt8>(
            start: userAgent?.baseAddress?.assumingMemoryBound(to: UInt8.self), count: userAgent?.count ?? 0)
    }

    /// The class id of a user agent. The classifier caches user agents; this maps its ids to ours.
    ///
    /// The path of a class met before stays small and inlined: the classifier is called through the stored
    /// reference without a copy of it (a retain and a release a line before), and a new class is left to
    /// `id(ofClassifierId:)`.
    /// - Parameter fingerprint: `UserAgentClassifier.fingerprint(userAgent)`.
    @inline(__always)
    mutating func classId(of userAgent: UnsafeBufferPointer<UInt8>, fingerprint: UInt64) -> Int32 {
        guard let classifierId = classifier?.classID(userAgent, fingerprint: fingerprint) else { return absentClassId }
        if Int(classifierId) < tableIdOfClassifierId.count {
            let id = tableIdOfClassifierId[Int(classifierId)]
            if id >= 0 { return id }
        }
        return id(ofClassifierId: Int(classifierId))
    }

    /// The class ids of the user agents of `agents`, classified in their order: in the order of first use, the
    /// table numbers new classes as it would have, had each agent been classified when first met. How the lines read
    /// before the rules came get their classes (`ChunkWorker`, `LineProcessor`).
    mutating func classIds(of agents: ByteInterner) -> [Int32] {
        var classIds: [Int32] = []
        classIds.reserveCapacity(agents.count)
        for agent in 0..<Int32(agents.count) {
            agents.bytes(of: agent).withUnsafeBufferPointer { bytes in
                classIds.append(classId(of: bytes, fingerprint: UserAgentClassifier.fingerprint(bytes)))
            }
        }
        return classIds
    }

    /// A provisional row's class (the complement of its agent's index in `classIds`, which ``classIds(of:)`` gave)
    /// and its kind, settled: a bot's page is `other` (`RequestCategory.settled(isBot:)`).
    func settled(_ provisionalId: Int32, kind: UInt8, classIds: [Int32]) -> (classId: Int32, kind: UInt8) {
        let classId = classIds[Int(~provisionalId)]
        let category = RequestCategory(rawValue: kind)?.settled(isBot: isBot(classId))
        return (classId, category?.rawValue ?? kind)
    }

    /// The id of a class of the classifier that this table has not mapped yet: interned, mapped, and the
    /// classifier replaced by a new one when it has numbered `classLimit` classes.
    @inline(never)
    private mutating func id(ofClassifierId classifierId: Int) -> Int32 {
        guard let classifier else { return absentClassId }
        if classifierId >= tableIdOfClassifierId.count {
            tableIdOfClassifierId.append(
                contentsOf: repeatElement(-1, count: classifierId + 1 - tableIdOfClassifierId.count))
        }
        let id = intern(classifier.userAgentClass(forID: Int32(classifierId)))
        tableIdOfClassifierId[classifierId] = id
        if classifierId >= classLimit {
            // The classifier numbers every class it meets: start a new one before its table grows any further.
            self.classifier = classifier.emptied()
            tableIdOfClassifierId.removeAll(keepingCapacity: true)
        }
        return id
    }

    private mutating func intern(_ classified: UserAgentClass) -> Int32 {
        var stored = vocabulary?.filter(classified) ?? classified
        stored.deviceFamily = UserAgentClass.unknown.deviceFamily  // not stored: no class per phone model
        return id(ofFiltered: stored)
    }

    /// The id of a class that already went through the vocabulary filter (a class of another table of the run,
    /// such as a parallel worker's), added when new, or collapsed when the table is full.
    mutating func id(ofFiltered userAgentClass: UserAgentClass) -> Int32 {
        if let id = classIds[userAgentClass] { return id }
        guard classes.count < classLimit || !collapsesPastLimit else { return id(ofCollapsed: userAgentClass) }
        return add(userAgentClass)
    }

    /// The id of a new class met when the table is full: the class without versions, added while the table holds
    /// fewer than twice the limit; past that, the class with `Other` for browser and OS (one per device and bot
    /// flag), so that families made up by crafted user agents cannot grow it either.
    private mutating func id(ofCollapsed userAgentClass: UserAgentClass) -> Int32 {
        reachedClassLimit = true
        var collapsed = userAgentClass
        collapsed.browserMajor = nil
        collapsed.osMajor = nil
        if let id = classIds[collapsed] { return id }
        if classes.count < 2 * classLimit { return add(collapsed) }
        collapsed.browser = UserAgentClass.unknown.browser
        collapsed.os = UserAgentClass.unknown.os
        return classIds[collapsed] ?? add(collapsed)
    }

    private mutating func add(_ userAgentClass: UserAgentClass) -> Int32 {
        let id = Int32(classes.count)
        classes.append(userAgentClass)
        classIds[userAgentClass] = id
        isBotFlags.append(userAgentClass.isBot)
        let browser = browsers.id(of: userAgentClass.browser)
        let os = operatingSystems.id(of: userAgentClass.os)
        let device = devices.id(of: userAgentClass.device.rawValue)
        browserIds.append(browser)
        browserMajorIds.append(userAgentClass.browserMajor.map { browserMajors.id(of: $0) } ?? -1)
        osIds.append(os)
        osMajorIds.append(userAgentClass.osMajor.map { osMajors.id(of: $0) } ?? -1)
        deviceIds.append(device)
        let key = HitsClassKey(browser: browser, os: os, device: device, isBot: userAgentClass.isBot)
        if let hitsId = hitsClassKeys[key] {
            hitsClassIds.append(hitsId)
        } else {
            let hitsId = Int32(hitsClasses.count)
            hitsClasses.append(key)
            hitsClassKeys[key] = hitsId
            hitsClassIds.append(hitsId)
        }
        return id
    }
}

/// A hits class: the user-agent dimensions of the hourly aggregates, as dictionary ids.
struct HitsClassKey: Hashable {
    var browser: Int32
    var os: Int32
    var device: Int32
    var isBot: Bool
}

/// A small dictionary of strings with dense ids, in first-seen order.
struct StringDictionary {
    private(set) var values: [String] = []
    private var ids: [String: Int32] = [:]

    mutating func id(of value: String) -> Int32 {
        if let id = ids[value] { return id }
        let id = Int32(values.count)
        values.append(value)
        ids[value] = id
        return id
    }
}

extension UserAgentClass {
    /// The class of a request whose log line has no user-agent field at all.
    static let unknown = UserAgentClass(
        browser: "Other", browserMajor: nil, os: "Other", osMajor: nil, deviceFamily: "Other",
        device: .other, isBot: false)
}
