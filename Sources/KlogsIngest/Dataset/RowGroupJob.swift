internal import Foundation
import KlogsParquet

/// The encoding of one row group (building its columns, encoding and compressing its column chunks), done by
/// whichever thread comes first: a worker of the parallel pipeline that takes it from the queue, or the thread
/// that needs the chunks (`chunks()`), which then encodes it itself. A job is never lost or run twice, whether
/// or not a worker is there to take it.
///
/// `@unchecked Sendable`: the state is guarded by the job's lock; `encode` runs on exactly one thread.
final class RowGroupJob: @unchecked Sendable {
    private let encode: () throws -> [EncodedColumnChunk]
    private let condition = NSCondition()
    private enum State {
        case waiting, running
        case done(Result<[EncodedColumnChunk], any Error>)
    }
    private var state = State.waiting  // guarded by `condition`

    /// A job that builds the columns in `range` of a row group of `schema` and encodes them with `options` (all of
    /// them, without a range).
    init(
        schema: ParquetSchema, options: ParquetWriterOptions, range: Range<Int>? = nil,
        columns: @escaping () -> [ColumnValues]
    ) {
        encode = {
            var encoder = ColumnChunkEncoder(options: options)
            return try zip(columns(), schema.columns[range ?? schema.columns.indices]).map { values, column in
                try encoder.encode(values, column: column)
            }
        }
    }

    /// Encodes the row group, unless another thread has begun to.
    func run() {
        condition.lock()
        guard case .waiting = state else {
            condition.unlock()
            return
        }
        state = .running
        condition.unlock()
        let result = Result { try encode() }
        condition.lock()
        state = .done(result)
        condition.broadcast()
        condition.unlock()
    }

    /// Whether the chunks are ready.
    var isDone: Bool {
        condition.lock()
        defer { condition.unlock() }
        if case .done = state { return true }
        return false
    }

    /// The encoded column chunks: encoded here when no thread has begun, else waited for.
    /// - Throws: the encoder's error.
    func chunks() throws -> [EncodedColumnChunk] {
        run()
        condition.lock()
        defer { condition.unlock() }
        while true {
            if case .done(let result) = state { return try result.get() }
            condition.wait()
        }
    }
}

/// Threads that encode row groups while the caller goes on (the parallel pipeline's workers).
protocol RowGroupJobRunner: AnyObject {
    /// Queues a job; a worker runs it when it can (or the job's `chunks()` does).
    func submit(_ job: RowGroupJob)
}
