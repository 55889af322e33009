internal import Foundation
import KlogsParquet

/// A piece of work done by whichever thread comes first: a worker of the parallel pipeline that takes it from the
/// queue (`run()`), or the thread that needs its result (`value()`), which then does it itself. A job is never lost
/// or run twice, whether or not a worker is there to take it, so a thread waiting for a result never waits for a
/// job nobody has begun.
///
/// `@unchecked Sendable`: the state is guarded by the job's lock; `work` runs on exactly one thread.
final class SharedJob<Value>: BackgroundJob, @unchecked Sendable {
    private let work: () throws -> Value
    private let condition = NSCondition()
    private enum State {
        case waiting, running
        case done(Result<Value, any Error>)
    }
    private var state = State.waiting  // guarded by `condition`

    /// A job that computes `work`.
    init(_ work: @escaping () throws -> Value) {
        self.work = work
    }

    /// Does the work, unless another thread has begun to.
    func run() {
        condition.lock()
        guard case .waiting = state else {
            condition.unlock()
            return
        }
        state = .running
        condition.unlock()
        let result = Result { try work() }
        condition.lock()
        state = .done(result)
        condition.broadcast()
        condition.unlock()
    }

    /// Whether the result is ready.
    var isDone: Bool {
        condition.lock()
        defer { condition.unlock() }
        if case .done = state { return true }
        return false
    }

    /// The result: computed here when no thread has begun, else waited for.
    /// - Throws: the work's error.
    func value() throws -> Value {
        run()
        condition.lock()
        defer { condition.unlock() }
        while true {
            if case .done(let result) = state { return try result.get() }
            condition.wait()
        }
    }
}

/// The encoding of one row group, or of a range of its columns: building the columns, encoding and compressing
/// their column chunks.
typealias RowGroupJob = SharedJob<[EncodedColumnChunk]>

extension SharedJob where Value == [EncodedColumnChunk] {
    /// A job that builds the columns in `range` of a row group of `schema` and encodes them with `options` (all of
    /// them, without a range).
    convenience init(
        schema: ParquetSchema, options: ParquetWriterOptions, range: Range<Int>? = nil,
        columns: @escaping () -> [ColumnValues]
    ) {
        self.init {
            var encoder = ColumnChunkEncoder(options: options)
            return try zip(columns(), schema.columns[range ?? schema.columns.indices]).map { values, column in
                try encoder.encode(values, column: column)
            }
        }
    }

    /// The encoded column chunks (`value()`).
    /// - Throws: the encoder's error.
    func chunks() throws -> [EncodedColumnChunk] { try value() }
}

/// A job that a `BackgroundJobRunner`'s threads can take.
protocol BackgroundJob: AnyObject, Sendable {
    /// Does the work, unless another thread has begun to.
    func run()
}

/// Threads that do jobs while the caller goes on (the parallel pipeline's workers): encoding row groups, and the
/// parts of the end of a run (sorting the hourly aggregates, finishing files).
protocol BackgroundJobRunner: AnyObject {
    /// Queues a job; a worker runs it when it can (or whoever needs its result does).
    func submit(_ job: any BackgroundJob)
    /// How many threads take jobs: the number of parts worth splitting a computation into.
    var parallelism: Int { get }
}

/// Runs `body` for each of `ranges`: with a runner, all but the first as jobs on its threads while the calling
/// thread does the first, then whichever of the others no thread has begun; without one, one after another on
/// the calling thread. Returns when every range is done.
///
/// `body` is called from several threads at once, for different ranges: it must only read shared state, and write
/// only what belongs to its range.
func forEachRange(
    _ ranges: [Range<Int>], on runner: (any BackgroundJobRunner)?, _ body: @escaping (Range<Int>) -> Void
) {
    guard let runner, ranges.count > 1 else {
        for range in ranges { body(range) }
        return
    }
    let jobs = ranges.dropFirst().map { range in SharedJob { body(range) } }
    for job in jobs { runner.submit(job) }
    body(ranges[0])
    for job in jobs { try? job.value() }  // `body` does not throw: this waits for the job, or runs it
}

/// `0..<count` cut into as many ranges of about equal size as the runner has threads, each of at least
/// `minimumSize` (one range without a runner).
func evenRanges(_ count: Int, on runner: (any BackgroundJobRunner)?, minimumSize: Int) -> [Range<Int>] {
    let parts = max(1, min(runner?.parallelism ?? 1, count / max(1, minimumSize)))
    return (0..<parts).map { part in count * part / parts..<count * (part + 1) / parts }
}

extension Array {
    /// An array of `count` elements, `element(index)` each, computed in ranges on the runner's threads
    /// (`forEachRange`).
    ///
    /// `element` is called from several threads at once: it must only read shared state.
    init(
        count: Int, on runner: (any BackgroundJobRunner)?, minimumPartSize: Int = 1 << 14,
        _ element: @escaping (Int) -> Element
    ) {
        self.init(unsafeUninitializedCapacity: count) { buffer, initialized in
            guard let base = buffer.baseAddress else { return }
            let ranges = evenRanges(count, on: runner, minimumSize: minimumPartSize)
            if ranges.count == 1 {
                // One range (no runner, or too few elements to split): a plain loop, no call through a job per range.
                for index in 0..<count { (base + index).initialize(to: element(index)) }
            } else {
                forEachRange(ranges, on: runner) { range in
                    for index in range { (base + index).initialize(to: element(index)) }
                }
            }
            initialized = count
        }
    }
}
