import PersonaForgeCore
import Testing

@Suite("Ordered dedup: earliest in sample order wins, decided without a lock")
struct DedupOrderedRuleTests {
    let hasher = MinHasher()
    let lsh = try! LSHParameters(threshold: 0.8, permutationCount: 128)

    /// 400 records in clusters of near copies and chains of edits (A ≈ B ≈ C, C not ≈ A),
    /// with random sample positions.
    func corpus(seed: UInt64) -> [OrderedDedupEntry<Int>] {
        var generator = DedupTestCorpus.Generator(state: seed)
        var texts: [[String]] = []
        while texts.count < 400 {
            var words = DedupTestCorpus.words(60 + generator.below(200), generator: &generator)
            texts.append(words)
            for _ in 0..<generator.below(4) {
                words = DedupTestCorpus.perturbed(words, rate: 0.004 + Double(generator.below(20)) / 1000, generator: &generator)
                texts.append(words)
            }
        }
        var positions = Array(0..<Int64(texts.count))
        for i in stride(from: positions.count - 1, to: 0, by: -1) { positions.swapAt(i, generator.below(i + 1)) }
        return texts.enumerated().map { index, words in
            OrderedDedupEntry(
                key: index, order: DedupOrder(runOrder: 7, run: "run", samplePosition: positions[index]),
                signature: hasher.signature(of: words.joined(separator: " "))
            )
        }
    }

    /// Batches published and probed in a random interleaving: a probe sees every batch
    /// published before it (its own included), as with committed rows in PostgreSQL.
    func decideConcurrently(_ records: [OrderedDedupEntry<Int>], seed: UInt64) -> [Int: DuplicateMark<Int>] {
        var generator = DedupTestCorpus.Generator(state: seed)
        var shuffled = records
        for i in stride(from: shuffled.count - 1, to: 0, by: -1) { shuffled.swapAt(i, generator.below(i + 1)) }
        var batches: [[OrderedDedupEntry<Int>]] = []
        var rest = shuffled[...]
        while !rest.isEmpty {
            let size = 1 + generator.below(24)
            batches.append(Array(rest.prefix(size)))
            rest = rest.dropFirst(size)
        }
        // Events: each batch publishes, then later probes; the two of many batches interleave.
        var events: [(batch: Int, probe: Bool)] = []
        var pendingProbes: [Int] = []
        for batch in batches.indices {
            events.append((batch, false))
            pendingProbes.append(batch)
            while !pendingProbes.isEmpty && generator.below(3) == 0 {
                events.append((pendingProbes.remove(at: generator.below(pendingProbes.count)), true))
            }
        }
        while !pendingProbes.isEmpty { events.append((pendingProbes.remove(at: generator.below(pendingProbes.count)), true)) }

        var published: [Int: [UInt64: [OrderedDedupEntry<Int>]]] = [:]
        var marks: [Int: DuplicateMark<Int>] = [:]
        for event in events {
            let batch = batches[event.batch]
            if !event.probe {
                for record in batch {
                    for (band, key) in lsh.bandKeys(of: record.signature).enumerated() {
                        published[band, default: [:]][key, default: []].append(record)
                    }
                }
                continue
            }
            let found = OrderedDedup.marks(for: batch, threshold: 0.8) { record in
                lsh.bandKeys(of: record.signature).enumerated().flatMap { published[$0.offset]?[$0.element] ?? [] }
            }
            // The lazy form, which reads candidates' signatures only where the rule needs them, gives the same marks.
            let byKey = Dictionary(records.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
            let lazy = OrderedDedup.marks(for: batch, threshold: 0.8, firstPage: 1 + Int(seed % 3), candidates: { record in
                lsh.bandKeys(of: record.signature).enumerated().flatMap { published[$0.offset]?[$0.element] ?? [] }.map { ($0.key, $0.order) }
            }, signatures: { keys in Dictionary(uniqueKeysWithValues: keys.compactMap { key in byKey[key].map { (key, $0.signature) } }) })
            #expect(lazy == found)
            // So does the bounded form, which reads each bucket a page at a time in the order.
            let pageSize = 1 + Int(seed % 3)
            let bounded = OrderedDedup.marks(
                for: batch, threshold: 0.8, bandKeys: { lsh.bandKeys(of: $0.signature) }, pageSize: pageSize, firstPage: 1 + Int(seed % 2),
                holders: { ranges in ranges.map { Self.answer($0, in: published) } },
                signatures: { keys in Dictionary(uniqueKeysWithValues: keys.compactMap { key in byKey[key].map { (key, $0.signature) } }) })
            #expect(bounded == found, "pages of \(pageSize)")
            for (target, mark) in found { marks[target] = marks[target].map { $0.earlier(mark) } ?? mark }
        }
        return marks
    }

    /// What an index kept in the order answers for `range`: the bucket's holders in it, earliest first.
    static func answer(_ range: BucketRange, in published: [Int: [UInt64: [OrderedDedupEntry<Int>]]]) -> [(key: Int, order: DedupOrder)] {
        let holders = (published[range.band]?[range.bucket] ?? [])
            .filter { holder in range.after.map { holder.order > $0 } ?? true }
            .filter { holder in range.before.map { holder.order < $0 } ?? true }
            .sorted { $0.order < $1.order }
        return holders.prefix(range.limit ?? holders.count).map { ($0.key, $0.order) }
    }

    @Test func aLateMemberOfALargeFamilyReadsAFewSignaturesNotOnePerMember() throws {
        // 300 near copies of one text, in sample order, all published; one more arrives
        // whose place is in the middle, and one whose place is before them all.
        var generator = DedupTestCorpus.Generator(state: 9)
        let base = DedupTestCorpus.words(120, generator: &generator)
        var family: [OrderedDedupEntry<Int>] = (0..<300).map { index in
            let words = DedupTestCorpus.perturbed(base, rate: 0.003, generator: &generator)
            return OrderedDedupEntry(key: index, order: DedupOrder(runOrder: 1, run: "r", samplePosition: Int64(index * 10)),
                                     signature: hasher.signature(of: words.joined(separator: " ")))
        }
        let middle = OrderedDedupEntry(key: 1000, order: DedupOrder(runOrder: 1, run: "r", samplePosition: 1505),
                                       signature: hasher.signature(of: DedupTestCorpus.perturbed(base, rate: 0.003, generator: &generator).joined(separator: " ")))
        let first = OrderedDedupEntry(key: 1001, order: DedupOrder(runOrder: 1, run: "r", samplePosition: -1),
                                      signature: hasher.signature(of: base.joined(separator: " ")))
        family += [middle, first]
        var buckets: [Int: [UInt64: [OrderedDedupEntry<Int>]]] = [:]
        for record in family {
            for (band, key) in lsh.bandKeys(of: record.signature).enumerated() { buckets[band, default: [:]][key, default: []].append(record) }
        }
        let byKey = Dictionary(uniqueKeysWithValues: family.map { ($0.key, $0) })
        func candidates(_ record: OrderedDedupEntry<Int>) -> [OrderedDedupEntry<Int>] {
            lsh.bandKeys(of: record.signature).enumerated().flatMap { buckets[$0.offset]?[$0.element] ?? [] }
        }
        for probe in [middle, first] {
            var loaded: [Int] = []
            let lazy = OrderedDedup.marks(for: [probe], threshold: 0.8, candidates: { candidates($0).map { ($0.key, $0.order) } }, signatures: { keys in
                loaded += keys
                return Dictionary(uniqueKeysWithValues: keys.map { ($0, byKey[$0]!.signature) })
            })
            #expect(lazy == OrderedDedup.marks(for: [probe], threshold: 0.8, candidates: candidates))
            let later = Set(candidates(probe).filter { $0.order > probe.order }.map(\.key))
            // Every later candidate is compared (the probe may be the one that marks it), the earlier ones only up to the first confirmed.
            #expect(Set(loaded).subtracting(later).count <= 4, "read \(loaded.count) signatures for \(later.count) later candidates")
            #expect(Set(candidates(probe).map(\.key)).count > 100)
        }
        // An index kept in the order hands each of them a few holders per bucket, not the family.
        let published = buckets.mapValues { $0.mapValues { $0 } }
        for probe in [middle, first] {
            var rows = 0
            let bounded = OrderedDedup.marks(
                for: [probe], threshold: 0.8, bandKeys: { lsh.bandKeys(of: $0.signature) },
                holders: { ranges in
                    let answers = ranges.map { Self.answer($0, in: published) }
                    rows += answers.map(\.count).reduce(0, +)
                    return answers
                },
                signatures: { Dictionary(uniqueKeysWithValues: $0.map { ($0, byKey[$0]!.signature) }) })
            #expect(bounded == OrderedDedup.marks(for: [probe], threshold: 0.8, candidates: candidates))
            let later = candidates(probe).filter { $0.order > probe.order }.count
            #expect(rows <= later + 8 * lsh.bands, "read \(rows) holder rows, \(later) of them later")
        }
        // The middle one points at the earliest of them all, the copy placed before the family.
        #expect(OrderedDedup.marks(for: [middle], threshold: 0.8, candidates: { candidates($0).map { ($0.key, $0.order) } },
                                   signatures: { Dictionary(uniqueKeysWithValues: $0.map { ($0, byKey[$0]!.signature) }) })[1000]?.original == 1001)
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func concurrentDecidersAgreeWithTheSequentialRuleWhateverTheInterleaving(seed: UInt64) {
        let records = corpus(seed: seed)
        let reference = OrderedDedup.reference(records, lsh: lsh, threshold: 0.8)
        #expect(reference.count > 100, "the corpus should have many near duplicates (\(reference.count))")
        for interleaving in 0..<4 as Range<UInt64> {
            let decided = decideConcurrently(records, seed: seed * 100 + interleaving)
            #expect(decided.mapValues(\.original) == reference.mapValues(\.original), "interleaving \(interleaving)")
        }
    }

    @Test func keptRecordsAreNeverCandidatesOfEachOtherAndEveryPointerChainEndsAtAKeptRecord() {
        let records = corpus(seed: 9)
        let marks = OrderedDedup.reference(records, lsh: lsh, threshold: 0.8)
        let byKey = Dictionary(uniqueKeysWithValues: records.map { ($0.key, $0) })
        let kept = records.filter { marks[$0.key] == nil }
        var buckets: [Int: [UInt64: [Int]]] = [:]
        for record in kept {
            for (band, key) in lsh.bandKeys(of: record.signature).enumerated() {
                for other in buckets[band]?[key] ?? [] {
                    #expect(record.signature.estimatedJaccard(with: byKey[other]!.signature) < 0.8, "kept \(record.key) and \(other)")
                }
                buckets[band, default: [:]][key, default: []].append(record.key)
            }
        }
        for (target, mark) in marks {
            #expect(byKey[mark.original]!.order < byKey[target]!.order)
            #expect(mark.similarity >= 0.8)
            var current = mark.original
            var steps = 0
            while let next = marks[current] { current = next.original; steps += 1; if steps > records.count { break } }
            #expect(marks[current] == nil, "the chain from \(target) ends at kept record \(current)")
        }
        // Chains exist in this corpus: some duplicates point at a record that is itself dropped.
        #expect(marks.values.contains { marks[$0.original] != nil })
    }

    @Test func theOrderIsRunsBySubmissionThenSamplePosition() {
        let early = DedupOrder(runOrder: 1, run: "b", samplePosition: 900)
        let sameRunLater = DedupOrder(runOrder: 1, run: "b", samplePosition: 901)
        let tie = DedupOrder(runOrder: 1, run: "c", samplePosition: 0)
        let laterRun = DedupOrder(runOrder: 2, run: "a", samplePosition: 0)
        #expect([laterRun, tie, sameRunLater, early].sorted() == [early, sameRunLater, tie, laterRun])
    }
}
