/// A fixed, portable 64-bit mixing function (the SplitMix64 finalizer).
///
/// Everything that must be reproducible across machines and processes —
/// the sampling permutation, demonstration draws — hashes through this type.
/// Swift's `Hasher` is randomly seeded per process and must never be used
/// for that purpose.
public enum PortableHash {
    /// The SplitMix64 output function applied to `value + golden gamma`.
    @inlinable
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Combines two words into one well-mixed word; order matters.
    @inlinable
    public static func combine(_ first: UInt64, _ second: UInt64) -> UInt64 {
        mix(mix(first) ^ second)
    }

    /// Combines three words into one well-mixed word; order matters.
    @inlinable
    public static func combine(_ first: UInt64, _ second: UInt64, _ third: UInt64) -> UInt64 {
        combine(combine(first, second), third)
    }
}
