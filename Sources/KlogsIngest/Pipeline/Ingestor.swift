internal import Foundation
import KlogsCore
import KlogsParquet
import KlogsUserAgent

/// A run that could not write its dataset: nothing of it became visible.
public struct IngestFailure: Error, CustomStringConvertible {
    /// What went wrong, where, and what to do about it. Never holds log content.
    public var message: String
    /// What the run had read when it failed.
    public var summary: IngestSummary?

    public var description: String { message }
}

/// Reads access logs and adds them, anonymised, to a dataset: the whole `klogs ingest` run.
///
/// ```swift
/// var configuration = IngestConfiguration(dataDirectory: "klogs-data", inputs: ["access.log.1"])
/// let summary = try Ingestor(configuration: configuration).run()
/// print(summary.text)
/// ```
///
/// Inputs are read in 1 MiB chunks into one reused buffer and split into lines; each line is parsed, its client
/// anonymised, its user agent classified, and the result appended to its UTC day's partition. An input that
/// cannot be read to its end is reported in the summary and the run goes on with the next one; everything is
/// committed at the end. A failure to write leaves nothing of the run visible.
public final class Ingestor {
    private let configuration: IngestConfiguration

    public init(configuration: IngestConfiguration) {
        self.configuration = configuration
    }

    /// Runs the ingest.
    ///
    /// - Returns: what was read, kept, rejected and written. `inputErrors` lists inputs not read to their end.
    /// - Throws: `IngestFailure` when the dataset cannot be written or the key store cannot be used.
    public func run() throws -> IngestSummary {
        let clock = ContinuousClock()
        let start = clock.now
        var summary = IngestSummary()

        let classifier: UserAgentClassifier
        do {
            classifier = try UserAgentClassifier(
                rulesPath: configuration.userAgentRules ?? UserAgentRules.defaultPath)
        } catch {
            throw IngestFailure(message: "cannot load the user-agent rules: \(error)")
        }
        let keys: KeyStore?
        let lifecycle = KeyLifecycle(
            graceSeconds: configuration.keyGraceSeconds, now: configuration.currentTime ?? KeyLifecycle.currentTime())
        let rejects: RejectReport?
        do {
            keys = configuration.ipMode.contains(.hash)
                ? try KeyStore(dataDirectory: configuration.dataDirectory) : nil
            // Keys past their grace period die on every run, whatever the mode (docs/PRIVACY.md).
            let expired = try keys.map { try lifecycle.expire(in: $0) }
            let directory = configuration.dataDirectory
            summary.keysExpired = try (expired ?? lifecycle.expireKeys(dataDirectory: directory)).count
            rejects = try configuration.rejectsPath.map { try RejectReport(path: $0) }
        } catch {
            throw IngestFailure(message: AddressMasking.maskMessage("\(error)"))
        }

        let writer = DatasetWriter(
            root: configuration.dataDirectory, runIdentifier: Self.makeRunIdentifier(),
            ipMode: configuration.ipMode, compression: configuration.compression,
            writeEvents: configuration.writeEvents, rowGroupRows: configuration.rowGroupRows)
        var processor: LineProcessor
        do {
            processor = try LineProcessor(
                configuration: configuration, writer: writer, userAgents: UserAgentTable(classifier: classifier),
                keys: keys, lifecycle: lifecycle, rejects: rejects)
        } catch {
            throw IngestFailure(message: "\(error)")
        }

        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        let inputs = configuration.inputs.isEmpty ? ["-"] : configuration.inputs
        do {
            for path in inputs {
                try ingest(path, through: &processor, buffer: buffer, summary: &summary)
            }
            try processor.finishDetection()  // --format auto on inputs shorter than the detection sample
            try writer.finishAll(userAgents: processor.userAgents)
            summary.filesWritten = try writer.commit()
        } catch {
            writer.abort()
            summary.elapsedSeconds = Self.seconds(clock.now - start)
            processor.addCounts(to: &summary)
            Self.finishPrivacy(of: &summary, rejects: rejects)
            throw IngestFailure(message: AddressMasking.maskMessage("\(error)"), summary: summary)
        }
        processor.addCounts(to: &summary)
        Self.finishPrivacy(of: &summary, rejects: rejects)
        summary.elapsedSeconds = Self.seconds(clock.now - start)
        return summary
    }

    /// Reads one input to its end, or to its first read error, which goes into the summary.
    private func ingest(
        _ path: String, through processor: inout LineProcessor, buffer: UnsafeMutableRawBufferPointer,
        summary: inout IngestSummary
    ) throws {
        var splitter = LineSplitter()
        processor.begin(input: path)
        var reader: InputReader
        do {
            reader = try InputReader(source: InputSource(argument: path))
        } catch {
            summary.inputErrors.append("\(error)")
            return
        }
        defer {
            summary.bytesRead += Int64(reader.bytesDelivered)
            summary.compressedBytesRead += Int64(reader.bytesRead)
            summary.warnings.append(contentsOf: reader.warnings.map(\.description))
        }
        do {
            while true {
                let count = try reader.read(into: buffer)
                if count == 0 { break }
                try splitter.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) { number, line in
                    try processor.process(line, number: number)
                }
            }
            try splitter.finish { number, line in try processor.process(line, number: number) }
        } catch let error as IngestError {
            // What was read before the fault is kept; a partial last line is not.
            summary.inputErrors.append("\(error)")
        }
    }

    /// Writes out the reject report and masks addresses and query strings in every message of the summary.
    private static func finishPrivacy(of summary: inout IngestSummary, rejects: RejectReport?) {
        if let rejects {
            do { try rejects.flush() } catch { summary.warnings.append("\(error)") }
            if let error = rejects.writeError { summary.warnings.append(error) }
            summary.rejectsReported = rejects.linesWritten
        }
        summary.warnings = summary.warnings.map(AddressMasking.maskMessage)
        summary.inputErrors = summary.inputErrors.map(AddressMasking.maskMessage)
    }

    /// A run identifier for file names: the UTC start time and random bits, never anything from the logs.
    static func makeRunIdentifier() -> String {
        let now = Int64(Date().timeIntervalSince1970)
        let date = Timestamp.dateText(dayNumber: Int(now / 86_400)).replacingOccurrences(of: "-", with: "")
        let secondOfDay = Int(now % 86_400)
        let time = String(format: "%02d%02d%02d", secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return "\(date)T\(time)Z-\(String(repeating: "0", count: 8 - random.count))\(random)"
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
