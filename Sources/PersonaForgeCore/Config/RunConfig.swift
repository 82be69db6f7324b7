/// A validated run config: everything `personaforge` needs to plan and run a
/// generation run. Produced by ``RunConfigParser``; files it names are read by
/// ``RunConfigLoader``. Every key is documented in `docs/config.md`.
public struct RunConfig: Sendable, Hashable {
    /// Run name: letters, digits, `-`, `_`, `.`.
    public var name: String
    /// Free text for humans.
    public var description: String?
    /// Seed of the sampling permutation and of demonstration draws.
    public var seed: UInt64
    /// Samples generated per condition (default 1).
    public var samplesPerCondition: Int
    /// Samples (records) to generate; nil means the whole sample space.
    public var limit: Int?
    /// Sample positions per shard (default 100).
    public var shardSize: Int
    /// The axes, in declaration order (first is most significant).
    public var axes: [AxisConfig]
    /// LLM endpoint and sampling settings.
    public var model: ModelSettings
    /// In-context demonstrations, if any.
    public var demonstrations: DemonstrationSettings?
    /// Generation steps, run in order for each sample.
    public var steps: [StepConfig]
    /// Local filters applied by workers.
    public var filters: FilterSettings
    /// Global near-duplicate removal.
    public var dedup: DedupSettings
    /// Stopping rules: target kept records, token and cost budgets.
    public var budget: BudgetSettings
    /// The path of the config file (for messages).
    public var file: String
    /// Line of each top-level key in the config file (for messages).
    public var lines: [String: Int]

    /// Creates a config (normally via ``RunConfigParser``).
    public init(
        name: String,
        description: String? = nil,
        seed: UInt64 = 0,
        samplesPerCondition: Int = 1,
        limit: Int? = nil,
        shardSize: Int = 100,
        axes: [AxisConfig],
        model: ModelSettings = ModelSettings(),
        demonstrations: DemonstrationSettings? = nil,
        steps: [StepConfig],
        filters: FilterSettings = FilterSettings(),
        dedup: DedupSettings = DedupSettings(),
        budget: BudgetSettings = BudgetSettings(),
        file: String = "run.yaml",
        lines: [String: Int] = [:]
    ) {
        self.name = name
        self.description = description
        self.seed = seed
        self.samplesPerCondition = samplesPerCondition
        self.limit = limit
        self.shardSize = shardSize
        self.axes = axes
        self.model = model
        self.demonstrations = demonstrations
        self.steps = steps
        self.filters = filters
        self.dedup = dedup
        self.budget = budget
        self.file = file
        self.lines = lines
    }
}
