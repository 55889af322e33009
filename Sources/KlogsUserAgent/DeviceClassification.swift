/// The bot signals uap-core misses, and the mapping from uap-core results to a ``DeviceClass``.
///
/// The rules, in order (documented in `docs/USER-AGENTS.md`):
/// 1. **bot**: uap-core's device family is `Spider`, or the agent is empty or `-`, or it contains one of the
///    ``BotSignals`` (`bot` as a word ending, `crawl`, `spider`, `+http`, an `http://` URL, an e-mail address, an
///    HTTP client library such as curl, python-requests or Go-http-client, a feed fetcher, …). The browser and OS
///    families are kept as uap-core found them.
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
    ///   - markers: which of ``BotSignals/markers`` occur in `userAgent`.
    static func classify(_ parsed: ParsedUserAgent, _ userAgent: UnsafeBufferPointer<UInt8>, markers: UInt64)
        -> UserAgentClass
    {
        let isBot = parsed.device.family == "Spider" || BotSignals.isBot(userAgent, markers: markers)
        let device: DeviceClass =
            isBot
            ? .bot
            : deviceClass(
                parsed, isAndroidBrowserWithoutMobile: BotSignals.isAndroidBrowserWithoutMobile(userAgent, markers))
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
        // Apple's computers: `Mac` for browsers, the hardware model (MacBookPro8,1, iMac…) for CFNetwork apps.
        let isMac = family.hasPrefix("Mac") || family.hasPrefix("iMac")
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
        mobileOSFamilies.contains(os) || os.hasPrefix("Symbian") || os.hasPrefix("Nokia Series")
    }

    /// OS families of desktop and laptop computers, besides the `Windows …` families (matched by prefix after the
    /// phone ones).
    static func isDesktopOS(_ os: String) -> Bool {
        desktopOSFamilies.contains(os)
    }

    // Sets, not `switch` statements: a switch over strings compares them one by one (about 50 comparisons for an
    // agent whose OS is in neither list), a set hashes once.
    private static let mobileOSFamilies: Set<String> = [
        "iOS", "Android", "Windows Phone", "Windows Mobile", "BlackBerry OS", "KaiOS", "Firefox OS", "Tizen",
        "Sailfish", "Ubuntu Touch", "MeeGo", "Maemo", "Bada", "webOS", "Brew MP", "HarmonyOS", "WatchOS",
    ]
    private static let desktopOSFamilies: Set<String> = [
        "Mac OS X", "Mac OS", "macOS", "Linux", "Ubuntu", "Debian", "Fedora", "Red Hat", "Gentoo", "Mint",
        "Linux Mint", "Arch Linux", "CentOS", "SUSE", "openSUSE", "Slackware", "Mandriva", "Kubuntu", "Xubuntu",
        "Chrome OS", "ChromeOS", "FreeBSD", "OpenBSD", "NetBSD", "Solaris", "SunOS", "BeOS", "Haiku", "OS/2",
        "AmigaOS", "Elementary OS", "Manjaro",
    ]
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

/// Signals of automated agents that uap-core's `Spider` rules miss. The substrings (``markers``) are found by the
/// prefilter's scan of the lowercased user agent, so they cost nothing extra; the rest looks at the ends of the agent.
enum BotSignals {
    /// Substrings of the lowercased agent that mark an automated agent, wherever they occur.
    static let anywhere: [String] = [
        "crawl", "spider", "slurp", "scrape", "scrapy", "+http", "http://", "https://", "fetcher", "feedparser",
        "headlesschrome", "phantomjs", "python", "curl/", "wget/", "go-http-client", "okhttp", "httpclient",
        "libwww-perl", "lwp::", "aiohttp", "axios/", "node-fetch", "undici", "guzzlehttp", "httpie", "java/",
        "zgrab", "masscan", "nmap", "nikto", "sqlmap", "facebookexternalhit", "pingdom", "uptime", "monitoring",
        "checker", "validator", "@", "subscribers", "feed-id", "indy library", "libfetch", "portscout",
    ]
    /// `bot` ending a word: Googlebot/, AhrefsBot;, YandexBot), bots, …
    static let botWordEndings: [String] = [
        "bot/", "bot;", "bot ", "bot)", "bot-", "bot_", "bot+", "bot,", "bot.", "bot:", "bots",
    ]
    /// The Cubot phone brand, whose model names would otherwise look like bots (`CUBOT_X20`).
    static let cubot = "cubot"
    /// Prefixes of the lowercased agent that mark a script or library.
    static let prefixes: [String] = [
        "ruby", "php/", "perl", "powershell", "dart:", "dart/", "rest-client", "feed",
    ]
    /// ``prefixes`` as bytes, compared without going through `String`.
    private static let prefixBytes: [[UInt8]] = prefixes.map { Array($0.utf8) }

    /// Everything the prefilter looks for on our behalf, in bit order: ``anywhere``, ``botWordEndings``, `cubot`,
    /// `android`, `mobile`.
    static let markers: [String] = anywhere + botWordEndings + [cubot, "android", "mobile"]

    private static let anywhereMask: UInt64 = (1 << UInt64(anywhere.count)) - 1
    private static let botWordMask: UInt64 = ((1 << UInt64(botWordEndings.count)) - 1) << UInt64(anywhere.count)
    private static let cubotBit: UInt64 = 1 << UInt64(anywhere.count + botWordEndings.count)
    private static let androidBit: UInt64 = cubotBit << 1
    private static let mobileBit: UInt64 = cubotBit << 2

    /// Whether the agent is empty, `-`, ends in `bot`, starts with a script prefix or contains a marker.
    static func isBot(_ userAgent: UnsafeBufferPointer<UInt8>, markers: UInt64) -> Bool {
        if userAgent.isEmpty || (userAgent.count == 1 && userAgent[0] == UInt8(ascii: "-")) { return true }
        if markers & anywhereMask != 0 { return true }
        if markers & cubotBit == 0 && (markers & botWordMask != 0 || hasSuffix(userAgent, "bot")) { return true }
        return prefixBytes.contains { hasPrefix(userAgent, $0) }
    }

    /// `Mozilla/… Android …` without `Mobile`: an Android tablet's browser.
    static func isAndroidBrowserWithoutMobile(_ userAgent: UnsafeBufferPointer<UInt8>, _ markers: UInt64) -> Bool {
        markers & androidBit != 0 && markers & mobileBit == 0 && hasPrefix(userAgent, "mozilla/".utf8)
    }

    /// Whether the lowercased `bytes` start with `prefix` (lowercase ASCII).
    private static func hasPrefix(_ bytes: UnsafeBufferPointer<UInt8>, _ prefix: some Collection<UInt8>) -> Bool {
        guard bytes.count >= prefix.count else { return false }
        var offset = 0
        for byte in prefix {
            if lowercased(bytes[offset]) != byte { return false }
            offset += 1
        }
        return true
    }

    /// Whether the lowercased `bytes` end with `suffix` (lowercase ASCII).
    private static func hasSuffix(_ bytes: UnsafeBufferPointer<UInt8>, _ suffix: String) -> Bool {
        let utf8 = suffix.utf8
        guard bytes.count >= utf8.count else { return false }
        var offset = bytes.count - utf8.count
        for byte in utf8 {
            if lowercased(bytes[offset]) != byte { return false }
            offset += 1
        }
        return true
    }
}
