/// One column of a ``ChunkBatch``'s rows: a growable buffer of plain values that a worker appends to once per line.
///
/// An `Array` stored in a class checks, at every append, that its buffer is not shared (a call into the Swift
/// runtime), because the compiler cannot prove it: some dozen columns a line made those calls 1.5–2% of an ingest's
/// CPU. This buffer is never shared: it is noncopyable, owned by its batch, and freed with it. Readers (the
/// sequencer, once the worker has handed the batch over) get pointers into it, valid until the batch's next
/// mutation.
struct RowColumn<Element: BitwiseCopyable>: ~Copyable {
    private var base: UnsafeMutablePointer<Element>
    private var capacity: Int
    /// The number of rows.
    private(set) var count = 0

    init() {
        capacity = Self.initialCapacity
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    /// Room for this many rows at first; doubled as needed and kept across chunks.
    private static var initialCapacity: Int { 1024 }

    var isEmpty: Bool { count == 0 }

    /// Appends one row's value.
    @inline(__always)
    mutating func append(_ value: Element) {
        if count == capacity { grow() }
        (base + count).initialize(to: value)
        count += 1
    }

    @inline(never)
    private mutating func grow() {
        let larger = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
        larger.moveInitialize(from: base, count: count)
        base.deallocate()
        base = larger
        capacity *= 2
    }

    /// Forgets the rows, keeping the capacity.
    mutating func removeAll() {
        count = 0
    }

    /// The value of row `index`.
    subscript(index: Int) -> Element {
        get {
            precondition(index >= 0 && index < count, "row out of range")
            return base[index]
        }
        set {
            precondition(index >= 0 && index < count, "row out of range")
            base[index] = newValue
        }
    }

    /// The values of `rows`, indexed from 0.
    subscript(rows: Range<Int>) -> UnsafeBufferPointer<Element> {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= count, "rows out of range")
        return UnsafeBufferPointer(start: base + rows.lowerBound, count: rows.count)
    }

    /// Every row's value, indexed from 0.
    var all: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base, count: count) }
}
