import ArgumentParser
import Foundation
import PersonaForgeCore

/// `personaforge plan RUN.yaml`: validates a run config and shows what the run
/// would do — space size, sample and shard counts, axes, and the fully
/// rendered prompts of the first sample positions — without any service.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Validate a run config and show its condition space, shards and first prompts.",
        discussion: """
            Exit status: 0 when the config is valid, 2 when it is not (every problem is \
            printed to standard error as file:line: message).
            PERSONAFORGE_LLM_BASE_URL and PERSONAFORGE_LLM_API_KEY(_FILE) override the \
            config's endpoint; the key itself is never printed.
            """
    )

    @Argument(help: "The run config (YAML).")
    var config: String

    @Option(help: "Render the prompts of the first N sample positions.")
    var show: Int = 3

    @Flag(help: "Print a machine-readable JSON report instead of text.")
    var json = false

    func run() async throws {
        let run: LoadedRun
        do {
            run = try RunConfigLoader().load(path: config)
        } catch {
            printToStandardError(error.description)
            printToStandardError("\(config): \(error.problems.count) problem\(error.problems.count == 1 ? "" : "s") found")
            throw ExitCode(2)
        }
        let (model, apiKey) = run.config.model.overriding(with: ProcessInfo.processInfo.environment)

        var report = PlanReport(run: run, model: model, apiKey: apiKey)
        if run.knownConditionCount != nil {
            do {
                let space = try run.conditionSpace()
                let plan = try run.samplingPlan(conditionCount: space.count)
                report.add(plan: plan)
                let positions = Array(0..<min(max(show, 0), plan.sampleCount))
                report.samples = try await run.previewSamples(at: positions, space: space, plan: plan)
            } catch let error as ConditionSpaceError {
                printToStandardError("\(config): \(error.message)")
                throw ExitCode(2)
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text, terminator: "")
        }
    }
}

/// What `plan` prints, as text or JSON.
struct PlanReport: Codable {
    struct Axis: Codable {
        var name: String
        var count: Int?
        var source: String
        var fields: [String]
    }

    struct Model: Codable {
        var baseURL: String
        var name: String
        var api: String
        var apiKey: String
        var maxTokens: Int
        var temperature: Double
    }

    struct Step: Codable {
        var name: String
        var output: String
        var maxTokens: Int
    }

    var run: String
    var config: String
    var seed: UInt64
    var axes: [Axis]
    var conditionCount: Int?
    var samplesPerCondition: Int
    var sampleSpaceSize: Int?
    var sampleCount: Int?
    var sampledConditionCount: Int?
    var shardSize: Int
    var shardCount: Int?
    var lastShardSize: Int?
    var model: Model
    var steps: [Step]
    var samples: [RenderedSample] = []

    init(run: LoadedRun, model: ModelSettings, apiKey: ModelSettings.APIKeySource) {
        self.run = run.config.name
        self.config = run.config.file
        self.seed = run.config.seed
        self.axes = run.axes.map { Axis(name: $0.name, count: $0.count, source: $0.sourceDescription, fields: $0.fieldNames) }
        self.conditionCount = run.knownConditionCount
        self.samplesPerCondition = run.config.samplesPerCondition
        self.shardSize = run.config.shardSize
        let key: String
        switch apiKey {
        case .none: key = "none"
        case .environment(let name): key = "from environment variable \(name)"
        case .file(let path): key = "from file \(path)"
        }
        self.model = Model(baseURL: model.baseURL, name: model.name, api: model.api.rawValue, apiKey: key, maxTokens: model.maxTokens, temperature: model.temperature)
        self.steps = run.config.steps.map { Step(name: $0.name, output: $0.output.rawValue, maxTokens: $0.maxTokens ?? model.maxTokens) }
    }

    mutating func add(plan: SamplingPlan) {
        sampleSpaceSize = plan.sampleSpaceSize
        sampleCount = plan.sampleCount
        sampledConditionCount = plan.sampledConditionCount
        shardCount = plan.shardCount
        lastShardSize = plan.sampleCount - (plan.shardCount - 1) * plan.shardSize
    }

    var text: String {
        var out = "run      \(run)   (\(config), seed \(seed))\n"
        out += "axes\n"
        let width = axes.map(\.name.count).max() ?? 0
        for axis in axes {
            let count = axis.count.map(Self.grouped) ?? "?"
            let fields = axis.fields.isEmpty ? "" : "   fields: \(axis.fields.joined(separator: ", "))"
            out += "  \(axis.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(count.leftPadded(15))  \(axis.source)\(fields)\n"
        }
        if let conditionCount, let sampleSpaceSize, let sampleCount, let sampledConditionCount, let shardCount, let lastShardSize {
            out += "space    \(Self.grouped(conditionCount)) conditions × \(samplesPerCondition) sample\(samplesPerCondition == 1 ? "" : "s") per condition = \(Self.grouped(sampleSpaceSize)) samples\n"
            out += "sampled  \(Self.grouped(sampleCount)) samples from \(Self.grouped(sampledConditionCount)) conditions (\(Self.percent(sampleCount, of: sampleSpaceSize)) of the space)\n"
            out += "shards   \(Self.grouped(shardCount)) × \(Self.grouped(shardSize)) sample positions (last shard \(Self.grouped(lastShardSize)))\n"
        } else {
            out += "space    resolved at submit (a postgres axis has no 'count:'); sample and shard counts follow from it\n"
        }
        out += "model    \(model.name) at \(model.baseURL) (\(model.api) API, API key: \(model.apiKey), max_tokens \(model.maxTokens), temperature \(model.temperature))\n"
        out += "steps    \(steps.map { "\($0.name) (\($0.output))" }.joined(separator: " → "))\n"
        for sample in samples {
            let condition = sample.condition.map { "\($0.axis) #\($0.index)" }.joined(separator: ", ")
            out += "\n── sample position \(sample.samplePosition) → condition \(sample.address.conditionPosition) [\(condition)], sample index \(sample.address.sampleIndex)\n"
            for prompt in sample.prompts {
                if let system = prompt.system {
                    out += "\n[\(prompt.step) · system]\n\(system.trimmingTrailingNewlines)\n"
                }
                out += "\n[\(prompt.step) · user]\n\(prompt.user.trimmingTrailingNewlines)\n"
            }
        }
        return out
    }

    static func grouped(_ value: Int) -> String {
        let digits = Array(String(value))
        var out = ""
        for (offset, digit) in digits.enumerated() {
            if offset > 0, (digits.count - offset) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return out
    }

    static func percent(_ part: Int, of whole: Int) -> String {
        let share = Double(part) / Double(whole) * 100
        return share >= 0.01 || share == 0 ? String(format: "%.2f%%", share) : String(format: "%.2g%%", share)
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }

    var trimmingTrailingNewlines: String {
        var copy = self
        while copy.last == "\n" { copy.removeLast() }
        return copy
    }
}

