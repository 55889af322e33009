import ArgumentParser
import Foundation
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
            let classifier: UserAgentClassifier
            do {
                classifier = try UserAgentClassifier(rulesPath: rules)
            } catch {
                printError("klogs useragent: \(error)")
                throw ExitCode.failure
            }
            var output = ""
            if userAgents.isEmpty {
                while let line = readLine(strippingNewline: true) {
                    output += userAgentJSONLine(classifier.classify(line)) + "\n"
                    if output.utf8.count > 64 * 1024 {
                        FileHandle.standardOutput.write(Data(output.utf8))
                        output = ""
                    }
                }
            } else {
                for userAgent in userAgents { output += userAgentJSONLine(classifier.classify(userAgent)) + "\n" }
            }
            FileHandle.standardOutput.write(Data(output.utf8))
        }
    }
}
