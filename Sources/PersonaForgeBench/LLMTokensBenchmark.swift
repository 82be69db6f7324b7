import Foundation
import Logging
import PersonaForgeCore
import PersonaForgeHTTP
import PersonaForgeLLM
import PersonaForgeTestSupport
import PersonaForgeWorker

/// Completion tokens per second that a worker gets from a real LLM server (the local
/// llama.cpp server of `deploy/local/stack.sh`), against the most that server gives
/// to plain concurrent `curl` (issue 14).
///
/// The requests are those a worker makes for the end-to-end benchmark's run
/// (personas × 200 topics, one step) with `max_tokens` = `maxTokens`: the same JSON
/// bodies, seeds included, so the server does the same work for each client. In
/// each round, in turn:
///
/// 1. `curl --parallel --parallel-max C` posting the bodies (one process), for C =
///    `concurrency` and 2 × `concurrency`: the higher of the two is the server's
///    ceiling for that round;
/// 2. the worker's path, ``LocalShardPipeline`` (its `ShardProcessor`, LLM caller and
///    concurrency gate at `concurrency`), over the same sample positions as one shard.
///
/// Tokens are the server's own `usage.completion_tokens`, summed over the answers.
struct LLMTokensBenchmark {
    var requests: Int
    var concurrency: Int
    var maxTokens: Int
    var rounds: Int
    var baseURL: String
    var model: String

    struct Row {
        var client: String
        var concurrency: Int
        var seconds: Double
        var completionTokens: Int
        var tokensPerSecond: Double { Double(completionTokens) / seconds }
    }

    func run() async throws -> [[Row]] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pf-tokens-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let loaded = try EndToEndBenchmark.loadedRun(in: directory, name: "tokens", dedup: false, records: requests, shardSize: requests, maxTokens: maxTokens)
        guard let curl = ["/usr/bin/curl", "/usr/local/bin/curl"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw TestSupportError("curl not found (apt-get install -y curl)")
        }
        var logger = Logger(label: "personaforge-bench")
        logger.logLevel = .warning
        let http = HTTPClient(configuration: Worker.httpConfiguration)
        defer { http.shutdown() }
        let endpoint = LLMEndpoint(baseURL: baseURL, model: model)
        let client = LLMClient(endpoint: endpoint, http: http, timeout: .seconds(600))
        do {
            _ = try await client.models()
        } catch {
            throw TestSupportError("no LLM server at \(baseURL) (deploy/local/stack.sh up starts one): \(error.message)")
        }
        let pipeline = try LocalShardPipeline(runID: "tokens", loaded: loaded, client: client, concurrency: concurrency, logger: logger)
        let shard = ShardDescriptor(runID: "tokens", shard: 0, start: 0, count: requests)

        // The bodies a worker sends for these sample positions (ShardProcessor.generate).
        let config = loaded.config
        let addresses = shard.samplePositions.map(pipeline.plan.address(ofSample:))
        let conditions = try await pipeline.space.conditions(at: addresses.map(\.conditionPosition))
        var transfers: [String] = []
        for (offset, position) in shard.samplePositions.enumerated() {
            let prompt = loaded.renderer.prompt(forStep: 0, condition: conditions[offset], address: addresses[offset])
            var messages: [ChatMessage] = []
            if let system = prompt.system, !system.isEmpty { messages.append(.system(system)) }
            messages.append(.user(prompt.user))
            let seed = PortableHash.combine(config.seed, UInt64(position))
            let body = try ChatCompletionRequest(
                model: model, messages: messages, temperature: config.model.temperature, topP: config.model.topP,
                maxTokens: maxTokens, seed: PortableHash.combine(seed, 0) & 0xFFFF_FFFF
            ).encoded()
            let bodyFile = directory.appendingPathComponent("body-\(offset).json")
            try Data(body).write(to: bodyFile)
            transfers.append("url = \"\(endpoint.url("chat/completions"))\"\ndata-binary = \"@\(bodyFile.path)\"\n"
                + "header = \"Content-Type: application/json\"\noutput = \"\(directory.appendingPathComponent("answer-\(offset).json").path)\"\n")
        }
        let curlConfig = directory.appendingPathComponent("curl.config")
        try transfers.joined(separator: "next\n").write(to: curlConfig, atomically: true, encoding: .utf8)

        func curlRound(_ width: Int) throws -> Row {
            let start = Stopwatch.now()
            let process = try ChildProcess([curl, "--silent", "--fail", "--parallel", "--parallel-max", String(width), "--config", curlConfig.path])
            var status: Int32 = 0
            if let pid = process.pid { waitpid(pid, &status, 0) }
            let seconds = Stopwatch.now() - start
            guard status == 0 else { throw TestSupportError("curl --parallel failed with status \(status)") }
            var tokens = 0
            for offset in 0..<requests {
                let answer = try [UInt8](Data(contentsOf: directory.appendingPathComponent("answer-\(offset).json")))
                guard let completion = try? ChatCompletion.decode(answer), let count = completion.completionTokens else {
                    throw TestSupportError("curl's answer \(offset) is not a completion with usage")
                }
                tokens += count
            }
            return Row(client: "curl --parallel", concurrency: width, seconds: seconds, completionTokens: tokens)
        }

        // Warm-up, not reported: the server's slots and caches.
        _ = try await pipeline.process(ShardDescriptor(runID: "tokens", shard: 0, start: 0, count: min(requests, concurrency)))

        var results: [[Row]] = []
        for _ in 0..<rounds {
            var rows = [try curlRound(concurrency), try curlRound(2 * concurrency)]
            let start = Stopwatch.now()
            let records = try await pipeline.process(shard)
            let seconds = Stopwatch.now() - start
            let failed = records.filter { $0.status == .failed }
            guard failed.isEmpty else {
                throw TestSupportError("\(failed.count) of \(records.count) worker calls failed: \(failed.first?.detail ?? "")")
            }
            rows.append(Row(client: "worker path", concurrency: concurrency, seconds: seconds,
                            completionTokens: records.reduce(0) { $0 + $1.completionTokens }))
            results.append(rows)
        }
        return results
    }
}
