/// The seam between the condition space and wherever an axis keeps its values.
///
/// Inline lists and files are loaded into an ``InMemoryAxisValueSource``.
/// Axes too big for memory (`source: {postgres: ...}`) are served by an
/// implementation in `PersonaForgeStore` that fetches rows by index for a
/// shard; the pure core never talks to a database. An implementation must be
/// deterministic: index `i` always yields the same value for the life of a run
/// (for PostgreSQL: the `i`-th row in `order_by` order, or `id_column = i`).
public protocol AxisValueSource: Sendable {
    /// Number of values; the axis's radix in the condition space.
    var count: Int { get }

    /// The values at `indices` (each in `[0, count)`), in the same order,
    /// duplicates allowed. Called once per axis per shard, so an implementation
    /// can batch its fetch.
    func values(at indices: [Int]) async throws -> [AxisValue]
}

/// An axis whose values are held in memory: inline lists and axis files.
public struct InMemoryAxisValueSource: AxisValueSource, Hashable {
    /// The values, in index order.
    public let values: [AxisValue]

    /// Creates a source over `values`.
    public init(_ values: [AxisValue]) {
        self.values = values
    }

    public var count: Int { values.count }

    public func values(at indices: [Int]) async throws -> [AxisValue] {
        indices.map { values[$0] }
    }
}
