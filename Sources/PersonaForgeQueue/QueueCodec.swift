import Foundation
public import PersonaForgeCore

/// Encodes the messages that travel through Redis streams, in field `d`: shard
/// descriptors as JSON, result batches in ``ResultBatchCodec``'s binary form.
public enum QueueCodec {
    public static let field = "d"

    /// A result batch for the results stream (binary, ``ResultBatchCodec``).
    public static func encodeBatch(_ batch: ResultBatch) -> [UInt8] {
        ResultBatchCodec.encode(batch)
    }

    /// A result batch from the results stream: the binary form, or the JSON form
    /// workers before the binary codec pushed (still decoded after an upgrade).
    public static func decodeBatch(from bytes: [UInt8]?) throws -> ResultBatch {
        guard let bytes else { throw QueueMessageError(message: "stream entry has no '\(field)' field") }
        guard ResultBatchCodec.isBinary(bytes) else { return try decode(ResultBatch.self, from: bytes) }
        do {
            return try ResultBatchCodec.decode(bytes)
        } catch {
            throw QueueMessageError(message: "undecodable ResultBatch message: \(error)")
        }
    }

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
