/// The outcome of one sample, as a worker produces it and the reducer stores it.
///
/// Its key, (run, condition position, sample index), is deterministic, so a shard
/// processed twice yields the same keys and the store keeps one row per key.
public struct GeneratedRecord: Sendable, Hashable, Codable {
    /// How a sample ended.
    public enum Status: String, Sendable, Hashable, Codable {
        case kept
        case filtered
        case failed
        case duplicate
    }

    /// One step's output and cost, for provenance.
    public struct Step: Sendable, Hashable, Codable {
        public var name: String
        public var text: String
        public var finishReason: String?
        public var promptTokens: Int?
        public var completionTokens: Int?

        public init(name: String, text: String, finishReason: String?, promptTokens: Int?, completionTokens: Int?) {
            self.name = name
            self.text = text
            self.finishReason = finishReason
            self.promptTokens = promptTokens
            self.completionTokens = completionTokens
        }

        private enum CodingKeys: String, CodingKey {
            case name, text
            case finishReason = "finish_reason"
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
        }
    }

    public var samplePosition: Int
    public var conditionPosition: Int
    public var sampleIndex: Int
    /// The condition: axis name → (value index, value).
    public var condition: [NamedAxisValue]
    /// Hash of the rendered prompts (all steps), for provenance and cache keys.
    public var promptHash: String
    /// The final step's text (what dedup, metrics and export use).
    public var text: String
    public var steps: [Step]
    public var model: String
    /// Sampling parameters sent (temperature, top_p, max_tokens, seed).
    public var sampling: [String: Double]
    public var finishReason: String?
    public var promptTokens: Int
    public var completionTokens: Int
    public var status: Status
    /// For filtered records the reject reason; for failed ones the failure class.
    public var reason: String?
    public var detail: String?
    /// MinHash signature bytes of `text` (kept records, when dedup is on).
    public var signature: [UInt8]?
    public var latencyMilliseconds: Int
    /// What the record's LLM calls cost at the endpoints' prices; nil when they have none.
    public var cost: Double?

    public init(
        samplePosition: Int, conditionPosition: Int, sampleIndex: Int, condition: [NamedAxisValue], promptHash: String,
        text: String, steps: [Step], model: String, sampling: [String: Double], finishReason: String?,
        promptTokens: Int, completionTokens: Int, status: Status, reason: String?, detail: String?,
        signature: [UInt8]? = nil, latencyMilliseconds: Int, cost: Double? = nil
    ) {
        self.cost = cost
        self.samplePosition = samplePosition
        self.conditionPosition = conditionPosition
        self.sampleIndex = sampleIndex
        self.condition = condition
        self.promptHash = promptHash
        self.text = text
        self.steps = steps
        self.model = model
        self.sampling = sampling
        self.finishReason = finishReason
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.status = status
        self.reason = reason
        self.detail = detail
        self.signature = signature
        self.latencyMilliseconds = latencyMilliseconds
    }

    private enum CodingKeys: String, CodingKey {
        case samplePosition = "sample_position"
        case conditionPosition = "position"
        case sampleIndex = "sample"
        case condition
        case promptHash = "prompt_hash"
        case text, steps, model, sampling
        case finishReason = "finish_reason"
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case status, reason, detail, signature
        case latencyMilliseconds = "latency_ms"
        case cost
    }
}

/// Everything a worker produced for one shard: pushed as one message, stored in one
/// transaction.
public struct ResultBatch: Sendable, Hashable, Codable {
    public var shard: ShardDescriptor
    public var worker: String
    /// How many times the shard had been delivered when this batch was made.
    public var attempt: Int
    public var records: [GeneratedRecord]

    public init(shard: ShardDescriptor, worker: String, attempt: Int, records: [GeneratedRecord]) {
        self.shard = shard
        self.worker = worker
        self.attempt = attempt
        self.records = records
    }
}
