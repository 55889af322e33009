import ArgumentParser
import KlogsCore
import KlogsIngest
import KlogsUserAgent

extension Klogs.Ingest {
    /// Checks the privacy options (`--key-grace`, `--trusted-proxies`, `--path-rewrite`, …).
    func validatePrivacyOptions() throws {
        guard KeyLifecycle.parseDuration(keyGrace) != nil else {
            throw ValidationError(
                "--key-grace '\(keyGrace)' is not a duration: use a number with h, d, m or s, such as 48h or 2d "
                    + "(at most 366d).")
        }
        if let trustedProxies, case .failure(let entry) = NetworkPrefix.parseList(trustedProxies) {
            throw ValidationError(
                "--trusted-proxies: '\(entry.text)' is not a network; use CIDR such as 10.0.0.0/8 or 2001:db8::/32.")
        }
        if trustedProxies != nil && clientIPFrom == .client {
            throw ValidationError("--trusted-proxies needs --client-ip-from x-forwarded-for.")
        }
        guard (16...65536).contains(maxPathLength) else {
            throw ValidationError("--max-path-length must be between 16 and 65536, not \(maxPathLength).")
        }
        do {
            _ = try PathRewriter(rules: pathRewrites)
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// Copies the privacy options into the configuration (after `validatePrivacyOptions`).
    func applyPrivacyOptions(to configuration: inout IngestConfiguration) {
        configuration.keyGraceSeconds = KeyLifecycle.parseDuration(keyGrace) ?? KeyLifecycle.defaultGraceSeconds
        configuration.clientAddressSource = clientIPFrom.source
        if let trustedProxies, case .success(let networks) = NetworkPrefix.parseList(trustedProxies) {
            configuration.trustedProxies = networks
        }
        configuration.keepQueryParameters =
            keepQueryParams.map { $0.split(separator: ",").map { String($0.filter { $0 != " " }) } } ?? []
        configuration.maximumPathLength = maxPathLength
        configuration.pathRewrites = pathRewrites
        configuration.rejectsPath = rejects
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
