import PersonaForgeCore
import Testing

@Suite("In-memory LSH index and dedup decisions")
struct DedupInMemoryLSHIndexTests {
    let hasher = MinHasher()
    let parameters = try! LSHParameters(threshold: 0.8, permutationCount: 128)

    @Test(arguments: [0.5, 0.7, 0.8, 0.9, 0.95])
    func exactDuplicatesAreAlwaysCaught(threshold: Double) throws {
        var index = InMemoryLSHIndex<Int>(parameters: try LSHParameters(threshold: threshold, permutationCount: 128))
        var generator = DedupTestCorpus.Generator(state: 11)
        let texts = (0..<200).map { _ in
            DedupTestCorpus.words(1 + generator.below(300), generator: &generator).joined(separator: " ")
        }
        for (i, text) in texts.enumerated() { _ = index.insert(i, signature: hasher.signature(of: text)) }
        for (i, text) in texts.enumerated() {
            let decision = index.insert(1_000 + i, signature: hasher.signature(of: "  " + text.uppercased() + "!"))
            #expect(decision == .duplicate(of: i, similarity: 1), "text \(i)")
        }
    }

    @Test func unrelatedTextsAreNeverDuplicates() {
        var index = InMemoryLSHIndex<Int>(parameters: parameters)
        var generator = DedupTestCorpus.Generator(state: 12)
        for i in 0..<2_000 {
            let text = DedupTestCorpus.words(20 + generator.below(200), generator: &generator).joined(separator: " ")
            #expect(index.insert(i, signature: hasher.signature(of: text)) == .unique)
        }
        #expect(index.count == 2_000)
    }

    @Test func firstSeenWinsAndEveryRecordIsIndexed() {
        var index = InMemoryLSHIndex<String>(parameters: parameters)
        var generator = DedupTestCorpus.Generator(state: 13)
        let words = DedupTestCorpus.words(300, generator: &generator)
        let a = words.joined(separator: " ")
        #expect(index.insert("a", signature: hasher.signature(of: a)) == .unique)
        #expect(index.insert("a-copy", signature: hasher.signature(of: a)) == .duplicate(of: "a", similarity: 1))
        // "b" is a duplicate of "a"; "c" is near "b" only; it still refers to an earlier record.
        let b = Array(words[0..<280]) + DedupTestCorpus.words(20, generator: &generator)
        let c = Array(b[20...]) + DedupTestCorpus.words(20, generator: &generator)
        #expect(index.insert("b", signature: hasher.signature(of: b.joined(separator: " "))).isDuplicate)
        let decision = index.insert("c", signature: hasher.signature(of: c.joined(separator: " ")))
        guard case .duplicate(let earlier, let similarity) = decision else {
            Issue.record("c should be a near-duplicate, got \(decision)")
            return
        }
        #expect(["a", "b"].contains(earlier))
        #expect(similarity >= 0.8)
    }

    /// The in-memory fast path must decide exactly like the protocol's default
    /// (query candidates, confirm the earliest), which a PostgreSQL index would use.
    @Test(arguments: [0.5, 0.7, 0.9])
    func fastPathMatchesProtocolDefault(threshold: Double) throws {
        let parameters = try LSHParameters(threshold: threshold, permutationCount: 128)
        var fast = InMemoryLSHIndex<Int>(parameters: parameters)
        var reference = DefaultInsertIndex(inner: InMemoryLSHIndex(parameters: parameters))
        var generator = DedupTestCorpus.Generator(state: 14)
        var bases: [[String]] = []
        var duplicates = 0
        for i in 0..<1_500 {
            let words: [String]
            if bases.isEmpty || generator.below(3) == 0 {
                words = DedupTestCorpus.words(30 + generator.below(100), generator: &generator)
                bases.append(words)
            } else {
                let base = bases[generator.below(bases.count)]
                words = DedupTestCorpus.perturbed(base, rate: Double(generator.below(15)) / 100, generator: &generator)
            }
            let signature = hasher.signature(of: words.joined(separator: " "))
            let decision = fast.insert(i, signature: signature)
            #expect(decision == (try reference.insert(i, signature: signature)), "record \(i)")
            if decision.isDuplicate { duplicates += 1 }
        }
        #expect(duplicates > 100)
    }

    @Test func candidatesShareABandAndComeEarliestFirst() {
        var index = InMemoryLSHIndex<Int>(parameters: parameters)
        let signature = hasher.signature(of: "one two three four five six seven")
        let other = hasher.signature(of: "completely different words in this text here")
        index.store(LSHEntry(key: 7, signature: signature), bandKeys: parameters.bandKeys(of: signature))
        index.store(LSHEntry(key: 3, signature: other), bandKeys: parameters.bandKeys(of: other))
        index.store(LSHEntry(key: 5, signature: signature), bandKeys: parameters.bandKeys(of: signature))
        #expect(index.candidates(forBandKeys: parameters.bandKeys(of: signature)).map(\.key) == [7, 5])
        #expect(index.candidates(forBandKeys: parameters.bandKeys(of: other)).map(\.key) == [3])
    }

    @Test func emptyDocumentsDeduplicateAgainstEachOther() {
        var index = InMemoryLSHIndex<Int>(parameters: parameters)
        #expect(index.insert(1, signature: hasher.signature(of: "")) == .unique)
        #expect(index.insert(2, signature: hasher.signature(of: "!!!")) == .duplicate(of: 1, similarity: 1))
        #expect(index.insert(3, signature: hasher.signature(of: "real words")) == .unique)
    }
}

/// Uses only `candidates` and `store`, so `insert` is the protocol's default.
struct DefaultInsertIndex: LSHIndex {
    var inner: InMemoryLSHIndex<Int>
    var parameters: LSHParameters { inner.parameters }

    func candidates(forBandKeys bandKeys: [UInt64]) throws -> [LSHEntry<Int>] {
        inner.candidates(forBandKeys: bandKeys)
    }

    mutating func store(_ entry: LSHEntry<Int>, bandKeys: [UInt64]) throws {
        inner.store(entry, bandKeys: bandKeys)
    }
}
