/// A run config with its files read and every cross-check passed: what
/// `plan`, `submit` and workers build the condition space and prompts from.
public struct LoadedRun: Sendable {
    /// The parsed config.
    public let config: RunConfig
    /// The axes, in order.
    public let axes: [LoadedAxis]
    /// The compiled prompts.
    public let renderer: PromptRenderer

    /// Creates a loaded run (normally via ``RunConfigLoader``).
    public init(config: RunConfig, axes: [LoadedAxis], renderer: PromptRenderer) {
        self.config = config
        self.axes = axes
        self.renderer = renderer
    }

    /// The number of conditions if every axis size is known without a database, else nil.
    /// Overflow was already rejected at load.
    public var knownConditionCount: Int? {
        let counts = axes.compactMap(\.count)
        guard counts.count == axes.count else { return nil }
        return try? MixedRadix(radices: counts).count
    }

    /// The condition space. PostgreSQL axes are served by `postgresSources[axis name]`
    /// (from `PersonaForgeStore`); missing ones fall back to a
    /// ``PlaceholderAxisValueSource`` when the config gives `count`, else this throws.
    public func conditionSpace(postgresSources: [String: any AxisValueSource] = [:]) throws(ConditionSpaceError) -> ConditionSpace {
        var result: [ConditionSpace.Axis] = []
        for axis in axes {
            if let values = axis.values {
                result.append(.init(name: axis.name, source: values))
            } else if let source = postgresSources[axis.name] {
                result.append(.init(name: axis.name, source: source))
            } else if case .postgres(let table) = axis.config.source, let count = table.count {
                result.append(.init(name: axis.name, source: PlaceholderAxisValueSource(axis: axis.name, table: table, count: count)))
            } else {
                throw ConditionSpaceError(.emptyAxis, "axis '\(axis.name)' is a PostgreSQL table whose size is only known with a database; give 'count:' in its postgres source to plan without one")
            }
        }
        return try ConditionSpace(axes: result)
    }

    /// The sampling plan over a space of `conditionCount` conditions.
    public func samplingPlan(conditionCount: Int) throws(ConditionSpaceError) -> SamplingPlan {
        try SamplingPlan(
            conditionCount: conditionCount,
            samplesPerCondition: config.samplesPerCondition,
            limit: config.limit,
            shardSize: config.shardSize,
            seed: config.seed
        )
    }

    /// Renders the samples at `positions` with placeholder outputs for earlier steps (for `plan`).
    public func previewSamples(at positions: [Int], space: ConditionSpace, plan: SamplingPlan) async throws -> [RenderedSample] {
        let addresses = positions.map(plan.address(ofSample:))
        let conditions = try await space.conditions(at: addresses.map(\.conditionPosition))
        return zip(positions, zip(addresses, conditions)).map { position, pair in
            let (address, condition) = pair
            let digits = space.indices(ofCondition: address.conditionPosition)
            let named = space.axes.enumerated().map { offset, axis in
                NamedAxisValue(axis: axis.name, index: digits[offset], value: condition[axis.name]!)
            }
            return RenderedSample(
                samplePosition: position,
                address: address,
                condition: named,
                prompts: renderer.previewPrompts(condition: condition, address: address)
            )
        }
    }
}
