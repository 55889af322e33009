internal import CPCRE2
import Synchronization

/// One regular expression compiled by PCRE2 and by its JIT.
///
/// This type and ``MatchScratch`` are the only places in the module that touch PCRE2's C state. A pattern is
/// JIT-compiled on its ``jitThreshold``-th match (PCRE2's interpreter runs it until then), or at once by
/// ``compileJITNow()`` (``UserAgentRuleSet/compileEveryRule()``). Several threads may match one
/// pattern at once, each with its own ``MatchScratch``: the compiled code is read-only, and the JIT works on a private
/// copy that is published once, atomically (see ``jitCode()``).
final class CompiledPattern: @unchecked Sendable {
    /// The address of the compiled code (never JIT-compiled itself, so it stays read-only), or ``notCompiled`` for a
    /// pattern made by ``init(known:caseInsensitive:captureCount:maximumStart:)`` until its first match, which
    /// compiles it and publishes the code once, atomically (see ``code``).
    private let codeState: Atomic<UInt>
    /// The pattern and its options, for a pattern compiled on its first match; empty for the others.
    private let source: [UInt8]
    private let options: UInt32
    /// The JIT-compiled copy of `code`: ``notCompiled`` until ``jitThreshold`` matches, ``jitUnavailable`` if the JIT
    /// failed or is not wanted, else the address of the copy.
    private let jitState: Atomic<UInt>
    private static let notCompiled: UInt = 0
    private static let jitUnavailable: UInt = 1
    /// Matches run by the interpreter so far, while `jitState` is ``notCompiled``.
    private let interpretedMatches = Atomic<Int>(0)
    /// The JIT compiles a pattern on its this-many-th match. The JIT of a rule costs as much as some 40 interpreted
    /// matches (about 200 k instructions, where a match costs 11 k interpreted and 6 k JIT-compiled, measured on
    /// uap-core's agents: docs/USER-AGENTS.md); a rule matched only a few times in a run is cheaper interpreted.
    /// Measured with callgrind, 8 beat 32 on an ingest, and 1 and 32 on the distinct agents of the benchmark.
    static let jitThreshold = 8
    /// The number of capturing groups in the pattern.
    let captureCount: Int
    /// For a rewritten rule (``SearchedPattern``): the last offset where a match may start, with no line feed before
    /// it; nil for any start.
    let maximumStart: Int?

    /// Whether PCRE2 was built with LF as its newline (Debian's default), so that `.` stops at a line feed only.
    static let newlineIsLineFeed: Bool = {
        var newline: UInt32 = 0
        return pcre2_config_8(UInt32(PCRE2_CONFIG_NEWLINE), &newline) >= 0 && newline == UInt32(PCRE2_NEWLINE_LF)
    }()

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
    ///   - jit: also compiles the pattern to machine code (once it has been matched ``jitThreshold`` times).
    ///   - maximumStart: the last offset where a match may start (see ``SearchedPattern``); nil for any.
    /// - Throws: ``CompileError`` with PCRE2's message.
    init(_ pattern: String, caseInsensitive: Bool, jit: Bool = true, maximumStart: Int? = nil) throws(CompileError) {
        self.maximumStart = maximumStart
        let options = Self.options(caseInsensitive: caseInsensitive)
        let compiled = try Self.compile(Array(pattern.utf8), options: options).get()
        codeState = Atomic(UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(compiled))))
        (source, self.options) = ([], options)
        var count: UInt32 = 0
        pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_CAPTURECOUNT), &count)
        captureCount = Int(count)
        jitState = Atomic(jit ? Self.notCompiled : Self.jitUnavailable)
    }

    /// A pattern known to compile, with `captureCount` groups (it compiled, with the same PCRE2, when
    /// ``UserAgentRuleCache`` stored its rules), compiled on its first match: a run tries only some of the rules.
    init(known pattern: String, caseInsensitive: Bool, captureCount: Int, maximumStart: Int? = nil) {
        self.maximumStart = maximumStart
        codeState = Atomic(Self.notCompiled)
        (source, options) = (Array(pattern.utf8), Self.options(caseInsensitive: caseInsensitive))
        self.captureCount = captureCount
        jitState = Atomic(Self.notCompiled)
    }

    deinit {
        let state = jitState.load(ordering: .acquiring)
        if state > Self.jitUnavailable { pcre2_code_free_8(OpaquePointer(bitPattern: state)) }
        let code = codeState.load(ordering: .acquiring)
        if code != Self.notCompiled { pcre2_code_free_8(OpaquePointer(bitPattern: code)) }
    }

    private static func options(caseInsensitive: Bool) -> UInt32 {
        caseInsensitive ? UInt32(PCRE2_CASELESS) : 0
    }

    /// `pattern` compiled by PCRE2 in byte mode, or why not.
    private static func compile(_ pattern: [UInt8], options: UInt32) -> Result<OpaquePointer, CompileError> {
        var errorCode: Int32 = 0
        var errorOffset = 0
        // A terminated copy, so that even an empty pattern has an address.
        let terminated = pattern + [0]
        let compiled = terminated.withUnsafeBufferPointer { buffer in
            // Safe because the buffer outlives the call and its length (without the terminator) is passed.
            pcre2_compile_8(buffer.baseAddress, buffer.count - 1, options, &errorCode, &errorOffset, nil)
        }
        guard let compiled else { return .failure(CompileError(message: message(for: errorCode), offset: errorOffset)) }
        return .success(compiled)
    }

    /// The compiled code, compiled now if this is the first match of a pattern compiled on its first match.
    ///
    /// Two threads may both compile it at once; one code is published by a compare-and-exchange and the other
    /// freed, so every caller then uses the same code (as for the JIT, ``jitCode()``).
    @inline(__always)
    private var code: OpaquePointer {
        let state = codeState.load(ordering: .acquiring)
        if state != Self.notCompiled { return OpaquePointer(bitPattern: state)! }  // safe: not zero
        return compileOnFirstMatch()
    }

    @inline(never)
    private func compileOnFirstMatch() -> OpaquePointer {
        guard case .success(let compiled) = Self.compile(source, options: options) else {
            // The pattern compiled with this PCRE2 when its rules were stored (the cache key names the version).
            preconditionFailure("a cached user-agent rule no longer compiles with PCRE2")
        }
        let address = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(compiled)))
        let (exchanged, original) = codeState.compareExchange(
            expected: Self.notCompiled, desired: address, ordering: .acquiringAndReleasing)
        if exchanged { return compiled }
        // Another thread published first: use its code.
        pcre2_code_free_8(compiled)
        return OpaquePointer(bitPattern: original)!  // safe: the exchange failed, so it is not zero
    }

    /// The version of the PCRE2 library in use, such as "10.42 2022-12-11".
    static let libraryVersion: String = {
        var buffer = [UInt8](repeating: 0, count: 64)
        let length = buffer.withUnsafeMutableBytes { pcre2_config_8(UInt32(PCRE2_CONFIG_VERSION), $0.baseAddress) }
        return length > 1 ? String(decoding: buffer[..<Int(length - 1)], as: UTF8.self) : "unknown"
    }()

    /// JIT-compiles the pattern now, if it is not yet (see ``UserAgentRuleSet/compileEveryRule()``).
    func compileJITNow() {
        if jitState.load(ordering: .acquiring) == Self.notCompiled { _ = compileJIT() }
    }

    /// Whether the JIT has compiled this pattern (after ``jitThreshold`` matches).
    var isJITCompiled: Bool { jitState.load(ordering: .relaxed) > Self.jitUnavailable }

    /// Searches `subject` (unanchored) from `startOffset` and leaves the capture offsets in `scratch`.
    ///
    /// - Parameter startOffset: where the search starts; the caller knows no match starts earlier. Look-behinds and
    ///   `\b` still see the bytes before it.
    /// - Returns: whether the pattern matched (within ``maximumStart``); false also when PCRE2 gives up (match or JIT
    ///   stack limit).
    @inline(__always)
    func matches(_ subject: UnsafeBufferPointer<UInt8>, _ scratch: MatchScratch, startOffset: Int = 0) -> Bool {
        // An empty buffer may have a nil base address; PCRE2 accepts any non-nil pointer with length 0.
        let base = subject.baseAddress ?? UnsafePointer(scratch.emptySubject)
        let result: Int32
        if let jitCode = jitCode() {
            result = pcre2_jit_match_8(jitCode, base, subject.count, startOffset, 0, scratch.matchData, scratch.context)
        } else {
            result = pcre2_match_8(code, base, subject.count, startOffset, 0, scratch.matchData, scratch.context)
        }
        guard result >= 0 else { return false }
        if let maximumStart, !Self.startsInFirstLine(subject, scratch.ovector[0], maximumStart) { return false }
        // Groups beyond this pattern's own count still hold offsets from earlier matches of other patterns.
        scratch.groupLimit = captureCount + 1
        return true
    }

    /// Whether a match at `start` is one the original `^.{0,N}` rule would find: `start` ≤ N, no line feed before it.
    private static func startsInFirstLine(_ subject: UnsafeBufferPointer<UInt8>, _ start: Int, _ limit: Int) -> Bool {
        guard start <= limit else { return false }
        return !UnsafeBufferPointer(rebasing: subject[..<start]).contains(0x0A)
    }

    /// The JIT-compiled code, compiled now if this is the ``jitThreshold``-th match; nil for the interpreter.
    ///
    /// Two threads may both compile a copy at once; one copy is published by a compare-and-exchange and
    /// the other freed, so every caller then uses the same code.
    @inline(__always)
    private func jitCode() -> OpaquePointer? {
        let state = jitState.load(ordering: .acquiring)
        if state > Self.jitUnavailable { return OpaquePointer(bitPattern: state) }
        if state == Self.jitUnavailable { return nil }
        if interpretedMatches.wrappingAdd(1, ordering: .relaxed).newValue < Self.jitThreshold { return nil }
        return compileJIT()
    }

    @inline(never)
    private func compileJIT() -> OpaquePointer? {
        var compiled = Self.jitUnavailable
        // Safe to copy concurrently: `code` is only read.
        if let copy = pcre2_code_copy_8(self.code) {
            if pcre2_jit_compile_8(copy, UInt32(PCRE2_JIT_COMPLETE)) == 0 {
                compiled = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(copy)))
            } else {
                pcre2_code_free_8(copy)
            }
        }
        let (exchanged, original) = jitState.compareExchange(
            expected: Self.notCompiled, desired: compiled, ordering: .acquiringAndReleasing)
        if !exchanged {
            // Another thread published first: use its code.
            if compiled > Self.jitUnavailable { pcre2_code_free_8(OpaquePointer(bitPattern: compiled)) }
            compiled = original
        }
        return compiled > Self.jitUnavailable ? OpaquePointer(bitPattern: compiled) : nil
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
    fileprivate let ovector: UnsafeMutablePointer<Int>
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
