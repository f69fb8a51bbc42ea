import Foundation

/// Writes each message as an `.eml` file into a folder (`OMNIFIN_MAIL=file:DIR`, default `file:var/mail`).
public struct FileMailTransport: MailTransport {
    public let directory: String
    public var description: String { "file:\(directory)" }

    public init(directory: String) {
        self.directory = directory
    }

    public func deliver(_ message: MailMessage) async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let name = String(format: "%.6f", message.createdAt.timeIntervalSince1970) + "-\(message.id).eml"
        try Data(MailFormat.rfc5322(message, now: Date()).utf8).write(to: URL(fileURLWithPath: directory).appendingPathComponent(name), options: .atomic)
    }
}
