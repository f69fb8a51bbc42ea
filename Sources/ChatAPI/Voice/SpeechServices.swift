import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
public import Retrieval

/// Speech in: a recording becomes the text of the question.
protocol SpeechToText: Sendable {
    /// `pocketsphinx` or `api:MODEL`, shown by `/api/chat/status`.
    var name: String { get }
    var detail: String? { get }
    func transcribe(_ audio: WAVAudio) async throws -> String
}

/// Speech out: the answer read aloud.
protocol TextToSpeech: Sendable {
    var name: String { get }
    func speak(_ text: String) async throws -> WAVAudio
}

extension SpeechRecognizer: SpeechToText {
    var name: String { "pocketsphinx" }
    var detail: String? {
        let (model, dictionary) = models
        return "language model: \((model as NSString).lastPathComponent), dictionary: \((dictionary as NSString).lastPathComponent)"
    }

    func transcribe(_ audio: WAVAudio) async throws -> String {
        try await transcribe(audio.resampled(to: 16_000).samples)
    }
}

extension SpeechSynthesizer: TextToSpeech {
    var name: String { "espeak-ng:\(voice)" }
}

/// Which speech tools voice chat uses: the built-in ones (PocketSphinx, eSpeak NG) or an OpenAI-compatible API
/// (`POST /v1/audio/transcriptions`, `POST /v1/audio/speech`).
public struct SpeechConfiguration: Sendable {
    public enum Engine: Sendable, Equatable {
        case builtin
        case api(LLMAPIConfiguration, model: String)
        /// Switched off (`none`): voice chat answers 503 and the status says so.
        case off
    }

    public var stt: Engine = .builtin
    public var tts: Engine = .builtin
    /// The API's voice for `tts` (`OMNIFIN_TTS_VOICE`, default `alloy`).
    public var ttsVoice = "alloy"
    /// The stock en-us language model's share of the model the built-in recogniser builds from the knowledge bank
    /// (`OMNIFIN_STT_STOCK_WEIGHT`, from 0 to below 1; see ``LanguageModelBuilder``).
    public var stockWeight = LanguageModelBuilder.stockWeight
    /// The most words of that model (`OMNIFIN_STT_MAX_WORDS`, 100–1,000,000; see ``LanguageModelBuilder/maximumWords``).
    public var maximumWords = LanguageModelBuilder.maximumWords
    /// What ``maximumWords`` may be.
    public static let maximumWordsRange = 100...1_000_000

    /// Whether a share of the stock model is one ``stockWeight`` may be: from 0 to below 1.
    public static func isStockWeight(_ share: Double) -> Bool { share >= 0 && share < 1 }

    public init() {}

    /// Reads `OMNIFIN_STT` and `OMNIFIN_TTS` (`builtin`, `api` or `none`), `OMNIFIN_STT_MODEL` (default `whisper-1`),
    /// `OMNIFIN_TTS_MODEL` (default `tts-1`), `OMNIFIN_TTS_VOICE`, `OMNIFIN_STT_STOCK_WEIGHT`, `OMNIFIN_STT_MAX_WORDS`, and the API's address from
    /// `OMNIFIN_SPEECH_BASE_URL`, else `OMNIFIN_LLM_BASE_URL` (key: `OMNIFIN_SPEECH_API_KEY`, else `OMNIFIN_LLM_API_KEY`).
    public static func fromEnvironment(_ environment: [String: String]) throws -> SpeechConfiguration {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        var configuration = SpeechConfiguration()
        func engine(_ variable: String, modelVariable: String, defaultModel: String) throws -> Engine {
            switch value(variable) ?? "builtin" {
            case "builtin": return .builtin
            case "none": return .off
            case "api":
                guard let base = value("OMNIFIN_SPEECH_BASE_URL") ?? value("OMNIFIN_LLM_BASE_URL") else {
                    throw ServerConfiguration.Invalid(description: "\(variable)=api needs OMNIFIN_SPEECH_BASE_URL or OMNIFIN_LLM_BASE_URL")
                }
                guard let url = URL(string: base), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                    throw ServerConfiguration.Invalid(description: "the speech API address '\(base)' is not an http(s) URL")
                }
                var api = LLMAPIConfiguration(baseURL: base, apiKey: value("OMNIFIN_SPEECH_API_KEY") ?? value("OMNIFIN_LLM_API_KEY"))
                if let raw = value("OMNIFIN_LLM_TIMEOUT"), let seconds = Double(raw), seconds > 0, seconds <= 600 { api.timeout = seconds }
                return .api(api, model: value(modelVariable) ?? defaultModel)
            case let other:
                throw ServerConfiguration.Invalid(description: "\(variable) is '\(other)'; use builtin, api or none")
            }
        }
        configuration.stt = try engine("OMNIFIN_STT", modelVariable: "OMNIFIN_STT_MODEL", defaultModel: "whisper-1")
        configuration.tts = try engine("OMNIFIN_TTS", modelVariable: "OMNIFIN_TTS_MODEL", defaultModel: "tts-1")
        if let voice = value("OMNIFIN_TTS_VOICE") { configuration.ttsVoice = voice }
        if let raw = value("OMNIFIN_STT_STOCK_WEIGHT") {
            guard let weight = Double(raw), isStockWeight(weight) else {
                throw ServerConfiguration.Invalid(description: "OMNIFIN_STT_STOCK_WEIGHT '\(raw)' is not a number from 0 to below 1")
            }
            configuration.stockWeight = weight
        }
        if let raw = value("OMNIFIN_STT_MAX_WORDS") {
            guard let words = Int(raw), maximumWordsRange.contains(words) else {
                throw ServerConfiguration.Invalid(description: "OMNIFIN_STT_MAX_WORDS '\(raw)' is not a whole number from 100 to 1000000")
            }
            configuration.maximumWords = words
        }
        return configuration
    }
}

/// Why a speech API call failed: 502 when the provider answered badly, 504 when it did not answer in time.
struct SpeechServiceError: Error, CustomStringConvertible {
    var timedOut: Bool
    var description: String
}

/// One exchange with an OpenAI-compatible speech route: a deadline per attempt, retries with backoff for
/// refused connections, 429 and 5xx, and errors that quote the provider's own message.
private struct SpeechAPIClient {
    let api: LLMAPIConfiguration
    let what: String

    func send(_ path: String, contentType: String, body: [UInt8], accept: String) async throws -> (contentType: String, body: [UInt8]) {
        var attempt = 0
        while true {
            var request = HTTPClientRequest(url: api.url(path))
            request.method = .POST
            request.headers.add(name: "Content-Type", value: contentType)
            request.headers.add(name: "Accept", value: accept)
            if let key = api.apiKey { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
            request.body = .bytes(body)
            let retryable: SpeechServiceError
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(Int64(api.timeout * 1000)))
                let bytes = try await response.body.collect(upTo: 32 << 20)
                let payload = Array(bytes.readableBytesView)
                if response.status == .ok {
                    return (response.headers.first(name: "Content-Type") ?? "", payload)
                }
                let error = SpeechServiceError(
                    timedOut: false, description: "the \(what) API answered \(response.status.code): \(Self.providerMessage(payload))")
                guard response.status == .tooManyRequests || response.status.code >= 500 else { throw error }
                retryable = error
            } catch let error as SpeechServiceError {
                throw error
            } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
                retryable = SpeechServiceError(timedOut: true, description: "the \(what) API did not answer within \(api.timeout) s (OMNIFIN_LLM_TIMEOUT)")
            } catch {
                retryable = SpeechServiceError(timedOut: false, description: "the \(what) API at \(api.baseURL) cannot be reached: \(error)")
            }
            attempt += 1
            guard attempt <= min(api.maxRetries, 2) else { throw retryable }
            let pause = min(api.maxBackoff, api.initialBackoff * pow(2, Double(attempt - 1)))
            try await Task.sleep(for: .milliseconds(Int64(pause * 1000)))
        }
    }

    /// The `error.message` of an OpenAI-style error body, else the start of the body.
    static func providerMessage(_ body: [UInt8]) -> String {
        if let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let message = (object["error"] as? [String: Any])?["message"] as? String ?? object["error"] as? String
        {
            return message
        }
        return String(decoding: body.prefix(200), as: UTF8.self)
    }
}

/// Speech to text through `POST /v1/audio/transcriptions` (OpenAI Whisper, faster-whisper servers, LocalAI):
/// the recording goes up as 16 kHz mono WAV in a multipart form.
struct OpenAITranscriber: SpeechToText {
    let api: LLMAPIConfiguration
    let model: String

    var name: String { "api:\(model)" }
    var detail: String? { api.baseURL }

    struct Transcription: Decodable {
        var text: String
    }

    func transcribe(_ audio: WAVAudio) async throws -> String {
        let boundary = "omnifin-" + UUID().uuidString
        var body: [UInt8] = []
        func field(_ name: String, _ value: String) {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        field("model", model)
        field("response_format", "json")
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"question.wav\"\r\nContent-Type: audio/wav\r\n\r\n".utf8)
        body += audio.resampled(to: 16_000).encoded()
        body += Array("\r\n--\(boundary)--\r\n".utf8)
        let client = SpeechAPIClient(api: api, what: "transcription")
        let (_, answer) = try await client.send("audio/transcriptions", contentType: "multipart/form-data; boundary=\(boundary)", body: body, accept: "application/json")
        guard let transcription = try? JSONDecoder().decode(Transcription.self, from: Data(answer)) else {
            throw SpeechServiceError(timedOut: false, description: "the transcription API answered without a JSON {\"text\"}: \(SpeechAPIClient.providerMessage(answer))")
        }
        return transcription.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Text to speech through `POST /v1/audio/speech` with `response_format: wav`; the answer must be a PCM WAV.
struct OpenAISpeaker: TextToSpeech {
    let api: LLMAPIConfiguration
    let model: String
    let voice: String

    var name: String { "api:\(model):\(voice)" }

    struct SpeechRequest: Encodable {
        var model: String
        var input: String
        var voice: String
        var response_format = "wav"
    }

    func speak(_ text: String) async throws -> WAVAudio {
        let body = try JSONEncoder().encode(SpeechRequest(model: model, input: SpeechSynthesizer.speakable(text), voice: voice))
        let client = SpeechAPIClient(api: api, what: "speech")
        let (_, answer) = try await client.send("audio/speech", contentType: "application/json", body: Array(body), accept: "audio/wav")
        do {
            return try WAVAudio.decode(answer)
        } catch {
            throw SpeechServiceError(timedOut: false, description: "the speech API did not answer with a PCM WAV: \(error.description)")
        }
    }
}
