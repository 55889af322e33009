import KlogsCore
import Testing

@testable import KlogsIngest

/// The per-line shortcuts of the stored values against the plain computations they stand for.
@Suite struct StoredValuesTests {
    /// Referrers that repeat, collide in the cache, are too long for it, hold addresses or no host at all.
    static let referrers: [String] = {
        var referrers = [
            "-", "", "https://www.example.com/", "https://WWW.Example.COM:8443/x?q=1", "http://192.168.1.20/",
            "https://[2001:db8::1]:8080/", "about:blank", "/relative/page", "//cdn.example/x", "www.example.org/page",
            "https://user@host.example./", "https://bad host/", "https://" + String(repeating: "a", count: 200) + ".example/",
        ]
        for index in 0..<5_000 { referrers.append("https://site\(index % 2_500).example/page/\(index % 7)") }
        return referrers
    }()

    @Test func theReferrerCacheGivesTheExtractedHosts() {
        var interner = ByteInterner()
        var cache = ReferrerHostCache()
        var scratch: [UInt8] = []
        for round in 0..<3 {
            for referrer in Self.referrers {
                let id = Array(referrer.utf8).withUnsafeBytes {
                    StoredValues.internReferrerHost($0, scratch: &scratch, into: &interner, cache: &cache)
                }
                let expected = ReferrerHost.host(of: referrer)
                #expect((id < 0 ? nil : interner.string(of: id)) == expected, "round \(round): \(referrer)")
            }
            if round == 1 {
                // A new interner's ids start again: so must the cache's.
                interner.removeAll(keepingCapacity: true)
                cache.removeAll()
            }
        }
    }

    @Test func assetFlagsFollowThePathIds() {
        var paths = ByteInterner()
        var flags = PathFlags()
        let samples = ["/", "/logo.png", "/app.js?v=1", "/a.b/readme", "/font.WOFF2", "/index.html"]
        for (round, path) in (samples + samples.reversed()).enumerated() {
            let id = paths.intern(path)
            let expected = Array(path.utf8).withUnsafeBytes { AssetExtensions.standard.matches(path: $0) }
            let known = flags.isAsset(id, of: &paths, assets: .standard)
            #expect(known == expected, "\(round): \(path)")
        }
        // Ids interned elsewhere (the parallel pipeline's sequencer) are learned in one go.
        var other = ByteInterner()
        var otherFlags = PathFlags()
        for path in samples { _ = other.intern(path) }
        let fifth = otherFlags.isAsset(4, of: &other, assets: .standard)
        #expect(fifth)
        #expect(otherFlags.flag(of: 1) == true && otherFlags.flag(of: 3) == false && otherFlags.flag(of: 5) == nil)
        otherFlags.removeAll()
        #expect(otherFlags.flag(of: 0) == nil)
    }
}
