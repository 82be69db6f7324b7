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
        let groups = Self.requestGroups(addresses: addresses, limit: run.loaded.config.model.samplesPerRequest) { offset in
            run.loaded.renderer.prompt(forStep: 0, condition: conditions[offset], address: addresses[offset], previousOutputs: [:])
        }
        return await withTaskGroup(of: [GeneratedRecord].self) { group in
            for members in groups {
                group.addTask {
                    guard members.count > 1 else {
                        let offset = members[0]
                        return [await generate(samplePosition: positions[offset], address: addresses[offset], condition: conditions[offset], run: run)]
                    }
                    return await generateSharing(members.map { (positions[$0], addresses[$0], conditions[$0]) }, run: run)
                }
            }
            var records: [GeneratedRecord] = []
            records.reserveCapacity(positions.count)
            for await batch in group { records += batch }
            return records.sorted { $0.samplePosition < $1.samplePosition }
        }
    }

    /// The shard's samples (offsets) in groups that one request can serve with `n`:
    /// consecutive samples of one condition whose first-step prompts are identical
    /// (a template that uses `sample_index`, or demonstrations drawn per sample, keep
    /// them apart), at most `limit` each. With `limit` 1, one group per sample.
    static func requestGroups(addresses: [SampleAddress], limit: Int, firstPrompt: (Int) -> RenderedPrompt) -> [[Int]] {
        guard limit > 1 else { return addresses.indices.map { [$0] } }
        var groups: [[Int]] = []
        var groupPrompt: RenderedPrompt?
        for offset in addresses.indices {
            let prompt = firstPrompt(offset)
            if var last = groups.last, last.count < limit, addresses[last[0]].conditionPosition == addresses[offset].conditionPosition, prompt == groupPrompt {
                last.append(offset)
                groups[groups.count - 1] = last
            } else {
                groups.append([offset])
                groupPrompt = prompt
            }
        }
        return groups
    }

    /// One step's answer for one sample: from its own request, or its share of a request
    /// several samples shared (``generateSharing(_:run:)``).
    struct StepAnswer {
        var choice: ChatCompletion.Choice
        var promptTokens: Int?
        var completionTokens: Int?
        var model: String
        var cost: Double?
        /// How many samples the request served.
        var n: Int
    }

    /// Samples of one condition with one first-step prompt: one request with `n` = their
    /// number for the first step (the seed is the first sample's), then each sample's
    /// later steps on its own. The request's tokens and cost are split evenly among the
    /// samples it served. A server that answers fewer choices than asked (one that
    /// ignores `n`) leaves the rest to requests of their own, with their own seeds.
    func generateSharing(_ samples: [(position: Int, address: SampleAddress, condition: [String: AxisValue])], run: PreparedRun) async -> [GeneratedRecord] {
        let config = run.loaded.config
        let first = samples[0]
        let prompt = run.loaded.renderer.prompt(forStep: 0, condition: first.condition, address: first.address, previousOutputs: [:])
        var request = Self.request(forStep: 0, prompt: prompt, run: run, sampleSeed: Self.sampleSeed(config.seed, first.position))
        request.count = samples.count
        let shared: [Result<StepAnswer, LLMCaller.Failure>?]
        switch await caller.generate(request, api: config.model.api) {
        case .failure(let failure):
            shared = samples.map { _ in .failure(failure) }
        case .success(let success):
            let choices = success.completion.choices.sorted { $0.index < $1.index }.prefix(samples.count)
            let served = choices.count
            func share(_ total: Int?, _ index: Int) -> Int? { total.map { $0 / max(1, served) + (index == 0 ? $0 % max(1, served) : 0) } }
            shared = samples.indices.map { index in
                guard index < served else { return nil }
                return .success(StepAnswer(
                    choice: choices[choices.startIndex + index], promptTokens: share(success.completion.promptTokens, index),
                    completionTokens: share(success.completion.completionTokens, index), model: success.model,
                    cost: success.cost.map { $0 / Double(served) }, n: served
                ))
            }
        }
        return await withTaskGroup(of: GeneratedRecord.self) { group in
            for (index, sample) in samples.enumerated() {
                group.addTask {
                    await generate(samplePosition: sample.position, address: sample.address, condition: sample.condition, run: run, first: shared[index])
                }
            }
            var records: [GeneratedRecord] = []
            for await record in group { records.append(record) }
            return records
        }
    }

    static func sampleSeed(_ runSeed: UInt64, _ samplePosition: Int) -> UInt64 {
        PortableHash.combine(runSeed, UInt64(samplePosition))
    }

    /// The request of step `index` for a sample whose seed is `sampleSeed`.
    static func request(forStep index: Int, prompt: RenderedPrompt, run: PreparedRun, sampleSeed: UInt64) -> ChatCompletionRequest {
        let config = run.loaded.config
        let step = run.loaded.renderer.steps[index]
        var messages: [ChatMessage] = []
        if let system = prompt.system, !system.isEmpty { messages.append(.system(system)) }
        messages.append(.user(prompt.user))
        return ChatCompletionRequest(
            model: config.model.name, messages: messages, temperature: step.config.temperature ?? config.model.temperature,
            topP: config.model.topP, maxTokens: step.config.maxTokens ?? config.model.maxTokens,
            seed: PortableHash.combine(sampleSeed, UInt64(index)) & 0xFFFF_FFFF,
            stop: step.config.stop.isEmpty ? nil : step.config.stop,
            responseFormat: step.config.output == .json ? .jsonObject : nil
        )
    }

    /// One sample through every step; `first`, when given, is its first step's answer
    /// from a request it shared with other samples (nil: it makes its own).
    func generate(
        samplePosition: Int, address: SampleAddress, condition: [String: AxisValue], run: PreparedRun,
        first: Result<StepAnswer, LLMCaller.Failure>? = nil
    ) async -> GeneratedRecord {
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
        let seed = Self.sampleSeed(config.seed, samplePosition)
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
            let request = Self.request(forStep: index, prompt: prompt, run: run, sampleSeed: seed)
            sampling["max_tokens"] = Double(request.maxTokens ?? config.model.maxTokens)
            let answer: Result<StepAnswer, LLMCaller.Failure>
            if index == 0, let first {
                answer = first
                if case .success(let shared) = first { sampling["n"] = Double(shared.n) }
            } else {
                switch await caller.generate(request, api: config.model.api) {
                case .failure(let failure):
                    answer = .failure(failure)
                case .success(let success):
                    guard let choice = success.completion.choices.first else {
                        return record(.failed, reason: FailureClass.llmInvalidResponse.rawValue, detail: "step '\(step.config.name)': no choices", finishReason: nil)
                    }
                    answer = .success(StepAnswer(
                        choice: choice, promptTokens: success.completion.promptTokens, completionTokens: success.completion.completionTokens,
                        model: success.model, cost: success.cost, n: 1
                    ))
                }
            }
            switch answer {
            case .failure(let failure):
                return record(.failed, reason: failure.failureClass.rawValue, detail: "step '\(step.config.name)' after \(failure.attempts) attempt\(failure.attempts == 1 ? "" : "s"): \(failure.message)", finishReason: nil)
            case .success(let success):
                let choice = success.choice
                model = success.model
                if let callCost = success.cost { cost = (cost ?? 0) + callCost }
                promptTokens += success.promptTokens ?? 0
                completionTokens += success.completionTokens ?? 0
                let text = choice.content.trimmingWhitespace()
                steps.append(GeneratedRecord.Step(
                    name: step.config.name, text: text, finishReason: choice.finishReason.name,
                    promptTokens: success.promptTokens, completionTokens: success.completionTokens
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
