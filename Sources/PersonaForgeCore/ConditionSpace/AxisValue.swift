/// One value of an axis: the text a template shows for `{{axis}}`, plus
/// named extra fields shown by `{{axis.field}}`.
public struct AxisValue: Sendable, Hashable, Codable {
    /// The value itself, e.g. the persona description.
    public var text: String
    /// Extra fields, e.g. `["grade": "5"]`; non-string JSON values are kept as their JSON text.
    public var fields: [String: String]

    /// Creates a value.
    public init(_ text: String, fields: [String: String] = [:]) {
        self.text = text
        self.fields = fields
    }
}
