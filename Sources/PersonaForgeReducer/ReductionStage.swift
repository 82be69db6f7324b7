public import PersonaForgeCore

/// A step between decoding result batches and storing them: where global
/// near-duplicate removal (MinHash LSH against the PostgreSQL band index) and
/// running diversity statistics plug in. It may change a record's status (e.g. to
/// `duplicate`) but never drops one: every sample is accounted for.
public protocol ReductionStage: Sendable {
    func reduce(_ batches: [ResultBatch]) async throws -> [ResultBatch]
}

/// Stores batches as the workers produced them.
public struct PassThroughStage: ReductionStage {
    public init() {}
    public func reduce(_ batches: [ResultBatch]) async throws -> [ResultBatch] { batches }
}
