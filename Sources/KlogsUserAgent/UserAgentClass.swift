/// The kind of device a request came from, as klogs stores it.
public enum DeviceClass: String, Sendable, CaseIterable, Hashable {
    case desktop
    case mobile
    case tablet
    case bot
    case other
}

/// What klogs keeps of a user agent: uap-core's browser, OS and device families, the major versions, a device
/// class and a bot flag.
public struct UserAgentClass: Sendable, Equatable, Hashable {
    /// uap-core's browser family (`user_agent_parsers`), `Other` when unknown.
    public var browser: String
    /// The browser's major version, if any.
    public var browserMajor: String?
    /// uap-core's OS family, `Other` when unknown.
    public var os: String
    /// The OS's major version, if any.
    public var osMajor: String?
    /// uap-core's device family, `Other` when unknown.
    public var deviceFamily: String
    /// The device class derived from the uap-core results and the bot signals (see `docs/USER-AGENTS.md`).
    public var device: DeviceClass
    /// Whether the agent is a crawler, monitor, script or HTTP library rather than a person's browser.
    public var isBot: Bool

    public init(
        browser: String, browserMajor: String?, os: String, osMajor: String?, deviceFamily: String,
        device: DeviceClass, isBot: Bool
    ) {
        self.browser = browser
        self.browserMajor = browserMajor
        self.os = os
        self.osMajor = osMajor
        self.deviceFamily = deviceFamily
        self.device = device
        self.isBot = isBot
    }
}

/// One JSON object, without a trailing newline, with the keys in this order: `browser`, `browser_major`, `os`,
/// `os_major`, `device_family`, `device`, `is_bot`; missing majors are `null`.
///
/// ```
/// {"browser":"Chrome","browser_major":"120","os":"Windows","os_major":"10","device_family":"Other","device":"desktop","is_bot":false}
/// ```
public func userAgentJSONLine(_ value: UserAgentClass) -> String {
    var line = "{\"browser\":"
    appendJSON(value.browser, to: &line)
    line += ",\"browser_major\":"
    appendJSON(value.browserMajor, to: &line)
    line += ",\"os\":"
    appendJSON(value.os, to: &line)
    line += ",\"os_major\":"
    appendJSON(value.osMajor, to: &line)
    line += ",\"device_family\":"
    appendJSON(value.deviceFamily, to: &line)
    line += ",\"device\":\""
    line += value.device.rawValue
    line += "\",\"is_bot\":"
    line += value.isBot ? "true}" : "false}"
    return line
}

/// Appends `text` as a JSON string (or `null`), escaping quotes, backslashes and control characters.
private func appendJSON(_ text: String?, to line: inout String) {
    guard let text else {
        line += "null"
        return
    }
    line += "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": line += "\\\""
        case "\\": line += "\\\\"
        case "\n": line += "\\n"
        case "\r": line += "\\r"
        case "\t": line += "\\t"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            line += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: line.unicodeScalars.append(scalar)
        }
    }
    line += "\""
}
