/// Why a JSON step's output could not be turned into a JSON value.
public struct JSONOutputError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem.
    public enum Code: String, Sendable, Hashable, Codable {
        /// The output is empty or only whitespace.
        case empty
        /// No JSON object or code block was found in the output.
        case noJSONFound
        /// Something that looked like JSON was found but does not parse.
        case invalidJSON
    }

    /// The kind of problem.
    public var code: Code
    /// What is wrong, for the record's reject detail and logs.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
