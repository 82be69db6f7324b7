import Foundation
import PersonaForgeHTTP
import PersonaForgeTestSupport
import Testing

/// `personaforge run` with its workers talking to the real local SmolLM2 server through
/// Tests/fixtures/llm_fault_proxy.py: each injected fault ends in retries and then a
/// failed record whose reason and detail name the fault — no hang, no crash, no lost
/// record — and the proxy's call count gives the calls each fault wasted.
@Suite struct LLMFaultPipelineTests {
    static let upstream: String = {
        let base = ProcessInfo.processInfo.environment["PERSONAFORGE_LLM_BASE_URL"] ?? "http://127.0.0.1:8088/v1"
        return base.hasSuffix("/v1") ? String(base.dropLast(3)) : base
    }()

    /// The worker's default retry policy: 5 attempts per record.
    static let attempts = 5

    @Test(arguments: [
        ("429", "llm_rate_limited", "429"),
        ("429-bare", "llm_rate_limited", "429"),
        ("500", "llm_server_error", "500"),
        ("503", "llm_server_error", "503"),
        ("reset", "llm_transport", ""),
        ("hang", "timeout", ""),
        ("trickle", "timeout", ""),
        ("truncated", "llm_transport", ""),
        ("malformed", "llm_invalid_response", "JSON"),
        ("huge", "llm_transport", "larger than"),
        ("html", "llm_invalid_response", "JSON"),
    ])
    func aFaultFailsItsRecordsWithTheReasonAfterBoundedRetries(mode: String, reason: String, detail: String) async throws {
        let harness = try PipelineHarness(llm: nil)
        let proxy = try HTTPFixtureServer(script: "llm_fault_proxy.py", extraArguments: [Self.upstream])
        defer { proxy.stop() }
        let records = 2
        // 1 s where the fault is slowness; elsewhere long enough that a loaded machine
        // (a 50 MB body, a proxied answer) does not turn the fault into a timeout.
        let timeout = ["hang", "trickle"].contains(mode) ? 1 : 15
        let config = try harness.writeConfig(name: "fault-\(mode)", personas: records, shardSize: records, maxTokens: 8, model: ["timeout_seconds: \(timeout)"])
        let started = ContinuousClock.now
        let result = try await harness.run(
            ["run", config, "--workers", "1", "--progress-interval", "5"], timeout: .seconds(90),
            environment: ["PERSONAFORGE_LLM_BASE_URL": "\(proxy.baseURL)/\(mode)/v1"]
        )
        let elapsed = ContinuousClock.now - started
        #expect(result.status == 0, "\(mode): \(result.output.suffix(2000))")
        let runID = try #require(result.output.firstMatch(of: /submitted run ([0-9a-f-]{36})/).map { String($0.1) })
        let database = try await harness.database()
        let rows = try await database.query("SELECT status, reject_reason, reject_detail FROM records WHERE run_id = $1::uuid", [runID])
        let counters = try #require(try await database.query("SELECT records_failed AS f, records_kept AS k FROM runs WHERE id = $1::uuid", [runID]).first)
        await database.close()
        // Every condition has its record, failed for this fault's reason, with a detail.
        #expect(rows.count == records, "\(mode): \(rows.count) records")
        for row in rows {
            #expect(row["status"].string == "failed", "\(mode): \(row["status"].string ?? "nil")")
            #expect(row["reject_reason"].string == reason, "\(mode): \(row["reject_reason"].string ?? "nil") \(row["reject_detail"].string ?? "")")
            let text = row["reject_detail"].string ?? ""
            #expect(!text.isEmpty && (detail.isEmpty || text.contains(detail)), "\(mode): detail \(text)")
        }
        #expect(counters["f"].int == records && counters["k"].int == 0)
        // Each record was tried exactly as often as the retry policy allows, no more.
        let calls = try await Self.calls(proxy)[mode] ?? 0
        #expect(calls == records * Self.attempts, "\(mode): \(calls) calls")
        print("llm fault \(mode): \(records) records failed as \(reason) after \(calls) calls (\(calls - records) wasted) in \(elapsed)")
    }

    @Test func throughTheProxyWithoutAFaultEveryRecordIsKeptWithOneCallEach() async throws {
        let harness = try PipelineHarness(llm: nil)
        let proxy = try HTTPFixtureServer(script: "llm_fault_proxy.py", extraArguments: [Self.upstream])
        defer { proxy.stop() }
        let config = try harness.writeConfig(name: "fault-none", personas: 2, shardSize: 2, maxTokens: 8)
        let result = try await harness.run(
            ["run", config, "--workers", "1", "--progress-interval", "5"], timeout: .seconds(90),
            environment: ["PERSONAFORGE_LLM_BASE_URL": "\(proxy.baseURL)/ok/v1"]
        )
        #expect(result.status == 0, "\(result.output.suffix(2000))")
        let runID = try #require(result.output.firstMatch(of: /submitted run ([0-9a-f-]{36})/).map { String($0.1) })
        let database = try await harness.database()
        let statuses = try await database.query("SELECT status FROM records WHERE run_id = $1::uuid", [runID]).compactMap { $0["status"].string }
        await database.close()
        #expect(statuses.count == 2)
        #expect(!statuses.contains("failed"), "\(statuses)")
        #expect(try await Self.calls(proxy)["ok"] == 2)
    }

    static func calls(_ proxy: HTTPFixtureServer) async throws -> [String: Int] {
        let http = HTTPClient()
        defer { http.shutdown() }
        let response = try await http.execute(HTTPRequest(url: "\(proxy.baseURL)/calls", timeout: .seconds(5), connectTimeout: .seconds(2)))
        return try JSONDecoder().decode([String: Int].self, from: Data(response.body))
    }
}
