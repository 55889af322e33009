import Foundation

/// Where the test material lives, found from this file's location so tests run from any working directory.
public enum TestPaths {
    /// The package root (the folder holding `Package.swift`).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // KlogsTestSupport
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    /// The project's own small fixtures.
    public static let fixtures = packageRoot.appendingPathComponent("fixtures")

    /// The shared third-party corpus beside the clone (`../shared/corpus`).
    public static let corpus = packageRoot.deletingLastPathComponent()
        .appendingPathComponent("shared/corpus")

    /// The Python interpreter of the test virtual environment, which has pyarrow and duckdb.
    ///
    /// `KLOGS_PYTHON` overrides it; otherwise it is `.venv/bin/python` in the package root, as `make test` makes it.
    public static var python: URL {
        if let path = ProcessInfo.processInfo.environment["KLOGS_PYTHON"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return packageRoot.appendingPathComponent(".venv/bin/python")
    }

    /// A fresh, empty temporary directory, removed by the caller when done.
    public static func makeTemporaryDirectory(_ label: String = "klogs-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// The result of running a child process.
public struct ProcessOutput: Sendable {
    public var status: Int32
    public var standardOutput: String
    public var standardError: String
}

/// Runs a program to completion and captures its output.
public func runProcess(_ executable: URL, _ arguments: [String], input: Data? = nil) throws -> ProcessOutput {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let stdout = Pipe()
    let stderr = Pipe()
    let stdin = Pipe()
    process.standardOutput = stdout
    process.standardError = stderr
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(input) }
    try stdin.fileHandleForWriting.close()
    // Read both pipes concurrently so a chatty child never blocks on a full pipe.
    nonisolated(unsafe) var errorData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errorData = stderr.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outputData = stdout.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return ProcessOutput(
        status: process.terminationStatus,
        standardOutput: String(decoding: outputData, as: UTF8.self),
        standardError: String(decoding: errorData, as: UTF8.self))
}

/// Runs a Python script with the test environment's interpreter (pyarrow and duckdb available).
public func runPython(_ script: String, _ arguments: [String] = []) throws -> ProcessOutput {
    try runProcess(TestPaths.python, ["-c", script] + arguments)
}
