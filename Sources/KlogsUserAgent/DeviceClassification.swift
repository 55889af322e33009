/// The bot signals uap-core misses, and the mapping from uap-core results to a ``DeviceClass``.
///
/// The rules, in order (documented in `docs/USER-AGENTS.md`):
/// 1. **bot**: uap-core's device family is `Spider`, or the agent is empty or `-`, or it contains one of the
///    ``BotSignals`` (`bot` as a word ending, `crawl`, `spider`, `+http`, an `http://` URL, an HTTP client
///    library such as curl, python-requests or Go-http-client, …). The browser and OS families are kept as uap-core
///    found them.
/// 2. **tablet**: the device family or model names an iPad, a Kindle or a tablet; or the OS is `BlackBerry Tablet OS`;
///    or an Android browser (`Mozilla/… Android …`) that does not say `Mobile` (Android's convention for tablets).
/// 3. **mobile**: the device family is a phone (iPhone, iPod, Generic Smartphone/Feature Phone, or any family with a
///    brand other than Apple's Macs), or the browser family says `Mobile` or `Mini`, or the OS is a mobile OS (iOS,
///    Android, Windows Phone, BlackBerry OS, KaiOS, Symbian, …).
/// 4. **desktop**: the OS is a desktop OS (Windows, Mac OS X, Linux distributions, Chrome OS, the BSDs, Solaris).
/// 5. **other**: everything else (TV sets, consoles, unknown agents).
enum DeviceClassification {
    /// Classifies a parsed user agent.
    ///
    /// - Parameters:
    ///   - parsed: the uap-core result.
    ///   - userAgent: the raw agent, for the bot signals and Android's `Mobile` token.
    static func classify(_ parsed: ParsedUserAgent, _ userAgent: UnsafeBufferPointer<UInt8>) -> UserAgentClass {
        let signals = BotSignals.shared.scan(userAgent)
        let isBot = parsed.device.family == "Spider" || signals.isBot
        let device: DeviceClass =
            isBot ? .bot : deviceClass(parsed, isAndroidBrowserWithoutMobile: signals.isAndroidBrowserWithoutMobile)
        return UserAgentClass(
            browser: parsed.browser.family, browserMajor: parsed.browser.major, os: parsed.os.family,
            osMajor: parsed.os.major, deviceFamily: parsed.device.family, device: device, isBot: isBot)
    }

    private static func deviceClass(_ parsed: ParsedUserAgent, isAndroidBrowserWithoutMobile: Bool) -> DeviceClass {
        let family = parsed.device.family
        let os = parsed.os.family
        let browser = parsed.browser.family
        let model = parsed.device.model ?? ""
        let isTabletName =
            containsIgnoringCase(family, "ipad") || containsIgnoringCase(model, "ipad")
            || containsIgnoringCase(family, "tablet") || containsIgnoringCase(model, "tablet")
            || containsIgnoringCase(family, "kindle") || containsIgnoringCase(model, "kindle")
        if isTabletName || os == "BlackBerry Tablet OS" || (os == "Android" && isAndroidBrowserWithoutMobile) {
            return .tablet
        }
        let isMac = family == "Mac"
        let isPhoneFamily =
            family == "iPhone" || family == "iPod" || family.hasPrefix("Generic Smartphone")
            || family.hasPrefix("Generic Feature Phone") || containsIgnoringCase(family, "phone")
            || (!isMac && family != "Other" && parsed.device.brand != nil && parsed.device.brand != "Spider")
        if isPhoneFamily || containsIgnoringCase(browser, "mobile") || containsIgnoringCase(browser, "mini")
            || isMobileOS(os)
        {
            return .mobile
        }
        if os.hasPrefix("Windows") || isDesktopOS(os) || isMac {
            return .desktop
        }
        return .other
    }

    /// OS families that run on phones (tablets running them are caught by the tablet rule first).
    static func isMobileOS(_ os: String) -> Bool {
        switch os {
        case "iOS", "Android", "Windows Phone", "Windows Mobile", "BlackBerry OS", "KaiOS", "Firefox OS", "Tizen",
            "Sailfish", "Ubuntu Touch", "MeeGo", "Maemo", "Bada", "webOS", "Brew MP", "HarmonyOS", "WatchOS":
            true
        default:
            os.hasPrefix("Symbian") || os.hasPrefix("Nokia Series")
        }
    }

    /// OS families of desktop and laptop computers, besides the `Windows …` families (matched by prefix after the
    /// phone ones).
    static func isDesktopOS(_ os: String) -> Bool {
        switch os {
        case "Mac OS X", "Mac OS", "macOS", "Linux", "Ubuntu", "Debian", "Fedora", "Red Hat", "Gentoo", "Mint",
            "Linux Mint", "Arch Linux", "CentOS", "SUSE", "openSUSE", "Slackware", "Mandriva", "Kubuntu", "Xubuntu",
            "Chrome OS", "ChromeOS", "FreeBSD", "OpenBSD", "NetBSD", "Solaris", "SunOS", "BeOS", "Haiku", "OS/2",
            "AmigaOS", "Elementary OS", "Manjaro":
            true
        default:
            false
        }
    }
}

/// Whether `text` contains `needle` (lowercase ASCII) regardless of ASCII case, comparing bytes.
func containsIgnoringCase(_ text: String, _ needle: StaticString) -> Bool {
    let needleCount = needle.utf8CodeUnitCount
    let needleStart = needle.utf8Start
    var text = text
    return text.withUTF8 { bytes in
        guard bytes.count >= needleCount else { return false }
        for start in 0...(bytes.count - needleCount) {
            var offset = 0
            while offset < needleCount && lowercased(bytes[start + offset]) == needleStart[offset] { offset += 1 }
            if offset == needleCount { return true }
        }
        return false
    }
}

/// Signals of automated agents that uap-core's `Spider` rules miss, found with one Aho-Corasick scan of the lowercased
/// user agent.
struct BotSignals: Sendable {
    /// Substrings that mark an automated agent anywhere in the user agent.
    static let anywhere: [String] = [
        "crawl", "spider", "slurp", "scrape", "+http", "http://", "https://", "feedfetcher", "feedparser",
        "headlesschrome", "phantomjs", "python", "curl/", "wget/", "go-http-client", "okhttp", "httpclient",
        "libwww-perl", "lwp::", "aiohttp", "axios/", "node-fetch", "undici", "guzzlehttp", "scrapy", "httpie",
        "java/", "apache-httpclient", "zgrab", "masscan", "nmap", "nikto", "sqlmap", "facebookexternalhit",
        "pingdom", "uptime", "monitoring", "checker", "validator", "fetcher",
    ]
    /// Prefixes that mark a script or library when the user agent starts with them.
    static let prefixes: [String] = ["ruby", "php/", "perl", "powershell", "dart:", "dart/", "rest-client", "feed"]

    static let shared = BotSignals()

    private let automaton: AhoCorasick
    /// Atom numbers of the special entries after ``anywhere``.
    private let botAtom: Int
    private let androidAtom: Int
    private let mobileAtom: Int
    private let mozillaAtom: Int

    private init() {
        var atoms = Self.anywhere
        botAtom = atoms.count
        atoms += ["bot", "android", "mobile", "mozilla/"]
        androidAtom = botAtom + 1
        mobileAtom = botAtom + 2
        mozillaAtom = botAtom + 3
        // Safe because a few dozen short atoms are far below the state limit.
        automaton = AhoCorasick(atoms: atoms)!
    }

    struct Result {
        var isBot: Bool
        /// `Mozilla/… Android …` without `Mobile`: an Android tablet browser.
        var isAndroidBrowserWithoutMobile: Bool
    }

    /// Looks for every signal in one pass.
    func scan(_ userAgent: UnsafeBufferPointer<UInt8>) -> Result {
        if userAgent.isEmpty || (userAgent.count == 1 && userAgent[0] == UInt8(ascii: "-")) {
            return Result(isBot: true, isAndroidBrowserWithoutMobile: false)
        }
        var isBot = false
        var hasAndroid = false
        var hasMobile = false
        var hasMozilla = false
        automaton.forEachMatch(in: userAgent) { atom, end in
            switch atom {
            case botAtom:
                // "bot" ending a word (Googlebot/, AhrefsBot;, bots), but not the Cubot phone brand.
                let next = end < userAgent.count ? lowercased(userAgent[end]) : 0
                let isWordEnd = !(UInt8(ascii: "a")...UInt8(ascii: "z")).contains(next) || next == UInt8(ascii: "s")
                let isCubot =
                    end >= 5 && lowercased(userAgent[end - 5]) == UInt8(ascii: "c")
                    && lowercased(userAgent[end - 4]) == UInt8(ascii: "u")
                if isWordEnd && !isCubot { isBot = true }
            case androidAtom: hasAndroid = true
            case mobileAtom: hasMobile = true
            case mozillaAtom: if end == 8 { hasMozilla = true }
            default: isBot = true
            }
        }
        if !isBot {
            isBot = Self.prefixes.contains { prefix in
                var prefix = prefix
                return prefix.withUTF8 { prefix in
                    guard userAgent.count >= prefix.count else { return false }
                    for offset in 0..<prefix.count where lowercased(userAgent[offset]) != prefix[offset] {
                        return false
                    }
                    return true
                }
            }
        }
        return Result(isBot: isBot, isAndroidBrowserWithoutMobile: hasMozilla && hasAndroid && !hasMobile)
    }
}
