import Foundation

/// A regular expression from `filters.required_patterns` / `forbidden_patterns`,
/// compiled once with `NSRegularExpression` (ICU syntax — the same engine the
/// run config validator checks patterns with).
struct CompiledPattern: Sendable {
    /// The pattern as written in the run config.
    let source: String
    /// Immutable after init and safe to use from several threads at once (Sendable).
    let expression: NSRegularExpression

    init(_ source: String, setting: String) throws(LocalFilterError) {
        do {
            expression = try NSRegularExpression(pattern: source)
        } catch {
            throw LocalFilterError(
                .invalidPattern, value: source,
                "filters.\(setting): '\(source)' is not a valid regular expression (ICU syntax); fix or remove it"
            )
        }
        self.source = source
    }

    /// Whether the pattern matches anywhere in `text`.
    func matches(_ text: String) -> Bool {
        expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}
