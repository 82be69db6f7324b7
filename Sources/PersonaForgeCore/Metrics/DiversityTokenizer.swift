/// The tokenizations the diversity metrics use, each mirroring the reference
/// implementation (the `diversity` package, Shaib et al.) of the metric it feeds.
///
/// - `referenceTokens`: `text.split(" ")` — split on U+0020 only, keeping
///   empty tokens; newlines and tabs stay inside tokens. This is what
///   `ngram_diversity_score` does to `" ".join(texts)`, so splitting each text
///   this way and concatenating the token lists reproduces its token stream
///   exactly. Used for distinct-n, n-gram entropy.
/// - `words`: Python's `str.split()` — runs of whitespace separate, no empty
///   tokens. Used by `self_repetition_score` and for word lengths.
/// - `rougeTokens`: rouge-score's default tokenizer — lowercase, every run of
///   characters outside `[a-z0-9]` is a separator, no stemming. Used for the
///   ROUGE-L homogenization score.
public enum DiversityTokenizer {
    /// Tokens split on the space character only, keeping empty tokens.
    public static func referenceTokens(_ text: String) -> [Substring] {
        // Split on the byte, not on `Character`: a space followed by a
        // combining mark is one grapheme in Swift but two code points in Python.
        text.utf8.split(separator: 0x20, omittingEmptySubsequences: false).map { Substring($0) }
    }

    /// Tokens separated by runs of whitespace (Python's `str.split()`).
    public static func words(_ text: String) -> [Substring] {
        var words: [Substring] = []
        let scalars = text.unicodeScalars
        var start: String.Index? = nil
        var index = scalars.startIndex
        while index < scalars.endIndex {
            if isPythonWhitespace(scalars[index]) {
                if let wordStart = start {
                    words.append(Substring(scalars[wordStart..<index]))
                    start = nil
                }
            } else if start == nil {
                start = index
            }
            index = scalars.index(after: index)
        }
        if let wordStart = start {
            words.append(Substring(scalars[wordStart..<scalars.endIndex]))
        }
        return words
    }

    /// rouge-score's tokens: lowercase ASCII letters and digits runs.
    public static func rougeTokens(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in text.lowercased().unicodeScalars {
            if (scalar >= "a" && scalar <= "z") || (scalar >= "0" && scalar <= "9") {
                current.append(scalar)
            } else if !current.isEmpty {
                tokens.append(String(current))
                current = String.UnicodeScalarView()
            }
        }
        if !current.isEmpty { tokens.append(String(current)) }
        return tokens
    }

    /// Python's `str.isspace()` for the characters `str.split()` separates on.
    static func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A,
             0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }
}
