import Foundation
import Logging
import PersonaForgeCore
import PersonaForgeLLM
import PersonaForgeSupport

/// Turns one shard into one result batch: decode every sample position to its
/// condition, run the steps through the LLM (samples concurrently, steps in order),
/// curate each output (``OutputCurator``), sign kept records with MinHash. Every sample ends in exactly one
/// record: kept, filtered (with the reject reason) or failed (with the failure class).
struct ShardProcessor: Sendable {
    let caller: LLMCaller
    let logger: Logger

    func process(_ shard: ShardDescriptor, run: PreparedRun) async throws -> [GeneratedRecord] {
        let positions = Array(shard.samplePositions)
        let addresses = positions.map(run.plan.address(ofSample:))
        let conditions = try await run.space.conditions(at: addresses.map(\.conditionPosition))
        return await withTaskGroup(of: GeneratedRecord.self) { group in
            for (offset, position) in positions.enumerated() {
                group.addTask {
                    await generate(samplePosition: position, address: addresses[offset], condition: conditions[offset], run: run)
                }
            }
            var records: [GeneratedRecord] = []
            records.reserveCapacity(positions.count)
            for await record in group { records.append(record) }
            return records.sorted { $0.samplePosition < $1.samplePosition }
        }
    }

    func generate(samplePosition: Int, address: SampleAddress, condition: [String: AxisValue], run: PreparedRun) async -> GeneratedRecord {
        let config = run.loaded.config
        let digits = run.space.indices(ofCondition: address.conditionPosition)
        let named = run.space.axes.enumerated().map { offset, axis in
            NamedAxisValue(axis: axis.name, index: digits[offset], value: condition[axis.name] ?? AxisValue(""))
        }
        let clock = ContinuousClock()
        let started = clock.now
        var outputs: [String: StepOutput] = [:]
        var steps: [GeneratedRecord.Step] = []
        var promptText = ""
        var promptTokens = 0
        var completionTokens = 0
        let seed = PortableHash.combine(config.seed, UInt64(samplePosition))
        var sampling: [String: Double] = ["temperature": config.model.temperature, "top_p": config.model.topP, "seed": Double(seed & 0xFFFF_FFFF)]
        // The model of the endpoint that answered last (endpoints of a pool may name theirs differently).
        var model = config.model.name
        var cost: Double?

        func record(_ status: GeneratedRecord.Status, reason: String?, detail: String?, finishReason: String?) -> GeneratedRecord {
            let text = steps.last?.text ?? ""
            var signature: [UInt8]?
            if status == .kept, let hasher = run.hasher {
                let compared = steps.first { $0.name == run.dedupStep }?.text ?? text
                signature = hasher.signature(of: compared).bytes
            }
            return GeneratedRecord(
                samplePosition: samplePosition, conditionPosition: address.conditionPosition, sampleIndex: address.sampleIndex,
                condition: named, promptHash: String(XXHash64.hash(promptText), radix: 16), text: text, steps: steps,
                model: model, sampling: sampling, finishReason: finishReason, promptTokens: promptTokens,
                completionTokens: completionTokens, status: status, reason: reason, detail: detail, signature: signature,
                latencyMilliseconds: Int((clock.now - started).wholeMilliseconds), cost: cost
            )
        }

        for (index, step) in run.loaded.renderer.steps.enumerated() {
            let prompt = run.loaded.renderer.prompt(forStep: index, condition: condition, address: address, previousOutputs: outputs)
            promptText += (prompt.system ?? "") + "\u{1F}" + prompt.user + "\u{1E}"
            var messages: [ChatMessage] = []
            if let system = prompt.system, !system.isEmpty { messages.append(.system(system)) }
            messages.append(.user(prompt.user))
            let maxTokens = step.config.maxTokens ?? config.model.maxTokens
            sampling["max_tokens"] = Double(maxTokens)
            let request = ChatCompletionRequest(
                model: model, messages: messages, temperature: step.config.temperature ?? config.model.temperature,
                topP: config.model.topP, maxTokens: maxTokens, seed: PortableHash.combine(seed, UInt64(index)) & 0xFFFF_FFFF,
                stop: step.config.stop.isEmpty ? nil : step.config.stop,
                responseFormat: step.config.output == .json ? .jsonObject : nil
            )
            switch await caller.generate(request, api: config.model.api) {
            case .failure(let failure):
                return record(.failed, reason: failure.failureClass.rawValue, detail: "step '\(step.config.name)' after \(failure.attempts) attempt\(failure.attempts == 1 ? "" : "s"): \(failure.message)", finishReason: nil)
            case .success(let success):
                let completion = success.completion
                model = success.model
                if let callCost = success.cost { cost = (cost ?? 0) + callCost }
                promptTokens += completion.promptTokens ?? 0
                completionTokens += completion.completionTokens ?? 0
                guard let choice = completion.choices.first else {
                    return record(.failed, reason: FailureClass.llmInvalidResponse.rawValue, detail: "step '\(step.config.name)': no choices", finishReason: nil)
                }
                let text = choice.content.trimmingWhitespace()
                steps.append(GeneratedRecord.Step(
                    name: step.config.name, text: text, finishReason: choice.finishReason.name,
                    promptTokens: completion.promptTokens, completionTokens: completion.completionTokens
                ))
                // One curation path (docs/curation.md): filters, JSON extraction and schema.
                guard let curator = run.curators[step.config.name] else {
                    return record(.failed, reason: FailureClass.llmInvalidResponse.rawValue, detail: "step '\(step.config.name)' has no curator", finishReason: nil)
                }
                switch curator.curate(text: text, finishReason: choice.finishReason.name) {
                case .reject(let reason, let detail):
                    return record(.filtered, reason: reason.rawValue, detail: "step '\(step.config.name)': \(detail)", finishReason: choice.finishReason.name)
                case .keep(let output):
                    outputs[step.config.name] = output
                }
                if index == run.loaded.renderer.steps.count - 1 {
                    return record(.kept, reason: nil, detail: nil, finishReason: choice.finishReason.name)
                }
            }
        }
        return record(.failed, reason: FailureClass.llmInvalidResponse.rawValue, detail: "the run has no steps", finishReason: nil)
    }
}
