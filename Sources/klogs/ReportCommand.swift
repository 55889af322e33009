import ArgumentParser

extension Klogs {
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a report.")
        func run() throws {}
    }
}
