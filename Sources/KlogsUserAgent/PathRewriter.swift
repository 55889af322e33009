internal import CPCRE2

/// Rewrites request paths with `REGEX=REPLACEMENT` rules before they are stored (`--path-rewrite`), so that ids
/// in paths (`/user/12345` → `/user/:id`) never reach the dataset.
///
/// Rules are PCRE2 patterns (byte mode, JIT-compiled) applied in order, each replacing every match; the
/// replacement may refer to groups as `$1` or `${name}` (PCRE2's substitution syntax). A rule is split at its
/// last `=`, so a pattern may hold `=` (in a lookahead) but a replacement may not.
///
/// ```swift
/// let rewriter = try PathRewriter(rules: ["/user/[0-9]+=/user/:id"])
/// rewriter.rewrite(path) { rewritten in paths.intern(rewritten) }
/// ```
///
/// A path that no rule matches costs one JIT match per rule and no copy. Not thread-safe: one rewriter per thread.
public final class PathRewriter {
    /// One compiled rule.
    private struct Rule {
        let code: OpaquePointer
        let replacement: [UInt8]
    }

    /// A rule that is not `REGEX=REPLACEMENT` or whose pattern does not compile.
    public struct RuleError: Error, CustomStringConvertible {
        public var rule: String
        public var message: String
        public var description: String { "--path-rewrite '\(rule)': \(message)" }
    }

    private let rules: [Rule]
    private let matchData: OpaquePointer
    // Two buffers used in turn as the output of one rule and the subject of the next.
    private var buffers: (UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>)
    private var capacity: Int
    /// The number of rules.
    public var count: Int { rules.count }

    /// Compiles the rules.
    ///
    /// - Throws: ``RuleError`` for a rule without `=`, with an empty pattern, or whose pattern does not compile.
    public init(rules specifications: [String]) throws(RuleError) {
        var compiled: [Rule] = []
        for specification in specifications {
            guard let equals = specification.lastIndex(of: "="), equals != specification.startIndex else {
                for rule in compiled { pcre2_code_free_8(rule.code) }
                throw RuleError(
                    rule: specification, message: "expected REGEX=REPLACEMENT, e.g. '/user/[0-9]+=/user/:id'.")
            }
            let pattern = Array(specification[..<equals].utf8)
            let replacement = Array(specification[specification.index(after: equals)...].utf8)
            var errorCode: Int32 = 0
            var errorOffset = 0
            let code = pattern.withUnsafeBufferPointer {
                pcre2_compile_8($0.baseAddress, $0.count, 0, &errorCode, &errorOffset, nil)
            }
            guard let code else {
                for rule in compiled { pcre2_code_free_8(rule.code) }
                var message = [UInt8](repeating: 0, count: 256)
                let length = message.withUnsafeMutableBufferPointer {
                    pcre2_get_error_message_8(errorCode, $0.baseAddress, $0.count)
                }
                let text = length > 0 ? String(decoding: message[..<Int(length)], as: UTF8.self) : "error \(errorCode)"
                throw RuleError(
                    rule: specification, message: "the pattern does not compile at offset \(errorOffset): \(text).")
            }
            _ = pcre2_jit_compile_8(code, UInt32(PCRE2_JIT_COMPLETE))
            compiled.append(Rule(code: code, replacement: replacement))
        }
        rules = compiled
        // Safe because these allocations only fail when memory is exhausted, which Swift treats as fatal anyway.
        matchData = pcre2_match_data_create_8(32, nil)!
        capacity = 4096
        buffers = (.allocate(capacity: capacity), .allocate(capacity: capacity))
    }

    deinit {
        for rule in rules { pcre2_code_free_8(rule.code) }
        pcre2_match_data_free_8(matchData)
        buffers.0.deallocate()
        buffers.1.deallocate()
    }

    /// Calls `body` with the path after every rule was applied (the path itself when no rule matched).
    ///
    /// A rule whose substitution fails (a replacement naming a group that does not exist) leaves the path as it was.
    /// - Complexity: one JIT match per rule, plus a substitution per matching rule; no allocation unless a
    ///   rewritten path outgrows the buffers.
    public func rewrite<Result>(_ path: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        var subject = path
        var useFirst = true
        for rule in rules {
            let base = subject.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(buffers.0)
            guard pcre2_match_8(rule.code, base, subject.count, 0, 0, matchData, nil) >= 0 else { continue }
            while true {
                let target = useFirst ? buffers.0 : buffers.1
                var length = capacity
                let options = UInt32(PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH)
                let result = rule.replacement.withUnsafeBufferPointer { replacement in
                    pcre2_substitute_8(
                        rule.code, base, subject.count, 0, options, matchData, nil,
                        replacement.baseAddress ?? UnsafePointer(buffers.0), replacement.count, target, &length)
                }
                if result == PCRE2_ERROR_NOMEMORY {
                    grow(to: length + 1, keeping: subject)
                    // The subject may have lived in a buffer that moved: start again from the path.
                    return rewrite(path, body)
                }
                if result >= 0 {
                    subject = UnsafeRawBufferPointer(start: target, count: length)
                    useFirst.toggle()
                }
                break
            }
        }
        return body(subject)
    }

    private func grow(to minimum: Int, keeping _: UnsafeRawBufferPointer) {
        let newCapacity = max(capacity * 2, minimum)
        buffers.0.deallocate()
        buffers.1.deallocate()
        buffers = (.allocate(capacity: newCapacity), .allocate(capacity: newCapacity))
        capacity = newCapacity
    }
}
