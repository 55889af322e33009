import KlogsCore
import KlogsUserAgent

extension Ingestor {
    /// The parallel pipeline that reads this run's files, or `nil` when they go through the single-threaded path:
    /// with one thread, without files, when a file is a stream (a FIFO or `<(…)`: it can be opened only once, and
    /// sampling it for `--format auto` would consume it), or when `--format auto` cannot decide from the files alone.
    ///
    /// With `--format auto`, the format is detected here, before the workers start, from the very sample the
    /// single-threaded path would take (the first lines the run reads), and given to the processor. When no format
    /// fits, the single-threaded path reads the files and fails on the same sample with the same message.
    ///
    /// - Throws: a path rewrite that does not compile.
    func makePipeline(
        for inputs: [String], processor: inout LineProcessor, rules: BackgroundRuleLoad?, ledger: Ledger
    ) throws -> ParallelPipeline? {
        let threads = configuration.effectiveThreads
        let files = inputs.filter { $0 != "-" }
        guard threads > 1, !files.isEmpty, !files.contains(where: InputReader.isStream(path:)) else { return nil }
        var format = configuration.format
        if format == nil {
            guard
                let detected = try? Self.detectFormat(
                    files: files, ledger: ledger, standardInputFollows: files.count < inputs.count)
            else { return nil }
            processor.useDetectedFormat(detected)
            format = detected
        }
        guard let format else { return nil }
        return try ParallelPipeline(
            threads: threads, configuration: configuration, format: format, rules: rules,
            dayKeys: processor.runKeys.map(SharedDayKeys.init),
            chunkBytes: configuration.pipelineChunkBytes)
    }

    /// Detects the format from the first lines the run will read from `files`, as `LineProcessor` samples them:
    /// from each file's ledger offset, at most `FormatDetector.sampleLineCount` lines or
    /// `FormatDetector.sampleByteCount` bytes, the unfinished last line of a file still being written left out.
    ///
    /// - Returns: the format; `nil` when the sample holds no complete line, or is not full and standard input
    ///   follows (whose lines would complete it).
    /// - Throws: `FormatDetectionFailure` when no preset parses the sample.
    static func detectFormat(files: [String], ledger: Ledger, standardInputFollows: Bool) throws -> LogFormat? {
        var sample = FormatSample()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: InputReader.chunkSize, alignment: 64)
        defer { buffer.deallocate() }
        for path in files where !sample.isFull {
            guard let plan = try? SourcePlan(path: path, ledger: ledger), case .read(let startOffset) = plan.action,
                let reader = try? InputReader(source: InputSource(argument: path))
            else { continue }
            var splitter = LineSplitter()
            var position: Int64 = 0
            var readToEnd = false
            while !sample.isFull {
                guard let count = try? reader.read(into: buffer) else { break }
                if count == 0 {
                    readToEnd = true
                    break
                }
                let chunkStart = position
                position += Int64(count)
                guard position > startOffset else { continue }
                let skip = Int(max(0, startOffset - chunkStart))
                splitter.feed(UnsafeRawBufferPointer(rebasing: buffer[skip..<count])) { _, line in sample.add(line) }
            }
            if readToEnd && reader.isFinishedWriting { splitter.finish { _, line in sample.add(line) } }
        }
        if !sample.isFull && standardInputFollows { return nil }
        return try sample.detect()
    }
}

/// The first lines of a run, kept for `--format auto` (the same limits as `LineProcessor`'s sample).
struct FormatSample {
    private var bytes: [UInt8] = []
    private var ends: [Int] = []
    private var lineCount = 0

    var isFull: Bool {
        lineCount >= FormatDetector.sampleLineCount || bytes.count >= FormatDetector.sampleByteCount
    }

    /// Adds a line while the sample is not full; an overlong line counts but has no bytes.
    mutating func add(_ line: SplitLine) {
        guard !isFull else { return }
        lineCount += 1
        if case .complete(let line) = line {
            bytes.append(contentsOf: line)
            ends.append(bytes.count)
        }
    }

    /// The detected format, or `nil` without a complete line.
    func detect() throws -> LogFormat? {
        guard !ends.isEmpty else { return nil }
        return try bytes.withUnsafeBytes { all in
            var slices: [UnsafeRawBufferPointer] = []
            var start = 0
            for end in ends {
                slices.append(UnsafeRawBufferPointer(rebasing: all[start..<end]))
                start = end
            }
            switch FormatDetector.detect(slices) {
            case .detected(let format, _): return format
            case .failed(let message, _): throw FormatDetectionFailure(message: message)
            }
        }
    }
}
