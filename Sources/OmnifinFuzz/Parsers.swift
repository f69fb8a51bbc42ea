import Chat
import ChatAPI
import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Voice

/// The parsers of client input, fed as their owners expose them to the package.
enum Parsers {
    /// A recording for `/api/chat/voice`: the WAV reader, then the multipart reader around it.
    static func recording(_ bytes: [UInt8]) {
        _ = try? WAVAudio.decode(bytes)
        if let boundary = MultipartForm.boundary("multipart/form-data; boundary=omnifin-fuzz") {
            for (_, value) in MultipartForm.parts(bytes, boundary: boundary) { _ = try? WAVAudio.decode(value) }
        }
    }

    /// A JSON request body, decoded as every route that takes one decodes it; returns how many accepted it.
    @discardableResult
    static func requestBody(_ data: Data) -> Int {
        let decoder = StoredJSON.decoder
        func accepts<T: JSONRequestBody>(_ type: T.Type) -> Int {
            do throws(APIError) {
                _ = try Request.decodeJSONBody(data, as: type, decoder: decoder)
                return 1
            } catch {
                // Typed: an APIError (400 with the field at fault) is the only way to refuse a body.
                precondition(error.status == .badRequest, "a body was refused with \(error.status)")
                return 0
            }
        }
        return accepts(RegistrationController.RegisterRequest.self) + accepts(AuthController.LoginRequest.self)
            + accepts(AuthController.ProfileUpdate.self) + accepts(RegistrationController.ResendRequest.self)
            + accepts(RegistrationController.VerifyRequest.self) + accepts(RegistrationController.SetupRequest.self)
            + accepts(PasswordResetController.ResetRequest.self) + accepts(PasswordResetController.ConfirmRequest.self)
            + accepts(ChatController.MessageRequest.self) + accepts(ChatController.FeedbackRequest.self)
            + accepts(KnowledgeController.DocumentBody.self) + accepts(AdminUsersController.CreateRequest.self)
            + accepts(AdminUsersController.UpdateRequest.self) + accepts(PromptsController.CreateRequest.self)
            + accepts(PromptsController.UpdateRequest.self) + accepts(AnalyticsController.ClientEvent.self)
    }

    /// A prompt template an admin saves: its placeholders checked, then rendered.
    static func promptTemplate(_ text: String) {
        for name in ["answer", "rewrite"] {
            guard let template = try? PromptTemplate(name: name, text: text) else { continue }
            _ = template.render(["context": "[1] A passage.", "history": "", "question": "Why?"])
        }
    }

    /// What a language model writes: its citation formats read, markers cleaned, sentences split for the claim
    /// check, numbers read. Every `[n]` left must point at one of the five passages.
    static func modelAnswer(_ text: String) {
        let titles = [1: "Invoice approval policy", 2: "Payment runs", 3: "Travel (Germany)", 4: "[odd] title", 5: ""]
        let normalized = CitationFormats.normalized(text, titles: titles)
        let (clean, cited) = Citations.clean(normalized, validNumbers: Set(titles.keys))
        precondition(cited.allSatisfy { titles[$0] != nil }, "a citation of no passage survived")
        let units = clean.utf16.count
        for sentence in ClaimCheck.sentences(clean) {
            precondition(sentence.range.lowerBound >= 0 && sentence.range.upperBound <= units, "a sentence outside the answer")
            _ = ClaimCheck.numbers(sentence.body)
        }
    }
}
