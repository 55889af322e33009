import FuzzSupport
import Glibc
import KlogsCore
import KlogsIngest

/// The input reader (compression detected from the first bytes: plain, gzip members, LZ4 frames) on a temporary
/// file (one, unlinked, rewritten for each input), its output fed through a `LineSplitter`. Invariants: a read never returns more than it was asked for, the
/// reader's counters add up, it throws only `IngestError`, and no line is longer than the splitter's limit.
/// Output is capped at 16 MiB per input so that a decompression bomb costs time, not a timeout.
let readSizes = [1, 13, 4096, 1 << 20]
let maximumLineLength = 256
let deliveredLimit = 16 << 20
nonisolated(unsafe) let output = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
let descriptor: CInt = {
    var template = Array("/tmp/klogs-fuzz-input-XXXXXX".utf8CString)
    let descriptor = mkstemp(&template)
    require(descriptor >= 0, "mkstemp failed: errno \(errno)")
    unlink(template)
    return descriptor
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    require(ftruncate(descriptor, 0) == 0, "ftruncate failed: errno \(errno)")
    var written = 0
    while written < count {
        let result = pwrite(descriptor, start + written, count - written, off_t(written))
        require(result > 0, "writing the in-memory file failed: errno \(errno)")
        written += result
    }
    _ = lseek(descriptor, 0, SEEK_SET)
    let reader: InputReader
    do {
        reader = try InputReader(fileDescriptor: descriptor, name: "fuzz input", closeWhenDone: false)
    } catch {
        require(error is IngestError, "InputReader.init threw \(type(of: error)), not IngestError")
        return 0
    }
    let readSize = readSizes[count % readSizes.count]
    let window = UnsafeMutableRawBufferPointer(rebasing: output[0..<readSize])
    var splitter = LineSplitter(maximumLineLength: maximumLineLength)
    var delivered = 0
    var lineBytes = 0
    var lastNumber = 0
    func check(_ number: Int, _ line: SplitLine) {
        require(number == lastNumber + 1, "line \(number) follows line \(lastNumber)")
        lastNumber = number
        if case .complete(let bytes) = line {
            require(bytes.count <= maximumLineLength, "a \(bytes.count)-byte line passed a \(maximumLineLength) limit")
            lineBytes += bytes.count
        }
    }
    do {
        while delivered < deliveredLimit {
            let got = try reader.read(into: window)
            require(got >= 0 && got <= readSize, "read returned \(got) for a \(readSize)-byte buffer")
            if got == 0 { break }
            delivered += got
            require(reader.bytesDelivered == delivered, "bytesDelivered \(reader.bytesDelivered), seen \(delivered)")
            splitter.feed(UnsafeRawBufferPointer(rebasing: window[0..<got]), check)
        }
        splitter.finish(check)
        require(lineBytes <= delivered, "\(lineBytes) line bytes from \(delivered) delivered bytes")
    } catch {
        require(error is IngestError, "InputReader.read threw \(type(of: error)), not IngestError")
    }
    require(reader.bytesRead <= count, "read \(reader.bytesRead) bytes from a \(count)-byte file")
    return 0
}

/// The program's entry point (see `runFuzzer`).
@_cdecl("FuzzInputReader_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
