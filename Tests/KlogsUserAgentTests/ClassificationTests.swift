import Foundation
import KlogsTestSupport
import Testing

@testable import KlogsUserAgent

/// One classifier over Debian's rules, shared by the tests of this file (each test makes its own when it needs a
/// fresh cache).
private func makeClassifier(cacheCapacity: Int = 20_000) throws -> UserAgentClassifier {
    UserAgentClassifier(rules: try UAPCoreFixtures.shared.ruleSet(.debian), cacheCapacity: cacheCapacity)
}

/// A hand-checked expectation: browser family and major, OS family, device family, device class, bot flag.
struct ExpectedClass: Sendable, CustomTestStringConvertible {
    var agent: String
    var browser: String
    var browserMajor: String?
    var os: String
    var deviceFamily: String
    var device: DeviceClass
    var isBot: Bool

    init(
        _ agent: String, _ browser: String, _ browserMajor: String?, _ os: String, _ deviceFamily: String,
        _ device: DeviceClass, _ isBot: Bool
    ) {
        self.agent = agent
        self.browser = browser
        self.browserMajor = browserMajor
        self.os = os
        self.deviceFamily = deviceFamily
        self.device = device
        self.isBot = isBot
    }

    var testDescription: String { agent.isEmpty ? "(empty)" : String(agent.prefix(60)) }
}

/// User agents taken from the real logs of the shared corpus (and a few modern clients), classified by hand.
let handCheckedSample: [ExpectedClass] = [
    ExpectedClass(
        "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.107 Safari/537.36",
        "Chrome", "32", "Windows", "Other", .desktop, false),
    ExpectedClass(
        "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0; .NET CLR 2.0.50727)", "IE", "8", "Windows",
        "Other", .desktop, false),
    ExpectedClass(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.73.11 (KHTML, like Gecko) Version/7.0.1 Safari/537.73.11",
        "Safari", "7", "Mac OS X", "Mac", .desktop, false),
    ExpectedClass(
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:26.0) Gecko/20100101 Firefox/26.0", "Firefox", "26", "Ubuntu",
        "Other", .desktop, false),
    ExpectedClass(
        "Mozilla/5.0 (X11; CrOS x86_64 4731.101.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/31.0.1650.67 Safari/537.36",
        "Chrome", "31", "Chrome OS", "Other", .desktop, false),
    ExpectedClass(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 7_0_4 like Mac OS X) AppleWebKit/537.51.1 (KHTML, like Gecko) Version/7.0 Mobile/11B554a Safari/9537.53",
        "Mobile Safari", "7", "iOS", "iPhone", .mobile, false),
    ExpectedClass(
        "Mozilla/5.0 (iPad; CPU OS 7_0_4 like Mac OS X) AppleWebKit/537.51.1 (KHTML, like Gecko) Version/7.0 Mobile/11B554a Safari/9537.53",
        "Mobile Safari", "7", "iOS", "iPad", .tablet, false),
    ExpectedClass(
        "Mozilla/5.0 (Linux; U; Android 4.1.2; en-gb; GT-I9300 Build/JZO54K) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
        "Android", "4", "Android", "Samsung GT-I9300", .mobile, false),
    ExpectedClass(
        "Mozilla/5.0 (Linux; U; Android 4.1.2; it-it; GT-P3100 Build/JZO54K) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Safari/534.30",
        "Android", "4", "Android", "Samsung GT-P3100", .tablet, false),
    ExpectedClass(
        "Mozilla/5.0 (Linux; U; en-us; KFAPWI Build/JDQ39) AppleWebKit/535.19 (KHTML, like Gecko) Silk/3.13 Safari/535.19 Silk-Accelerated=true",
        "Amazon Silk", "3", "Android", "Kindle Fire HDX 8.9\" WiFi", .tablet, false),
    ExpectedClass(
        "Mozilla/5.0 (Linux; Android 6.0; ALE-L21 Build/HuaweiALE-L21) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/66.0.3359.158 Mobile Safari/537.36",
        "Chrome Mobile", "66", "Android", "ALE-L21", .mobile, false),
    ExpectedClass(
        "Mozilla/5.0 (Linux; Android 9; CUBOT_X20_PRO) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/90.0.4430.91 Mobile Safari/537.36",
        "Chrome Mobile", "90", "Android", "CUBOT_X20_PRO", .mobile, false),
    ExpectedClass(
        "Mozilla/5.0 (compatible; MSIE 10.0; Windows Phone 8.0; Trident/6.0; IEMobile/10.0; ARM; Touch; NOKIA; Lumia 920)",
        "IE Mobile", "10", "Windows Phone", "Lumia 920", .mobile, false),
    ExpectedClass(
        "Opera/9.80 (J2ME/MIDP; Opera Mini/7.1.32052/34.1244; U; en) Presto/2.8.119 Version/11.10", "Opera Mini", "7",
        "Other", "Generic Feature Phone", .mobile, false),
    ExpectedClass(
        "Safari/9537.73.11 CFNetwork/673.0.3 Darwin/13.0.0 (x86_64) (MacBookPro8%2C1)", "Safari", "9537",
        "Mac OS X", "MacBookPro8,1", .desktop, false),
    ExpectedClass(
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot", "2", "Other",
        "Spider", .bot, true),
    ExpectedClass(
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "bingbot", "2", "Other", "Spider",
        .bot, true),
    ExpectedClass(
        "Mozilla/5.0 (compatible; AhrefsBot/6.1; +http://ahrefs.com/robot/)", "AhrefsBot", "6", "Other", "Spider",
        .bot, true),
    ExpectedClass(
        "Feedfetcher-Google; (+http://www.google.com/feedfetcher.html; 3 subscribers; feed-id=14171215010336145331)",
        "Other", nil, "Other", "Other", .bot, true),
    ExpectedClass(
        "curl/7.22.0 (i686-pc-linux-gnu) libcurl/7.22.0 OpenSSL/1.0.1 zlib/1.2.3.4 libidn/1.23 librtmp/2.3", "curl",
        "7", "Linux", "Other", .bot, true),
    ExpectedClass("python-requests/2.31.0", "Python Requests", "2", "Other", "Other", .bot, true),
    ExpectedClass("Go-http-client/1.1", "Go-http-client", "1", "Other", "Other", .bot, true),
    ExpectedClass("okhttp/4.9.0", "okhttp", "4", "Other", "Other", .bot, true),
    ExpectedClass("Wget/1.14 (linux-gnu)", "Wget", "1", "Linux", "Other", .bot, true),
    ExpectedClass(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
        "HeadlessChrome", "120", "Linux", "Other", .bot, true),
    ExpectedClass("-", "Other", nil, "Other", "Other", .bot, true),
    ExpectedClass("", "Other", nil, "Other", "Other", .bot, true),
    ExpectedClass("Mozilla/5.0", "Other", nil, "Other", "Other", .other, false),
    ExpectedClass(
        "Mozilla/5.0 (compatible; Ezooms/1.0; help@moz.com)", "Other", nil, "Other", "Other", .bot, true),
]

@Suite("Classification")
struct ClassificationTests {
    @Test("A hand-checked sample of real user agents is classified as expected", arguments: handCheckedSample)
    func handChecked(expected: ExpectedClass) throws {
        let actual = try makeClassifier().classify(expected.agent)
        #expect(actual.browser == expected.browser)
        #expect(actual.browserMajor == expected.browserMajor)
        #expect(actual.os == expected.os)
        #expect(actual.deviceFamily == expected.deviceFamily)
        #expect(actual.device == expected.device)
        #expect(actual.isBot == expected.isBot)
    }

    @Test("The real logs of the corpus give plausible shares of bots, browsers and devices")
    func realLogsArePlausible() throws {
        let classifier = try makeClassifier()
        let agents = try realLogUserAgents()
        #expect(agents.count > 500)
        let classes = agents.map { classifier.classify($0) }
        let bots = classes.filter(\.isBot).count
        let unknownBrowsers = classes.filter { !$0.isBot && $0.browser == "Other" }.count
        let desktops = classes.filter { $0.device == .desktop }.count
        let phonesAndTablets = classes.filter { $0.device == .mobile || $0.device == .tablet }.count
        // Every Spider is a bot, and every bot has the bot device class.
        #expect(classes.allSatisfy { $0.deviceFamily != "Spider" || $0.isBot })
        #expect(classes.allSatisfy { $0.isBot == ($0.device == .bot) })
        let spiders = classes.filter { $0.deviceFamily == "Spider" }.count
        print("real logs: \(agents.count) agents, \(bots) bots (\(spiders) uap-core Spiders),"
              + " \(unknownBrowsers) non-bots with browser Other, \(desktops) desktops, \(phonesAndTablets) phones and tablets")
        #expect((60...160).contains(bots), "bots: \(bots) of \(agents.count)")
        #expect(unknownBrowsers < agents.count / 20, "unknown non-bot browsers: \(unknownBrowsers)")
        #expect(desktops > agents.count / 2, "desktops: \(desktops)")
        #expect(phonesAndTablets > 30, "phones and tablets: \(phonesAndTablets)")
    }

    @Test(
        "Bot signals that uap-core misses are found",
        arguments: [
            "Java/1.8.0_151", "Apache-HttpClient/4.5.13 (Java/1.8.0_292)", "python-urllib3/1.26.5",
            "Python-urllib/3.8", "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", "axios/1.6.2",
            "Scrapy/2.11.0 (+https://scrapy.org)", "Ruby", "PHP/8.1", "Mozilla/5.0 zgrab/0.x", "masscan/1.3",
            "Mozilla/5.0 (compatible; SomeCrawler/1.0)", "Example-Uptime-Monitor", "FeedBurner/1.0",
            "MyCompanyBot", "Mozilla/5.0 (compatible; CustomBot/2.0)", "contact me at someone@example.org",
        ])
    func missedBots(agent: String) throws {
        #expect(try makeClassifier().classify(agent).isBot)
    }

    @Test(
        "Words that only look like bot signals are not bots",
        arguments: [
            "Mozilla/5.0 (Linux; Android 10; CUBOT NOTE 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0 Mobile Safari/537.36",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230901.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/428.0.0.26.108;]",
        ])
    func notBots(agent: String) throws {
        #expect(try makeClassifier().classify(agent).isBot == false)
    }
}

@Suite("The cache and the class ids")
struct CacheTests {
    @Test("A repeated agent hits the cache and gets the same id")
    func repeatedAgentHits() throws {
        let classifier = try makeClassifier()
        let agent = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
        let first = classifier.classify(agent)
        #expect(classifier.missCount == 1)
        for _ in 0..<10 { #expect(classifier.classify(agent) == first) }
        #expect(classifier.lookupCount == 11)
        #expect(classifier.missCount == 1)
    }

    @Test("Ids are dense, in order of first appearance, and equal for equal classes")
    func idsAreDense() throws {
        let classifier = try makeClassifier()
        var agents = [
            "curl/7.22.0", "Wget/1.14 (linux-gnu)", "curl/7.22.1", "Mozilla/5.0 (iPhone; CPU iPhone OS 7_0_4 like Mac OS X)",
        ]
        var ids: [Int32] = []
        for index in agents.indices { ids.append(agents[index].withUTF8 { classifier.classID($0) }) }
        // curl 7.22.0 and curl 7.22.1 share browser, major, OS and device: one class.
        #expect(ids == [0, 1, 0, 2])
        #expect(classifier.knownClasses.count == 3)
        #expect(classifier.userAgentClass(forID: 1).browser == "Wget")
    }

    @Test("A tiny cache evicts but still answers correctly, with stable ids", arguments: [1, 8, 64])
    func evictionKeepsAnswers(capacity: Int) throws {
        let classifier = try makeClassifier(cacheCapacity: capacity)
        let reference = try makeClassifier()
        let agents = Array(try realLogUserAgents().prefix(300))
        var firstIDs: [String: Int32] = [:]
        for round in 0..<2 {
            for agent in agents {
                var copy = agent
                let id = copy.withUTF8 { classifier.classID($0) }
                #expect(classifier.userAgentClass(forID: id) == reference.classifyUncached(agent))
                if round == 0 { firstIDs[agent] = firstIDs[agent] ?? id } else { #expect(firstIDs[agent] == id) }
            }
        }
        #expect(classifier.missCount > agents.count)
        #expect(classifier.cacheCapacity >= capacity)
    }

    @Test("Agents that differ in one byte, or are prefixes of each other, are told apart")
    func nearKeys() throws {
        let classifier = try makeClassifier(cacheCapacity: 8)
        let curl = classifier.classify("curl/7.22.0")
        let wget = classifier.classify("Wget/7.22.0")
        #expect(curl.browser == "curl")
        #expect(wget.browser == "Wget")
        #expect(classifier.classify("curl/7.22.0").browser == "curl")
        #expect(classifier.classify("curl/7").browser == "curl")
        #expect(classifier.classify("").isBot)
    }

    @Test("A prefetch changes nothing: the lookup after it answers as without it")
    func prefetchIsOnlyAHint() throws {
        let classifier = try makeClassifier(cacheCapacity: 8)
        for agent in try realLogUserAgents().prefix(50) {
            var copy = agent
            let id = copy.withUTF8 { bytes in
                classifier.prefetch(fingerprint: UserAgentClassifier.fingerprint(bytes))
                return classifier.classID(bytes)
            }
            #expect(classifier.userAgentClass(forID: id) == classifier.classifyUncached(agent))
        }
    }

    @Test("The hash spreads keys that differ anywhere")
    func hashSpreads() {
        var hashes = Set<UInt64>()
        for length in 0..<40 {
            for position in 0..<max(length, 1) {
                var bytes = [UInt8](repeating: 0x61, count: length)
                if length > 0 { bytes[position] = 0x62 }
                hashes.insert(bytes.withUnsafeBufferPointer { UserAgentCache.hash($0) })
            }
        }
        #expect(hashes.count == 1 + (1..<40).reduce(0, +))
    }

    @Test("The tail of the hash read in one load equals the bytes assembled one by one, at every length")
    func hashTail() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<48 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            bytes.withUnsafeBytes { raw in
                for offset in max(0, length - 7)...length {
                    var expected: UInt64 = 0
                    for (shift, byte) in raw[offset...].enumerated() { expected |= UInt64(byte) << (8 * shift) }
                    #expect(UserAgentCache.tail(raw, from: offset) == expected, "length \(length), offset \(offset)")
                }
            }
        }
    }
}

@Suite("JSON lines")
struct JSONLineTests {
    @Test("Keys come in the documented order, and missing majors are null")
    func keyOrder() {
        let value = UserAgentClass(
            browser: "curl", browserMajor: "8", os: "Other", osMajor: nil, deviceFamily: "Other", device: .bot,
            isBot: true)
        #expect(
            userAgentJSONLine(value)
                == #"{"browser":"curl","browser_major":"8","os":"Other","os_major":null,"device_family":"Other","device":"bot","is_bot":true}"#
        )
    }

    @Test("Quotes, backslashes and control characters are escaped")
    func escaping() throws {
        let value = UserAgentClass(
            browser: "a\"b\\c\u{1}", browserMajor: nil, os: "Kindle Fire HDX 8.9\" WiFi", osMajor: "1",
            deviceFamily: "tab\there", device: .tablet, isBot: false)
        let line = userAgentJSONLine(value)
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        #expect(object?["browser"] as? String == "a\"b\\c\u{1}")
        #expect(object?["os"] as? String == "Kindle Fire HDX 8.9\" WiFi")
        #expect(object?["device_family"] as? String == "tab\there")
        #expect(object?["browser_major"] is NSNull)
        #expect(object?["is_bot"] as? Bool == false)
    }
}

@Suite("JSON lines from standard input")
struct UserAgentLinesTests {
    /// Runs the function with `text` on a pipe as input and returns what it wrote to another pipe.
    private func run(arguments: [String], input text: String) throws -> [String] {
        let input = Pipe()
        let output = Pipe()
        // Feed the input and drain the output on other threads, so that neither pipe can fill up and block.
        let writer = Thread {
            input.fileHandleForWriting.write(Data(text.utf8))
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        nonisolated(unsafe) var data = Data()
        let done = DispatchSemaphore(value: 0)
        let reader = Thread {
            data = output.fileHandleForReading.readDataToEndOfFile()
            done.signal()
        }
        reader.start()
        try writeUserAgentJSONLines(
            arguments: arguments, classifier: try makeClassifier(),
            input: input.fileHandleForReading.fileDescriptor, output: output.fileHandleForWriting.fileDescriptor)
        try output.fileHandleForWriting.close()
        done.wait()
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init)
    }

    @Test("Each line of the input gives one JSON object, CRLF and a last line without newline included")
    func linesFromInput() throws {
        let lines = try run(arguments: [], input: "curl/8.5.0\r\n-\nMozilla/5.0 (compatible; Googlebot/2.1)")
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix(#"{"browser":"curl","browser_major":"8""#))
        #expect(lines[1].hasSuffix(#""device":"bot","is_bot":true}"#))
        #expect(lines[2].hasPrefix(#"{"browser":"Googlebot""#))
        #expect(lines[3] == "")
    }

    @Test("Arguments are classified instead of the input")
    func arguments() throws {
        let lines = try run(arguments: ["Wget/1.21", "python-requests/2.31.0"], input: "curl/8.5.0\n")
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix(#"{"browser":"Wget""#))
        #expect(lines[1].hasPrefix(#"{"browser":"Python Requests""#))
    }

    @Test("Many lines cross the read buffer without losing or splitting any")
    func manyLines() throws {
        let agents = (0..<5_000).map { "curl/\($0).0" }
        let lines = try run(arguments: [], input: agents.joined(separator: "\n") + "\n")
        #expect(lines.count == 5_001)
        #expect(lines.dropLast().allSatisfy { $0.hasPrefix(#"{"browser":"curl""#) })
    }
}

@Suite("Classes shared between classifiers")
struct SharedClassificationTests {
    @Test("A second classifier takes the first one's classes, which are those the rules give")
    func secondClassifierTakesClasses() throws {
        let rules = try UAPCoreFixtures.shared.ruleSet(.debian)
        let shared = SharedClassifications()
        let first = UserAgentClassifier(rules: rules, shared: shared)
        let second = UserAgentClassifier(rules: rules, shared: shared)
        let agents = Array(try realLogUserAgents().prefix(200))
        for agent in agents { _ = first.classify(agent) }
        let stored = shared.count
        #expect(stored == Set(agents).count)
        for agent in agents.reversed() { #expect(second.classify(agent) == first.classifyUncached(agent)) }
        // Every agent was found, none stored again; the second classifier's ids are its own, in its order.
        #expect(shared.count == stored)
        #expect(second.missCount == stored)
        #expect(second.userAgentClass(forID: 0) == first.classifyUncached(agents.last!))
    }

    @Test("An emptied classifier keeps the shared classes")
    func emptiedKeepsShared() throws {
        let shared = SharedClassifications()
        let classifier = UserAgentClassifier(rules: try UAPCoreFixtures.shared.ruleSet(.debian), shared: shared)
        _ = classifier.classify("curl/7.22.0")
        let emptied = classifier.emptied()
        #expect(emptied.shared === shared)
        #expect(emptied.knownClasses.isEmpty)
        #expect(emptied.classify("curl/7.22.0").browser == "curl")
        #expect(shared.count == 1)
    }

    @Test("Past its byte limit it empties itself and fills again, answering the same")
    func boundedByBytes() throws {
        // Room for about three entries.
        let shared = SharedClassifications(byteLimit: 600)
        let classifier = UserAgentClassifier(rules: try UAPCoreFixtures.shared.ruleSet(.debian), shared: shared)
        let reference = try makeClassifier()
        for version in 0..<20 {
            let agent = "curl/7.\(version).0"
            #expect(classifier.classify(agent) == reference.classify(agent))
            #expect(shared.count <= 3)
        }
        #expect(shared.count >= 1)
    }
}
