/// One generation step: a system and a user template sent to the LLM.
/// Later steps can use earlier steps' outputs as `{{steps.NAME}}`.
public struct StepConfig: Sendable, Hashable {
    /// What the step must produce.
    public enum OutputFormat: String, Sendable, Hashable, CaseIterable {
        /// Free text.
        case text
        /// A JSON value (optionally checked against ``StepConfig/jsonSchema``).
        case json
    }

    /// Step name (`{{steps.NAME}}`).
    public var name: String
    /// System message template, if any.
    public var system: String?
    /// User message template.
    public var user: String
    /// Text or JSON output (default text).
    public var output: OutputFormat
    /// JSON schema the output must satisfy (inline `json_schema` or `json_schema_file`).
    public var jsonSchema: JSONValue?
    /// `json_schema_file` resolved against the config file's directory; read by ``RunConfigLoader`` into ``jsonSchema``.
    public var jsonSchemaFile: String?
    /// Overrides `model.max_tokens` for this step.
    public var maxTokens: Int?
    /// Overrides `model.temperature` for this step.
    public var temperature: Double?
    /// Stop sequences.
    public var stop: [String]
    /// Config lines where the `system` and `user` template text starts (for messages).
    public var systemLine: Int
    /// See ``systemLine``.
    public var userLine: Int

    /// Creates a step.
    public init(
        name: String,
        system: String? = nil,
        user: String,
        output: OutputFormat = .text,
        jsonSchema: JSONValue? = nil,
        jsonSchemaFile: String? = nil,
        maxTokens: Int? = nil,
        temperature: Double? = nil,
        stop: [String] = [],
        systemLine: Int = 0,
        userLine: Int = 0
    ) {
        self.name = name
        self.system = system
        self.user = user
        self.output = output
        self.jsonSchema = jsonSchema
        self.jsonSchemaFile = jsonSchemaFile
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.stop = stop
        self.systemLine = systemLine
        self.userLine = userLine
    }

    /// Top-level property names of ``jsonSchema`` (empty if no schema or no `properties`).
    public var schemaPropertyNames: [String]? {
        guard case .object(let schema)? = jsonSchema, case .object(let properties)? = schema["properties"] else { return nil }
        return properties.keys.sorted()
    }
}
