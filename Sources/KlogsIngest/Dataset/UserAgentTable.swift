import KlogsCore
import KlogsUserAgent

/// Classifies each distinct user agent once per run and gives its class a small integer id.
///
/// The raw user agent lives only in memory, as an interned key; what reaches the datasets are the class's
/// browser, OS and device names, looked up by id when a row group is written.
struct UserAgentTable {
    /// The distinct classes seen so far; a row stores an index into this array.
    private(set) var classes: [UserAgentClass] = []
    private var classIds: [UserAgentClass: Int32] = [:]

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
    private var userAgents = ByteInterner()
    private var classOfUserAgent: [Int32] = []
    /// Distinct user agents kept before the table forgets them (the classes stay).
    private let userAgentLimit = 200_000

    /// The class used for lines without a user-agent field (the common log format).
    private(set) var absentClassId: Int32 = 0

    init(classifier: UserAgentClassifier?) {
        self.classifier = classifier
        absentClassId = intern(UserAgentClass.unknown)
    }

    /// The class id of a user agent, classifying it the first time it is seen.
    mutating func classId(of userAgent: UnsafeBufferPointer<UInt8>) -> Int32 {
        let id = Int(userAgents.intern(userAgent))
        if id < classOfUserAgent.count { return classOfUserAgent[id] }
        let userAgentClass = classifier?.classify(userAgent) ?? UserAgentClass.unknown
        let classId = intern(userAgentClass)
        classOfUserAgent.append(classId)
        if classOfUserAgent.count >= userAgentLimit {
            userAgents.removeAll(keepingCapacity: true)
            classOfUserAgent.removeAll(keepingCapacity: true)
        }
        return classId
    }

    private mutating func intern(_ userAgentClass: UserAgentClass) -> Int32 {
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
