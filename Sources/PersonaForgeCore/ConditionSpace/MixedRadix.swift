/// Mixed-radix numbering: turns a position in a Cartesian product into one
/// digit per factor and back, without materializing the product.
///
/// Digit 0 is the most significant; the last digit varies fastest, as in
/// nested loops over the axes in declaration order.
public struct MixedRadix: Sendable, Hashable, Codable {
    /// The size of each factor, most significant first.
    public let radices: [Int]
    /// The product of all radices (1 for no radices).
    public let count: Int

    /// Creates a numbering; throws ``ConditionSpaceError`` with code `overflow`
    /// if the product exceeds `Int.max` (2^63 − 1), or `emptyAxis` if a radix is not positive.
    public init(radices: [Int]) throws(ConditionSpaceError) {
        var product = 1
        for (offset, radix) in radices.enumerated() {
            guard radix > 0 else {
                throw ConditionSpaceError(.emptyAxis, "factor \(offset) has \(radix) values; every axis needs at least one value")
            }
            let (next, overflow) = product.multipliedReportingOverflow(by: radix)
            guard !overflow else {
                throw ConditionSpaceError(
                    .overflow,
                    "the product of the axis sizes \(radices.map(String.init).joined(separator: " × ")) exceeds 2^63 − 1 (\(Int.max)); drop or shrink an axis"
                )
            }
            product = next
        }
        self.radices = radices
        self.count = product
    }

    /// The digits of `position`, one per radix. `position` must be in `[0, count)`.
    public func digits(of position: Int) -> [Int] {
        precondition(position >= 0 && position < count, "MixedRadix: position \(position) out of range [0, \(count))")
        var digits = [Int](repeating: 0, count: radices.count)
        var rest = position
        for axis in radices.indices.reversed() {
            let (quotient, remainder) = rest.quotientAndRemainder(dividingBy: radices[axis])
            digits[axis] = remainder
            rest = quotient
        }
        return digits
    }

    /// The position whose digits are `digits`; the inverse of ``digits(of:)``.
    public func position(of digits: [Int]) -> Int {
        precondition(digits.count == radices.count, "MixedRadix: expected \(radices.count) digits, got \(digits.count)")
        var position = 0
        for (digit, radix) in zip(digits, radices) {
            precondition(digit >= 0 && digit < radix, "MixedRadix: digit \(digit) out of range [0, \(radix))")
            position = position * radix + digit
        }
        return position
    }
}
