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
        for record in batch {
            for candidate in candidates(record) where candidate.key != record.key && candidate.order != record.order {
                let similarity = record.signature.estimatedJaccard(with: candidate.signature)
                guard similarity >= threshold else { continue }
                let (early, late) = candidate.order < record.order ? (candidate, record) : (record, candidate)
                propose(DuplicateMark(target: late.key, original: early.key, originalOrder: early.order, similarity: similarity), into: &marks)
            }
        }
        return marks
    }

    /// Adds `mark` to `marks`, keeping of two marks of one target the one pointing earlier.
    static func propose<Key>(_ mark: DuplicateMark<Key>, into marks: inout [Key: DuplicateMark<Key>]) {
        marks[mark.target] = marks[mark.target].map { $0.earlier(mark) } ?? mark
    }

    /// The marks of ``marks(for:threshold:candidates:)``, reading candidates'
    /// signatures only where the rule needs them, so a record in a large family of
    /// near duplicates costs a few signatures instead of one per member.
    ///
    /// `candidates` gives each record's candidates with their order but no signature;
    /// `signatures` loads the signatures of the keys asked for (a key it does not
    /// return is skipped, as a missing row is). A record's pointer is its *earliest*
    /// confirmed earlier candidate, so the earlier candidates are tried in order,
    /// `firstPage` at a time (doubling), and the first confirmed one ends the search.
    /// Every *later* candidate is compared, as before: the record may be the one that
    /// marks it. The result is the same as the eager function's for the same
    /// candidates (tested on random families), because the eager one keeps, of each
    /// target's marks, the one with the earliest original.
    public static func marks<Key>(
        for batch: [OrderedDedupEntry<Key>], threshold: Double, firstPage: Int = 4,
        candidates: (OrderedDedupEntry<Key>) -> [(key: Key, order: DedupOrder)],
        signatures: ([Key]) throws -> [Key: MinHashSignature]
    ) rethrows -> [Key: DuplicateMark<Key>] {
        var marks: [Key: DuplicateMark<Key>] = [:]
        func propose(_ mark: DuplicateMark<Key>) { OrderedDedup.propose(mark, into: &marks) }
        var cache = SignatureCache(batch)
        var pending: [LazySearch<Key>] = []
        var later: [(record: OrderedDedupEntry<Key>, candidate: (key: Key, order: DedupOrder))] = []
        for record in batch {
            var earlier: [(key: Key, order: DedupOrder)] = []
            var seen = Set<Key>()
            for candidate in candidates(record) where candidate.key != record.key && candidate.order != record.order {
                guard seen.insert(candidate.key).inserted else { continue }
                if candidate.order < record.order { earlier.append(candidate) } else { later.append((record, candidate)) }
            }
            if !earlier.isEmpty {
                var search = LazySearch(record: record, earlier: earlier, page: max(1, firstPage))
                search.arrangePage()
                pending.append(search)
            }
        }
        func load(_ keys: some Sequence<Key>) throws { try cache.load(keys, from: signatures) }
        // Every later candidate, and the first page of every record's earlier ones, in one load.
        try load(later.map(\.candidate.key) + pending.flatMap { $0.pageKeys })
        for (record, candidate) in later {
            guard let signature = cache[candidate.key] else { continue }
            let similarity = record.signature.estimatedJaccard(with: signature)
            if similarity >= threshold {
                propose(DuplicateMark(target: candidate.key, original: record.key, originalOrder: record.order, similarity: similarity))
            }
        }
        while !pending.isEmpty {
            var unresolved: [LazySearch<Key>] = []
            for var search in pending {
                var found = false
                for candidate in search.earlier[search.next..<search.pageEnd] {
                    guard let signature = cache[candidate.key] else { continue }
                    let similarity = search.record.signature.estimatedJaccard(with: signature)
                    if similarity >= threshold {
                        propose(DuplicateMark(target: search.record.key, original: candidate.key, originalOrder: candidate.order, similarity: similarity))
                        found = true
                        break
                    }
                }
                if !found && search.advance() { unresolved.append(search) }
            }
            pending = unresolved
            try load(pending.flatMap { $0.pageKeys })
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

/// The signatures a decision has: its batch's, and those read so far (with the keys
/// asked for that did not come back, so they are not asked for again).
struct SignatureCache<Key: Hashable & Sendable> {
    private var known: [Key: MinHashSignature] = [:]
    private var missing = Set<Key>()

    init(_ batch: [OrderedDedupEntry<Key>]) {
        for record in batch { known[record.key] = record.signature }
    }

    subscript(key: Key) -> MinHashSignature? { known[key] }

    /// Reads the signatures of `keys` not known or missing yet, in one call.
    mutating func load(_ keys: some Sequence<Key>, from signatures: ([Key]) throws -> [Key: MinHashSignature]) rethrows {
        let wanted = Array(Set(keys.filter { known[$0] == nil && !missing.contains($0) }))
        if wanted.isEmpty { return }
        let loaded = try signatures(wanted)
        for key in wanted {
            if let signature = loaded[key] { known[key] = signature } else { missing.insert(key) }
        }
    }
}

/// One record's search of its earlier candidates, earliest first, a page at a time.
private struct LazySearch<Key: Hashable & Sendable> {
    var record: OrderedDedupEntry<Key>
    /// Tried ones first, in order; then the current page, in order; then the rest.
    var earlier: [(key: Key, order: DedupOrder)]
    var next = 0
    var page: Int
    /// The rest after `next` is sorted already.
    var sorted = false

    init(record: OrderedDedupEntry<Key>, earlier: [(key: Key, order: DedupOrder)], page: Int) {
        self.record = record
        self.earlier = earlier
        self.page = page
    }

    var pageEnd: Int { min(earlier.count, next + page) }
    var pageKeys: [Key] { earlier[next..<pageEnd].map(\.key) }

    /// Puts the page's candidates, in order, at `next`: by partial selection while the
    /// page is small against what is left (a record with thousands of candidates that
    /// its first few settle sorts none of them), else by sorting the rest once.
    mutating func arrangePage() {
        if sorted { return }
        let remaining = earlier.count - next
        if page * 8 >= remaining || page >= 64 {
            earlier[next...].sort { $0.order < $1.order }
            sorted = true
            return
        }
        for slot in next..<pageEnd {
            var smallest = slot
            for index in (slot + 1)..<earlier.count where earlier[index].order < earlier[smallest].order { smallest = index }
            if smallest != slot { earlier.swapAt(slot, smallest) }
        }
    }

    /// Moves past the page just tried; false when none is left.
    mutating func advance() -> Bool {
        next = pageEnd
        page *= 2
        guard next < earlier.count else { return false }
        arrangePage()
        return true
    }
}
