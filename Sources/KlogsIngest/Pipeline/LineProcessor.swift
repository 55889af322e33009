import KlogsCore
import KlogsUserAgent

/// The per-line work of an ingest: parse, anonymise, classify, and append to the day's partition.
///
/// Nothing here allocates per line in the steady state: fields are byte ranges into the line, repeated values
/// are interned, and the partition's column arrays keep their capacity between row groups. The raw client
/// address and user agent are read here and go no further: only the pseudonym, the truncated network and the
/// user-agent class are stored.
struct LineProcessor {
    private let configuration: IngestConfiguration
    private let writer: DatasetWriter
    private(set) var userAgents: UserAgentTable
    private let keys: KeyStore?

    private var parser: AccessLogParser
    private var record = AccessRecord()
    private let hashClients: Bool
    private let truncateClients: Bool

    // The partition and pseudonym key of the day of the previous line: consecutive lines share a day.
    private var currentDay: Int32 = .min
    private var currentPartition: Partition?
    private var currentPseudonym: VisitorPseudonym?

    /// Scratch space for values made from a line (a truncated network, a lower-cased host).
    private var scratch: [UInt8] = []

    // `--format auto`: the first lines are kept here until a format is chosen, then replayed.
    private var detecting: Bool
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
    private(set) var linesIngested: Int64 = 0
    private(set) var clientsNotIP: Int64 = 0
    private var rejected = [Int64](repeating: 0, count: RejectReason.allCases.count)
    private(set) var linesTooOld: Int64 = 0
    /// The first UTC day kept: lines before it are past the retention period.
    private let oldestDay: Int32

    // Privacy: client selection and stored paths, day keys with late lines, the reject report (see Privacy/).
    private var privacy: PrivacyFilters
    private let runKeys: RunKeys?
    private var currentDayIsLate = false
    private(set) var lateLines: Int64 = 0
    private let rejects: RejectReport?
    private var lineNumber = 0

    init(
        configuration: IngestConfiguration, writer: DatasetWriter, userAgents: UserAgentTable, keys: KeyStore?,
        lifecycle: KeyLifecycle = KeyLifecycle(), rejects: RejectReport? = nil
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
    }

    /// Forgets the cached partition after the writer finished its partitions (a pipe-mode commit).
    mutating func forgetPartition() {
        currentDay = .min
        currentPartition = nil
        currentPseudonym = nil
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
        if day < oldestDay {
            linesTooOld += 1  // past the retention period: refused, counted (see `BatchOptions.retentionDays`)
            return
        }
        let partition: Partition
        if day == currentDay, let current = currentPartition {
            partition = current
        } else {
            partition = try writer.partition(day: day, userAgents: userAgents)
            currentDay = day
            currentPartition = partition
            if let runKeys {
                // An expired day gets a key made for this run only (see KeyLifecycle).
                let (key, isEphemeral) = try runKeys.key(for: Int(day))
                currentPseudonym = VisitorPseudonym(key: SipHashKey(k0: key.key0, k1: key.key1))
                currentDayIsLate = isEphemeral
            }
        }
        append(record, to: partition)
        linesIngested += 1
        if currentDayIsLate { lateLines += 1 }
        try writer.flushIfNeeded(partition, userAgents: userAgents)
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

    private mutating func append(_ record: AccessRecord, to partition: Partition) {
        let userAgent = record.userAgent
        // One hash of the user agent serves the class lookup and the pseudonym.
        let userAgentBytes = UnsafeBufferPointer<UInt8>(
            start: userAgent?.baseAddress?.assumingMemoryBound(to: UInt8.self), count: userAgent?.count ?? 0)
        let fingerprint = UserAgentClassifier.fingerprint(userAgentBytes)
        let classId =
            userAgent == nil
            ? userAgents.absentClassId : userAgents.classId(of: userAgentBytes, fingerprint: fingerprint)

        let pathId = privacy.withStoredPath(of: record) { partition.paths.intern($0) }
        let vhostId = record.virtualHost.map { internHost($0, into: &partition.vhosts) } ?? -1
        let status = record.status
        let kind = requestCategory(of: record, path: partition.paths.bytes(of: pathId), classId: classId)

        let client = privacy.client(of: record)
        if case .token = client { clientsNotIP += 1 }
        if configuration.writeEvents {
            partition.timestamps.append(record.timestamp)
            if let currentPseudonym, hashClients {
                partition.visitors.append(
                    currentPseudonym.pseudonym(
                        client: client, userAgentFingerprint: fingerprint, virtualHost: record.virtualHost))
            }
            if truncateClients {
                partition.clientNetworkIds.append(clientNetworkId(client, in: partition))
            }
            partition.vhostIds.append(vhostId)
            partition.methodIds.append(partition.methods.intern(record.method))
            partition.pathIds.append(pathId)
            partition.statuses.append(status)
            partition.byteCounts.append(record.responseBytes)
            partition.referrerIds.append(referrerHostId(record.referrer, in: partition))
            partition.userAgentClassIds.append(classId)
            partition.kinds.append(kind.rawValue)
        }

        let key = HitKey(
            hour: Int32(truncatingIfNeeded: Timestamp.hourStart(record.timestamp) / 3_600_000),
            vhost: vhostId, path: pathId, status: status,
            userAgentClass: userAgents.hitsClassIds[Int(classId)], kind: kind.rawValue)
        partition.hits.add(key, bytes: record.responseBytes)
    }

    /// The `kind` of a request (see `RequestCategory`), from its stored path.
    private func requestCategory(of record: AccessRecord, path: ArraySlice<UInt8>, classId: Int32) -> RequestCategory {
        path.withUnsafeBytes { path in
            RequestCategory(
                method: record.method, status: record.status, isBot: userAgents.isBot(classId),
                path: path, assets: configuration.assetExtensions)
        }
    }

    /// The interned network of a client in truncate mode, or -1 (null) when the client is not an IP address.
    private mutating func clientNetworkId(_ client: ClientIdentity, in partition: Partition) -> Int32 {
        guard case .address(let address) = client else { return -1 }
        let prefix = address.family == .ipv4 ? configuration.ipv4Prefix : configuration.ipv6Prefix
        scratch.removeAll(keepingCapacity: true)
        address.appendNetwork(prefixLength: prefix, to: &scratch)
        return scratch.withUnsafeBytes { partition.clientNetworks.intern($0) }
    }

    /// The interned referrer host, or -1 when there is none.
    private mutating func referrerHostId(_ referrer: UnsafeRawBufferPointer?, in partition: Partition) -> Int32 {
        guard let referrer else { return -1 }
        switch ReferrerHost.extract(referrer, into: &scratch) {
        case .none: return -1
        case .host:
            return internCheckedHost(into: &partition.referrerHosts)
        case .ipAddress: return partition.referrerHosts.intern(ReferrerHost.ipAddressMarker)
        }
    }

    /// Interns a virtual host lower-cased and without its port.
    private mutating func internHost(_ host: UnsafeRawBufferPointer, into interner: inout ByteInterner) -> Int32 {
        scratch.removeAll(keepingCapacity: true)
        for byte in host {
            if byte == UInt8(ascii: ":") { break }
            scratch.append(byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte)
        }
        // A Host header is the client's to choose (nginx `$host`): an address in it is stored as `[ip]`.
        return internCheckedHost(into: &interner)
    }

    /// Interns the host name in `scratch`, or `[ip]` when it holds an address (`203-0-113-7` is fine,
    /// `203.0.113.7.nip.io` is not).
    ///
    /// Only hosts that passed the check are ever interned, so a host already in the interner needs no new check:
    /// the address scan runs once per distinct host and row group, not once per line.
    private func internCheckedHost(into interner: inout ByteInterner) -> Int32 {
        scratch.withUnsafeBytes { host in
            if let id = interner.id(of: host) { return id }
            if AddressMasking.containsAddress(host) { return interner.intern(ReferrerHost.ipAddressMarker) }
            return interner.intern(host)
        }
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
        summary.clientsNotIP += clientsNotIP
        summary.lateLinesEphemeralKey += lateLines
        privacy.addCounts(to: &summary)
        for (index, reason) in RejectReason.allCases.enumerated() where rejected[index] > 0 {
            summary.rejected[reason.rawValue, default: 0] += rejected[index]
        }
        if linesTooOld > 0 { summary.rejected[Retention.rejectReason, default: 0] += linesTooOld }
    }
}

/// `--format auto` found no preset that parses the first lines; the message names the nearest presets and the
/// first failing line number, never log content.
struct FormatDetectionFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
