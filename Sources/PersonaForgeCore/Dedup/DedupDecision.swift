/// Whether a record is new or a near-duplicate of an earlier one.
public enum DedupDecision<Key: Hashable & Sendable>: Sendable, Hashable {
    /// No earlier record reaches the threshold: keep it.
    case unique
    /// `earlier` is the earliest candidate whose estimated Jaccard similarity
    /// (`similarity`, in 0...1) reaches the threshold.
    case duplicate(of: Key, similarity: Double)

    /// Whether this is ``duplicate(of:similarity:)``.
    public var isDuplicate: Bool {
        if case .duplicate = self { return true }
        return false
    }

    /// The confirmation step shared by every ``LSHIndex``: the first of
    /// `candidates` (in their order, earliest first) whose estimated Jaccard
    /// similarity with `signature` is at least `threshold`.
    public static func firstMatch(
        for signature: MinHashSignature,
        among candidates: [LSHEntry<Key>],
        threshold: Double
    ) -> DedupDecision<Key> {
        for candidate in candidates {
            let similarity = signature.estimatedJaccard(with: candidate.signature)
            if similarity >= threshold { return .duplicate(of: candidate.key, similarity: similarity) }
        }
        return .unique
    }
}
