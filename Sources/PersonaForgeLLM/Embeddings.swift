import Foundation

/// The body of `POST /v1/embeddings`: one vector per input text.
public struct EmbeddingRequest: Sendable, Equatable {
    public var model: String
    public var inputs: [String]

    public init(model: String, inputs: [String]) {
        self.model = model
        self.inputs = inputs
    }

    /// The request as JSON bytes (`encoding_format` is always `float`).
    public func encoded() throws -> [UInt8] {
        let object: [String: Any] = ["model": model, "input": inputs, "encoding_format": "float"]
        return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }
}

/// A parsed embeddings response: the vectors in input order.
public struct EmbeddingResponse: Sendable, Equatable {
    public var model: String?
    /// One vector per input, ordered by the response's `index` fields.
    public var vectors: [[Double]]
    public var promptTokens: Int?

    /// Parses a response body for `expectedCount` inputs; anything else throws
    /// ``LLMError`` with code ``LLMError/Code/invalidResponse`` and a short excerpt.
    public static func decode(_ body: [UInt8], expectedCount: Int) throws(LLMError) -> EmbeddingResponse {
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
                throw LLMError(.invalidResponse, "embeddings response is JSON but not an object: \(LLMError.excerpt(body))")
            }
            object = parsed
        } catch let error as LLMError {
            throw error
        } catch {
            throw LLMError(.invalidResponse, "embeddings response is not JSON: \(LLMError.excerpt(body))")
        }
        guard let data = object["data"] as? [[String: Any]] else {
            throw LLMError(.invalidResponse, "embeddings response has no 'data' array: \(LLMError.excerpt(body))")
        }
        guard data.count == expectedCount else {
            throw LLMError(.invalidResponse, "embeddings response has \(data.count) vectors for \(expectedCount) inputs: \(LLMError.excerpt(body))")
        }
        var vectors = [[Double]?](repeating: nil, count: expectedCount)
        for (position, item) in data.enumerated() {
            let index = (item["index"] as? Int) ?? position
            guard index >= 0, index < expectedCount, vectors[index] == nil else {
                throw LLMError(.invalidResponse, "embeddings response item \(position) has index \(index), out of range or repeated")
            }
            guard let raw = item["embedding"] as? [Any], !raw.isEmpty else {
                throw LLMError(.invalidResponse, "embeddings response item \(position) has no 'embedding' array of numbers (base64 encoding is not supported): \(LLMError.excerpt(body))")
            }
            var vector: [Double] = []
            vector.reserveCapacity(raw.count)
            for value in raw {
                guard let number = value as? NSNumber, !(value is Bool), number.doubleValue.isFinite else {
                    throw LLMError(.invalidResponse, "embeddings response item \(position) holds a value that is not a finite number")
                }
                vector.append(number.doubleValue)
            }
            vectors[index] = vector
        }
        let usage = object["usage"] as? [String: Any]
        return EmbeddingResponse(
            model: object["model"] as? String, vectors: vectors.map { $0 ?? [] },
            promptTokens: usage?["prompt_tokens"] as? Int
        )
    }
}
