/// Embedding vectors that cannot be compared.
public struct EmbeddingDiversityError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong and what to do about it.
    public var message: String
    public var description: String { message }
}
