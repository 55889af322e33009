internal import Foundation
internal import Glibc
import KlogsCore
import KlogsParquet
import KlogsUserAgent

/// A run that could not write its dataset: nothing of it became visible.
public struct IngestFailure: Error, CustomStringConvertible {
    /// What went wrong, where, and what to do about it. Never holds log content.
    public var message: String
    /// What the run had read when it failed.
    public var summary: IngestSummary?
    /// True when the failure is the input's: no format fits it (`--format auto`); the dataset is fine.
    public var isUnrecognisedFormat = false

    public var description: String { message }
}

/// Reads access logs and adds them, anonymised, to a dataset: the whole `klogs ingest` run.
///
/// ```swift
/// var configuration = IngestConfiguration(dataDirectory: "klogs-data", inputs: ["access.log.1"])
/// let summary = try Ingestor(configuration: configuration).run()
/// print(summary.text)
/// ```
///
/// Inputs are read in 1 MiB chunks into one reused buffer and split into lines; each line is parsed, its client
/// anonymised, its user agent classified, and the result appended to its UTC day's partition. An input that
/// cannot be read to its end is reported in the summary and the run goes on with the next one; everything is
/// committed at the end. A failure to write leaves nothing of the run visible.
public final class Ingestor {
    let configuration: IngestConfiguration
    /// Starts loading the rules file at a path (tests give a load that takes its time).
    lazy var loadRules: (_ path: String) -> BackgroundRuleLoad = { [cache = configuration.userAgentRuleCache] in
        BackgroundRuleLoad(path: $0, cache: cache)
    }

    public init(configuration: IngestConfiguration) {
        self.configuration = configuration
    }

    /// Runs the ingest.
    ///
    /// The data directory is locked for the run; what crashed runs left is finished or removed first. Files are
    /// matched in the ingest ledger by their head and read from where the last run stopped; the part files and the
    /// new ledger then become visible together in one `Transaction`. Standard input commits every
    /// `batch.flushIntervalSeconds` and `batch.flushLines`, and on SIGINT or SIGTERM.
    ///
    /// - Returns: what was read, kept, rejected and written. `inputErrors` lists inputs not read to their end.
    /// - Throws: `IngestFailure` when the dataset cannot be written or the key store cannot be used;
    ///   `BatchError` of kind `.busy` when another writer holds the lock.
    public func run() throws -> IngestSummary {
        Self.shareOneHeap
        let clock = ContinuousClock()
        let start = clock.now
        var summary = IngestSummary()
        let root = configuration.dataDirectory
        let inputs = configuration.inputs.isEmpty ? ["-"] : configuration.inputs

        if configuration.batch.dryRun {
            let ledger = try Ledger.load(dataDirectory: root)
            for path in inputs {
                summary.notes.append(Self.describePlan(path: path, ledger: ledger))
            }
            return summary
        }

        // With `ulimit -f`, a write past the limit fails with EFBIG (a clean error) instead of killing the process.
        _ = signal(SIGXFSZ, SIG_IGN)
        // SIGINT, SIGTERM: stop reading, commit what was read, say so (see StopSignals).
        let signals = StopSignals.install()
        defer { signals.restore() }
        let lock: DataLock
        do {
            lock = try DataLock(
                dataDirectory: root, waitSeconds: configuration.batch.waitSeconds, command: "klogs ingest")
        } catch let error as BatchError where error.kind == .busy {
            throw error
        } catch {
            throw IngestFailure(message: "\(error)")
        }
        defer { lock.release() }
        var ledger: Ledger
        do {
            let recovered = try Transaction.recover(dataDirectory: root)
            if recovered.rolledForward > 0 || recovered.removed > 0 {
                summary.notes.append(
                    "recovered from an interrupted run: \(recovered.rolledForward) commit(s) completed, "
                        + "\(recovered.removed) unfinished file(s) removed")
            }
            ledger = try Ledger.load(dataDirectory: root)
        } catch {
            throw IngestFailure(message: "\(error)")
        }

        // The rules load while the rest of the run is set up and the first lines are read (their classes are
        // settled once the rules are there: `LineProcessor`, `ChunkWorker`).
        let ruleLoad =
            configuration.classifiesUserAgents
            ? loadRules(configuration.userAgentRules ?? UserAgentRules.defaultPath) : nil
        let keys: KeyStore?
        let lifecycle = KeyLifecycle(
            graceSeconds: configuration.keyGraceSeconds, now: configuration.currentTime ?? KeyLifecycle.currentTime())
        let rejects: RejectReport?
        do {
            keys = configuration.ipMode.contains(.hash)
                ? try KeyStore(dataDirectory: configuration.dataDirectory) : nil
            // Keys past their grace period die on every run, whatever the mode (docs/PRIVACY.md).
            let expired = try keys.map { try lifecycle.expire(in: $0) }
            let directory = configuration.dataDirectory
            summary.keysExpired = try (expired ?? lifecycle.expireKeys(dataDirectory: directory)).count
            rejects = try configuration.rejectsPath.map { try RejectReport(path: $0) }
        } catch {
            try Self.checkRules(ruleLoad)
            throw IngestFailure(message: AddressMasking.maskMessage("\(error)"))
        }

        let writer = DatasetWriter(
            root: configuration.dataDirectory, runIdentifier: Transaction.makeIdentifier(),
            ipMode: configuration.ipMode, compression: configuration.compression,
            writeEvents: configuration.writeEvents, rowGroupRows: configuration.rowGroupRows,
            partitionLimits: configuration.partitionLimits)
        var processor: LineProcessor
        do {
            let userAgents = UserAgentTable(
                classifier: nil, vocabulary: nil, classLimit: configuration.userAgentClassLimit)
            processor = try LineProcessor(
                configuration: configuration, writer: writer, userAgents: userAgents, keys: keys, lifecycle: lifecycle,
                rejects: rejects, rules: ruleLoad)
        } catch {
            try Self.checkRules(ruleLoad)
            throw IngestFailure(message: "\(error)")
        }

        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        var ranges: [String] = []
        var pipeline: ParallelPipeline? = nil
        do {
            pipeline = try makePipeline(for: inputs, processor: &processor, rules: ruleLoad, ledger: ledger)
            try processor.installRulesIfLoaded()
            for path in inputs where path != "-" {
                try ingestFile(
                    path, through: &processor, pipeline: pipeline, buffer: buffer, ledger: &ledger, ranges: &ranges,
                    summary: &summary)
            }
            // Also when no line needed the rules: a run whose rules do not load commits nothing.
            try processor.installRules()
            summary.stoppedBySignal = StopSignals.received
            try commit(
                writer, processor: &processor, ledger: &ledger, ranges: ranges, summary: &summary, encoders: pipeline)
            if inputs.contains("-") {
                // A pipe runs for days: it takes the lock only to commit, so compact and purge can run meanwhile.
                lock.release()
                try ingestStandardInput(
                    through: &processor, writer: writer, buffer: buffer, ledger: &ledger, summary: &summary)
            }
        } catch {
            writer.abort()
            try Self.checkRules(ruleLoad)
            summary.elapsedSeconds = Self.seconds(clock.now - start)
            processor.addCounts(to: &summary)
            pipeline?.addCounts(to: &summary)
            Self.finishPrivacy(of: &summary, rejects: rejects)
            var failure = IngestFailure(
                message: AddressMasking.maskMessage("\(error)")
                    + "\nNothing of this run's uncommitted input became visible; the ledger still says where to "
                    + "resume, so run the same command again once the cause is fixed.",
                summary: summary)
            failure.isUnrecognisedFormat = error is FormatDetectionFailure
            throw failure
        }
        processor.addCounts(to: &summary)
        pipeline?.addCounts(to: &summary)
        Self.finishPrivacy(of: &summary, rejects: rejects)
        summary.elapsedSeconds = Self.seconds(clock.now - start)
        return summary
    }

    /// Fails the run with the error of rules that did not load (waiting for the load to finish), which takes
    /// precedence over the errors it caused or that came meanwhile: the run is refused as when the rules loaded
    /// first.
    ///
    /// - Throws: the `IngestFailure` of rules that did not load.
    private static func checkRules(_ ruleLoad: BackgroundRuleLoad?) throws {
        if let failure = ruleLoad?.failure {
            throw IngestFailure(message: "cannot load the user-agent rules: \(failure)")
        }
    }

    /// Finishes the writer's files and commits them with the ledger in one transaction.
    ///
    /// - Parameter encoders: the parallel pipeline, whose workers then encode the last row groups.
    func commit(
        _ writer: DatasetWriter, processor: inout LineProcessor, ledger: inout Ledger, ranges: [String],
        summary: inout IngestSummary, encoders: ParallelPipeline? = nil
    ) throws {
        try processor.finishDetection()  // --format auto on inputs shorter than the detection sample
        let userAgents = processor.userAgents
        if let encoders {
            try encoders.encodingRowGroups(for: writer) { try writer.finishAll(userAgents: userAgents) }
        } else {
            try writer.finishAll(userAgents: userAgents)
        }
        summary.warnings += writer.takeCardinalityWarnings()
        processor.forgetPartition()
        let identifier = Transaction.makeIdentifier()
        // Files read through the ledger get names from their ranges (a repeated run replaces them); standard input
        // cannot be read twice, so its files are named by the transaction.
        let publications = writer.publications(tag: ranges.isEmpty ? "s\(identifier)" : transactionTag(ranges))
        var newLedger = ledger
        for publication in publications { newLedger.files[publication.final] = publication.rows }
        if publications.isEmpty && ranges.isEmpty { return }
        let transaction = Transaction(
            identifier: identifier, renames: publications.map { [$0.staged, $0.final] }, deletes: [],
            ledger: newLedger)
        try transaction.commit(dataDirectory: configuration.dataDirectory)
        writer.handOver()
        writer.startTransaction(Transaction.makeIdentifier())
        ledger = newLedger
        summary.filesWritten += publications.count
    }

    /// Reads the part of one file that the ledger does not hold yet; read errors go into the summary.
    private func ingestFile(
        _ path: String, through processor: inout LineProcessor, pipeline: ParallelPipeline?,
        buffer: UnsafeMutableRawBufferPointer, ledger: inout Ledger, ranges: inout [String],
        summary: inout IngestSummary
    ) throws {
        if StopSignals.isRequested {
            summary.notes.append("\(path): not read, the run was stopped by a signal")
            return
        }
        if InputReader.isStream(path: path) {
            try ingestStream(path, through: &processor, buffer: buffer, ranges: &ranges, summary: &summary)
            return
        }
        let plan: SourcePlan
        do {
            plan = try SourcePlan(path: path, ledger: ledger)
        } catch {
            summary.inputErrors.append("\(error)")
            return
        }
        guard case .read(let startOffset) = plan.action else {
            if case .skip(let reason) = plan.action { summary.notes.append("\(path): \(reason); skipped") }
            return
        }
        if plan.continuation > 0 {
            summary.notes.append(
                "\(path): \(plan.continuation) bytes skipped at byte \(startOffset - plan.continuation): the rest of "
                    + "a last line read without its newline by an earlier run")
        }
        processor.begin(input: path)
        let reader: InputReader
        do {
            reader = try InputReader(source: InputSource(argument: path))
        } catch {
            summary.inputErrors.append("\(error)")
            return
        }
        defer { summary.addCounts(of: reader) }
        let totalBytes = reader.fileSize.map(Int64.init)
        let onProgress = configuration.onProgress
        func report(bytesRead: Int64, linesRead: Int) {
            onProgress?(
                IngestProgress(input: path, bytesRead: bytesRead, totalBytes: totalBytes, linesRead: linesRead))
        }
        let read: FileRead
        if let pipeline {
            read = try pipeline.ingest(
                reader, from: startOffset, firstLine: Int(plan.linesBefore ?? 0), into: &processor, progress: report)
        } else {
            read = try readSequentially(
                reader, from: startOffset, firstLine: Int(plan.linesBefore ?? 0), through: &processor, buffer: buffer,
                progress: report)
        }
        let boundary = read.boundary
        if !read.readToEnd && read.failure == nil {
            summary.notes.append(Self.stopNote(path: path, boundary: boundary))
        } else if read.readToEnd && boundary < read.position {
            summary.notes.append(
                "\(path): the last \(read.position - boundary) bytes have no newline yet; they will be read once "
                    + "the line is complete, or once the file has not changed for \(InputReader.settleSeconds / 60) "
                    + "minutes")
        }
        // What was read before a fault is kept, up to the last complete line.
        if let failure = read.failure { summary.inputErrors.append("\(failure)") }
        // The range names the content (head hash), never the path: the same bytes get the same file names.
        let head = read.head
        let headHash = head.withUnsafeBytes { Ledger.headHash($0) }
        ranges.append("\(headHash):\(head.count):\(startOffset):\(boundary)")
        ledger.record(
            plan: plan, path: path, head: head, offset: boundary, lines: read.lines, size: read.position,
            readToEnd: read.readToEnd)
        if boundary > startOffset {
            summary.notes.append(
                startOffset == 0 ? "\(path): read \(boundary) bytes"
                    : "\(path): read from byte \(startOffset) to \(boundary)")
        } else {
            summary.notes.append("\(path): nothing new after byte \(startOffset)")
        }
    }

    /// How far one input was read: its first bytes (for the ledger), the bytes read, the resume boundary after
    /// the last complete line, whether it was read to its end, and the read error that stopped it.
    struct FileRead {
        var head: [UInt8]
        var position: Int64
        var boundary: Int64
        var readToEnd: Bool
        var failure: IngestError?
        /// The lines read, up to `boundary`.
        var lines = 0
    }

    /// The single-threaded path: reads 1 MiB at a time into `buffer` and hands each line to the processor.
    ///
    /// - Parameter progress: called after each chunk with the input bytes read and the lines split so far.
    private func readSequentially(
        _ reader: InputReader, from startOffset: Int64, firstLine: Int, through processor: inout LineProcessor,
        buffer: UnsafeMutableRawBufferPointer, progress: (_ bytesRead: Int64, _ linesRead: Int) -> Void
    ) throws -> FileRead {
        var splitter = LineSplitter()
        var read = FileRead(head: [], position: 0, boundary: startOffset, readToEnd: false)
        read.head.reserveCapacity(Ledger.headLimit)
        do {
            while true {
                let count = try reader.read(into: buffer)
                if count == 0 { break }
                HeapHugePages.adviseGrowth()
                if read.head.count < Ledger.headLimit {
                    read.head.append(contentsOf: buffer[0..<min(count, Ledger.headLimit - read.head.count)])
                }
                let chunkStart = read.position
                read.position += Int64(count)
                guard read.position > startOffset else { continue }
                let skip = Int(max(0, startOffset - chunkStart))
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[skip..<count])
                try splitter.feed(chunk) { number, line in try processor.process(line, number: firstLine + number) }
                try processor.installRulesIfLoaded()
                progress(Int64(reader.bytesRead), splitter.lineCount)
                if let newline = lastNewline(in: chunk) {
                    read.boundary = chunkStart + Int64(skip) + Int64(newline) + 1
                    read.lines = splitter.lineCount
                }
                if StopSignals.isRequested { break }  // commit what was read; the next run reads the rest
            }
            read.readToEnd = !StopSignals.isRequested
            guard read.readToEnd else { return read }
            // A last line without a newline is read only from a finished file (compressed, or not modified for
            // a while): in a plain file being written it may be incomplete, and is read once it is complete.
            if reader.isFinishedWriting {
                try splitter.finish { number, line in try processor.process(line, number: firstLine + number) }
                read.boundary = read.position
                read.lines = splitter.lineCount
            }
        } catch let error as IngestError {
            read.failure = error
        }
        return read
    }

    /// What `--dry-run` says about one input.
    static func describePlan(path: String, ledger: Ledger) -> String {
        if path == "-" { return "standard input: would be read and committed every flush interval" }
        do {
            let plan = try SourcePlan(path: path, ledger: ledger)
            switch plan.action {
            case .skip(let reason):
                return "\(path): \(reason); would be skipped"
            case .read(let offset):
                let compressed = plan.compression == .plain ? "" : " (\(plan.compression.rawValue), decompressed)"
                if offset == 0 {
                    return "\(path): new; would read it all\(compressed), \(plan.fileSize) bytes on disk"
                }
                return "\(path): already ingested up to byte \(offset); would read from there\(compressed)"
                    + (plan.compression == .plain ? " to byte \(plan.fileSize)" : "")
            }
        } catch {
            return "\(error)"
        }
    }

    /// Writes out the reject report and masks addresses and query strings in every message of the summary.
    private static func finishPrivacy(of summary: inout IngestSummary, rejects: RejectReport?) {
        if let rejects {
            do { try rejects.flush() } catch { summary.warnings.append("\(error)") }
            if let error = rejects.writeError { summary.warnings.append(error) }
            summary.rejectsReported = rejects.linesWritten
        }
        summary.warnings = summary.warnings.map(AddressMasking.maskMessage)
        summary.inputErrors = summary.inputErrors.map(AddressMasking.maskMessage)
    }

    /// A run identifier for file names: the UTC start time and random bits, never anything from the logs.
    static func makeRunIdentifier() -> String {
        let now = Int64(Date().timeIntervalSince1970)
        let date = Timestamp.dateText(dayNumber: Int(now / 86_400)).replacingOccurrences(of: "-", with: "")
        let secondOfDay = Int(now % 86_400)
        let time = String(format: "%02d%02d%02d", secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return "\(date)T\(time)Z-\(String(repeating: "0", count: 8 - random.count))\(random)"
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

extension Ingestor {
    /// Makes glibc serve the whole process from one heap (arena) that keeps and reuses freed blocks of up to
    /// 16 MiB (evaluated once per process).
    ///
    /// By default glibc gives threads that allocate at the same time heaps of their own, and what a thread frees
    /// stays in its heap: with two threads the freed column buffers, hourly-aggregate tables and row-group
    /// encodings were split between heaps and stayed resident (peak 312 MB on 1M lines with 1M distinct paths,
    /// `scripts/hostile-memory.sh`). With one heap every thread reuses what any thread freed. The fixed thresholds
    /// keep glibc from moving them: blocks over 16 MiB get their own `mmap`, given back when freed, and the heap
    /// gives back free space over 16 MiB at its top (32 MiB saved a few more page faults but let the hostile
    /// paths input reach 273 MiB). Reusing freed blocks instead of mapping fresh zeroed pages
    /// is what makes this faster than serving large blocks with `mmap` (the previous setting, from 1 MiB):
    /// measured in docs/OPERATIONS.md (Memory). The heap grows by at least 32 MiB at a time, room that
    /// `HeapHugePages` advises for huge pages before it is touched.
    static let shareOneHeap: Void = {
        // <malloc.h> is not part of the Glibc module: M_TRIM_THRESHOLD is -1, M_TOP_PAD -2, M_MMAP_THRESHOLD -3 and
        // M_ARENA_MAX -8.
        _ = glibcMallopt(-8, 1)
        _ = glibcMallopt(-3, 16 << 20)
        _ = glibcMallopt(-2, Int32(HeapHugePages.growthPad))
        HeapHugePages.adviseGrowth()
        _ = glibcMallopt(-1, 16 << 20)
    }()
}

/// glibc's `mallopt(3)`.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
