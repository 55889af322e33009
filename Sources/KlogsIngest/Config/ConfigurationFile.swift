internal import Foundation
internal import TOMLKit

/// The settings of `klogs.toml`: every setting that has a command-line flag. Flags override it.
///
/// It is read from `--config PATH`, else from `DATA/klogs.toml` when that exists. An unknown key or a value of
/// the wrong type is an error naming the key, so a typo never silently falls back to a default. See
/// `docs/klogs.example.toml` for every key, commented.
public struct ConfigurationFile: Sendable, Equatable {
    public var data: String?
    public var format: String?
    public var logFormat: String?
    public var jsonFields: String?
    public var ipMode: String?
    public var ipv4Prefix: Int?
    public var ipv6Prefix: Int?
    public var events: Bool?
    public var compression: String?
    public var userAgentRules: String?
    public var trustedProxies: [String]?
    public var keptQueryParameters: [String]?
    /// The extensions that make a request an `asset` (`--asset-extensions`).
    public var assetExtensions: [String]?
    /// `[[path_rewrites]]` tables: a pattern and its replacement.
    public var pathRewrites: [PathRewrite]?
    public var retentionDays: Int?
    public var flushInterval: Double?
    public var flushLines: Int?
    public var wait: Double?
    public var threads: Int?
    /// How long a day's pseudonym key outlives its day (`--key-grace`), as text like `48h`.
    public var keyGrace: String?
    /// Where the client address comes from (`--client-ip-from`): `client` or `x-forwarded-for`.
    public var clientIPFrom: String?
    /// The longest stored path in bytes (`--max-path-length`).
    public var maxPathLength: Int?
    /// The reject report written by every run (`--rejects`).
    public var rejects: String?
    /// The Prometheus textfile written by every run (`--metrics-file`).
    public var metricsFile: String?
    /// The least severe events logged (`--log-level`).
    public var logLevel: String?

    /// One `[[path_rewrites]]` entry.
    public struct PathRewrite: Sendable, Equatable {
        public var pattern: String
        public var replacement: String
    }

    /// The keys accepted at the top level.
    public static let keys: [String] = [
        "data", "format", "log_format", "json_fields", "ip_mode", "ipv4_prefix", "ipv6_prefix", "events", "compression",
        "ua_rules",
        "trusted_proxies", "kept_query_params", "path_rewrites", "retention_days", "flush_interval",
        "flush_lines", "wait", "asset_extensions", "threads", "key_grace", "client_ip_from", "max_path_length",
        "rejects", "metrics_file", "log_level",
    ]

    public init() {}

    /// The file to read: `explicit` when given (it must exist), else `DATA/klogs.toml` when it exists, else none.
    public static func locate(explicit: String?, dataDirectory: String) -> String? {
        if let explicit { return explicit }
        let path = dataDirectory + "/klogs.toml"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// Reads and checks a configuration file.
    ///
    /// - Throws: `BatchError` naming the file and the key (unknown key, wrong type) or the TOML syntax error.
    public static func load(path: String) throws -> ConfigurationFile {
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw BatchError("\(path): cannot read the configuration file: \(error.localizedDescription)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            let (line, column) = firstInvalidUTF8(bytes)
            throw BatchError("\(path):\(line):\(column): not valid TOML: the file is not UTF-8 text.")
        }
        return try parse(text, name: path)
    }

    /// The 1-based line and byte column of the first byte that is not part of valid UTF-8.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> (line: Int, column: Int) {
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        var offset = 0
        var line = 1
        var lineStart = 0
        while case .scalarValue(let scalar) = decoder.decode(&iterator) {
            offset += UTF8.width(scalar)
            if scalar == "\n" {
                line += 1
                lineStart = offset
            }
        }
        return (line, offset - lineStart + 1)
    }

    /// Parses configuration text; `name` is used in messages.
    public static func parse(_ text: String, name: String = "klogs.toml") throws -> ConfigurationFile {
        if let (line, column, problem) = TOMLPreflight.firstProblem(text) {
            throw BatchError("\(name):\(line):\(column): not valid TOML: \(problem).")
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw BatchError(
                "\(name):\(error.source.begin.line):\(error.source.begin.column): not valid TOML: \(error.description)."
            )
        } catch {
            throw BatchError("\(name): not valid TOML: \(error).")
        }
        var result = ConfigurationFile()
        for key in table.keys.sorted() {
            guard let value = table[key] else { continue }
            func wrong(_ expected: String) -> BatchError {
                BatchError("\(name): '\(key)' must be \(expected).")
            }
            func string() throws -> String {
                guard let text = value.string else { throw wrong("a string") }
                return text
            }
            func integer() throws -> Int {
                guard let number = value.int else { throw wrong("an integer") }
                return number
            }
            func number() throws -> Double {
                guard let number = value.double ?? value.int.map(Double.init) else { throw wrong("a number") }
                return number
            }
            func strings() throws -> [String] {
                guard let array = value.array else { throw wrong("an array of strings") }
                return try array.map { element in
                    guard let text = element.string else { throw wrong("an array of strings") }
                    return text
                }
            }
            switch key {
            case "data": result.data = try string()
            case "format": result.format = try string()
            case "log_format": result.logFormat = try string()
            case "json_fields": result.jsonFields = try string()
            case "ip_mode": result.ipMode = try string()
            case "ipv4_prefix": result.ipv4Prefix = try integer()
            case "ipv6_prefix": result.ipv6Prefix = try integer()
            case "events":
                guard let flag = value.bool else { throw wrong("true or false") }
                result.events = flag
            case "compression": result.compression = try string()
            case "ua_rules": result.userAgentRules = try string()
            case "trusted_proxies": result.trustedProxies = try strings()
            case "kept_query_params": result.keptQueryParameters = try strings()
            case "asset_extensions": result.assetExtensions = try strings()
            case "path_rewrites":
                guard let array = value.array else { throw wrong("an array of tables ([[path_rewrites]])") }
                result.pathRewrites = try array.map { element in
                    guard let entry = element.table else { throw wrong("an array of tables ([[path_rewrites]])") }
                    for entryKey in entry.keys where entryKey != "pattern" && entryKey != "replacement" {
                        throw BatchError(
                            "\(name): unknown key 'path_rewrites.\(entryKey)'; a rewrite has 'pattern' and "
                                + "'replacement'.")
                    }
                    guard let pattern = entry["pattern"]?.string, let replacement = entry["replacement"]?.string
                    else { throw wrong("tables with a string 'pattern' and a string 'replacement'") }
                    return PathRewrite(pattern: pattern, replacement: replacement)
                }
            case "retention_days": result.retentionDays = try integer()
            case "flush_interval": result.flushInterval = try number()
            case "flush_lines": result.flushLines = try integer()
            case "threads": result.threads = try integer()
            case "key_grace": result.keyGrace = try string()
            case "client_ip_from": result.clientIPFrom = try string()
            case "max_path_length": result.maxPathLength = try integer()
            case "rejects": result.rejects = try string()
            case "metrics_file": result.metricsFile = try string()
            case "log_level": result.logLevel = try string()
            case "wait": result.wait = try number()
            default:
                throw BatchError(
                    "\(name): unknown key '\(key)'; the keys are: \(keys.joined(separator: ", ")) "
                        + "(see docs/klogs.example.toml).")
            }
        }
        return result
    }
}
