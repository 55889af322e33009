import Foundation
import KlogsTestSupport
import KlogsUserAgent
import Testing

@testable import KlogsIngest

/// The limit on distinct user-agent classes (issue 9): user agents crafted to be unique must not grow memory
/// without bound, and what is collapsed must not depend on the thread count.
@Suite struct UserAgentClassLimitTests {
    private static func firefox(_ version: Int, on os: String = "Linux", major: String? = "5") -> UserAgentClass {
        UserAgentClass(
            browser: "Firefox", browserMajor: String(version), os: os, osMajor: major, deviceFamily: "Other",
            device: .desktop, isBot: false)
    }

    @Test func pastTheLimitVersionsAreDroppedAndPastTwiceTheLimitFamiliesToo() {
        // The table starts with the class of lines without a user agent: limit 3 leaves room for two more.
        var table = UserAgentTable(classifier: nil, vocabulary: nil, classLimit: 3)
        let first = table.id(ofFiltered: Self.firefox(1))
        let second = table.id(ofFiltered: Self.firefox(2))
        #expect([first, second] == [1, 2])
        #expect(!table.reachedClassLimit && table.classLimitWarning == nil)

        // Full: a new class is stored without its versions, and that class serves every later version.
        let third = table.id(ofFiltered: Self.firefox(3))
        #expect(table.classes[Int(third)] == Self.firefox(3).withoutVersions)
        #expect(table.id(ofFiltered: Self.firefox(4, major: "6")) == third)
        #expect(table.reachedClassLimit && table.classLimitWarning?.contains("more than 3 distinct") == true)
        // Known classes keep their ids and versions.
        #expect(table.id(ofFiltered: Self.firefox(1)) == first)

        // Up to twice the limit, families are kept; past it, new families become Other (device and bot kept).
        _ = table.id(ofFiltered: Self.firefox(7, on: "Windows"))
        _ = table.id(ofFiltered: Self.firefox(8, on: "Mac OS X"))
        #expect(table.classes.count == 6)
        let crafted = table.id(ofFiltered: Self.firefox(9, on: "Made-up OS"))
        #expect(table.classes[Int(crafted)].browser == "Other" && table.classes[Int(crafted)].os == "Other")
        #expect(table.classes[Int(crafted)].device == .desktop && !table.classes[Int(crafted)].isBot)
        #expect(table.id(ofFiltered: Self.firefox(10, on: "Another made-up OS")) == crafted)
        #expect(table.classes.count == 7)
    }

    @Test func anEmptiedTableRemembersThatTheLimitWasReached() {
        var table = UserAgentTable(classifier: nil, vocabulary: nil, classLimit: 2)
        _ = table.id(ofFiltered: Self.firefox(1))
        _ = table.id(ofFiltered: Self.firefox(2))
        let emptied = table.emptied()
        #expect(emptied.classes == [UserAgentClass.unknown])
        #expect(emptied.reachedClassLimit && emptied.classLimit == 2)
    }

    @Test func craftedUserAgentsCollapseTheSameWayWithAnyThreadCount() throws {
        // Every other line of a generated log gets a user agent with versions of its own: the run's table fills
        // early, the workers' tables start again many times, and each thread count must store the same values.
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var lines = String(decoding: ParallelIngestTests.generatedLog(seed: 15), as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: false)
        for index in stride(from: 0, to: lines.count, by: 2) {
            guard let quote = lines[index].dropLast().lastIndex(of: "\""), lines[index].hasSuffix("\"") else {
                continue
            }
            lines[index] = lines[index][...quote]
                + "Mozilla/5.0 (Linux; Android \(index % 97)) Gecko/20100101 Firefox/\(index).0\""
        }
        let path = try directory.file("crafted.log", Array(lines.joined(separator: "\n").utf8))
        let tests = ParallelIngestTests()
        try tests.expectSameOutcome([path], in: directory, threads: [2, 3], chunkBytes: [1_000, 16 * 1024]) {
            $0.userAgentClassLimit = 40
        }
        let outcome = try tests.run([path], data: directory.path + "/check", threads: 2) {
            $0.userAgentClassLimit = 40
        }
        #expect(outcome.notes.contains { $0.contains("more than 40 distinct user-agent classes") })
    }
}

extension UserAgentClass {
    fileprivate var withoutVersions: UserAgentClass {
        var result = self
        result.browserMajor = nil
        result.osMajor = nil
        return result
    }
}
