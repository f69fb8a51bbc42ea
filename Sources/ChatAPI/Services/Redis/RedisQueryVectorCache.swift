import Crypto
import Foundation
import Redis
import Retrieval
import Storage

/// Query vectors shared by every replica through Redis, in front of which each replica keeps its own small LRU: a
/// question embedded by one replica costs the others one Redis read. Keys hold the SHA-256 of the model and the
/// question, never the question itself; values are the packed little-endian float32 components. While Redis is away,
/// the local cache goes on alone.
final class RedisQueryVectorCache: QueryVectorCache {
    let redis: RedisClient
    let health: RedisHealth
    let prefix: String
    let lifetimeSeconds: Int
    private let local: EmbeddingCache

    init(redis: RedisClient, health: RedisHealth, prefix: String, lifetimeSeconds: Int = 24 * 3600, localCapacity: Int = 10_000) {
        self.redis = redis
        self.health = health
        self.prefix = prefix
        self.lifetimeSeconds = lifetimeSeconds
        local = EmbeddingCache(capacity: localCapacity)
    }

    func key(model: String, text: String) -> String {
        let digest = SHA256.hash(data: Data((model + "\u{0}" + text).utf8))
        return prefix + "query-vector:" + digest.hexadecimal
    }

    func vector(model: String, text: String) async -> [Float]? {
        if let hit = local.vector(model: model, text: text) { return hit }
        do {
            let bytes = try await redis.get(key(model: model, text: text))
            health.succeeded()
            guard let bytes, !bytes.isEmpty, bytes.count % 4 == 0 else { return nil }
            let vector = bytes.withUnsafeBytes { raw in
                (0..<bytes.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            }
            guard vector.allSatisfy(\.isFinite) else { return nil }
            local.insert(vector, model: model, text: text)
            return vector
        } catch {
            health.failed(error)
            return nil
        }
    }

    func remember(_ vector: [Float], model: String, text: String) async {
        local.insert(vector, model: model, text: text)
        var bytes = [UInt8]()
        bytes.reserveCapacity(vector.count * 4)
        for component in vector { withUnsafeBytes(of: component.bitPattern.littleEndian) { bytes += $0 } }
        do {
            try await redis.set(key(model: model, text: text), bytes, expireSeconds: lifetimeSeconds)
            health.succeeded()
        } catch {
            health.failed(error)
        }
    }
}
