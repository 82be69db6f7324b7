import Foundation
import PersonaForgeHTTP
import PersonaForgeLLM
import PersonaForgeTestSupport

/// Requests per second and CPU per request of the workers' HTTP and LLM clients
/// against `personaforge-stub`, side by side with plain concurrent `curl` (one
/// `curl --parallel` process: libcurl's own multi loop) in the same invocation:
///
/// 1. `curl --parallel --parallel-max C` posting the same chat body N times;
/// 2. ``HTTPClient`` (our libcurl-multi wrapper) posting that body N times, C at once;
/// 3. ``LLMClient/chat(_:)``: building the request, posting it and parsing the
///    completion, N times, C at once: what a worker does per LLM call.
///
/// After a warm-up of N/10 calls, the three run in turn for `rounds` rounds.
struct LLMClientBenchmark {
    var requests: Int
    var concurrency: Int
    /// Rounds of the three clients in turn, so their spread shows.
    var rounds: Int = 2
    var binaries: URL

    struct Row {
        var name: String
        var seconds: Double
        var cpuSeconds: Double
        var stubCPUSeconds: Double
    }

    func run() async throws -> [Row] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pf-llm-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try Loopback.freePort()
        let stub = try ChildProcess([binaries.appendingPathComponent("personaforge-stub").path, "--port", String(port)])
        try Loopback.waitUntilListening(port: port)
        let url = "http://127.0.0.1:\(port)/v1/chat/completions"
        let request = ChatCompletionRequest(
            model: "stub", messages: [.system("You write short texts."), .user("Write a short text about topic 7 for a chemist from Lima.")],
            temperature: 0.8, topP: 1, maxTokens: 200, seed: 42)
        let body = try request.encoded()
        func stubCPU() -> Double { stub.pid.flatMap { ProcessCPU.seconds(of: $0) } ?? 0 }
        var rows: [Row] = []
        let http = HTTPClient()
        let client = LLMClient(endpoint: LLMEndpoint(baseURL: "http://127.0.0.1:\(port)/v1", model: "stub"), http: http)
        // Warm-up, not reported: connections, the stub's buffers, the runtime's caches.
        try await Self.concurrently(max(1, requests / 10), concurrency) { _ = try await client.chat(request) }

        for _ in 0..<rounds {
        // 1. curl --parallel, one process.
        guard let curl = ["/usr/bin/curl", "/usr/local/bin/curl"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw TestSupportError("curl not found (apt-get install -y curl)")
        }
        let bodyFile = directory.appendingPathComponent("body.json")
        try Data(body).write(to: bodyFile)
        // One block per transfer, separated by `next` (a trailing `next` is an error).
        let transfer = "url = \"\(url)\"\ndata-binary = \"@\(bodyFile.path)\"\nheader = \"Content-Type: application/json\"\noutput = \"/dev/null\"\n"
        let config = Array(repeating: transfer, count: requests).joined(separator: "next\n")
        let configFile = directory.appendingPathComponent("curl.config")
        try config.write(to: configFile, atomically: true, encoding: .utf8)
        var before = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &before)
        var stubBefore = stubCPU()
        var start = Stopwatch.now()
        let process = try ChildProcess([curl, "--silent", "--parallel", "--parallel-max", String(concurrency), "--config", configFile.path])
        var status: Int32 = 0
        if let pid = process.pid { waitpid(pid, &status, 0) }
        guard status == 0 else { throw TestSupportError("curl --parallel failed with status \(status)") }
        var seconds = Stopwatch.now() - start
        var after = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &after)
        rows.append(Row(name: "curl --parallel", seconds: seconds, cpuSeconds: Self.cpu(after) - Self.cpu(before), stubCPUSeconds: stubCPU() - stubBefore))

        // 2. HTTPClient, the raw wrapper.
        let post = HTTPRequest(method: "POST", url: url, headers: [("Content-Type", "application/json")], body: body)
        getrusage(RUSAGE_SELF.rawValue, &before)
        stubBefore = stubCPU()
        start = Stopwatch.now()
        try await Self.concurrently(requests, concurrency) {
            let response = try await http.execute(post)
            guard response.status == 200 else { throw TestSupportError("status \(response.status)") }
        }
        seconds = Stopwatch.now() - start
        getrusage(RUSAGE_SELF.rawValue, &after)
        rows.append(Row(name: "HTTPClient", seconds: seconds, cpuSeconds: Self.cpu(after) - Self.cpu(before), stubCPUSeconds: stubCPU() - stubBefore))

        // 3. LLMClient.chat: encode, post, parse.
        getrusage(RUSAGE_SELF.rawValue, &before)
        stubBefore = stubCPU()
        start = Stopwatch.now()
        try await Self.concurrently(requests, concurrency) {
            let completion = try await client.chat(request)
            guard !(completion.choices.first?.content.isEmpty ?? true) else { throw TestSupportError("empty completion") }
        }
        seconds = Stopwatch.now() - start
        getrusage(RUSAGE_SELF.rawValue, &after)
        rows.append(Row(name: "LLMClient.chat", seconds: seconds, cpuSeconds: Self.cpu(after) - Self.cpu(before), stubCPUSeconds: stubCPU() - stubBefore))
        }
        stub.terminate()
        return rows
    }

    static func cpu(_ usage: rusage) -> Double {
        Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// Runs `body` `count` times with at most `width` at once.
    static func concurrently(_ count: Int, _ width: Int, _ body: @escaping @Sendable () async throws -> Void) async throws {
        try await concurrentlyIndexed(count, width) { _ in try await body() }
    }

    /// Runs `body` for 0..<count with at most `width` at once.
    static func concurrentlyIndexed(_ count: Int, _ width: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            let lanes = min(width, count)
            for lane in 0..<lanes {
                group.addTask {
                    var index = lane
                    while index < count {
                        try await body(index)
                        index += lanes
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
