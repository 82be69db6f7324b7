import Mustache

/// A compiled Mustache template that renders *plain text*.
///
/// swift-mustache escapes `{{var}}` for HTML by default (`<` → `&lt;`), which
/// would corrupt prompts. Every template is compiled with the
/// `{{% CONTENT_TYPE: TEXT}}` pragma prepended, so nothing is escaped.
public struct PromptTemplate: Sendable {
    /// The template text as written.
    public let text: String
    private let template: MustacheTemplate

    /// The pragma that switches swift-mustache to plain text.
    static let plainTextPragma = "{{% CONTENT_TYPE: TEXT}}"

    /// Compiles `text`; throws ``PromptTemplateError`` with the template line on a syntax error.
    public init(_ text: String) throws(PromptTemplateError) {
        self.text = text
        do {
            self.template = try MustacheTemplate(string: Self.plainTextPragma + text)
        } catch let error as MustacheTemplate.ParserError {
            throw PromptTemplateError(line: error.context.lineNumber, message: "\(Self.describe(error.error)) near '\(error.context.line.trimmingCharactersInWhitespace())'")
        } catch {
            throw PromptTemplateError(line: 1, message: "\(error)")
        }
    }

    /// Renders with `context` (a tree of dictionaries, arrays and ``TemplateValue``s).
    func render(_ context: [String: Any]) -> String {
        template.render(context)
    }

    private static func describe(_ error: any Error) -> String {
        switch error as? MustacheTemplate.Error {
        case .sectionCloseNameIncorrect?: return "a section is closed with a different name than it was opened"
        case .unfinishedName?: return "a tag is not closed with }}"
        case .expectedSectionEnd?: return "a section is opened with {{#name}} but never closed with {{/name}}"
        case .invalidSetDelimiter?: return "malformed delimiter change"
        case .invalidConfigVariableSyntax?, .unrecognisedConfigVariable?: return "unknown pragma {{% ...}}"
        default: return "invalid template syntax (\(error))"
        }
    }
}

/// A template that does not parse.
public struct PromptTemplateError: Error, Sendable, Hashable {
    /// 1-based line within the template.
    public let line: Int
    /// What is wrong.
    public let message: String
}
