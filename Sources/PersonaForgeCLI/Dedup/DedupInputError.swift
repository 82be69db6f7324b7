/// A problem with the input or output of `personaforge dedup`; the message
/// names the file and line and says what to change.
struct DedupInputError: Error, CustomStringConvertible {
    var message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { message }
}
