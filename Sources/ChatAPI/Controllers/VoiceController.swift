import Chat
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Retrieval
import ServiceLifecycle
import Storage
import Voice

/// `POST /api/chat/voice`: a recorded question in, a spoken grounded answer out, through the same pipeline as
/// text chat.
struct VoiceController {
    let turns: ChatTurns
    /// `nil` when voice is off (`OMNIFIN_STT=none`, `OMNIFIN_TTS=none`, or the built-in tools are not installed):
    /// the route then answers 503 saying why.
    let speechToText: (any SpeechToText)?
    let textToSpeech: (any TextToSpeech)?
    /// Why voice is off, for that answer.
    let offReason: String
    /// The recogniser's confidence below which the transcript is shown back to confirm instead of answered.
    var confirmBelow = SpeechConfiguration.defaultConfirmBelow
    static let maximumSeconds = 60.0
    static let maximumBytes = 10 * 1024 * 1024

    struct Audio: Encodable {
        var mime: String
        var base64: String
    }

    struct Timings: Encodable {
        var sttMs: Double
        var retrievalMs: Double
        var generationMs: Double
        var ttsMs: Double
    }

    struct VoiceResponse: ResponseEncodable {
        var conversationId: String
        var messageId: String
        var transcript: String
        /// From 0 to 1, or nil when the recogniser reports none (speech APIs).
        var confidence: Double?
        var needsConfirmation = false
        var answer: String
        var citations: [StoredCitation]
        var grounded: Bool
        var generator: String
        var audio: Audio
        var timings: Timings
    }

    /// A transcript too uncertain to answer: it is shown (and said) back, and nothing is stored; the user sends it as
    /// a text message if it is right, or says or types the question again.
    struct ConfirmationResponse: ResponseEncodable {
        var conversationId: String?
        var transcript: String
        var confidence: Double?
        var needsConfirmation = true
        var message: String
        var audio: Audio
        var timings: Timings
    }

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("voice", use: voice)
        return routes
    }

    /// 502 or 504 when a speech API failed (as for the LLM API), 503 when the built-in tool did.
    static func apiError(_ error: any Error, step: String, doing: String) -> APIError {
        if let failure = error as? SpeechServiceError {
            return failure.timedOut
                ? APIError(.gatewayTimeout, code: "\(step)_timeout", "\(doing) failed: \(failure.description)")
                : APIError(.badGateway, code: "\(step)_failed", "\(doing) failed: \(failure.description)")
        }
        return APIError(.serviceUnavailable, code: "\(step)_unavailable", "\(doing) failed: \(error)")
    }

    /// The one sentence every refused recording ends with: what is accepted, and how to send it.
    static let accepted =
        "Omnifin takes \(WAVAudio.accepted), sent as the body with Content-Type: audio/wav or as the field audio of multipart/form-data"

    func voice(request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.caller()
        guard let speechToText, let textToSpeech else {
            throw APIError(.serviceUnavailable, code: "voice_off", "voice chat is off on this server: \(offReason); ask in text instead")
        }
        let type = request.headers[.contentType]?.lowercased() ?? ""
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maximumBytes)
        } catch {
            throw APIError(.contentTooLarge, code: "body_too_large", "the recording is larger than \(Self.maximumBytes >> 20) MB; " + Self.accepted)
        }
        var wav: [UInt8]
        var conversation = request.uri.formParameters.get("conversation_id").flatMap { $0.isEmpty ? nil : $0 }
        if type.hasPrefix("audio/wav") || type.hasPrefix("audio/x-wav") || type.hasPrefix("audio/wave") || type.hasPrefix("audio/vnd.wave") {
            wav = Array(body.readableBytesView)
        } else if type.hasPrefix("multipart/form-data") {
            guard let boundary = MultipartForm.boundary(type) else {
                throw APIError(.badRequest, code: "invalid_request", "the multipart body has no boundary; " + Self.accepted)
            }
            let parts = MultipartForm.parts(Array(body.readableBytesView), boundary: boundary)
            guard let audio = parts["audio"] else { throw APIError.badRequest("the form has no field audio; " + Self.accepted, field: "audio") }
            wav = audio
            if let id = parts["conversation_id"].map({ String(decoding: $0, as: UTF8.self) }), !id.isEmpty { conversation = id }
        } else {
            throw APIError(.unsupportedMediaType, code: "unsupported_audio", "the body is \(type.isEmpty ? "untyped" : type); " + Self.accepted)
        }
        let audio: WAVAudio
        do {
            audio = try WAVAudio.decode(wav)
        } catch {
            throw APIError(error.unsupported ? .unsupportedMediaType : .unprocessableContent, code: "unsupported_audio", error.description + "; " + Self.accepted)
        }
        guard audio.seconds >= 0.3 else {
            throw APIError(.unprocessableContent, code: "audio_too_short", "the recording is shorter than 0.3 seconds; " + Self.accepted)
        }
        guard audio.seconds <= Self.maximumSeconds else {
            throw APIError(.unprocessableContent, code: "audio_too_long", "the recording is \(Int(audio.seconds)) seconds long; " + Self.accepted)
        }
        let sttStart = ContinuousClock.now
        let heard: Transcript
        do {
            heard = try await speechToText.transcribe(audio)
        } catch {
            throw Self.apiError(error, step: "stt", doing: "speech recognition")
        }
        let transcript = heard.text
        let sttMilliseconds = (ContinuousClock.now - sttStart).inSeconds * 1000
        guard !transcript.isEmpty else {
            throw APIError(.unprocessableContent, code: "no_speech", "no speech was recognised in the recording; speak closer to the microphone")
        }
        let wantsWAV = request.headers[.accept]?.contains("audio/wav") == true
        if let confidence = heard.confidence, confidence < confirmBelow {
            let message = "I'm not sure I heard that right. Did you say: \u{201C}\(transcript)\u{201D}? Send it if it is right, or say or type your question again."
            let ttsStart = ContinuousClock.now
            let speech: WAVAudio
            do {
                speech = try await textToSpeech.speak("I'm not sure I heard that right. Did you say: \(transcript)?")
            } catch {
                throw Self.apiError(error, step: "tts", doing: "speech synthesis")
            }
            let ttsMilliseconds = (ContinuousClock.now - ttsStart).inSeconds * 1000
            let bytes = speech.encoded()
            if wantsWAV {
                var headers = Self.headers(["X-Omnifin-Transcript": transcript, "X-Omnifin-Answer": message])
                headers[HTTPField.Name("X-Omnifin-Needs-Confirmation")!] = "true"
                headers[HTTPField.Name("X-Omnifin-Confidence")!] = String(format: "%.2f", confidence)
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            }
            return try ConfirmationResponse(
                conversationId: conversation, transcript: transcript, confidence: (confidence * 100).rounded() / 100, message: message,
                audio: Audio(mime: "audio/wav", base64: Data(bytes).base64EncodedString()),
                timings: Timings(sttMs: sttMilliseconds.rounded(), retrievalMs: 0, generationMs: 0, ttsMs: ttsMilliseconds.rounded())
            ).response(from: request, context: context)
        }
        let turn = try await turns.complete(try await turns.start(transcript, conversationID: conversation, caller: caller), caller: caller, voice: true)
        let result = turn.answer
        let ttsStart = ContinuousClock.now
        let speech: WAVAudio
        do {
            speech = try await textToSpeech.speak(result.text)
        } catch {
            throw Self.apiError(error, step: "tts", doing: "speech synthesis")
        }
        let ttsMilliseconds = (ContinuousClock.now - ttsStart).inSeconds * 1000
        let bytes = speech.encoded()
        if wantsWAV {
            var headers = Self.headers([
                "X-Omnifin-Transcript": transcript, "X-Omnifin-Answer": result.text, "X-Omnifin-Conversation-Id": turn.conversationID,
                "X-Omnifin-Message-Id": turn.messageID,
            ])
            headers[HTTPField.Name("X-Omnifin-Grounded")!] = result.grounded ? "true" : "false"
            headers[HTTPField.Name("X-Omnifin-Needs-Confirmation")!] = "false"
            if let confidence = heard.confidence { headers[HTTPField.Name("X-Omnifin-Confidence")!] = String(format: "%.2f", confidence) }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        return try VoiceResponse(
            conversationId: turn.conversationID, messageId: turn.messageID, transcript: transcript,
            confidence: heard.confidence.map { ($0 * 100).rounded() / 100 }, answer: result.text, citations: result.citations,
            grounded: result.grounded, generator: result.generator, audio: Audio(mime: "audio/wav", base64: Data(bytes).base64EncodedString()),
            timings: Timings(
                sttMs: sttMilliseconds.rounded(), retrievalMs: result.retrievalMilliseconds.rounded(), generationMs: result.generationMilliseconds.rounded(),
                ttsMs: ttsMilliseconds.rounded())
        ).response(from: request, context: context)
    }

    /// A WAV answer's headers: audio/wav and the texts, percent-encoded UTF-8.
    static func headers(_ texts: KeyValuePairs<String, String>) -> HTTPFields {
        var headers = HTTPFields()
        headers[.contentType] = "audio/wav"
        for (name, value) in texts {
            headers[HTTPField.Name(name)!] = value.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))) ?? ""
        }
        return headers
    }
}
