import ArgumentParser
import Foundation
import Logging
import PersonaForgeHTTP
import PersonaForgeLLM

/// `personaforge chat "PROMPT"`: one chat completion through the same HTTP client the
/// workers use, printed to the terminal. A smoke test for an endpoint.
struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Send one chat completion to the LLM endpoint and print the answer.",
        discussion: "Exit status: 0 on an answer, 1 when the endpoint failed (the error says why)."
    )

    @OptionGroup var connections: ConnectionOptions

    @Argument(help: "The user message.")
    var prompt: String

    @Option(help: "A system message.")
    var system: String?

    @Option(help: "Maximum tokens to generate.")
    var maxTokens: Int = 128

    @Option(help: "Sampling temperature.")
    var temperature: Double = 0.7

    @Option(help: "Seed, for servers that honour it.")
    var seed: UInt64?

    @Flag(help: "Ask for a JSON object (response_format json_object).")
    var json = false

    @Flag(help: "Also print model, finish reason, tokens and latency to standard error.")
    var verbose = false

    func run() async throws {
        let endpoint = try connections.llmEndpoint()
        let http = HTTPClient(logger: Logger(label: "personaforge.chat") { _ in SwiftLogNoOpLogHandler() })
        defer { http.shutdown() }
        let client = LLMClient(endpoint: endpoint, http: http)
        var messages: [ChatMessage] = []
        if let system { messages.append(.system(system)) }
        messages.append(.user(prompt))
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let completion = try await client.chat(ChatCompletionRequest(
                model: endpoint.model, messages: messages, temperature: temperature, maxTokens: maxTokens, seed: seed,
                responseFormat: json ? .jsonObject : nil
            ))
            guard let choice = completion.choices.first else {
                printToStandardError("error: the endpoint returned no choices")
                throw ExitCode(1)
            }
            print(choice.content.trimmingCharacters(in: .whitespacesAndNewlines))
            if verbose {
                let elapsed = clock.now - started
                printToStandardError("[\(completion.model ?? endpoint.model), finish \(choice.finishReason.name), \(completion.promptTokens ?? 0) prompt + \(completion.completionTokens ?? 0) completion tokens, \(elapsed.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow)))]")
            }
        } catch let error as LLMError {
            printToStandardError("error: \(error.message)")
            if let fix = DoctorCommand.llmFix(error) { printToStandardError("  → \(fix)") }
            throw ExitCode(1)
        }
    }
}
