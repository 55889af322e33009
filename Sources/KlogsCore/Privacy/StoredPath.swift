/// Turns a request's path and query into the `path` value klogs stores, removing personal data on the way.
///
/// In order:
/// 1. The fragment is already gone (the parser cuts it off; browsers do not send it anyway).
/// 2. Address-like text in the path is replaced by `:ip` (see ``AddressMasking``).
/// 3. The query string is dropped, except the parameters named in `keptQueryParameters` (`utm_source`, …), which
///    are kept in their logged order and spelling as `?name=value&…`, their values masked like the path. Names are
///    compared exactly as logged (case-sensitive, not percent-decoded).
/// 4. The result is cut to `maximumLength` bytes, never inside a UTF-8 sequence or a `%XX` escape.
///
/// Percent-encoded paths are kept as logged: decoding would make distinct requests look alike and could produce
/// invalid UTF-8.
///
/// ```swift
/// var filter = StoredPath(keptQueryParameters: ["utm_source"], maximumLength: 1024)
/// var output: [UInt8] = []
/// let flags = filter.write(path: record.path, query: record.query, into: &output)
/// ```
public struct StoredPath: Sendable {
    /// The default cap on the stored path, in bytes.
    public static let defaultMaximumLength = 1024

    /// Query parameter names whose values are kept.
    public let keptQueryParameters: [[UInt8]]
    /// The longest stored path, in bytes (at least 1).
    public let maximumLength: Int

    /// What `write` changed, for the run's counters.
    public struct Changes: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// Address-like text was masked.
        public static let maskedAddress = Changes(rawValue: 1)
        /// Query parameters were dropped.
        public static let droppedQuery = Changes(rawValue: 2)
        /// The path was cut to the maximum length.
        public static let truncated = Changes(rawValue: 4)
    }

    public init(keptQueryParameters: [String] = [], maximumLength: Int = defaultMaximumLength) {
        self.keptQueryParameters = keptQueryParameters.filter { !$0.isEmpty }.map { Array($0.utf8) }
        self.maximumLength = max(1, maximumLength)
    }

    /// Whether a path needs `write` at all: without a query, address-like text or excess length, the path is
    /// stored as logged.
    @inline(__always)
    public func isUnchanged(path: UnsafeRawBufferPointer, query: UnsafeRawBufferPointer?) -> Bool {
        query == nil && path.count <= maximumLength && !AddressMasking.containsAddress(path)
    }

    /// Writes the stored form of a path and query into `output` (replacing its contents).
    ///
    /// - Complexity: O(length of path and query × kept names); no allocation once `output` has the capacity.
    @discardableResult
    public func write(
        path: UnsafeRawBufferPointer, query: UnsafeRawBufferPointer?, into output: inout [UInt8]
    ) -> Changes {
        output.removeAll(keepingCapacity: true)
        var changes: Changes = []
        if AddressMasking.mask(path, marker: AddressMasking.pathMarker, appendingTo: &output) > 0 {
            changes.insert(.maskedAddress)
        }
        if let query {
            var separator = UInt8(ascii: "?")
            var start = 0
            while start <= query.count {
                var end = start
                while end < query.count && query[end] != UInt8(ascii: "&") { end += 1 }
                let parameter = UnsafeRawBufferPointer(rebasing: query[start..<end])
                if !parameter.isEmpty {
                    if isKept(parameter) {
                        output.append(separator)
                        separator = UInt8(ascii: "&")
                        if AddressMasking.mask(parameter, marker: AddressMasking.pathMarker, appendingTo: &output) > 0 {
                            changes.insert(.maskedAddress)
                        }
                    } else {
                        changes.insert(.droppedQuery)
                    }
                }
                start = end + 1
            }
        }
        if output.count > maximumLength {
            var cut = maximumLength
            // Not inside a UTF-8 sequence: back up over continuation bytes to the lead byte, and drop it too.
            if output[cut] & 0xC0 == 0x80 {
                while cut > 0 && output[cut] & 0xC0 == 0x80 { cut -= 1 }
            }
            // Not inside a %XX escape.
            if cut >= 1 && output[cut - 1] == UInt8(ascii: "%") {
                cut -= 1
            } else if cut >= 2 && output[cut - 2] == UInt8(ascii: "%") {
                cut -= 2
            }
            output.removeSubrange(cut...)
            changes.insert(.truncated)
        }
        return changes
    }

    /// Whether the parameter's name (up to `=`) is one of the kept names.
    @inline(__always)
    func isKept(_ parameter: UnsafeRawBufferPointer) -> Bool {
        var nameEnd = 0
        while nameEnd < parameter.count && parameter[nameEnd] != UInt8(ascii: "=") { nameEnd += 1 }
        for name in keptQueryParameters where name.count == nameEnd {
            var equal = true
            for index in 0..<nameEnd where name[index] != parameter[index] {
                equal = false
                break
            }
            if equal { return true }
        }
        return false
    }
}
