import Foundation

/// Distinct-n and n-gram entropy for n = 1...`maxOrder` over one continuous
/// token stream (the records' `DiversityTokenizer.referenceTokens`, concatenated
/// — n-grams span record boundaries, exactly like the reference's
/// `ngram_diversity_score` on `" ".join(texts)`).
///
/// Per order it keeps the exact total, a `SampledFrequencyTable` (exact counts
/// up to its capacity) and a `HyperLogLog`:
/// - distinct count: exact while the table is exact, else the HyperLogLog
///   estimate (relative standard error `1.04 / sqrt(2^precision)`);
/// - entropy (bits): `log2 N − (Σ c·log2 c) / N`, exact while the table is
///   exact, else with `Σ c·log2 c` estimated from the sampled table.
///
/// `merge` treats `other` as the stream that follows `self`: the n-grams
/// spanning the seam are added, so merging partial statistics in order equals
/// the statistics of the concatenated stream (exact while the tables are).
public struct NGramStatistics: Sendable, Hashable, Codable {
    /// Per-order state.
    public struct Order: Sendable, Hashable, Codable {
        /// The number of n-grams (`tokens − n + 1`, or 0).
        public var total = 0
        var table: SampledFrequencyTable
        var sketch: HyperLogLog
    }

    /// The largest n.
    public let maxOrder: Int
    /// Tokens seen.
    public private(set) var tokenCount = 0
    private(set) var orders: [Order]
    /// The first `maxOrder − 1` token hashes of the stream.
    private var leading: [UInt64] = []
    /// The last `maxOrder − 1` token hashes of the stream.
    private var trailing: [UInt64] = []

    /// Empty statistics for n = 1...`maxOrder`, each exact up to
    /// `exactLimit` distinct n-grams.
    public init(maxOrder: Int = 4, exactLimit: Int = 1 << 20, sketchPrecision: Int = 16) {
        precondition(maxOrder >= 1, "maxOrder must be at least 1")
        self.maxOrder = maxOrder
        orders = (0..<maxOrder).map { _ in
            Order(table: SampledFrequencyTable(capacity: exactLimit), sketch: HyperLogLog(precision: sketchPrecision))
        }
    }

    /// Appends one token (by its `TextHash`) to the stream.
    public mutating func add(tokenHash: UInt64) {
        if leading.count < maxOrder - 1 { leading.append(tokenHash) }
        tokenCount += 1
        // The n-grams ending at this token: suffixes of trailing + [token].
        for order in 1...maxOrder where order - 1 <= trailing.count {
            var gram = TextHash.ngramSeed(order: order)
            for index in (trailing.count - order + 1)..<trailing.count {
                gram = PortableHash.combine(gram, trailing[index])
            }
            record(PortableHash.combine(gram, tokenHash), order: order)
        }
        if maxOrder > 1 {
            trailing.append(tokenHash)
            if trailing.count > maxOrder - 1 { trailing.removeFirst() }
        }
    }

    private mutating func record(_ gram: UInt64, order: Int) {
        orders[order - 1].total += 1
        orders[order - 1].table.add(gram)
        orders[order - 1].sketch.insert(hash: gram)
    }

    /// Whether every distinct count and entropy is exact.
    public var isExact: Bool { orders.allSatisfy { $0.table.isExact } }

    /// The number of n-grams of order `n`.
    public func total(order n: Int) -> Int { orders[n - 1].total }

    /// The number of distinct n-grams of order `n` (exact or estimated).
    public func distinctCount(order n: Int) -> Double {
        let order = orders[n - 1]
        return order.table.isExact ? Double(order.table.trackedCount) : order.sketch.estimate
    }

    /// distinct-n: distinct n-grams / all n-grams (0 when there are none).
    public func distinctRatio(order n: Int) -> Double {
        let total = orders[n - 1].total
        return total == 0 ? 0 : distinctCount(order: n) / Double(total)
    }

    /// The Shannon entropy in bits of the order-`n` n-gram distribution.
    public func entropy(order n: Int) -> Double {
        let order = orders[n - 1]
        guard order.total > 0 else { return 0 }
        let total = Double(order.total)
        let sum = order.table.estimatedSum { count in
            count > 1 ? Double(count) * log2(Double(count)) : 0
        }
        return max(0, log2(total) - sum / total)
    }

    /// Appends the stream `other` summarizes to this one (see the type's docs).
    public mutating func merge(_ other: NGramStatistics) {
        precondition(other.maxOrder == maxOrder, "cannot merge n-gram statistics of different orders")
        // Seam n-grams: start in self's trailing tokens, end in other's leading ones.
        let seam = trailing + other.leading
        for end in trailing.count..<seam.count {
            for order in 1...maxOrder {
                let start = end - order + 1
                guard start >= 0, start < trailing.count else { continue }
                record(TextHash.hash(tokens: seam[start...end], order: order), order: order)
            }
        }
        for index in orders.indices {
            orders[index].total += other.orders[index].total
            orders[index].table.merge(other.orders[index].table)
            orders[index].sketch.merge(other.orders[index].sketch)
        }
        // other.trailing holds other's last maxOrder − 1 tokens, or all of them.
        let merged = trailing + other.trailing
        if leading.count < maxOrder - 1 {
            leading = Array((leading + other.leading).prefix(maxOrder - 1))
        }
        trailing = Array(merged.suffix(maxOrder - 1))
        tokenCount += other.tokenCount
    }
}
