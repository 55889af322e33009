internal import Synchronization

#if canImport(Glibc)
    internal import Glibc
#endif

/// Marks the malloc heap's new room for transparent huge pages (`madvise(MADV_HUGEPAGE)`), as glibc's own
/// `glibc.malloc.hugetlb=1` tunable does, which a program cannot set for itself (tunables are read from the
/// environment when the process starts).
///
/// An ingest touches most pages of its peak memory once. On 1M generated lines that made some 24,000 page faults,
/// each zeroing a fresh 4 KiB page. A 2 MiB huge page takes one fault for 512 of them.
///
/// The heap grows by `brk`, and each growth is a new mapping without the advice. So ``adviseGrowth()`` is called at
/// the ingest's heartbeats (each buffer read, each chunk sequenced, after the rule load, before the hourly drain) and
/// advises the room between the last advised end and the current break. `Ingestor.shareOneHeap` makes the heap grow
/// in steps of at least ``growthPad`` (glibc's `M_TOP_PAD`), so most of the room is advised before it is touched.
///
/// Measured with `klogs ingest` on the 1M generated lines, alternating runs:
/// - minor page faults 24,000 → 4,000;
/// - two threads 475 → 442 ms, or 387 → 376 ms without classification;
/// - one thread 789 → 762 ms;
/// - peak memory a few MB higher: docs/OPERATIONS.md has the hostile inputs.
///
/// Where the system gives huge pages to no program (`/sys/kernel/mm/transparent_hugepage/enabled` is `never`), the
/// advice does nothing. Where it gives them to every program (`always`), the advice is not needed.
enum HeapHugePages {
    /// The size of a huge page on x86-64 (and most arm64 kernels): only whole, aligned huge pages are advised.
    static let hugePage = 2 << 20
    /// The least room added at the top of the heap when it grows, so that the rest of a growth is advised before
    /// it is touched.
    static let growthPad = 32 << 20

    /// The end of the advised room (0: nothing advised yet).
    private static let advisedEnd = Mutex<Int>(0)

    /// Advises the heap's room past the last advised end, when it holds a whole huge page.
    ///
    /// Cheap when there is nothing to do: `sbrk(0)` only reads glibc's record of the break.
    static func adviseGrowth() {
        #if canImport(Glibc)
            guard let brk = sbrk(0) else { return }
            advisedEnd.withLock { advised in
                guard let room = room(toAdvise: &advised, heapBreak: Int(bitPattern: brk)) else { return }
                // Safe: the range lies in the heap's mapping, below the break; the advice only sets a flag on it.
                _ = madvise(UnsafeMutableRawPointer(bitPattern: room.lowerBound), room.count, MADV_HUGEPAGE)
            }
        #endif
    }

    /// The whole huge pages between the advised end and the heap's break `heapBreak`, if any, with the advised end
    /// moved past them.
    ///
    /// The room below the first call's break is in use already, as is the huge page the break falls in: the advice
    /// starts one huge page above it. After the heap shrank (glibc gives back free room at its top), its next growth
    /// is a new mapping, advised likewise from the new break.
    static func room(toAdvise advised: inout Int, heapBreak: Int) -> Range<Int>? {
        let end = heapBreak & ~(hugePage - 1)
        if advised == 0 || end < advised { advised = end + hugePage }
        guard end > advised else { return nil }
        defer { advised = end }
        return advised..<end
    }
}
