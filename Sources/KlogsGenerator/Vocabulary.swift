/// The fixed material the generator draws from: user agents, path shapes, referrers and words.
///
/// Everything here is built once per generator from literals and the seed; nothing is read from disk.
enum Vocabulary {
    /// A user agent with a relative traffic weight.
    struct Agent {
        var text: String
        var weight: UInt64
    }

    static let words: [String] = [
        "shoes", "jackets", "summer", "winter", "travel", "coffee", "garden", "kitchen", "design", "music",
        "books", "photo", "camera", "laptop", "phone", "tablet", "review", "guide", "news", "sale",
        "outlet", "gift", "kids", "women", "men", "sport", "running", "hiking", "yoga", "bike",
        "city", "beach", "forest", "river", "mountain", "lamp", "chair", "table", "sofa", "bed",
        "pricing", "support", "release", "update", "security", "privacy", "careers", "team", "press", "events",
        "recipes", "pasta", "bread", "salad", "cheese", "wine", "tea", "chocolate", "cake", "soup",
    ]

    // MARK: User agents

    /// About 160 browser user agents, modern and old, desktop, phone and tablet, weighted by rough traffic share.
    static func humanAgents() -> [Agent] {
        var agents: [Agent] = []
        func add(_ weight: UInt64, _ text: String) { agents.append(Agent(text: text, weight: weight)) }
        // Newer versions weigh more: the weight grows with the position in the version list.
        func family(_ weight: UInt64, _ versions: [String], _ make: (String) -> String) {
            for (index, version) in versions.enumerated() {
                add(weight * UInt64(index + 1), make(version))
            }
        }
        let chrome = ["120", "122", "124", "126", "128", "130", "131", "132", "134", "136", "138", "140", "141", "142"]
        family(40, chrome) { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/\($0).0.0.0 Safari/537.36" }
        family(14, Array(chrome.suffix(9))) { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/\($0).0.0.0 Safari/537.36" }
        family(6, Array(chrome.suffix(6))) { "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/\($0).0.0.0 Safari/537.36" }
        family(8, ["120", "123"]) { "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/\($0).0.0.0 Safari/537.36" }
        family(30, Array(chrome.suffix(10))) { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/\($0).0.0.0 Mobile Safari/537.36" }
        for (model, android) in [("SM-S918B", "14"), ("SM-A546B", "14"), ("Pixel 7", "14"), ("Pixel 8 Pro", "15"),
                                 ("SM-G991B", "13"), ("Redmi Note 9 Pro", "12"), ("moto g(30)", "11"), ("CPH2305", "13")] {
            add(12, "Mozilla/5.0 (Linux; Android \(android); \(model)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.179 Mobile Safari/537.36")
        }
        family(5, ["128.0.6613.98", "131.0.6778.73", "138.0.7204.119"]) { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/\($0) Mobile/15E148 Safari/604.1" }
        family(10, ["124", "128", "131", "134", "138", "141"]) { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/\($0).0.0.0 Safari/537.36 Edg/\($0).0.0.0" }
        family(3, ["131", "138"]) { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/\($0).0.0.0 Safari/537.36 Edg/\($0).0.0.0" }
        let firefox = ["115", "128", "131", "133", "136", "139", "141", "143", "144"]
        family(8, firefox) { "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:\($0).0) Gecko/20100101 Firefox/\($0).0" }
        family(4, Array(firefox.suffix(5))) { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:\($0).0) Gecko/20100101 Firefox/\($0).0" }
        family(3, Array(firefox.suffix(4))) { "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:\($0).0) Gecko/20100101 Firefox/\($0).0" }
        family(3, Array(firefox.suffix(4))) { "Mozilla/5.0 (X11; Linux x86_64; rv:\($0).0) Gecko/20100101 Firefox/\($0).0" }
        family(3, ["131", "141", "144"]) { "Mozilla/5.0 (Android 14; Mobile; rv:\($0).0) Gecko/\($0).0 Firefox/\($0).0" }
        family(3, ["128", "140"]) { "Mozilla/5.0 (X11; Linux x86_64; rv:\($0).0) Gecko/20100101 Firefox/\($0).0 Iceweasel" }
        family(12, ["16.6", "17.4.1", "17.6", "18.0", "18.1", "18.3", "18.5", "26.0"]) { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/\($0) Safari/605.1.15" }
        for (system, version) in [("15_8", "15.6.6"), ("16_7_10", "16.6"), ("17_5", "17.5"), ("17_6_1", "17.6"), ("18_0", "18.0"),
                                  ("18_1_1", "18.1.1"), ("18_3_2", "18.3"), ("18_5", "18.5"), ("18_6", "18.6"), ("26_0", "26.0")] {
            add(system.hasPrefix("18") || system.hasPrefix("26") ? 60 : 20,
                "Mozilla/5.0 (iPhone; CPU iPhone OS \(system) like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/\(version) Mobile/15E148 Safari/604.1")
        }
        for (system, version) in [("16_7", "16.6"), ("17_5", "17.5"), ("18_1", "18.1"), ("18_5", "18.5")] {
            add(12, "Mozilla/5.0 (iPad; CPU OS \(system) like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/\(version) Mobile/15E148 Safari/604.1")
        }
        for (model, android) in [("SM-X710", "14"), ("SM-T970", "13"), ("Lenovo TB-X606F", "10"), ("Pixel Tablet", "15"), ("SM-X200", "14")] {
            add(6, "Mozilla/5.0 (Linux; Android \(android); \(model)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
        }
        for (model, version) in [("SM-S921B", "25.0"), ("SM-A536B", "23.0"), ("SM-G990B", "27.0")] {
            add(8, "Mozilla/5.0 (Linux; Android 14; \(model)) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/\(version) Chrome/121.0.0.0 Mobile Safari/537.36")
        }
        family(3, ["114.0.0.0", "120.0.0.0"]) { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36 OPR/\($0)" }
        add(4, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 YaBrowser/25.8.0.0 Safari/537.36")
        add(3, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36 Vivaldi/7.6.3797.52")
        // In-app browsers.
        add(10, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/512.0.0.44.108;FBBV/745112870;FBDV/iPhone15,3;FBMD/iPhone;FBSN/iOS;FBSV/18.5;FBSS/3;FBCR/;FBID/phone;FBLC/en_US;FBOP/5]")
        add(8, "Mozilla/5.0 (Linux; Android 14; SM-A546B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.135 Mobile Safari/537.36 Instagram 361.0.0.46.88 Android (34/14; 450dpi; 1080x2340; samsung; SM-A546B; a54x; s5e8835; en_GB; 674675155)")
        // Old and rare browsers.
        add(3, "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko")
        add(2, "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; Trident/6.0)")
        add(1, "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0; .NET CLR 2.0.50727)")
        add(1, "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)")
        add(2, "Mozilla/5.0 (Windows NT 5.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/49.0.2623.112 Safari/537.36")
        add(2, "Mozilla/5.0 (Windows NT 6.1; rv:52.0) Gecko/20100101 Firefox/52.0")
        add(2, "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36")
        add(1, "Mozilla/5.0 (Linux; U; Android 4.4.2; en-us; SM-T530 Build/KOT49H) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Safari/534.30")
        add(1, "Opera/9.80 (Windows NT 6.1; WOW64) Presto/2.12.388 Version/12.18")
        add(1, "Mozilla/5.0 (iPhone; CPU iPhone OS 9_3_5 like Mac OS X) AppleWebKit/601.1.46 (KHTML, like Gecko) Version/9.0 Mobile/13G36 Safari/601.1")
        add(1, "Mozilla/5.0 (compatible; MSIE 10.0; Windows Phone 8.0; Trident/6.0; IEMobile/10.0; ARM; Touch; NOKIA; Lumia 920)")
        add(1, "Mozilla/5.0 (BlackBerry; U; BlackBerry 9900; en) AppleWebKit/534.11+ (KHTML, like Gecko) Version/7.1.0.346 Mobile Safari/534.11+")
        add(1, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_5) AppleWebKit/600.8.9 (KHTML, like Gecko) Version/8.0.8 Safari/600.8.9")
        add(1, "Mozilla/5.0 (X11; U; Linux i686; en-US; rv:1.9.2.13) Gecko/20101206 Ubuntu/10.10 (maverick) Firefox/3.6.13")
        add(1, "Mozilla/5.0 (PlayStation; PlayStation 5/6.50) AppleWebKit/605.1.15 (KHTML, like Gecko)")
        add(1, "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/538.1 (KHTML, like Gecko) Version/6.0 TV Safari/538.1")
        // Agents with quotes, as Apache escapes them (`\"`).
        add(1, #"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 \"Contoso Toolbar 2.1\""#)
        add(1, #"\"Mozilla/5.0 (Windows NT 6.1; rv:24.0) Gecko/20100101 Firefox/24.0\""#)
        add(1, #"Mozilla/5.0 (Linux; Android 12; SM-T505) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 \"Kiosk\" Build/5.3"#)
        return agents
    }

    /// About 45 crawlers, scripts and monitors, weighted by rough share of bot traffic.
    static func botAgents() -> [Agent] {
        var agents: [Agent] = []
        func add(_ weight: UInt64, _ text: String) { agents.append(Agent(text: text, weight: weight)) }
        add(60, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
        add(50, "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.7390.122 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
        add(10, "Googlebot-Image/1.0")
        add(5, "AdsBot-Google (+http://www.google.com/adsbot.html)")
        add(40, "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)")
        add(10, "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36")
        add(35, "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)")
        add(25, "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)")
        add(15, "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)")
        add(8, "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)")
        add(5, "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)")
        add(8, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)")
        add(10, "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)")
        add(4, "Twitterbot/1.0")
        add(3, "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)")
        add(10, "Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)")
        add(8, "Mozilla/5.0 (compatible; DotBot/1.2; +https://opensiteexplorer.org/dotbot; help@moz.com)")
        add(8, "Mozilla/5.0 (Linux; Android 7.0;) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; PetalBot;+https://webmaster.petalsearch.com/site/petalbot)")
        add(12, "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)")
        add(10, "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)")
        add(6, "CCBot/2.0 (https://commoncrawl.org/faq/)")
        add(10, "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)")
        add(12, "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)")
        add(4, "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)")
        add(3, "Mozilla/5.0 (compatible; Datadog/Synthetics)")
        add(12, "curl/7.68.0")
        add(10, "curl/8.5.0")
        add(6, "curl/8.14.1")
        add(12, "python-requests/2.31.0")
        add(8, "python-requests/2.32.3")
        add(3, "Python-urllib/3.11")
        add(4, "python-httpx/0.27.0")
        add(4, "aiohttp/3.9.5")
        add(10, "Go-http-client/1.1")
        add(6, "Go-http-client/2.0")
        add(4, "Wget/1.21.2")
        add(2, "Java/17.0.9")
        add(3, "okhttp/4.12.0")
        add(3, "Apache-HttpClient/4.5.14 (Java/17.0.10)")
        add(3, "axios/1.7.2")
        add(2, "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)")
        add(2, "PostmanRuntime/7.39.0")
        add(3, "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)")
        add(3, "WhatsApp/2.23.20.0")
        add(2, "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)")
        add(2, "masscan/1.3 (https://github.com/robertdavidgraham/masscan)")
        add(3, "Mozilla/5.0 zgrab/0.x")
        add(15, "-")
        return agents
    }

    // MARK: Referrers

    /// External referrers: search engines and social sites.
    static let searchReferrers: [String] = [
        "https://www.google.com/", "https://www.google.com/", "https://www.google.com/", "https://www.google.de/",
        "https://www.google.co.uk/", "https://www.google.fr/", "https://www.bing.com/", "https://duckduckgo.com/",
        "https://search.yahoo.com/", "https://yandex.ru/", "https://www.baidu.com/", "https://www.ecosia.org/",
        "https://search.brave.com/",
    ]

    static let socialReferrers: [String] = [
        "https://t.co/", "https://www.facebook.com/", "https://l.facebook.com/", "https://m.facebook.com/",
        "https://l.instagram.com/", "https://www.reddit.com/", "https://news.ycombinator.com/",
        "https://www.linkedin.com/", "android-app://com.google.android.gm/",
        "android-app://com.google.android.googlequicksearchbox/", "https://out.reddit.com/", "https://lm.facebook.com/",
    ]

    static let campaignSources: [String] = ["newsletter", "google", "facebook", "twitter", "linkedin", "partner", "rss"]
    static let campaignMediums: [String] = ["email", "cpc", "social", "referral", "banner"]

    /// Requests that vulnerability scanners send; they mostly get 404.
    static let probePaths: [String] = [
        "/wp-login.php", "/.env", "/wp-admin/setup-config.php", "/phpmyadmin/index.php", "/.git/config",
        "/xmlrpc.php", "/cgi-bin/luci/;stok=/locale", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
        "/admin/config.php", "/.aws/credentials", "/server-status", "/owa/auth/logon.aspx", "/HNAP1/",
        "/boaform/admin/formLogin", "/actuator/health", "/solr/admin/info/system", "/.DS_Store", "/config.json",
        "/wp-content/plugins/wp-file-manager/readme.txt", #"/index.php?s=/Index/\\think\\app/invokefunction"#,
    ]

    /// Paths with percent-encoded bytes, as browsers send them.
    static let encodedPaths: [String] = [
        "/search/caf%C3%A9", "/wiki/Stra%C3%9Fe", "/docs/Annual%20Report%202025.pdf", "/tag/%E6%97%A5%E6%9C%AC",
        "/blog/na%C3%AFve-bayes", "/products/%D0%BA%D1%80%D0%B5%D1%81%D0%BB%D0%BE", "/files/My%20Document%20(1).docx",
        "/city/M%C3%BCnchen", "/category/%C3%A9t%C3%A9", "/s/%F0%9F%98%80", "/download/setup%2Bextras.zip",
        "/%7Euser/index.html",
    ]

    /// Malformed timestamps: out-of-range fields, other formats, a missing zone.
    static let badTimestamps: [String] = [
        "[32/Nov/2026:10:00:00 +0000]", "[01/Foo/2026:10:00:00 +0000]", "[01/Nov/2026:25:00:00 +0000]",
        "[2026-11-01T10:00:00Z]", "[01/Nov/2026:10:00:00]", "[01/Nov/2026:10:61:00 +0000]", "[]",
        "[01/Nov/2026 10:00:00 +0000]", "[1/Nov/26:10:00:00 +0000]", "[01/Nov/2026:10:00:00 +0x00]",
    ]

    static let monthNames: [String] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Relative traffic per local hour of day: low at night, a late-morning and an evening peak.
    static let hourlyTraffic: [UInt64] = [
        34, 24, 17, 13, 11, 12, 18, 30, 48, 64, 74, 80, 82, 80, 77, 75, 74, 73, 72, 76, 80, 74, 60, 46,
    ]
}
