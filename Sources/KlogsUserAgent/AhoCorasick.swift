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
        // The trie: -1 marks a missing edge until the breadth-first pass fills it in.
        var edges = [Int32](repeating: -1, count: classCount)
        var outputs: [[Int32]] = [[]]
        for (number, atom) in atoms.enumerated() {
            var state = 0
            for byte in atom {
                let slot = state * classCount + Int(byteClass[Int(byte)])
                if edges[slot] < 0 {
                    if outputs.count == Self.maximumStates { return nil }
                    edges[slot] = Int32(outputs.count)
                    outputs.append([])
                    edges.append(contentsOf: repeatElement(-1, count: classCount))
                }
                state = Int(edges[slot])
            }
            outputs[state].append(Int32(number))
        }
        // Breadth-first: failure links, inherited outputs and the missing transitions. A state's failure state is
        // shallower, so its row is complete by the time it is used.
        var failure = [Int](repeating: 0, count: outputs.count)
        var queue: [Int] = []
        for inputClass in 0..<classCount {
            let child = edges[inputClass]
            if child < 0 {
                edges[inputClass] = 0
            } else {
                queue.append(Int(child))
            }
        }
        var head = 0
        // Unchecked buffers: this runs states × classes times at start-up (about a million steps for uap-core).
        edges.withUnsafeMutableBufferPointer { edges in
            while head < queue.count {
                let state = queue[head]
                head += 1
                let row = state &* classCount
                let fallbackRow = failure[state] &* classCount
                for inputClass in 0..<classCount {
                    let fallback = edges[fallbackRow &+ inputClass]
                    let child = edges[row &+ inputClass]
                    if child < 0 {
                        edges[row &+ inputClass] = fallback
                    } else {
                        failure[Int(child)] = Int(fallback)
                        if !outputs[Int(fallback)].isEmpty { outputs[Int(child)] += outputs[Int(fallback)] }
                        queue.append(Int(child))
                    }
                }
            }
        }
        // Renumber: states without output first, in breadth-first order, then states with output.
        var newNumber = [Int](repeating: 0, count: outputs.count)
        var next = 0
        for state in outputs.indices where outputs[state].isEmpty {
            newNumber[state] = next
            next += 1
        }
        let firstOutputState = next
        var outputStart: [Int32] = [0]
        var outputAtoms: [Int32] = []
        for state in outputs.indices where !outputs[state].isEmpty {
            newNumber[state] = next
            next += 1
            outputAtoms += outputs[state]
            outputStart.append(Int32(outputAtoms.count))
        }
        var rowShift = 0
        while 1 << rowShift < classCount { rowShift += 1 }
        var transitions = [UInt16](repeating: 0, count: outputs.count << rowShift)
        transitions.withUnsafeMutableBufferPointer { transitions in
            edges.withUnsafeBufferPointer { edges in
                newNumber.withUnsafeBufferPointer { newNumber in
                    for state in 0..<newNumber.count {
                        let from = state &* classCount
                        let to = newNumber[state] &<< rowShift
                        for inputClass in 0..<classCount {
                            transitions[to &+ inputClass] = UInt16(newNumber[Int(edges[from &+ inputClass])])
                        }
                    }
                }
            }
        }
        self.byteClass = byteClass
        self.classCount = classCount
        self.rowShift = rowShift
        self.transitions = transitions
        self.firstOutputState = firstOutputState
        self.rootState = newNumber[0]
        self.outputStart = outputStart
        self.outputAtoms = outputAtoms
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
