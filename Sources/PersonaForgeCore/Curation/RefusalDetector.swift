/// Recognizes outputs in which the LLM refused or apologized instead of doing the task.
///
/// Refusals from instruction-tuned models are formulaic and come first
/// ("I'm sorry, but I can't assist with that."), so only the start of the
/// output is examined: its first ``window`` characters after leading
/// whitespace. That text is normalized — lowercased, the apostrophe variants
/// ’ ‘ ʼ ´ \` turned into ', Markdown emphasis (`*`, `_`) removed, runs of
/// whitespace collapsed — and searched for any of ``phrases`` at word
/// boundaries.
///
/// The phrase list is curated for precision on persona-style, first-person
/// text. It has three families:
///
/// - AI disclaimers: "as an ai language model", "as an ai assistant", …
/// - an apology followed by an inability: "sorry, but i can't",
///   "i apologize, but i cannot", "sorry, i'm unable", …
/// - an inability followed by a task verb: "i can't assist", "i cannot help
///   with", "i'm unable to provide", "i won't write that", "i must decline", …
///
/// Bare "I can't" or "I am unable to" are *not* refusals ("I can't help but
/// smile", "I am unable to forget that summer"): a narrator may say them.
/// A run that wants no refusal check sets `filters.reject_refusals: false`.
public enum RefusalDetector {
    /// How many characters from the start of the output are examined.
    public static let window = 200

    /// Every phrase recognized, normalized (lowercase, straight apostrophes).
    public static let phrases: [String] = {
        let disclaimers = [
            "as an ai language model", "as a language model", "as an ai assistant", "as an ai model",
            "as an artificial intelligence", "as an ai developed by", "as an ai, i",
            "i'm an ai language model", "i am an ai language model", "i'm just an ai", "i am just an ai",
        ]
        let inabilities = [
            "i can't", "i cannot", "i can not", "i won't", "i will not",
            "i'm unable to", "i am unable to", "i'm not able to", "i am not able to",
        ]
        let apologies = ["sorry, but ", "sorry, ", "apologize, but ", "apologise, but ", "apologies, but ", "apologize, ", "apologies, "]
        let apologyInabilities = [
            "i can't", "i cannot", "i can not", "i won't", "i will not",
            "i'm unable", "i am unable", "i'm not able", "i am not able",
        ]
        let tasks = [
            "help with", "help you with", "assist", "comply", "fulfill", "fulfil",
            "provide that", "provide this", "provide such", "provide the requested", "provide content",
            "provide information", "provide assistance", "provide help",
            "create that", "create this", "create content", "generate that", "generate this", "generate content",
            "write that", "write this", "write content", "produce that", "produce this", "produce content",
            "engage in", "participate in", "do that", "answer that", "answer this",
            "continue with this", "continue with that", "support that", "support this",
        ]
        let declines = ["i must decline", "i must respectfully decline", "i have to decline", "i must refuse"]
        var phrases = disclaimers + declines
        for apology in apologies {
            for inability in apologyInabilities { phrases.append(apology + inability) }
        }
        for inability in inabilities {
            for task in tasks { phrases.append(inability + " " + task) }
        }
        return phrases
    }()

    /// The first phrase of ``phrases`` found at the start of `text`, or nil.
    public static func matchedPhrase(in text: String) -> String? {
        let start = normalizedStart(of: text)
        guard !start.isEmpty else { return nil }
        for phrase in phrases where contains(phrase, in: start) {
            return phrase
        }
        return nil
    }

    /// Whether `text` opens with a refusal or apology.
    public static func isRefusal(_ text: String) -> Bool {
        matchedPhrase(in: text) != nil
    }

    /// The first ``window`` characters after leading whitespace, normalized.
    static func normalizedStart(of text: String) -> [Character] {
        var result: [Character] = []
        result.reserveCapacity(window)
        var examined = 0
        var pendingSpace = false
        for character in text.drop(while: \.isWhitespace) {
            guard examined < window else { break }
            examined += 1
            if character.isWhitespace {
                pendingSpace = true
                continue
            }
            let mapped: Character
            switch character {
            case "\u{2019}", "\u{2018}", "\u{02BC}", "\u{00B4}", "`": mapped = "'"
            case "*", "_": continue
            default: mapped = character
            }
            if pendingSpace, !result.isEmpty { result.append(" ") }
            pendingSpace = false
            for lower in mapped.lowercased() { result.append(lower) }
        }
        return result
    }

    /// Whether `phrase` occurs in `text` with no letter or digit directly before
    /// it, nor directly after it when the phrase ends in a letter or digit.
    static func contains(_ phrase: String, in text: [Character]) -> Bool {
        let needle = Array(phrase)
        guard let first = needle.first, needle.count <= text.count else { return false }
        let needsTrailingBoundary = needle.last.map(WordTokenizer.isWordCharacter) ?? false
        var start = 0
        while start + needle.count <= text.count {
            defer { start += 1 }
            guard text[start] == first else { continue }
            if start > 0, WordTokenizer.isWordCharacter(text[start - 1]) { continue }
            guard text[start..<(start + needle.count)].elementsEqual(needle) else { continue }
            let end = start + needle.count
            if needsTrailingBoundary, end < text.count, WordTokenizer.isWordCharacter(text[end]) { continue }
            return true
        }
        return false
    }
}
