import Foundation
import Testing

@testable import KlogsIngest

/// The huge-page advice is a hint to the kernel: calling it must be safe at any time, from any thread, whatever the
/// heap did in between. Its effect on speed is measured with the `klogs` command (see `HeapHugePages`).
@Suite struct HeapHugePagesTests {
    @Test func adviceIsSafeFromSeveralThreadsWhileTheHeapGrowsAndShrinks() async {
        Ingestor.shareOneHeap
        await withTaskGroup(of: Int.self) { group in
            for task in 0..<4 {
                group.addTask {
                    var total = 0
                    for round in 0..<20 {
                        // Blocks under the mmap threshold come from the heap, which grows, then shrinks when freed.
                        let block = [UInt8](repeating: UInt8(truncatingIfNeeded: round + task), count: 4 << 20)
                        HeapHugePages.adviseGrowth()
                        total += Int(block[block.count / 2])
                    }
                    return total
                }
            }
            var sum = 0
            for await total in group { sum += total }
            // Each task read back its own blocks' bytes: rounds 0..<20 plus its number, twenty times.
            let expected = (0..<4).map { task in 190 + 20 * task }.reduce(0, +)
            #expect(sum == expected)
        }
        HeapHugePages.adviseGrowth()
    }
}
