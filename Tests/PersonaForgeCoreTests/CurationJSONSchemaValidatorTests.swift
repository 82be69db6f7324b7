import Testing
@testable import PersonaForgeCore

@Suite("JSON schema validator")
struct CurationJSONSchemaValidatorTests {
    /// A document checked against ``schema`` and the violations it must produce.
    struct SchemaCase: Sendable, CustomTestStringConvertible {
        let label: String
        let document: String
        let violations: [String]
        var testDescription: String { label }
    }

    static let schema = JSONValue.parse(#"""
        {
          "type": "object",
          "required": ["name", "age", "tags"],
          "additionalProperties": false,
          "properties": {
            "name": {"type": "string", "minLength": 2, "maxLength": 10},
            "age": {"type": "integer", "minimum": 0, "maximum": 120},
            "score": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "mood": {"enum": ["happy", "sad"]},
            "kind": {"const": "persona"},
            "tags": {"type": "array", "minItems": 1, "maxItems": 3, "items": {"type": "string"}},
            "address": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}},
            "nickname": {"type": ["string", "null"]},
            "friends": {
              "type": "array",
              "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
            },
            "secret": false,
            "notes": true
          }
        }
        """#)!

    static let catalogue: [SchemaCase] = [
        SchemaCase(label: "valid minimal", document: #"{"name": "Ada", "age": 36, "tags": ["x"]}"#, violations: []),
        SchemaCase(
            label: "valid with every optional property",
            document: #"""
                {"name": "Ada", "age": 36, "tags": ["x", "y"], "score": 0.5, "mood": "sad", "kind": "persona",
                 "address": {"city": "London", "zip": 1}, "nickname": null, "friends": [{"name": "Bob"}],
                 "notes": [1, "anything"]}
                """#,
            violations: []
        ),
        SchemaCase(label: "missing required property", document: #"{"name": "Ada", "tags": ["x"]}"#,
                   violations: ["$: missing required property 'age'"]),
        SchemaCase(label: "wrong type", document: #"{"name": 5, "age": 36, "tags": ["x"]}"#,
                   violations: ["$.name: expected string, got integer 5"]),
        SchemaCase(label: "boolean is not an integer", document: #"{"name": "Ada", "age": true, "tags": ["x"]}"#,
                   violations: ["$.age: expected integer, got boolean true"]),
        SchemaCase(label: "extra property with additionalProperties false",
                   document: #"{"name": "Ada", "age": 36, "tags": ["x"], "extra": 1}"#,
                   violations: ["$.extra: property 'extra' is not allowed (additionalProperties is false)"]),
        SchemaCase(label: "extra property with an odd name",
                   document: #"{"name": "Ada", "age": 36, "tags": ["x"], "odd key": 1}"#,
                   violations: [#"$["odd key"]: property 'odd key' is not allowed (additionalProperties is false)"#]),
        SchemaCase(label: "enum", document: #"{"name": "Ada", "age": 36, "tags": ["x"], "mood": "angry"}"#,
                   violations: [#"$.mood: string "angry" is not one of "happy", "sad""#]),
        SchemaCase(label: "const", document: #"{"name": "Ada", "age": 36, "tags": ["x"], "kind": "robot"}"#,
                   violations: [#"$.kind: must be "persona", got string "robot""#]),
        SchemaCase(label: "nested array item of the wrong type", document: #"{"name": "Ada", "age": 36, "tags": ["x", 2]}"#,
                   violations: ["$.tags[1]: expected string, got integer 2"]),
        SchemaCase(label: "integer rejects a fraction", document: #"{"name": "Ada", "age": 36.5, "tags": ["x"]}"#,
                   violations: ["$.age: expected integer, got number 36.5"]),
        SchemaCase(label: "integer accepts 36.0", document: #"{"name": "Ada", "age": 36.0, "tags": ["x"]}"#, violations: []),
        SchemaCase(label: "number accepts an integer", document: #"{"name": "Ada", "age": 36, "tags": ["x"], "score": 0.25}"#, violations: []),
        SchemaCase(label: "below minimum", document: #"{"name": "Ada", "age": -1, "tags": ["x"]}"#,
                   violations: ["$.age: -1 is below the minimum 0"]),
        SchemaCase(label: "above maximum", document: #"{"name": "Ada", "age": 121, "tags": ["x"]}"#,
                   violations: ["$.age: 121 is above the maximum 120"]),
        SchemaCase(label: "bounds are inclusive", document: #"{"name": "Ada", "age": 120, "tags": ["x"]}"#, violations: []),
        SchemaCase(label: "exclusive minimum", document: #"{"name": "Ada", "age": 1, "tags": ["x"], "score": 0}"#,
                   violations: ["$.score: 0 must be greater than 0"]),
        SchemaCase(label: "exclusive maximum", document: #"{"name": "Ada", "age": 1, "tags": ["x"], "score": 1}"#,
                   violations: ["$.score: 1 must be less than 1"]),
        SchemaCase(label: "minLength", document: #"{"name": "A", "age": 36, "tags": ["x"]}"#,
                   violations: ["$.name: string length 1, minimum 2"]),
        SchemaCase(label: "maxLength", document: #"{"name": "Abcdefghijk", "age": 36, "tags": ["x"]}"#,
                   violations: ["$.name: string length 11, maximum 10"]),
        SchemaCase(label: "length counts Unicode scalars", document: #"{"name": "Zoë", "age": 36, "tags": ["x"]}"#, violations: []),
        SchemaCase(label: "minItems", document: #"{"name": "Ada", "age": 36, "tags": []}"#,
                   violations: ["$.tags: array length 0, minimum 1"]),
        SchemaCase(label: "maxItems", document: #"{"name": "Ada", "age": 36, "tags": ["a", "b", "c", "d"]}"#,
                   violations: ["$.tags: array length 4, maximum 3"]),
        SchemaCase(label: "nested required", document: #"{"name": "Ada", "age": 36, "tags": ["x"], "address": {}}"#,
                   violations: ["$.address: missing required property 'city'"]),
        SchemaCase(label: "array of objects", document: #"{"name": "Ada", "age": 36, "tags": ["x"], "friends": [{"name": "Bob"}, {}]}"#,
                   violations: ["$.friends[1]: missing required property 'name'"]),
        SchemaCase(label: "array of types", document: #"{"name": "Ada", "age": 36, "tags": ["x"], "nickname": 3}"#,
                   violations: ["$.nickname: expected one of string, null, got integer 3"]),
        SchemaCase(label: "false schema", document: #"{"name": "Ada", "age": 36, "tags": ["x"], "secret": "s"}"#,
                   violations: ["$.secret: no value is allowed here"]),
        SchemaCase(label: "root of the wrong type", document: #"[1]"#, violations: ["$: expected object, got array of 1"]),
        SchemaCase(
            label: "several violations in a stable order",
            document: #"{"age": 200, "tags": [1, "b", false], "zzz": 0, "aaa": 0}"#,
            violations: [
                "$: missing required property 'name'",
                "$.aaa: property 'aaa' is not allowed (additionalProperties is false)",
                "$.age: 200 is above the maximum 120",
                "$.tags[0]: expected string, got integer 1",
                "$.tags[2]: expected string, got boolean false",
                "$.zzz: property 'zzz' is not allowed (additionalProperties is false)",
            ]
        ),
    ]

    @Test(arguments: catalogue)
    func validates(_ example: SchemaCase) throws {
        let document = try #require(JSONValue.parse(example.document))
        let validator = JSONSchemaValidator(schema: Self.schema)
        #expect(validator.validate(document) == example.violations)
        #expect(validator.isValid(document) == example.violations.isEmpty)
    }

    @Test func additionalPropertiesCanBeASchema() throws {
        let validator = JSONSchemaValidator(schema: try #require(JSONValue.parse(
            #"{"type": "object", "properties": {"id": {"type": "string"}}, "additionalProperties": {"type": "integer"}}"#
        )))
        #expect(validator.validate(try #require(JSONValue.parse(#"{"id": "a", "n": 1}"#))) == [])
        #expect(validator.validate(try #require(JSONValue.parse(#"{"id": "a", "n": "1"}"#))) == [#"$.n: expected integer, got string "1""#])
    }

    @Test func unknownKeywordsAreIgnoredAndEmptySchemaAcceptsAnything() throws {
        let validator = JSONSchemaValidator(schema: .object(["pattern": .string("^x"), "format": .string("email")]))
        #expect(validator.validate(.string("not x")) == [])
        #expect(JSONSchemaValidator(schema: .object([:])).validate(.array([.null])) == [])
        #expect(JSONSchemaValidator(schema: .bool(true)).validate(.number(1)) == [])
        #expect(JSONSchemaValidator(schema: .bool(false)).validate(.number(1)) == ["$: no value is allowed here"])
    }

    @Test func wrongTypeSkipsTheOtherKeywordsOfThatValue() {
        let validator = JSONSchemaValidator(schema: .object([
            "type": .string("string"), "minLength": .number(5), "enum": .array([.string("hello")]),
        ]))
        #expect(validator.validate(.number(3)) == ["$: expected string, got integer 3"])
    }

    @Test func worksWithAStepOutputEndToEnd() throws {
        let output = "Here is the persona:\n```json\n{\"name\": \"Ada\", \"age\": 36, \"tags\": [\"x\"], \"mood\": \"angry\"}\n```"
        let value = try JSONOutputParser.parse(output).get()
        #expect(JSONSchemaValidator(schema: Self.schema).validate(value) == [#"$.mood: string "angry" is not one of "happy", "sad""#])
    }
}
