import FuzzSupport
import KlogsParquet

/// The Parquet reader (footer, Thrift metadata, every column chunk) on arbitrary bytes. It either throws a
/// `ParquetError` or returns columns holding exactly the row group's number of rows, with valid string offsets.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    let reader: ParquetFileReader
    do {
        reader = try ParquetFileReader(bytes: bytes)
    } catch {
        require(error is ParquetError, "ParquetFileReader.init threw \(type(of: error)), not ParquetError")
        return 0
    }
    for group in reader.rowGroups.indices {
        for column in reader.schema.columns.indices {
            for verifying in [true, false] {
                do {
                    let values = try reader.readColumn(rowGroup: group, column: column, verifyingChecksums: verifying)
                    check(values, rows: reader.rowGroups[group].numberOfRows)
                } catch {
                    require(error is ParquetError, "readColumn threw \(type(of: error)), not ParquetError")
                }
            }
        }
    }
    return 0
}

/// A decoded column has one entry per row, and every string entry lies inside its arena.
func check(_ values: ColumnValues, rows: Int64) {
    require(Int64(values.count) == rows, "\(values.count) values for \(rows) rows")
    switch values {
    case .strings(let column):
        checkOffsets(column)
    case .dictionaryStrings(let dictionary, let indices):
        checkOffsets(dictionary)
        for index in indices {
            require(index < Int32(dictionary.count), "dictionary index \(index) of \(dictionary.count) entries")
        }
    default:
        break
    }
    for row in 0..<values.count { _ = values.string(at: row) }
}

func checkOffsets(_ column: StringColumn) {
    require(column.offsets.first == 0, "string offsets do not start at 0")
    for index in column.offsets.indices.dropFirst() {
        require(column.offsets[index - 1] <= column.offsets[index], "string offsets decrease at \(index)")
    }
    require(Int(column.offsets.last ?? 0) <= column.bytes.count, "string offsets past the arena")
    if let validity = column.validity { require(validity.count == column.count, "validity count mismatch") }
}

/// The program's entry point (see `runFuzzer`).
@_cdecl("FuzzParquetReader_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
