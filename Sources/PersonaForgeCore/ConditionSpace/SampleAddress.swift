/// Where a sample comes from: a condition and which of its samples it is.
///
/// `(run, conditionPosition, sampleIndex)` is the deterministic key of a record.
public struct SampleAddress: Sendable, Hashable, Codable {
    /// The position of the condition in the (unpermuted) condition space.
    public var conditionPosition: Int
    /// Which of the condition's `samples_per_condition` samples, from 0.
    public var sampleIndex: Int

    /// Creates an address.
    public init(conditionPosition: Int, sampleIndex: Int) {
        self.conditionPosition = conditionPosition
        self.sampleIndex = sampleIndex
    }
}
