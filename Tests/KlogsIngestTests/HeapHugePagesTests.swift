import Foundation
import Testing

@testable import KlogsIngest

/// The huge-page advice covers each whole huge page of the heap's new room once, never the room in use at the first
/// call, and starts again after the heap shrank. Its effect on speed is measured with the `klogs` command (see
/// `HeapHugePages`).
@Suite struct HeapHugePagesTests {
    static let page = HeapHugePages.hugePage

    @Test func roomIsAdvisedOnceAboveTheFirstBreak() {
        var advised = 0
        let base = 1_000 * Self.page
        // The first call marks the start: the page the break is in, and what lies below, are in use.
        #expect(HeapHugePages.room(toAdvise: &advised, heapBreak: base + 12_345) == nil)
        #expect(advised == base + Self.page)
        // Less than a whole page past that: nothing yet.
        #expect(HeapHugePages.room(toAdvise: &advised, heapBreak: base + Self.page + 100) == nil)
        // Growth by ten pages and a bit: the whole pages below the new break, once.
        let grown = base + 11 * Self.page + 7
        #expect(
            HeapHugePages.room(toAdvise: &advised, heapBreak: grown) == (base + Self.page)..<(base + 11 * Self.page))
        #expect(HeapHugePages.room(toAdvise: &advised, heapBreak: grown) == nil)
        // Growth again: only the new pages.
        #expect(
            HeapHugePages.room(toAdvise: &advised, heapBreak: base + 14 * Self.page)
                == (base + 11 * Self.page)..<(base + 14 * Self.page))
    }

    @Test func aShrunkHeapIsAdvisedFromItsNewBreak() {
        var advised = 0
        let base = 500 * Self.page
        _ = HeapHugePages.room(toAdvise: &advised, heapBreak: base)
        _ = HeapHugePages.room(toAdvise: &advised, heapBreak: base + 20 * Self.page)
        // The heap gave room back: the advice restarts above the new break, whose growth is a new mapping.
        #expect(HeapHugePages.room(toAdvise: &advised, heapBreak: base + 5 * Self.page + 3) == nil)
        #expect(advised == base + 6 * Self.page)
        #expect(
            HeapHugePages.room(toAdvise: &advised, heapBreak: base + 9 * Self.page)
                == (base + 6 * Self.page)..<(base + 9 * Self.page))
    }

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
            #expect(sum == (0..<4).map { task in 190 + 20 * task }.reduce(0, +))
        }
    }
}
