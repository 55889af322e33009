import KlogsCore
import KlogsUserAgent

/// The per-line work of an ingest: parse, anonymise, classify, and append to the day's partition.
///
/// Nothing here allocates per line in the steady state: fields are byte ranges into the line, repeated values
/// are interned, and the partition's column arrays keep their capacity between row groups. The raw client
/// address and user agent are read here and go no further: only the pseudonym, the truncated network and the
/// user-agent class are stored.
struct LineProcessor {
    let configuration: IngestConfiguration
    let writer: DatasetWriter
    var userAgents: UserAgentTable
    private let keys: KeyStore?

    private var parser: AccessLogParser
    private var record = AccessRecord()
    private let hashClients: Bool
    private let truncateClients: Bool

    // The partition and pseudonym key of the day of the previous line: consecutive lines share a day.
    var currentDay: Int32 = .min
    var currentPartition: Partition?
    private var pseudonyms = CachedVisitorPseudonym()

    // The rules while they load (`BackgroundRuleLoad`): the lines read meanwhile are added with provisional classes,
    // settled once the rules are there (`installRulesIfLoaded()`, `installRules()`) and before anything is written.
    // Until then every line is of the first partition: another day, a flush, or too many waiting lines wait for
    // the rules first.
    private var pendingRules: BackgroundRuleLoad?
    /// The user agents of the lines read before the rules came, in order of first use: a row's provisional class
    /// id is the complement (`~`) of its agent's id here.
    private var provisionalAgents = ByteInterner()
    /// The hourly sums of those lines, in line order, with the provisional class (`~agent`, or the absent class's
    /// hits id) as `userAgentClass`: they are added to the partition once their classes are known.
    private var provisionalHits: [(key: HitKey, bytes: Int64)] = []
    /// The most lines read before the rules came: a bound on what waits, and no more than the partition's limit
    /// of aggregates (`Partition.Limits.hits`), which the waiting lines could not fill up unnoticed.
    private let provisionalLineLimit: Int

    /// Scratch space for values made from a line (a truncated network, a lower-cased host).
    private var scratch: [UInt8] = []

    // `--format auto`: the first lines are kept here until a format is chosen, then replayed.
    private(set) var detecting: Bool
    private var sampleBytes: [UInt8] = []
    /// Each sampled line's end in `sampleBytes`, or -1 for an overlong line.
    private var sampleEnds: [Int] = []
    /// The format in use, and whether it was detected.
    private(set) var formatName: String
    private(set) var formatDetected = false
    /// Each sampled line's number and input, for the reject report.
    private var sampleNumbers: [Int] = []
    private var sampleInputs: [String] = []
    private var currentInput = "-"

    // Counters for the summary.
    private(set) var linesRead: Int64 = 0
    var linesIngested: Int64 = 0
    private var rejected = [Int64](repeating: 0, count: RejectReason.allCases.count)
    private(set) var linesTooOld: Int64 = 0
    private(set) var linesInFuture: Int64 = 0
    /// The first UTC day kept: lines before it are past the retention period.
    private let oldestDay: Int32
    /// The last UTC day kept: lines after it are dated in the future (see `Retention.futureToleranceDays`).
    private var newestDay: Int32

    // Privacy: client selection and stored paths, day keys with late lines, the reject report (see Privacy/).
    private var privacy: PrivacyFilters
    /// The day keys; the parallel pipeline's workers share them (`SharedDayKeys`) while this processor is idle.
    let runKeys: RunKeys?
    private var currentDayIsLate = false
    private(set) var lateLines: Int64 = 0
    let rejects: RejectReport?
    private var lineNumber = 0

    init(
        configuration: IngestConfiguration, writer: DatasetWriter, userAgents: UserAgentTable, keys: KeyStore?,
        lifecycle: KeyLifecycle = KeyLifecycle(), rejects: RejectReport? = nil, rules: BackgroundRuleLoad? = nil
    ) throws {
        self.configuration = configuration
        self.writer = writer
        self.userAgents = userAgents
        self.keys = keys
        privacy = try PrivacyFilters(configuration: configuration)
        runKeys = keys.map { RunKeys(store: $0, lifecycle: lifecycle) }
        self.rejects = rejects
        parser = AccessLogParser(format: configuration.format ?? .combined)
        detecting = configuration.format == nil
        formatName = configuration.format?.name ?? "auto"
        hashClients = configuration.ipMode.contains(.hash)
        truncateClients = configuration.ipMode.contains(.truncate)
        scratch.reserveCapacity(256)
        oldestDay = Retention.oldestKeptDay(retentionDays: configuration.batch.retentionDays)
        newestDay = Retention.newestKeptDay(retentionDays: configuration.batch.retentionDays)
        pendingRules = userAgents.isClassifying ? nil : rules
        provisionalLineLimit = max(1, min(configuration.partitionLimits.hits, 1 << 17))
    }

    /// How many lines wait for the rules to get their classes.
    var linesAwaitingClasses: Int { provisionalHits.count }

    /// Installs the run's rules and settles the classes of the lines read before they came, when the rules have
    /// loaded; does nothing when they have not (or were installed before).
    ///
    /// - Throws: the `UserAgentError` of rules that did not load.
    mutating func installRulesIfLoaded() throws {
        if pendingRules?.isFinished == true { try installRules() }
    }

    /// Installs the run's rules, waiting for them if need be, and settles the classes of the lines read before
    /// they came; does nothing once they are installed, and without classification.
    ///
    /// - Throws: the `UserAgentError` of rules that did not load.
    @inline(never)
    mutating func installRules() throws {
        guard let pending = pendingRules else { return }
        let loaded = try pending.rules()
        userAgents.install(classifier: UserAgentClassifier(rules: loaded.rules), vocabulary: loaded.vocabulary)
        pendingRules = nil
        settleProvisionalClasses()
    }

    /// Gives the rows and sums of the lines read before the rules came the classes they would have got as they
    /// were read: the agents are classified in order of first use (so the table numbers their classes as it
    /// would have), a bot's page becomes `other` (`RequestCategory.settled(isBot:)`), and the sums go to the
    /// aggregates in line order.
    private mutating func settleProvisionalClasses() {
        defer {
            provisionalAgents = ByteInterner()
            provisionalHits = []
        }
        guard let partition = currentPartition, !provisionalHits.isEmpty else { return }
        let classIds = userAgents.classIds(of: provisionalAgents)
        for row in partition.userAgentClassIds.indices where partition.userAgentClassIds[row] < 0 {
            (partition.userAgentClassIds[row], partition.kinds[row]) = userAgents.settled(
                partition.userAgentClassIds[row], kind: partition.kinds[row], classIds: classIds)
        }
        for (key, bytes) in provisionalHits {
            var key = key
            if key.userAgentClass < 0 {
                let (classId, kind) = userAgents.settled(key.userAgentClass, kind: key.kind, classIds: classIds)
                (key.userAgentClass, key.kind) = (userAgents.hitsClassIds[Int(classId)], kind)
            }
            partition.hits.add(key, bytes: bytes)
        }
    }

    /// Forgets the cached partition after the writer finished its partitions (a pipe-mode commit).
    mutating func forgetPartition() {
        precondition(provisionalHits.isEmpty, "the rules are installed before a commit")
        currentDay = .min
        currentPartition = nil
        pseudonyms.forgetKey()
    }

    /// Handles one line from the splitter.
    ///
    /// - Throws: only when a row group cannot be written (the dataset's fault, never the line's).
    mutating func process(_ line: SplitLine, number: Int = 0) throws {
        if detecting {
            try buffer(line, number: number)
            return
        }
        linesRead += 1
        lineNumber = number
        guard case .complete(let bytes) = line else {
            reject(.lineTooLong)
            return
        }
        if let reason = parser.parse(bytes, into: &record) {
            reject(reason)
            return
        }
        let day = Int32(truncatingIfNeeded: Timestamp.dayNumber(record.timestamp))
        if day < oldestDay || (day > newestDay && !futureBoundMoved(past: day)) {
            countOutsideRetention(day)
            return
        }
        let partition: Partition
        if day == currentDay, let current = currentPartition {
            partition = current
        } else {
            // A new partition may finish another, whose rows need their classes.
            if pendingRules != nil && currentPartition != nil { try installRules() }
            partition = try writer.partition(day: day, userAgents: userAgents)
            currentDay = day
            currentPartition = partition
            if let runKeys {
                // An expired day gets a key made for this run only (see KeyLifecycle).
                let (key, isEphemeral) = try runKeys.key(for: Int(day))
                pseudonyms.use(SipHashKey(k0: key.key0, k1: key.key1))
                currentDayIsLate = isEphemeral
            }
        }
        append(to: partition)
        linesIngested += 1
        if currentDayIsLate { lateLines += 1 }
        if pendingRules != nil && provisionalHits.count >= provisionalLineLimit { try installRules() }
        if writer.needsFlush(partition) {
            try installRules()  // what is written has its classes
            try writer.flushIfNeeded(partition, userAgents: userAgents)
        }
    }

    /// Uses a format detected before the run (the parallel pipeline detects `--format auto` on the same sample
    /// before its workers start).
    mutating func useDetectedFormat(_ format: LogFormat) {
        parser = AccessLogParser(format: format)
        formatName = format.name
        formatDetected = true
        detecting = false
    }

    /// Keeps a line of the detection sample; detects once the sample is full.
    private mutating func buffer(_ line: SplitLine, number: Int) throws {
        sampleNumbers.append(number)
        sampleInputs.append(currentInput)
        switch line {
        case .complete(let bytes):
            sampleBytes.append(contentsOf: bytes)
            sampleEnds.append(sampleBytes.count)
        case .overlong:
            sampleEnds.append(-1)
        }
        if sampleEnds.count >= FormatDetector.sampleLineCount || sampleBytes.count >= FormatDetector.sampleByteCount {
            try finishDetection()
        }
    }

    /// Chooses the format from the sample (when still detecting) and parses the sampled lines with it.
    ///
    /// Called when the sample is full and once more at the end of the run, for inputs shorter than a sample.
    /// - Throws: `FormatDetectionFailure` when no preset fits; a row-group write failure.
    mutating func finishDetection() throws {
        guard detecting else { return }
        detecting = false
        let lines = sampleBytes
        let ends = sampleEnds
        sampleBytes = []
        sampleEnds = []
        let numbers = sampleNumbers
        let inputs = sampleInputs
        sampleNumbers = []
        sampleInputs = []
        defer { rejects?.begin(input: currentInput) }
        try lines.withUnsafeBytes { all in
            var slices: [UnsafeRawBufferPointer] = []
            var start = 0
            for end in ends where end >= 0 {
                slices.append(UnsafeRawBufferPointer(rebasing: all[start..<end]))
                start = end
            }
            if !slices.isEmpty {
                switch FormatDetector.detect(slices) {
                case .detected(let format, _):
                    parser = AccessLogParser(format: format)
                    formatName = format.name
                    formatDetected = true
                case .failed(let message, _):
                    throw FormatDetectionFailure(message: message)
                }
            }
            start = 0
            for (index, end) in ends.enumerated() {
                // The reject report names each sampled line's own input and line number.
                if index == 0 || inputs[index] != inputs[index - 1] { rejects?.begin(input: inputs[index]) }
                if end < 0 {
                    try process(.overlong, number: numbers[index])
                } else {
                    try process(.complete(UnsafeRawBufferPointer(rebasing: all[start..<end])), number: numbers[index])
                    start = end
                }
            }
        }
    }

    /// Appends the parsed `record` to the partition's pending rows and aggregates.
    ///
    /// The record is copied once, here, into a constant: read through `self` between mutations of other
    /// properties, Swift copied it before every accessor call (eight copies a line). A non-mutating method of
    /// `self` called from here would copy the whole processor (1,184 bytes): keep such helpers static.
    private mutating func append(to partition: Partition) {
        let record = self.record
        // The class is looked up after the path is interned: its cache entries load meanwhile.
        let fingerprint = userAgents.fingerprint(prefetching: record.userAgent)
        let pathId = privacy.storedPathId(of: record, in: &partition.paths, addressFree: &partition.addressFreePaths)
        // Before the rules came, provisional: settled by `settleProvisionalClasses`.
        let (classId, isBot) = userAgents.classId(
            of: record.userAgent, fingerprint: fingerprint, pending: pendingRules != nil,
            provisional: &provisionalAgents)
        let vhostId =
            record.virtualHost.map { StoredValues.internHost($0, scratch: &scratch, into: &partition.vhosts) } ?? -1
        let status = record.status
        let method = record.method
        let kind = RequestCategory(
            method: method, status: status, isBot: isBot,
            isAsset: partition.assetPaths.isAsset(pathId, of: &partition.paths, assets: configuration.assetExtensions))

        let client = privacy.client(of: record)
        if configuration.writeEvents {
            partition.timestamps.append(record.timestamp)
            if hashClients,
                let visitor = pseudonyms.pseudonym(
                    client: client, userAgentFingerprint: fingerprint, virtualHost: record.virtualHost)
            {
                partition.visitors.append(visitor)
            }
            if truncateClients {
                partition.clientNetworkIds.append(
                    StoredValues.internNetwork(
                        of: client, configuration: configuration, scratch: &scratch, into: &partition.clientNetworks))
            }
            partition.vhostIds.append(vhostId)
            partition.methodIds.append(partition.methods.intern(method))
            partition.pathIds.append(pathId)
            partition.statuses.append(status)
            partition.byteCounts.append(record.responseBytes)
            partition.referrerIds.append(
                StoredValues.internReferrerHost(
                    record.referrer, scratch: &scratch, into: &partition.referrerHosts,
                    cache: &partition.referrerHostCache))
            partition.userAgentClassIds.append(classId)
            partition.kinds.append(kind.rawValue)
        }

        let key = HitKey(
            hour: Int32(truncatingIfNeeded: Timestamp.hourStart(record.timestamp) / 3_600_000),
            vhost: vhostId, path: pathId, status: status,
            userAgentClass: classId < 0 ? classId : userAgents.hitsClassIds[Int(classId)], kind: kind.rawValue)
        if pendingRules == nil {
            partition.hits.add(key, bytes: record.responseBytes)
        } else {
            provisionalHits.append((key, record.responseBytes))
        }
    }

    /// Moves the future bound to the clock's tomorrow and says whether `day` is within it now: a pipe runs for
    /// days, so the bound set at its start would soon refuse today's lines. Called only for a day past the bound.
    private mutating func futureBoundMoved(past day: Int32) -> Bool {
        newestDay = Retention.newestKeptDay(retentionDays: configuration.batch.retentionDays)
        return day <= newestDay
    }

    /// Counts a line refused for its date: past the retention period, or in the future (see `Retention`).
    private mutating func countOutsideRetention(_ day: Int32) {
        if day < oldestDay { linesTooOld += 1 } else { linesInFuture += 1 }
    }

    private mutating func reject(_ reason: RejectReason) {
        rejected[reasonIndex(reason)] += 1
        rejects?.add(lineNumber: lineNumber, reason: reason)
    }

    private func reasonIndex(_ reason: RejectReason) -> Int {
        RejectReason.allCases.firstIndex(of: reason) ?? 0
    }

    /// Starts the lines of another input (for the reject report's `file:line`).
    mutating func begin(input path: String) {
        currentInput = path
        rejects?.begin(input: path)
    }

    /// Adds this run's counters to a summary.
    func addCounts(to summary: inout IngestSummary) {
        summary.format = formatName
        summary.formatDetected = formatDetected
        summary.linesRead += linesRead
        summary.linesIngested += linesIngested
        summary.lateLinesEphemeralKey += lateLines
        privacy.addCounts(to: &summary)
        for (index, reason) in RejectReason.allCases.enumerated() where rejected[index] > 0 {
            summary.rejected[reason.rawValue, default: 0] += rejected[index]
        }
        if linesTooOld > 0 { summary.rejected[Retention.rejectReason, default: 0] += linesTooOld }
        if linesInFuture > 0 { summary.rejected[Retention.futureRejectReason, default: 0] += linesInFuture }
        if let warning = userAgents.classLimitWarning { summary.warnings.append(warning) }
    }
}

/// `--format auto` found no preset that parses the first lines; the message names the nearest presets and the
/// first failing line number, never log content.
struct FormatDetectionFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
