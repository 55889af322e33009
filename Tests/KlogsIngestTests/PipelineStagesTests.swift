import Foundation
import KlogsParquet
import Testing

@testable import KlogsIngest

/// The parts of the parallel pipeline that take work off its serial stage: a chunk's own hourly aggregates and the
/// row-group encoding jobs.
@Suite struct PipelineStagesTests {
    @Test func chunkHitsSumsEveryKeyInOrderOfFirstUse() {
        var hits = ChunkHits(minimumCapacity: 4)  // grows several times
        var expected: [HitKey: HitTotals] = [:]
        var order: [HitKey] = []
        for row in 0..<5_000 {
            let key = HitKey(
                hour: Int32(row % 7), vhost: row % 3 == 0 ? -1 : Int32(row % 5), path: Int32(row % 1_000),
                status: row % 11 == 0 ? 404 : 200, userAgentClass: Int32(row % 4), kind: UInt8(row % 2))
            hits.add(key, bytes: Int64(row))
            if expected[key] == nil { order.append(key) }
            expected[key, default: HitTotals()].add(bytes: Int64(row))
        }
        #expect(hits.keys == order)
        #expect(hits.count == expected.count)
        for (index, key) in hits.keys.enumerated() {
            #expect(hits.totals[index].hits == expected[key]?.hits)
            #expect(hits.totals[index].bytes == expected[key]?.bytes)
        }
        hits.removeAll()
        #expect(hits.count == 0)
        hits.add(order[0], bytes: 5)
        #expect(hits.count == 1 && hits.totals[0].hits == 1 && hits.totals[0].bytes == 5)
    }

    @Test func aHitTableAddsMergedTotalsAsSingleRequests() {
        let merged = HitTable(minimumCapacity: 4)
        let single = HitTable(minimumCapacity: 4)
        for row in 0..<300 {
            let key = HitKey(hour: 1, vhost: -1, path: Int32(row % 40), status: 200, userAgentClass: 0, kind: 0)
            single.add(key, bytes: Int64(row))
            merged.add(key, totals: HitTotals(hits: 1, bytes: Int64(row)))
        }
        let key = HitKey(hour: 2, vhost: 3, path: 4, status: 500, userAgentClass: 1, kind: 1)
        merged.add(key, totals: HitTotals(hits: 3, bytes: 30))
        merged.add(key, totals: HitTotals(hits: 2, bytes: 5))
        for _ in 0..<5 { single.add(key, bytes: 7) }
        #expect(merged.totals(of: key)?.hits == 5 && merged.totals(of: key)?.bytes == 35)
        let mergedRows = merged.drainSorted().rows
        let singleRows = single.drainSorted().rows
        #expect(mergedRows.map(\.key) == singleRows.map(\.key))
        #expect(mergedRows.map(\.totals.hits) == singleRows.map(\.totals.hits))
        #expect(mergedRows.map(\.totals.bytes) == singleRows.map(\.totals.bytes))
    }

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
