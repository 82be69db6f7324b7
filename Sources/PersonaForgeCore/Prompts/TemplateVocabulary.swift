/// The variables a template may use: axes and their fields, earlier steps'
/// outputs, demonstrations and the sample index. Used to reject a template
/// that names anything else *before* a run starts, instead of rendering a blank.
struct TemplateVocabulary {
    struct EarlierStep {
        /// Output is JSON, so `{{steps.NAME.field}}` is allowed.
        var isJSON: Bool
        /// Top-level properties from the schema; nil = any field allowed.
        var properties: Set<String>?
    }

    var axes: [String: Set<String>]
    var earlierSteps: [String: EarlierStep]
    /// The current step and every step after it.
    var laterSteps: Set<String>
    /// Demonstration fields, or nil when no demonstrations are configured.
    var demoFields: Set<String>?

    /// Every top-level name, for suggestions.
    var topLevelNames: [String] {
        axes.keys.sorted() + earlierSteps.keys.sorted().map { "steps.\($0)" } + ["sample_index"] + (demoFields == nil ? [] : ["#demos"])
    }

    /// Problems with the variables of `template`, as (0-based template line, code, message).
    func check(_ template: String) -> [(line: Int, code: ConfigProblem.Code, message: String)] {
        var problems: [(Int, ConfigProblem.Code, String)] = []
        var sections: [String] = []
        for tag in TemplateTag.scan(template) {
            switch tag.kind {
            case .unsupported(let feature):
                problems.append((tag.line, .unsupportedTemplateFeature, "\(feature) are not supported in prompt templates; write the text inline"))
            case .sectionClose:
                if !sections.isEmpty { sections.removeLast() }
            case .variable, .sectionOpen, .invertedSectionOpen:
                let isSection = tag.kind != .variable
                if let problem = problem(with: tag.name, isSection: isSection, insideDemos: sections.contains("demos"), insideSection: !sections.isEmpty) {
                    problems.append((tag.line, problem.0, problem.1))
                }
                if isSection { sections.append(tag.name) }
            }
        }
        return problems
    }

    private func problem(with name: String, isSection: Bool, insideDemos: Bool, insideSection: Bool) -> (ConfigProblem.Code, String)? {
        let display = isSection ? "{{#\(name)}}" : "{{\(name)}}"
        if name == "." {
            return insideSection ? nil : (.undefinedVariable, "\(display) only makes sense inside a section such as {{#demos}}")
        }
        let trimmed = name.hasPrefix(".") ? String(name.dropFirst()) : name
        let parts = trimmed.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let root = parts.first, !root.isEmpty else {
            return (.templateSyntax, "\(display) is not a valid variable name")
        }
        if insideDemos, let demoFields, demoFields.contains(root), parts.count == 1 { return nil }
        if let fields = axes[root] {
            switch parts.count {
            case 1: return nil
            case 2 where fields.contains(parts[1]): return nil
            default:
                let suggestion = KeySuggestion.closest(to: parts.dropFirst().joined(separator: "."), in: Array(fields)).map { " — did you mean {{\(root).\($0)}}?" } ?? ""
                let available = fields.isEmpty ? "axis '\(root)' has no fields" : "axis '\(root)' has fields: \(fields.sorted().joined(separator: ", "))"
                return (.undefinedVariable, "\(display) is not defined: \(available)\(suggestion)")
            }
        }
        if root == "steps" {
            guard parts.count >= 2 else {
                return (.undefinedVariable, "\(display) needs a step name, e.g. {{steps.\(earlierSteps.keys.sorted().first ?? "problem")}}")
            }
            let step = parts[1]
            if laterSteps.contains(step) {
                return (.laterStepReference, "\(display) uses step '\(step)', which has not run yet at this point; a step can only use the outputs of steps listed before it")
            }
            guard let info = earlierSteps[step] else {
                let suggestion = KeySuggestion.closest(to: step, in: Array(earlierSteps.keys)).map { " — did you mean {{steps.\($0)}}?" } ?? ""
                return (.undefinedVariable, "\(display) is not defined: there is no step '\(step)'\(suggestion)")
            }
            if parts.count == 2 { return nil }
            guard info.isJSON, parts.count == 3 else {
                return (.undefinedVariable, "\(display) is not defined: only a step with 'output: json' has fields ({{steps.\(step).FIELD}})")
            }
            if let properties = info.properties, !properties.contains(parts[2]) {
                return (.undefinedVariable, "\(display) is not defined: the json_schema of step '\(step)' has properties \(properties.sorted().joined(separator: ", "))")
            }
            return nil
        }
        if root == "demos", parts.count == 1 {
            guard demoFields != nil else {
                return (.undefinedVariable, "\(display) needs a 'demonstrations:' section (file and count) in the run config")
            }
            return isSection ? nil : (.undefinedVariable, "{{demos}} is a list; write {{#demos}}...{{/demos}} and use its fields inside")
        }
        if root == "sample_index", parts.count == 1 { return nil }
        var candidates = topLevelNames.filter { !$0.hasPrefix("#") }
        if insideDemos, let demoFields { candidates += demoFields.sorted() }
        let suggestion = KeySuggestion.closest(to: trimmed, in: candidates).map { " — did you mean {{\($0)}}?" } ?? ""
        let known = (insideDemos ? (demoFields?.sorted() ?? []) : []) + topLevelNames
        return (.undefinedVariable, "\(display) is not defined by any axis or earlier step\(suggestion) (available: \(known.joined(separator: ", ")))")
    }
}
