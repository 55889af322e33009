import KlogsCore
import Testing

@Suite("Byte interner")
struct ByteInternerTests {
    @Test("Equal bytes get equal dense ids, and ids give the bytes back")
    func denseIds() {
        var interner = ByteInterner(capacity: 4)
        let words = ["/", "/index.html", "", "GET", "/index.html", "POST", "", "/"]
        let ids = words.map { interner.intern($0) }
        #expect(ids == [0, 1, 2, 3, 1, 4, 2, 0])
        #expect(interner.count == 5)
        #expect(interner.string(of: 1) == "/index.html")
        #expect(interner.string(of: 2) == "")
        #expect(Array(interner.bytes(of: 4)) == Array("POST".utf8))
        #expect(Array("GET".utf8).withUnsafeBytes { interner.id(of: $0) } == 3)
        #expect(Array("PUT".utf8).withUnsafeBytes { interner.id(of: $0) } == nil)
    }

    @Test(
        "Entries taken over from another interner get the ids their bytes get, with the same seed or another",
        arguments: [ByteInterner.runSeed, ByteInterner.runSeed ^ 1])
    func entriesOfAnotherInterner(seed: UInt64) {
        var chunk = ByteInterner(capacity: 4, seed: seed)
        let values = (0..<300).map { "/page/\($0 % 120)" } + ["", "/", "/page/7"]
        let chunkIds = values.map { chunk.intern($0) }
        var partition = ByteInterner(capacity: 4)
        var oracle = ByteInterner(capacity: 4)
        _ = [partition.intern("/page/7"), oracle.intern("/page/7")]
        for (value, chunkId) in zip(values, chunkIds) {
            let id = partition.intern(entry: chunkId, of: chunk)
            #expect(id == oracle.intern(value))
            #expect(partition.string(of: id) == value)
        }
        #expect(partition.count == oracle.count)
        // Every entry is found again by its bytes: the reused hashes are the ones the bytes hash to.
        for value in values { #expect(Array(value.utf8).withUnsafeBytes { partition.id(of: $0) } != nil) }
    }

    @Test("Many entries survive growth, including raw non-UTF-8 bytes and prefixes of each other")
    func growth() {
        var interner = ByteInterner(capacity: 1)
        var expected: [[UInt8]] = []
        for index in 0..<20_000 {
            var bytes = Array("/path/\(index)".utf8)
            if index % 3 == 0 { bytes.append(0xFF) }
            if index % 7 == 0 { bytes = Array(bytes.prefix(index % 9)) }
            let id = bytes.withUnsafeBytes { interner.intern($0) }
            if Int(id) == expected.count { expected.append(bytes) }
            #expect(expected[Int(id)] == bytes)
        }
        #expect(interner.count == expected.count)
        for (id, bytes) in expected.enumerated() {
            #expect(Array(interner.bytes(of: Int32(id))) == bytes)
            #expect(bytes.withUnsafeBytes { interner.id(of: $0) } == Int32(id))
        }
        let raw = Array("/path/3".utf8) + [0xFF]
        let rawID = raw.withUnsafeBytes { interner.id(of: $0) }
        #expect(rawID.map { interner.string(of: $0) } == "/path/3\u{FFFD}")
    }

    @Test("removeAll restarts the ids, with or without keeping capacity")
    func removeAll() {
        for keep in [true, false] {
            var interner = ByteInterner()
            _ = interner.intern("a")
            _ = interner.intern("b")
            interner.removeAll(keepingCapacity: keep)
            #expect(interner.count == 0)
            #expect(interner.intern("b") == 0)
            #expect(interner.intern("a") == 1)
            #expect(interner.string(of: 0) == "b")
        }
    }

    @Test("A value repeated on consecutive calls, or looked up, keeps its id, also after removeAll")
    func repeats() {
        var interner = ByteInterner()
        let words = ["GET", "GET", "POST", "GET", "GE", "GET", "", "", "GETS", "GET"]
        #expect(words.map { interner.intern($0) } == [0, 0, 1, 0, 2, 0, 3, 3, 4, 0])
        #expect(Array("POST".utf8).withUnsafeBytes { interner.lookUp($0) } == 1)
        #expect(interner.intern("POST") == 1)
        #expect(Array("PUT".utf8).withUnsafeBytes { interner.lookUp($0) } == nil)
        #expect(interner.intern("GET") == 0)
        interner.removeAll(keepingCapacity: true)
        #expect(Array("GET".utf8).withUnsafeBytes { interner.lookUp($0) } == nil)
        #expect(interner.intern("POST") == 0)
        #expect(interner.intern("GET") == 1)
        #expect(interner.count == 2)
    }

    @Test("Interning with an admission check adds only admitted new values, and finds known ones unchecked")
    func admission() {
        var interner = ByteInterner(capacity: 2)
        var checked: [String] = []
        /// "id new", "id known" or "refused".
        func intern(_ text: String) -> String {
            let result = Array(text.utf8).withUnsafeBytes { bytes in
                interner.intern(bytes) { candidate in
                    let value = String(decoding: candidate, as: UTF8.self)
                    checked.append(value)
                    return !value.contains("x")
                }
            }
            return result.map { "\($0.id) \($0.isNew ? "new" : "known")" } ?? "refused"
        }
        #expect(["/a", "/x", "/b", "/a", "/b"].map(intern) == ["0 new", "refused", "1 new", "0 known", "1 known"])
        #expect(interner.intern("/x") == 2)
        #expect(intern("/x") == "2 known")
        #expect(checked == ["/a", "/x", "/b"])
        // Through growth, with the last-id shortcut and without.
        for index in 0..<1_000 { #expect(intern("/p\(index)") == "\(3 + index) new") }
        for index in stride(from: 999, through: 0, by: -7) { #expect(intern("/p\(index)") == "\(3 + index) known") }
        #expect(interner.count == 1_003)
    }
}
