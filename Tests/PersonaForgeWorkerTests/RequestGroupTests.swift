import PersonaForgeCore
import Testing

@testable import PersonaForgeWorker

/// Which samples of a shard share one request with `model.n`.
@Suite struct RequestGroupTests {
    static func addresses(_ conditions: [Int]) -> [SampleAddress] {
        var seen: [Int: Int] = [:]
        return conditions.map { condition in
            defer { seen[condition, default: 0] += 1 }
            return SampleAddress(conditionPosition: condition, sampleIndex: seen[condition, default: 0])
        }
    }

    static func prompt(_ user: String) -> RenderedPrompt { RenderedPrompt(step: "s", system: nil, user: user) }

    @Test func samplesOfOneConditionShareUpToNRequests() {
        let addresses = Self.addresses([7, 7, 7, 7, 7, 3, 3, 9])
        let groups = ShardProcessor.requestGroups(addresses: addresses, limit: 4) { Self.prompt("condition \(addresses[$0].conditionPosition)") }
        #expect(groups == [[0, 1, 2, 3], [4], [5, 6], [7]])
    }

    @Test func withNOneEverySampleHasItsOwnRequest() {
        let addresses = Self.addresses([1, 1, 1])
        #expect(ShardProcessor.requestGroups(addresses: addresses, limit: 1) { _ in Self.prompt("same") } == [[0], [1], [2]])
    }

    @Test func samplesWhoseFirstPromptsDifferDoNotShare() {
        // A template with {{sample_index}} (or demonstrations drawn per sample) renders each sample apart.
        let addresses = Self.addresses([5, 5, 5, 5])
        let groups = ShardProcessor.requestGroups(addresses: addresses, limit: 4) { Self.prompt("sample \(addresses[$0].sampleIndex % 2 == 0 ? "even" : "odd")") }
        #expect(groups == [[0], [1], [2], [3]])
        let same = ShardProcessor.requestGroups(addresses: addresses, limit: 4) { Self.prompt("sample \($0 < 2 ? "first" : "second")") }
        #expect(same == [[0, 1], [2, 3]])
    }
}
