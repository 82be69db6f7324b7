/// The heuristic filters a worker applies to an LLM output (`filters:` in the run config).
///
/// Construct once per run (the regular expressions are compiled here), then
/// call ``verdict(text:finishReason:)`` for every output; it is pure and
/// cheap next to an LLM call. Checks run in this order and the first failure
/// wins, so a record carries exactly one reason:
///
/// 1. empty output (only whitespace) → ``RejectReason/emptyOutput``
/// 2. `finish_reason` listed in `reject_finish_reasons` → ``RejectReason/finishLength``,
///    ``RejectReason/finishContentFilter`` or ``RejectReason/finishOther``
/// 3. characters (`min_chars`, `max_chars`, counted as Swift `Character`s,
///    i.e. user-perceived characters) then words (`min_words`, `max_words`,
///    see ``WordTokenizer``)
/// 4. refusal opening (``RefusalDetector``), if `reject_refusals`
/// 5. repeated word n-gram ratio above `max_repeated_ngram_ratio` (``RepetitionMetric``)
/// 6. every `required_patterns` entry must match, then no `forbidden_patterns` entry may match
public struct LocalFilter: Sendable {
    /// The settings this filter applies.
    public let settings: FilterSettings
    private let required: [CompiledPattern]
    private let forbidden: [CompiledPattern]

    /// Compiles `settings`.
    /// - Throws: ``LocalFilterError`` if a pattern is not a valid regular expression.
    public init(settings: FilterSettings) throws(LocalFilterError) {
        self.settings = settings
        var required: [CompiledPattern] = []
        for pattern in settings.requiredPatterns {
            required.append(try CompiledPattern(pattern, setting: "required_patterns"))
        }
        var forbidden: [CompiledPattern] = []
        for pattern in settings.forbiddenPatterns {
            forbidden.append(try CompiledPattern(pattern, setting: "forbidden_patterns"))
        }
        self.required = required
        self.forbidden = forbidden
    }

    /// Whether to keep `text`, an LLM output that ended with `finishReason`
    /// (nil when the server did not say).
    public func verdict(text: String, finishReason: String?) -> FilterVerdict {
        completionVerdict(text: text, finishReason: finishReason) ?? contentVerdict(text: text)
    }

    /// Checks 1–2: is there an output, and did it end normally? nil if so.
    func completionVerdict(text: String, finishReason: String?) -> FilterVerdict? {
        if text.allSatisfy(\.isWhitespace) {
            return .reject(.emptyOutput, detail: "the output is empty")
        }
        if let finishReason, settings.rejectFinishReasons.contains(finishReason) {
            return .reject(Self.reason(forFinishReason: finishReason), detail: "finish_reason \(finishReason)")
        }
        return nil
    }

    /// Checks 3–6 on `text`; repetition is measured on `repetitionText`
    /// (default `text`; the string values for a JSON output, so repeated
    /// keys do not count as repetition).
    func contentVerdict(text: String, repetitionText: String? = nil) -> FilterVerdict {
        if let verdict = lengthVerdict(text) { return verdict }
        if settings.rejectRefusals, let phrase = RefusalDetector.matchedPhrase(in: text) {
            return .reject(.refusal, detail: "opens with a refusal: \"\(phrase)\"")
        }
        if let maximum = settings.maxRepeatedNgramRatio,
           let ratio = RepetitionMetric.repeatedNgramRatio(of: repetitionText ?? text, n: settings.repetitionNgram),
           ratio > maximum {
            return .reject(
                .repetition,
                detail: "repeated \(settings.repetitionNgram)-gram ratio \(Self.format(ratio)), maximum \(Self.format(maximum))"
            )
        }
        for pattern in required where !pattern.matches(text) {
            return .reject(.missingRequiredPattern, detail: "does not match required pattern '\(pattern.source)'")
        }
        for pattern in forbidden where pattern.matches(text) {
            return .reject(.forbiddenPattern, detail: "matches forbidden pattern '\(pattern.source)'")
        }
        return .keep
    }

    /// The reject reason for a `finish_reason` value that rejects.
    public static func reason(forFinishReason finishReason: String) -> RejectReason {
        switch finishReason {
        case "length": .finishLength
        case "content_filter": .finishContentFilter
        default: .finishOther
        }
    }

    private func lengthVerdict(_ text: String) -> FilterVerdict? {
        let characters = text.count
        if characters < settings.minCharacters {
            return .reject(.tooShort, detail: "\(characters) characters, minimum \(settings.minCharacters)")
        }
        if let maximum = settings.maxCharacters, characters > maximum {
            return .reject(.tooLong, detail: "\(characters) characters, maximum \(maximum)")
        }
        guard settings.minWords != nil || settings.maxWords != nil else { return nil }
        let words = WordTokenizer.wordCount(in: text)
        if let minimum = settings.minWords, words < minimum {
            return .reject(.tooFewWords, detail: "\(words) words, minimum \(minimum)")
        }
        if let maximum = settings.maxWords, words > maximum {
            return .reject(.tooManyWords, detail: "\(words) words, maximum \(maximum)")
        }
        return nil
    }

    /// A ratio with three decimals, without Foundation formatting.
    static func format(_ value: Double) -> String {
        let thousandths = Int((value * 1000).rounded())
        let fraction = String(thousandths % 1000)
        return "\(thousandths / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
