public import Foundation
public import Logging
import Synchronization

/// A log file that rotates by size: when a line would take `path` past `maximumBytes`, it becomes `path.1`
/// (`path.1` becomes `path.2`, …, keeping `keep` old files) and a new `path` starts.
public final class RotatingLogFile: Sendable {
    public let path: String
    public let maximumBytes: Int
    public let keep: Int
    private let state: Mutex<(handle: FileHandle?, size: Int)>

    /// - Throws: when the file cannot be created or opened for appending.
    public init(path: String, maximumBytes: Int = 10 << 20, keep: Int = 5) throws {
        self.path = path
        self.maximumBytes = maximumBytes
        self.keep = keep
        let handle = try Self.open(path)
        state = Mutex((handle, Int(handle.seekToEndOfFile())))
    }

    private static func open(_ path: String) throws -> FileHandle {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o640]) else {
                throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        handle.seekToEndOfFile()
        return handle
    }

    /// Appends one line (a newline is added); a write that fails is dropped rather than stopping the server.
    public func write(_ line: String) {
        let data = Data((line + "\n").utf8)
        state.withLock { state in
            if state.size + data.count > maximumBytes, state.size > 0 { rotate(&state) }
            guard let handle = state.handle else { return }
            do {
                try handle.write(contentsOf: data)
                state.size += data.count
            } catch {
                // A full disk must not take the server down; the next rotation tries again.
            }
        }
    }

    private func rotate(_ state: inout (handle: FileHandle?, size: Int)) {
        try? state.handle?.close()
        let manager = FileManager.default
        try? manager.removeItem(atPath: "\(path).\(keep)")
        if keep > 1 {
            for index in stride(from: keep - 1, through: 1, by: -1) where manager.fileExists(atPath: "\(path).\(index)") {
                try? manager.moveItem(atPath: "\(path).\(index)", toPath: "\(path).\(index + 1)")
            }
        }
        try? manager.moveItem(atPath: path, toPath: "\(path).1")
        state.handle = try? Self.open(path)
        state.size = 0
    }
}

/// One JSON object per line: `time`, `level`, `label`, `message`, `source` and the metadata (Hummingbird's
/// `hb.request.id` among it), to a rotating file (`OMNIFIN_LOG_FILE`) or to standard output.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let write: @Sendable (String) -> Void

    public init(label: String, file: RotatingLogFile?) {
        self.label = label
        if let file {
            write = { file.write($0) }
        } else {
            write = { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: Any] = [
            "time": ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withInternetDateTime, .withFractionalSeconds]),
            "level": event.level.rawValue, "label": label, "message": "\(event.message)", "source": event.source,
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { object[key] = Self.plain(value) }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        write(String(decoding: data, as: UTF8.self))
    }

    static func plain(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let value): value.description
        case .array(let values): values.map(plain)
        case .dictionary(let values): values.mapValues(plain)
        }
    }
}
