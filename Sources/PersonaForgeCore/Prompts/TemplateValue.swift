import Mustache

/// How an axis value or a step output appears to a template: `{{name}}` shows
/// the text and `{{name.field}}` shows a field.
struct TemplateValue: MustacheParent, MustacheCustomRenderable {
    let text: String
    let fields: [String: String]

    init(text: String, fields: [String: String]) {
        self.text = text
        self.fields = fields
    }

    init(_ value: AxisValue) {
        self.init(text: value.text, fields: value.fields)
    }

    init(_ output: StepOutput) {
        if case .object(let object)? = output.json {
            self.init(text: output.text, fields: object.mapValues(\.templateText))
        } else {
            self.init(text: output.text, fields: [:])
        }
    }

    func child(named name: String) -> Any? { fields[name] }
    var renderText: String { text }
    var isNull: Bool { false }
}
