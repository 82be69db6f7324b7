import PersonaForgeCore
import Testing

@Suite("MinHash signatures")
struct MinHashSignatureTests {
    static let text = "The quick brown fox jumps over the lazy dog, again and again!"

    // Golden values: these must never change, on any machine; a change here
    // invalidates every stored signature and band key.
    @Test func goldenSignatureWithDefaultParameters() {
        let signature = MinHasher().signature(of: Self.text)
        #expect(signature.count == 128)
        #expect(Array(signature.values.prefix(8)) == [
            0x3BEA_9E43, 0x0F43_2BE6, 0x121E_084D, 0x0F3F_E95D, 0x3032_577D, 0x023D_D34D, 0x06E7_86A5, 0x14A0_3566,
        ])
        #expect(Array(signature.values.suffix(4)) == [0x3E11_CC14, 0x2143_C180, 0x1104_117B, 0x3A46_BE18])
        #expect(Array(MinHasher().shingleHashes(of: Self.text).prefix(3)) == [
            0xBF57_EB0C_FAB3_BCF9, 0x63F9_94EC_FE51_662B, 0x7E1B_585F_9BCF_BB7B,
        ])
    }

    @Test func goldenSignatureWithUnicodeAndCustomParameters() throws {
        let hasher = MinHasher(parameters: try MinHashParameters(ngramSize: 3, permutationCount: 16, seed: 42))
        #expect(hasher.signature(of: "Ünïcödé TEXT — with ÉCOLE and 中文 words.").values == [
            0x84F3_7F05, 0x049B_5600, 0x0FC4_0D50, 0x0399_4CBC, 0x0FAC_091C, 0x0994_46B3, 0x0724_2EAB, 0x4192_4278,
            0x1269_7335, 0x2A6D_457C, 0x4368_6E25, 0x2A12_DBCE, 0x2CE3_E8D7, 0x4E36_9437, 0x0695_B2F1, 0x12B7_057F,
        ])
    }

    @Test func goldenBandKeys() throws {
        let lsh = try LSHParameters(threshold: 0.8, permutationCount: 128)
        let keys = lsh.bandKeys(of: MinHasher().signature(of: Self.text))
        #expect(keys.count == 9)
        #expect(Array(keys.prefix(3)) == [0x06E2_2483_B206_E4D6, 0xE8E6_DCD5_190A_D5D6, 0xC39A_DABA_6A64_8BFA])
    }

    @Test func seedChangesThePermutations() throws {
        let other = MinHasher(parameters: try MinHashParameters(seed: 2))
        #expect(other.signature(of: Self.text) != MinHasher().signature(of: Self.text))
    }

    @Test(arguments: [1, 16, 128, 256])
    func bytesRoundTrip(permutations: Int) throws {
        let hasher = MinHasher(parameters: try MinHashParameters(permutationCount: permutations))
        let signature = hasher.signature(of: Self.text)
        let bytes = signature.bytes
        #expect(bytes.count == permutations * 4)
        #expect(try MinHashSignature(bytes: bytes, expectedCount: permutations) == signature)
        #expect(try MinHashSignature(bytes: bytes[...]) == signature)
    }

    @Test func bytesAreLittleEndianUInt32() throws {
        let signature = MinHashSignature(values: [0x0403_0201, 0xDDCC_BBAA])
        #expect(signature.bytes == [0x01, 0x02, 0x03, 0x04, 0xAA, 0xBB, 0xCC, 0xDD])
    }

    @Test func malformedBytesAreRejected() {
        #expect(throws: MinHashSignatureFormatError.self) { try MinHashSignature(bytes: [1, 2, 3]) }
        #expect(throws: MinHashSignatureFormatError.self) {
            try MinHashSignature(bytes: [UInt8](repeating: 0, count: 8), expectedCount: 128)
        }
    }

    @Test func identicalTextsHaveIdenticalSignatures() {
        var generator = DedupTestCorpus.Generator(state: 1)
        for length in [1, 3, 5, 40, 400] {
            let text = DedupTestCorpus.words(length, generator: &generator).joined(separator: " ")
            let a = MinHasher().signature(of: text), b = MinHasher().signature(of: String(text))
            #expect(a == b)
            #expect(a.estimatedJaccard(with: b) == 1)
        }
    }

    /// Estimated against exact Jaccard on 300 pairs spanning 0...1: every
    /// error within 3/√k and the mean absolute error within 1/√k.
    @Test(arguments: [64, 128])
    func estimateTracksExactJaccard(permutations: Int) throws {
        let hasher = MinHasher(parameters: try MinHashParameters(ngramSize: 3, permutationCount: permutations))
        var generator = DedupTestCorpus.Generator(state: UInt64(permutations))
        let bound = 3 / Double(permutations).squareRoot()
        var totalError = 0.0
        let pairs = 300
        for pair in 0..<pairs {
            let base = DedupTestCorpus.words(120, generator: &generator)
            let rate = Double(pair % 30) / 60
            let variant = DedupTestCorpus.perturbed(base, rate: rate, generator: &generator)
            let a = base.joined(separator: " "), b = variant.joined(separator: " ")
            let exact = Self.exactJaccard(Set(hasher.shingles(of: a)), Set(hasher.shingles(of: b)))
            let estimate = hasher.signature(of: a).estimatedJaccard(with: hasher.signature(of: b))
            #expect(abs(estimate - exact) <= bound, "pair \(pair): exact \(exact), estimated \(estimate)")
            totalError += abs(estimate - exact)
        }
        #expect(totalError / Double(pairs) <= 1 / Double(permutations).squareRoot())
    }

    @Test func unrelatedTextsEstimateNearZero() {
        var generator = DedupTestCorpus.Generator(state: 5)
        let hasher = MinHasher()
        for _ in 0..<100 {
            let a = DedupTestCorpus.words(200, generator: &generator).joined(separator: " ")
            let b = DedupTestCorpus.words(200, generator: &generator).joined(separator: " ")
            #expect(hasher.signature(of: a).estimatedJaccard(with: hasher.signature(of: b)) < 0.1)
        }
    }

    static func exactJaccard(_ a: Set<String>, _ b: Set<String>) -> Double {
        if a.isEmpty && b.isEmpty { return 1 }
        return Double(a.intersection(b).count) / Double(a.union(b).count)
    }
}
