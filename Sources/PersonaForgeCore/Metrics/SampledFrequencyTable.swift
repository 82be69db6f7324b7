/// Frequencies of hashed items in bounded memory: exact until more than
/// `capacity` distinct items have been seen, then an adaptive hash sample.
///
/// Sampling works on item *types*, not occurrences (Gibbons' distinct
/// sampling): at sampling level `k` an item is tracked iff the top `k` bits of
/// its remixed hash are zero (rate `p = 2^-k`), and a tracked item's count is
/// exact because the level only grows — every item tracked now was tracked
/// from its first occurrence. Whenever the table outgrows `capacity` the level
/// goes up by one and about half the items are dropped.
///
/// At the first overflow the `pinCapacity` most frequent items (the table is
/// still exact then) are pinned: they stay tracked with exact counts forever.
/// Heavy hitters dominate sums like `Σ c·log c`, so pinning them removes most
/// of the sampling variance.
///
/// `estimatedSum(of:)` estimates `Σ f(count)` over all items as
/// `Σ_pinned f(c) + 2^k · Σ_sampled f(c)`: exact while `isExact`, unbiased
/// afterwards, with relative standard error about
/// `sqrt((1 - p) / p) · ‖w‖₂ / ‖w‖₁` over the unpinned terms `w = f(c)`.
///
/// Merging is exact while both sides are exact and within capacity; otherwise
/// the merge is the table of the union at the larger level (items pinned on
/// one side only stay pinned if the other side is exact, else they are
/// treated like any other item).
public struct SampledFrequencyTable: Sendable, Hashable, Codable {
    /// Maximum number of sampled (unpinned) items kept.
    public let capacity: Int
    /// Maximum number of pinned heavy hitters.
    public let pinCapacity: Int
    /// The sampling level `k`: items are tracked with probability `2^-k`.
    public private(set) var level = 0
    // Open-addressing tables (`HashCounts`), encoded exactly as `[UInt64: Int]` was.
    private var sampled = HashCounts()
    private var pinned = HashCounts()

    /// An empty table that is exact up to `capacity` distinct items.
    public init(capacity: Int, pinCapacity: Int? = nil) {
        precondition(capacity >= 1, "capacity must be at least 1")
        self.capacity = capacity
        self.pinCapacity = pinCapacity ?? max(1, capacity / 16)
    }

    /// Whether every item seen so far is counted exactly.
    public var isExact: Bool { level == 0 }

    /// The probability that an unpinned item is tracked, `2^-level`.
    public var samplingRate: Double { 1 / scale }

    /// `2^level`, the weight of one sampled item.
    public var scale: Double { Double(sign: .plus, exponent: level, significand: 1) }

    /// The number of items currently tracked (sampled and pinned).
    public var trackedCount: Int { sampled.count + pinned.count }

    /// Whether an item with this hash is tracked (and its count known).
    @inlinable
    public func isTracked(_ hash: UInt64) -> Bool {
        weight(of: hash) != 0
    }

    /// The weight of an item in estimates: 1 if pinned, `2^level` if sampled,
    /// 0 if not tracked.
    public func weight(of hash: UInt64) -> Double {
        if pinned[hash] != nil { return 1 }
        return Self.passes(hash, level: level) ? scale : 0
    }

    /// The exact count of a tracked item, or nil if the item is not tracked.
    public func count(of hash: UInt64) -> Int? {
        if let count = pinned[hash] { return count }
        return Self.passes(hash, level: level) ? (sampled[hash] ?? 0) : nil
    }

    /// Counts `occurrences` more of the item with this hash.
    public mutating func add(_ hash: UInt64, occurrences: Int = 1) {
        if !pinned.isEmpty, pinned[hash] != nil {
            pinned.add(hash, occurrences)
            return
        }
        guard Self.passes(hash, level: level) else { return }
        sampled.add(hash, occurrences)
        if sampled.count > capacity { shrink() }
    }

    /// Estimates `Σ f(count)` over every item ever added (see the type's docs).
    /// The sum is taken over counts in ascending order, so it is bit-for-bit
    /// reproducible whatever the dictionaries' iteration order.
    public func estimatedSum(of f: (Int) -> Double) -> Double {
        Self.sum(of: f, over: pinned) + scale * Self.sum(of: f, over: sampled)
    }

    private static func sum(of f: (Int) -> Double, over counts: HashCounts) -> Double {
        var multiplicities: [Int: Int] = [:]
        counts.forEach { _, count in multiplicities[count, default: 0] += 1 }
        var sum = 0.0
        for (count, items) in multiplicities.sorted(by: { $0.key < $1.key }) {
            sum += Double(items) * f(count)
        }
        return sum
    }

    /// Adds everything `other` counted (see the type's docs for exactness).
    public mutating func merge(_ other: SampledFrequencyTable) {
        let newLevel = max(level, other.level)
        var mergedPinned = HashCounts(minimumCapacity: max(pinned.count, other.pinned.count))
        var mergedSampled = HashCounts(minimumCapacity: min(capacity + 1, sampled.count + other.sampled.count))
        var keys = Set<UInt64>()
        pinned.forEach { key, _ in keys.insert(key) }
        other.pinned.forEach { key, _ in keys.insert(key) }
        for key in keys {
            let mine = count(of: key)
            let theirs = other.count(of: key)
            if let mine, let theirs {
                mergedPinned.add(key, mine + theirs)
            } else if Self.passes(key, level: newLevel), (mine ?? 0) + (theirs ?? 0) > 0 {
                // Tracked at the merged level ⇒ tracked on both sides (levels only
                // grow), so this branch is unreachable; kept for safety.
                mergedSampled.add(key, (mine ?? 0) + (theirs ?? 0))
            }
        }
        for table in [sampled, other.sampled] {
            table.forEach { key, value in
                if mergedPinned[key] == nil && Self.passes(key, level: newLevel) { mergedSampled.add(key, value) }
            }
        }
        level = newLevel
        pinned = mergedPinned
        sampled = mergedSampled
        if level == 0 && !pinned.isEmpty {
            pinned.forEach { key, value in sampled.add(key, value) }
            pinned = HashCounts()
        }
        if sampled.count > capacity { shrink() }
    }

    private mutating func shrink() {
        if level == 0 && pinned.isEmpty {
            let heavy = sampled.pairs.sorted { ($0.value, $0.key) > ($1.value, $1.key) }.prefix(pinCapacity)
            for (key, value) in heavy { pinned.add(key, value) }
            let pinnedNow = pinned
            sampled.removeAll { key, _ in pinnedNow[key] != nil }
        }
        while sampled.count > capacity && level < 63 {
            level += 1
            let level = level
            sampled.removeAll { key, _ in !Self.passes(key, level: level) }
        }
    }

    @usableFromInline
    static func passes(_ hash: UInt64, level: Int) -> Bool {
        level == 0 || PortableHash.mix(hash ^ 0x2545_F491_4F6C_DD1D) >> UInt64(64 - level) == 0
    }
}
