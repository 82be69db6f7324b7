import Testing
@testable import PersonaForgeCore

@Suite("Failure classes")
struct ResilienceFailureClassTests {
    @Test func rawValuesAreStableSnakeCase() {
        let expected: [FailureClass: String] = [
            .llmTransport: "llm_transport", .llmRateLimited: "llm_rate_limited", .llmServerError: "llm_server_error",
            .llmBadRequest: "llm_bad_request", .llmUnauthorized: "llm_unauthorized", .llmNotFound: "llm_not_found",
            .llmInvalidResponse: "llm_invalid_response", .timeout: "timeout", .cancelled: "cancelled",
        ]
        #expect(FailureClass.allCases.count == expected.count)
        for failure in FailureClass.allCases {
            #expect(failure.rawValue == expected[failure])
            #expect(FailureClass(rawValue: failure.rawValue) == failure)
        }
    }

    @Test func onlyTransientFailuresAreRetried() {
        let retryable = Set(FailureClass.allCases.filter(\.isRetryable))
        #expect(retryable == [.llmTransport, .llmRateLimited, .llmServerError, .llmInvalidResponse, .timeout])
    }
}
