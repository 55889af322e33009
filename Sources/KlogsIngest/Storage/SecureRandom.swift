internal import Glibc

/// Bytes from the system's cryptographically secure generator.
///
/// `getrandom(2)` itself is not visible through Swift's Glibc module; glibc's `getentropy(3)` is its thin wrapper:
/// it calls `getrandom(2)`, blocks only until the kernel pool is first initialised, and retries on `EINTR`. It takes
/// at most 256 bytes per call, so longer requests are split; a failure is retried on `EINTR` here as well.
enum SecureRandom {
    /// Fills `target` with random bytes.
    ///
    /// - Throws: `IngestError` when the generator is unavailable (`ENOSYS` on kernels older than 3.17) or fails.
    static func fill(_ target: UnsafeMutableRawBufferPointer) throws {
        var offset = 0
        while offset < target.count {
            let count = min(256, target.count - offset)
            // Safe because offset + count ≤ target.count.
            if getentropy(target.baseAddress! + offset, count) == 0 {
                offset += count
            } else if errno != EINTR {
                // getentropy fails only with EFAULT, EIO or ENOSYS (kernel older than 3.17): no safe fallback.
                let code = errno
                throw IngestError(
                    .outputFailed(errno: code), path: nil,
                    "The system random generator failed (\(errnoText(code))); klogs needs getrandom(2), "
                        + "Linux 3.17 or later.")
            }
        }
    }

    /// A random 64-bit value.
    static func next() throws -> UInt64 {
        var value: UInt64 = 0
        try withUnsafeMutableBytes(of: &value) { try fill($0) }
        return value
    }

    /// `count` random bytes as lowercase hexadecimal, for temporary file names.
    static func hex(byteCount count: Int) throws -> String {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBytes { try fill($0) }
        return hexString(bytes)
    }
}

func hexString<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var result: [UInt8] = []
    for byte in bytes {
        result.append(digits[Int(byte >> 4)])
        result.append(digits[Int(byte & 0x0f)])
    }
    return String(decoding: result, as: UTF8.self)
}
