import Foundation
import PersonaForgeCore
import PersonaForgeStore

/// A run rebuilt from what `submit` stored, with everything a shard needs compiled
/// once: the condition space, the sampling plan, filters and schema validators.
struct PreparedRun: Sendable {
    let id: String
    let loaded: LoadedRun
    let space: ConditionSpace
    let plan: SamplingPlan
    let filter: LocalFilter
    let validators: [String: JSONSchemaValidator]
    let hasher: MinHasher?
    /// The step whose output is signed for dedup.
    let dedupStep: String?

    init(stored: StoredRun, runs: RunRepository) async throws {
        loaded = try stored.load()
        id = stored.id
        space = try loaded.conditionSpace(postgresSources: try await PostgresTableAxisSource.sources(for: loaded, connection: runs.connection))
        plan = try loaded.samplingPlan(conditionCount: space.count)
        filter = try LocalFilter(settings: loaded.config.filters)
        var validators: [String: JSONSchemaValidator] = [:]
        for step in loaded.config.steps {
            if let schema = step.jsonSchema { validators[step.name] = JSONSchemaValidator(schema: schema) }
        }
        self.validators = validators
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
