/// A multi-pattern matcher over ASCII-lowercased bytes: a complete Aho-Corasick automaton (every state has a
/// transition for every input class, so a scan is one table lookup per byte, no failure-link chasing).
///
/// Input bytes are mapped to classes first (bytes that occur in no atom share class 0; `A`–`Z` map like `a`–`z`), which
/// keeps the table small: states × classes 32-bit entries.
struct AhoCorasick: Sendable {
    /// Byte → input class.
    private let byteClass: [UInt8]
    private let classCount: Int
    /// The transition table, `state * classCount + class`.
    private let transitions: [Int32]
    /// For each state, the atoms recognised on entering it: `outputAtoms[outputStart[s]..<outputStart[s + 1]]`.
    private let outputStart: [Int32]
    private let outputAtoms: [Int32]

    /// The number of states.
    var stateCount: Int { outputStart.count - 1 }

    /// Builds the automaton.
    ///
    /// - Parameter atoms: the strings to find, already lowercased; an atom's number is its index here.
    init(atoms: [String]) {
        var byteClass = [UInt8](repeating: 0, count: 256)
        var classCount = 1
        for atom in atoms {
            for byte in atom.utf8 where byteClass[Int(byte)] == 0 {
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
            for byte in atom.utf8 {
                let slot = state * classCount + Int(byteClass[Int(byte)])
                if edges[slot] < 0 {
                    edges[slot] = Int32(outputs.count)
                    outputs.append([])
                    edges += [Int32](repeating: -1, count: classCount)
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
        while head < queue.count {
            let state = queue[head]
            head += 1
            for inputClass in 0..<classCount {
                let slot = state * classCount + inputClass
                let fallback = edges[failure[state] * classCount + inputClass]
                let child = edges[slot]
                if child < 0 {
                    edges[slot] = fallback
                } else {
                    failure[Int(child)] = Int(fallback)
                    outputs[Int(child)] += outputs[Int(fallback)]
                    queue.append(Int(child))
                }
            }
        }
        var outputStart: [Int32] = [0]
        var outputAtoms: [Int32] = []
        for list in outputs {
            outputAtoms += list
            outputStart.append(Int32(outputAtoms.count))
        }
        self.byteClass = byteClass
        self.classCount = classCount
        self.transitions = edges
        self.outputStart = outputStart
        self.outputAtoms = outputAtoms
    }

    /// Calls `body(atom, end)` for every occurrence of every atom in `bytes` (compared ASCII-case-insensitively),
    /// in order of the occurrence's end offset (exclusive).
    ///
    /// - Complexity: O(n + occurrences).
    @inline(__always)
    func forEachMatch(in bytes: UnsafeBufferPointer<UInt8>, _ body: (_ atom: Int, _ end: Int) -> Void) {
        let classCount = self.classCount
        byteClass.withUnsafeBufferPointer { byteClass in
            transitions.withUnsafeBufferPointer { transitions in
                outputStart.withUnsafeBufferPointer { outputStart in
                    outputAtoms.withUnsafeBufferPointer { outputAtoms in
                        var state = 0
                        for offset in 0..<bytes.count {
                            let inputClass = Int(byteClass[Int(bytes[offset])])
                            state = Int(transitions[state &* classCount &+ inputClass])
                            let first = Int(outputStart[state])
                            let end = Int(outputStart[state &+ 1])
                            if first == end { continue }
                            for output in first..<end { body(Int(outputAtoms[output]), offset &+ 1) }
                        }
                    }
                }
            }
        }
    }
}
