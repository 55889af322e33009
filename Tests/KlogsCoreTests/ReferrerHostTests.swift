import KlogsCore
import Testing

@Suite("Referrer hosts")
struct ReferrerHostTests {
    @Test("Every byte is a host character exactly when RFC 3986 reg-name allows it (or it is 0x80 and above)")
    func hostCharacters() {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%!$&'()*+,;=".utf8)
        // Bytes that end or split the authority are not host characters but change the parse: left out.
        let structural = Set("/?#@:[]".utf8)
        for byte in UInt8.min...UInt8.max where !structural.contains(byte) {
            var output: [UInt8] = []
            let referrer: [UInt8] = Array("http://a".utf8) + [byte] + Array("b/".utf8)
            let kind = referrer.withUnsafeBytes { ReferrerHost.extract($0, into: &output) }
            #expect((kind == .host) == (allowed.contains(byte) || byte >= 0x80), "byte \(byte)")
        }
    }

    @Test("The host is extracted and lower-cased", arguments: [
        ("https://User@Example.COM:8080/x?q", "example.com"),
        ("http://www.example.com/start.html", "www.example.com"),
        ("http://semicomplete.com/presentations/logstash-monitorama-2013/", "semicomplete.com"),
        ("android-app://com.google.android.gm", "com.google.android.gm"),
        ("android-app://com.google.android.gm/", "com.google.android.gm"),
        ("www.example.com/page", "www.example.com"),
        ("www.example.com", "www.example.com"),
        ("localhost:8080/x", "localhost"),
        ("//cdn.example.net/lib.js", "cdn.example.net"),
        ("HTTPS://EXAMPLE.ORG.", "example.org"),
        ("https://example.org?x=http://evil.test/", "example.org"),
        ("https://example.org#frag", "example.org"),
        ("https://a:b@c@host.test/", "host.test"),
        ("http://xn--bcher-kva.example/", "xn--bcher-kva.example"),
        ("http://bücher.example/", "bücher.example"),
        ("http://localhost:8080/", "localhost"),
    ])
    func hosts(referrer: String, host: String) {
        #expect(ReferrerHost.host(of: referrer) == host)
    }

    @Test("IP-literal hosts become the marker, never the address", arguments: [
        "http://192.168.1.20/intranet", "http://[2001:db8::1]:8080/x", "https://[::1]/", "10.0.0.1:8080/x",
        "http://user@203.0.113.9/", "http://[v1.fe80::a+en1]/",
    ])
    func ipLiterals(referrer: String) {
        #expect(ReferrerHost.host(of: referrer) == "[ip]")
    }

    @Test("No referrer or no host gives nil", arguments: [
        "-", "", "/relative/path", "?q=1", "about:blank", "javascript:void(0)", "data:text/html,hi", "http://",
        "http:///path", "https://user@/", "http://exa mple.com/", "http://<script>/", "mailto:a@b.test", "http://[::1/",
    ])
    func noHost(referrer: String) {
        #expect(ReferrerHost.host(of: referrer) == nil)
    }

    @Test("The output buffer is replaced, not appended to")
    func reusedOutput() {
        var output: [UInt8] = Array("stale".utf8)
        let kind = Array("http://a.test/".utf8).withUnsafeBytes { ReferrerHost.extract($0, into: &output) }
        #expect(kind == .host && output == Array("a.test".utf8))
        let none = Array("-".utf8).withUnsafeBytes { ReferrerHost.extract($0, into: &output) }
        #expect(none == ReferrerHost.Kind.none && output.isEmpty)
    }
}
