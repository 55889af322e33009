internal import Foundation
import KlogsCore
import KlogsUserAgent

/// The per-line work of the parallel pipeline, done by one worker thread on whole chunks: parse, check retention,
/// anonymise, classify, and write the row into the chunk's columns with chunk-local ids.
///
/// It does what `LineProcessor.process` does up to the partition: everything that depends only on the line. What
/// depends on the order of lines (partition ids, hourly sums, the reject report) is left to the sequencer
/// (`LineProcessor.apply(_:from:)`). Each worker has its own parser, privacy filters and user-agent classifier (its
/// PCRE2 match data and cache are not thread-safe); the rule set and the day keys are shared.
///
/// The rules load on a thread of their own while the first chunks are parsed (`BackgroundRuleLoad`). A line parsed
/// before they came gets a provisional class id. A chunk with such lines waits for the rules in the worker, which
/// goes on with the next chunks meanwhile (waiting for the rules at the end of its first chunk left a core idle
/// for 10-25 ms of a run); once they are there, the waiting chunks get their classes, in input order, and go to
/// the sequencer before the next one.
///
/// `@unchecked Sendable`: used by one thread at a time, its worker thread while an input is read and the
/// ingest's thread between inputs; the pipeline's lock and thread joins order the two.
final class ChunkWorker: @unchecked Sendable {
    private let configuration: IngestConfiguration
    private var parser: AccessLogParser
    /// The parse work area; `parse(_:)` moves it into a local for the chunk (see there).
    private var record = AccessRecord()
    private var privacy: PrivacyFilters
    /// The worker's own classes; each batch lists the ones it added, for the sequencer to map to the run's table.
    private var userAgents: UserAgentTable
    /// The run's rule load until this worker has installed its rules (nil without classification, and after).
    private var pendingRules: BackgroundRuleLoad?
    /// Where the workers' classifiers find each other's classes.
    private let sharedClassifications: SharedClassifications?
    /// The user agents of the lines parsed before the rules came, in order of first use: a line's provisional
    /// class id is the complement (`~`) of its agent's id here.
    private var provisionalAgents = ByteInterner()
    /// The chunks parsed before the rules came, in input order, each with the user agents of its provisional rows.
    private var waiting: [(batch: ChunkBatch, agents: ByteInterner)] = []
    /// How many of the worker's classes its batches have listed so far.
    private var classesHandedOn = 0
    /// The worker's index in the pipeline, written into each batch it parses.
    let index: Int
    private let dayKeys: SharedDayKeys?
    private let hashClients: Bool
    private let truncateClients: Bool
    private let oldestDay: Int32
    /// The last UTC day kept: lines after it are dated in the future (see `Retention.futureToleranceDays`).
    private var newestDay: Int32
    private var splitter = LineSplitter()
    private var scratch: [UInt8] = []

    // The pseudonym key of the day of the previous row: consecutive lines share a day.
    private var keyDay: Int32 = .min
    private var pseudonyms = CachedVisitorPseudonym()
    private var dayIsLate = false

    // Counters for the summary (the sequencer adds the other figures to the `LineProcessor`'s).
    private var linesRead: Int64 = 0
    private var linesTooOld: Int64 = 0
    private var linesInFuture: Int64 = 0
    private var lateLines: Int64 = 0
    private var rejected = [Int64](repeating: 0, count: RejectReason.allCases.count)

    /// Makes a worker.
    ///
    /// - Parameters:
    ///   - format: the format of every line (detected before the workers start when it is `auto`).
    ///   - rules: the run's user-agent rules, loading, or `nil` without classification. The worker makes its own
    ///     classifier over them (sharing its classes through `sharedClassifications`), and their vocabulary.
    ///   - dayKeys: the run's pseudonym keys in hash mode.
    /// - Throws: when a path rewrite rule does not compile.
    init(
        index: Int, configuration: IngestConfiguration, format: LogFormat, rules: BackgroundRuleLoad?,
        sharedClassifications: SharedClassifications?, dayKeys: SharedDayKeys?
    ) throws {
        self.index = index
        self.configuration = configuration
        parser = AccessLogParser(format: format)
        privacy = try PrivacyFilters(configuration: configuration)
        userAgents = UserAgentTable(
            classifier: nil, vocabulary: nil, classLimit: configuration.userAgentClassLimit, collapsesPastLimit: false)
        pendingRules = rules
        self.sharedClassifications = sharedClassifications
        self.dayKeys = dayKeys
        hashClients = configuration.ipMode.contains(.hash)
        truncateClients = configuration.ipMode.contains(.truncate)
        oldestDay = Retention.oldestKeptDay(retentionDays: configuration.batch.retentionDays)
        newestDay = Retention.newestKeptDay(retentionDays: configuration.batch.retentionDays)
        scratch.reserveCapacity(256)
    }

    /// Whether chunks parsed before the rules came wait for them (see ``finishWaiting()``).
    var hasWaitingChunks: Bool { !waiting.isEmpty }

    /// Parses every line of a chunk into its rows (a key failure is kept in `batch.failure`) and returns the
    /// batches now ready for the sequencer, in input order.
    ///
    /// Those are the chunk alone once the rules are there. Before, a chunk that needs them waits and none is
    /// returned; the first chunk parsed after they came returns the waiting ones before itself.
    func parse(_ batch: ChunkBatch) -> [ChunkBatch] {
        // The waiting chunks take their classes before this chunk's lines can take any.
        var ready = pendingRules?.isFinished == true ? finishWaiting() : []
        batch.removeRows()
        batch.workerIndex = index
        if userAgents.classes.count >= userAgents.classLimit {
            // Bounded memory: the sequencer keeps the run's classes; this table starts again (see `UserAgentTable`).
            userAgents = userAgents.emptied()
            classesHandedOn = 0
            batch.restartsUserAgentClasses = true
        }
        if pendingRules?.isFinished == true && !installRules(failing: batch) { return ready + [batch] }
        splitter.reset()
        // A local record: read from this class's property, every line's record would be copied (a retain and a
        // release of its scratch buffer, and a value-witness copy) before being handed to `append`.
        var record = self.record
        defer { self.record = record }
        do {
            try splitter.feed(batch.bytes) { number, line in
                try handle(line, number: number, record: &record, into: batch)
            }
            if batch.finishesInput {
                try splitter.finish { number, line in try handle(line, number: number, record: &record, into: batch) }
            }
        } catch {
            batch.failure = error
        }
        batch.lineCount = splitter.lineCount
        // A plain input's unfinished last line stays unread (a line past the limit was reported as overlong).
        splitter.reset()
        if provisionalAgents.count > 0 || !waiting.isEmpty {
            if pendingRules?.isFinished == false {
                waiting.append((batch, provisionalAgents))
                provisionalAgents = ByteInterner()
                return ready
            }
            ready += finishWaiting()
            guard installRules(failing: batch) else { return ready + [batch] }
            classifyProvisionalRows(of: batch, agents: provisionalAgents)
            provisionalAgents.removeAll()
        }
        handOnNewClasses(to: batch)
        ready.append(batch)
        return ready
    }

    /// Gives the waiting chunks their classes, waiting for the rules if need be, and returns them in input order
    /// (with no rows and the load's error when the rules did not load).
    func finishWaiting() -> [ChunkBatch] {
        defer { waiting.removeAll() }
        for (batch, agents) in waiting where installRules(failing: batch) {
            classifyProvisionalRows(of: batch, agents: agents)
            handOnNewClasses(to: batch)
        }
        return waiting.map(\.batch)
    }

    /// The waiting chunks, given up when the run stops before the rules came (their batches go back to the pool).
    func abandonWaiting() -> [ChunkBatch] {
        defer { waiting.removeAll() }
        return waiting.map(\.batch)
    }

    /// Lists in the batch the classes the worker added since the last batch, for the sequencer.
    private func handOnNewClasses(to batch: ChunkBatch) {
        batch.newUserAgentClasses.append(contentsOf: userAgents.classes[classesHandedOn...])
        classesHandedOn = userAgents.classes.count
    }

    private func handle(
        _ line: SplitLine, number: Int, record: inout AccessRecord, into batch: ChunkBatch
    ) throws {
        linesRead += 1
        guard case .complete(let bytes) = line else {
            reject(.lineTooLong, number: number, in: batch)
            return
        }
        if let reason = parser.parse(bytes, into: &record) {
            reject(reason, number: number, in: batch)
            return
        }
        let day = Int32(truncatingIfNeeded: Timestamp.dayNumber(record.timestamp))
        if day < oldestDay || (day > newestDay && !futureBoundMoved(past: day)) {
            // Past the retention period or in the future: refused, counted (see `Retention`).
            if day < oldestDay { linesTooOld += 1 } else { linesInFuture += 1 }
            return
        }
        if day != keyDay, let dayKeys {
            let (key, isEphemeral) = try dayKeys.key(for: Int(day))
            pseudonyms.use(SipHashKey(k0: key.key0, k1: key.key1))
            dayIsLate = isEphemeral
            keyDay = day
        }
        append(record, day: day, to: batch)
        if dayIsLate { lateLines += 1 }
    }

    /// Writes one parsed line into the batch's columns, as `LineProcessor` appends it to a partition.
    private func append(_ record: AccessRecord, day: Int32, to batch: ChunkBatch) {
        // The class is looked up after the path is interned: its cache entries load meanwhile.
        let fingerprint = userAgents.fingerprint(prefetching: record.userAgent)
        let hour = Int32(truncatingIfNeeded: Timestamp.hourStart(record.timestamp) / 3_600_000)
        batch.days.append(day)
        batch.hours.append(hour)
        let pathId = privacy.storedPathId(of: record, in: &batch.paths, addressFree: &batch.addressFreePaths)
        // Before the rules came, provisional: settled by `classifyProvisionalRows`.
        let (classId, isBot) = userAgents.classId(
            of: record.userAgent, fingerprint: fingerprint, pending: pendingRules != nil,
            provisional: &provisionalAgents)
        let method = record.method
        let kind = RequestCategory(
            method: method, status: record.status, isBot: isBot,
            isAsset: batch.assetPaths.isAsset(pathId, of: &batch.paths, assets: configuration.assetExtensions))
        let vhostId =
            record.virtualHost.map { StoredValues.internHost($0, scratch: &scratch, into: &batch.vhosts) } ?? -1
        batch.pathIds.append(pathId)
        batch.kinds.append(kind.rawValue)
        batch.vhostIds.append(vhostId)
        batch.statuses.append(record.status)
        batch.byteCounts.append(record.responseBytes)
        batch.userAgentClassIds.append(classId)

        let client = privacy.client(of: record)
        guard configuration.writeEvents else { return }
        batch.timestamps.append(record.timestamp)
        if hashClients,
            let visitor = pseudonyms.pseudonym(
                client: client, userAgentFingerprint: fingerprint, virtualHost: record.virtualHost)
        {
            batch.visitors.append(visitor)
        }
        if truncateClients {
            batch.networkIds.append(
                StoredValues.internNetwork(
                    of: client, configuration: configuration, scratch: &scratch, into: &batch.clientNetworks))
        }
        batch.methodIds.append(batch.methods.intern(method))
        batch.referrerIds.append(
            StoredValues.internReferrerHost(
                record.referrer, scratch: &scratch, into: &batch.referrerHosts, cache: &batch.referrerHostCache))
    }

    /// Installs the run's rules in this worker's table, waiting for them if need be.
    ///
    /// - Returns: false when the load failed: the batch then holds no rows and fails with the load's error, which
    ///   fails the run (it is not an `IngestError`, which would end only its input).
    private func installRules(failing batch: ChunkBatch) -> Bool {
        guard let pending = pendingRules else { return true }
        do {
            let loaded = try pending.rules()
            userAgents.install(
                classifier: UserAgentClassifier(rules: loaded.rules, shared: sharedClassifications),
                vocabulary: loaded.vocabulary)
            pendingRules = nil
            return true
        } catch {
            batch.removeRows()
            batch.failure = error
            return false
        }
    }

    /// Gives the rows parsed before the rules came their classes, as `append` would have given them: the agents in
    /// order of first use (so the table numbers their classes as it would have), and a bot's page made `other`
    /// (`RequestCategory`: a page is a request of a visitor who is not a bot, and nothing else depended on it).
    private func classifyProvisionalRows(of batch: ChunkBatch, agents: ByteInterner) {
        let classIds = userAgents.classIds(of: agents)
        for row in 0..<batch.rowCount where batch.userAgentClassIds[row] < 0 {
            (batch.userAgentClassIds[row], batch.kinds[row]) = userAgents.settled(
                batch.userAgentClassIds[row], kind: batch.kinds[row], classIds: classIds)
        }
    }

    /// Moves the future bound to the clock's tomorrow and says whether `day` is within it now, as
    /// `LineProcessor` does.
    private func futureBoundMoved(past day: Int32) -> Bool {
        newestDay = Retention.newestKeptDay(retentionDays: configuration.batch.retentionDays)
        return day <= newestDay
    }

    private func reject(_ reason: RejectReason, number: Int, in batch: ChunkBatch) {
        rejected[RejectReason.allCases.firstIndex(of: reason) ?? 0] += 1
        batch.rejectLines.append(number)
        batch.rejectReasons.append(reason)
    }

    /// Adds this worker's counters to a summary.
    func addCounts(to summary: inout IngestSummary) {
        summary.linesRead += linesRead
        summary.lateLinesEphemeralKey += lateLines
        privacy.addCounts(to: &summary)
        for (index, reason) in RejectReason.allCases.enumerated() where rejected[index] > 0 {
            summary.rejected[reason.rawValue, default: 0] += rejected[index]
        }
        if linesTooOld > 0 { summary.rejected[Retention.rejectReason, default: 0] += linesTooOld }
        if linesInFuture > 0 { summary.rejected[Retention.futureRejectReason, default: 0] += linesInFuture }
    }
}

/// The run's pseudonym keys (`RunKeys`) behind a lock, for the workers of the parallel pipeline: a day's key file
/// is read or created once, and a late day gets one ephemeral key for the whole run, whichever worker asks first.
final class SharedDayKeys: @unchecked Sendable {
    private let lock = NSLock()
    private let keys: RunKeys  // guarded by `lock`

    init(_ keys: RunKeys) {
        self.keys = keys
    }

    /// The key for records of `day`, and whether it is an ephemeral one.
    func key(for day: Int) throws -> (key: PseudonymKey, isEphemeral: Bool) {
        lock.lock()
        defer { lock.unlock() }
        return try keys.key(for: day)
    }
}
