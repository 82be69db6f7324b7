import Foundation
import PersonaForgeCore
import PersonaForgeStore

/// A run rebuilt from what `submit` stored, with everything a shard needs compiled
/// once: the condition space, the sampling plan, and each step's ``OutputCurator``
/// (filters, JSON extraction, schema).
struct PreparedRun: Sendable {
    let id: String
    let loaded: LoadedRun
    let space: ConditionSpace
    let plan: SamplingPlan
    /// Step name → the curator of its outputs.
    let curators: [String: OutputCurator]
    let hasher: MinHasher?
    /// The step whose output is signed for dedup.
    let dedupStep: String?

    init(stored: StoredRun, runs: RunRepository) async throws {
        let loaded = try stored.load()
        try self.init(id: stored.id, loaded: loaded,
                      postgresSources: try await PostgresTableAxisSource.sources(for: loaded, connection: runs.connection))
    }

    /// A run whose axes need no database, or whose PostgreSQL axes are given.
    init(id: String, loaded: LoadedRun, postgresSources: [String: any AxisValueSource] = [:]) throws {
        self.loaded = loaded
        self.id = id
        space = try loaded.conditionSpace(postgresSources: postgresSources)
        plan = try loaded.samplingPlan(conditionCount: space.count)
        let filter = try LocalFilter(settings: loaded.config.filters)
        var curators: [String: OutputCurator] = [:]
        for step in loaded.config.steps { curators[step.name] = OutputCurator(step: step, filter: filter) }
        self.curators = curators
        let dedup = loaded.config.dedup
        hasher = dedup.enabled
            ? MinHasher(parameters: try MinHashParameters(ngramSize: dedup.ngram, permutationCount: dedup.permutations, seed: dedup.effectiveSeed(runSeed: loaded.config.seed)))
            : nil
        dedupStep = dedup.step ?? loaded.config.steps.last?.name
    }
}

struct PreparedRunError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
