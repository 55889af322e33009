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
        var children: [UInt16] = []
        children.reserveCapacity((min(totalLength, Self.maximumStates - 1) + 1) * classCount)
        children.append(contentsOf: repeatElement(0, count: classCount))
        var ownOutputs: [[Int32]] = [[]]
        for (number, atom) in atoms.enumerated() {
            var state = 0
            for byte in atom {
                let slot = state * classCount + Int(byteClass[Int(byte)])
                if children[slot] == 0 {
                    if ownOutputs.count == Self.maximumStates { return nil }
                    children[slot] = UInt16(ownOutputs.count)
                    ownOutputs.append([])
                    children.append(contentsOf: repeatElement(0, count: classCount))
                }
                state = Int(children[slot])
            }
            ownOutputs[state].append(Int32(number))
        }
        var rowShift = 0
        while 1 << rowShift < classCount { rowShift += 1 }
        let table = Self.transitionTable(
            children: children, ownOutputs: ownOutputs, classCount: classCount, rowShift: rowShift)
        self.transitions = table.transitions
        self.firstOutputState = table.firstOutputState
        self.rootState = table.rootState
        self.outputStart = table.outputStart
        self.outputAtoms = table.outputAtoms
        self.byteClass = byteClass
        self.classCount = classCount
        self.rowShift = rowShift
    }

    /// The complete automaton of a trie, in one breadth-first pass: a state's row is its failure state's row (which
    /// is shallower, so already complete) with its own children written over it, and a child's failure state is
    /// where its parent's failure state goes on the same input.
    ///
    /// States are numbered as they are reached: those without output from 0 up, those with output from the top
    /// down, so that the two meet at `firstOutputState` (the scan tests `state >= firstOutputState`).
    ///
    /// - Parameters:
    ///   - children: the trie's rows of `classCount` children each (0: none); state 0 is the root.
    ///   - ownOutputs: per trie state, the atoms that end there.
    private static func transitionTable(children: [UInt16], ownOutputs: [[Int32]], classCount: Int, rowShift: Int)
        -> (transitions: [UInt16], firstOutputState: Int, rootState: Int, outputStart: [Int32], outputAtoms: [Int32])
    {
        let stateCount = ownOutputs.count
        var transitions = [UInt16](repeating: 0, count: stateCount << rowShift)
        // Per final state number, the atoms recognised on entering it (its own, then its failure state's).
        var outputs = [[Int32]](repeating: [], count: stateCount)
        var nextPlain = 0
        var nextOutput = stateCount - 1
        func newState(_ recognised: [Int32]) -> Int {
            let number: Int
            if recognised.isEmpty {
                number = nextPlain
                nextPlain += 1
            } else {
                number = nextOutput
                nextOutput -= 1
            }
            outputs[number] = recognised
            return number
        }
        let root = newState(ownOutputs[0])
        // Breadth-first: (trie state, final number, final number of its failure state; the root fails to itself).
        var queue: [(state: Int, number: Int, failure: Int)] = [(0, root, root)]
        queue.reserveCapacity(stateCount)
        var head = 0
        transitions.withUnsafeMutableBufferPointer { transitions in
            children.withUnsafeBufferPointer { children in
                // Safe because every row index is a final state number below stateCount, and a row has
                // 1 << rowShift >= classCount entries.
                let base = transitions.baseAddress!
                while head < queue.count {
                    let (state, number, failure) = queue[head]
                    head += 1
                    let row = base + number &<< rowShift
                    if state == 0 {
                        row.update(repeating: UInt16(root), count: classCount)
                    } else {
                        row.update(from: base + failure &<< rowShift, count: classCount)
                    }
                    let trieRow = state &* classCount
                    for inputClass in 0..<classCount where children[trieRow &+ inputClass] != 0 {
                        let child = Int(children[trieRow &+ inputClass])
                        // The root's children fail to the root; row[inputClass] still holds the failure row's entry.
                        let childFailure = state == 0 ? root : Int(row[inputClass])
                        let recognised = ownOutputs[child] + outputs[childFailure]
                        let childNumber = newState(recognised)
                        row[inputClass] = UInt16(childNumber)
                        queue.append((child, childNumber, childFailure))
                    }
                }
            }
        }
        let firstOutputState = nextPlain
        var outputStart: [Int32] = [0]
        var outputAtoms: [Int32] = []
        for recognised in outputs[firstOutputState...] {
            outputAtoms += recognised
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
