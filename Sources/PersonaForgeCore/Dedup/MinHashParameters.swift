/// What a MinHash signature depends on. Two signatures are comparable only if
/// they were computed with equal parameters.
public struct MinHashParameters: Sendable, Hashable, Codable {
    /// Words per shingle (word n-gram size). Default 5.
    public var ngramSize: Int
    /// Number of hash permutations, that is values per signature. Default 128.
    public var permutationCount: Int
    /// Seed of the permutation family. Default 1 (datasketch's default).
    public var seed: UInt64

    /// Creates parameters, checking that they are usable.
    ///
    /// - Throws: `MinHashParameterError` if `ngramSize` or `permutationCount`
    ///   is out of range.
    public init(ngramSize: Int = 5, permutationCount: Int = 128, seed: UInt64 = 1) throws {
        guard (1...64).contains(ngramSize) else {
            throw MinHashParameterError(
                message: "n-gram size \(ngramSize) is out of range: use 1...64 words (5 is typical)")
        }
        guard (1...4096).contains(permutationCount) else {
            throw MinHashParameterError(
                message: "permutation count \(permutationCount) is out of range: use 1...4096 (128 is typical)")
        }
        self.ngramSize = ngramSize
        self.permutationCount = permutationCount
        self.seed = seed
    }

    /// The defaults: 5-word shingles, 128 permutations, seed 1.
    public static let standard = MinHashParameters(validNgramSize: 5, permutationCount: 128, seed: 1)

    /// Decodes and validates (same checks as ``init(ngramSize:permutationCount:seed:)``).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            ngramSize: try container.decode(Int.self, forKey: .ngramSize),
            permutationCount: try container.decode(Int.self, forKey: .permutationCount),
            seed: try container.decode(UInt64.self, forKey: .seed))
    }

    private init(validNgramSize: Int, permutationCount: Int, seed: UInt64) {
        ngramSize = validNgramSize
        self.permutationCount = permutationCount
        self.seed = seed
    }
}

/// Invalid MinHash or LSH parameters; the message says which value to change.
public struct MinHashParameterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong and how to fix it.
    public var message: String
    public var description: String { message }
}
