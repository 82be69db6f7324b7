import Foundation
import PersonaForgeHTTP
import PersonaForgeTestSupport
import Testing

@Suite(.serialized) struct HTTPClientTests {
    let server: HTTPFixtureServer
    let client = HTTPClient()

    init() throws {
        server = try HTTPFixtureServer()
    }

    @Test func getReturnsStatusHeadersAndBody() async throws {
        let response = try await client.execute(HTTPRequest(url: "\(server.baseURL)/echo?x=1"))
        #expect(response.status == 200)
        #expect(response.header("x-fixture") == "yes")
        #expect(response.header("CONTENT-TYPE") == "application/json")
        let echo = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        #expect(echo?["method"] as? String == "GET")
        #expect(echo?["path"] as? String == "/echo?x=1")
    }

    @Test func postSendsBinaryBodyExactlyWithHeaders() async throws {
        // NUL bytes in the body must survive (CURLOPT_COPYPOSTFIELDS with an explicit size).
        let body: [UInt8] = Array("{\"a\":1}".utf8) + [0, 1, 2, 0, 255]
        let request = HTTPRequest.postJSON(url: "\(server.baseURL)/echo", body: body, headers: [("Authorization", "Bearer t0k")])
        let response = try await client.execute(request)
        let echo = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
        #expect(echo["method"] as? String == "POST")
        #expect(echo["body_length"] as? Int == body.count)
        #expect((echo["body"] as? String).map { Array($0.unicodeScalars.map { UInt8($0.value) }) } == body)
        let headers = try #require(echo["headers"] as? [String: String])
        #expect(headers["content-type"] == "application/json")
        #expect(headers["authorization"] == "Bearer t0k")
        #expect(headers["expect"] == nil)
    }

    @Test func errorStatusesAreResponsesNotErrors() async throws {
        let response = try await client.execute(HTTPRequest(url: "\(server.baseURL)/status/429?retry_after=7"))
        #expect(response.status == 429)
        #expect(response.header("Retry-After") == "7")
        #expect(!response.isSuccess)
        let missing = try await client.execute(HTTPRequest(url: "\(server.baseURL)/nothing-here"))
        #expect(missing.status == 404)
    }

    @Test func sixteenConcurrentSlowRequestsTakeAboutOneLatency() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<16 {
                group.addTask { try await client.execute(HTTPRequest(url: "\(server.baseURL)/delay/1000")).status }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let elapsed = clock.now - started
        #expect(statuses == Array(repeating: 200, count: 16))
        // Serially this is 16 s; concurrently about 1 s. The bound is loose on purpose.
        #expect(elapsed < .seconds(4), "16 concurrent 1 s requests took \(elapsed)")
    }

    @Test func timeoutIsClassified() async throws {
        let request = HTTPRequest(url: "\(server.baseURL)/delay/3000", timeout: .milliseconds(300))
        await #expect {
            try await client.execute(request)
        } throws: { error in
            (error as? HTTPError)?.code == .timeout && (error as? HTTPError)?.isRetryable == true
        }
    }

    @Test func connectionRefusedIsClassified() async throws {
        let port = try Loopback.freePort()
        await #expect {
            try await client.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/"))
        } throws: { error in
            (error as? HTTPError)?.code == .connectionFailed
        }
    }

    @Test func invalidURLIsClassified() async throws {
        await #expect {
            try await client.execute(HTTPRequest(url: "ftp://127.0.0.1/file"))
        } throws: { error in
            (error as? HTTPError)?.code == .invalidRequest
        }
    }

    @Test func cancellationEndsTheRequestPromptly() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let task = Task { try await client.execute(HTTPRequest(url: "\(server.baseURL)/delay/5000")) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        let result = await task.result
        #expect(clock.now - started < .seconds(3))
        guard case .failure(let error) = result else {
            Issue.record("a cancelled request returned a response")
            return
        }
        #expect((error as? HTTPError)?.code == .cancelled)
        // The client still works afterwards.
        #expect(try await client.execute(HTTPRequest(url: "\(server.baseURL)/delay/1")).status == 200)
    }

    @Test func alreadyCancelledTaskFailsWithoutSending() async throws {
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await client.execute(HTTPRequest(url: "\(server.baseURL)/delay/2000"))
        }
        let result = await task.result
        guard case .failure(let error) = result else {
            Issue.record("a cancelled request returned a response")
            return
        }
        #expect((error as? HTTPError)?.code == .cancelled)
    }

    @Test func followsNoRedirectsAndReportsLargeBodies() async throws {
        let redirect = try await client.execute(HTTPRequest(url: "\(server.baseURL)/redirect"))
        #expect(redirect.status == 302)
        #expect(redirect.header("Location") == "/echo")
        let big = try await client.execute(HTTPRequest(url: "\(server.baseURL)/bytes/3000000"))
        #expect(big.body.count == 3_000_000)
        let small = HTTPClient(configuration: .init(maximumBodySize: 1000))
        await #expect {
            try await small.execute(HTTPRequest(url: "\(server.baseURL)/bytes/5000"))
        } throws: { error in
            (error as? HTTPError)?.message.contains("larger than 1000") == true
        }
    }

    @Test func tlsVerificationIsOnByDefault() {
        #expect(HTTPClient.Configuration().verifyTLS)
    }

    @Test func shutdownFailsInFlightRequests() async throws {
        let doomed = HTTPClient()
        let task = Task { try await doomed.execute(HTTPRequest(url: "\(server.baseURL)/delay/5000")) }
        try await Task.sleep(for: .milliseconds(200))
        doomed.shutdown()
        let result = await task.result
        guard case .failure(let error) = result else {
            Issue.record("request survived shutdown")
            return
        }
        #expect((error as? HTTPError)?.code == .shutdown)
        await #expect {
            try await doomed.execute(HTTPRequest(url: "\(server.baseURL)/delay/1"))
        } throws: { error in
            (error as? HTTPError)?.code == .shutdown
        }
    }
}
