import ArgumentParser
import KlogsUserAgent

extension Klogs {
    struct UserAgent: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "useragent",
            abstract: "Classify user agents the way ingest does, one JSON object per line.",
            discussion: """
                Reads user agents from the arguments, or one per line from standard input when there are none, and \
                prints {"browser":…,"browser_major":…,"os":…,"os_major":…,"device_family":…,"device":…,"is_bot":…} \
                for each. browser, os and device_family are uap-core families; device is desktop, mobile, tablet, \
                bot or other.
                """)

        @Argument(help: "User agents to classify; none reads them from standard input, one per line.")
        var userAgents: [String] = []

        @Option(name: .customLong("ua-rules"), help: "A uap-core regexes.yaml to classify with.")
        var rules: String = UserAgentRules.defaultPath

        func run() throws {
            exitQuietlyOnBrokenPipe()
            let classifier: UserAgentClassifier
            do {
                classifier = try UserAgentClassifier(rulesPath: rules)
            } catch {
                printError("klogs useragent: \(error)")
                throw ExitCode.failure
            }
            do {
                try writeUserAgentJSONLines(arguments: userAgents, classifier: classifier)
            } catch {
                printError("klogs useragent: \(error)")
                throw ExitCode.failure
            }
        }
    }
}
