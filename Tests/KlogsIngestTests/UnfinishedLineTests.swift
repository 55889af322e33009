import Foundation
import Testing

@testable import KlogsIngest

/// A plain file's last line without a newline: read when the file is finished writing (not modified for
/// `InputReader.settleSeconds`), left for a later run while it may still be being written, and never read twice.
/// Every case runs single-threaded and through the parallel pipeline.
@Suite("A last line without a newline")
struct UnfinishedLineTests {
    typealias Lines = HostileInputIngestTests

    /// Sets the file's modification time `seconds` in the past.
    static func age(_ path: String, seconds: Int) throws {
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSinceNow: -Double(seconds))], ofItemAtPath: path)
    }

    /// Appends bytes to a file (which makes it modified now).
    static func append(_ bytes: [UInt8], to path: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(bytes))
        try handle.close()
    }

    static func ingest(_ path: String, _ directory: TemporaryDirectory, threads: Int) throws -> IngestSummary {
        try Lines.ingest([path], into: directory) {
            $0.threads = threads
            $0.pipelineChunkBytes = 4_096
        }
    }

    @Test("A one-line file without a newline is read once it has not changed for the settle time", arguments: [1, 2])
    func oneLineFile(threads: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.file("one.log", Array(Lines.line(path: Array("/only".utf8)).dropLast()))
        // Just written: it may still be being written.
        let fresh = try Self.ingest(path, directory, threads: threads)
        #expect(fresh.linesIngested == 0)
        #expect(fresh.notes.contains { $0.contains("have no newline yet") && $0.contains("5 minutes") })
        // Settled: the line is complete.
        try Self.age(path, seconds: InputReader.settleSeconds + 5)
        let settled = try Self.ingest(path, directory, threads: threads)
        #expect(settled.linesIngested == 1)
        #expect(try Lines.storedPaths(under: directory.path + "/data").contains("/only"))
        // Resume: nothing is read twice.
        let again = try Self.ingest(path, directory, threads: threads)
        #expect(again.linesRead == 0)
        #expect(again.notes.contains { $0.contains("already ingested") })
    }

    @Test("A last line completed later is read whole, once", arguments: [1, 2])
    func completedLater(threads: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let last = Lines.line(path: Array("/last".utf8))
        let path = try directory.file("growing.log", Lines.goodLines(3) + last[..<40])
        let first = try Self.ingest(path, directory, threads: threads)
        #expect(first.linesIngested == 3)
        try Self.append(Array(last[40...]) + Lines.goodLines(1), to: path)
        let second = try Self.ingest(path, directory, threads: threads)
        #expect(second.linesRead == 2 && second.linesIngested == 2)
        #expect(try Lines.storedPaths(under: directory.path + "/data").contains("/last"))
    }

    @Test(
        "Lines appended after a settled last line: its continuation is skipped, new lines are read",
        arguments: [1, 2])
    func appendedAfterSettledLine(threads: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // A writer that stopped in the middle of a line (cut inside the user agent, which the parser accepts).
        let cut = Lines.line(path: Array("/cut".utf8))
        let path = try directory.file("paused.log", Lines.goodLines(2) + cut[..<(cut.count - 10)])
        try Self.age(path, seconds: InputReader.settleSeconds + 5)
        let first = try Self.ingest(path, directory, threads: threads)
        #expect(first.linesIngested == 3)
        // The writer goes on: the rest of the cut line, then whole lines.
        try Self.append(Array(cut[(cut.count - 10)...]) + Lines.line(path: Array("/after".utf8)), to: path)
        let second = try Self.ingest(path, directory, threads: threads)
        #expect(second.linesRead == 1 && second.linesIngested == 1 && second.rejected.isEmpty)
        #expect(second.notes.contains { $0.contains("10 bytes skipped") })
        #expect(try Lines.storedPaths(under: directory.path + "/data").isSuperset(of: ["/cut", "/after"]))
        // A continuation without a newline yet: the file is skipped until it has one.
        try Self.append(Array("continued".utf8), to: path)
        try Self.age(path, seconds: InputReader.settleSeconds + 5)
        let third = try Self.ingest(path, directory, threads: threads)
        #expect(third.linesRead == 1)
        try Self.append(Array(" more".utf8), to: path)
        try Self.age(path, seconds: InputReader.settleSeconds + 5)
        let fourth = try Self.ingest(path, directory, threads: threads)
        #expect(fourth.linesRead == 0)
        #expect(fourth.notes.contains { $0.contains("no newline yet; skipped") })
    }

    @Test(
        "A resumed file's rejected lines keep the file's line numbers, also after a cut line and through a copy",
        arguments: [1, 2])
    func resumedLineNumbers(threads: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let bad = Array("not a log line\n".utf8)
        let path = try directory.file("grows.log", Lines.goodLines(3) + bad)
        let report = directory.path + "/rejects.txt"
        func run(_ input: String? = nil) throws -> String {
            _ = try Lines.ingest([input ?? path], into: directory) {
                $0.threads = threads
                $0.pipelineChunkBytes = 4_096
                $0.rejectsPath = report
            }
            return try String(contentsOfFile: report, encoding: .utf8)
        }
        let first = try run()
        #expect(first == path + ":4: missing_field\n")
        try Self.append(Lines.goodLines(2) + bad, to: path)
        let second = try run()
        #expect(second == path + ":7: missing_field\n")
        // A cut last line, read once settled, counts as a line; its continuation does not.
        let cut = Lines.line(path: Array("/cut".utf8))
        try Self.append(Array(cut[..<(cut.count - 10)]), to: path)
        try Self.age(path, seconds: InputReader.settleSeconds + 5)
        _ = try run()
        try Self.append(Array(cut[(cut.count - 10)...]) + Lines.goodLines(1) + bad, to: path)
        let fourth = try run()
        #expect(fourth == path + ":10: missing_field\n")
        // Rotated and compressed after two more lines: the copy is read from where the file was left.
        let content = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let rotated = try directory.file("grows.log.1.gz", gzip(content + Lines.goodLines(1) + bad))
        let copy = try run(rotated)
        #expect(copy == rotated + ":12: missing_field\n")
    }
}
