import Testing
import Foundation
@testable import PersonaForgeCore

@Suite("Run config loading")
struct RunConfigLoaderTests {
    @Test func loadsEverySourceKindAndRendersTheFirstSample() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // Persona Hub's format, as it is: {"persona": "..."} per line.
        try directory.write("data/personas.jsonl", "{\"persona\": \"A <retired> nurse\", \"region\": \"north\"}\r\n\n{\"persona\": \"A potter\", \"region\": 7}\n")
        try directory.write("data/topics.txt", "fractions\n\n  \ngeometry\nrates\n")
        try directory.write("data/demos.jsonl", "{\"problem\": \"P\", \"solution\": \"S\"}\n")
        try directory.write("schemas/q.json", #"{"type": "object", "properties": {"question": {"type": "string"}}}"#)
        let path = try directory.write("runs/run.yaml", """
            name: demo-run
            seed: 5
            samples_per_condition: 2
            limit: 10
            shard_size: 4
            axes:
              - name: persona
                source: {file: ../data/personas.jsonl, fields: [region]}
              - name: topic
                source: {file: ../data/topics.txt}
              - name: level
                source: {values: [{value: easy, grade: 2}, {value: hard, grade: 8}]}
            model:
              api_key_env: MY_KEY
            demonstrations: {file: ../data/demos.jsonl, count: 1}
            steps:
              - name: problem
                user: "{{#demos}}{{problem}}|{{/demos}}{{persona}} ({{persona.region}}) / {{topic}} / {{level}}:{{level.grade}}"
                output: json
                json_schema_file: ../schemas/q.json
              - name: solution
                user: "{{steps.problem.question}}"
            dedup: {step: problem}
            """)
        let run = try RunConfigLoader().load(path: path)
        #expect(run.axes.map(\.count) == [2, 3, 2])
        #expect(run.knownConditionCount == 12)
        #expect(run.config.steps[0].schemaPropertyNames == ["question"])
        #expect(run.config.model.overriding(with: [:]).apiKey == .environment("MY_KEY"))

        let space = try run.conditionSpace()
        let plan = try run.samplingPlan(conditionCount: space.count)
        #expect(plan.sampleSpaceSize == 24)
        #expect(plan.sampleCount == 10)
        #expect(plan.shardCount == 3)

        let samples = try await run.previewSamples(at: [0, 1], space: space, plan: plan)
        #expect(samples[0].address.conditionPosition == samples[1].address.conditionPosition)
        let condition = samples[0].condition
        let persona = condition[0].value
        let expected = "P|\(persona.text) (\(persona.fields["region"]!)) / \(condition[1].value.text) / \(condition[2].value.text):\(condition[2].value.fields["grade"]!)"
        #expect(samples[0].prompts[0].user == expected)
        #expect(samples[0].prompts[1].user == "⟨problem.question⟩")
        #expect(Set(["A <retired> nurse", "A potter"]).contains(persona.text))
        #expect(["north", "7"].contains(persona.fields["region"]!))
    }

    @Test func environmentOverridesTheEndpoint() {
        let model = ModelSettings(apiKeyEnvironmentVariable: "OPENAI_API_KEY")
        let (settings, key) = model.overriding(with: ["PERSONAFORGE_LLM_BASE_URL": "https://llm.example/v1", "PERSONAFORGE_LLM_API_KEY": "secret"])
        #expect(settings.baseURL == "https://llm.example/v1")
        #expect(key == .environment("PERSONAFORGE_LLM_API_KEY"))
        #expect(model.overriding(with: [:]).settings.baseURL == ModelSettings.defaultBaseURL)
        #expect(model.overriding(with: ["PERSONAFORGE_LLM_API_KEY_FILE": "/run/k"]).apiKey == .file("/run/k"))
    }

    @Test func postgresAxisIsParsedButNotFetched() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("run.yaml", """
            name: big
            axes:
              - name: persona
                source:
                  postgres: {table: public.personas, column: text, id_column: pid, fields: [region]}
            steps:
              - name: s
                user: "{{persona}} from {{persona.region}}"
            """)
        let run = try RunConfigLoader().load(path: path)
        #expect(run.knownConditionCount == nil)
        guard case .postgres(let table) = run.axes[0].config.source else {
            Issue.record("expected a postgres axis")
            return
        }
        #expect(table == PostgresAxisSource(table: "public.personas", column: "text", idColumn: "pid", fields: ["region"]))
        #expect(throws: ConditionSpaceError.self) { try run.conditionSpace() }
        let served = try run.conditionSpace(postgresSources: ["persona": InMemoryAxisValueSource([AxisValue("p", fields: ["region": "r"])])])
        #expect(served.count == 1)
    }

    @Test func shippedExamplesLoad() throws {
        // The examples in config/ must stay valid; found relative to this source file.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let examples = try FileManager.default.contentsOfDirectory(atPath: root.path + "/config").filter { $0.hasSuffix(".yaml") }
        #expect(examples.count >= 4)
        for example in examples {
            #expect(throws: Never.self) { _ = try RunConfigLoader().load(path: root.path + "/config/" + example) }
        }
    }
}
