import KlogsCore
import KlogsUserAgent

/// Gives each user-agent class of a run a small integer id, and the dictionary ids of its column values.
///
/// The raw user agent never reaches a dataset: rows store the class id, and the class's browser, OS and device
/// names are looked up by id when a row group is written.
struct UserAgentTable {
    /// The distinct classes seen so far; a row stores an index into this array.
    private(set) var classes: [UserAgentClass] = []
    private var classIds: [UserAgentClass: Int32] = [:]

    /// Whether the class of a row is a bot.
    func isBot(_ classId: Int32) -> Bool { classes[Int(classId)].isBot }

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

    private let classifier: UserAgentClassifier?
    /// This table's class id of each of the classifier's class ids (-1: not seen yet).
    private var tableIdOfClassifierId: [Int32] = []

    /// The class used for lines without a user-agent field (the common log format).
    private(set) var absentClassId: Int32 = 0

    /// Families and versions that are words of the rules file; others are not stored (see Privacy/).
    let vocabulary: UserAgentVocabulary?

    init(classifier: UserAgentClassifier?) {
        self.init(
            classifier: classifier,
            vocabulary: classifier.flatMap { UserAgentVocabulary(rulesPath: $0.parser.rules.source) })
    }

    /// A table whose vocabulary was read already: the parallel pipeline's workers share the run's.
    init(classifier: UserAgentClassifier?, vocabulary: UserAgentVocabulary?) {
        self.classifier = classifier
        self.vocabulary = vocabulary
        absentClassId = intern(UserAgentClass.unknown)
    }

    /// The class id of a record's user agent (`absentClassId` when the line has none), and the user agent's
    /// fingerprint: one hash of the user agent serves the class lookup and the pseudonym.
    mutating func classify(_ userAgent: UnsafeRawBufferPointer?) -> (classId: Int32, fingerprint: UInt64) {
        let bytes = UnsafeBufferPointer<UInt8>(
            start: userAgent?.baseAddress?.assumingMemoryBound(to: UInt8.self), count: userAgent?.count ?? 0)
        let fingerprint = UserAgentClassifier.fingerprint(bytes)
        return (userAgent == nil ? absentClassId : classId(of: bytes, fingerprint: fingerprint), fingerprint)
    }

    /// The class id of a user agent. The classifier caches user agents; this maps its ids to ours.
    /// - Parameter fingerprint: `UserAgentClassifier.fingerprint(userAgent)`.
    mutating func classId(of userAgent: UnsafeBufferPointer<UInt8>, fingerprint: UInt64) -> Int32 {
        guard let classifier else { return absentClassId }
        let classifierId = Int(classifier.classID(userAgent, fingerprint: fingerprint))
        if classifierId < tableIdOfClassifierId.count, tableIdOfClassifierId[classifierId] >= 0 {
            return tableIdOfClassifierId[classifierId]
        }
        if classifierId >= tableIdOfClassifierId.count {
            tableIdOfClassifierId.append(
                contentsOf: repeatElement(-1, count: classifierId + 1 - tableIdOfClassifierId.count))
        }
        let id = intern(classifier.userAgentClass(forID: Int32(classifierId)))
        tableIdOfClassifierId[classifierId] = id
        return id
    }

    private mutating func intern(_ classified: UserAgentClass) -> Int32 {
        id(ofFiltered: vocabulary?.filter(classified) ?? classified)
    }

    /// The id of a class that already went through the vocabulary filter (a class of another table of the run,
    /// such as a parallel worker's), added when new.
    mutating func id(ofFiltered userAgentClass: UserAgentClass) -> Int32 {
        if let id = classIds[userAgentClass] { return id }
        let id = Int32(classes.count)
        classes.append(userAgentClass)
        classIds[userAgentClass] = id
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
