import Testing
@testable import PersonaForgeCore

@Suite("AIMD concurrency")
struct ResilienceAIMDConcurrencyTests {
    @Test func initClampsArguments() {
        #expect(AIMDConcurrency(initial: 0, minimum: 2, maximum: 10).limit == 2)
        #expect(AIMDConcurrency(initial: 100, maximum: 10).limit == 10)
        let odd = AIMDConcurrency(initial: 5, minimum: 0, maximum: -3, increaseEvery: 0)
        #expect(odd.minimum == 1)
        #expect(odd.maximum == 1)
        #expect(odd.limit == 1)
        #expect(odd.increaseEvery == 1)
    }

    @Test func fixedIncreaseCadence() {
        var aimd = AIMDConcurrency(initial: 4, maximum: 100, increaseEvery: 3)
        aimd.recordSuccess()
        aimd.recordSuccess()
        #expect(aimd.limit == 4)
        aimd.recordSuccess()
        #expect(aimd.limit == 5)
        for _ in 0..<2 { aimd.recordSuccess() }
        #expect(aimd.limit == 5)
        aimd.recordSuccess()
        #expect(aimd.limit == 6)
    }

    @Test func defaultWindowIsTheCurrentLimit() {
        var aimd = AIMDConcurrency(initial: 4, maximum: 100)
        #expect(aimd.increaseWindow == 4)
        for _ in 0..<3 { aimd.recordSuccess() }
        #expect(aimd.limit == 4)
        aimd.recordSuccess()
        #expect(aimd.limit == 5)
        // Now five are needed.
        for _ in 0..<4 { aimd.recordSuccess() }
        #expect(aimd.limit == 5)
        aimd.recordSuccess()
        #expect(aimd.limit == 6)
    }

    @Test func otherFailuresBreakTheStreakButKeepTheLimit() {
        var aimd = AIMDConcurrency(initial: 4, maximum: 100, increaseEvery: 3)
        aimd.recordSuccess()
        aimd.recordSuccess()
        aimd.recordFailure()
        aimd.recordSuccess()
        aimd.recordSuccess()
        #expect(aimd.limit == 4)
        aimd.recordSuccess()
        #expect(aimd.limit == 5)
    }

    @Test func ceilingAtMaximum() {
        var aimd = AIMDConcurrency(initial: 7, maximum: 8, increaseEvery: 1)
        for _ in 0..<50 { aimd.recordSuccess() }
        #expect(aimd.limit == 8)
    }

    @Test(arguments: [(16, 8), (7, 3), (2, 1), (1, 1)])
    func overloadHalves(initial: Int, halved: Int) {
        var aimd = AIMDConcurrency(initial: initial, maximum: 64)
        let decreased = aimd.recordOverload()
        #expect(decreased)
        #expect(aimd.limit == halved)
    }

    @Test func floorAtMinimum() {
        var aimd = AIMDConcurrency(initial: 3, minimum: 2, maximum: 64)
        aimd.recordOverload()
        #expect(aimd.limit == 2)
        // After the cooldown (limit before − 1 = 2 completions), another overload would halve but the floor holds.
        aimd.recordFailure()
        aimd.recordFailure()
        #expect(!aimd.isCoolingDown)
        let decreased = aimd.recordOverload()
        #expect(decreased)
        #expect(aimd.limit == 2)
    }

    @Test func aBurstOfOverloadsHalvesOnce() {
        var aimd = AIMDConcurrency(initial: 16, maximum: 64)
        // 16 requests were in flight; all come back 429.
        var decreases = 0
        for _ in 0..<16 where aimd.recordOverload() { decreases += 1 }
        #expect(decreases == 1)
        #expect(aimd.limit == 8)
        #expect(!aimd.isCoolingDown)
        // The next overload comes from a request started under the new limit: that is news.
        let decreased = aimd.recordOverload()
        #expect(decreased)
        #expect(aimd.limit == 4)
    }

    @Test func cooldownCountsEveryKindOfCompletion() {
        var aimd = AIMDConcurrency(initial: 8, maximum: 64)
        aimd.recordOverload()
        #expect(aimd.limit == 4)
        #expect(aimd.cooldownRemaining == 7)
        for _ in 0..<3 { aimd.recordSuccess() }
        for _ in 0..<2 { aimd.recordFailure() }
        let ignored = !aimd.recordOverload()
        #expect(ignored)
        #expect(aimd.cooldownRemaining == 1)
        aimd.recordSuccess()
        #expect(!aimd.isCoolingDown)
        #expect(aimd.limit == 4)
        let decreased = aimd.recordOverload()
        #expect(decreased)
        #expect(aimd.limit == 2)
    }

    @Test func successesDuringCooldownDoNotIncrease() {
        var aimd = AIMDConcurrency(initial: 16, maximum: 64, increaseEvery: 1)
        aimd.recordOverload()
        for _ in 0..<15 { aimd.recordSuccess() }
        #expect(aimd.limit == 8)
        #expect(aimd.successStreak == 0)
        aimd.recordSuccess()
        #expect(aimd.limit == 9)
    }

    @Test func recoversAdditivelyAfterAHalving() {
        var aimd = AIMDConcurrency(initial: 16, maximum: 64)
        aimd.recordOverload()
        for _ in 0..<15 { aimd.recordSuccess() }  // cooldown
        for _ in 0..<8 { aimd.recordSuccess() }
        #expect(aimd.limit == 9)
        for _ in 0..<9 { aimd.recordSuccess() }
        #expect(aimd.limit == 10)
    }
}
