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

    func submit(runs: RunRepository, control: RunControl) async throws -> Outcome {
        // Load through a reader that records every file the config references, so the
        // run carries them and workers anywhere can rebuild it exactly.
        let files = LockedBox<[String: String]>([:])
        let loader = RunConfigLoader(files: { path in
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw SubmissionError(message: FileManager.default.fileExists(atPath: path) ? "not readable UTF-8 text" : "no such file")
            }
            files.withLock { $0[path] = text }
            return text
        })
        let url = URL(fileURLWithPath: configPath)
        guard let yamlData = FileManager.default.contents(atPath: url.path), let yaml = String(data: yamlData, encoding: .utf8) else {
            printToStandardError("error: cannot read the run config '\(configPath)'")
            throw ExitCode(2)
        }
        let baseDirectory = url.deletingLastPathComponent().path
        let loaded: LoadedRun
        do {
            loaded = try loader.load(yaml: yaml, file: configPath, baseDirectory: baseDirectory)
        } catch {
            printToStandardError(error.description)
            printToStandardError("\(configPath): \(error.problems.count) problem\(error.problems.count == 1 ? "" : "s") found")
            throw ExitCode(2)
        }
        let conditionCount: Int
        do {
            let sources = try await PostgresTableAxisSource.sources(for: loaded, connection: runs.connection)
            conditionCount = try loaded.conditionSpace(postgresSources: sources).count
        } catch {
            printToStandardError("error: \(configPath): \(error)")
            throw ExitCode(2)
        }
        let plan = try loaded.samplingPlan(conditionCount: conditionCount)
        let bundle = files.withLock { $0 }

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
        try await runs.insert(.init(
            id: id, namespace: control.layout.namespace, name: name ?? loaded.config.name, configJSON: configJSON, configHash: hash, configYAML: yaml,
            configFile: configPath, baseDirectory: baseDirectory, bundle: bundle, seed: loaded.config.seed,
            conditionCount: conditionCount, samplesPerCondition: plan.samplesPerCondition, sampleCount: plan.sampleCount,
            shardSize: plan.shardSize, shardCount: plan.shardCount, model: loaded.config.model.name
        ))
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
