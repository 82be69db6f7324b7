/// A problem with the input of `personaforge metrics`, located as `FILE:LINE`.
struct MetricsInputError: Error, CustomStringConvertible {
    /// `FILE` or `FILE:LINE`.
    var location: String
    /// What is wrong and what to do about it.
    var message: String

    var description: String { "\(location): \(message)" }
}
