import KlogsCore
import Testing

@Suite("Request categories (the kind column)")
struct RequestCategoryTests {
    /// Classifies with the default extensions.
    func category(
        _ method: String, _ path: String, _ status: Int32, bot: Bool = false,
        assets: AssetExtensions = .standard
    ) -> RequestCategory {
        Array(method.utf8).withUnsafeBytes { method in
            Array(path.utf8).withUnsafeBytes { path in
                RequestCategory(method: method, status: status, isBot: bot, path: path, assets: assets)
            }
        }
    }

    @Test("Each rule, in order", arguments: [
        ("GET", "/", 200, false, RequestCategory.page),
        ("HEAD", "/blog/post", 301, false, .page),
        ("GET", "/docs/report.pdf", 200, false, .page),  // a download is not an asset by default
        ("GET", "/about", 304, false, .page),
        ("GET", "/", 200, true, .other),  // a bot's page
        ("POST", "/login", 302, false, .other),
        ("get", "/", 200, false, .other),  // methods are case-sensitive
        ("GET", "/", 101, false, .other),
        ("GET", "/", 600, false, .other),
        ("GET", "/missing", 404, false, .error),
        ("GET", "/logo.png", 404, false, .error),  // an error first, whatever the path
        ("POST", "/api", 503, true, .error),
        ("GET", "/static/app.1f2e3d.js", 200, false, .asset),
        ("GET", "/static/app.js", 304, true, .asset),  // a bot's asset is an asset
        ("POST", "/upload/photo.JPG", 201, false, .asset),
        ("GET", "/fonts/inter.woff2", 200, false, .asset),
        ("GET", "-", 200, false, .page),  // the empty request's path
    ] as [(String, String, Int32, Bool, RequestCategory)])
    func rules(method: String, path: String, status: Int32, bot: Bool, expected: RequestCategory) {
        #expect(category(method, path, status, bot: bot) == expected)
        // The same rules with the asset test done beforehand, as the ingest does once per distinct path.
        let isAsset = Array(path.utf8).withUnsafeBytes { AssetExtensions.standard.matches(path: $0) }
        let known = Array(method.utf8).withUnsafeBytes {
            RequestCategory(method: $0, status: status, isBot: bot, isAsset: isAsset)
        }
        #expect(known == expected)
    }

    @Test("The extension is the end of the last segment, before a query or parameters", arguments: [
        ("/img/logo.PNG?v=2", true),
        ("/app.js;jsessionid=1", true),
        ("/style.css?x=/y", true),
        ("/a.css/readme", false),
        ("/archive.tar.gz", false),
        ("/video.webm", true),
        ("/css", false),
        ("/file.", false),
        (".png", true),
        ("/x.averylongextension", false),
        ("/search?q=cat.png", false),
        ("", false),
    ])
    func extensions(path: String, isAsset: Bool) {
        let matched = Array(path.utf8).withUnsafeBytes { AssetExtensions.standard.matches(path: $0) }
        #expect(matched == isAsset)
    }

    @Test func aCustomListReplacesTheDefault() throws {
        let assets = try #require(AssetExtensions([".PDF", "zip", "png"]))
        #expect(Set(assets.names) == ["pdf", "png", "zip"])
        #expect(category("GET", "/docs/a.pdf", 200, assets: assets) == .asset)
        #expect(category("GET", "/app.js", 200, assets: assets) == .page)
    }

    @Test("Invalid extensions are refused and named", arguments: [
        (["png", ""], ""), (["png", "toolongext"], "toolongext"), (["p/g"], "p/g"), (["é"], "é"),
    ])
    func invalid(list: [String], entry: String) {
        #expect(AssetExtensions(list) == nil)
        #expect(AssetExtensions.invalidEntry(in: list) == entry)
    }

    @Test func theDefaultListHoldsImagesStylesScriptsFontsAndMedia() {
        for name in ["png", "jpg", "svg", "ico", "webp", "css", "js", "woff2", "ttf", "mp4", "mp3", "webm"] {
            #expect(AssetExtensions.standard.names.contains(name), "\(name)")
        }
        #expect(AssetExtensions.standard.names.count == AssetExtensions.standardList.count)
        #expect(RequestCategory.allCases.map(\.name) == ["page", "asset", "error", "other"])
    }
}
