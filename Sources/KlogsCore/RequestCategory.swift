/// What a request was, as web analytics counts it: the `kind` column of `events` and `hits` (docs/METRICS.md).
///
/// The rules, in order (the first that applies wins):
/// 1. `error`: the status is 400–599, whatever was asked and by whom;
/// 2. `asset`: the stored path's last segment ends in an extension of ``AssetExtensions`` (images, CSS, JavaScript,
///    fonts, media by default);
/// 3. `page`: a `GET` or `HEAD` with a 2xx or 3xx status from a client that is not a bot;
/// 4. `other`: everything else (a `POST`, a bot's page, a 1xx status, a status outside 100–599).
///
/// ```swift
/// let assets = AssetExtensions.standard
/// RequestCategory(method: get, status: 200, isBot: false, path: indexPath, assets: assets)  // .page
/// ```
public enum RequestCategory: UInt8, Sendable, CaseIterable {
    case page = 0
    case asset
    case error
    case other

    /// The value stored in the `kind` column.
    public var name: String {
        switch self {
        case .page: "page"
        case .asset: "asset"
        case .error: "error"
        case .other: "other"
        }
    }

    /// Classifies one request.
    ///
    /// - Parameters:
    ///   - method: the request method as logged (`GET`; compared case-sensitively, as HTTP defines methods).
    ///   - status: the HTTP status.
    ///   - isBot: whether the user agent is a crawler, a script or a monitor.
    ///   - path: the path as stored (after privacy filtering; a kept query string is ignored).
    ///   - assets: the extensions that make a path an asset.
    /// - Complexity: O(length of the path's last segment); no allocation.
    @inlinable
    public init(
        method: UnsafeRawBufferPointer, status: Int32, isBot: Bool, path: UnsafeRawBufferPointer,
        assets: AssetExtensions
    ) {
        if status >= 400 && status < 600 {
            self = .error
        } else if assets.matches(path: path) {
            self = .asset
        } else {
            self = Self.pageOrOther(method: method, status: status, isBot: isBot)
        }
    }

    /// Classifies one request whose stored path is known to be an asset or not (`AssetExtensions.matches`, which
    /// the ingest remembers per distinct path instead of testing every line).
    @inlinable
    public init(method: UnsafeRawBufferPointer, status: Int32, isBot: Bool, isAsset: Bool) {
        if status >= 400 && status < 600 {
            self = .error
        } else if isAsset {
            self = .asset
        } else {
            self = Self.pageOrOther(method: method, status: status, isBot: isBot)
        }
    }

    /// The category of a request classified before its user agent's class was known (as a visitor's who is not a
    /// bot), once it is known: a bot's page is `other`, and nothing else depends on the class.
    @inlinable
    public func settled(isBot: Bool) -> Self {
        isBot && self == .page ? .other : self
    }

    /// Rules 3 and 4: a request that is neither an error nor an asset.
    @inlinable
    static func pageOrOther(method: UnsafeRawBufferPointer, status: Int32, isBot: Bool) -> Self {
        !isBot && status >= 200 && status < 400 && isDocumentMethod(method) ? .page : .other
    }

    /// Whether the method is `GET` or `HEAD`.
    @inlinable
    static func isDocumentMethod(_ method: UnsafeRawBufferPointer) -> Bool {
        switch method.count {
        case 3:
            return method[0] == UInt8(ascii: "G") && method[1] == UInt8(ascii: "E") && method[2] == UInt8(ascii: "T")
        case 4:
            return method[0] == UInt8(ascii: "H") && method[1] == UInt8(ascii: "E") && method[2] == UInt8(ascii: "A")
                && method[3] == UInt8(ascii: "D")
        default:
            return false
        }
    }
}

/// The file-name extensions that make a request an `asset` (`--asset-extensions`, `asset_extensions` in
/// klogs.toml).
///
/// An extension is compared without regard to ASCII case with the end of the path's last segment: the bytes after
/// its last `.`, where the path ends at its first `?` or `;` (`/img/logo.PNG?v=2` has `png`, `/app.js;v=1` has
/// `js`, `/a.b/readme` has none). Extensions are 1 to 8 letters or digits, so each is held as one packed integer.
public struct AssetExtensions: Sendable, Hashable {
    /// The packed extensions (see ``pack(_:)``), sorted.
    @usableFromInline let packed: [UInt64]

    /// The default list: images, stylesheets and scripts (with source maps), fonts, audio and video.
    public static let standardList: [String] = [
        "avif", "bmp", "gif", "ico", "jpeg", "jpg", "png", "svg", "svgz", "tif", "tiff", "webp",
        "css", "js", "map", "mjs",
        "eot", "otf", "ttf", "woff", "woff2",
        "aac", "flac", "m4a", "m4v", "mkv", "mov", "mp3", "mp4", "oga", "ogg", "ogv", "opus", "wav", "webm",
    ]

    /// The default list, ready to use.
    public static let standard = AssetExtensions(validated: standardList)

    /// Parses a list of extensions (a leading `.` is allowed and dropped; case does not matter).
    ///
    /// - Returns: nil when an entry is empty, longer than 8 bytes or holds anything but ASCII letters and digits;
    ///   ``invalidEntry(in:)`` names it.
    public init?(_ list: [String]) {
        guard Self.invalidEntry(in: list) == nil else { return nil }
        self.init(validated: list)
    }

    /// The first entry of a list that is not a valid extension, if any.
    public static func invalidEntry(in list: [String]) -> String? {
        list.first { entry in
            let bytes = Array(Self.trimmed(entry).utf8)
            return bytes.isEmpty || bytes.count > 8
                || !bytes.allSatisfy { byte in
                    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                        || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                        || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                }
        }
    }

    private init(validated list: [String]) {
        packed = Set(list.map { Self.trimmed($0).utf8.reduce(into: UInt64(0)) { Self.append($1, to: &$0) } }).sorted()
    }

    private static func trimmed(_ entry: String) -> Substring {
        let entry = Substring(entry)
        return entry.first == "." ? entry.dropFirst() : entry
    }

    /// The extensions, lower-cased, sorted by their packed value.
    public var names: [String] {
        packed.map { value in
            var bytes: [UInt8] = []
            var rest = value
            while rest != 0 {
                bytes.append(UInt8(truncatingIfNeeded: rest))
                rest >>= 8
            }
            return String(decoding: bytes.reversed(), as: UTF8.self)
        }
    }

    /// Adds one lower-cased byte to a packed extension.
    @inlinable @inline(__always)
    static func append(_ byte: UInt8, to value: inout UInt64) {
        let lower = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
        value = value << 8 | UInt64(lower)
    }

    /// Whether a stored path ends in one of the extensions.
    ///
    /// - Complexity: O(length of the last segment + log(number of extensions)).
    @inlinable
    public func matches(path: UnsafeRawBufferPointer) -> Bool {
        // The path proper ends at the first `?` or `;`; the extension is what follows its last `.`, unless a `/`
        // comes first or the run is longer than 8 bytes.
        let end =
            ByteSearch.firstOf(UInt8(ascii: "?"), UInt8(ascii: ";"), in: path, from: 0, to: path.count) ?? path.count
        var dot = end - 1
        while dot >= 0 && end - dot <= 9 && path[dot] != UInt8(ascii: ".") && path[dot] != UInt8(ascii: "/") {
            dot -= 1
        }
        guard dot >= 0, end - dot <= 9, end - dot >= 2, path[dot] == UInt8(ascii: ".") else { return false }
        var value: UInt64 = 0
        for position in (dot + 1)..<end { Self.append(path[position], to: &value) }
        return contains(value)
    }

    /// Binary search of a packed extension.
    @inlinable
    func contains(_ value: UInt64) -> Bool {
        var low = 0
        var high = packed.count
        while low < high {
            let middle = (low + high) / 2
            if packed[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low < packed.count && packed[low] == value
    }
}
