import ArgumentParser
import Foundation
import PersonaForgeCore
import PersonaForgeHTTP
import PersonaForgeLLM

/// `--embeddings` and its options, shared by `evaluate` and `metrics`: embedding
/// diversity (mean pairwise cosine distance, Vendi score) of a deterministic sample of
/// the texts, embedded by any OpenAI-compatible `/v1/embeddings` endpoint.
struct EmbeddingOptions: ParsableArguments {
    @Flag(help: "Also measure embedding diversity through an OpenAI-compatible /v1/embeddings endpoint.")
    var embeddings = false

    @Option(help: ArgumentHelp(
        "Base URL of the embeddings endpoint, ending in /v1.",
        discussion: "Env: PERSONAFORGE_EMBEDDING_BASE_URL; default: the LLM base URL (--llm-base-url / PERSONAFORGE_LLM_BASE_URL)."
    ))
    var embeddingBaseURL: String?

    @Option(help: ArgumentHelp(
        "Embedding model name.",
        discussion: "Env: PERSONAFORGE_EMBEDDING_MODEL; default: the LLM model. The API key is the LLM's (PERSONAFORGE_LLM_API_KEY or its file)."
    ))
    var embeddingModel: String?

    @Option(help: "Records embedded (a deterministic sample by content hash; O(n³) Vendi score, keep it to a few hundred).")
    var embeddingSample: Int = 200

    @Option(help: "Texts per /v1/embeddings request.")
    var embeddingBatch: Int = 16

    func validate() throws {
        guard embeddingSample >= 2 else { throw ValidationError("--embedding-sample must be at least 2 (diversity needs pairs)") }
        guard embeddingSample <= 2_000 else { throw ValidationError("--embedding-sample must be at most 2000 (the Vendi score is O(n³))") }
        guard embeddingBatch >= 1 else { throw ValidationError("--embedding-batch must be at least 1") }
    }

    /// The endpoint: these flags, then PERSONAFORGE_EMBEDDING_*, then the LLM connection options.
    func endpoint(connections: ConnectionOptions) throws -> LLMEndpoint {
        LLMEndpoint(
            baseURL: flagOrEnvironment(embeddingBaseURL, "PERSONAFORGE_EMBEDDING_BASE_URL")?.value ?? connections.llmBase.value,
            model: flagOrEnvironment(embeddingModel, "PERSONAFORGE_EMBEDDING_MODEL")?.value ?? connections.model.value,
            apiKey: try connections.apiKey()
        )
    }

    /// A fresh sampler for these options.
    func sampler() -> EmbeddingSampler { EmbeddingSampler(capacity: embeddingSample) }

    /// Adds the embedding metrics of `sampler`'s sample to `metrics` when an endpoint is
    /// given; a failing endpoint is reported on standard error and exits 1.
    func addMeasurement(of sampler: EmbeddingSampler, via endpoint: LLMEndpoint?, to metrics: inout DiversityMetrics) async throws {
        guard let endpoint else { return }
        do {
            for (name, value) in try await sampler.measure(endpoint: endpoint, batchSize: embeddingBatch) {
                metrics[name] = value
            }
        } catch {
            FileHandle.standardError.write(Data("error: embedding diversity via \(endpoint): \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// The deterministic record sample embedding diversity is measured on: the
/// `capacity` texts with the smallest content hashes (independent of order, so the
/// same records give the same sample however they are read). Empty texts are skipped.
struct EmbeddingSampler {
    private(set) var sample: BottomKSample<String>

    init(capacity: Int) { sample = BottomKSample(capacity: capacity) }

    mutating func offer(_ text: String) {
        guard !text.isEmpty else { return }
        sample.offer(key: PortableHash.combine(0x656D_6265_6464_696E, TextHash.hash(text))) { text }
    }

    /// Embeds the sample and returns the embedding metrics.
    func measure(endpoint: LLMEndpoint, batchSize: Int) async throws -> [String: Double] {
        let texts = sample.entries.sorted { $0.key < $1.key }.map(\.element)
        let http = HTTPClient()
        defer { http.shutdown() }
        let client = LLMClient(endpoint: endpoint, http: http)
        var vectors: [[Double]] = []
        var start = 0
        while start < texts.count {
            let batch = Array(texts[start..<min(texts.count, start + batchSize)])
            vectors += try await client.embeddings(EmbeddingRequest(model: endpoint.model, inputs: batch)).vectors
            start += batch.count
        }
        return [
            "embedding_sample_size": Double(vectors.count),
            "embedding_dimensions": Double(vectors.first?.count ?? 0),
            "embedding_mean_cosine_distance": try EmbeddingDiversity.meanPairwiseCosineDistance(vectors),
            "embedding_vendi_score": try EmbeddingDiversity.vendiScore(vectors),
        ]
    }
}
