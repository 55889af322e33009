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

@Suite("A chunk batch's row columns")
struct RowColumnTests {
    @Test("Rows appended past the first capacity, read by index and by range, set, and forgotten with the room kept")
    func appendsGrowsAndForgets() {
        // Read into locals first: #expect cannot take a noncopyable value apart.
        var column = RowColumn<Int64>()
        let wasEmpty = column.isEmpty
        for value in 0..<5_000 { column.append(Int64(value) * 3) }
        let (count, all) = (column.count, Array(column.all))
        let (range, last, none) = (Array(column[1_000..<1_003]), column[4_999..<5_000].first, column[10..<10].count)
        #expect(wasEmpty && count == 5_000)
        #expect(all == (0..<5_000).map { Int64($0) * 3 })
        #expect(range == [3_000, 3_003, 3_006] && last == 14_997 && none == 0)
        column[2] = -1
        let (changed, next) = (column[2], column[3])
        #expect(changed == -1 && next == 9)
        column.removeAll()
        let emptied = column.isEmpty && column.all.isEmpty
        column.append(7)
        let after = Array(column.all)
        #expect(emptied && after == [7])
    }
}
