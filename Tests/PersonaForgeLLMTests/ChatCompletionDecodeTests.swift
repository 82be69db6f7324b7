import PersonaForgeLLM
import Testing

/// `ChatCompletion.decode`: what a worker reads from every response body, and the
/// reason it gives for each kind of body that is not a completion.
@Suite struct ChatCompletionDecodeTests {
    func decode(_ text: String) throws(LLMError) -> ChatCompletion { try ChatCompletion.decode(Array(text.utf8)) }

    func failure(_ text: String) -> String? {
        do {
            _ = try decode(text)
            return nil
        } catch {
            #expect(error.code == .invalidResponse)
            return error.message
        }
    }

    @Test func aChatCompletionAsLlamaCppSendsIt() throws {
        let completion = try decode("""
            {"choices":[{"finish_reason":"stop","index":0,"message":{"role":"assistant","content":"Hello \\u00e9\\n\\"x\\""}}],
             "created":1,"model":"smollm2","system_fingerprint":"b1","object":"chat.completion",
             "usage":{"completion_tokens":7,"prompt_tokens":31,"total_tokens":38},"id":"chatcmpl-1","timings":{"predicted_n":7}}
            """)
        #expect(completion.id == "chatcmpl-1")
        #expect(completion.model == "smollm2")
        #expect(completion.promptTokens == 31)
        #expect(completion.completionTokens == 7)
        #expect(completion.choices.count == 1)
        #expect(completion.choices.first?.index == 0)
        #expect(completion.choices.first?.content == "Hello é\n\"x\"")
        #expect(completion.choices.first?.finishReason == .stop)
    }

    @Test func completionsTextAndSeveralChoicesInTheirOrder() throws {
        let completion = try decode("""
            {"choices":[{"text":"first","finish_reason":"length"},{"index":5,"text":"second","finish_reason":null}]}
            """)
        #expect(completion.choices.map(\.content) == ["first", "second"])
        #expect(completion.choices.map(\.index) == [0, 5])
        #expect(completion.choices.map(\.finishReason.name) == ["length", "missing"])
        #expect(completion.promptTokens == nil)
        #expect(completion.id == nil)
    }

    @Test func fieldsOfTheWrongTypeCountAsAbsent() throws {
        let completion = try decode("""
            {"id":7,"model":["m"],"usage":{"prompt_tokens":"many","completion_tokens":3},
             "choices":[{"index":"zero","finish_reason":1,"message":{"content":null,"tool_calls":[]}}]}
            """)
        #expect(completion.id == nil)
        #expect(completion.model == nil)
        #expect(completion.promptTokens == nil)
        #expect(completion.completionTokens == 3)
        #expect(completion.choices.map(\.index) == [0])
        #expect(completion.choices.map(\.content) == [""])
        #expect(completion.choices.map(\.finishReason) == [.missing])
    }

    @Test func everyBodyThatIsNotACompletionFailsWithItsReason() {
        #expect(failure("<html>502 Bad Gateway</html>")?.hasPrefix("response is not JSON: ") == true)
        #expect(failure("{\"choices\":[]")?.hasPrefix("response is not JSON") == true)
        #expect(failure("")?.hasPrefix("response is not JSON") == true)
        #expect(failure("[1,2]")?.hasPrefix("response is JSON but not an object: ") == true)
        #expect(failure("\"text\"")?.hasPrefix("response is JSON but not an object") == true)
        #expect(failure("{\"error\":{\"message\":\"overloaded\"}}")?.hasPrefix("response has no 'choices' array: ") == true)
        #expect(failure("{\"choices\":{\"0\":{}}}")?.hasPrefix("response has no 'choices' array") == true)
        #expect(failure("{\"choices\":[\"hello\"]}")?.hasPrefix("response has no 'choices' array") == true)
        #expect(failure("{\"choices\":[{\"text\":\"a\"},{\"finish_reason\":\"stop\"}]}")?.hasPrefix("choice 1 has no message: ") == true)
        #expect(failure("{\"choices\":[{\"message\":\"hi\"}]}")?.hasPrefix("choice 0 has no message") == true)
        // The excerpt names the body.
        #expect(failure("{\"error\":\"rate limited\"}")?.contains("rate limited") == true)
    }

    @Test func anEmptyChoicesArrayIsACompletionWithoutChoices() throws {
        #expect(try decode("{\"choices\":[]}").choices.isEmpty)
    }
}
