/// A seeded bijection of `[0, count)` onto itself, computed in O(1) memory.
///
/// A balanced Feistel network permutes the smallest domain `[0, 4^h)` that holds
/// `count` values (so the domain is less than four times `count`); *cycle
/// walking* re-applies the network until the result falls inside `[0, count)`,
/// which keeps the map a bijection on the smaller range. The round function is
/// ``PortableHash``, so the same seed gives the same permutation on every
/// machine and in every process. See `docs/condition-space.md`.
public struct FeistelPermutation: Sendable, Hashable {
    /// The number of elements permuted.
    public let count: UInt64
    /// The seed the round keys derive from.
    public let seed: UInt64

    /// Number of Feistel rounds. Eight rounds of a strong round function are
    /// plenty for statistical (non-cryptographic) uniformity.
    public static let rounds = 8

    private let halfBits: UInt64
    private let halfMask: UInt64
    private let roundKeys: [UInt64]

    /// Creates the permutation of `[0, count)` selected by `seed`.
    public init(count: UInt64, seed: UInt64) {
        self.count = count
        self.seed = seed
        var half: UInt64 = 1
        // Smallest h >= 1 with 2^(2h) >= count; h = 32 covers every UInt64.
        while half < 32, (UInt64(1) << (2 * half)) < count { half += 1 }
        self.halfBits = half
        self.halfMask = half == 32 ? UInt64(UInt32.max) : (UInt64(1) << half) - 1
        self.roundKeys = (0..<Self.rounds).map { PortableHash.combine(seed, 0x5045_5253_4F4E_41 &+ UInt64($0)) }
    }

    /// The element that `index` maps to. `index` must be in `[0, count)`.
    public func callAsFunction(_ index: UInt64) -> UInt64 {
        precondition(index < count, "FeistelPermutation: index \(index) out of range [0, \(count))")
        var value = index
        repeat { value = encrypt(value) } while value >= count
        return value
    }

    /// The index that maps to `element`: the inverse, `inverse(self(i)) == i`.
    public func inverse(_ element: UInt64) -> UInt64 {
        precondition(element < count, "FeistelPermutation: element \(element) out of range [0, \(count))")
        var value = element
        repeat { value = decrypt(value) } while value >= count
        return value
    }

    @inline(__always)
    private func round(_ key: UInt64, _ half: UInt64) -> UInt64 {
        PortableHash.mix(key ^ half) & halfMask
    }

    private func encrypt(_ value: UInt64) -> UInt64 {
        var left = (value >> halfBits) & halfMask
        var right = value & halfMask
        for key in roundKeys {
            (left, right) = (right, left ^ round(key, right))
        }
        return (left << halfBits) | right
    }

    private func decrypt(_ value: UInt64) -> UInt64 {
        var left = (value >> halfBits) & halfMask
        var right = value & halfMask
        for key in roundKeys.reversed() {
            (left, right) = (right ^ round(key, left), left)
        }
        return (left << halfBits) | right
    }
}
