import Testing
@testable import PersonaForgeCore

@Suite("Prompt rendering")
struct PromptRenderingTests {
    let address = SampleAddress(conditionPosition: 3, sampleIndex: 1)

    @Test func rendersAxisValuesAndFieldsExactly() throws {
        let renderer = try PromptRenderer(
            steps: [StepConfig(name: "q", system: "You are {{persona}}.", user: "Write a {{level}} question (grade {{level.grade}}) on {{topic}}.\nVariant {{sample_index}}.")],
            seed: 1
        )
        let prompt = renderer.prompt(
            forStep: 0,
            condition: ["persona": AxisValue("a beekeeper"), "level": AxisValue("hard", fields: ["grade": "9"]), "topic": AxisValue("ratios")],
            address: address
        )
        #expect(prompt == RenderedPrompt(step: "q", system: "You are a beekeeper.", user: "Write a hard question (grade 9) on ratios.\nVariant 1."))
    }

    @Test func doesNotEscapeHTML() throws {
        let renderer = try PromptRenderer(steps: [StepConfig(name: "s", user: "<task>{{persona}}</task> & {{{persona}}}")], seed: 0)
        let prompt = renderer.prompt(forStep: 0, condition: ["persona": AxisValue(#"a "coder" who writes <b>bold</b> & 'quotes'"#)], address: address)
        #expect(prompt.user == #"<task>a "coder" who writes <b>bold</b> & 'quotes'</task> & a "coder" who writes <b>bold</b> & 'quotes'"#)
    }

    @Test func laterStepsSeeEarlierOutputsIncludingJSONFields() throws {
        let renderer = try PromptRenderer(
            steps: [
                StepConfig(name: "problem", user: "Write a problem for {{persona}}."),
                StepConfig(name: "solution", user: "Solve:\n{{steps.problem}}"),
                StepConfig(name: "check", user: "Q: {{steps.solution.question}} A: {{steps.solution.answer}}"),
            ],
            seed: 0
        )
        let condition = ["persona": AxisValue("a nurse")]
        #expect(renderer.prompt(forStep: 1, condition: condition, address: address, previousOutputs: ["problem": StepOutput(text: "2 + 2 = ?")]).user == "Solve:\n2 + 2 = ?")
        let json = StepOutput(text: #"{"question": "2+2", "answer": 4}"#, json: .object(["question": .string("2+2"), "answer": .number(4)]))
        #expect(renderer.prompt(forStep: 2, condition: condition, address: address, previousOutputs: ["solution": json]).user == "Q: 2+2 A: 4")
    }

    @Test func rendersDemonstrationSectionsWithStandaloneLines() throws {
        let pool = DemonstrationPool(records: [["problem": "P1", "solution": "S1"]])
        let renderer = try PromptRenderer(
            steps: [StepConfig(name: "s", user: "Examples:\n{{#demos}}\n- {{problem}} => {{solution}}\n{{/demos}}\nNow you, {{persona}}.")],
            demonstrations: pool,
            demonstrationCount: 1,
            seed: 0
        )
        let prompt = renderer.prompt(forStep: 0, condition: ["persona": AxisValue("a chef")], address: address)
        #expect(prompt.user == "Examples:\n- P1 => S1\nNow you, a chef.")
    }

    @Test func demonstrationDrawsAreDeterministicAndDistinct() {
        let pool = DemonstrationPool(records: (0..<20).map { ["id": "\($0)"] })
        for position in 0..<50 {
            let address = SampleAddress(conditionPosition: position, sampleIndex: 0)
            let draw = pool.draw(3, seed: 11, for: address)
            #expect(draw == pool.draw(3, seed: 11, for: address))
            #expect(Set(draw.map { $0["id"]! }).count == 3)
        }
        let firstDraws = Set((0..<50).map { pool.draw(3, seed: 11, for: SampleAddress(conditionPosition: $0, sampleIndex: 0)).map { $0["id"]! } })
        #expect(firstDraws.count > 30, "different conditions get different demonstrations")
        #expect(
            pool.draw(3, seed: 11, for: SampleAddress(conditionPosition: 1, sampleIndex: 0)).map { $0["id"]! } == ["0", "4", "17"],
            "golden draw: changing the draw changes every run's prompts"
        )
    }

    @Test func previewShowsPlaceholdersForEarlierOutputs() throws {
        let renderer = try PromptRenderer(
            steps: [StepConfig(name: "problem", user: "{{persona}}"), StepConfig(name: "solution", user: "Solve: {{steps.problem}}")],
            seed: 0
        )
        let prompts = renderer.previewPrompts(condition: ["persona": AxisValue("x")], address: address)
        #expect(prompts.map(\.user) == ["x", "Solve: ⟨output of step 'problem'⟩"])
    }

    @Test func templateSyntaxErrorsCarryALine() {
        do {
            _ = try PromptTemplate("line one\n{{#open}}\nnever closed")
            Issue.record("expected a syntax error")
        } catch {
            #expect(error.message.contains("never closed"))
        }
    }
}
