internal import CIsal
internal import Glibc

/// Decodes gzip members (RFC 1952) with Intel's ISA-L, one member at a time, and frees its state in `deinit`.
///
/// ISA-L's inflate is two to three times as fast as zlib's on x86-64, and gzip ingest is limited by it. The member
/// header is read here (`GzipHeaderReader`): ISA-L 2.30 miscomputes the header CRC (FHCRC) when a header spans two
/// calls, which a long file name or a header at the end of a read makes happen. ISA-L then decodes the deflate data
/// and checks the trailer (the CRC-32 and length, ISIZE), and stops exactly after it, so the next member starts at
/// the next byte. The state (85 KiB, most of it the history buffer) is allocated once per input and reused for every
/// member.
final class GzipInflater {
    enum Result {
        /// Input consumed or output produced; the member goes on.
        case progress
        /// The member ended (its CRC-32 and length checked).
        case memberEnd
        /// The data is not valid gzip.
        case failed(message: String, isChecksum: Bool)
    }

    private let state: UnsafeMutablePointer<inflate_state>
    private var header = GzipHeaderReader()
    /// A decoding error whose output is not all delivered yet (see `deliverBeforeFailure`).
    private var failure: Result?
    /// Whether a member has started and not yet ended.
    private(set) var isInMember = false

    init() {
        // Zeroed before ISA-L's own initialisation, so that no field is ever read uninitialised.
        let size = MemoryLayout<inflate_state>.size
        let raw = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: MemoryLayout<inflate_state>.alignment)
        memset(raw, 0, size)
        state = raw.bindMemory(to: inflate_state.self, capacity: 1)
        isal_inflate_init(state)
    }

    deinit {
        state.deallocate()
    }

    /// Prepares for a member, the first one included, whose first byte is the next one given to `inflate`.
    func startMember() {
        header = GzipHeaderReader()
        failure = nil
        isal_inflate_reset(state)
        // Raw deflate data followed by the gzip trailer, which ISA-L checks ("VER": verify).
        state.pointee.crc_flag = UInt32(ISAL_GZIP_NO_HDR_VER)
        isInMember = true
    }

    /// Decodes from `input` into `output`: the rest of the header first, then deflate data (one `isal_inflate`).
    func inflate(input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer)
        -> (result: Result, consumed: Int, produced: Int)
    {
        if let failure {
            let delivered = deliverBeforeFailure(into: output)
            return (delivered.isDone ? failure : .progress, 0, delivered.count)
        }
        var headerBytes = 0
        if !header.isComplete {
            let step = header.read(input)
            if let failure = step.failure { return (.failed(message: failure, isChecksum: false), step.consumed, 0) }
            headerBytes = step.consumed
            if !header.isComplete { return (.progress, headerBytes, 0) }
        }
        let body = UnsafeRawBufferPointer(rebasing: input[headerBytes...])
        let step = inflateBody(input: body, output: output)
        return (step.result, headerBytes + step.consumed, step.produced)
    }

    /// One `isal_inflate` call on deflate data and the trailer after it.
    private func inflateBody(input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer)
        -> (result: Result, consumed: Int, produced: Int)
    {
        let inputCount = UInt32(min(input.count, Int(UInt32.max)))
        let outputCount = UInt32(min(output.count, Int(UInt32.max)))
        // ISA-L never writes through next_in; the cast only satisfies its non-const declaration.
        state.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        state.pointee.avail_in = inputCount
        state.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        state.pointee.avail_out = outputCount
        let status = isal_inflate(state)
        // Clamped: on some corrupt data ISA-L rewinds to the failing symbol by more bytes than it took, leaving
        // avail_in above what it was given (an invalid distance; found by fuzzing, `gzipRewindPastTheInput`).
        let consumed = max(0, Int(inputCount) - Int(state.pointee.avail_in))
        let produced = max(0, Int(outputCount) - Int(state.pointee.avail_out))
        state.pointee.next_in = nil
        state.pointee.next_out = nil
        if status < 0 {
            failure = Self.failure(status: status)
            let delivered = deliverBeforeFailure(into: UnsafeMutableRawBufferPointer(rebasing: output[produced...]))
            return (delivered.isDone ? failure! : .progress, consumed, produced + delivered.count)
        }
        if state.pointee.block_state == ISAL_BLOCK_FINISH {
            isInMember = false
            return (.memberEnd, consumed, produced)
        }
        return (.progress, consumed, produced)
    }

    /// Copies into `output` what ISA-L decoded before an error but had not delivered: with a small output buffer
    /// (near the end of a caller's buffer too) it decodes into its own `tmp_out_buffer` and copies out from there,
    /// and an error returns at once. zlib delivers everything before the fault; so does this.
    ///
    /// - Returns: The bytes copied, and whether none are left.
    private func deliverBeforeFailure(into output: UnsafeMutableRawBufferPointer) -> (count: Int, isDone: Bool) {
        let processed = Int(state.pointee.tmp_out_processed)
        let pending = max(0, Int(state.pointee.tmp_out_valid) - processed)
        let count = min(pending, output.count)
        if count > 0 {
            // Safe because processed + count ≤ tmp_out_valid ≤ the buffer's size, and count ≤ output.count.
            output.baseAddress!.copyMemory(from: klogs_isal_pending_output(state), byteCount: count)
            state.pointee.tmp_out_processed += Int32(count)
        }
        return (count, count == pending)
    }

    /// The failure for an ISA-L error status, in zlib's words where zlib has some.
    private static func failure(status: Int32) -> Result {
        switch status {
        case ISAL_INCORRECT_CHECKSUM:
            // The trailer: the data decoded, but its CRC-32 or length differs from the one recorded.
            return .failed(message: "incorrect data or length check", isChecksum: true)
        case ISAL_INVALID_BLOCK:
            return .failed(message: "invalid deflate block", isChecksum: false)
        case ISAL_INVALID_SYMBOL:
            return .failed(message: "invalid code in deflate data", isChecksum: false)
        case ISAL_INVALID_LOOKBACK:
            return .failed(message: "invalid distance too far back", isChecksum: false)
        default:
            return .failed(message: "ISA-L status \(status)", isChecksum: false)
        }
    }
}

/// Reads a gzip member header (RFC 1952, section 2.3) as it streams in, in pieces of any size, holding none of it:
/// the fixed ten bytes, then the optional extra field, file name, comment and header CRC that its flags announce.
///
/// Refuses what zlib refuses: another compression method than deflate, reserved flag bits set (RFC 1952 says a
/// decoder must), and a header CRC that does not match.
struct GzipHeaderReader {
    /// The part of the header being read.
    private enum Field: Equatable {
        case fixed, extraLength, extra, name, comment, headerCRC, done
    }

    private static let fixedLength = 10
    /// FLG bits (RFC 1952): which optional fields follow the fixed part, in this order.
    private static let optionalFields: [(flag: UInt8, field: Field)] = [
        (0x04, .extraLength), (0x08, .name), (0x10, .comment), (0x02, .headerCRC),
    ]
    private static let reservedFlags: UInt8 = 0xe0

    private var field = Field.fixed
    /// Bytes left in a field of known length (the fixed part, XLEN, the extra field, the header CRC).
    private var remaining = fixedLength
    private var flags: UInt8 = 0
    /// A little-endian field being read (XLEN, the header CRC).
    private var value = 0
    /// CRC-32 of the header bytes before the header CRC, which holds its low 16 bits.
    private var crc: UInt32 = 0

    /// Whether the whole header has been read.
    var isComplete: Bool { field == .done }

    /// Reads header bytes from the start of `input`, up to the end of the header at most.
    ///
    /// - Returns: The bytes consumed, and why the header is refused, if it is.
    mutating func read(_ input: UnsafeRawBufferPointer) -> (consumed: Int, failure: String?) {
        var index = 0
        while field != .done && index < input.count {
            let first = index
            let current = field
            if let failure = readField(input, at: &index) { return (index, failure) }
            if current != .headerCRC {
                crc = crc32_gzip_refl(crc, input.baseAddress! + first, UInt64(index - first))
            }
        }
        return (index, nil)
    }

    /// Reads the current field, or as much of it as `input` holds from `index` on, and moves `index` past it.
    private mutating func readField(_ input: UnsafeRawBufferPointer, at index: inout Int) -> String? {
        switch field {
        case .fixed:
            let byte = input[index]
            let position = Self.fixedLength - remaining
            if position < 2 && byte != [0x1f, 0x8b][position] { return "incorrect header check" }
            if position == 2 && byte != 8 { return "unknown compression method" }
            if position == 3 {
                if byte & Self.reservedFlags != 0 { return "unknown header flags set" }
                flags = byte
            }
            index += 1
            remaining -= 1
            if remaining == 0 { moveToField(after: .fixed) }
        case .extraLength, .headerCRC:
            value |= Int(input[index]) << (8 * (2 - remaining))
            index += 1
            remaining -= 1
            guard remaining == 0 else { return nil }
            if field == .headerCRC {
                if UInt32(value) != crc & 0xffff { return "header crc mismatch" }
                field = .done
            } else if value == 0 {
                moveToField(after: .extra)
            } else {
                field = .extra
                remaining = value
            }
        case .extra:
            let count = min(remaining, input.count - index)
            index += count
            remaining -= count
            if remaining == 0 { moveToField(after: .extra) }
        case .name, .comment:
            // Zero-terminated.
            let rest = UnsafeRawBufferPointer(rebasing: input[index...])
            if let zero = memchr(rest.baseAddress!, 0, rest.count) {
                index += rest.baseAddress!.distance(to: UnsafeRawPointer(zero)) + 1
                moveToField(after: field)
            } else {
                index = input.count
            }
        case .done:
            break
        }
        return nil
    }

    /// Goes to the next optional field that the flags announce after `previous`, or to the end of the header.
    private mutating func moveToField(after previous: Field) {
        // The extra field's data follows its length: after it come the fields after `.extraLength`.
        let previous = previous == .extra ? Field.extraLength : previous
        let start = Self.optionalFields.firstIndex { $0.field == previous }.map { $0 + 1 } ?? 0
        let next = Self.optionalFields[start...].first { flags & $0.flag != 0 }
        field = next?.field ?? .done
        remaining = 2
        value = 0
    }
}
