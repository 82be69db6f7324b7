import Foundation
import PersonaForgeCore

/// Encodes the messages that travel through Redis streams (JSON in field `d`).
public enum QueueCodec {
    public static let field = "d"

    public static func encode<Message: Encodable>(_ message: Message) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return Array(try encoder.encode(message))
    }

    public static func decode<Message: Decodable>(_ type: Message.Type, from bytes: [UInt8]?) throws -> Message {
        guard let bytes else { throw QueueMessageError(message: "stream entry has no '\(field)' field") }
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw QueueMessageError(message: "undecodable \(type) message: \(error)")
        }
    }
}

/// A stream entry that is not a valid message (dead-lettered, never retried).
public struct QueueMessageError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
