import Foundation
import KlogsParquet
import Testing

@testable import KlogsIngest

/// The part of the parallel pipeline that takes work off its serial stage: the row-group encoding jobs.
@Suite struct PipelineStagesTests {
    @Test func aRowGroupJobIsEncodedOnceWhicheverThreadsAskForIt() throws {
        let schema = ParquetSchema(columns: [ParquetColumn(name: "status", type: .int32)])
        let options = ParquetWriterOptions(createdBy: "klogs tests")
        let builds = Counter()
        let values: [Int32] = (0..<10_000).map { 200 + $0 % 7 }
        let job = RowGroupJob(schema: schema, options: options) {
            builds.increment()
            return [.int32(values, validity: nil)]
        }
        // Two threads run it while a third asks for its chunks: one encoding, the same chunks for everyone.
        let threads = (0..<2).map { _ in Thread { job.run() } }
        threads.forEach { $0.start() }
        let chunks = try job.chunks()
        #expect(job.isDone)
        #expect(try job.chunks().map(\.bytes) == chunks.map(\.bytes))
        var encoder = ColumnChunkEncoder(options: options)
        let direct = try encoder.encode(.int32(values, validity: nil), column: schema.columns[0])
        #expect(chunks.map(\.bytes) == [direct.bytes])
        #expect(builds.value == 1)
    }

    @Test func aRowGroupJobNobodyRunsIsEncodedByItsReader() throws {
        let schema = ParquetSchema(columns: [ParquetColumn(name: "n", type: .int64)])
        let job = RowGroupJob(schema: schema, options: ParquetWriterOptions(createdBy: "klogs tests")) {
            [.int64([1, 2, 3], validity: nil)]
        }
        #expect(!job.isDone)
        #expect(try job.chunks().first?.numberOfValues == 3)
    }

    /// A counter several threads may increment.
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func increment() {
            lock.lock()
            count += 1
            lock.unlock()
        }
        var value: Int {
            lock.lock()
            defer { lock.unlock() }
            return count
        }
    }
}
