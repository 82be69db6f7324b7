import Testing
@testable import PersonaForgeCore

@Suite("JSON output parser")
struct CurationJSONOutputParserTests {
    /// An LLM output and the JSON that must come out of it.
    struct JSONExtractionCase: Sendable, CustomTestStringConvertible {
        let label: String
        let output: String
        let expected: JSONValue
        var testDescription: String { label }
    }

    static let persona: JSONValue = .object(["name": .string("Ada"), "tags": .array([.string("x")])])

    static let extractions: [JSONExtractionCase] = [
        JSONExtractionCase(label: "bare object", output: #"{"name": "Ada", "tags": ["x"]}"#, expected: persona),
        JSONExtractionCase(label: "surrounded by whitespace", output: "\n\n  {\"name\": \"Ada\", \"tags\": [\"x\"]}  \n", expected: persona),
        JSONExtractionCase(
            label: "json code fence",
            output: "```json\n{\"name\": \"Ada\", \"tags\": [\"x\"]}\n```",
            expected: persona
        ),
        JSONExtractionCase(
            label: "plain code fence with prose around it",
            output: "Here you go:\n\n```\n{\"name\": \"Ada\", \"tags\": [\"x\"]}\n```\n\nEnjoy!",
            expected: persona
        ),
        JSONExtractionCase(
            label: "prose before and after",
            output: "Sure! Here is the JSON:\n{\"name\": \"Ada\", \"tags\": [\"x\"]}\nLet me know if you need changes.",
            expected: persona
        ),
        JSONExtractionCase(
            label: "braces inside strings do not count",
            output: #"Result: {"text": "a } tricky { string", "n": 2} done"#,
            expected: .object(["text": .string("a } tricky { string"), "n": .number(2)])
        ),
        JSONExtractionCase(
            label: "escaped quotes inside strings",
            output: #"Answer: {"q": "she said \"}\" loudly"} ok"#,
            expected: .object(["q": .string(#"she said "}" loudly"#)])
        ),
        JSONExtractionCase(
            label: "braces in prose before the object",
            output: #"Use {curly} braces like this: {"a": true}"#,
            expected: .object(["a": .bool(true)])
        ),
        JSONExtractionCase(
            label: "nested objects stay whole",
            output: #"Answer: {"a": {"b": [1, 2, {"c": null}]}} end"#,
            expected: .object(["a": .object(["b": .array([.number(1), .number(2), .object(["c": .null])])])])
        ),
        JSONExtractionCase(
            label: "non-ASCII text around and inside",
            output: "Voilà 🙂 : {\"emoji\": \"🙂é\"} — fin",
            expected: .object(["emoji": .string("🙂é")])
        ),
        JSONExtractionCase(label: "a whole-text array", output: "[1, 2]", expected: .array([.number(1), .number(2)])),
        JSONExtractionCase(
            label: "an array in a fence",
            output: "```json\n[{\"a\": 1}]\n```",
            expected: .array([.object(["a": .number(1)])])
        ),
        JSONExtractionCase(
            label: "invalid fenced block, valid object later",
            output: "```\nnot json\n```\nActually: {\"a\": 1}",
            expected: .object(["a": .number(1)])
        ),
    ]

    @Test(arguments: extractions)
    func extracts(_ example: JSONExtractionCase) throws {
        let value = try JSONOutputParser.parse(example.output).get()
        #expect(value == example.expected)
    }

    @Test(arguments: [
        ("", JSONOutputError.Code.empty),
        ("   \n ", .empty),
        ("Just prose, no JSON at all.", .noJSONFound),
        ("{name: 'Ada'}", .invalidJSON),
        (#"{"a": 1"#, .invalidJSON),
        ("```json\n{\"a\": }\n```", .invalidJSON),
        (#"Here: {"a": [1, 2} and more"#, .invalidJSON),
    ])
    func rejects(_ output: String, code: JSONOutputError.Code) {
        switch JSONOutputParser.parse(output) {
        case .success(let value):
            Issue.record("expected \(code), parsed \(value)")
        case .failure(let error):
            #expect(error.code == code)
            #expect(!error.message.isEmpty)
        }
    }

    @Test func braceHeavyProseIsBounded() {
        // Many unbalanced/invalid candidates, then a valid object past the candidate limit.
        let noise = String(repeating: "{x} ", count: JSONOutputParser.maximumCandidates)
        let result = JSONOutputParser.parse(noise + #"{"a": 1}"#)
        #expect(throws: JSONOutputError.self) { try result.get() }
        // Within the limit it is found.
        let fewer = String(repeating: "{x} ", count: JSONOutputParser.maximumCandidates - 1)
        #expect((try? JSONOutputParser.parse(fewer + #"{"a": 1}"#).get()) == .object(["a": .number(1)]))
    }
}
