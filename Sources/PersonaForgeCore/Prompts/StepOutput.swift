/// What an earlier step produced, as later steps see it: `{{steps.NAME}}` is
/// the text; for a JSON step `{{steps.NAME.field}}` is a top-level field.
public struct StepOutput: Sendable, Hashable, Codable {
    /// The raw completion text.
    public var text: String
    /// The parsed JSON, for steps with `output: json`.
    public var json: JSONValue?

    /// Creates an output.
    public init(text: String, json: JSONValue? = nil) {
        self.text = text
        self.json = json
    }
}
