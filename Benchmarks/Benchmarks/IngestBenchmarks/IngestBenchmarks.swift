import Benchmark
import Foundation
import KlogsCore
import KlogsGenerator
import KlogsIngest
import KlogsUserAgent

// Every benchmark works on the same deterministic, generated log: 1M combined lines over one day.
// Set-up (generating, compressing, writing the file) happens outside the measured closures.

let lineCount = 1_000_000

/// The generated log, made once.
nonisolated(unsafe) let generatedLog: [UInt8] = {
    var generator = LogGenerator(LogGenerator.Configuration(lines: lineCount, seed: 42, days: 1))
    return generator.generateAll()
}()

/// The generated log as files: plain and gzip (made with the system's gzip, one member).
nonisolated(unsafe) let logFiles: (plain: String, gzip: String) = {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("klogs-bench-input").path
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let plain = directory + "/access.log"
    FileManager.default.createFile(atPath: plain, contents: Data(generatedLog))
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", "gzip -6 -c '\(plain)' > '\(plain).gz'"]
    try? process.run()
    process.waitUntilExit()
    return (plain, plain + ".gz")
}()

/// Runs a whole ingest of `input` into a fresh data directory, then removes it.
func runIngest(_ input: String, _ adjust: (inout IngestConfiguration) -> Void = { _ in }) throws -> IngestSummary {
    let data = FileManager.default.temporaryDirectory.appendingPathComponent("klogs-bench-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: data) }
    var configuration = IngestConfiguration(dataDirectory: data, inputs: [input])
    adjust(&configuration)
    return try Ingestor(configuration: configuration).run()
}

/// The user agent of every line of the generated log, in order (for the cached lookups).
nonisolated(unsafe) let userAgentPerLine: [[UInt8]] = {
    var agents: [[UInt8]] = []
    var parser = AccessLogParser(format: .combined)
    var record = AccessRecord()
    var splitter = LineSplitter()
    generatedLog.withUnsafeBytes { bytes in
        splitter.feed(bytes) { _, line in
            if case .complete(let line) = line, parser.parse(line, into: &record) == nil,
                let agent = record.userAgent
            {
                agents.append(Array(agent))
            }
        }
    }
    return agents
}()

/// Distinct user agents: those of the generated log and those of uap-core's own browser test suite
/// (`/usr/share/uap-core/tests/test_ua.yaml`, installed with the Debian package).
/// The uap-core rules loaded once, shared by the iterations of the uncached classification benchmark.
let sharedRules: Result<UserAgentRuleSet, UserAgentError> = Result { () throws(UserAgentError) in
    try UserAgentRuleSet()
}

nonisolated(unsafe) let distinctUserAgents: [String] = {
    var agents = Set(userAgentPerLine.map { String(decoding: $0, as: UTF8.self) })
    let suite = (try? String(contentsOfFile: "/usr/share/uap-core/tests/test_ua.yaml", encoding: .utf8)) ?? ""
    for line in suite.split(separator: "\n") {
        guard let range = line.range(of: "user_agent_string: ") else { continue }
        var value = line[range.upperBound...].trimmingCharacters(in: .whitespaces)
        if let quote = value.first, quote == "'" || quote == "\"", value.count >= 2, value.last == quote {
            value = String(value.dropFirst().dropLast())
            if quote == "'" { value = value.replacingOccurrences(of: "''", with: "'") }
        }
        agents.insert(value)
    }
    return agents.sorted()
}()

/// Splits the generated log into lines and parses each; returns the number of lines parsed.
func splitAndParse(_ parser: inout AccessLogParser) -> Int {
    var record = AccessRecord()
    var splitter = LineSplitter()
    var accepted = 0
    generatedLog.withUnsafeBytes { bytes in
        splitter.feed(bytes) { _, line in
            if case .complete(let line) = line, parser.parse(line, into: &record) == nil { accepted += 1 }
        }
    }
    return accepted
}

let benchmarks: @Sendable () -> Void = {
    let heavy = Benchmark.Configuration(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident],
        timeUnits: .milliseconds, warmupIterations: 1, maxDuration: .seconds(30), maxIterations: 5)
    // The four ingests whose ratios issue 4 targets (with classification against without, on two threads and on
    // one): nine iterations, since their medians over five moved by about 2% from run to run on this machine.
    let paired = Benchmark.Configuration(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident],
        timeUnits: .milliseconds, warmupIterations: 1, maxDuration: .seconds(30), maxIterations: 9)

    // Splitting and parsing only: the floor under everything else.
    Benchmark("Split and parse 1M combined lines", configuration: heavy) { benchmark in
        var parser = AccessLogParser(format: .combined)
        benchmark.startMeasurement()
        blackHole(splitAndParse(&parser))
        benchmark.stopMeasurement()
    }

    // The same lines through a compiled custom format: nginx's own `log_format combined` string, run by the
    // format program (a string spelling combined exactly would otherwise run the parser above); its fields are the
    // program's unrolled combined run, as in any string that holds them with other fields around. The issue's
    // target: within 10% of the built-in parser.
    Benchmark("Split and parse 1M combined lines, compiled nginx combined string", configuration: heavy) {
        benchmark in
        let nginxCombined =
            #"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#
        var parser = AccessLogParser(format: .custom(try CompiledFormat(nginxCombined, allowsBuiltIn: false)))
        benchmark.startMeasurement()
        blackHole(splitAndParse(&parser))
        benchmark.stopMeasurement()
    }

    // The whole ingest core: read, split, parse, anonymise, classify, aggregate, encode and write Parquet.
    Benchmark("Ingest 1M lines, plain, hash mode", configuration: paired) { benchmark in
        _ = logFiles
        benchmark.startMeasurement()
        blackHole(try runIngest(logFiles.plain))
    }

    Benchmark("Ingest 1M lines, gzip, hash mode", configuration: heavy) { benchmark in
        _ = logFiles
        benchmark.startMeasurement()
        blackHole(try runIngest(logFiles.gzip))
    }

    Benchmark("Ingest 1M lines, plain, truncate mode", configuration: heavy) { benchmark in
        _ = logFiles
        benchmark.startMeasurement()
        blackHole(try runIngest(logFiles.plain) { $0.ipMode = .truncate })
    }

    Benchmark("Ingest 1M lines, plain, drop mode", configuration: heavy) { benchmark in
        _ = logFiles
        benchmark.startMeasurement()
        blackHole(try runIngest(logFiles.plain) { $0.ipMode = .drop })
    }

    Benchmark("Ingest 1M lines, plain, hash mode, user agents not classified", configuration: paired) { benchmark in
        _ = logFiles
        benchmark.startMeasurement()
        blackHole(try runIngest(logFiles.plain) { $0.classifiesUserAgents = false })
    }

    // The same two on one core (`--threads 1`, the single-threaded path): the ingest core's own speed.
    Benchmark("Ingest 1M lines, plain, hash mode, 1 thread", configuration: paired) { benchmark in
        _ = logFiles
        benchmark.startMeasurement()
        blackHole(try runIngest(logFiles.plain) { $0.threads = 1 })
    }

    Benchmark("Ingest 1M lines, plain, hash mode, user agents not classified, 1 thread", configuration: paired) {
        benchmark in
        _ = logFiles
        benchmark.startMeasurement()
        blackHole(
            try runIngest(logFiles.plain) {
                $0.threads = 1
                $0.classifiesUserAgents = false
            })
    }

    // User-agent classification: each distinct agent once with a fresh cache (every lookup a miss), and every
    // line's agent through a warm cache (the ingest's case: real logs repeat agents).
    // About 1,600 agents in a few milliseconds: measured in microseconds, over 25 iterations (see below).
    var fine = heavy
    fine.timeUnits = .microseconds
    fine.maxIterations = 25

    // One rule set for every iteration, each with a fresh classifier (an empty cache): the rules a pass uses are
    // JIT-compiled on their 8th match, so from the eighth iteration on this is the steady state, the per-agent cost
    // of a long run, which the median of 25 iterations gives. The first iterations also pay the JIT and the
    // interpreted matches before it (the rule set no longer JIT-compiles every rule when it loads): the slowest
    // percentiles. (With five iterations, as until the ninth session, the median fell in those first ones.)
    Benchmark("Classify distinct user agents, uncached", configuration: fine) { benchmark in
        let agents = distinctUserAgents
        let classifier = UserAgentClassifier(rules: try sharedRules.get())
        benchmark.startMeasurement()
        for agent in agents { blackHole(classifier.classifyUncached(agent)) }
        benchmark.stopMeasurement()
        print("  \(agents.count) distinct user agents")
    }

    // The same on fresh rules after an explicit `compileEveryRule()`: every rule JIT-compiled, even those the agents
    // reach fewer than 8 times in a pass.
    Benchmark("Classify distinct user agents, uncached, every rule compiled", configuration: fine) { benchmark in
        let agents = distinctUserAgents
        let rules = try UserAgentRuleSet()
        rules.compileEveryRule()
        let classifier = UserAgentClassifier(rules: rules)
        benchmark.startMeasurement()
        for agent in agents { blackHole(classifier.classifyUncached(agent)) }
        benchmark.stopMeasurement()
    }

    Benchmark("Classify 1M user agents, cached", configuration: heavy) { benchmark in
        let agents = userAgentPerLine
        let classifier = try UserAgentClassifier()
        for agent in agents { agent.withUnsafeBufferPointer { _ = classifier.classID($0) } }
        benchmark.startMeasurement()
        for agent in agents { agent.withUnsafeBufferPointer { blackHole(classifier.classID($0)) } }
        benchmark.stopMeasurement()
        print("  \(agents.count) lookups")
    }

    Benchmark("Load the uap-core rules", configuration: heavy) { benchmark in
        blackHole(try UserAgentClassifier())
    }

    Benchmark("Ingest 1M lines, plain, hits only", configuration: heavy) { benchmark in
        _ = logFiles
        benchmark.startMeasurement()
        blackHole(try runIngest(logFiles.plain) { $0.writeEvents = false })
    }
}
