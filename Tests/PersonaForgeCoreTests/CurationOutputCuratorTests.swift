import Testing
@testable import PersonaForgeCore

@Suite("Output curator")
struct CurationOutputCuratorTests {
    static let schema = JSONValue.parse(#"""
        {"type": "object", "required": ["name", "age"], "additionalProperties": false,
         "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}}}
        """#)!
    static let textStep = StepConfig(name: "story", user: "Write a story")
    static let jsonStep = StepConfig(name: "persona", user: "Describe a persona", output: .json, jsonSchema: schema)

    func curator(_ step: StepConfig, _ settings: FilterSettings = FilterSettings()) throws -> OutputCurator {
        OutputCurator(step: step, filter: try LocalFilter(settings: settings))
    }

    @Test func textStepKeepsTheText() throws {
        let outcome = try curator(Self.textStep).curate(text: "Once upon a time.", finishReason: "stop")
        #expect(outcome == .keep(StepOutput(text: "Once upon a time.")))
    }

    @Test func textStepRejectsLikeTheFilter() throws {
        let outcome = try curator(Self.textStep).curate(text: "Once upon a", finishReason: "length")
        #expect(outcome == .reject(.finishLength, detail: "finish_reason length"))
    }

    @Test func jsonStepKeepsTheExtractedValue() throws {
        let text = "Here it is:\n```json\n{\"name\": \"Ada\", \"age\": 36}\n```"
        let outcome = try curator(Self.jsonStep).curate(text: text, finishReason: "stop")
        #expect(outcome == .keep(StepOutput(text: text, json: .object(["name": .string("Ada"), "age": .number(36)]))))
    }

    @Test(arguments: [
        ("  ", "stop", RejectReason.emptyOutput),
        (#"{"name": "Ada", "age": 3"#, "length", .finishLength),
        ("No JSON here, sorry.", "stop", .invalidJSON),
        (#"{"name": "Ada", "age": }"#, "stop", .invalidJSON),
        ("I'm sorry, but I can't help with that.", "stop", .refusal),
        (#"{"name": "Ada"}"#, "stop", .schemaViolation),
        (#"{"name": "Ada", "age": -1, "x": 1}"#, "stop", .schemaViolation),
    ])
    func jsonStepRejects(text: String, finishReason: String, reason: RejectReason) throws {
        #expect(try curator(Self.jsonStep).curate(text: text, finishReason: finishReason).rejectReason == reason)
    }

    @Test func schemaViolationDetailQuotesTheFirstFew() throws {
        let few = try curator(Self.jsonStep).curate(text: #"{"age": -1}"#, finishReason: nil)
        #expect(few == .reject(.schemaViolation, detail: "$: missing required property 'name'; $.age: -1 is below the minimum 0"))
        let many = try curator(Self.jsonStep).curate(text: #"{"age": -1, "a": 1, "b": 2, "c": 3}"#, finishReason: nil)
        #expect(many == .reject(.schemaViolation, detail: """
            $: missing required property 'name'; $.a: property 'a' is not allowed (additionalProperties is false); \
            $.age: -1 is below the minimum 0; and 2 more
            """))
    }

    @Test func jsonStepWithoutSchemaAcceptsAnyJSON() throws {
        let step = StepConfig(name: "list", user: "List", output: .json)
        #expect(try curator(step).curate(text: "[1, 2, 3]", finishReason: nil) == .keep(StepOutput(text: "[1, 2, 3]", json: .array([.number(1), .number(2), .number(3)]))))
    }

    @Test func jsonStepAppliesTheTextFiltersToo() throws {
        let settings = FilterSettings(maxCharacters: 20, forbiddenPatterns: ["Bob"])
        let step = StepConfig(name: "p", user: "P", output: .json)
        #expect(try curator(step, settings).curate(text: #"{"name": "Ada Lovelace", "age": 36}"#, finishReason: nil).rejectReason == .tooLong)
        #expect(try curator(step, settings).curate(text: #"{"name": "Bob"}"#, finishReason: nil).rejectReason == .forbiddenPattern)
    }

    @Test func repeatedKeysAreNotRepetition() throws {
        let objects = [
            ("what is the capital of france today", "paris is the capital city of france"),
            ("how many legs does a spider have", "a spider has eight jointed walking legs"),
            ("which planet is closest to our sun", "mercury orbits closest to the sun always"),
            ("who painted the famous mona lisa portrait", "leonardo da vinci painted that portrait"),
        ].map { #"  {"question": "\#($0)", "answer": "\#($1)", "difficulty": "easy", "language": "en", "source": "synthetic"}"# }
        let text = "[\n" + objects.joined(separator: ",\n") + "\n]"
        let raw = try #require(RepetitionMetric.repeatedNgramRatio(of: text, n: 3))
        let value = try JSONOutputParser.parse(text).get()
        let content = try #require(RepetitionMetric.repeatedNgramRatio(of: OutputCurator.stringValues(of: value).joined(separator: "\n"), n: 3))
        try #require(content < raw)
        let threshold = (raw + content) / 2
        let settings = FilterSettings(maxRepeatedNgramRatio: threshold)
        // As text, the keys make it look repetitive; as JSON, only the content counts.
        #expect(try LocalFilter(settings: settings).verdict(text: text, finishReason: nil).rejectReason == .repetition)
        let step = StepConfig(name: "qa", user: "QA", output: .json)
        #expect(try curator(step, settings).curate(text: text, finishReason: nil).rejectReason == nil)
    }

    @Test func repetitiveJSONContentIsStillRejected() throws {
        let text = #"{"story": "the end the end the end the end the end the end"}"#
        let step = StepConfig(name: "s", user: "S", output: .json)
        #expect(try curator(step).curate(text: text, finishReason: nil).rejectReason == .repetition)
    }

    @Test func stringValuesInKeyOrder() {
        let value: JSONValue = .object(["b": .array([.string("x"), .number(1), .object(["z": .string("y")])]), "a": .string("w"), "c": .null])
        #expect(OutputCurator.stringValues(of: value) == ["w", "x", "y"])
    }
}
