/// Why a worker dropped a sample instead of keeping it.
///
/// The raw values are snake_case and stable: they are stored in PostgreSQL
/// (`records.reject_reason`) and shown by `personaforge status`. Never rename
/// one; add new cases instead.
public enum RejectReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// The output is empty or only whitespace.
    case emptyOutput = "empty_output"
    /// The LLM stopped because it hit `max_tokens` (`finish_reason: length`).
    case finishLength = "finish_length"
    /// The provider's content filter cut the output (`finish_reason: content_filter`).
    case finishContentFilter = "finish_content_filter"
    /// Another `finish_reason` listed in `filters.reject_finish_reasons`.
    case finishOther = "finish_other"
    /// Fewer characters than `filters.min_chars`.
    case tooShort = "too_short"
    /// More characters than `filters.max_chars`.
    case tooLong = "too_long"
    /// Fewer words than `filters.min_words`.
    case tooFewWords = "too_few_words"
    /// More words than `filters.max_words`.
    case tooManyWords = "too_many_words"
    /// The output opens with a refusal or apology ("I'm sorry, but I can't…").
    case refusal
    /// The share of repeated word n-grams exceeds `filters.max_repeated_ngram_ratio`.
    case repetition
    /// A pattern in `filters.required_patterns` does not match.
    case missingRequiredPattern = "missing_required_pattern"
    /// A pattern in `filters.forbidden_patterns` matches.
    case forbiddenPattern = "forbidden_pattern"
    /// A JSON step's output contains no parsable JSON.
    case invalidJSON = "invalid_json"
    /// A JSON step's output does not satisfy the step's `json_schema`.
    case schemaViolation = "schema_violation"
}
