public import PersonaForgeCore

/// How the reducer deduplicates one run: the LSH banding and the scope whose earlier
/// records count.
public struct DedupPlan: Sendable {
    /// `run:<id>`, or `global:<ngram>:<permutations>:<seed>:<threshold>` so that only
    /// comparable signatures share an index.
    public var scope: String
    public var lsh: LSHParameters
    public var threshold: Double
    public var permutationCount: Int

    public init(settings: DedupSettings, runID: String, runSeed: UInt64) throws {
        threshold = settings.threshold
        permutationCount = settings.permutations
        lsh = try LSHParameters(threshold: settings.threshold, permutationCount: settings.permutations)
        switch settings.scope {
        case .run:
            scope = "run:\(runID)"
        case .global:
            scope = "global:\(settings.ngram):\(settings.permutations):\(settings.effectiveSeed(runSeed: runSeed)):\(settings.threshold)"
        }
    }
}
