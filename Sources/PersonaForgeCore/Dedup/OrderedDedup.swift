/// Where a record stands in its dedup scope's deterministic order: runs by the order
/// they were submitted (``runOrder``, then the run's id), records of one run by their
/// sample position (the run's seeded sampling order: any prefix of a run is a uniform
/// sample of its space). Nothing in it depends on workers, reducers or arrival.
public struct DedupOrder: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The run's submission order (PersonaForge uses its `created_at` in microseconds).
    public var runOrder: Int64
    /// The run's id, breaking ties between runs submitted in the same microsecond.
    public var run: String
    /// The record's position in the run's sample order.
    public var samplePosition: Int64

    public init(runOrder: Int64, run: String, samplePosition: Int64) {
        self.runOrder = runOrder
        self.run = run
        self.samplePosition = samplePosition
    }

    public static func < (left: DedupOrder, right: DedupOrder) -> Bool {
        (left.runOrder, left.run, left.samplePosition) < (right.runOrder, right.run, right.samplePosition)
    }

    public var description: String { "\(runOrder)/\(run)/\(samplePosition)" }
}

/// One record as the ordered dedup rule sees it.
public struct OrderedDedupEntry<Key: Hashable & Sendable>: Sendable {
    public var key: Key
    public var order: DedupOrder
    public var signature: MinHashSignature

    public init(key: Key, order: DedupOrder, signature: MinHashSignature) {
        self.key = key
        self.order = order
        self.signature = signature
    }
}

/// "`target` is a near duplicate of the earlier `original`."
public struct DuplicateMark<Key: Hashable & Sendable>: Sendable, Equatable {
    public var target: Key
    public var original: Key
    public var originalOrder: DedupOrder
    public var similarity: Double

    public init(target: Key, original: Key, originalOrder: DedupOrder, similarity: Double) {
        self.target = target
        self.original = original
        self.originalOrder = originalOrder
        self.similarity = similarity
    }

    /// Of two marks of one target, the one that points at the earlier original.
    public func earlier(_ other: DuplicateMark) -> DuplicateMark {
        other.originalOrder < originalOrder ? other : self
    }
}

/// The deterministic near-duplicate rule, decided without a lock.
///
/// **The rule.** A record is a near duplicate when an *earlier* record of its scope,
/// in ``DedupOrder``, is an LSH candidate of it (they agree on a whole band) and
/// their estimated Jaccard similarity is at least the threshold. It then points at
/// the earliest such record. Every record is indexed, duplicates too, so the rule is
/// a property of the set of records alone: the same records give the same kept set,
/// whatever the number of workers or reducers, the arrival order, crashes or
/// redeliveries. (It is the rule of `personaforge dedup`, with sample order as the
/// input order.) Two kept records are never near duplicates of each other; a dropped
/// record points at an earlier near duplicate, and following those pointers always
/// ends at a kept record, because each step goes strictly earlier.
///
/// **Deciding it without a lock.** Each decider first *publishes* its records (they
/// and their band rows commit), then *probes* the index and marks, for every
/// confirmed pair it sees, the later record of the pair as a duplicate of the
/// earlier one, and keeps the earliest pointer per record. For any near-duplicate
/// pair, whichever of the two probes starts second sees the other record, because
/// each record is published before its own probe; so every pair is marked by at
/// least one decider, even when both were decided at once on different machines.
/// Marks only ever add a duplicate or move a pointer earlier, so applying them in
/// any order, or twice, gives the same end state.
public enum OrderedDedup {
    /// The marks that `batch` and its candidates imply: for every record of the batch
    /// and every candidate of it that is confirmed (estimated Jaccard ≥ `threshold`),
    /// the later of the two is marked a duplicate of the earlier. One mark per target,
    /// the one pointing at the earliest original. `candidates` gives what the index
    /// holds in the record's buckets (it may contain the record itself, or other
    /// records of the batch).
    public static func marks<Key>(
        for batch: [OrderedDedupEntry<Key>], threshold: Double, candidates: (OrderedDedupEntry<Key>) -> [OrderedDedupEntry<Key>]
    ) -> [Key: DuplicateMark<Key>] {
        var marks: [Key: DuplicateMark<Key>] = [:]
        func propose(_ mark: DuplicateMark<Key>) {
            marks[mark.target] = marks[mark.target].map { $0.earlier(mark) } ?? mark
        }
        for record in batch {
            for candidate in candidates(record) where candidate.key != record.key && candidate.order != record.order {
                let similarity = record.signature.estimatedJaccard(with: candidate.signature)
                guard similarity >= threshold else { continue }
                let (early, late) = candidate.order < record.order ? (candidate, record) : (record, candidate)
                propose(DuplicateMark(target: late.key, original: early.key, originalOrder: early.order, similarity: similarity))
            }
        }
        return marks
    }

    /// The rule applied to a whole set of records at once, by brute force over LSH
    /// candidates (the reference the incremental deciders must agree with).
    public static func reference<Key>(_ records: [OrderedDedupEntry<Key>], lsh: LSHParameters, threshold: Double) -> [Key: DuplicateMark<Key>] {
        let sorted = records.sorted { $0.order < $1.order }
        var buckets: [Int: [UInt64: [Int]]] = [:]
        var marks: [Key: DuplicateMark<Key>] = [:]
        for (index, record) in sorted.enumerated() {
            var earlier = Set<Int>()
            for (band, key) in lsh.bandKeys(of: record.signature).enumerated() {
                earlier.formUnion(buckets[band]?[key] ?? [])
                buckets[band, default: [:]][key, default: []].append(index)
            }
            for candidate in earlier.sorted() {
                let original = sorted[candidate]
                let similarity = record.signature.estimatedJaccard(with: original.signature)
                if similarity >= threshold {
                    marks[record.key] = DuplicateMark(target: record.key, original: original.key, originalOrder: original.order, similarity: similarity)
                    break
                }
            }
        }
        return marks
    }
}
