import KlogsCore
import Testing

@Suite("Line splitter")
struct LineSplitterTests {
    /// Splits `input` through chunks of `chunkSize` and returns each line as text, or `<overlong>`.
    func split(_ input: [UInt8], chunkSize: Int?, limit: Int = 64 * 1024) -> [String] {
        var splitter = LineSplitter(maximumLineLength: limit)
        var lines: [String] = []
        func handle(_ number: Int, _ line: SplitLine) {
            #expect(number == lines.count + 1)
            switch line {
            case .complete(let bytes): lines.append(text(bytes))
            case .overlong: lines.append("<overlong>")
            }
        }
        KlogsCoreTests.split(input, chunkSize: chunkSize, with: &splitter, handle)
        return lines
    }

    @Test("Lines come out without newline and carriage return, whatever the chunk size", arguments: chunkSizes)
    func linesAndCarriageReturns(chunkSize: Int?) {
        let input = Array("a\nbb\r\n\nccc\r\r\n\r\nlast".utf8)
        #expect(split(input, chunkSize: chunkSize) == ["a", "bb", "", "ccc\r", "", "last"])
    }

    @Test("A final newline does not make an extra empty line", arguments: chunkSizes)
    func finalNewline(chunkSize: Int?) {
        #expect(split(Array("one\ntwo\n".utf8), chunkSize: chunkSize) == ["one", "two"])
        #expect(split([], chunkSize: chunkSize) == [])
        #expect(split(Array("\n".utf8), chunkSize: chunkSize) == [""])
    }

    @Test("Overlong lines are reported once and dropped up to the next newline", arguments: chunkSizes)
    func overlongLines(chunkSize: Int?) {
        let long = String(repeating: "x", count: 25)
        let exact = String(repeating: "y", count: 10)
        let input = Array("ok\n\(long)\n\(exact)\n\(long)\nafter\n\(long)".utf8)
        #expect(
            split(input, chunkSize: chunkSize, limit: 10)
                == ["ok", "<overlong>", exact, "<overlong>", "after", "<overlong>"])
    }

    @Test("The splitter can be reused after finish")
    func reuseAfterFinish() {
        var splitter = LineSplitter()
        var lines: [String] = []
        Array("a\nb".utf8).withUnsafeBytes { splitter.feed($0) { _, line in if case .complete(let b) = line { lines.append(text(b)) } } }
        splitter.finish { _, line in if case .complete(let b) = line { lines.append(text(b)) } }
        Array("c\n".utf8).withUnsafeBytes { splitter.feed($0) { number, line in
            #expect(number == 3)
            if case .complete(let b) = line { lines.append(text(b)) }
        } }
        #expect(lines == ["a", "b", "c"])
    }
}
