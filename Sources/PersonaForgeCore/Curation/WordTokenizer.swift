/// How the filters see words.
///
/// A *word* is a maximal run of non-whitespace characters that contains at
/// least one letter or digit, so "—" or "***" are not words but "3.5" and
/// "don't" are. For repetition the words are *normalized*: lowercased and
/// stripped of leading and trailing characters that are neither letters nor
/// digits ("Hello," and "hello" are the same word).
///
/// Tokenizing works on Unicode scalars (with an ASCII fast path), not on
/// grapheme clusters: it runs on every output and must stay cheap.
public enum WordTokenizer {
    /// The words of `text`, as they appear.
    public static func words(in text: String) -> [Substring] {
        var words: [Substring] = []
        forEachWord(in: text) { token, _ in words.append(Substring(text.unicodeScalars[token])) }
        return words
    }

    /// The number of words in `text` (see ``words(in:)``).
    public static func wordCount(in text: String) -> Int {
        var count = 0
        forEachWord(in: text) { _, _ in count += 1 }
        return count
    }

    /// The normalized words of `text`: lowercased, outer punctuation removed.
    public static func normalizedWords(in text: String) -> [String] {
        var words: [String] = []
        forEachWord(in: text) { _, core in words.append(String(text.unicodeScalars[core]).lowercased()) }
        return words
    }

    /// Calls `body` with the range of each word and the range of its core
    /// (from its first to its last letter or digit).
    static func forEachWord(
        in text: String,
        _ body: (_ token: Range<String.Index>, _ core: Range<String.Index>) -> Void
    ) {
        let scalars = text.unicodeScalars
        var tokenStart: String.Index?
        var coreStart: String.Index?
        var coreEnd: String.Index?
        var index = scalars.startIndex
        while index < scalars.endIndex {
            let scalar = scalars[index]
            let next = scalars.index(after: index)
            if isWhitespace(scalar) {
                if let start = tokenStart, let coreStart, let coreEnd {
                    body(start..<index, coreStart..<coreEnd)
                }
                tokenStart = nil
                coreStart = nil
                coreEnd = nil
            } else {
                if tokenStart == nil { tokenStart = index }
                if isWordScalar(scalar) {
                    if coreStart == nil { coreStart = index }
                    coreEnd = next
                }
            }
            index = next
        }
        if let start = tokenStart, let coreStart, let coreEnd {
            body(start..<scalars.endIndex, coreStart..<coreEnd)
        }
    }

    @inline(__always)
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let value = scalar.value
            return value == 0x20 || (value >= 0x09 && value <= 0x0D)
        }
        return scalar.properties.isWhitespace
    }

    /// A letter or digit (any script), or a combining mark (so "e\u{301}" stays one word core).
    @inline(__always)
    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let value = scalar.value
            return (value >= 0x30 && value <= 0x39) || (value | 0x20 >= 0x61 && value | 0x20 <= 0x7A)
        }
        let properties = scalar.properties
        if properties.isAlphabetic || properties.numericType != nil { return true }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }

    static func isWordCharacter(_ character: Character) -> Bool {
        character.isLetter || character.isNumber
    }
}
