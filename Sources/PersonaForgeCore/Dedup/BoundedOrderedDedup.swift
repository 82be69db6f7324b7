/// The holders of one bucket between two places in the dedup order, earliest first:
/// what an index kept in that order (``OrderedDedup/marks(for:threshold:bandKeys:pageSize:firstPage:holders:signatures:)``)
/// answers with one range scan.
public struct BucketRange: Hashable, Sendable {
    public var band: Int
    public var bucket: UInt64
    /// Only holders strictly after this place; nil: from the first.
    public var after: DedupOrder?
    /// Only holders strictly before this place; nil: to the last.
    public var before: DedupOrder?
    /// At most this many, the earliest; nil: all of them.
    public var limit: Int?

    public init(band: Int, bucket: UInt64, after: DedupOrder?, before: DedupOrder?, limit: Int?) {
        self.band = band
        self.bucket = bucket
        self.after = after
        self.before = before
        self.limit = limit
    }
}

extension OrderedDedup {
    /// The marks of ``marks(for:threshold:candidates:)`` against an index that keeps each
    /// bucket in the dedup order, reading a bounded number of holders per record.
    ///
    /// A bucket of a family of near copies holds every member, so handing each record
    /// all its candidates costs O(family) per record. Here `holders` answers
    /// ``BucketRange``s instead, and a record asks for
    ///
    /// - every holder *later* than itself, in each of its buckets (it may be the
    ///   record that marks them; arrival follows sample order closely, so there are
    ///   few), and
    /// - the `pageSize` *earliest* holders of each bucket, and then, only while none is
    ///   confirmed, the next pages (doubling) of the buckets that had more.
    ///
    /// Its pointer is the earliest confirmed earlier candidate. Of the candidates
    /// fetched, those up to the smallest last place of a bucket with more to read are
    /// all that exist in that stretch of the order, so the earliest confirmed one among
    /// them is the earliest of all; past it the search reads on. Signatures are loaded
    /// as in ``marks(for:threshold:firstPage:candidates:signatures:)``: the first
    /// `firstPage` eligible candidates of each record, then the rest of its stretch.
    /// The marks equal the eager function's with every candidate (tested on random
    /// families with pages of one to three holders).
    public static func marks<Key>(
        for batch: [OrderedDedupEntry<Key>], threshold: Double, bandKeys: (OrderedDedupEntry<Key>) -> [UInt64],
        pageSize: Int = 8, firstPage: Int = 4,
        holders: ([BucketRange]) throws -> [[(key: Key, order: DedupOrder)]],
        signatures: ([Key]) throws -> [Key: MinHashSignature]
    ) rethrows -> [Key: DuplicateMark<Key>] {
        var marks: [Key: DuplicateMark<Key>] = [:]
        func propose(_ mark: DuplicateMark<Key>) { OrderedDedup.propose(mark, into: &marks) }
        var cache = SignatureCache(batch)
        func load(_ keys: some Sequence<Key>) throws { try cache.load(keys, from: signatures) }
        func confirmed(_ candidates: ArraySlice<(key: Key, order: DedupOrder)>, for record: OrderedDedupEntry<Key>) -> DuplicateMark<Key>? {
            for candidate in candidates {
                guard let signature = cache[candidate.key] else { continue }
                let similarity = record.signature.estimatedJaccard(with: signature)
                if similarity >= threshold {
                    return DuplicateMark(target: record.key, original: candidate.key, originalOrder: candidate.order, similarity: similarity)
                }
            }
            return nil
        }
        let page = max(1, pageSize)
        let buckets = batch.map { bandKeys($0) }

        // One call for every record's later holders and the first page of its earlier ones.
        var requests: [BucketRange] = []
        for (index, record) in batch.enumerated() {
            for (band, bucket) in buckets[index].enumerated() {
                requests.append(BucketRange(band: band, bucket: bucket, after: record.order, before: nil, limit: nil))
                requests.append(BucketRange(band: band, bucket: bucket, after: nil, before: record.order, limit: page))
            }
        }
        let answers = try holders(requests)
        var searches: [BoundedSearch<Key>] = []
        var later: [(record: Int, key: Key)] = []
        var answer = 0
        for (index, record) in batch.enumerated() {
            var search = BoundedSearch<Key>(record: index)
            var seenLater = Set<Key>()
            for band in buckets[index].indices {
                for holder in answers[answer] where holder.key != record.key && holder.order > record.order {
                    if seenLater.insert(holder.key).inserted { later.append((index, holder.key)) }
                }
                search.take(answers[answer + 1], band: band, limit: page, record: record)
                answer += 2
            }
            searches.append(search)
        }

        try load(later.map(\.key) + searches.flatMap { $0.eligible().prefix(firstPage).map(\.key) })
        for (index, key) in later {
            guard let signature = cache[key] else { continue }
            let record = batch[index]
            let similarity = record.signature.estimatedJaccard(with: signature)
            if similarity >= threshold {
                propose(DuplicateMark(target: key, original: record.key, originalOrder: record.order, similarity: similarity))
            }
        }

        var limit = page
        var pending = searches
        var first = true
        while !pending.isEmpty {
            if !first { try load(pending.flatMap { $0.eligible().prefix(firstPage).map(\.key) }) }
            first = false
            // The first few of each record's stretch, then the rest of it for those they did not settle.
            var unsettled: [(search: BoundedSearch<Key>, rest: [(key: Key, order: DedupOrder)])] = []
            for search in pending {
                let eligible = search.eligible()
                if let mark = confirmed(eligible.prefix(firstPage), for: batch[search.record]) {
                    propose(mark)
                } else {
                    unsettled.append((search, Array(eligible.dropFirst(firstPage))))
                }
            }
            try load(unsettled.flatMap { $0.rest.map(\.key) })
            limit *= 2
            var more: [BoundedSearch<Key>] = []
            var next: [BucketRange] = []
            for (search, rest) in unsettled {
                let record = batch[search.record]
                if let mark = confirmed(rest[...], for: record) {
                    propose(mark)
                    continue
                }
                var search = search
                search.triedAllEligible()
                guard search.hasMore else { continue }
                for (band, cursor) in search.open {
                    next.append(BucketRange(band: band, bucket: buckets[search.record][band], after: cursor, before: record.order, limit: limit))
                }
                more.append(search)
            }
            if more.isEmpty { break }
            let pages = try holders(next)
            var offset = 0
            for index in more.indices {
                let open = more[index].open
                more[index].open = [:]
                for (band, _) in open {
                    more[index].take(pages[offset], band: band, limit: limit, record: batch[more[index].record])
                    offset += 1
                }
            }
            pending = more
        }
        return marks
    }
}

/// One record's search of its earlier holders, bucket pages at a time.
private struct BoundedSearch<Key: Hashable & Sendable> {
    var record: Int
    /// Earlier candidates fetched and not yet compared, by key.
    var candidates: [Key: DedupOrder] = [:]
    var tried = Set<Key>()
    /// Buckets that may hold more earlier holders: band → the last place read.
    var open: [Int: DedupOrder] = [:]

    init(record: Int) { self.record = record }

    var hasMore: Bool { !open.isEmpty }

    /// Adds a page of one band's bucket; a full page leaves the bucket open after its last holder.
    mutating func take(_ page: [(key: Key, order: DedupOrder)], band: Int, limit: Int, record entry: OrderedDedupEntry<Key>) {
        for holder in page where holder.key != entry.key && holder.order < entry.order && !tried.contains(holder.key) {
            candidates[holder.key] = holder.order
        }
        if page.count >= limit, let last = page.last { open[band] = last.order }
    }

    /// The candidates not compared yet that lie before every open bucket's last place
    /// (all that exist there), earliest first.
    func eligible() -> [(key: Key, order: DedupOrder)] {
        let boundary = open.values.min()
        return candidates.filter { candidate in boundary.map { candidate.value <= $0 } ?? true }
            .map { (key: $0.key, order: $0.value) }.sorted { $0.order < $1.order }
    }

    /// The eligible ones were compared and none was confirmed.
    mutating func triedAllEligible() {
        for candidate in eligible() {
            tried.insert(candidate.key)
            candidates[candidate.key] = nil
        }
    }
}
