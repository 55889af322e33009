import Testing

@testable import KlogsUserAgent

/// The numbered literals of the prefilter's analysis: a table must give one number per distinct byte string, however
/// the string was made, and sets of numbers must behave as sets.
@Suite("Atom tables and sets")
struct AtomTableTests {
    @Test("Equal bytes get one number, however they were made; the empty string is atom 0")
    func internedOnce() {
        let table = AtomTable()
        #expect(table.intern([]) == AtomTable.empty)
        let mozilla = table.intern(Array("mozilla".utf8))
        let moz = table.intern(Array("moz".utf8))
        let illa = table.intern(Array("illa".utf8))
        #expect(table.concatenation(moz, illa) == mozilla)
        #expect(table.appending(Array("illa".utf8), to: moz) == mozilla)
        #expect(table.prefix(mozilla, length: 3) == moz)
        #expect(table.suffix(mozilla, length: 4) == illa)
        #expect(table.prefix(moz, length: 8) == moz)
        #expect(table.string(mozilla) == "mozilla")
        #expect(table.length(mozilla) == 7)
        #expect(table.count == 4)
    }

    @Test("Thousands of atoms keep their numbers while the table grows")
    func growth() {
        let table = AtomTable()
        let atoms = (0..<5_000).map { table.intern(Array("atom\($0)".utf8)) }
        #expect(Set(atoms).count == 5_000)
        for (number, atom) in atoms.enumerated() {
            #expect(table.intern(Array("atom\(number)".utf8)) == atom)
            #expect(table.string(atom) == "atom\(number)")
        }
    }

    @Test("Containment, lengths and adoption into another table")
    func containment() {
        let table = AtomTable()
        let (airis, airisUnderscore, iri) = (
            table.intern(Array("airis".utf8)), table.intern(Array("airis_".utf8)), table.intern(Array("iri".utf8))
        )
        #expect(table.contains(airisUnderscore, airis))
        #expect(table.contains(airis, iri))
        #expect(!table.contains(airis, airisUnderscore))
        #expect(table.contains(airis, AtomTable.empty))
        let set = AtomSet(unsorted: [airisUnderscore, iri, airis])
        #expect(table.longest(set) == 6)
        #expect(table.shortest(set) == 3)
        #expect(table.shortest(AtomSet()) == nil)
        let other = AtomTable()
        #expect(other.string(other.adopt(airisUnderscore, from: table)) == "airis_")
    }

    @Test("Sets are sorted, without duplicates, and unite like sets")
    func sets() {
        let unsorted = AtomSet(unsorted: [7, 3, 7, 1, 3])
        #expect(Array(unsorted) == [1, 3, 7])
        var set = AtomSet(5)
        set.formUnion(unsorted)
        #expect(Array(set) == [1, 3, 5, 7])
        set.formUnion(AtomSet(4))
        set.formUnion(AtomSet(4))
        #expect(Array(set) == [1, 3, 4, 5, 7])
        #expect(set.union(AtomSet(unsorted: [0, 9, 3])) == AtomSet(unsorted: [0, 1, 3, 4, 5, 7, 9]))
        #expect(AtomSet().union(AtomSet()).isEmpty)
    }
}
