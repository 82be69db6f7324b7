/// Deterministic synthetic texts for the dedup tests (no external data).
enum DedupTestCorpus {
    /// splitmix64: the same draws on every run and machine.
    struct Generator: RandomNumberGenerator {
        var state: UInt64

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    }

    static let vocabulary: [String] = {
        var generator = Generator(state: 99)
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        return (0..<5_000).map { _ in
            String((0..<(3 + generator.below(7))).map { _ in letters[generator.below(26)] })
        }
    }()

    /// A text of `count` words drawn from the vocabulary.
    static func words(_ count: Int, generator: inout Generator) -> [String] {
        (0..<count).map { _ in vocabulary[generator.below(vocabulary.count)] }
    }

    /// `words` with each word replaced by a fresh one with probability `rate`.
    static func perturbed(_ words: [String], rate: Double, generator: inout Generator) -> [String] {
        words.map { word in
            Double(generator.below(1_000_000)) / 1_000_000 < rate ? vocabulary[generator.below(vocabulary.count)] : word
        }
    }
}
