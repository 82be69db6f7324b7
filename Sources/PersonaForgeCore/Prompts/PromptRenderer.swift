/// Renders every step's messages for a sample: a pure function of the
/// condition's values, the sample address, the demonstrations drawn for it and
/// the outputs of earlier steps.
///
/// Template variables:
/// - `{{AXIS}}`, `{{AXIS.FIELD}}`: the condition's value on each axis and its fields;
/// - `{{steps.STEP}}`, `{{steps.STEP.FIELD}}` (JSON steps): outputs of earlier steps;
/// - `{{#demos}}…{{/demos}}`: the drawn demonstrations, fields by name inside;
/// - `{{sample_index}}`: which of the condition's samples this is (from 0).
public struct PromptRenderer: Sendable {
    /// A step with its compiled templates.
    public struct CompiledStep: Sendable {
        /// The step's configuration.
        public let config: StepConfig
        /// The compiled system template.
        public let system: PromptTemplate?
        /// The compiled user template.
        public let user: PromptTemplate
    }

    /// The steps in order.
    public let steps: [CompiledStep]
    /// The demonstration pool, if any.
    public let demonstrations: DemonstrationPool?
    /// Demonstrations per sample.
    public let demonstrationCount: Int
    /// The run seed (demonstration draws derive from it).
    public let seed: UInt64

    /// Compiles the steps' templates. Variable checks happen in ``RunConfigLoader``;
    /// this only throws on template syntax errors.
    public init(steps: [StepConfig], demonstrations: DemonstrationPool? = nil, demonstrationCount: Int = 0, seed: UInt64) throws(PromptTemplateError) {
        var compiled: [CompiledStep] = []
        for step in steps {
            let system: PromptTemplate?
            if let text = step.system { system = try PromptTemplate(text) } else { system = nil }
            compiled.append(CompiledStep(config: step, system: system, user: try PromptTemplate(step.user)))
        }
        self.steps = compiled
        self.demonstrations = demonstrations
        self.demonstrationCount = demonstrationCount
        self.seed = seed
    }

    /// The demonstrations drawn for `address`.
    public func demonstrations(for address: SampleAddress) -> [[String: String]] {
        demonstrations?.draw(demonstrationCount, seed: seed, for: address) ?? []
    }

    /// The messages of step number `stepIndex` for the sample at `address`.
    /// `previousOutputs` holds the outputs of the steps before it, by name.
    public func prompt(
        forStep stepIndex: Int,
        condition: [String: AxisValue],
        address: SampleAddress,
        previousOutputs: [String: StepOutput] = [:]
    ) -> RenderedPrompt {
        let step = steps[stepIndex]
        var context: [String: Any] = [:]
        for (name, value) in condition { context[name] = TemplateValue(value) }
        context["steps"] = previousOutputs.mapValues { TemplateValue($0) }
        context["demos"] = demonstrations(for: address)
        context["sample_index"] = String(address.sampleIndex)
        return RenderedPrompt(step: step.config.name, system: step.system?.render(context), user: step.user.render(context))
    }

    /// Every step's prompt for a preview, with `⟨output of step 'NAME'⟩` standing in for earlier outputs.
    public func previewPrompts(condition: [String: AxisValue], address: SampleAddress) -> [RenderedPrompt] {
        var outputs: [String: StepOutput] = [:]
        return steps.indices.map { index in
            let prompt = prompt(forStep: index, condition: condition, address: address, previousOutputs: outputs)
            let config = steps[index].config
            let placeholder = "⟨output of step '\(config.name)'⟩"
            var json: JSONValue?
            if config.output == .json {
                let names = config.schemaPropertyNames ?? []
                json = .object(Dictionary(uniqueKeysWithValues: names.map { ($0, JSONValue.string("⟨\(config.name).\($0)⟩")) }))
            }
            outputs[config.name] = StepOutput(text: placeholder, json: json)
            return prompt
        }
    }
}
