import ArgumentParser
import Foundation
import PersonaForgeCore
import PersonaForgeQueue
import PersonaForgeRedis
import PersonaForgeStore
import PersonaForgeSupport
import Yams

/// Validates a run config and stores it as a new run (shared by `submit` and `run`).
struct RunSubmission {
    let configPath: String
    let name: String?
    let allowDuplicate: Bool

    enum Outcome {
        case created(RunSummary)
        case existing(RunSummary)
    }

    /// A config that loaded and passed every check, with the text of every file it
    /// references. Nothing has been written anywhere yet.
    struct Validated {
        let yaml: String
        let baseDirectory: String
        let loaded: LoadedRun
        /// Resolved path → text of every file the config references.
        let bundle: [String: String]
    }

    /// Reads and validates the config and its files, touching no service: an invalid
    /// config is reported (every problem, `file:line: message`) and exits 2 before
    /// anything connects to PostgreSQL or Redis, so nothing is written.
    func validate() throws -> Validated {
        // The loader hands over every file it reads, so the run carries them and
        // workers anywhere can rebuild it exactly.
        let files = LockedBox<[String: String]>([:])
        let loader = RunConfigLoader(recording: { path, text in files.withLock { $0[path] = text } })
        let baseDirectory = URL(fileURLWithPath: configPath).deletingLastPathComponent().path
        do {
            let yaml = try loader.readConfig(atPath: configPath)
            let loaded = try loader.load(yaml: yaml, file: configPath, baseDirectory: baseDirectory)
            return Validated(yaml: yaml, baseDirectory: baseDirectory, loaded: loaded, bundle: files.withLock { $0 })
        } catch {
            printToStandardError(error.description)
            printToStandardError("\(configPath): \(error.problems.count) problem\(error.problems.count == 1 ? "" : "s") found")
            throw ExitCode(2)
        }
    }

    /// Stores a validated config as a new run (or finds the same one submitted before).
    func submit(_ validated: Validated, runs: RunRepository, control: RunControl) async throws -> Outcome {
        let (yaml, baseDirectory, loaded, bundle) = (validated.yaml, validated.baseDirectory, validated.loaded, validated.bundle)
        let conditionCount: Int
        let plan: SamplingPlan
        do {
            let sources = try await PostgresTableAxisSource.sources(for: loaded, connection: runs.connection)
            conditionCount = try loaded.conditionSpace(postgresSources: sources).count
            plan = try loaded.samplingPlan(conditionCount: conditionCount)
        } catch {
            printToStandardError("error: \(configPath): \(error)")
            throw ExitCode(2)
        }

        var hashInput = yaml
        for path in bundle.keys.sorted() { hashInput += "\u{0}\(path)\u{0}\(bundle[path]!)" }
        let hash = String(format: "%016llx", XXHash64.hash(hashInput))
        if !allowDuplicate, let existing = try await runs.liveRuns(withConfigHash: hash, namespace: control.layout.namespace).first {
            return .existing(existing)
        }

        let configJSON: String
        if let object = try? Yams.load(yaml: yaml), JSONSerialization.isValidJSONObject(object),
           let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
            configJSON = String(decoding: data, as: UTF8.self)
        } else {
            configJSON = "{}"
        }
        let id = UUID().uuidString.lowercased()
        // Redis must take the run's state: a Redis that refuses (an ACL for another
        // namespace) fails here, before anything is stored.
        _ = try await control.state(of: id)
        var newRun = RunRepository.NewRun(
            id: id, namespace: control.layout.namespace, name: name ?? loaded.config.name, configJSON: configJSON, configHash: hash, configYAML: yaml,
            configFile: configPath, baseDirectory: baseDirectory, bundle: bundle, seed: loaded.config.seed,
            conditionCount: conditionCount, samplesPerCondition: plan.samplesPerCondition, sampleCount: plan.sampleCount,
            shardSize: plan.shardSize, shardCount: plan.shardCount, model: loaded.config.model.name
        )
        newRun.budget = loaded.config.budget
        try await runs.insert(newRun)
        try await control.setState(RunState.pending.rawValue, of: id)
        guard let summary = try await runs.summary(id: id) else {
            throw SubmissionError(message: "run \(id) vanished right after it was stored")
        }
        return .created(summary)
    }
}

struct SubmissionError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
