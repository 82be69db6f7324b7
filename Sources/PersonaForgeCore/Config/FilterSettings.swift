/// Local filters a worker applies to each step's final output (`filters:`).
/// Parsed and validated here; applied by the worker.
public struct FilterSettings: Sendable, Hashable {
    /// Minimum characters (default 1).
    public var minCharacters: Int
    /// Maximum characters (default none).
    public var maxCharacters: Int?
    /// Minimum words (default none).
    public var minWords: Int?
    /// Maximum words (default none).
    public var maxWords: Int?
    /// Reject refusals/apologies ("I'm sorry, but I can't…") (default true).
    public var rejectRefusals: Bool
    /// Reject when the share of repeated word n-grams exceeds this (default 0.5; nil disables).
    public var maxRepeatedNgramRatio: Double?
    /// n for the repetition check (default 3).
    public var repetitionNgram: Int
    /// Regular expressions the output must all match.
    public var requiredPatterns: [String]
    /// Regular expressions the output must not match.
    public var forbiddenPatterns: [String]
    /// `finish_reason` values that reject (default `length`, `content_filter`).
    public var rejectFinishReasons: [String]

    /// Creates settings with the documented defaults.
    public init(
        minCharacters: Int = 1,
        maxCharacters: Int? = nil,
        minWords: Int? = nil,
        maxWords: Int? = nil,
        rejectRefusals: Bool = true,
        maxRepeatedNgramRatio: Double? = 0.5,
        repetitionNgram: Int = 3,
        requiredPatterns: [String] = [],
        forbiddenPatterns: [String] = [],
        rejectFinishReasons: [String] = ["length", "content_filter"]
    ) {
        self.minCharacters = minCharacters
        self.maxCharacters = maxCharacters
        self.minWords = minWords
        self.maxWords = maxWords
        self.rejectRefusals = rejectRefusals
        self.maxRepeatedNgramRatio = maxRepeatedNgramRatio
        self.repetitionNgram = repetitionNgram
        self.requiredPatterns = requiredPatterns
        self.forbiddenPatterns = forbiddenPatterns
        self.rejectFinishReasons = rejectFinishReasons
    }
}
