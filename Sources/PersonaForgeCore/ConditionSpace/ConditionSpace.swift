/// The Cartesian product of a run's axes, never materialized.
///
/// A condition position decodes by mixed radix into one value index per axis
/// (first axis most significant); values are then fetched from each axis's
/// ``AxisValueSource`` in one batch per axis.
public struct ConditionSpace: Sendable {
    /// One axis: its name and where its values live.
    public struct Axis: Sendable {
        /// The axis name, used as the template variable.
        public let name: String
        /// The axis's values.
        public let source: any AxisValueSource

        /// Creates an axis.
        public init(name: String, source: any AxisValueSource) {
            self.name = name
            self.source = source
        }
    }

    /// The axes in declaration order.
    public let axes: [Axis]
    /// The numbering of conditions.
    public let radix: MixedRadix

    /// Creates the space; throws on an empty axis or if the product overflows `Int.max`.
    public init(axes: [Axis]) throws(ConditionSpaceError) {
        for axis in axes where axis.source.count <= 0 {
            throw ConditionSpaceError(.emptyAxis, "axis '\(axis.name)' has no values; give it at least one")
        }
        do {
            self.radix = try MixedRadix(radices: axes.map(\.source.count))
        } catch where error.code == .overflow {
            let sizes = axes.map { "\($0.name) (\($0.source.count))" }.joined(separator: " × ")
            throw ConditionSpaceError(.overflow, "the condition space \(sizes) has more than 2^63 − 1 conditions; drop or shrink an axis")
        }
        self.axes = axes
    }

    /// Number of conditions.
    public var count: Int { radix.count }

    /// The value index on each axis of the condition at `position`.
    public func indices(ofCondition position: Int) -> [Int] {
        radix.digits(of: position)
    }

    /// The axis values of the conditions at `positions`, one `[axis name: value]`
    /// per position, fetched with one ``AxisValueSource/values(at:)`` call per axis.
    public func conditions(at positions: [Int]) async throws -> [[String: AxisValue]] {
        let digits = positions.map(indices(ofCondition:))
        var result = [[String: AxisValue]](repeating: [:], count: positions.count)
        for (axisNumber, axis) in axes.enumerated() {
            let values = try await axis.source.values(at: digits.map { $0[axisNumber] })
            for (row, value) in values.enumerated() {
                result[row][axis.name] = value
            }
        }
        return result
    }
}
