import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
public import Retrieval

/// Why a speech API call failed: 502 when the provider answered badly, 504 when it did not answer in time.
public struct SpeechServiceError: Error, CustomStringConvertible {
    public var timedOut: Bool
    public var description: String
}
/// Speech to text through `POST /v1/audio/transcriptions` (OpenAI Whisper, faster-whisper servers, LocalAI):
/// the recording goes up as 16 kHz mono WAV in a multipart form.
public struct OpenAITranscriber: SpeechToText {
    public let api: LLMAPIConfiguration
    public let model: String

    public init(api: LLMAPIConfiguration, model: String) {
        self.api = api
        self.model = model
    }

    public var name: String { "api:\(model)" }
    public var detail: String? { api.baseURL }

    public struct Transcription: Decodable {
        public var text: String
    }

    public func transcribe(_ audio: WAVAudio) async throws -> Transcript {
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
        return Transcript(text: transcription.text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
/// Text to speech through `POST /v1/audio/speech` with `response_format: wav`; the answer must be a PCM WAV.
public struct OpenAISpeaker: TextToSpeech {
    public let api: LLMAPIConfiguration
    public let model: String
    public let voice: String

    public init(api: LLMAPIConfiguration, model: String, voice: String) {
        self.api = api
        self.model = model
        self.voice = voice
    }

    public var name: String { "api:\(model):\(voice)" }

    public struct SpeechRequest: Encodable {
        public var model: String
        public var input: String
        public var voice: String
        public var response_format = "wav"
    }

    public func speak(_ text: String) async throws -> WAVAudio {
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

/// One exchange with an OpenAI-compatible speech route: a deadline per attempt, retries with backoff for
/// refused connections, 429 and 5xx, and errors that quote the provider's own message.
public struct SpeechAPIClient {
    public let api: LLMAPIConfiguration
    public let what: String

    public func send(_ path: String, contentType: String, body: [UInt8], accept: String) async throws -> (contentType: String, body: [UInt8]) {
        try await api.withRetries(limit: min(api.maxRetries, 2)) { _ in
            var request = api.request(path, method: .POST)
            request.headers.add(name: "Content-Type", value: contentType)
            request.headers.add(name: "Accept", value: accept)
            request.body = .bytes(body)
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
                throw RetryableFailure(error, retryAfter: LLMAPIConfiguration.retryAfter(response.headers))
            } catch let error as SpeechServiceError {
                throw error
            } catch let failure as RetryableFailure {
                throw failure
            } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
                throw RetryableFailure(
                    SpeechServiceError(timedOut: true, description: "the \(what) API did not answer within \(api.timeout) s (OMNIFIN_LLM_TIMEOUT)"))
            } catch {
                throw RetryableFailure(SpeechServiceError(timedOut: false, description: "the \(what) API at \(api.baseURL) cannot be reached: \(error)"))
            }
        }
    }

    /// The provider's own message in an error body, else the start of the body.
    public static func providerMessage(_ body: [UInt8]) -> String {
        LLMAPIConfiguration.providerDetail(body, limit: 200)
    }
}
