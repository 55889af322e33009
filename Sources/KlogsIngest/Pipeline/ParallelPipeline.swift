internal import Foundation
import KlogsCore
import KlogsUserAgent

/// The multi-core ingest of files (`--threads N`, N > 1): a reader thread, N worker threads and the calling thread
/// as sequencer, with a fixed pool of reused chunk batches between them.
///
/// ```
/// reader thread ──chunks in order──▶ queue ──▶ N workers (parse, anonymise, classify;  ──▶ parsed[sequence]
/// (reads, inflates)                      ▲        encode row groups)                           │
///        ▲                               └── row groups to encode ──┐                          │
///        └──────────── free batches ◀── sequencer (calling thread: ids, rows, sums, files) ◀──┘
/// ```
///
/// The reader cuts the input into chunks of about `chunkBytes` on line boundaries (`ChunkReader`), decompressing
/// on its own thread; a worker parses a whole chunk into a `ChunkBatch` (`ChunkWorker`), its rows in columns with
/// chunk-local ids; the sequencer takes the batches strictly in input order, maps the ids and adds the rows and
/// their hourly sums to the dataset (`ChunkSequencer`), so the output is the single-threaded path's, byte for
/// byte, whatever the thread count. The sequencer is the one serial stage, so it hands the encoding of each
/// `events` row group back to the workers (`BackgroundJobRunner`), which take it before the next chunk; the file
/// writes it in order. At the end of a run the workers share the last steps with the calling thread the same way
/// (`encodingRowGroups`).
/// Memory is bounded by the pool: `2 × workers + 1` batches of `chunkBytes + 64 KiB` input each, plus their
/// columns, and the row groups being encoded (at most a few, as they go first).
///
/// One shared lock (an `NSCondition`) guards the queues, the parsed batches and the free pool; a batch or a job is
/// handed over only under it. It is taken about three times per chunk (tens of thousands of lines), never per line.
final class ParallelPipeline: BackgroundJobRunner, @unchecked Sendable {
    /// The chunk size of a run: large enough that the lock and the per-chunk work are negligible (about 9,000
    /// lines a chunk), small enough that the pool stays under 20 MB with two workers.
    static let defaultChunkBytes = 2 << 20

    let workers: [ChunkWorker]
    private let chunkBytes: Int
    private let maximumLineLength = LineSplitter().maximumLineLength
    private let condition = NSCondition()
    private var sequencer: ChunkSequencer

    // Guarded by `condition`.
    private var free: [ChunkBatch]
    private var queued: [ChunkBatch] = []
    private var parsed: [Int: ChunkBatch] = [:]
    /// Chunks a worker has taken and not yet handed to the sequencer (parsing, or waiting for the rules).
    private var parsing = 0
    /// Jobs (`BackgroundJobRunner`): row groups to encode, parts of the end of a run; the workers take them before
    /// chunks.
    private var jobs: [any BackgroundJob] = []
    private var readerFinished = false
    private var stopping = false
    private var runningThreads = 0

    /// Makes the workers and the batch pool of a run.
    ///
    /// - Parameters:
    ///   - threads: the number of worker threads (at least 1).
    ///   - format: the log format (already detected for `--format auto`).
    ///   - rules: the user-agent rules (which may still be loading), or `nil` without classification.
    ///   - dayKeys: the run's pseudonym keys in hash mode.
    /// - Throws: when a path rewrite rule does not compile.
    init(
        threads: Int, configuration: IngestConfiguration, format: LogFormat, rules: BackgroundRuleLoad?,
        dayKeys: SharedDayKeys?, chunkBytes: Int = ParallelPipeline.defaultChunkBytes
    ) throws {
        let count = max(1, threads)
        // Each worker's classifier finds the classes of the others' agents here instead of running the rules again.
        let shared = count > 1 && rules != nil ? SharedClassifications() : nil
        workers = try (0..<count).map { index in
            try ChunkWorker(
                index: index, configuration: configuration, format: format, rules: rules,
                sharedClassifications: shared, dayKeys: dayKeys)
        }
        self.chunkBytes = max(1, chunkBytes)
        let capacity = ChunkReader.batchCapacity(chunkBytes: self.chunkBytes, maximumLineLength: maximumLineLength)
        // One batch being filled, one per worker, one being sequenced, and as many again parsed ahead.
        free = (0..<(2 * count + 1)).map { _ in ChunkBatch(capacity: capacity) }
        sequencer = ChunkSequencer(workerCount: count)
    }

    /// Reads one input through the pipeline and adds its lines to the processor's dataset, in input order.
    ///
    /// As on the single-threaded path, an `IngestError` (a read error, a key that cannot be read, a row group that
    /// cannot be written) ends the input, not the run: it comes back in `failure`, with the resume boundary of the
    /// last chunk added whole.
    ///
    /// - Parameters:
    ///   - startLine: the file's lines before `startOffset`: line numbers (in reject reports) go on from there.
    ///   - progress: called after each chunk is added, on the calling thread, with the input bytes read and the
    ///     lines added so far.
    /// - Returns: how far the input was read.
    /// - Throws: any other error, after the threads have been stopped and joined.
    func ingest(
        _ input: InputReader, from startOffset: Int64, firstLine startLine: Int, into processor: inout LineProcessor,
        progress: (_ bytesRead: Int64, _ linesRead: Int) -> Void
    ) throws -> Ingestor.FileRead {
        let reader = ChunkReader(
            input: input, startOffset: startOffset, chunkBytes: chunkBytes, maximumLineLength: maximumLineLength)
        startWorkers(reader: reader)
        processor.writer.rowGroupRunner = self
        defer {
            stopAndJoin()
            processor.writer.rowGroupRunner = nil
            // The workers never set the processor's day: the next single-threaded line looks its partition up.
            processor.forgetPartition()
        }
        var sequence = 0
        var firstLine = startLine
        var boundary = startOffset
        do {
            while let batch = nextParsed(sequence) {
                defer { recycle(batch) }
                try sequencer.apply(batch, firstLine: firstLine, to: &processor)
                boundary = batch.boundary
                firstLine += batch.lineCount
                sequence += 1
                progress(batch.inputBytesRead, firstLine - startLine)
            }
        } catch let error as IngestError {
            stopAndJoin()
            return Ingestor.FileRead(
                head: reader.head, position: reader.position, boundary: boundary, readToEnd: false, failure: error,
                lines: firstLine - startLine)
        }
        // The reader thread has finished (`nextParsed` returned nil), so its results are final.
        return Ingestor.FileRead(
            head: reader.head, position: reader.position, boundary: boundary, readToEnd: reader.readToEnd,
            failure: reader.failure, lines: firstLine - startLine)
    }

    /// Adds the workers' counters to a summary.
    func addCounts(to summary: inout IngestSummary) {
        for worker in workers { worker.addCounts(to: &summary) }
    }

    // MARK: - Threads

    /// Runs `body` (the writer's last flushes, when a run commits) while the workers encode the row groups it
    /// makes.
    func encodingRowGroups<Result>(for writer: DatasetWriter, _ body: () throws -> Result) rethrows -> Result {
        startWorkers(reader: nil)
        writer.rowGroupRunner = self
        defer {
            writer.rowGroupRunner = nil
            stopAndJoin()
        }
        return try body()
    }

    /// Starts the worker threads, and the reader thread of `reader` if any.
    private func startWorkers(reader: ChunkReader?) {
        condition.lock()
        readerFinished = false
        stopping = false
        runningThreads = (reader == nil ? 0 : 1) + workers.count
        condition.unlock()
        if let reader {
            let readerThread = Thread { [self] in
                reader.run(take: takeFree, submit: submitChunk)
                finish(reader: true)
            }
            readerThread.name = "klogs reader"
            readerThread.start()
        }
        for worker in workers {
            let thread = Thread { [self] in
                work(worker)
                finish(reader: false)
            }
            thread.name = "klogs worker \(worker.index)"
            thread.start()
        }
    }

    /// A worker's next task: a job (encoding a row group, a part of the end of a run), parsing a chunk, or
    /// finishing the chunks it parsed before the rules came.
    private enum Task {
        case run(any BackgroundJob)
        case parse(ChunkBatch)
        case finishWaiting
    }

    /// A worker thread: encodes row groups and parses chunks until the run stops (the sequencer has added the
    /// whole input, or failed).
    private func work(_ worker: ChunkWorker) {
        while let task = nextTask(for: worker) {
            switch task {
            case .run(let job): job.run()
            case .parse(let batch): publish(worker.parse(batch))
            case .finishWaiting: publish(worker.finishWaiting())
            }
        }
        let abandoned = worker.abandonWaiting()
        condition.lock()
        free.append(contentsOf: abandoned)
        condition.unlock()
    }

    /// Hands parsed batches to the sequencer.
    private func publish(_ batches: [ChunkBatch]) {
        guard !batches.isEmpty else { return }
        condition.lock()
        for batch in batches { parsed[batch.sequence] = batch }
        parsing -= batches.count
        condition.broadcast()
        condition.unlock()
    }

    /// The worker threads: one part of a computation split for them each (the calling thread, which does one part
    /// itself, mostly waits for the others otherwise).
    var parallelism: Int { workers.count }

    /// Queues a job for the workers, while they run (a job left in the queue when they stop is run by whoever
    /// needs its result).
    func submit(_ job: any BackgroundJob) {
        condition.lock()
        if runningThreads > 0 && !stopping {
            jobs.append(job)
            condition.broadcast()
        }
        condition.unlock()
    }

    private func takeFree() -> ChunkBatch? {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty && !stopping { condition.wait() }
        return stopping ? nil : free.removeLast()
    }

    private func submitChunk(_ batch: ChunkBatch) {
        condition.lock()
        queued.append(batch)
        condition.broadcast()
        condition.unlock()
    }

    /// A worker's next task, waiting for one; `nil` once the run stops. Jobs go first: the sequencer makes a row
    /// group only every `rowGroupRows` rows, and each holds its rows' memory until it is written. Chunks waiting
    /// for the rules come last: the worker waits for the rules when it has nothing else to do.
    private func nextTask(for worker: ChunkWorker) -> Task? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if stopping { return nil }
            if !jobs.isEmpty { return .run(jobs.removeFirst()) }
            if !queued.isEmpty {
                parsing += 1
                return .parse(queued.removeFirst())
            }
            if worker.hasWaitingChunks { return .finishWaiting }
            condition.wait()
        }
    }

    /// The parsed batch of chunk `sequence`, waiting for it; `nil` once the input has no more chunks.
    private func nextParsed(_ sequence: Int) -> ChunkBatch? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let batch = parsed.removeValue(forKey: sequence) { return batch }
            // Every chunk was submitted before the reader finished; none is queued or being parsed.
            if readerFinished && queued.isEmpty && parsing == 0 && parsed.isEmpty { return nil }
            condition.wait()
        }
    }

    private func recycle(_ batch: ChunkBatch) {
        condition.lock()
        free.append(batch)
        condition.broadcast()
        condition.unlock()
    }

    private func finish(reader: Bool) {
        condition.lock()
        if reader { readerFinished = true }
        runningThreads -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Stops the threads (after a failure; a no-op after a complete input), waits for them, and takes every batch
    /// back into the free pool.
    private func stopAndJoin() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while runningThreads > 0 { condition.wait() }
        free.append(contentsOf: queued)
        free.append(contentsOf: parsed.values)
        queued.removeAll()
        parsed.removeAll()
        jobs.removeAll()
        parsing = 0
        condition.unlock()
    }
}
