/// A multi-pattern matcher over ASCII-lowercased bytes: a complete Aho-Corasick automaton (every state has a
/// transition for every input class, so a scan is one table lookup per byte, no failure-link chasing).
///
/// Input bytes are mapped to classes first (bytes that occur in no atom share class 0; `A`–`Z` map like `a`–`z`), which
/// keeps the table small: states × classes 16-bit entries. States are numbered so that those recognising an atom come
/// last: the scan tests `state >= firstOutputState` instead of loading anything.
struct AhoCorasick: Sendable {
    /// The largest number of states a 16-bit table can address.
    static let maximumStates = 1 << 16

    /// Byte → input class.
    private let byteClass: [UInt8]
    private let classCount: Int
    /// Rows are padded to a power of two, so a row starts at `state << rowShift` (a shift, not a multiplication, on
    /// the scan's critical path).
    private let rowShift: Int
    /// The transition table, `state << rowShift | class`.
    private let transitions: [UInt16]
    /// The start state.
    private let rootState: Int
    /// States from this number on recognise at least one atom.
    private let firstOutputState: Int
    /// For each state from `firstOutputState` on, the atoms recognised on entering it:
    /// `outputAtoms[outputStart[s - firstOutputState]..<outputStart[s - firstOutputState + 1]]`.
    private let outputStart: [Int32]
    private let outputAtoms: [Int32]

    /// The number of states.
    var stateCount: Int { firstOutputState + outputStart.count - 1 }
    /// The number of input classes (distinct atom bytes, case folded, plus one for all other bytes).
    var inputClassCount: Int { classCount }

    /// Builds the automaton for the UTF-8 bytes of `atoms` (see the initialiser for byte strings).
    init?(atoms: [String]) {
        self.init(atoms: atoms.map { ArraySlice($0.utf8) })
    }

    /// Builds the automaton.
    ///
    /// - Parameter atoms: the byte strings to find, already lowercased; an atom's number is its index here.
    /// - Returns: nil if the automaton would need more than ``maximumStates`` states.
    init?(atoms: [ArraySlice<UInt8>]) {
        var byteClass = [UInt8](repeating: 0, count: 256)
        var classCount = 1
        for atom in atoms {
            for byte in atom where byteClass[Int(byte)] == 0 {
                precondition(classCount < 256, "more than 255 distinct bytes in the atoms")
                byteClass[Int(byte)] = UInt8(classCount)
                classCount += 1
            }
        }
        for upper in UInt8(ascii: "A")...UInt8(ascii: "Z") {
            byteClass[Int(upper)] = byteClass[Int(upper | 0x20)]
        }
        // The trie, one row of children per state (0: none, as the root is no one's child), states numbered in order
        // of creation. Reserved for the most states the atoms can make, so that the rows are never copied while they
        // grow; 16-bit, as the table (a few MB for uap-core, every page of it touched) costs page faults.
        let totalLength = atoms.reduce(0) { $0 + $1.count }
        let emptyRow = [UInt16](repeating: 0, count: classCount)
        var children: [UInt16] = []
        children.reserveCapacity((min(totalLength, Self.maximumStates - 1) + 1) * classCount)
        children += emptyRow
        var stateCount = 1
        var endState: [Int32] = []
        endState.reserveCapacity(atoms.count)
        for atom in atoms {
            var state = 0
            for byte in atom {
                let slot = state * classCount + Int(byteClass[Int(byte)])
                if children[slot] == 0 {
                    if stateCount == Self.maximumStates { return nil }
                    children[slot] = UInt16(stateCount)
                    stateCount += 1
                    children += emptyRow
                }
                state = Int(children[slot])
            }
            endState.append(Int32(state))
        }
        // The atoms ending at each state, as chains in ascending order: `firstAtom[state]`, then `nextAtom[atom]`.
        var firstAtom = [Int32](repeating: -1, count: stateCount)
        var nextAtom = [Int32](repeating: -1, count: atoms.count)
        for atom in atoms.indices.reversed() {
            nextAtom[atom] = firstAtom[Int(endState[atom])]
            firstAtom[Int(endState[atom])] = Int32(atom)
        }
        var rowShift = 0
        while 1 << rowShift < classCount { rowShift += 1 }
        let table = Self.transitionTable(
            Trie(children: children, firstAtom: firstAtom, nextAtom: nextAtom), classCount: classCount,
            rowShift: rowShift)
        self.transitions = table.transitions
        self.firstOutputState = table.firstOutputState
        self.rootState = table.rootState
        self.outputStart = table.outputStart
        self.outputAtoms = table.outputAtoms
        self.byteClass = byteClass
        self.classCount = classCount
        self.rowShift = rowShift
    }

    /// The trie of the atoms: rows of `classCount` children per state (0: none; state 0 is the root), and the atoms
    /// that end at each state (`firstAtom[state]`, then `nextAtom[atom]` until -1).
    private struct Trie {
        var children: [UInt16]
        var firstAtom: [Int32]
        var nextAtom: [Int32]
    }

    /// The complete automaton of a trie, in one breadth-first pass: a state's row is its failure state's row (which
    /// is shallower, so already complete) with its own children written over it, and a child's failure state is
    /// where its parent's failure state goes on the same input.
    ///
    /// States are numbered as they are reached: those without output from 0 up, those with output from the top
    /// down, so that the two meet at `firstOutputState` (the scan tests `state >= firstOutputState`). A state
    /// recognises its own atoms, then those of its output link (its failure state, if that recognises any), and so on.
    private static func transitionTable(_ trie: Trie, classCount: Int, rowShift: Int)
        -> (transitions: [UInt16], firstOutputState: Int, rootState: Int, outputStart: [Int32], outputAtoms: [Int32])
    {
        let stateCount = trie.firstAtom.count
        let rowLength = 1 << rowShift
        // Per final state number: the first of its own atoms, and its output link (-1: none).
        var ownAtom = [Int32](repeating: -1, count: stateCount)
        var outputLink = [Int32](repeating: -1, count: stateCount)
        var nextPlain = 0
        var nextOutput = stateCount - 1
        func newState(_ trieState: Int, failure: Int?) -> Int {
            let link = failure.map { ownAtom[$0] >= 0 || outputLink[$0] >= 0 ? Int32($0) : -1 } ?? -1
            let number: Int
            if trie.firstAtom[trieState] < 0 && link < 0 {
                number = nextPlain
                nextPlain += 1
            } else {
                number = nextOutput
                nextOutput -= 1
            }
            ownAtom[number] = trie.firstAtom[trieState]
            outputLink[number] = link
            return number
        }
        let root = newState(0, failure: nil)
        // Breadth-first: (trie state, final number, final number of its failure state; the root fails to itself).
        var queue: [(state: Int, number: Int, failure: Int)] = [(0, root, root)]
        queue.reserveCapacity(stateCount)
        var head = 0
        let transitions = [UInt16](unsafeUninitializedCapacity: stateCount << rowShift) { transitions, count in
            trie.children.withUnsafeBufferPointer { children in
                // Safe because every row index is a final state number below stateCount, every state is reached
                // once (a trie is a tree), and each of its rows is written whole here, padding included.
                let base = transitions.baseAddress!
                while head < queue.count {
                    let (state, number, failure) = queue[head]
                    head += 1
                    let row = base + number &<< rowShift
                    if state == 0 {
                        row.initialize(repeating: UInt16(root), count: classCount)
                    } else {
                        row.initialize(from: base + failure &<< rowShift, count: classCount)
                    }
                    (row + classCount).initialize(repeating: 0, count: rowLength - classCount)
                    let trieRow = state &* classCount
                    for inputClass in 0..<classCount where children[trieRow &+ inputClass] != 0 {
                        let child = Int(children[trieRow &+ inputClass])
                        // The root's children fail to the root; row[inputClass] still holds the failure row's entry.
                        let childFailure = state == 0 ? root : Int(row[inputClass])
                        let childNumber = newState(child, failure: childFailure)
                        row[inputClass] = UInt16(childNumber)
                        queue.append((child, childNumber, childFailure))
                    }
                }
            }
            count = stateCount << rowShift
        }
        let firstOutputState = nextPlain
        var outputStart: [Int32] = [0]
        var outputAtoms: [Int32] = []
        for number in firstOutputState..<stateCount {
            var linked = number
            while linked >= 0 {
                var atom = ownAtom[linked]
                while atom >= 0 {
                    outputAtoms.append(atom)
                    atom = trie.nextAtom[Int(atom)]
                }
                linked = Int(outputLink[linked])
            }
            outputStart.append(Int32(outputAtoms.count))
        }
        return (transitions, firstOutputState, root, outputStart, outputAtoms)
    }

    /// Calls `body(atom, end)` for every occurrence of every atom in `bytes` (compared ASCII-case-insensitively),
    /// in order of the occurrence's end offset (exclusive).
    ///
    /// - Complexity: O(n + occurrences).
    @inline(__always)
    func forEachMatch(in bytes: UnsafeBufferPointer<UInt8>, _ body: (_ atom: Int, _ end: Int) -> Void) {
        let rowShift = self.rowShift
        byteClass.withUnsafeBufferPointer { byteClass in
            transitions.withUnsafeBufferPointer { transitions in
                outputStart.withUnsafeBufferPointer { outputStart in
                    outputAtoms.withUnsafeBufferPointer { outputAtoms in
                        // The root is state 0 unless the empty string is an atom; it is renumbered like any other.
                        var state = rootState
                        let firstOutputState = self.firstOutputState
                        for offset in 0..<bytes.count {
                            let inputClass = Int(byteClass[Int(bytes[offset])])
                            state = Int(transitions[state &<< rowShift | inputClass])
                            if state < firstOutputState { continue }
                            let row = state &- firstOutputState
                            for output in Int(outputStart[row])..<Int(outputStart[row &+ 1]) {
                                body(Int(outputAtoms[output]), offset &+ 1)
                            }
                        }
                    }
                }
            }
        }
    }
}

extension AhoCorasick {
    /// Writes the automaton for ``UserAgentRuleCache``.
    func archive(into archive: inout ArchiveWriter) {
        archive.write(byteClass)
        archive.write(classCount)
        archive.write(rowShift)
        archive.write(transitions)
        archive.write(rootState)
        archive.write(firstOutputState)
        archive.write(outputStart)
        archive.write(outputAtoms)
    }

    /// Reads an automaton that ``archive(into:)`` wrote, checking that its tables have the shapes the scan relies on
    /// (the entries themselves are vouched for by the cache file's checksum).
    init(archive: inout ArchiveReader) throws(ArchiveReader.Malformed) {
        byteClass = try archive.readArray()
        classCount = try archive.readCount(atMost: 256)
        rowShift = try archive.readCount(atMost: 8)
        transitions = try archive.readArray()
        rootState = try archive.readCount()
        firstOutputState = try archive.readCount()
        outputStart = try archive.readArray()
        outputAtoms = try archive.readArray()
        let stateCount = transitions.count >> rowShift
        guard byteClass.count == 256, classCount <= 1 << rowShift, stateCount <= Self.maximumStates,
            transitions.count == stateCount << rowShift, rootState < stateCount,
            outputStart.count == stateCount - firstOutputState + 1, outputStart.first == 0,
            outputStart.last == Int32(outputAtoms.count), outputAtoms.allSatisfy({ $0 >= 0 })
        else { throw ArchiveReader.Malformed() }
    }

    /// One more than the largest atom number the scan reports (0 without atoms).
    var atomNumberLimit: Int {
        Int(outputAtoms.max() ?? -1) + 1
    }
}
