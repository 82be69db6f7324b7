/// The fixed, portable 64-bit hash every diversity metric uses for tokens,
/// n-grams and records (never Swift's per-process-seeded `Hasher`), so counts,
/// sketches and samples are identical on every machine and can be persisted
/// and merged.
///
/// Bytes are hashed as their UTF-8 encoding, 8 at a time (little-endian words)
/// through `PortableHash.combine`, with the length folded into the last word;
/// two strings hash equal only if their UTF-8 bytes are equal (up to 64-bit
/// collisions), exactly like Python's string equality — not Swift's
/// canonical-equivalence `==`.
public enum TextHash {
    /// The hash of a UTF-8 byte sequence.
    @inlinable
    public static func hash(_ bytes: some Collection<UInt8>, seed: UInt64 = 0) -> UInt64 {
        var state = PortableHash.mix(seed ^ 0x5851_F42D_4C95_7F2D)
        var word: UInt64 = 0
        var shift: UInt64 = 0
        for byte in bytes {
            word |= UInt64(byte) << shift
            shift += 8
            if shift == 64 {
                state = PortableHash.combine(state, word)
                word = 0
                shift = 0
            }
        }
        return PortableHash.combine(state, word, UInt64(bytes.count))
    }

    /// The hash of a string's UTF-8 bytes.
    @inlinable
    public static func hash(_ text: Substring, seed: UInt64 = 0) -> UInt64 {
        hash(text.utf8, seed: seed)
    }

    /// The hash of a string's UTF-8 bytes.
    @inlinable
    public static func hash(_ text: String, seed: UInt64 = 0) -> UInt64 {
        hash(text.utf8, seed: seed)
    }

    /// The hash of an ordered sequence of token hashes (an n-gram).
    @inlinable
    public static func hash(tokens: some Sequence<UInt64>, order: Int) -> UInt64 {
        var state = ngramSeed(order: order)
        for token in tokens {
            state = PortableHash.combine(state, token)
        }
        return state
    }

    /// The initial state of `hash(tokens:order:)`; extend it with
    /// `PortableHash.combine(state, token)` per token.
    @inlinable
    public static func ngramSeed(order: Int) -> UInt64 {
        PortableHash.mix(0xC2B2_AE3D_27D4_EB4F &+ UInt64(order))
    }
}
