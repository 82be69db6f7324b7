/// xxHash64 (Yann Collet's XXH64), written in portable Swift.
///
/// The output is identical on every machine and every run: it depends only on
/// the input bytes and the seed (never on `Hasher`'s per-process seed). MinHash
/// uses it to hash normalized words; it is also public so that other stages
/// (sharding, storage keys) can reuse one stable hash.
public enum XXHash64 {
    @usableFromInline static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
    @usableFromInline static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    @usableFromInline static let prime3: UInt64 = 0x1656_67B1_9E37_79F9
    @usableFromInline static let prime4: UInt64 = 0x85EB_CA77_C2B2_AE63
    @usableFromInline static let prime5: UInt64 = 0x27D4_EB2F_1656_67C5

    /// The XXH64 hash of `bytes` with `seed`.
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        guard let base = bytes.baseAddress else { return hash(empty: seed) }
        return hash(base, count: bytes.count, seed: seed)
    }

    /// The XXH64 hash of the UTF-8 bytes of `string` with `seed`.
    public static func hash(_ string: String, seed: UInt64 = 0) -> UInt64 {
        var copy = string
        return copy.withUTF8 { hash(UnsafeRawBufferPointer($0), seed: seed) }
    }

    /// The XXH64 hash of `bytes` with `seed`.
    public static func hash(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { hash($0, seed: seed) }
    }

    static func hash(empty seed: UInt64) -> UInt64 {
        avalanche(seed &+ prime5)
    }

    @inline(__always)
    static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
        var acc = acc &+ input &* prime2
        acc = rotateLeft(acc, 31)
        return acc &* prime1
    }

    @inline(__always)
    static func mergeRound(_ acc: UInt64, _ value: UInt64) -> UInt64 {
        let acc = acc ^ round(0, value)
        return acc &* prime1 &+ prime4
    }

    @inline(__always) @usableFromInline
    static func rotateLeft(_ value: UInt64, _ count: UInt64) -> UInt64 {
        (value &<< count) | (value &>> (64 &- count))
    }

    /// The XXH64 final mix: every input bit affects every output bit.
    @inline(__always) @usableFromInline
    static func avalanche(_ hash: UInt64) -> UInt64 {
        var h = hash
        h ^= h &>> 33
        h = h &* prime2
        h ^= h &>> 29
        h = h &* prime3
        h ^= h &>> 32
        return h
    }

    @inline(__always)
    static func load64(_ p: UnsafeRawPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inline(__always)
    static func load32(_ p: UnsafeRawPointer, _ offset: Int) -> UInt64 {
        UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
    }

    /// The XXH64 hash of `count` bytes at `p` (hot path: no allocation, no bounds checks).
    @inline(__always)
    static func hash(_ p: UnsafeRawPointer, count: Int, seed: UInt64) -> UInt64 {
        var offset = 0
        var h: UInt64
        if count >= 32 {
            var v1 = seed &+ prime1 &+ prime2
            var v2 = seed &+ prime2
            var v3 = seed
            var v4 = seed &- prime1
            let limit = count - 32
            repeat {
                v1 = round(v1, load64(p, offset))
                v2 = round(v2, load64(p, offset + 8))
                v3 = round(v3, load64(p, offset + 16))
                v4 = round(v4, load64(p, offset + 24))
                offset += 32
            } while offset <= limit
            h = rotateLeft(v1, 1) &+ rotateLeft(v2, 7) &+ rotateLeft(v3, 12) &+ rotateLeft(v4, 18)
            h = mergeRound(h, v1)
            h = mergeRound(h, v2)
            h = mergeRound(h, v3)
            h = mergeRound(h, v4)
        } else {
            h = seed &+ prime5
        }
        h = h &+ UInt64(count)
        while offset + 8 <= count {
            h ^= round(0, load64(p, offset))
            h = rotateLeft(h, 27) &* prime1 &+ prime4
            offset += 8
        }
        if offset + 4 <= count {
            h ^= load32(p, offset) &* prime1
            h = rotateLeft(h, 23) &* prime2 &+ prime3
            offset += 4
        }
        while offset < count {
            h ^= UInt64(p.load(fromByteOffset: offset, as: UInt8.self)) &* prime5
            h = rotateLeft(h, 11) &* prime1
            offset += 1
        }
        return avalanche(h)
    }
}
