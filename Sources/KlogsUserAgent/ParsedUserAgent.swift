/// The full uap-core result for one user agent: browser, operating system and device, with every version part.
///
/// This is what uap-core's test suites compare; ``UserAgentClass`` is the smaller summary klogs stores.
public struct ParsedUserAgent: Sendable, Equatable, Hashable {
    /// A family with up to four version parts (`user_agent_parsers` and `os_parsers` results).
    public struct Versioned: Sendable, Equatable, Hashable {
        /// The family, `Other` when no rule matched.
        public var family: String
        public var major: String?
        public var minor: String?
        public var patch: String?
        /// The fourth version part (`patch_minor` in uap-core's OS tests).
        public var patchMinor: String?

        public init(
            family: String, major: String? = nil, minor: String? = nil, patch: String? = nil,
            patchMinor: String? = nil
        ) {
            self.family = family
            self.major = major
            self.minor = minor
            self.patch = patch
            self.patchMinor = patchMinor
        }

        /// The result when no rule matches.
        public static let other = Versioned(family: "Other")
    }

    /// A device family with its brand and model (`device_parsers` result).
    public struct Device: Sendable, Equatable, Hashable {
        /// The family, `Other` when no rule matched.
        public var family: String
        public var brand: String?
        public var model: String?

        public init(family: String, brand: String? = nil, model: String? = nil) {
            self.family = family
            self.brand = brand
            self.model = model
        }

        /// The result when no rule matches.
        public static let other = Device(family: "Other")
    }

    /// The `user_agent_parsers` result ("the browser").
    public var browser: Versioned
    /// The `os_parsers` result.
    public var os: Versioned
    /// The `device_parsers` result.
    public var device: Device

    public init(browser: Versioned = .other, os: Versioned = .other, device: Device = .other) {
        self.browser = browser
        self.os = os
        self.device = device
    }
}
