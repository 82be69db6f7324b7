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

    init(stored: StoredRun, runs: RunRepository) async throws {
        let bundle = stored.bundle
        let loader = RunConfigLoader(files: { path in
            guard let text = bundle[path] else {
                throw PreparedRunError(message: "'\(path)' was not stored with the run")
            }
            return text
        })
        do {
            loaded = try loader.load(yaml: stored.configYAML, file: stored.configFile, baseDirectory: stored.baseDirectory)
        } catch {
            throw PreparedRunError(message: "the stored config of run \(stored.id) no longer loads: \(error.description)")
        }
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
            ? MinHasher(parameters: try MinHashParameters(ngramSize: dedup.ngram, permutationCount: dedup.permutations, seed: dedup.seed ?? loaded.config.seed))
            : nil
    }
}

struct PreparedRunError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
