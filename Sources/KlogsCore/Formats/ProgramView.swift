/// The per-line interpreter of a ``FormatProgram``, over pointers the program owns (the parser keeps the program
/// alive alongside the view).
///
/// Each step finds its field's end by its shape (a token's terminator eight bytes at a time, a fixed width, a
/// closing quote), compares the rest of the literal after it in one masked word, and stores the field; lines that
/// end early, unquoted lists and rare fields leave this path. All of it is one function,
/// ``advance(_:_:_:_:_:_:_:)``, that switches once on the step's operation. The generic loop calls it with each
/// step's operation; a run of steps that spells a common layout (``UnrolledRun``) calls it with the operations as
/// constants, so the compiler removes the dispatch, with the same code, hence the same results, as the loop.
///
/// When the run's literals are the ones nginx and Apache write (``ProgramTraits/fusesRun``), it goes further: the
/// run's fields are read in one straight pass (``runFused(_:_:_:_:_:_:)``) that compares the separators as constants
/// and keeps no per-step state, and a line it cannot read exactly as the steps would (a client list, a line ending
/// early, a malformed field) is parsed again step by step. Then a compiled `combined` costs about what the
/// hand-tuned parser costs (1.05 times its instructions on generated lines).
struct ProgramView: @unchecked Sendable {
    let steps: UnsafePointer<FormatStep>
    let count: Int
    let literals: UnsafeRawPointer
    let traits: ProgramTraits

    /// Parses one line (trailing blanks already excluded by `end`) into `record`.
    ///
    /// - Complexity: one forward pass over the line (two for a line the fused run gives up on).
    func run(
        _ line: UnsafeRawBufferPointer, _ end: Int, _ record: inout AccessRecord, _ time: inout CommonLogTimeParser,
        _ match: inout FormatMatch
    ) -> RejectReason? {
        if traits.fusesRun {
            if case .done(let reason) = runFusing(line, end, &record, &time, &match) { return reason }
            // A line that does not follow the layout exactly: parsed again, step by step, for the outcome (the
            // reject reason, the fields of a line that ends early) the steps give.
            record.begin(line)
        }
        return runSteps(line, end, &record, &time, &match)
    }

    /// Parses a line step by step, the unrolled run (if any) included.
    private func runSteps(
        _ line: UnsafeRawBufferPointer, _ end: Int, _ record: inout AccessRecord, _ time: inout CommonLogTimeParser,
        _ match: inout FormatMatch
    ) -> RejectReason? {
        record.resetForProgram()
        var cursor = LineCursor()
        guard readLeadingLiteral(line, end, &cursor) else { return .missingField }
        var step = steps
        let stepsEnd = steps + count
        if traits.unrolledRun == .none {
            if let reason = advanceSteps(&step, to: stepsEnd, line, end, &cursor, &record, &time) { return reason }
        } else {
            let runStart = steps + traits.unrolledStart
            if let reason = advanceSteps(&step, to: runStart, line, end, &cursor, &record, &time) { return reason }
            if cursor.position < end {
                if let reason = runUnrolled(step, line, end, &cursor, &record, &time) { return reason }
                step += traits.unrolledRun.length
                if let reason = advanceSteps(&step, to: stepsEnd, line, end, &cursor, &record, &time) { return reason }
            }
        }
        cursor.report(into: &match, end, missingSteps: step < stepsEnd)
        if traits.hasTime && !cursor.fields.timeSeen { return cursor.missing ? .missingField : .badTimestamp }
        if traits.hasStatus && !cursor.fields.statusSeen { return .missingField }
        cursor.fields.finish(&record, composesRequest: traits.composesRequest)
        return nil
    }

    /// What ``runFusing(_:_:_:_:_:)`` made of a line.
    private enum FusedOutcome {
        /// The line is parsed (`nil`) or rejected by a step after the run, as the steps would have.
        case done(RejectReason?)
        /// The line does not follow the layout exactly (or a step before the run rejects it): the record holds
        /// any subset of the fields, and the line must be parsed again step by step.
        case irregular
    }

    /// Parses a line with the unrolled run fused (``runFused(_:_:_:_:_:_:)``), the steps around it one by one.
    ///
    /// The record is not reset first, and the checks after the last step are left out: the fused run stores every
    /// field ``AccessRecord/resetForProgram()`` resets, and reads a time, a status, a client and a request line
    /// (which gives method and path), so those checks could not reject the line nor ``FieldState/finish`` change
    /// it (the compiler makes separate method and protocol fields skipped ones when there is a request line).
    @inline(__always)
    private func runFusing(
        _ line: UnsafeRawBufferPointer, _ end: Int, _ record: inout AccessRecord, _ time: inout CommonLogTimeParser,
        _ match: inout FormatMatch
    ) -> FusedOutcome {
        var cursor = LineCursor()
        let runStart = steps + traits.unrolledStart
        let stepsEnd = steps + count
        var step = steps
        guard readLeadingLiteral(line, end, &cursor),
            advanceSteps(&step, to: runStart, line, end, &cursor, &record, &time) == nil,
            runFused(runStart, line, end, &cursor, &record, &time)
        else { return .irregular }
        step += traits.unrolledRun.length
        if let reason = advanceSteps(&step, to: stepsEnd, line, end, &cursor, &record, &time) { return .done(reason) }
        cursor.report(into: &match, end, missingSteps: step < stepsEnd)
        return .done(nil)
    }

    /// Moves the cursor past the literal before the first field; `false` when the line does not start with it.
    @inline(__always)
    private func readLeadingLiteral(_ line: UnsafeRawBufferPointer, _ end: Int, _ cursor: inout LineCursor) -> Bool {
        guard traits.leadingCount > 0 else { return true }
        guard traits.leadingCount <= end, literalMatches(line, 0, 0, traits.leadingCount) else { return false }
        cursor.position = traits.leadingCount
        return true
    }

    /// Runs the steps from `step` up to `last` through the generic loop, stopping early when the line has ended
    /// (the steps left then read nothing); `step` is left at the first step not run.
    @inline(__always)
    private func advanceSteps(
        _ step: inout UnsafePointer<FormatStep>, to last: UnsafePointer<FormatStep>, _ line: UnsafeRawBufferPointer,
        _ end: Int, _ cursor: inout LineCursor, _ record: inout AccessRecord, _ time: inout CommonLogTimeParser
    ) -> RejectReason? {
        while step < last && cursor.position < end {
            if let reason = advanceAny(step, line, end, &cursor, &record, &time) { return reason }
            step += 1
        }
        return nil
    }

    /// Runs the steps of the unrolled run from `first`, each with its operation as a constant.
    ///
    /// Out of line: the compiler inlines the specialised steps into this function while it is small, and stops when
    /// a function has grown large (inlined into `run`, none of them would be).
    @inline(never)
    private func runUnrolled(
        _ first: UnsafePointer<FormatStep>, _ line: UnsafeRawBufferPointer, _ end: Int, _ cursor: inout LineCursor,
        _ record: inout AccessRecord, _ time: inout CommonLogTimeParser
    ) -> RejectReason? {
        var step = first
        // %h %l %u or $remote_addr - $remote_user: the client and one or two skipped tokens.
        if let reason = advance(ClientToken(), step, line, end, &cursor, &record, &time) { return reason }
        if let reason = advance(SkipToken(), step + 1, line, end, &cursor, &record, &time) { return reason }
        step += 2
        if traits.unrolledRun.isApache {
            if let reason = advance(SkipToken(), step, line, end, &cursor, &record, &time) { return reason }
            step += 1
        }
        // [%t] "%r" %>s %b
        if let reason = advance(TimeFixed(), step, line, end, &cursor, &record, &time) { return reason }
        if let reason = advance(RequestQuoted(), step + 1, line, end, &cursor, &record, &time) { return reason }
        if let reason = advance(StatusFixed(), step + 2, line, end, &cursor, &record, &time) { return reason }
        if let reason = advance(BodyBytesToken(), step + 3, line, end, &cursor, &record, &time) { return reason }
        guard traits.unrolledRun.isCombined else { return nil }
        // "%{Referer}i" "%{User-Agent}i"
        if let reason = advance(ReferrerQuoted(), step + 4, line, end, &cursor, &record, &time) { return reason }
        return advance(UserAgentQuoted(), step + 5, line, end, &cursor, &record, &time)
    }

    /// Runs the unrolled run from `first` as one pass over a line that follows the layout exactly, with the
    /// literals nginx and Apache write between its fields (``ProgramTraits/fusesRun``) compared as constants and no
    /// per-step bookkeeping; the fields, the cursor and the record end as the steps leave them.
    ///
    /// - Returns: `false`, having stored any subset of the fields, at the first thing that is not the layout's
    ///   (the line ending early, a client list, a malformed field, an unterminated quote): the caller parses the
    ///   line again from its start, step by step.
    @inline(__always)
    private func runFused(
        _ first: UnsafePointer<FormatStep>, _ line: UnsafeRawBufferPointer, _ end: Int, _ cursor: inout LineCursor,
        _ record: inout AccessRecord, _ time: inout CommonLogTimeParser
    ) -> Bool {
        let space = UInt8(ascii: " ")
        let quote = UInt8(ascii: "\"")
        let start = cursor.position
        // $remote_addr or %h
        guard let (clientEnd, fieldEnd) = Self.clientEnds(line, start, end) else { return false }
        record.clientField = FieldRange(start, clientEnd)
        var userStart = fieldEnd &+ 1
        if traits.unrolledRun.isApache {
            // %l
            guard let identEnd = Self.plainTokenEnd(line, userStart, end) else { return false }
            userStart = identEnd &+ 1
        } else {
            // nginx's literal `-` of the ident.
            guard fieldEnd &+ 3 <= end, line[fieldEnd &+ 1] == UInt8(ascii: "-"), line[fieldEnd &+ 2] == space
            else { return false }
            userStart = fieldEnd &+ 3
        }
        // $remote_user or %u, then `[`.
        guard let userEnd = Self.plainTokenEnd(line, userStart, end), userEnd &+ 2 <= end,
            line[userEnd &+ 1] == UInt8(ascii: "[")
        else { return false }
        // $time_local`] "`
        let timeStart = userEnd &+ 2
        let timeEnd = timeStart &+ 26
        guard timeEnd &+ 3 <= end, line[timeEnd] == UInt8(ascii: "]"), line[timeEnd &+ 1] == space,
            line[timeEnd &+ 2] == quote,
            let timestamp = time.parse(UnsafeRawBufferPointer(rebasing: line[timeStart..<timeEnd]))
        else { return false }
        record.timestamp = timestamp
        // $request`" `
        guard let (request, afterRequest) = AccessLogParser.quoted(line, timeEnd &+ 3, end, &record),
            afterRequest < end, line[afterRequest] == space
        else { return false }
        record.requestField = request
        AccessLogParser.splitRequest(&record)
        // $status` `
        let statusStart = afterRequest &+ 1
        guard statusStart &+ 4 <= end, line[statusStart &+ 3] == space,
            let hundreds = Timestamp.digit(line[statusStart]), let tens = Timestamp.digit(line[statusStart &+ 1]),
            let ones = Timestamp.digit(line[statusStart &+ 2])
        else { return false }
        record.status = Int32(hundreds &* 100 &+ tens &* 10 &+ ones)
        // $body_bytes_sent
        let sizeStart = statusStart &+ 4
        let sizeEnd = Self.tokenEnd(space, line, sizeStart, end)
        guard let size = AccessLogParser.size(line, sizeStart, sizeEnd) else { return false }
        record.responseBytes = size
        var captured = cursor.captured &+ (record.requestKind != .empty ? 5 : 4)
        // The last field's end: where its literal starts, in the line's last byte or not.
        let lastFieldEnd: Int
        if traits.unrolledRun.isCombined {
            // ` "`$http_referer`" "`$http_user_agent
            guard sizeEnd &+ 2 <= end, line[sizeEnd &+ 1] == quote,
                let (referrer, afterReferrer) = AccessLogParser.quoted(line, sizeEnd &+ 2, end, &record),
                afterReferrer &+ 2 <= end, line[afterReferrer] == space, line[afterReferrer &+ 1] == quote,
                let (userAgent, afterUserAgent) = AccessLogParser.quoted(line, afterReferrer &+ 2, end, &record)
            else { return false }
            if Self.hasValue(referrer, record) {
                record.referrerField = referrer
                captured &+= 1
            }
            record.userAgentField = userAgent
            if Self.hasValue(userAgent, record) { captured &+= 1 }
            lastFieldEnd = afterUserAgent &- 1
        } else {
            lastFieldEnd = sizeEnd
        }
        // The last step's literal, which may go on past the run's (its first byte, a quote or a space, ended the
        // field); a line may end with the field, before the format does.
        if let next = literalEnd(first + traits.unrolledRun.length - 1, line, lastFieldEnd, end) {
            cursor.position = next
        } else if lastFieldEnd &+ (traits.unrolledRun.isCombined ? 1 : 0) == end {
            cursor.endsEarly(at: end)
        } else {
            return false
        }
        cursor.captured = captured
        cursor.fields.timeSeen = true
        cursor.fields.statusSeen = true
        cursor.fields.bodySeen = true
        return true
    }

    /// The ends of the client field at `start` that a space follows, as the steps read it: the client's (the first
    /// element's of an unquoted list `a, b, c`) and the field's; `nil` for a client that is empty, quoted or
    /// bracketed, or that runs to the end of the line.
    @inline(__always)
    private static func clientEnds(_ line: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> (Int, Int)? {
        guard start < end else { return nil }
        let tokenEnd = tokenEnd(UInt8(ascii: " "), line, start, end)
        guard tokenEnd > start, tokenEnd < end, line[start] != UInt8(ascii: "\""), line[start] != UInt8(ascii: "[")
        else { return nil }
        guard line[tokenEnd &- 1] == UInt8(ascii: ",") else { return (tokenEnd, tokenEnd) }
        return clientListEnds(line, start, tokenEnd, end)
    }

    /// ``clientEnds(_:_:_:)`` for a list whose first token ends (with a comma) at `tokenEnd`. Out of line: rare, and
    /// inlined it would crowd the registers of the fused run.
    @inline(never)
    private static func clientListEnds(_ line: UnsafeRawBufferPointer, _ start: Int, _ tokenEnd: Int, _ end: Int)
        -> (Int, Int)?
    {
        let fieldEnd = listEnd(line, start, tokenEnd, end)
        guard fieldEnd < end, let firstComma = IPAddress.indexOf(UInt8(ascii: ","), line, start, tokenEnd) else {
            return nil
        }
        return (firstComma, fieldEnd)
    }

    /// The end of the token at `start` that a space follows, when it is not a list (does not end with a comma):
    /// a token the steps read alike whether or not they allow lists.
    @inline(__always)
    private static func plainTokenEnd(_ line: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int? {
        guard start < end else { return nil }
        // The usual `-` (no ident, no user) in two compares rather than a word search.
        if start &+ 1 < end && line[start] == UInt8(ascii: "-") && line[start &+ 1] == UInt8(ascii: " ") {
            return start &+ 1
        }
        let tokenEnd = tokenEnd(UInt8(ascii: " "), line, start, end)
        guard tokenEnd < end, tokenEnd == start || line[tokenEnd &- 1] != UInt8(ascii: ",") else { return nil }
        return tokenEnd
    }

    /// The end of the literal of `step` when the line holds it at `start`, its first `consumed` bytes being those
    /// the field's end was found by (a closing quote, a token's terminator); `nil` when it does not.
    @inline(__always)
    private func literalEnd(_ step: UnsafePointer<FormatStep>, _ line: UnsafeRawBufferPointer, _ start: Int, _ end: Int)
        -> Int?
    {
        let next = start &+ Int(step.pointee.literalCount)
        guard next <= end, tailMatches(step, line, start &+ Int(step.pointee.consumed)) else { return nil }
        return next
    }

    /// ``advance(_:_:_:_:_:_:_:)`` with the step's own operation, out of line: inlined, its thirteen operations
    /// would make `run` too large for the compiler to inline the field scanners into the unrolled run.
    @inline(never)
    private func advanceAny(
        _ step: UnsafePointer<FormatStep>, _ line: UnsafeRawBufferPointer, _ end: Int, _ cursor: inout LineCursor,
        _ record: inout AccessRecord, _ time: inout CommonLogTimeParser
    ) -> RejectReason? {
        advance(OwnOperation(), step, line, end, &cursor, &record, &time)
    }

    /// Reads the field of `step` at the cursor and the literal after it, stores the field by `operation` (the
    /// step's own, passed apart so that callers can make it a constant), and moves the cursor past the literal.
    /// A line that ended before this step reads nothing and marks the cursor's line as missing fields.
    ///
    /// The field's end is found inline, by the operation's shape: the scanners are written here rather than
    /// called, because the compiler would not inline them into the unrolled run.
    private func advance<Source: OperationSource>(
        _ source: Source, _ step: UnsafePointer<FormatStep>, _ line: UnsafeRawBufferPointer, _ end: Int,
        _ cursor: inout LineCursor, _ record: inout AccessRecord, _ time: inout CommonLogTimeParser
    ) -> RejectReason? {
        let operation = source.operation(of: step)
        let position = cursor.position
        guard position < end else {
            cursor.missing = true
            return nil
        }
        let literalCount = Int(step.pointee.literalCount)
        var field: FieldRange
        var listed = false
        switch operation.shape {
        case .quoted:
            // Up to the closing quote, which is the literal's first byte, unescaped when needed.
            if let (range, after) = AccessLogParser.quoted(line, position, end, &record) {
                field = range
                let next = after &- 1 &+ literalCount
                if next > end || !tailMatches(step, line, after) {
                    guard after == end else { return .missingField }
                    cursor.endsEarly(at: end)  // the line ends here, before the format does
                } else {
                    cursor.position = next
                }
            } else if literalCount == 1 {
                // A line cut inside its last quoted field (a logger's line limit): keep the rest.
                field = AccessLogParser.truncatedField(line, position, end, &record)
                cursor.position = end
            } else {
                return .unterminatedQuote
            }
        case .token:
            // Up to the terminator, eight bytes at a time; an unquoted list `a, b, c` goes on after a comma and
            // spaces.
            var fieldEnd = Self.tokenEnd(
                step.pointee.terminator, line, position, end, pattern: step.pointee.terminatorPattern)
            // The comma first: it is rare, so the usual token pays one compare.
            if fieldEnd > position, fieldEnd < end, line[fieldEnd - 1] == UInt8(ascii: ","), step.pointee.allowsList {
                fieldEnd = Self.listEnd(line, position, fieldEnd, end)
                listed = true
            }
            field = FieldRange(position, fieldEnd)
            let next = fieldEnd &+ literalCount
            if next > end || !tailMatches(step, line, fieldEnd &+ Int(step.pointee.consumed)) {
                guard fieldEnd == end else { return .missingField }
                cursor.endsEarly(at: end)
            } else {
                cursor.position = next
            }
        case .fixed:
            let fieldEnd = position &+ Int(step.pointee.width)
            guard fieldEnd <= end else { return FormatProgram.malformed(step.pointee.kind) }
            field = FieldRange(position, fieldEnd)
            let next = fieldEnd &+ literalCount
            if next > end || !tailMatches(step, line, fieldEnd) {
                guard fieldEnd == end else { return FormatProgram.malformed(step.pointee.kind) }
                cursor.endsEarly(at: end)
            } else {
                cursor.position = next
            }
        }
        switch operation {
        case .skipToken, .skipFixed, .skipQuoted:
            break
        case .clientToken:
            // `store` keeps a list's first element.
            if listed { return store(step, field, &cursor, &record, &time) }
            guard field.count > 0, line[position] != UInt8(ascii: "\""), line[position] != UInt8(ascii: "[") else {
                return .badClient
            }
            record.clientField = field
            cursor.captured &+= 1
        case .bodyBytesToken:
            guard let size = AccessLogParser.size(line, position, position + Int(field.count)) else {
                return .badBytes
            }
            record.responseBytes = size
            cursor.fields.bodySeen = true
            cursor.captured &+= 1
        case .statusFixed:
            guard let hundreds = Timestamp.digit(line[position]), let tens = Timestamp.digit(line[position + 1]),
                let ones = Timestamp.digit(line[position + 2])
            else { return .badStatus }
            record.status = Int32(hundreds * 100 + tens * 10 + ones)
            cursor.fields.statusSeen = true
            cursor.captured &+= 1
        case .timeFixed:
            guard let value = time.parse(UnsafeRawBufferPointer(rebasing: line[position..<(position + 26)])) else {
                return .badTimestamp
            }
            record.timestamp = value
            cursor.fields.timeSeen = true
            cursor.captured &+= 1
        case .requestQuoted:
            record.requestField = field
            AccessLogParser.splitRequest(&record)
            if record.requestKind != .empty { cursor.captured &+= 1 }
        case .referrerQuoted:
            if Self.hasValue(field, record) {
                record.referrerField = field
                cursor.captured &+= 1
            }
        case .userAgentQuoted:
            record.userAgentField = field
            if Self.hasValue(field, record) { cursor.captured &+= 1 }
        case .storeToken, .storeFixed, .storeQuoted:
            return store(step, field, &cursor, &record, &time)
        }
        return nil
    }

    /// Stores a field through ``FormatProgram/store(_:_:_:_:_:_:)``: the fields without an inline path.
    private func store(
        _ step: UnsafePointer<FormatStep>, _ field: FieldRange, _ cursor: inout LineCursor,
        _ record: inout AccessRecord, _ time: inout CommonLogTimeParser
    ) -> RejectReason? {
        var fieldMatch = FormatMatch()
        if let reason = FormatProgram.store(step.pointee.kind, field, &record, &time, &cursor.fields, &fieldMatch) {
            return reason
        }
        cursor.captured &+= fieldMatch.capturedFields
        return nil
    }

    // MARK: Literals and tokens

    /// Whether `line[position..<position + count]` equals the literal bytes at `start`.
    @inline(__always)
    private func literalMatches(_ line: UnsafeRawBufferPointer, _ position: Int, _ start: Int, _ count: Int) -> Bool {
        var index = 0
        while index < count {
            // Safe because start + count lies inside the literals (built together by the compiler).
            if line[position + index] != literals.load(fromByteOffset: start + index, as: UInt8.self) { return false }
            index += 1
        }
        return true
    }

    /// Whether the rest of the step's literal (after the `consumed` bytes) is at `position`, which the caller
    /// checked lies with the whole literal inside the line: one masked word compare when the line has eight
    /// readable bytes there and the rest fits in a word, else byte by byte.
    @inline(__always)
    private func tailMatches(_ step: UnsafePointer<FormatStep>, _ line: UnsafeRawBufferPointer, _ position: Int)
        -> Bool
    {
        if position &+ 8 <= line.count {
            // Safe because position + 8 <= line.count, so the line has a base address.
            let word = line.baseAddress.unsafelyUnwrapped.loadUnaligned(fromByteOffset: position, as: UInt64.self)
            if UInt64(littleEndian: word) & step.pointee.tailMask == step.pointee.tailWord { return true }
            if step.pointee.tailMask != 0 { return false }
        }
        let consumed = Int(step.pointee.consumed)
        return literalMatches(
            line, position, Int(step.pointee.literalStart) + consumed, Int(step.pointee.literalCount) - consumed)
    }

    /// The offset of the first `byte` in `line[start..<end]`, or `end`: eight bytes at a time (the line's bytes
    /// after `end`, trailing blanks, may be read but never match), then byte by byte.
    @inline(__always)
    static func tokenEnd(
        _ byte: UInt8, _ line: UnsafeRawBufferPointer, _ start: Int, _ end: Int,
        pattern: UInt64 = 0x2020_2020_2020_2020
    ) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101
        var index = start
        if let base = line.baseAddress {
            while index &+ 8 <= line.count {
                // Safe because index + 8 <= line.count.
                let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self)) ^ pattern
                // A zero byte of `word` marks the byte; the lowest flagged byte is always a true match.
                let found = (word &- ones) & ~word & 0x8080_8080_8080_8080
                if found != 0 { return min(index &+ found.trailingZeroBitCount &>> 3, end) }
                index &+= 8
                if index >= end { return end }
            }
        }
        while index < end && line[index] != byte { index &+= 1 }
        return index
    }

    /// The end of an unquoted list `a, b, c` whose first element ends (with a comma) at `firstEnd`.
    static func listEnd(_ line: UnsafeRawBufferPointer, _ start: Int, _ firstEnd: Int, _ end: Int) -> Int {
        var fieldEnd = firstEnd
        while fieldEnd < end, fieldEnd > start, line[fieldEnd - 1] == UInt8(ascii: ",") {
            fieldEnd += 1
            while fieldEnd < end && line[fieldEnd] == UInt8(ascii: " ") { fieldEnd += 1 }
            fieldEnd = tokenEnd(UInt8(ascii: " "), line, fieldEnd, end)
        }
        return fieldEnd
    }

    /// Whether a field holds a value: not empty and not `-` (reads its bytes only when it is one byte long).
    @inline(__always)
    static func hasValue(_ field: FieldRange, _ record: AccessRecord) -> Bool {
        field.count > 1 || (field.count == 1 && record.bytes(field)[0] != UInt8(ascii: "-"))
    }
}

/// Where ``ProgramView/advance(_:_:_:_:_:_:_:)`` takes a step's operation from. The unrolled runs pass types whose
/// operation is a constant: the compiler specialises `advance` for each, and the switches on the operation fold
/// away, leaving each step as small as its own field's code.
protocol OperationSource {
    func operation(of step: UnsafePointer<FormatStep>) -> StepOperation
}

/// The step's own operation, read at run time (the generic loop).
struct OwnOperation: OperationSource {
    @inline(__always) func operation(of step: UnsafePointer<FormatStep>) -> StepOperation { step.pointee.operation }
}

/// An operation that is a constant of its type.
protocol ConstantOperation: OperationSource {
    static var operation: StepOperation { get }
}

extension ConstantOperation {
    @inline(__always) func operation(of step: UnsafePointer<FormatStep>) -> StepOperation { Self.operation }
}

struct ClientToken: ConstantOperation { static var operation: StepOperation { .clientToken } }
struct SkipToken: ConstantOperation { static var operation: StepOperation { .skipToken } }
struct TimeFixed: ConstantOperation { static var operation: StepOperation { .timeFixed } }
struct RequestQuoted: ConstantOperation { static var operation: StepOperation { .requestQuoted } }
struct StatusFixed: ConstantOperation { static var operation: StepOperation { .statusFixed } }
struct BodyBytesToken: ConstantOperation { static var operation: StepOperation { .bodyBytesToken } }
struct ReferrerQuoted: ConstantOperation { static var operation: StepOperation { .referrerQuoted } }
struct UserAgentQuoted: ConstantOperation { static var operation: StepOperation { .userAgentQuoted } }

/// Where one line's parse stands between steps.
struct LineCursor {
    /// The offset of the next step's field.
    var position = 0
    /// The line ended before the format did.
    var missing = false
    /// Fields holding a value so far (for ``FormatMatch``).
    var captured = 0
    var fields = FieldState()

    /// The line ends at `end`, before the format does: the steps left read nothing.
    @inline(__always)
    mutating func endsEarly(at end: Int) {
        missing = true
        position = end
    }

    /// Writes how the line matched into `match`, once the steps are run up to the end of the line or the format
    /// (`missingSteps`: the line ended first).
    @inline(__always)
    mutating func report(into match: inout FormatMatch, _ end: Int, missingSteps: Bool) {
        if missingSteps { missing = true }
        match.capturedFields = captured
        match.missingFields = missing
        match.trailingBytes = !missing && position < end
    }
}

/// A run of step operations that spells the fields of nginx's or Apache's `combined` or `common` layout (their
/// literals may differ: only the operations must match), which ``ProgramView`` executes unrolled.
enum UnrolledRun: UInt8, Sendable {
    case none
    /// `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent`
    case nginxCommon
    /// nginx common, then `"$http_referer" "$http_user_agent"`.
    case nginxCombined
    /// `%h %l %u %t "%r" %>s %b`
    case apacheCommon
    /// Apache common, then `"%{Referer}i" "%{User-Agent}i"`.
    case apacheCombined

    /// The operations of the run, in order.
    var operations: [StepOperation] {
        switch self {
        case .none: return []
        case .nginxCommon, .apacheCommon, .nginxCombined, .apacheCombined:
            return [.clientToken, .skipToken] + (isApache ? [.skipToken] : [])
                + [.timeFixed, .requestQuoted, .statusFixed, .bodyBytesToken]
                + (isCombined ? [.referrerQuoted, .userAgentQuoted] : [])
        }
    }

    /// The number of steps (not `operations.count`: read per line, it must not build an array).
    var length: Int {
        switch self {
        case .none: 0
        case .nginxCommon: 6
        case .apacheCommon: 7
        case .nginxCombined: 8
        case .apacheCombined: 9
        }
    }
    var isApache: Bool { self == .apacheCommon || self == .apacheCombined }
    var isCombined: Bool { self == .nginxCombined || self == .apacheCombined }

    /// Whether the run, with `literals` after its steps, can run as ``ProgramView``'s fused pass: the literals
    /// after all its steps but the last are those of nginx's and Apache's own layouts (`$remote_addr -
    /// $remote_user [$time_local] "$request" …`, `%h %l %u %t "%r" …`), and the last is a quoted field or a size
    /// ended by a space or the line's end.
    func isFusable(literals: [[UInt8]]) -> Bool {
        guard self != .none, literals.count == length, let last = literals.last else { return false }
        let separators = (isApache ? [" ", " ", " ["] : [" - ", " ["]) + [#"] ""#, #"" "#, " "]
            + (isCombined ? [#" ""#, #"" ""#] : [])
        return literals.dropLast().elementsEqual(separators.map { Array($0.utf8) })
            && (isCombined || last.first ?? UInt8(ascii: " ") == UInt8(ascii: " "))
    }

    /// The first run in `operations`, the longest one where several start at the same step, and its start.
    static func find(in operations: [StepOperation]) -> (UnrolledRun, Int) {
        for start in operations.indices {
            for run in [UnrolledRun.apacheCombined, .nginxCombined, .apacheCommon, .nginxCommon]
            where operations[start...].starts(with: run.operations) {
                return (run, start)
            }
        }
        return (.none, 0)
    }
}
