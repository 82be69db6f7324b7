/// Checks a JSON value against a JSON schema — the subset step schemas use.
///
/// Supported keywords (JSON Schema draft 2020-12 meaning):
///
/// | keyword | applies to |
/// |---|---|
/// | `type` (a name or an array of names: `object`, `array`, `string`, `number`, `integer`, `boolean`, `null`) | any |
/// | `enum`, `const` | any |
/// | `properties`, `required`, `additionalProperties` (`false` or a schema) | objects |
/// | `items` (one schema for every element), `minItems`, `maxItems` | arrays |
/// | `minLength`, `maxLength` (counted in Unicode scalars) | strings |
/// | `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum` (numbers) | numbers |
///
/// `true` and `false` are accepted as schemas (anything / nothing). Other
/// keywords (`pattern`, `anyOf`, `$ref`, `format`, …) are ignored, so a richer
/// schema still works but is checked only on this subset. `integer` accepts
/// any number with no fractional part (`1.0` is an integer, as in JSON Schema).
/// When a value has the wrong `type`, its other keywords are not checked.
public struct JSONSchemaValidator: Sendable {
    /// The schema values are checked against.
    public let schema: JSONValue

    /// Creates a validator for `schema`.
    public init(schema: JSONValue) {
        self.schema = schema
    }

    /// The ways `value` violates the schema, each prefixed by the JSON path
    /// of the offending value (`$.items[2].name: expected string, got number`);
    /// empty when the value is valid. The order is deterministic: object
    /// properties in sorted key order, array elements in index order.
    public func validate(_ value: JSONValue) -> [String] {
        var violations: [String] = []
        Self.check(value, against: schema, path: "$", into: &violations)
        return violations
    }

    /// Whether `value` satisfies the schema.
    public func isValid(_ value: JSONValue) -> Bool {
        validate(value).isEmpty
    }

    private static func check(_ value: JSONValue, against schema: JSONValue, path: String, into violations: inout [String]) {
        let keywords: [String: JSONValue]
        switch schema {
        case .bool(true): return
        case .bool(false):
            violations.append("\(path): no value is allowed here")
            return
        case .object(let object): keywords = object
        default: return  // Not a schema; the config loader rejects these.
        }

        if let type = keywords["type"] {
            let allowed: [String]
            switch type {
            case .string(let name): allowed = [name]
            case .array(let names): allowed = names.compactMap { if case .string(let name) = $0 { name } else { nil } }
            default: allowed = []
            }
            if !allowed.isEmpty, !allowed.contains(where: { matches(value, type: $0) }) {
                let expected = allowed.count == 1 ? allowed[0] : "one of " + allowed.joined(separator: ", ")
                violations.append("\(path): expected \(expected), got \(describe(value))")
                return
            }
        }
        if case .array(let options)? = keywords["enum"], !options.contains(value) {
            violations.append("\(path): \(describe(value)) is not one of \(options.map(\.jsonText).joined(separator: ", "))")
        }
        if let constant = keywords["const"], constant != value {
            violations.append("\(path): must be \(constant.jsonText), got \(describe(value))")
        }

        switch value {
        case .object(let object):
            checkObject(object, keywords: keywords, path: path, into: &violations)
        case .array(let elements):
            checkArray(elements, keywords: keywords, path: path, into: &violations)
        case .string(let string):
            let length = string.unicodeScalars.count
            if let minimum = integer(keywords["minLength"]), length < minimum {
                violations.append("\(path): string length \(length), minimum \(minimum)")
            }
            if let maximum = integer(keywords["maxLength"]), length > maximum {
                violations.append("\(path): string length \(length), maximum \(maximum)")
            }
        case .number(let number):
            if case .number(let minimum)? = keywords["minimum"], number < minimum {
                violations.append("\(path): \(format(number)) is below the minimum \(format(minimum))")
            }
            if case .number(let maximum)? = keywords["maximum"], number > maximum {
                violations.append("\(path): \(format(number)) is above the maximum \(format(maximum))")
            }
            if case .number(let bound)? = keywords["exclusiveMinimum"], number <= bound {
                violations.append("\(path): \(format(number)) must be greater than \(format(bound))")
            }
            if case .number(let bound)? = keywords["exclusiveMaximum"], number >= bound {
                violations.append("\(path): \(format(number)) must be less than \(format(bound))")
            }
        case .bool, .null:
            break
        }
    }

    private static func checkObject(
        _ object: [String: JSONValue], keywords: [String: JSONValue], path: String, into violations: inout [String]
    ) {
        if case .array(let required)? = keywords["required"] {
            for case .string(let name) in required where object[name] == nil {
                violations.append("\(path): missing required property '\(name)'")
            }
        }
        var properties: [String: JSONValue] = [:]
        if case .object(let declared)? = keywords["properties"] { properties = declared }
        let additional = keywords["additionalProperties"]
        for key in object.keys.sorted() {
            let child = object[key]!
            let childPath = path + pathComponent(key)
            if let propertySchema = properties[key] {
                check(child, against: propertySchema, path: childPath, into: &violations)
            } else if case .bool(false)? = additional {
                violations.append("\(childPath): property '\(key)' is not allowed (additionalProperties is false)")
            } else if let additional {
                check(child, against: additional, path: childPath, into: &violations)
            }
        }
    }

    private static func checkArray(
        _ elements: [JSONValue], keywords: [String: JSONValue], path: String, into violations: inout [String]
    ) {
        if let minimum = integer(keywords["minItems"]), elements.count < minimum {
            violations.append("\(path): array length \(elements.count), minimum \(minimum)")
        }
        if let maximum = integer(keywords["maxItems"]), elements.count > maximum {
            violations.append("\(path): array length \(elements.count), maximum \(maximum)")
        }
        if let items = keywords["items"], items != .bool(true) {
            for (index, element) in elements.enumerated() {
                check(element, against: items, path: "\(path)[\(index)]", into: &violations)
            }
        }
    }

    /// Whether `value` is an instance of the JSON Schema type `name`.
    static func matches(_ value: JSONValue, type name: String) -> Bool {
        switch (name, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object), ("number", .number):
            true
        case ("integer", .number(let number)):
            number.isFinite && number == number.rounded()
        default:
            false
        }
    }

    /// "string \"abc\"", "integer 3", "object" — for messages.
    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let bool): "boolean \(bool)"
        case .number(let number): matches(value, type: "integer") ? "integer \(format(number))" : "number \(format(number))"
        case .string(let string): "string " + (string.count <= 40 ? JSONValue.string(string).jsonText : JSONValue.string(String(string.prefix(40)) + "…").jsonText)
        case .array(let elements): "array of \(elements.count)"
        case .object: "object"
        }
    }

    /// `.name` for identifier-like keys, `["odd key"]` otherwise.
    static func pathComponent(_ key: String) -> String {
        let isIdentifier = !key.isEmpty && key.first.map { $0.isLetter || $0 == "_" } == true
            && key.allSatisfy { ($0.isLetter || $0.isNumber || $0 == "_") && $0.isASCII }
        return isIdentifier ? "." + key : "[" + JSONValue.string(key).jsonText + "]"
    }

    /// A non-negative integer keyword value.
    private static func integer(_ value: JSONValue?) -> Int? {
        guard case .number(let number)? = value, number >= 0, number == number.rounded(), number < 1e15 else { return nil }
        return Int(number)
    }

    /// Integers without a fraction, other numbers as Swift prints them.
    static func format(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : "\(number)"
    }
}
