/// The one error type of `KlogsParquet`.
///
/// The message says what went wrong, where (file, row group, column, byte offset when known) and, where there is one,
/// how to fix it. ``kind`` lets a caller tell a bad argument from a damaged file without parsing the message.
public struct ParquetError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The broad class of a failure.
    public enum Kind: Sendable, Equatable {
        /// The caller passed values that do not fit the schema or the options.
        case invalidArgument
        /// The file is damaged, truncated or not Parquet.
        case malformedFile
        /// The file is valid Parquet but uses a feature this module does not implement.
        case unsupported
        /// Reading or writing bytes failed (the message carries the `errno` text).
        case io
        /// The writer was used after it was closed or after an earlier failure.
        case invalidState
    }

    /// The broad class of the failure.
    public var kind: Kind
    /// A complete sentence describing the failure.
    public var message: String

    /// Creates an error of a kind with a message.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    static func malformed(_ message: String) -> ParquetError { ParquetError(.malformedFile, message) }
    static func unsupported(_ message: String) -> ParquetError { ParquetError(.unsupported, message) }
    static func invalidArgument(_ message: String) -> ParquetError { ParquetError(.invalidArgument, message) }

    /// Returns the same error with a location prefix such as `"events.parquet, row group 2, column 'path'"`.
    func located(_ location: String) -> ParquetError {
        ParquetError(kind, "\(location): \(message)")
    }
}
