/// Cross-checks of a parsed config that need more than one section: template
/// syntax and variables against axes/steps/demos, dedup step, space size and limit.
struct RunValidator {
    let config: RunConfig
    let axes: [LoadedAxis]
    let demonstrations: DemonstrationPool?

    func problems() -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        let file = config.file
        let axisFields = Dictionary(axes.map { ($0.name, Set($0.fieldNames)) }, uniquingKeysWith: { first, _ in first })
        let demoFields: Set<String>? = config.demonstrations == nil ? nil : (demonstrations?.fieldNames ?? [])
        var earlier: [String: TemplateVocabulary.EarlierStep] = [:]
        let stepNames = config.steps.map(\.name)

        for (index, step) in config.steps.enumerated() {
            let vocabulary = TemplateVocabulary(
                axes: axisFields,
                earlierSteps: earlier,
                laterSteps: Set(stepNames[index...]),
                demoFields: demoFields
            )
            for (label, text, startLine) in [("system", step.system, step.systemLine), ("user", Optional(step.user), step.userLine)] {
                guard let text else { continue }
                if label == "user", text.allSatisfy(\.isWhitespace) {
                    problems.append(ConfigProblem(.missingKey, file: file, line: startLine, "step '\(step.name)': the user template is empty"))
                    continue
                }
                do {
                    _ = try PromptTemplate(text)
                } catch {
                    problems.append(ConfigProblem(.templateSyntax, file: file, line: startLine + error.line - 1, "step '\(step.name)' \(label) template: \(error.message)"))
                    continue
                }
                for problem in vocabulary.check(text) {
                    problems.append(ConfigProblem(problem.code, file: file, line: startLine + problem.line, "step '\(step.name)' \(label) template: \(problem.message)"))
                }
            }
            earlier[step.name] = .init(isJSON: step.output == .json, properties: step.schemaPropertyNames.map(Set.init))
        }

        if let step = config.dedup.step, !stepNames.contains(step) {
            let suggestion = KeySuggestion.closest(to: step, in: stepNames).map { " — did you mean '\($0)'?" } ?? ""
            problems.append(ConfigProblem(.undefinedVariable, file: file, line: config.lines["dedup"] ?? 0, "dedup: step '\(step)' is not a step of this run\(suggestion)"))
        }

        // Space size and limit, when every axis size is known without a database.
        let counts = axes.compactMap(\.count)
        if counts.count == axes.count, !axes.isEmpty, !counts.contains(0) {
            do {
                let radix = try MixedRadix(radices: counts)
                do {
                    _ = try SamplingPlan(conditionCount: radix.count, samplesPerCondition: config.samplesPerCondition, limit: config.limit, shardSize: config.shardSize, seed: config.seed)
                } catch {
                    let key = error.code == .invalidLimit ? "limit" : "samples_per_condition"
                    problems.append(ConfigProblem(error.code == .overflow ? .overflow : .invalidLimit, file: file, line: config.lines[key] ?? 0, error.message))
                }
            } catch {
                let sizes = axes.map { "\($0.name) (\($0.count ?? 0))" }.joined(separator: " × ")
                problems.append(ConfigProblem(.overflow, file: file, line: config.lines["axes"] ?? 0, "the condition space \(sizes) has more than 2^63 − 1 conditions; drop or shrink an axis"))
            }
        }
        return problems
    }
}
