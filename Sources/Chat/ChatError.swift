/// Why a chat turn was refused or failed. `code` tells the kind (an HTTP front end maps it to a status); the message
/// says what was wrong and what to do; `field` names the request field at fault.
public struct ChatError: Error, Sendable, CustomStringConvertible {
    /// The kinds of failure; new ones may be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidQuestion, conversationNotFound, messageNotFound, generatorFailed, generatorTimedOut, generatorBusy
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The question (or another input) cannot be used: empty, too long, a bad feedback value.
        public static let invalidQuestion = Code(.invalidQuestion)
        /// No conversation with that id belongs to the asker.
        public static let conversationNotFound = Code(.conversationNotFound)
        /// No answer with that id is in the asker's conversations.
        public static let messageNotFound = Code(.messageNotFound)
        /// The language model answered badly (or not at all) before its first token.
        public static let generatorFailed = Code(.generatorFailed)
        /// The language model did not answer in time.
        public static let generatorTimedOut = Code(.generatorTimedOut)
        /// The local engine's queue is full: ask again after ``ChatError/retryAfter`` seconds.
        public static let generatorBusy = Code(.generatorBusy)

        public var description: String { base.rawValue }
    }

    public let code: Code
    public let message: String
    public let field: String?
    /// Seconds after which asking again should work (`generatorBusy`).
    public let retryAfter: Int?

    public init(_ code: Code, _ message: String, field: String? = nil, retryAfter: Int? = nil) {
        self.code = code
        self.message = message
        self.field = field
        self.retryAfter = retryAfter
    }

    public var description: String { message }
}
