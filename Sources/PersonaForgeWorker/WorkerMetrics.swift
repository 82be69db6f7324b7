public import CoreMetrics
import PersonaForgeCore

/// The worker's and its LLM caller's metrics, created from an injected factory
/// (the executable passes its Prometheus factory; tests pass a test or no-op one).
///
/// Names follow Prometheus conventions; label values are bounded enums (outcome,
/// reject reason, failure class, HTTP status), never free text or secrets.
public struct WorkerMetrics: Sendable {
    let factory: any MetricsFactory
    /// Shards this worker holds right now (0 or 1).
    let shardsInFlight: Gauge
    /// Current adaptive limit of concurrent LLM requests (AIMD).
    let concurrencyLimit: Gauge
    /// One observation per HTTP request to the LLM (each attempt, retries included).
    let requestDuration: Timer
    let retries: Counter
    let promptTokens: Counter
    let completionTokens: Counter
    /// Result batches Redis refused to take (e.g. OOM at maxmemory); each is retried.
    let resultPushesRefused: Counter
    /// 1 while the worker takes no shard because the results stream is full.
    let waitingForReducers: Gauge
    /// Time a request waited for the fleet-wide rate limit (one observation per limited request).
    let rateLimitWait: Timer

    public init(factory: any MetricsFactory) {
        self.factory = factory
        shardsInFlight = Gauge(label: "personaforge_worker_shards_in_flight", factory: factory)
        concurrencyLimit = Gauge(label: "personaforge_worker_concurrency_limit", factory: factory)
        requestDuration = Timer(label: "personaforge_llm_request_duration_seconds", factory: factory)
        retries = Counter(label: "personaforge_llm_retries_total", factory: factory)
        promptTokens = Counter(label: "personaforge_llm_tokens_total", dimensions: [("kind", "prompt")], factory: factory)
        completionTokens = Counter(label: "personaforge_llm_tokens_total", dimensions: [("kind", "completion")], factory: factory)
        resultPushesRefused = Counter(label: "personaforge_worker_result_pushes_refused_total", factory: factory)
        waitingForReducers = Gauge(label: "personaforge_worker_waiting_for_reducers", factory: factory)
        rateLimitWait = Timer(label: "personaforge_llm_rate_limit_wait_seconds", factory: factory)
    }

    /// 1 while the endpoint takes requests, 0 while it is ejected. `endpoint` is a
    /// configured endpoint name (bounded by the run configs), never a URL with secrets.
    func endpointUp(_ endpoint: String, _ up: Bool) {
        Gauge(label: "personaforge_llm_endpoint_up", dimensions: [("endpoint", endpoint)], factory: factory).record(up ? 1 : 0)
    }

    func endpointEjected(_ endpoint: String) {
        Counter(label: "personaforge_llm_endpoint_ejections_total", dimensions: [("endpoint", endpoint)], factory: factory).increment()
    }

    /// One HTTP request to `endpoint`: `ok` or the failure class.
    func endpointRequest(_ endpoint: String, result: String) {
        Counter(label: "personaforge_llm_endpoint_requests_total", dimensions: [("endpoint", endpoint), ("result", result)], factory: factory).increment()
    }

    /// Records a shard's end: `done`, `released` (grace period over or error), `cancelled`, `dead_lettered`.
    func shardFinished(_ outcome: String) {
        Counter(label: "personaforge_worker_shards_total", dimensions: [("outcome", outcome)], factory: factory).increment()
    }

    /// Records produced by this worker (before global dedup), by status and reason.
    func recordProduced(status: String, reason: String?, count: Int = 1) {
        Counter(label: "personaforge_worker_records_total", dimensions: [("outcome", status), ("reason", reason ?? "none")], factory: factory)
            .increment(by: count)
    }

    /// A shard's records: one increment per status and reason, not one per record.
    func recordsProduced(_ records: [GeneratedRecord]) {
        var counts: [StatusAndReason: Int] = [:]
        for record in records { counts[StatusAndReason(status: record.status, reason: record.reason), default: 0] += 1 }
        for (key, count) in counts { recordProduced(status: key.status.rawValue, reason: key.reason, count: count) }
    }

    private struct StatusAndReason: Hashable {
        var status: GeneratedRecord.Status
        var reason: String?
    }

    /// One LLM HTTP request's result: `ok` or the failure class; 429 and 503 also count as overload.
    func requestFinished(result: String, status: Int?) {
        Counter(label: "personaforge_llm_requests_total", dimensions: [("result", result)], factory: factory).increment()
        if let status, status == 429 || status == 503 {
            Counter(label: "personaforge_llm_overload_responses_total", dimensions: [("status", String(status))], factory: factory).increment()
        }
    }
}
