import Foundation
import Testing
@testable import PersonaForgeCore

@Suite("Sampling plan and shards")
struct SamplingPlanTests {
    struct ShardCase: Sendable {
        let conditions: Int
        let perCondition: Int
        let limit: Int?
        let shardSize: Int
    }

    @Test(arguments: [
        ShardCase(conditions: 1, perCondition: 1, limit: nil, shardSize: 1),
        ShardCase(conditions: 10, perCondition: 1, limit: nil, shardSize: 3),
        ShardCase(conditions: 10, perCondition: 3, limit: 29, shardSize: 7),
        ShardCase(conditions: 1_000, perCondition: 2, limit: 999, shardSize: 100),
        ShardCase(conditions: 1_000, perCondition: 1, limit: 1_000, shardSize: 1_000),
        ShardCase(conditions: 4_097, perCondition: 1, limit: 4_000, shardSize: 64),
    ])
    func shardsCoverTheSampleExactlyOnce(shape: ShardCase) throws {
        let plan = try SamplingPlan(conditionCount: shape.conditions, samplesPerCondition: shape.perCondition, limit: shape.limit, shardSize: shape.shardSize, seed: 5)
        let expectedCount = shape.limit ?? shape.conditions * shape.perCondition
        #expect(plan.sampleCount == expectedCount)
        var covered = [Int](repeating: 0, count: plan.sampleCount)
        var addresses = Set<SampleAddress>()
        for number in 0..<plan.shardCount {
            let shard = plan.shard(number, runID: "r")
            #expect(shard.start == number * shape.shardSize)
            #expect(shard.count >= 1 && shard.count <= shape.shardSize)
            if number < plan.shardCount - 1 { #expect(shard.count == shape.shardSize) }
            for position in shard.samplePositions {
                covered[position] += 1
                let address = plan.address(ofSample: position)
                #expect(address.conditionPosition >= 0 && address.conditionPosition < shape.conditions)
                #expect(address.sampleIndex >= 0 && address.sampleIndex < shape.perCondition)
                #expect(plan.samplePosition(of: address) == position)
                addresses.insert(address)
            }
        }
        #expect(covered.allSatisfy { $0 == 1 })
        #expect(addresses.count == plan.sampleCount, "no (condition, sample index) repeats")
    }

    @Test func lastShardIsCutByLimit() throws {
        let plan = try SamplingPlan(conditionCount: 1_000, limit: 250, shardSize: 100, seed: 1)
        #expect(plan.shardCount == 3)
        #expect(plan.shard(2, runID: "r") == ShardDescriptor(runID: "r", shard: 2, start: 200, count: 50))
    }

    @Test func samplesOfAConditionAreConsecutive() throws {
        let plan = try SamplingPlan(conditionCount: 50, samplesPerCondition: 3, shardSize: 10, seed: 9)
        let addresses = (0..<6).map(plan.address(ofSample:))
        #expect(addresses.map(\.sampleIndex) == [0, 1, 2, 0, 1, 2])
        #expect(addresses[0].conditionPosition == addresses[2].conditionPosition)
        #expect(addresses[3].conditionPosition != addresses[0].conditionPosition)
        #expect(plan.sampledConditionCount == 50)
    }

    @Test func limitCountsSamplesNotConditions() throws {
        let plan = try SamplingPlan(conditionCount: 100, samplesPerCondition: 4, limit: 10, shardSize: 4, seed: 0)
        #expect(plan.sampleCount == 10)
        #expect(plan.sampledConditionCount == 3)
        #expect(plan.shardCount == 3)
    }

    @Test func sameSeedSameRunDifferentSeedDifferentRun() throws {
        let first = try SamplingPlan(conditionCount: 1_000_000, limit: 100, shardSize: 10, seed: 3)
        let again = try SamplingPlan(conditionCount: 1_000_000, limit: 100, shardSize: 10, seed: 3)
        let other = try SamplingPlan(conditionCount: 1_000_000, limit: 100, shardSize: 10, seed: 4)
        let positions = Array(0..<100)
        #expect(positions.map(first.address(ofSample:)) == positions.map(again.address(ofSample:)))
        #expect(positions.map(first.address(ofSample:)) != positions.map(other.address(ofSample:)))
    }

    @Test func invalidShapesAreErrors() {
        #expect(throws: ConditionSpaceError.self) { try SamplingPlan(conditionCount: 10, limit: 11, shardSize: 1, seed: 0) }
        #expect(throws: ConditionSpaceError.self) { try SamplingPlan(conditionCount: 10, limit: 0, shardSize: 1, seed: 0) }
        #expect(throws: ConditionSpaceError.self) { try SamplingPlan(conditionCount: 10, shardSize: 0, seed: 0) }
        #expect(throws: ConditionSpaceError.self) { try SamplingPlan(conditionCount: 10, samplesPerCondition: 0, shardSize: 1, seed: 0) }
        do {
            _ = try SamplingPlan(conditionCount: Int.max / 2, samplesPerCondition: 3, shardSize: 1, seed: 0)
            Issue.record("expected overflow")
        } catch {
            #expect(error.code == .overflow)
        }
    }

    @Test func shardDescriptorIsCompactJSON() throws {
        let shard = ShardDescriptor(runID: "math-2024", shard: 12, start: 1_200, count: 100)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(shard)
        #expect(String(decoding: data, as: UTF8.self) == #"{"count":100,"run":"math-2024","shard":12,"start":1200}"#)
        #expect(try JSONDecoder().decode(ShardDescriptor.self, from: data) == shard)
    }

    /// A 10^4 prefix of a 10^9-condition space hits every axis value about
    /// equally often: Pearson's chi-square per axis stays below df + 6·sqrt(2·df)
    /// (about 6 standard deviations above its mean; deterministic for fixed seeds).
    @Test(arguments: [UInt64(1), 2, 20_240_601])
    func prefixesAreUniformPerAxis(seed: UInt64) throws {
        let radices = [1_000, 10, 100, 1_000]
        let radix = try MixedRadix(radices: radices)
        #expect(radix.count == 1_000_000_000)
        let plan = try SamplingPlan(conditionCount: radix.count, limit: 10_000, shardSize: 1_000, seed: seed)
        var counts = radices.map { [Int](repeating: 0, count: $0) }
        for position in 0..<plan.sampleCount {
            let digits = radix.digits(of: plan.address(ofSample: position).conditionPosition)
            for axis in radices.indices { counts[axis][digits[axis]] += 1 }
        }
        for (axis, radixSize) in radices.enumerated() {
            let expected = Double(plan.sampleCount) / Double(radixSize)
            let chiSquare = counts[axis].reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
            let degrees = Double(radixSize - 1)
            #expect(chiSquare < degrees + 6 * (2 * degrees).squareRoot(), "axis \(axis): chi-square \(chiSquare) with \(degrees) df")
        }
    }

    @Test func conditionSpaceDecodesValues() async throws {
        let space = try ConditionSpace(axes: [
            .init(name: "persona", source: InMemoryAxisValueSource([AxisValue("a"), AxisValue("b")])),
            .init(name: "topic", source: InMemoryAxisValueSource([AxisValue("x"), AxisValue("y"), AxisValue("z")])),
        ])
        #expect(space.count == 6)
        let conditions = try await space.conditions(at: [0, 5, 4])
        #expect(conditions.map { $0["persona"]!.text + $0["topic"]!.text } == ["ax", "bz", "by"])
    }

    @Test func conditionSpaceOverflowNamesTheAxes() {
        let big = PlaceholderAxisValueSource(axis: "p", table: PostgresAxisSource(table: "t", column: "c"), count: 1 << 40)
        do {
            _ = try ConditionSpace(axes: [.init(name: "p", source: big), .init(name: "q", source: big)])
            Issue.record("expected overflow")
        } catch {
            #expect(error.code == .overflow)
            #expect(error.message.contains("p (1099511627776) × q (1099511627776)"))
        }
    }
}
