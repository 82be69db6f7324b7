/// Thrown by ``LocalFilter/init(settings:)`` when the filter settings cannot be compiled.
public struct LocalFilterError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem.
    public enum Code: String, Sendable, Hashable, Codable {
        /// A `required_patterns` or `forbidden_patterns` entry is not a valid regular expression.
        case invalidPattern
    }

    /// The kind of problem.
    public var code: Code
    /// The offending setting value (the pattern text).
    public var value: String
    /// What is wrong and what to do about it.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, value: String, _ message: String) {
        self.code = code
        self.value = value
        self.message = message
    }

    public var description: String { message }
}
