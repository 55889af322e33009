/// A deterministic, seeded generator of realistic web-server access logs (Apache/nginx combined or common format).
///
/// The same configuration gives the same bytes on every run and platform. Lines are in time order, spread over
/// the configured number of days with a daily traffic curve; clients, paths, statuses, referrers and user agents
/// follow skewed distributions like real traffic, with bots, IPv6 clients, query strings, percent-encoded paths,
/// escaped quotes in user agents, and a small fraction of malformed lines.
///
/// ```swift
/// var generator = LogGenerator(LogGenerator.Configuration(lines: 1_000_000, seed: 42))
/// var buffer: [UInt8] = []
/// while generator.generate(into: &buffer, lines: 10_000) > 0 {
///     write(buffer)  // the caller's sink
///     buffer.removeAll(keepingCapacity: true)
/// }
/// print(generator.statistics.malformedLines)
/// ```
public struct LogGenerator: Sendable {
    /// The line layout.
    public enum Format: String, Sendable, CaseIterable {
        /// `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"`
        case combined
        /// `%h %l %u %t "%r" %>s %b`
        case common
    }

    /// What to generate.
    public struct Configuration: Sendable {
        /// Total number of lines, malformed ones included.
        public var lines: Int
        /// The seed: equal seeds and settings give equal output.
        public var seed: UInt64
        /// The time of the first possible line, in seconds since 1970-01-01 UTC.
        public var startTime: Int64
        /// Number of days the lines are spread over (at least 1).
        public var days: Int
        public var format: Format
        /// The time zone written in timestamps, in minutes east of UTC (e.g. 60 for `+0100`).
        public var utcOffsetMinutes: Int
        /// Fraction of malformed lines: truncated lines, garbage, bad timestamps, missing fields.
        public var malformedFraction: Double
        /// Fraction of well-formed lines whose request is `"-"` (a connection closed before a request; status 408).
        public var emptyRequestFraction: Double
        /// Fraction of clients with an IPv6 address.
        public var ipv6Fraction: Double
        /// Fraction of requests from crawlers, scripts and monitors.
        public var botFraction: Double
        /// Number of distinct human clients (address and user agent); `nil` means one per 20 lines.
        public var clients: Int?
        /// Number of distinct paths before query strings.
        public var distinctPaths: Int
        /// The site's host name, used in internal referrers.
        public var host: String

        public init(
            lines: Int = 10_000, seed: UInt64 = 1, startTime: Int64 = 1_793_491_200, days: Int = 1,
            format: Format = .combined, utcOffsetMinutes: Int = 0, malformedFraction: Double = 0.001,
            emptyRequestFraction: Double = 0.0005, ipv6Fraction: Double = 0.05, botFraction: Double = 0.15,
            clients: Int? = nil, distinctPaths: Int = 4_000, host: String = "www.example.com"
        ) {
            self.lines = lines
            self.seed = seed
            self.startTime = startTime
            self.days = days
            self.format = format
            self.utcOffsetMinutes = utcOffsetMinutes
            self.malformedFraction = malformedFraction
            self.emptyRequestFraction = emptyRequestFraction
            self.ipv6Fraction = ipv6Fraction
            self.botFraction = botFraction
            self.clients = clients
            self.distinctPaths = distinctPaths
            self.host = host
        }
    }

    /// Counts of what has been written so far; exact, so tests can use them as expected answers.
    public struct Statistics: Sendable, Equatable {
        /// Lines written, malformed ones included.
        public var lines = 0
        /// Bytes written, newlines included.
        public var bytes = 0
        /// Lines that no access-log parser should accept.
        public var malformedLines = 0
        /// Well-formed lines with the request `"-"`.
        public var emptyRequestLines = 0
        /// Well-formed lines from bot user agents.
        public var botLines = 0
        /// Well-formed lines from IPv6 clients.
        public var ipv6Lines = 0
        /// Sum of the response sizes of well-formed lines (`-` counts as 0).
        public var responseBytes = 0

        /// Well-formed lines: every line that a parser should accept.
        public var wellFormedLines: Int { lines - malformedLines }
    }

    public let configuration: Configuration
    public private(set) var statistics = Statistics()

    /// True once all configured lines have been generated.
    public var isFinished: Bool { nextLine >= configuration.lines }

    // Tables built once.
    private let tables: Tables
    private var random: RandomSource
    private let malformed: Probability
    private let emptyRequest: Probability
    private let ipv6: Probability
    private let bot: Probability
    private let clientCount: Int

    // Position in time.
    private var nextLine = 0
    private var hour = -1
    private var hourFirstLine = 0
    private var hourEndLine = 0
    private var cumulativeHourWeights: [UInt64] = []
    private var timestampSecond: Int64 = .min
    private var timestamp: [UInt8] = Array(repeating: 0, count: 28)

    /// Makes a generator; building its tables takes a few milliseconds.
    public init(_ configuration: Configuration) {
        precondition(configuration.lines >= 0, "lines must not be negative")
        precondition(configuration.days >= 1, "days must be at least 1")
        precondition(configuration.distinctPaths >= 50, "distinctPaths must be at least 50")
        self.configuration = configuration
        self.tables = Tables(configuration: configuration)
        self.random = RandomSource(seed: RandomSource.mix(configuration.seed ^ 0x6C6F_6773))
        self.malformed = Probability(configuration.malformedFraction)
        self.emptyRequest = Probability(configuration.emptyRequestFraction)
        self.ipv6 = Probability(configuration.ipv6Fraction)
        self.bot = Probability(configuration.botFraction)
        self.clientCount = max(1, configuration.clients ?? configuration.lines / 20)

        // Traffic per hour of the span, by local hour of day, lower at weekends, varied a little per day.
        var total: UInt64 = 0
        let hours = configuration.days * 24
        cumulativeHourWeights.reserveCapacity(hours)
        for index in 0..<hours {
            let local = configuration.startTime + Int64(index) * 3600 + Int64(configuration.utcOffsetMinutes) * 60
            let day = floorDivide(local, 86_400)
            let hourOfDay = Int((local - day * 86_400) / 3600)
            let weekday = Int(((day % 7) + 11) % 7)  // 0 = Sunday; 1970-01-01 was a Thursday
            let weekendFactor: UInt64 = (weekday == 0 || weekday == 6) ? 8 : 10
            let dayFactor = 90 + RandomSource.mix(configuration.seed &+ UInt64(bitPattern: day)) % 21
            total += Vocabulary.hourlyTraffic[hourOfDay] * weekendFactor * dayFactor
            cumulativeHourWeights.append(total)
        }
    }

    /// Converts a calendar date (proleptic Gregorian, UTC midnight) to seconds since 1970-01-01.
    ///
    /// Useful for a `--start 2026-11-01` option: `LogGenerator.epochSeconds(year: 2026, month: 11, day: 1)`.
    public static func epochSeconds(year: Int, month: Int, day: Int) -> Int64 {
        Int64(daysFromCivil(year: year, month: month, day: day)) * 86_400
    }

    /// Parses `YYYY-MM-DD` into seconds since 1970-01-01 UTC, or returns nil.
    public static func epochSeconds(parsing date: String) -> Int64? {
        let parts = date.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month)
        else { return nil }
        return epochSeconds(year: year, month: month, day: day)
    }

    /// Appends up to `lines` more lines to `buffer` and returns how many it appended (0 once finished).
    ///
    /// - Complexity: O(lines).
    @discardableResult
    public mutating func generate(into buffer: inout [UInt8], lines: Int) -> Int {
        let count = min(lines, configuration.lines - nextLine)
        guard count > 0 else { return 0 }
        var remaining = count
        withScratch { generator, writer in
            while remaining > 0 {
                let batch = generator.fill(&writer, lines: remaining)
                remaining -= batch
                buffer.append(contentsOf: writer.bytes)
                writer.reset()
            }
        }
        return count
    }

    /// Generates every remaining line and hands it to `sink` in chunks of about `chunkSize` bytes.
    ///
    /// The memory passed to `sink` is valid only during the call.
    public mutating func write(
        chunkSize: Int = 1 << 20, to sink: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        try withScratch(capacity: max(chunkSize, 1) + tables.maximumLineLength) { generator, writer in
            while !generator.isFinished {
                _ = generator.fill(&writer, lines: .max)
                try sink(writer.bytes)
                writer.reset()
            }
        }
    }

    /// Generates all lines into one array (convenient for tests; benchmarks should stream with `write`).
    public mutating func generateAll() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(configuration.lines * 240)
        generate(into: &buffer, lines: configuration.lines - nextLine)
        return buffer
    }

    /// Runs `body` with a temporary writer of `capacity` bytes.
    private mutating func withScratch<Result>(
        capacity: Int = 256 * 1024, _ body: (inout LogGenerator, inout LineWriter) throws -> Result
    ) rethrows -> Result {
        let size = max(capacity, 2 * tables.maximumLineLength)
        let memory = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
        defer { memory.deallocate() }
        var writer = LineWriter(base: memory, capacity: size)
        return try body(&self, &writer)
    }

    /// Writes lines while a whole line still fits and lines remain; returns how many it wrote.
    private mutating func fill(_ writer: inout LineWriter, lines: Int) -> Int {
        let limit = tables.maximumLineLength
        let before = writer.count
        var written = 0
        while written < lines, nextLine < configuration.lines, writer.available >= limit {
            appendLine(to: &writer)
            written += 1
        }
        statistics.bytes += writer.count - before
        return written
    }

    // MARK: - One line

    private mutating func appendLine(to out: inout LineWriter) {
        let second = nextTimestamp()
        statistics.lines += 1
        if random.chance(malformed) {
            statistics.malformedLines += 1
            appendMalformedLine(to: &out, second: second)
            return
        }
        appendWellFormedLine(to: &out, second: second, timestamp: true)
    }

    /// Advances time: lines are split among the hours by their traffic weight, then spread evenly with jitter
    /// inside each hour, so that timestamps never go backwards.
    private mutating func nextTimestamp() -> Int64 {
        let line = nextLine
        nextLine += 1
        while line >= hourEndLine {
            hour += 1
            hourFirstLine = hourEndLine
            let total = cumulativeHourWeights[cumulativeHourWeights.count - 1]
            let product = UInt64(configuration.lines).multipliedFullWidth(by: cumulativeHourWeights[hour])
            hourEndLine = Int(total.dividingFullWidth(product).quotient)
        }
        let countInHour = hourEndLine - hourFirstLine
        let index = line - hourFirstLine
        let offset = (index * 3600 + random.below(3600)) / countInHour
        return configuration.startTime + Int64(hour) * 3600 + Int64(offset)
    }

    private mutating func appendWellFormedLine(to out: inout LineWriter, second: Int64, timestamp writeTimestamp: Bool) {
        let isBot = random.chance(bot)
        // The client: humans come from a skewed population; each bot agent has a few addresses.
        let agent: Int
        let clientHash: UInt64
        if isBot {
            agent = tables.botChoice.pick(&random)
            clientHash = RandomSource.mix(configuration.seed ^ 0xB07 ^ UInt64(agent * 64 + random.below(6)) << 20)
        } else {
            let u = random.unit()
            let client = Int(Double(clientCount) * u * u)
            clientHash = RandomSource.mix(configuration.seed ^ (UInt64(client) &* 0x9E37_79B9))
            agent = tables.humanChoice.pick(hash: RandomSource.mix(clientHash ^ 0xA6E7))
        }
        let isIPv6 = RandomSource.mix(clientHash ^ 0x1F6) < ipv6.threshold
        if isIPv6 { appendIPv6(clientHash, to: &out) } else { appendIPv4(clientHash, to: &out) }
        out.append(contentsOf: Self.identAndUser)
        if writeTimestamp {
            appendTimestamp(second, to: &out)
        }
        out.append(UInt8(ascii: " "))
        out.append(UInt8(ascii: "\""))

        let responseSize: Int
        if random.chance(emptyRequest) {
            statistics.emptyRequestLines += 1
            out.append(contentsOf: Self.emptyRequestTail)
            responseSize = 0
        } else {
            responseSize = appendRequestAndStatus(isBot: isBot, to: &out)
        }
        if isBot { statistics.botLines += 1 }
        if isIPv6 { statistics.ipv6Lines += 1 }
        statistics.responseBytes += responseSize

        if configuration.format == .combined {
            out.append(UInt8(ascii: " "))
            out.append(UInt8(ascii: "\""))
            appendReferrer(isBot: isBot, to: &out)
            out.append(contentsOf: Self.quoteSpaceQuote)
            if isBot {
                out.append(contentsOf: tables.botAgents[agent])
            } else {
                out.append(contentsOf: tables.humanAgents[agent])
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "\n"))
    }

    /// Writes `METHOD path?query PROTOCOL" status bytes` and returns the response size.
    private mutating func appendRequestAndStatus(isBot: Bool, to out: inout LineWriter) -> Int {
        var path = tables.pathChoice.pick(&random)
        if isBot, random.below(100) < 12 {
            path = tables.probePathIndices[random.below(tables.probePathIndices.count)]
        }
        let kind = tables.pathKinds[path]

        // Method.
        let method: Int
        let roll = random.below(1000)
        switch kind {
        case .api: method = roll < 700 ? 0 : roll < 950 ? 1 : roll < 980 ? 4 : 5
        case .page: method = roll < 955 ? 0 : roll < 975 ? 1 : roll < 995 ? 2 : 3
        default: method = roll < 985 ? 0 : 2
        }
        out.append(contentsOf: tables.methods[method])
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: tables.paths[path])

        // Query string or, rarely, a fragment.
        switch kind {
        case .page:
            let queryRoll = random.below(1000)
            if queryRoll < 120 { appendQuery(to: &out) } else if queryRoll < 122 { out.append(contentsOf: Self.fragment) }
        case .asset:
            if random.below(100) < 5 {
                out.append(contentsOf: Self.versionQuery)
                appendHex(random.next(), digits: 8, to: &out)
            }
        case .api:
            if random.below(2) == 0 {
                out.append(contentsOf: Self.apiQuery)
                out.appendDecimal(random.inRange(1...99_999))
                out.append(contentsOf: Self.apiLimit)
            }
        default: break
        }

        out.append(UInt8(ascii: " "))
        let protocolRoll = random.below(100)
        out.append(contentsOf: tables.protocols[isBot ? (protocolRoll < 85 ? 0 : 2) : (protocolRoll < 62 ? 0 : protocolRoll < 98 ? 1 : 2)])
        out.append(UInt8(ascii: "\""))
        out.append(UInt8(ascii: " "))

        // Status and size.
        let status = tables.statusChoices[kind.rawValue].pick(&random)
        var statusCode = tables.statusCodes[kind.rawValue][status]
        if method == 1 && statusCode == 304 { statusCode = 302 }
        out.appendDecimal(statusCode)
        out.append(UInt8(ascii: " "))
        let size: Int
        switch statusCode {
        case 200, 201:
            let base = tables.pathSizes[path]
            size = kind == .asset ? base : base - base / 10 + random.below(base / 5 + 1)
        case 204, 304: size = 0
        case 206: size = random.inRange(1...max(1, tables.pathSizes[path] / 2))
        case 301, 302, 308: size = random.inRange(150...260)
        case 404: size = random.inRange(180...3_200)
        default: size = random.inRange(150...1_200)
        }
        if method == 2 || size == 0 {
            // HEAD responses and empty bodies: Apache logs `-`, nginx logs 0.
            if random.below(2) == 0 { out.append(UInt8(ascii: "-")) } else { out.append(UInt8(ascii: "0")) }
            return 0
        }
        out.appendDecimal(size)
        return size
    }

    private mutating func appendQuery(to out: inout LineWriter) {
        let words = tables.words
        switch random.below(6) {
        case 0:
            out.append(contentsOf: Self.utmSource)
            out.append(contentsOf: tables.campaignSources[random.below(tables.campaignSources.count)])
            out.append(contentsOf: Self.utmMedium)
            out.append(contentsOf: tables.campaignMediums[random.below(tables.campaignMediums.count)])
            out.append(contentsOf: Self.utmCampaign)
            out.append(contentsOf: words[random.below(words.count)])
            out.append(contentsOf: Self.campaignYear)
        case 1:
            out.append(contentsOf: Self.idQuery)
            out.appendDecimal(random.inRange(1...250_000))
        case 2:
            out.append(contentsOf: Self.pageQuery)
            out.appendDecimal(random.inRange(2...40))
        case 3:
            out.append(contentsOf: Self.searchQuery)
            out.append(contentsOf: words[random.below(words.count)])
            out.append(UInt8(ascii: "+"))
            out.append(contentsOf: words[random.below(words.count)])
            out.append(contentsOf: Self.languageQuery)
        case 4:
            out.append(contentsOf: Self.utmSource)
            out.append(contentsOf: tables.campaignSources[random.below(tables.campaignSources.count)])
            out.append(contentsOf: Self.idParameter)
            out.appendDecimal(random.inRange(1...99_999))
        default:
            out.append(contentsOf: Self.encodedReference)
            out.append(contentsOf: words[random.below(words.count)])
            out.append(contentsOf: Self.encodedReferenceTail)
        }
    }

    private mutating func appendReferrer(isBot: Bool, to out: inout LineWriter) {
        let roll = random.below(100)
        if isBot {
            if roll < 92 { out.append(UInt8(ascii: "-")) } else { appendInternalReferrer(to: &out) }
            return
        }
        if roll < 35 {
            out.append(UInt8(ascii: "-"))
        } else if roll < 68 {
            appendInternalReferrer(to: &out)
        } else if roll < 88 {
            out.append(contentsOf: tables.searchReferrers[random.below(tables.searchReferrers.count)])
        } else {
            out.append(contentsOf: tables.socialReferrers[random.below(tables.socialReferrers.count)])
        }
    }

    private mutating func appendInternalReferrer(to out: inout LineWriter) {
        out.append(contentsOf: tables.siteOrigin)
        var path = tables.pathChoice.pick(&random)
        if tables.pathKinds[path] != .page { path = 0 }
        out.append(contentsOf: tables.paths[path])
    }

    // MARK: - Malformed lines

    private mutating func appendMalformedLine(to out: inout LineWriter, second: Int64) {
        switch random.below(4) {
        case 0:
            // Truncated: a line cut inside its timestamp or request, as when a writer dies mid-line.
            let start = out.count
            let savedStatistics = statistics
            appendWellFormedLine(to: &out, second: second, timestamp: true)
            statistics = savedStatistics
            // Safe because every well-formed line has a `[` before its request's opening quote.
            let bracket = out.firstIndex(of: UInt8(ascii: "["), from: start)!
            let requestEnd = out.firstIndex(of: UInt8(ascii: "\""), from: bracket + 30) ?? out.count
            let cut = bracket + 1 + random.below(max(1, requestEnd - bracket - 1))
            out.truncate(to: cut)
            out.append(UInt8(ascii: "\n"))
        case 1:
            // Garbage: printable bytes with no structure.
            let length = random.inRange(8...160)
            for _ in 0..<length {
                let byte = UInt8(truncatingIfNeeded: 32 + random.below(95))
                out.append(byte == UInt8(ascii: "[") ? UInt8(ascii: "{") : byte)
            }
            out.append(UInt8(ascii: "\n"))
        case 2:
            // A bad timestamp in an otherwise normal line.
            let start = out.count
            let savedStatistics = statistics
            appendWellFormedLine(to: &out, second: second, timestamp: true)
            statistics = savedStatistics
            // Safe because the line was just written with a 28-byte bracketed timestamp.
            let bracket = out.firstIndex(of: UInt8(ascii: "["), from: start)!
            out.replace(bracket..<(bracket + 28), with: tables.badTimestamps[random.below(tables.badTimestamps.count)])
        default:
            // Missing ident and user fields: `addr [time] "request" …`.
            let start = out.count
            let savedStatistics = statistics
            appendWellFormedLine(to: &out, second: second, timestamp: true)
            statistics = savedStatistics
            // Safe because the line was just written with ` - - [` after the address.
            let bracket = out.firstIndex(of: UInt8(ascii: "["), from: start)!
            out.remove((bracket - 4)..<bracket)
        }
    }

    // MARK: - Formatting

    private static let identAndUser: [UInt8] = Array(" - - ".utf8)
    private static let emptyRequestTail: [UInt8] = Array("-\" 408 -".utf8)
    private static let quoteSpaceQuote: [UInt8] = Array("\" \"".utf8)
    private static let fragment: [UInt8] = Array("#reviews".utf8)
    private static let versionQuery: [UInt8] = Array("?v=".utf8)
    private static let apiQuery: [UInt8] = Array("?id=".utf8)
    private static let apiLimit: [UInt8] = Array("&limit=20".utf8)
    private static let utmSource: [UInt8] = Array("?utm_source=".utf8)
    private static let utmMedium: [UInt8] = Array("&utm_medium=".utf8)
    private static let utmCampaign: [UInt8] = Array("&utm_campaign=".utf8)
    private static let campaignYear: [UInt8] = Array("-2026".utf8)
    private static let idQuery: [UInt8] = Array("?id=".utf8)
    private static let idParameter: [UInt8] = Array("&id=".utf8)
    private static let pageQuery: [UInt8] = Array("?page=".utf8)
    private static let searchQuery: [UInt8] = Array("?q=".utf8)
    private static let languageQuery: [UInt8] = Array("&lang=en".utf8)
    private static let encodedReference: [UInt8] = Array("?ref=%2F".utf8)
    private static let encodedReferenceTail: [UInt8] = Array("%3Fa%3D1%26b%3D2".utf8)
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Writes `[dd/Mon/yyyy:HH:MM:SS +hhmm]`, reformatting only when the second changes.
    private mutating func appendTimestamp(_ second: Int64, to out: inout LineWriter) {
        if second != timestampSecond {
            timestampSecond = second
            formatTimestamp(second)
        }
        out.append(contentsOf: timestamp)
    }

    private mutating func formatTimestamp(_ second: Int64) {
        let offset = configuration.utcOffsetMinutes
        let local = second + Int64(offset) * 60
        let day = floorDivide(local, 86_400)
        let secondOfDay = Int(local - day * 86_400)
        let (year, month, dayOfMonth) = civilFromDays(day)
        let month3 = tables.monthNames[month - 1]
        func digit(_ value: Int) -> UInt8 { UInt8(truncatingIfNeeded: 48 + value) }
        timestamp[0] = UInt8(ascii: "[")
        timestamp[1] = digit(dayOfMonth / 10)
        timestamp[2] = digit(dayOfMonth % 10)
        timestamp[3] = UInt8(ascii: "/")
        timestamp[4] = month3[0]
        timestamp[5] = month3[1]
        timestamp[6] = month3[2]
        timestamp[7] = UInt8(ascii: "/")
        timestamp[8] = digit(year / 1000 % 10)
        timestamp[9] = digit(year / 100 % 10)
        timestamp[10] = digit(year / 10 % 10)
        timestamp[11] = digit(year % 10)
        timestamp[12] = UInt8(ascii: ":")
        let hours = secondOfDay / 3600
        let minutes = secondOfDay / 60 % 60
        let seconds = secondOfDay % 60
        timestamp[13] = digit(hours / 10)
        timestamp[14] = digit(hours % 10)
        timestamp[15] = UInt8(ascii: ":")
        timestamp[16] = digit(minutes / 10)
        timestamp[17] = digit(minutes % 10)
        timestamp[18] = UInt8(ascii: ":")
        timestamp[19] = digit(seconds / 10)
        timestamp[20] = digit(seconds % 10)
        timestamp[21] = UInt8(ascii: " ")
        timestamp[22] = offset < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+")
        let magnitude = abs(offset)
        timestamp[23] = digit(magnitude / 600 % 10)
        timestamp[24] = digit(magnitude / 60 % 10)
        timestamp[25] = digit(magnitude % 60 / 10)
        timestamp[26] = digit(magnitude % 10)
        timestamp[27] = UInt8(ascii: "]")
    }

    private func appendIPv4(_ hash: UInt64, to out: inout LineWriter) {
        var first = 1 + Int(hash & 0xFF) % 223
        if first == 10 || first == 127 || first == 100 { first += 1 }
        out.appendDecimal(first)
        out.append(UInt8(ascii: "."))
        out.appendDecimal(Int((hash >> 8) & 0xFF))
        out.append(UInt8(ascii: "."))
        out.appendDecimal(Int((hash >> 16) & 0xFF))
        out.append(UInt8(ascii: "."))
        out.appendDecimal(1 + Int((hash >> 24) & 0xFF) % 254)
    }

    private static let ipv6Prefixes: [UInt16] = [0x2001, 0x2a02, 0x2a01, 0x2600, 0x2603, 0x2409, 0x2406, 0x2804]

    /// Writes an IPv6 address in its canonical text form (RFC 5952: lower case, no leading zeros, longest run of
    /// two or more zero groups as `::`).
    private func appendIPv6(_ hash: UInt64, to out: inout LineWriter) {
        let second = RandomSource.mix(hash ^ 0x6666)
        var groups: (UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16) = (
            Self.ipv6Prefixes[Int((hash >> 32) & 7)], UInt16(truncatingIfNeeded: hash >> 16),
            UInt16(truncatingIfNeeded: hash), UInt16(truncatingIfNeeded: second >> 48), 0, 0, 0, 0
        )
        switch second & 3 {
        case 0, 1:
            groups.7 = UInt16(truncatingIfNeeded: (second >> 16) & 0xFFF) + 1
        case 2:
            groups.4 = UInt16(truncatingIfNeeded: second >> 32)
            groups.5 = UInt16(truncatingIfNeeded: second >> 16)
            groups.6 = UInt16(truncatingIfNeeded: second >> 4)
            groups.7 = UInt16(truncatingIfNeeded: hash >> 48)
        default:
            groups.3 = 0
            groups.7 = 1
        }
        let values = [groups.0, groups.1, groups.2, groups.3, groups.4, groups.5, groups.6, groups.7]
        // The longest run of zero groups (length ≥ 2), the first one on a tie.
        var bestStart = -1
        var bestLength = 1
        var index = 0
        while index < 8 {
            if values[index] == 0 {
                var end = index
                while end < 8, values[end] == 0 { end += 1 }
                if end - index > bestLength {
                    bestStart = index
                    bestLength = end - index
                }
                index = end
            } else {
                index += 1
            }
        }
        index = 0
        while index < 8 {
            if index == bestStart {
                out.append(UInt8(ascii: ":"))
                out.append(UInt8(ascii: ":"))
                index += bestLength
                continue
            }
            if index > 0 && index != bestStart + bestLength { out.append(UInt8(ascii: ":")) }
            appendHexGroup(values[index], to: &out)
            index += 1
        }
    }

    private func appendHexGroup(_ value: UInt16, to out: inout LineWriter) {
        var started = false
        for shift in stride(from: 12, through: 0, by: -4) {
            let nibble = Int((value >> UInt16(shift)) & 0xF)
            if nibble != 0 || started || shift == 0 {
                out.append(Self.hexDigits[nibble])
                started = true
            }
        }
    }

    private func appendHex(_ value: UInt64, digits: Int, to out: inout LineWriter) {
        for position in stride(from: digits - 1, through: 0, by: -1) {
            out.append(Self.hexDigits[Int((value >> UInt64(position * 4)) & 0xF)])
        }
    }
}

// MARK: - Tables built once per generator

extension LogGenerator {
    enum PathKind: Int, Sendable {
        case page = 0, asset, redirect, missing, api
    }

    /// The generator's fixed material as bytes, with the distributions to draw from.
    struct Tables: Sendable {
        var paths = ByteTable()
        var pathKinds: [PathKind] = []
        var pathSizes: [Int] = []
        var pathChoice: WeightedChoice
        var probePathIndices: [Int] = []
        var humanAgents = ByteTable()
        var humanChoice: WeightedChoice
        var botAgents = ByteTable()
        var botChoice: WeightedChoice
        var statusCodes: [[Int]]
        var statusChoices: [WeightedChoice]
        var methods = ByteTable()
        var protocols = ByteTable()
        var words = ByteTable()
        var campaignSources = ByteTable()
        var campaignMediums = ByteTable()
        var searchReferrers = ByteTable()
        var socialReferrers = ByteTable()
        var badTimestamps: [[UInt8]]
        var monthNames: [[UInt8]]
        var siteOrigin: [UInt8]
        var maximumLineLength: Int

        init(configuration: LogGenerator.Configuration) {
            var random = RandomSource(seed: RandomSource.mix(configuration.seed ^ 0x7061_7468))
            let words = Vocabulary.words
            func word() -> String { words[random.below(words.count)] }
            func hex(_ digits: Int) -> String {
                let value = random.next()
                return String(String(value, radix: 16).suffix(digits))
            }

            var seen = Set<String>()
            var pathList: [(String, PathKind)] = []
            func add(_ path: String, _ kind: PathKind) {
                if seen.insert(path).inserted { pathList.append((path, kind)) }
            }
            // The head of the distribution: what every site serves most.
            add("/", .page)
            add("/static/css/main.\(hex(8)).css", .asset)
            add("/static/js/app.\(hex(8)).js", .asset)
            add("/favicon.ico", .asset)
            add("/static/js/vendor.\(hex(8)).js", .asset)
            add("/images/logo.svg", .asset)
            add("/robots.txt", .asset)
            add("/fonts/inter-var.woff2", .asset)
            add("/blog/", .page)
            add("/about", .page)
            add("/api/v1/session", .api)
            add("/sitemap.xml", .asset)
            add("/apple-touch-icon.png", .asset)
            add("/products/", .page)
            add("/search", .page)
            add("/contact", .page)
            add("/pricing", .page)
            add("/login", .page)
            add("/blog", .redirect)
            add("/index.html", .redirect)
            var probes = Vocabulary.probePaths[...]
            var encoded = Vocabulary.encodedPaths[...]
            while pathList.count < configuration.distinctPaths {
                let roll = random.below(100)
                switch roll {
                case 0..<16: add("/blog/\(random.inRange(2019...2026))/\(String(format2: random.inRange(1...12)))/\(word())-\(word())-\(word())", .page)
                case 16..<30: add("/products/\(word())-\(random.inRange(100...99_999))", .page)
                case 30..<36: add("/category/\(word())/\(word())", .page)
                case 36..<40: add("/docs/\(word())/\(word()).html", .page)
                case 40..<42: add("/tag/\(word())", .page)
                case 42..<44: add("/user/\(random.inRange(1...500_000))/profile", .page)
                case 44..<50: add("/api/v1/\(word())/\(random.inRange(1...9_999))", .api)
                case 50..<58: add("/images/\(word())-\(random.inRange(1...20_000)).png", .asset)
                case 58..<66: add("/images/\(word())/\(random.inRange(1...20_000)).jpg", .asset)
                case 66..<70: add("/static/css/\(word()).\(hex(8)).css", .asset)
                case 70..<76: add("/static/js/\(word()).\(hex(8)).js", .asset)
                case 76..<78: add("/media/\(word())-\(random.inRange(1...999)).webp", .asset)
                case 78..<80: add("/downloads/\(word())-\(random.inRange(1...9)).\(random.inRange(0...9)).pdf", .asset)
                case 80..<84: add("/products/\(word())-\(random.inRange(100...99_999))/", .redirect)
                case 84..<88:
                    if let probe = probes.popFirst() { add(probe, .missing) } else { add("/old/\(word())-\(random.inRange(1...999)).html", .missing) }
                case 88..<92:
                    if let path = encoded.popFirst() { add(path, .page) } else { add("/search/\(word())%20\(word())", .page) }
                case 92..<96: add("/\(word())/\(word())-\(random.inRange(1...9_999))", .page)
                default: add("/\(word())", .page)
                }
            }
            for probe in probes { add(probe, .missing) }

            var weights: [UInt64] = []
            for (index, (path, kind)) in pathList.enumerated() {
                paths.append(path)
                pathKinds.append(kind)
                if kind == .missing { probePathIndices.append(index) }
                // Zipf with exponent 1: the weight of rank r is proportional to 1/(r+1).
                weights.append(1_000_000_000 / UInt64(index + 1))
                let size: Int
                switch kind {
                case .page: size = random.inRange(4_000...90_000)
                case .api: size = random.inRange(80...6_000)
                case .asset:
                    if path.hasSuffix(".js") {
                        size = random.inRange(8_000...450_000)
                    } else if path.hasSuffix(".css") {
                        size = random.inRange(4_000...90_000)
                    } else if path.hasSuffix(".pdf") {
                        size = random.inRange(50_000...4_000_000)
                    } else if path.hasSuffix(".ico") || path.hasSuffix(".svg") || path.hasSuffix(".xml") {
                        size = random.inRange(900...14_000)
                    } else if path == "/robots.txt" {
                        size = 312
                    } else {
                        size = random.inRange(800...600_000)
                    }
                default: size = random.inRange(150...3_000)
                }
                pathSizes.append(size)
            }
            pathChoice = WeightedChoice(weights: weights)

            let humans = Vocabulary.humanAgents()
            for agent in humans { humanAgents.append(agent.text) }
            humanChoice = WeightedChoice(weights: humans.map(\.weight))
            let bots = Vocabulary.botAgents()
            for agent in bots { botAgents.append(agent.text) }
            botChoice = WeightedChoice(weights: bots.map(\.weight))

            // Status codes per path kind, with weights in thousandths.
            let statusTable: [[(Int, UInt64)]] = [
                [(200, 905), (304, 30), (404, 25), (302, 15), (500, 7), (403, 5), (503, 3), (301, 10)],
                [(200, 780), (304, 180), (404, 25), (206, 10), (500, 2), (301, 3)],
                [(301, 920), (308, 30), (200, 50)],
                [(404, 880), (403, 60), (301, 30), (400, 30)],
                [(200, 850), (201, 40), (204, 30), (400, 30), (401, 30), (429, 10), (500, 10)],
            ]
            statusCodes = statusTable.map { $0.map(\.0) }
            statusChoices = statusTable.map { WeightedChoice(weights: $0.map(\.1)) }

            for method in ["GET", "POST", "HEAD", "OPTIONS", "PUT", "DELETE"] { methods.append(method) }
            for version in ["HTTP/1.1", "HTTP/2.0", "HTTP/1.0"] { protocols.append(version) }
            for word in words { self.words.append(word) }
            for source in Vocabulary.campaignSources { campaignSources.append(source) }
            for medium in Vocabulary.campaignMediums { campaignMediums.append(medium) }
            for referrer in Vocabulary.searchReferrers { searchReferrers.append(referrer) }
            for referrer in Vocabulary.socialReferrers { socialReferrers.append(referrer) }
            badTimestamps = Vocabulary.badTimestamps.map { Array($0.utf8) }
            monthNames = Vocabulary.monthNames.map { Array($0.utf8) }
            siteOrigin = Array("https://\(configuration.host)".utf8)

            // A bound on any line: fixed parts, the longest path twice (request and referrer), a query string,
            // the longest user agent and referrer, with room to spare.
            let longestPath = pathList.map { $0.0.utf8.count }.max() ?? 0
            let longestAgent = (humans + bots).map { $0.text.utf8.count }.max() ?? 0
            let longestReferrer = (Vocabulary.searchReferrers + Vocabulary.socialReferrers).map(\.utf8.count).max() ?? 0
            maximumLineLength = 512 + 2 * longestPath + siteOrigin.count + longestAgent + longestReferrer
        }
    }
}

// MARK: - Small helpers

extension String {
    /// Two decimal digits with a leading zero.
    fileprivate init(format2 value: Int) {
        self = value < 10 ? "0\(value)" : "\(value)"
    }
}

/// Division rounding towards minus infinity.
@inline(__always)
func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
    let quotient = value / divisor
    return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient
}

/// Year, month (1–12) and day (1–31) of a day number counted from 1970-01-01 (H. Hinnant's algorithm).
func civilFromDays(_ days: Int64) -> (Int, Int, Int) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let shiftedMonth = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
    let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    return (Int(year), Int(month), Int(day))
}

/// The day number counted from 1970-01-01 of a proleptic Gregorian date.
func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    let shiftedYear = month <= 2 ? year - 1 : year
    let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
    let yearOfEra = shiftedYear - era * 400
    let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
}

func daysInMonth(year: Int, month: Int) -> Int {
    switch month {
    case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}
