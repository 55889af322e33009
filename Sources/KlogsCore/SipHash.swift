/// A 128-bit SipHash key.
public struct SipHashKey: Hashable, Sendable {
    /// The first 8 key bytes, read little-endian.
    public var k0: UInt64
    /// The last 8 key bytes, read little-endian.
    public var k1: UInt64

    /// Creates a key from its two little-endian halves.
    public init(k0: UInt64, k1: UInt64) {
        self.k0 = k0
        self.k1 = k1
    }

    /// Creates a key from 16 bytes (as stored in a key file); `nil` unless exactly 16.
    public init?(bytes: some Sequence<UInt8>) {
        var k0: UInt64 = 0
        var k1: UInt64 = 0
        var count = 0
        for byte in bytes {
            guard count < 16 else { return nil }
            if count < 8 { k0 |= UInt64(byte) << (8 * count) } else { k1 |= UInt64(byte) << (8 * (count - 8)) }
            count += 1
        }
        guard count == 16 else { return nil }
        self.init(k0: k0, k1: k1)
    }

    /// The 16 key bytes, `k0` then `k1`, little-endian.
    public var bytes: [UInt8] {
        (0..<16).map { UInt8(truncatingIfNeeded: ($0 < 8 ? k0 : k1) >> (8 * ($0 % 8))) }
    }
}

/// SipHash-2-4 with a 64-bit output (Aumasson and Bernstein, 2012), streamed over any number of byte slices.
///
/// Feeding `"ab"` then `"c"` gives the same hash as `"abc"`: callers hash several fields without concatenating
/// them. Verified against all 64 reference vectors of the paper.
///
/// ```swift
/// var hasher = SipHasher(key: key)
/// hasher.append(addressBytes); hasher.append(userAgentBytes)
/// let value = hasher.finalize()
/// ```
public struct SipHasher: Sendable {
    private var v0: UInt64
    private var v1: UInt64
    private var v2: UInt64
    private var v3: UInt64
    /// Up to 7 pending bytes, little-endian in the low bits.
    private var tail: UInt64 = 0
    private var tailCount: Int = 0
    private var length: Int = 0

    /// Starts a hash under `key`.
    @inline(__always)
    public init(key: SipHashKey) {
        v0 = key.k0 ^ 0x736f_6d65_7073_6575
        v1 = key.k1 ^ 0x646f_7261_6e64_6f6d
        v2 = key.k0 ^ 0x6c79_6765_6e65_7261
        v3 = key.k1 ^ 0x7465_6462_7974_6573
    }

    @inline(__always)
    private mutating func round() {
        v0 = v0 &+ v1
        v1 = v1.rotatedLeft(13)
        v1 ^= v0
        v0 = v0.rotatedLeft(32)
        v2 = v2 &+ v3
        v3 = v3.rotatedLeft(16)
        v3 ^= v2
        v0 = v0 &+ v3
        v3 = v3.rotatedLeft(21)
        v3 ^= v0
        v2 = v2 &+ v1
        v1 = v1.rotatedLeft(17)
        v1 ^= v2
        v2 = v2.rotatedLeft(32)
    }

    @inline(__always)
    private mutating func compress(_ word: UInt64) {
        v3 ^= word
        round()
        round()
        v0 ^= word
    }

    /// Appends one byte.
    @inline(__always)
    public mutating func append(_ byte: UInt8) {
        tail |= UInt64(byte) << (8 * tailCount)
        tailCount += 1
        length += 1
        if tailCount == 8 {
            compress(tail)
            tail = 0
            tailCount = 0
        }
    }

    /// Appends a 64-bit value as 8 little-endian bytes.
    @inline(__always)
    public mutating func append(_ value: UInt64) {
        length += 8
        if tailCount == 0 {
            compress(value)
        } else {
            // Complete the pending word with the value's low bytes and keep its high bytes pending.
            let shift = UInt64(8 * tailCount)
            compress(tail | value << shift)
            tail = value >> (64 - shift)
        }
    }

    /// Appends bytes.
    /// - Complexity: O(bytes.count), eight bytes per compression whatever the alignment of earlier input.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        var index = 0
        let count = bytes.count
        while count - index >= 8 {
            append(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)))
            index += 8
        }
        while index < count {
            append(bytes[index])
            index += 1
        }
    }

    /// Appends the bytes of an array (tests and configuration; the hot path passes raw buffers).
    public mutating func append(contentsOf bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// The 64-bit hash of everything appended. The hasher must not be used afterwards.
    @inline(__always)
    public consuming func finalize() -> UInt64 {
        let last = UInt64(truncatingIfNeeded: length & 0xFF) << 56 | tail
        compress(last)
        v2 ^= 0xFF
        round()
        round()
        round()
        round()
        return v0 ^ v1 ^ v2 ^ v3
    }

    /// The hash of everything appended followed by three 64-bit words, without the byte bookkeeping of `append`.
    ///
    /// Equal to appending the three words then calling `finalize()`. Meant for fixed-size messages hashed many
    /// times under one key: hash their constant start once, copy that hasher, then finish each message here. When
    /// the start is whole words (nothing pending), the words are compressed directly.
    @inline(__always)
    public consuming func finalize(appending word0: UInt64, _ word1: UInt64, _ word2: UInt64) -> UInt64 {
        if tailCount == 0 {
            length += 24
            compress(word0)
            compress(word1)
            compress(word2)
        } else {
            append(word0)
            append(word1)
            append(word2)
        }
        return finalize()
    }

    /// The hash of everything appended followed by four 64-bit words: `finalize(appending:_:_:)` after one more.
    @inline(__always)
    public consuming func finalize(appending word0: UInt64, _ word1: UInt64, _ word2: UInt64, _ word3: UInt64)
        -> UInt64
    {
        append(word0)
        return finalize(appending: word1, word2, word3)
    }

    /// The SipHash-2-4 of one byte buffer.
    public static func hash(_ bytes: UnsafeRawBufferPointer, key: SipHashKey) -> UInt64 {
        var hasher = SipHasher(key: key)
        hasher.append(bytes)
        return hasher.finalize()
    }
}

extension UInt64 {
    @inline(__always)
    func rotatedLeft(_ count: UInt64) -> UInt64 {
        (self << count) | (self >> (64 &- count))
    }
}
