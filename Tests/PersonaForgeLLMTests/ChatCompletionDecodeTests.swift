import Foundation
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

/// The byte reader behind `ChatCompletion.decode` against Foundation's
/// `JSONSerialization` (what decode used before), on random bodies: the same
/// completion, or the same reason to refuse it.
@Suite struct ChatCompletionDecodeDifferentialTests {
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    /// An integer as the old decoder read it (`as? Int`), except a JSON `true` or
    /// `false`, which Foundation also hands over as 1 or 0 and the reader does not
    /// take for a number.
    static func integer(_ value: Any?) -> Int? {
        if let number = value as? NSNumber, String(cString: number.objCType) == "c" { return nil }
        return value as? Int
    }

    /// The decoder of stop 21, kept here as the reference.
    static func reference(_ body: [UInt8]) -> String {
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) else { return "not JSON" }
        guard let object = parsed as? [String: Any] else { return "not an object" }
        guard let rawChoices = object["choices"] as? [[String: Any]] else { return "no choices" }
        var choices: [String] = []
        for (position, raw) in rawChoices.enumerated() {
            let message = raw["message"] as? [String: Any]
            if message == nil && raw["text"] == nil { return "no message \(position)" }
            let content = (message?["content"] as? String) ?? (raw["text"] as? String) ?? ""
            choices.append("\(integer(raw["index"]) ?? position)|\(content)|\(FinishReasonName.of(raw["finish_reason"] as? String))")
        }
        let usage = object["usage"] as? [String: Any]
        return "ok id=\(object["id"] as? String ?? "-") model=\(object["model"] as? String ?? "-") "
            + "tokens=\(integer(usage?["prompt_tokens"]) ?? -1)/\(integer(usage?["completion_tokens"]) ?? -1) choices=\(choices)"
    }

    enum FinishReasonName {
        static func of(_ raw: String?) -> String {
            switch raw {
            case "stop", "eos", "stop_sequence": "stop"
            case "length", "max_tokens": "length"
            case "content_filter": "content_filter"
            case "tool_calls", "function_call": "tool_calls"
            case nil: "missing"
            case let value?: value
            }
        }
    }

    static func ours(_ body: [UInt8]) -> String {
        do {
            let completion = try ChatCompletion.decode(body)
            let choices = completion.choices.map { "\($0.index)|\($0.content)|\($0.finishReason.name)" }
            return "ok id=\(completion.id ?? "-") model=\(completion.model ?? "-") "
                + "tokens=\(completion.promptTokens ?? -1)/\(completion.completionTokens ?? -1) choices=\(choices)"
        } catch {
            if error.message.hasPrefix("response is not JSON") { return "not JSON" }
            if error.message.hasPrefix("response is JSON but not an object") { return "not an object" }
            if error.message.hasPrefix("response has no 'choices' array") { return "no choices" }
            if error.message.hasPrefix("choice ") { return "no message " + error.message.dropFirst(7).prefix { $0 != " " } }
            return "other: \(error.message)"
        }
    }

    /// A JSON string literal of random text: ASCII, escapes, raw UTF-8 and escaped astral characters.
    static func stringLiteral(_ g: inout Generator) -> String {
        let pieces = ["a", "Hello", " ", "\\n", "\\\"", "\\\\", "\\/", "\\t", "\\u00e9", "é", "日本", "\\ud83d\\ude00", "😀", "\\u0041", "{", "}", ",", ":"]
        return "\"" + (0..<g.below(6)).map { _ in pieces[g.below(pieces.count)] }.joined() + "\""
    }

    /// A random JSON value of any type, `depth` levels at most.
    static func value(_ g: inout Generator, depth: Int) -> String {
        switch g.below(depth > 0 ? 8 : 5) {
        case 0: return stringLiteral(&g)
        case 1: return String(g.below(100_000))
        case 2: return ["true", "false"][g.below(2)]
        case 3: return "null"
        case 4: return ["-1.5", "2.5e3", "0", "-0", "1E-2", "7"][g.below(6)]
        case 5, 6: return "{" + (0..<g.below(4)).map { _ in stringLiteral(&g) + ":" + value(&g, depth: depth - 1) }.joined(separator: ",") + "}"
        default: return "[" + (0..<g.below(4)).map { _ in value(&g, depth: depth - 1) }.joined(separator: ", ") + "]"
        }
    }

    /// A completion-shaped body, with fields missing, duplicated or of the wrong type now and then.
    static func body(_ g: inout Generator) -> String {
        func sometimes(_ field: String, _ good: String) -> String? {
            switch g.below(10) {
            case 0: return nil
            case 1: return "\"\(field)\":" + value(&g, depth: 2)
            default: return "\"\(field)\":" + good
            }
        }
        var choices: [String] = []
        for _ in 0..<g.below(4) {
            var members: [String?] = [sometimes("index", String(g.below(5))), sometimes("finish_reason", ["\"stop\"", "\"length\"", "null", "\"other\""][g.below(4)])]
            switch g.below(5) {
            case 0: members.append(sometimes("text", stringLiteral(&g)))
            case 1: members.append(nil)
            default: members.append(sometimes("message", "{\"role\":\"assistant\",\"content\":" + (g.below(6) == 0 ? "null" : stringLiteral(&g)) + "}"))
            }
            if g.below(8) == 0 { members.append("\"logprobs\":" + value(&g, depth: 3)) }
            members.shuffle(using: &g)
            choices.append(g.below(20) == 0 ? value(&g, depth: 1) : "{" + members.compactMap { $0 }.joined(separator: ",") + "}")
        }
        var members: [String?] = [
            sometimes("id", stringLiteral(&g)), sometimes("model", stringLiteral(&g)),
            sometimes("choices", "[" + choices.joined(separator: ",") + "]"),
            sometimes("usage", "{\"prompt_tokens\":\(g.below(500)),\"completion_tokens\":\(g.below(500)),\"total_tokens\":1}"),
            g.below(3) == 0 ? "\"timings\":" + value(&g, depth: 3) : nil,
        ]
        members.shuffle(using: &g)
        return " {" + members.compactMap { $0 }.joined(separator: ", ") + "}\n"
    }

    @Test func randomBodiesDecodeAsFoundationDecodedThem() {
        var g = Generator(state: 2026)
        var compared = 0, refused = 0
        for _ in 0..<3_000 {
            let text = Self.body(&g)
            let expected = Self.reference(Array(text.utf8))
            #expect(Self.ours(Array(text.utf8)) == expected, "\(text)")
            compared += 1
            if !expected.hasPrefix("ok") { refused += 1 }
        }
        // Both kinds occur: bodies that are completions and bodies refused for each reason.
        #expect(refused > 100 && refused < compared - 1_000)
    }

    @Test func brokenBodiesAreRefusedAsFoundationRefusedThem() {
        var g = Generator(state: 7)
        for _ in 0..<2_000 {
            var bytes = Array(Self.body(&g).utf8)
            switch g.below(5) {
            case 0: bytes = Array(bytes.prefix(g.below(bytes.count)))                       // truncated
            case 1: bytes.insert([UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x01, 0xFF][g.below(5)], at: g.below(bytes.count))
            case 2: bytes.remove(at: g.below(bytes.count))
            case 3: bytes += Array("x".utf8)                                                  // trailing text
            default: bytes[g.below(bytes.count)] = UInt8(g.below(128))
            }
            let ours = Self.ours(bytes), expected = Self.reference(bytes)
            // Foundation accepts a trailing comma ("[1,]", "{…,}"); RFC 8259 and the reader do not.
            if ours == "not JSON" && expected != ours && Self.hasTrailingComma(bytes) { continue }
            #expect(ours == expected, "\(String(decoding: bytes, as: UTF8.self).debugDescription)")
        }
    }

    /// A `,` followed (after whitespace) by `]` or `}` outside strings.
    static func hasTrailingComma(_ bytes: [UInt8]) -> Bool {
        var inString = false, escaped = false, lastSignificant: UInt8 = 0
        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true; lastSignificant = byte
            case 0x20, 0x09, 0x0A, 0x0D: break
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                if lastSignificant == UInt8(ascii: ",") { return true }
                lastSignificant = byte
            default: lastSignificant = byte
            }
        }
        return false
    }

    @Test func aBooleanIsNotANumberAndATrailingCommaIsNotJSON() {
        #expect(Self.ours(Array("{\"choices\":[{\"index\":true,\"text\":\"a\"}],\"usage\":{\"prompt_tokens\":false}}".utf8))
                == "ok id=- model=- tokens=-1/-1 choices=[\"0|a|missing\"]")
        #expect(Self.ours(Array("{\"choices\":[{\"text\":\"a\"},]}".utf8)) == "not JSON")
        #expect(Self.ours(Array("{\"choices\":[],}".utf8)) == "not JSON")
        // Whole numbers written as decimals count; fractions do not.
        #expect(Self.ours(Array("{\"choices\":[{\"index\":3.0,\"text\":\"a\"},{\"index\":1.5,\"text\":\"b\"}]}".utf8))
                == "ok id=- model=- tokens=-1/-1 choices=[\"3|a|missing\", \"1|b|missing\"]")
    }

    @Test func deepNestingIsRefusedWithoutACrash() {
        let deep = "{\"choices\":[],\"x\":" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        #expect(Self.ours(Array(deep.utf8)) == "not JSON")
        let fine = "{\"choices\":[],\"x\":" + String(repeating: "[", count: 400) + String(repeating: "]", count: 400) + "}"
        #expect(Self.ours(Array(fine.utf8)).hasPrefix("ok"))
    }
}
