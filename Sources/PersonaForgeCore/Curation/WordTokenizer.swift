/// How the filters see words.
///
/// A *word* is a maximal run of non-whitespace characters that contains at
/// least one letter or digit, so "—" or "***" are not words but "3.5" and
/// "don't" are. For repetition the words are *normalized*: lowercased and
/// stripped of leading and trailing characters that are neither letters nor
/// digits ("Hello," and "hello" are the same word).
public enum WordTokenizer {
    /// The words of `text`, as they appear.
    public static func words(in text: String) -> [Substring] {
        text.split(whereSeparator: \.isWhitespace).filter { $0.contains(where: isWordCharacter) }
    }

    /// The number of words in `text` (see ``words(in:)``).
    public static func wordCount(in text: String) -> Int {
        var count = 0
        for token in text.split(whereSeparator: \.isWhitespace) where token.contains(where: isWordCharacter) {
            count += 1
        }
        return count
    }

    /// The normalized words of `text`: lowercased, outer punctuation removed.
    public static func normalizedWords(in text: String) -> [String] {
        words(in: text).map { token in
            let start = token.firstIndex(where: isWordCharacter) ?? token.startIndex
            let end = token.lastIndex(where: isWordCharacter).map(token.index(after:)) ?? token.endIndex
            return token[start..<end].lowercased()
        }
    }

    static func isWordCharacter(_ character: Character) -> Bool {
        character.isLetter || character.isNumber
    }
}
