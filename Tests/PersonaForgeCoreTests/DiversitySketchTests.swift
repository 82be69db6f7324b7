import Testing
@testable import PersonaForgeCore

@Suite("HyperLogLog and the sampled frequency table")
struct DiversitySketchTests {
    @Test(arguments: [12, 14, 16])
    func hyperLogLogIsWithinThreeSigmaOnOneHundredThousandItems(precision: Int) {
        var sketch = HyperLogLog(precision: precision)
        for value in 0..<100_000 as Range<UInt64> {
            sketch.insert(hash: PortableHash.mix(value))
            sketch.insert(hash: PortableHash.mix(value)) // duplicates change nothing
        }
        let relative = abs(sketch.estimate / 100_000 - 1)
        #expect(relative < 3 * sketch.relativeStandardError, "relative error \(relative)")
    }

    @Test func hyperLogLogIsNearlyExactForSmallCardinalities() {
        var sketch = HyperLogLog()
        for value in 0..<100 as Range<UInt64> { sketch.insert(hash: PortableHash.mix(value)) }
        #expect(abs(sketch.estimate - 100) < 1)
        #expect(HyperLogLog().estimate == 0)
    }

    @Test func hyperLogLogMergeEqualsTheSketchOfTheUnion() {
        var left = HyperLogLog(precision: 10)
        var right = HyperLogLog(precision: 10)
        var union = HyperLogLog(precision: 10)
        for value in 0..<5_000 as Range<UInt64> {
            let hash = PortableHash.mix(value)
            if value % 3 == 0 { left.insert(hash: hash) } else { right.insert(hash: hash) }
            union.insert(hash: hash)
        }
        left.merge(right)
        #expect(left == union)
    }

    @Test func tableIsExactBelowCapacity() {
        var table = SampledFrequencyTable(capacity: 100)
        for value in 0..<1_000 as Range<UInt64> { table.add(PortableHash.mix(value % 50)) }
        #expect(table.isExact)
        #expect(table.trackedCount == 50)
        #expect(table.count(of: PortableHash.mix(7)) == 20)
        #expect(table.estimatedSum { Double($0) } == 1_000)
    }

    @Test func sampledTableEstimatesSumsWithinTheirError() {
        // 100,000 types, type i occurring (i % 10) + 1 times: Σ counts = 550,000.
        var table = SampledFrequencyTable(capacity: 8_192)
        for type in 0..<100_000 as Range<UInt64> {
            table.add(PortableHash.mix(type), occurrences: Int(type % 10) + 1)
        }
        #expect(!table.isExact)
        #expect(table.trackedCount <= 8_192 + table.pinCapacity)
        let estimate = table.estimatedSum { Double($0) }
        // ~8,000 sampled types of counts 1...10: relative standard error ≈ 1.2 %.
        #expect(abs(estimate / 550_000 - 1) < 0.04, "estimate \(estimate)")
        #expect(abs(table.estimatedSum { _ in 1 } / 100_000 - 1) < 0.04)
    }

    @Test func pinnedHeavyHittersKeepExactCounts() {
        var table = SampledFrequencyTable(capacity: 64, pinCapacity: 4)
        let heavy = PortableHash.mix(999_999)
        table.add(heavy, occurrences: 1_000)
        for type in 0..<10_000 as Range<UInt64> { table.add(PortableHash.mix(type)) }
        table.add(heavy)
        #expect(table.count(of: heavy) == 1_001)
        #expect(table.weight(of: heavy) == 1)
    }

    @Test func mergingExactTablesIsExact() {
        var left = SampledFrequencyTable(capacity: 1_000)
        var right = SampledFrequencyTable(capacity: 1_000)
        for type in 0..<300 as Range<UInt64> { left.add(type &* 7919) }
        for type in 200..<500 as Range<UInt64> { right.add(type &* 7919) }
        left.merge(right)
        #expect(left.isExact)
        #expect(left.trackedCount == 500)
        #expect(left.count(of: 250 &* 7919) == 2)
    }
}
