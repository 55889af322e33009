import ArgumentParser
import KlogsCore
import KlogsIngest
import KlogsUserAgent

extension Klogs.Ingest {
    /// Checks the privacy flags (`--key-grace`, `--trusted-proxies`, `--path-rewrite`, …). The same settings from
    /// the configuration file are checked when they are applied (`applyPrivacyOptions`).
    func validatePrivacyOptions() throws {
        if let keyGrace, KeyLifecycle.parseDuration(keyGrace) == nil {
            throw ValidationError("--key-grace \(Self.notADuration(keyGrace))")
        }
        if let trustedProxies, case .failure(let entry) = NetworkPrefix.parseList(trustedProxies) {
            throw ValidationError(
                "--trusted-proxies: '\(entry.text)' is not a network; use CIDR such as 10.0.0.0/8 or 2001:db8::/32.")
        }
        if trustedProxies != nil && clientIPFrom == .client {
            throw ValidationError("--trusted-proxies needs --client-ip-from x-forwarded-for.")
        }
        if let maxPathLength, !Self.pathLengths.contains(maxPathLength) {
            throw ValidationError("--max-path-length \(Self.outOfRange(maxPathLength))")
        }
        do {
            _ = try PathRewriter(rules: pathRewrites)
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// The stored path lengths allowed by `--max-path-length` / `max_path_length`.
    static let pathLengths = 16...65536

    static func notADuration(_ text: String) -> String {
        "'\(text)' is not a duration: use a number with h, d, m or s, such as 48h or 2d (at most 366d)."
    }

    static func outOfRange(_ length: Int) -> String {
        "must be between \(pathLengths.lowerBound) and \(pathLengths.upperBound), not \(length)."
    }

    /// Copies the privacy settings into the configuration: each flag, else the configuration file's key, else the
    /// default. Exits 64 on an invalid value in the file, or on trusted proxies without X-Forwarded-For as the source.
    func applyPrivacyOptions(_ file: ConfigurationFile, to configuration: inout IngestConfiguration) throws {
        func fileError(_ message: String) -> ExitCode {
            printError("klogs ingest: in the configuration file: \(message)")
            return ExitCode(64)
        }
        configuration.keyGraceSeconds = KeyLifecycle.defaultGraceSeconds
        if let grace = keyGrace ?? file.keyGrace {
            // The flag was checked by `validate`; only the file's text can fail here.
            guard let seconds = KeyLifecycle.parseDuration(grace) else {
                throw fileError("key_grace \(Self.notADuration(grace))")
            }
            configuration.keyGraceSeconds = seconds
        }

        var source = clientIPFrom ?? .client
        if clientIPFrom == nil, let text = file.clientIPFrom {
            guard let option = ClientAddressOption(rawValue: text) else {
                throw fileError("client_ip_from '\(text)' is not a source: use client or x-forwarded-for.")
            }
            source = option
        }
        configuration.clientAddressSource = source.source

        let pathLength = maxPathLength ?? file.maxPathLength ?? 1024
        guard Self.pathLengths.contains(pathLength) else { throw fileError("max_path_length \(Self.outOfRange(pathLength))") }
        configuration.maximumPathLength = pathLength

        if let trustedProxies, case .success(let networks) = NetworkPrefix.parseList(trustedProxies) {
            configuration.trustedProxies = networks
        }
        configuration.keepQueryParameters =
            keepQueryParams.map { $0.split(separator: ",").map { String($0.filter { $0 != " " }) } } ?? []
        configuration.pathRewrites = pathRewrites
        configuration.rejectsPath = rejects ?? file.rejects
        try applyFilePrivacySettings(file, to: &configuration)
        if !configuration.trustedProxies.isEmpty && source == .client {
            throw fileError(
                "trusted_proxies needs client_ip_from = \"x-forwarded-for\" (or --client-ip-from x-forwarded-for); "
                    + "with the client field as the source no proxy is consulted.")
        }
    }
}

enum ClientAddressOption: String, ExpressibleByArgument, CaseIterable {
    case client
    case xForwardedFor = "x-forwarded-for"

    var source: ClientAddressSource {
        switch self {
        case .client: .clientField
        case .xForwardedFor: .forwardedFor
        }
    }
}
