import Testing
@testable import PersonaForgeCore

@Suite("Local filter")
struct CurationLocalFilterTests {
    /// One filter input and the verdict it must get.
    struct FilterCase: Sendable, CustomTestStringConvertible {
        let label: String
        var settings = FilterSettings()
        let text: String
        var finishReason: String? = "stop"
        /// nil means keep.
        let reason: RejectReason?
        var testDescription: String { label }
    }

    /// Every reject reason, triggered by a minimal example, each next to a near miss that is kept.
    static let catalogue: [FilterCase] = [
        FilterCase(label: "empty: whitespace only", text: " \n\t ", reason: .emptyOutput),
        FilterCase(label: "empty: nothing at all", text: "", reason: .emptyOutput),
        FilterCase(label: "empty near miss: one character", text: "k", reason: nil),

        FilterCase(label: "finish length", text: "A fine story.", finishReason: "length", reason: .finishLength),
        FilterCase(label: "finish content_filter", text: "A fine story.", finishReason: "content_filter", reason: .finishContentFilter),
        FilterCase(
            label: "finish other configured reason",
            settings: FilterSettings(rejectFinishReasons: ["length", "tool_calls"]),
            text: "A fine story.", finishReason: "tool_calls", reason: .finishOther
        ),
        FilterCase(label: "finish near miss: stop", text: "A fine story.", finishReason: "stop", reason: nil),
        FilterCase(label: "finish near miss: unknown", text: "A fine story.", finishReason: nil, reason: nil),
        FilterCase(
            label: "finish near miss: length not configured",
            settings: FilterSettings(rejectFinishReasons: []),
            text: "A fine story.", finishReason: "length", reason: nil
        ),

        FilterCase(label: "too short", settings: FilterSettings(minCharacters: 10), text: "123456789", reason: .tooShort),
        FilterCase(label: "too short near miss: exactly the minimum", settings: FilterSettings(minCharacters: 10), text: "1234567890", reason: nil),
        FilterCase(
            label: "too short: a combining accent is one character",
            settings: FilterSettings(minCharacters: 2), text: "e\u{301}", reason: .tooShort
        ),
        FilterCase(label: "too long", settings: FilterSettings(maxCharacters: 5), text: "abcdef", reason: .tooLong),
        FilterCase(label: "too long near miss: exactly the maximum", settings: FilterSettings(maxCharacters: 5), text: "abcde", reason: nil),

        FilterCase(label: "too few words", settings: FilterSettings(minWords: 3), text: "two words", reason: .tooFewWords),
        FilterCase(label: "too few words: a dash is not a word", settings: FilterSettings(minWords: 3), text: "two — words", reason: .tooFewWords),
        FilterCase(label: "too few words near miss", settings: FilterSettings(minWords: 3), text: "three words here", reason: nil),
        FilterCase(label: "too many words", settings: FilterSettings(maxWords: 3), text: "one two three four", reason: .tooManyWords),
        FilterCase(label: "too many words near miss", settings: FilterSettings(maxWords: 3), text: "one two three", reason: nil),

        FilterCase(label: "refusal", text: "I'm sorry, but I can't assist with that.", reason: .refusal),
        FilterCase(label: "refusal near miss: a narrator's can't", text: "I can't help but smile when I think of it.", reason: nil),
        FilterCase(
            label: "refusal near miss: check disabled",
            settings: FilterSettings(rejectRefusals: false),
            text: "I'm sorry, but I can't assist with that.", reason: nil
        ),

        FilterCase(label: "repetition", text: "the cat sat the cat sat the cat sat", reason: .repetition),
        FilterCase(
            label: "repetition near miss: ratio exactly at the maximum",
            settings: FilterSettings(maxRepeatedNgramRatio: 0.5, repetitionNgram: 2),
            text: "go now go now go", reason: nil
        ),
        FilterCase(
            label: "repetition: the same text just above the maximum",
            settings: FilterSettings(maxRepeatedNgramRatio: 0.49, repetitionNgram: 2),
            text: "go now go now go", reason: .repetition
        ),
        FilterCase(label: "repetition near miss: too few words to measure", text: "no no no no no", reason: nil),
        FilterCase(label: "repetition: just enough words to measure", text: "no no no no no no", reason: .repetition),
        FilterCase(
            label: "repetition near miss: check disabled",
            settings: FilterSettings(maxRepeatedNgramRatio: nil),
            text: "the cat sat the cat sat the cat sat", reason: nil
        ),

        FilterCase(
            label: "missing required pattern",
            settings: FilterSettings(requiredPatterns: ["^Title: ", "\\d"]),
            text: "Title: no digits", reason: .missingRequiredPattern
        ),
        FilterCase(
            label: "required patterns near miss: all match",
            settings: FilterSettings(requiredPatterns: ["^Title: ", "\\d"]),
            text: "Title: 3 digits", reason: nil
        ),
        FilterCase(
            label: "forbidden pattern",
            settings: FilterSettings(forbiddenPatterns: ["(?i)lorem ipsum"]),
            text: "Some LOREM IPSUM text", reason: .forbiddenPattern
        ),
        FilterCase(
            label: "forbidden pattern near miss",
            settings: FilterSettings(forbiddenPatterns: ["(?i)lorem ipsum"]),
            text: "Some lorem text", reason: nil
        ),
    ]

    @Test(arguments: catalogue)
    func verdict(_ example: FilterCase) throws {
        let filter = try LocalFilter(settings: example.settings)
        let verdict = filter.verdict(text: example.text, finishReason: example.finishReason)
        #expect(verdict.rejectReason == example.reason)
        #expect(verdict.isKeep == (example.reason == nil))
    }

    @Test func everyRejectReasonOfTheFilterIsInTheCatalogue() {
        let covered = Set(Self.catalogue.compactMap(\.reason))
        let jsonOnly: Set<RejectReason> = [.invalidJSON, .schemaViolation]
        #expect(covered == Set(RejectReason.allCases).subtracting(jsonOnly))
    }

    /// A text that fails several checks gets the reason of the earliest one.
    static let orderCases: [FilterCase] = [
        FilterCase(label: "empty before finish reason", text: "  ", finishReason: "length", reason: .emptyOutput),
        FilterCase(
            label: "finish reason before length",
            settings: FilterSettings(minCharacters: 100), text: "short", finishReason: "length", reason: .finishLength
        ),
        FilterCase(
            label: "characters before words",
            settings: FilterSettings(minCharacters: 100, minWords: 50), text: "short", reason: .tooShort
        ),
        FilterCase(
            label: "length before refusal",
            settings: FilterSettings(minWords: 20), text: "I cannot help with that.", reason: .tooFewWords
        ),
        FilterCase(
            label: "refusal before repetition",
            text: "I can't assist. I can't assist. I can't assist. I can't assist.", reason: .refusal
        ),
        FilterCase(
            label: "repetition before patterns",
            settings: FilterSettings(requiredPatterns: ["dog"]),
            text: "the cat sat the cat sat the cat sat", reason: .repetition
        ),
        FilterCase(
            label: "required before forbidden",
            settings: FilterSettings(requiredPatterns: ["dog"], forbiddenPatterns: ["cat"]),
            text: "a cat", reason: .missingRequiredPattern
        ),
    ]

    @Test(arguments: orderCases)
    func firstFailingCheckWins(_ example: FilterCase) throws {
        let filter = try LocalFilter(settings: example.settings)
        #expect(filter.verdict(text: example.text, finishReason: example.finishReason).rejectReason == example.reason)
    }

    @Test func detailsSayWhatFailed() throws {
        let filter = try LocalFilter(settings: FilterSettings(
            minCharacters: 10, maxCharacters: 20, minWords: 3,
            requiredPatterns: ["^Title"], forbiddenPatterns: ["xyz"]
        ))
        #expect(filter.verdict(text: "123456789", finishReason: nil) == .reject(.tooShort, detail: "9 characters, minimum 10"))
        #expect(filter.verdict(text: String(repeating: "a", count: 21), finishReason: nil) == .reject(.tooLong, detail: "21 characters, maximum 20"))
        #expect(filter.verdict(text: "two wordsxx", finishReason: nil) == .reject(.tooFewWords, detail: "2 words, minimum 3"))
        #expect(filter.verdict(text: "no title here", finishReason: nil)
            == .reject(.missingRequiredPattern, detail: "does not match required pattern '^Title'"))
        #expect(filter.verdict(text: "Title has xyz", finishReason: nil)
            == .reject(.forbiddenPattern, detail: "matches forbidden pattern 'xyz'"))
        #expect(filter.verdict(text: "Title ok here", finishReason: "length") == .reject(.finishLength, detail: "finish_reason length"))
        #expect(filter.verdict(text: "Title ok here", finishReason: nil) == .keep)
    }

    @Test func repetitionDetailShowsTheRatio() throws {
        let filter = try LocalFilter(settings: FilterSettings())
        // 9 words, 7 trigrams, 3 distinct: 4/7 = 0.571.
        #expect(filter.verdict(text: "the cat sat the cat sat the cat sat", finishReason: nil)
            == .reject(.repetition, detail: "repeated 3-gram ratio 0.571, maximum 0.500"))
    }

    @Test func refusalDetailNamesThePhrase() throws {
        let filter = try LocalFilter(settings: FilterSettings())
        #expect(filter.verdict(text: "As an AI language model, I have no childhood.", finishReason: nil)
            == .reject(.refusal, detail: "opens with a refusal: \"as an ai language model\""))
    }

    @Test func patternsAreSearchedNotAnchored() throws {
        let filter = try LocalFilter(settings: FilterSettings(requiredPatterns: ["b+"]))
        #expect(filter.verdict(text: "aaa bbb ccc", finishReason: nil) == .keep)
    }

    @Test func patternsSeeUnicodeText() throws {
        let filter = try LocalFilter(settings: FilterSettings(forbiddenPatterns: ["é🙂"]))
        #expect(filter.verdict(text: "café🙂 time", finishReason: nil).rejectReason == .forbiddenPattern)
    }

    @Test(arguments: [
        (FilterSettings(requiredPatterns: ["ok", "(unclosed"]), "required_patterns"),
        (FilterSettings(forbiddenPatterns: ["[z-a]"]), "forbidden_patterns"),
    ])
    func invalidPatternThrowsAnActionableError(settings: FilterSettings, key: String) {
        let bad = settings.requiredPatterns.last ?? settings.forbiddenPatterns[0]
        let error = #expect(throws: LocalFilterError.self) {
            _ = try LocalFilter(settings: settings)
        }
        #expect(error?.code == .invalidPattern)
        #expect(error?.value == bad)
        #expect(error?.message == "filters.\(key): '\(bad)' is not a valid regular expression (ICU syntax); fix or remove it")
    }

    @Test func rejectReasonRawValuesAreStableSnakeCase() {
        let expected: [RejectReason: String] = [
            .emptyOutput: "empty_output", .finishLength: "finish_length", .finishContentFilter: "finish_content_filter",
            .finishOther: "finish_other", .tooShort: "too_short", .tooLong: "too_long", .tooFewWords: "too_few_words",
            .tooManyWords: "too_many_words", .refusal: "refusal", .repetition: "repetition",
            .missingRequiredPattern: "missing_required_pattern", .forbiddenPattern: "forbidden_pattern",
            .invalidJSON: "invalid_json", .schemaViolation: "schema_violation",
        ]
        #expect(RejectReason.allCases.count == expected.count)
        for reason in RejectReason.allCases {
            #expect(reason.rawValue == expected[reason])
            #expect(RejectReason(rawValue: reason.rawValue) == reason)
        }
    }

    @Test func finishReasonsMapToReasons() {
        #expect(LocalFilter.reason(forFinishReason: "length") == .finishLength)
        #expect(LocalFilter.reason(forFinishReason: "content_filter") == .finishContentFilter)
        #expect(LocalFilter.reason(forFinishReason: "tool_calls") == .finishOther)
    }
}
