internal import CPCRE2

/// One regular expression compiled by PCRE2 (and, where the platform allows, by its JIT).
///
/// This type and ``MatchScratch`` are the only places in the module that touch PCRE2's C state. The compiled code is
/// read-only after `init`, so one pattern may be matched from several threads at once as long as each thread brings
/// its own ``MatchScratch``.
final class CompiledPattern: @unchecked Sendable {
    /// The compiled code; never nil after `init` succeeds.
    private let code: OpaquePointer
    /// Whether `pcre2_jit_compile_8` succeeded, so the fast `pcre2_jit_match_8` entry point may be used.
    let isJITCompiled: Bool
    /// The number of capturing groups in the pattern.
    let captureCount: Int

    /// Why a pattern could not be compiled: PCRE2's message and the byte offset in the pattern.
    struct CompileError: Error {
        var message: String
        var offset: Int
    }

    /// Compiles `pattern` in byte mode (no UTF): user agents in logs are not always valid UTF-8 and uap-core's
    /// patterns are ASCII.
    ///
    /// - Parameters:
    ///   - pattern: the regular expression in PCRE2 syntax.
    ///   - caseInsensitive: compiles with `PCRE2_CASELESS` (uap-core's `regex_flag: 'i'`).
    ///   - jit: also compiles the pattern to machine code.
    /// - Throws: ``CompileError`` with PCRE2's message.
    init(_ pattern: String, caseInsensitive: Bool, jit: Bool = true) throws(CompileError) {
        var errorCode: Int32 = 0
        var errorOffset = 0
        let options: UInt32 = caseInsensitive ? UInt32(PCRE2_CASELESS) : 0
        var utf8 = Array(pattern.utf8)
        utf8.append(0)
        let compiled = utf8.withUnsafeBufferPointer { buffer in
            // Safe because the buffer outlives the call and its length (without the terminator) is passed.
            pcre2_compile_8(buffer.baseAddress, buffer.count - 1, options, &errorCode, &errorOffset, nil)
        }
        guard let compiled else {
            throw CompileError(message: Self.message(for: errorCode), offset: errorOffset)
        }
        code = compiled
        var count: UInt32 = 0
        pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_CAPTURECOUNT), &count)
        captureCount = Int(count)
        isJITCompiled = jit && pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE)) == 0
    }

    deinit {
        pcre2_code_free_8(code)
    }

    /// Searches `subject` (unanchored) and leaves the capture offsets in `scratch`.
    ///
    /// - Returns: whether the pattern matched; false also when PCRE2 gives up (match or JIT stack limit).
    @inline(__always)
    func matches(_ subject: UnsafeBufferPointer<UInt8>, _ scratch: MatchScratch) -> Bool {
        // An empty buffer may have a nil base address; PCRE2 accepts any non-nil pointer with length 0.
        let base = subject.baseAddress ?? UnsafePointer(scratch.emptySubject)
        let result: Int32
        if isJITCompiled {
            result = pcre2_jit_match_8(code, base, subject.count, 0, 0, scratch.matchData, scratch.context)
        } else {
            result = pcre2_match_8(code, base, subject.count, 0, 0, scratch.matchData, scratch.context)
        }
        guard result >= 0 else { return false }
        // Groups beyond this pattern's own count still hold offsets from earlier matches of other patterns.
        scratch.groupLimit = captureCount + 1
        return true
    }

    private static func message(for errorCode: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = buffer.withUnsafeMutableBufferPointer { pointer in
            pcre2_get_error_message_8(errorCode, pointer.baseAddress, pointer.count)
        }
        return length > 0 ? String(decoding: buffer[..<Int(length)], as: UTF8.self) : "PCRE2 error \(errorCode)"
    }
}

/// Per-thread matching state: PCRE2 match data (the capture offsets), a match context and a JIT stack.
///
/// One scratch serves every pattern whose capture count is at most `maximumCaptures`. Not thread-safe.
final class MatchScratch {
    fileprivate let matchData: OpaquePointer
    fileprivate let context: OpaquePointer
    private let jitStack: OpaquePointer?
    private let ovector: UnsafeMutablePointer<Int>
    private let pairCount: Int
    /// One more than the capture count of the pattern that matched last; groups from here on do not exist.
    fileprivate(set) var groupLimit = 0

    /// A one-byte buffer to point at when the subject is empty (PCRE2 wants a non-null pointer).
    fileprivate let emptySubject: UnsafeMutablePointer<UInt8>

    /// - Parameter maximumCaptures: the largest capture count of the patterns this scratch will be used with.
    init(maximumCaptures: Int) {
        pairCount = maximumCaptures + 1
        // Safe because these allocations only fail when memory is exhausted, which Swift treats as fatal anyway.
        matchData = pcre2_match_data_create_8(UInt32(pairCount), nil)!
        context = pcre2_match_context_create_8(nil)!
        // A 1 MiB JIT stack (instead of the default 32 KiB on the machine stack) so that long, backtracking-heavy
        // user agents do not hit PCRE2_ERROR_JIT_STACKLIMIT.
        jitStack = pcre2_jit_stack_create_8(32 * 1024, 1024 * 1024, nil)
        pcre2_jit_stack_assign_8(context, nil, UnsafeMutableRawPointer(jitStack))
        // uap-core's patterns are bounded ({0,200}); a hostile agent must not make one run for seconds.
        pcre2_set_match_limit_8(context, 1_000_000)
        ovector = pcre2_get_ovector_pointer_8(matchData)
        emptySubject = .allocate(capacity: 1)
        emptySubject.initialize(to: 0)
    }

    deinit {
        if let jitStack { pcre2_jit_stack_free_8(jitStack) }
        pcre2_match_context_free_8(context)
        pcre2_match_data_free_8(matchData)
        emptySubject.deallocate()
    }

    /// The byte range of capture `group` in the last successful match, or nil if the group did not take part
    /// (or does not exist).
    @inline(__always)
    func range(ofGroup group: Int) -> Range<Int>? {
        guard group < groupLimit else { return nil }
        let start = ovector[2 * group]
        // PCRE2_UNSET (~0) marks a group that did not participate.
        guard start != Int(bitPattern: UInt(bitPattern: -1)) else { return nil }
        return start..<ovector[2 * group + 1]
    }
}
