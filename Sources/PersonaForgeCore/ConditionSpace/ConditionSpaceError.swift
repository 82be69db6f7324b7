/// A problem with the shape of a condition space or its sampling plan.
public struct ConditionSpaceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, for programmatic handling.
    public enum Code: String, Sendable, Hashable, Codable {
        /// The product of the axis sizes (or the sample count) exceeds 2^63 − 1.
        case overflow
        /// An axis has no values.
        case emptyAxis
        /// `limit` is not in `1...space size`.
        case invalidLimit
        /// `shard_size` or `samples_per_condition` is not positive.
        case invalidSize
    }

    /// What went wrong.
    public let code: Code
    /// What happened and what to do about it.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
