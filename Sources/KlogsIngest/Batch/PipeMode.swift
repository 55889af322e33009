internal import Glibc
import KlogsCore

extension Ingestor {
    /// Reads standard input until its end or SIGINT/SIGTERM, committing every flush interval and every
    /// `flushLines` lines, so a `kill -9` loses at most the uncommitted interval and a signal loses nothing.
    ///
    /// The signal handlers (`StopSignals`, installed by `run()`) are installed without `SA_RESTART`, so a wait for
    /// input is interrupted: the data read so far is committed and the ingest ends normally.
    func ingestStandardInput(
        through processor: inout LineProcessor, writer: DatasetWriter, buffer: UnsafeMutableRawBufferPointer,
        ledger: inout Ledger, summary: inout IngestSummary
    ) throws {
        let reader: InputReader
        do {
            reader = try InputReader(fileDescriptor: STDIN_FILENO, name: "standard input", closeWhenDone: false)
        } catch {
            summary.inputErrors.append("\(error)")
            return
        }
        defer { summary.addCounts(of: reader) }
        var splitter = LineSplitter()
        processor.begin(input: "-")
        let interval = max(0.05, configuration.batch.flushIntervalSeconds)
        let lineLimit = Int64(max(1, configuration.batch.flushLines))
        var deadline = Self.monotonicSeconds() + interval
        var linesAtCommit = processor.linesRead
        var flushes = 0
        let started = Self.monotonicSeconds()
        func flush(final: Bool = false) throws {
            deadline = Self.monotonicSeconds() + interval
            // Under the lock: finish what a crashed writer left, and take the ledger as other writers left it.
            let lock: DataLock
            do {
                lock = try DataLock(
                    dataDirectory: configuration.dataDirectory,
                    waitSeconds: final ? max(configuration.batch.waitSeconds, 60) : min(interval, 5),
                    command: "klogs ingest")
            } catch let error as BatchError where error.kind == .busy && !final {
                return  // another writer is busy: keep buffering and try again at the next interval
            }
            try withExtendedLifetime(lock) {
                try Transaction.recover(dataDirectory: configuration.dataDirectory)
                ledger = try Ledger.load(dataDirectory: configuration.dataDirectory)
                try commit(writer, processor: &processor, ledger: &ledger, ranges: [], summary: &summary)
            }
            flushes += 1
            linesAtCommit = processor.linesRead
            if processor.userAgents.classes.count > processor.userAgents.classLimit / 2 {
                // Everything is written: no row refers to a class id, so a pipe that runs for months never
                // reaches the class limit of one run.
                processor.userAgents = processor.userAgents.emptied()
            }
            if let onPipeCommit = configuration.onPipeCommit {
                var figures = summary
                processor.addCounts(to: &figures)
                figures.bytesRead += Int64(reader.bytesDelivered)
                figures.compressedBytesRead += Int64(reader.bytesRead)
                figures.elapsedSeconds = Self.monotonicSeconds() - started
                onPipeCommit(figures)
            }
        }
        do {
            while !StopSignals.isRequested {
                // Wait for input, but no longer than the next flush.
                var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
                let timeout = Int32(max(0, min(deadline - Self.monotonicSeconds(), 3600)) * 1000)
                let ready = poll(&descriptor, 1, timeout)
                if ready < 0 {
                    if errno == EINTR { continue }
                } else if ready == 0 {
                    try flush()
                    continue
                }
                let count = try reader.read(into: buffer)
                if count == 0 { break }
                try splitter.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) { number, line in
                    try processor.process(line, number: number)
                }
                if processor.linesRead - linesAtCommit >= lineLimit || Self.monotonicSeconds() >= deadline {
                    try flush()
                }
            }
            if !StopSignals.isRequested {
                try splitter.finish { number, line in try processor.process(line, number: number) }
            } else {
                summary.notes.append("standard input: stopped by a signal; everything read was committed")
            }
        } catch let error as IngestError {
            summary.inputErrors.append("\(error)")
        }
        try flush(final: true)
    }

    static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
