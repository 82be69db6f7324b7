import Testing
@testable import PersonaForgeCore

@Suite("Mixed radix")
struct MixedRadixTests {
    @Test(arguments: [[1], [7], [3, 4], [2, 3, 5], [500, 12, 3], [1, 1, 9, 1]])
    func roundTripsEveryPosition(radices: [Int]) throws {
        let radix = try MixedRadix(radices: radices)
        #expect(radix.count == radices.reduce(1, *))
        for position in 0..<radix.count {
            let digits = radix.digits(of: position)
            #expect(zip(digits, radices).allSatisfy { $0 >= 0 && $0 < $1 })
            #expect(radix.position(of: digits) == position)
        }
    }

    @Test func lastDigitVariesFastest() throws {
        let radix = try MixedRadix(radices: [2, 3])
        #expect((0..<6).map(radix.digits(of:)) == [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]])
    }

    @Test func hugeSpaceRoundTripsAtEdges() throws {
        let radix = try MixedRadix(radices: [1_000_000_000, 1_000, 9_000])
        for position in [0, 1, 123_456_789_012_345, radix.count - 1] {
            #expect(radix.position(of: radix.digits(of: position)) == position)
        }
    }

    @Test func productAtLimitIsAccepted() throws {
        // 2^63 − 1 = 7^2 × 73 × 127 × 337 × 92737 × 649657
        let radix = try MixedRadix(radices: [49, 73, 127, 337, 92737, 649_657])
        #expect(radix.count == Int.max)
        #expect(radix.position(of: radix.digits(of: Int.max - 1)) == Int.max - 1)
    }

    @Test func overflowIsAnError() {
        #expect(throws: ConditionSpaceError.self) { try MixedRadix(radices: [1 << 32, 1 << 31]) }
        do {
            _ = try MixedRadix(radices: [3_000_000_000, 3_000_000_000, 2])
            Issue.record("expected overflow")
        } catch {
            #expect(error.code == .overflow)
            #expect(error.message.contains("2^63"))
        }
    }

    @Test func emptyAxisIsAnError() {
        #expect(throws: ConditionSpaceError(.emptyAxis, "factor 1 has 0 values; every axis needs at least one value")) {
            try MixedRadix(radices: [3, 0])
        }
    }
}
