/// Curates one step's output end to end: the ``LocalFilter`` checks and, for
/// a JSON step, JSON extraction and schema validation. What a worker calls
/// after each LLM completion.
///
/// For a text step this is exactly ``LocalFilter/verdict(text:finishReason:)``.
/// For a JSON step (`output: json`) the order is:
///
/// 1. empty output, then `finish_reason` (as for text);
/// 2. JSON extraction (``JSONOutputParser``) → ``RejectReason/invalidJSON``,
///    or ``RejectReason/refusal`` when the unparsable output is a refusal
///    (and `reject_refusals` is on) — the more useful reason;
/// 3. the step's `json_schema`, if any (``JSONSchemaValidator``) → ``RejectReason/schemaViolation``;
/// 4. length, words, refusal and patterns on the raw output text, and
///    repetition on the JSON's string values joined by newlines — so the
///    keys of an array of objects do not count as repeated n-grams.
public struct OutputCurator: Sendable {
    /// What a curated output became.
    public enum Outcome: Sendable, Hashable {
        /// Keep the output; for a JSON step `json` holds the extracted value.
        case keep(StepOutput)
        /// Drop the output.
        case reject(RejectReason, detail: String)

        /// The reason, if rejected.
        public var rejectReason: RejectReason? {
            if case .reject(let reason, _) = self { return reason }
            return nil
        }
    }

    /// The most schema violations quoted in a reject detail.
    public static let maximumQuotedViolations = 3

    private let filter: LocalFilter
    private let expectsJSON: Bool
    private let validator: JSONSchemaValidator?

    /// Curates outputs of `step` with `filter`.
    public init(step: StepConfig, filter: LocalFilter) {
        self.filter = filter
        self.expectsJSON = step.output == .json
        self.validator = step.jsonSchema.map(JSONSchemaValidator.init(schema:))
    }

    /// Keeps or rejects `text`, which ended with `finishReason` (nil if unknown).
    public func curate(text: String, finishReason: String?) -> Outcome {
        guard expectsJSON else {
            switch filter.verdict(text: text, finishReason: finishReason) {
            case .keep: return .keep(StepOutput(text: text))
            case .reject(let reason, let detail): return .reject(reason, detail: detail)
            }
        }
        if case .reject(let reason, let detail)? = filter.completionVerdict(text: text, finishReason: finishReason) {
            return .reject(reason, detail: detail)
        }
        let value: JSONValue
        switch JSONOutputParser.parse(text) {
        case .success(let parsed): value = parsed
        case .failure(let error):
            if filter.settings.rejectRefusals, let phrase = RefusalDetector.matchedPhrase(in: text) {
                return .reject(.refusal, detail: "opens with a refusal: \"\(phrase)\"")
            }
            return .reject(.invalidJSON, detail: error.message)
        }
        if let validator {
            let violations = validator.validate(value)
            if !violations.isEmpty {
                return .reject(.schemaViolation, detail: Self.summarize(violations))
            }
        }
        let content = Self.stringValues(of: value).joined(separator: "\n")
        switch filter.contentVerdict(text: text, repetitionText: content) {
        case .keep: return .keep(StepOutput(text: text, json: value))
        case .reject(let reason, let detail): return .reject(reason, detail: detail)
        }
    }

    /// The first few violations joined by "; ", with a count of the rest.
    static func summarize(_ violations: [String]) -> String {
        let quoted = violations.prefix(maximumQuotedViolations).joined(separator: "; ")
        let rest = violations.count - maximumQuotedViolations
        return rest > 0 ? quoted + "; and \(rest) more" : quoted
    }

    /// Every string in `value`, depth first, object members in key order.
    static func stringValues(of value: JSONValue) -> [String] {
        var strings: [String] = []
        func collect(_ value: JSONValue) {
            switch value {
            case .string(let string): strings.append(string)
            case .array(let elements): elements.forEach(collect)
            case .object(let members): for key in members.keys.sorted() { collect(members[key]!) }
            case .null, .bool, .number: break
            }
        }
        collect(value)
        return strings
    }
}
