public import PersonaForgeCore

/// One row of `runs`, without the config payloads.
public struct RunSummary: Sendable, Hashable {
    public var id: String
    public var name: String
    public var state: RunState
    public var configHash: String
    public var model: String?
    public var sampleCount: Int64
    public var shardSize: Int64
    public var shardCount: Int64
    public var nextShard: Int64
    public var shardsDone: Int64
    public var shardsDead: Int64
    public var generated: Int64
    public var kept: Int64
    public var filtered: Int64
    public var failed: Int64
    public var duplicate: Int64
    public var promptTokens: Int64
    public var completionTokens: Int64
    /// What the run's records cost at the endpoints' prices (0 without prices).
    public var cost: Double = 0
    /// The run's stopping rules.
    public var budget: BudgetSettings = BudgetSettings()
    /// The rule that stopped the run early (`target_kept`, `max_tokens`, `max_cost`), if one did.
    public var stopReason: String?
    public var createdAt: String
    public var startedAt: String?
    public var finishedAt: String?
    /// Seconds since the run started (or until it finished), from the database clock.
    public var elapsedSeconds: Double?

    /// Records stored so far (each sample ends in exactly one status).
    public var accounted: Int64 { kept + filtered + failed + duplicate }
}

extension RunSummary {
    /// Prompt + completion tokens per kept record; nil before a record is kept.
    public var tokensPerKept: Double? {
        kept > 0 ? Double(promptTokens + completionTokens) / Double(kept) : nil
    }

    /// Cost per kept record; nil without prices or kept records.
    public var costPerKept: Double? {
        kept > 0 && cost > 0 ? cost / Double(kept) : nil
    }

    /// The first `budget:` rule (`target_kept`, `max_tokens`, `max_cost`) the run's totals
    /// reach, counting `pendingSamples` more samples at the rates seen so far (kept
    /// records, tokens and cost per stored sample); nil when none is reached. The one
    /// place the rules are evaluated: the coordinator stops a run when its totals reach
    /// one, and stops queueing when the shards on their way are projected to.
    public func budgetRuleReached(projecting pendingSamples: Double = 0) -> String? {
        let done = Double(accounted)
        func projected(_ total: Double) -> Double { done > 0 ? total + total / done * pendingSamples : total }
        if let target = budget.targetKept, projected(Double(kept)) >= Double(target) { return "target_kept" }
        if let limit = budget.maxTokens, projected(Double(promptTokens + completionTokens)) >= Double(limit) { return "max_tokens" }
        if let limit = budget.maxCost, projected(cost) >= limit { return "max_cost" }
        return nil
    }

    /// `0.000675 (2.25e-05 per kept record)` (`gap` before the parenthesis); nil without a cost (no prices).
    public func costSummary(gap: String = " ") -> String? {
        guard cost > 0 else { return nil }
        return Self.money(cost) + (costPerKept.map { "\(gap)(\(Self.money($0)) per kept record)" } ?? "")
    }

    /// One line per `budget:` rule: its limit, what the run used, and whether it stopped
    /// the run, e.g. `target_kept 100: 104 kept — reached, no more shards queued`.
    public var budgetLines: [String] {
        func rule(_ name: String, _ limit: String, _ used: String) -> String {
            "\(name) \(limit): \(used)" + (stopReason == name ? " — reached, no more shards queued" : "")
        }
        var lines: [String] = []
        if let target = budget.targetKept { lines.append(rule("target_kept", String(target), "\(kept) kept")) }
        if let tokens = budget.maxTokens { lines.append(rule("max_tokens", String(tokens), "\(promptTokens + completionTokens) used")) }
        if let cost = budget.maxCost { lines.append(rule("max_cost", Self.money(cost), "\(Self.money(self.cost)) spent")) }
        return lines
    }

    /// A cost with enough digits for fractions of a cent per record.
    public static func money(_ value: Double) -> String {
        value == 0 ? "0" : value >= 100 ? String(format: "%.2f", value) : value >= 0.01 ? String(format: "%.4f", value) : String(format: "%.3g", value)
    }
}
