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

/// `POST /api/chat/voice`: a recorded question in, a spoken grounded answer out, through the same pipeline as
/// text chat.
struct VoiceController {
    let pipeline: ChatPipeline
    /// `nil` when voice is off (`OMNIFIN_STT=none`, `OMNIFIN_TTS=none`, or the built-in tools are not installed):
    /// the route then answers 503 saying why.
    let speechToText: (any SpeechToText)?
    let textToSpeech: (any TextToSpeech)?
    /// Why voice is off, for that answer.
    let offReason: String
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
        var answer: String
        var citations: [CitationView]
        var grounded: Bool
        var generator: String
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
        let transcript: String
        do {
            transcript = try await speechToText.transcribe(audio)
        } catch {
            throw Self.apiError(error, step: "stt", doing: "speech recognition")
        }
        let sttMilliseconds = (ContinuousClock.now - sttStart).inSeconds * 1000
        guard !transcript.isEmpty else {
            throw APIError(.unprocessableContent, code: "no_speech", "no speech was recognised in the recording; speak closer to the microphone")
        }
        let turn = try await pipeline.prepare(question: transcript, conversationID: conversation, caller: caller, voice: true)
        let (stream, generator) = pipeline.generate(turn)
        var answer = ""
        do {
            for try await token in stream { answer += token }
        } catch let error as GenerationError {
            throw ChatController.apiError(error)
        }
        let result = try await pipeline.finish(turn, answer: answer, generator: generator.name, caller: caller)
        let ttsStart = ContinuousClock.now
        let speech: WAVAudio
        do {
            speech = try await textToSpeech.speak(result.answer)
        } catch {
            throw Self.apiError(error, step: "tts", doing: "speech synthesis")
        }
        let ttsMilliseconds = (ContinuousClock.now - ttsStart).inSeconds * 1000
        let bytes = speech.encoded()
        if request.headers[.accept]?.contains("audio/wav") == true {
            var headers = HTTPFields()
            headers[.contentType] = "audio/wav"
            func header(_ name: String, _ value: String) {
                headers[HTTPField.Name(name)!] = value.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))) ?? ""
            }
            header("X-Omnifin-Transcript", transcript)
            header("X-Omnifin-Answer", result.answer)
            header("X-Omnifin-Conversation-Id", result.conversationID)
            header("X-Omnifin-Message-Id", result.messageID)
            headers[HTTPField.Name("X-Omnifin-Grounded")!] = result.grounded ? "true" : "false"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        return try VoiceResponse(
            conversationId: result.conversationID, messageId: result.messageID, transcript: transcript, answer: result.answer, citations: result.citations,
            grounded: result.grounded, generator: result.generator, audio: Audio(mime: "audio/wav", base64: Data(bytes).base64EncodedString()),
            timings: Timings(
                sttMs: sttMilliseconds.rounded(), retrievalMs: result.retrievalMilliseconds.rounded(), generationMs: result.generationMilliseconds.rounded(),
                ttsMs: ttsMilliseconds.rounded())
        ).response(from: request, context: context)
    }
}

/// A minimal multipart/form-data reader: the fields by name, their bytes as sent.
enum MultipartForm {
    static func boundary(_ contentType: String) -> String? {
        guard let range = contentType.range(of: "boundary=") else { return nil }
        let value = contentType[range.upperBound...].prefix { $0 != ";" }.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        return value.isEmpty ? nil : value
    }

    static func parts(_ body: [UInt8], boundary: String) -> [String: [UInt8]] {
        let delimiter = Array(("--" + boundary).utf8)
        var result: [String: [UInt8]] = [:]
        var starts: [Int] = []
        var index = 0
        while index + delimiter.count <= body.count {
            if body[index] == delimiter[0], Array(body[index..<index + delimiter.count]) == delimiter {
                starts.append(index)
                index += delimiter.count
            } else {
                index += 1
            }
        }
        for (position, start) in starts.enumerated() where position + 1 < starts.count {
            var part = Array(body[(start + delimiter.count)..<starts[position + 1]])
            if part.starts(with: [13, 10]) { part.removeFirst(2) }
            if part.suffix(2) == [13, 10] { part.removeLast(2) }
            guard let split = (0..<max(0, part.count - 3)).first(where: { part[$0] == 13 && part[$0 + 1] == 10 && part[$0 + 2] == 13 && part[$0 + 3] == 10 }) else {
                continue
            }
            let headers = String(decoding: part[..<split], as: UTF8.self)
            guard let nameRange = headers.range(of: "name=\"") else { continue }
            let name = String(headers[nameRange.upperBound...].prefix { $0 != "\"" })
            result[name] = Array(part[(split + 4)...])
        }
        return result
    }
}

/// Keeps the recogniser's language model in step with the knowledge bank: built at start and rebuilt in the
/// background when the bank's generation moves.
struct VoiceModelService: Service {
    let bank: KnowledgeBank
    let recognizer: SpeechRecognizer
    let directory: String
    let logger: Logger
    var interval: Duration = .seconds(30)
    /// The stock en-us model's share of the built model (``LanguageModelBuilder/stockWeight``).
    var stockWeight = LanguageModelBuilder.stockWeight
    /// The most words of the built model (``LanguageModelBuilder/maximumWords``).
    var maximumWords = LanguageModelBuilder.maximumWords
    /// Whose models these are (``namespace(database:)``): servers of other databases may share the folder, and
    /// only this namespace's older models are deleted.
    var namespace = "local"

    /// The namespace of a database's models: `db` and 8 hex digits of the SHA-256 of its URL (never the URL, which
    /// may hold a password). Replicas of one database share their models.
    static func namespace(database: String) -> String {
        "db" + SHA256.hash(data: Data(database.utf8)).prefix(4).hexadecimal
    }

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var built: Int64 = -1
            while !Task.isCancelled {
                let generation = bank.generation
                if generation != built {
                    built = generation
                    await rebuild()
                }
                try await Task.sleep(for: interval)
            }
        }
    }

    /// Names the way models are built, so a model built by an older version is never reused.
    static let recipe = "kn3"

    /// Whether a file of the model folder is one a rebuild in `namespace` may delete: a model of that namespace, or of
    /// a version before namespaces.
    static func isOwnModel(_ name: String, namespace: String) -> Bool {
        let parts = name.split(separator: "-")
        guard parts.count >= 4, parts[0] == "knowledge" else { return false }
        return parts[2] == namespace || parts[2].allSatisfy(\.isNumber)
    }

    /// Builds a new language model and dictionary from every document's title and body, writes them next to each
    /// other (`knowledge-kn3-NAMESPACE-GENERATION-DIGEST.lm` and `.dict`) and hands them to the recogniser.
    func rebuild() async {
        do {
            let started = ContinuousClock.now
            // The generation before reading: the files are named after what they are known to contain at least.
            let generation = bank.generation
            var documents: [(title: String, body: String)] = []
            var cursor: String?
            while true {
                let page = try await bank.store.documents(after: cursor, limit: 500, source: nil)
                documents += page.map { ($0.title, $0.body) }
                guard let last = page.last, page.count == 500 else { break }
                cursor = last.id
            }
            // Named by generation and by a digest of the text they are built from: another database (or the same
            // one recreated) can reach the same generation with other documents.
            var digest = SHA256()
            digest.update(data: Data("stock \(stockWeight) words \(maximumWords)\n".utf8))
            for (title, body) in documents {
                digest.update(data: Data(title.utf8) + [0] + Data(body.utf8) + [0])
            }
            let stem = "knowledge-\(Self.recipe)-\(namespace)-\(generation)-\(digest.finalize().prefix(8).hexadecimal)"
            let path = (directory as NSString).appendingPathComponent(stem + ".lm")
            let dictionaryPath = (directory as NSString).appendingPathComponent(stem + ".dict")
            // A restart over unchanged knowledge reuses the files built before it (both are written atomically).
            if FileManager.default.fileExists(atPath: path), FileManager.default.fileExists(atPath: dictionaryPath) {
                if recognizer.models != (path, dictionaryPath) {
                    recognizer.replaceLanguageModel(path, dictionary: dictionaryPath)
                    logger.info("speech language model of generation \(generation) reused from \(path)")
                }
                return
            }
            let corpus = documents
            let phonemizer = SpeechSynthesizer.phonemizer
            let (stockWeight, maximumWords, logger) = (stockWeight, maximumWords, logger)
            // Counting n-grams is CPU work: off the cooperative pool.
            let output = try await NIOThreadPool.singleton.runIfActive {
                let base = try PronunciationDictionary(contentsOfFile: SpeechRecognizer.stockDictionary)
                var stock: SphinxLanguageModel?
                if stockWeight > 0 {
                    do {
                        stock = try SphinxLanguageModel(path: SpeechRecognizer.stockLanguageModel)
                    } catch {
                        logger.warning("the speech language model is built without the stock model: \(error)")
                    }
                }
                return LanguageModelBuilder.build(
                    documents: corpus, dictionary: base, phonemizer: phonemizer, questionWeight: LanguageModelBuilder.questionWeight,
                    stock: stock.map { ($0, stockWeight) }, maximumWords: maximumWords)
            }
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try output.dictionary.write(toFile: dictionaryPath, atomically: true, encoding: .utf8)
            try output.arpa.write(toFile: path, atomically: true, encoding: .utf8)
            let previous = recognizer.models
            recognizer.replaceLanguageModel(path, dictionary: dictionaryPath)
            // A decoder may still be loading the previous model: keep it, drop this namespace's older ones (and those of
            // versions that named no namespace, `knowledge-kn3-GENERATION-…`). Other databases' models stay.
            let kept: Set = [path, dictionaryPath, previous.languageModel, previous.dictionary]
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where Self.isOwnModel(name, namespace: namespace) {
                let file = (directory as NSString).appendingPathComponent(name)
                if !kept.contains(file) { try? FileManager.default.removeItem(atPath: file) }
            }
            let milliseconds = Int((ContinuousClock.now - started).inSeconds * 1000)
            let nGrams = output.nGrams.map(String.init).joined(separator: "/")
            logger.info(
                "speech language model rebuilt from \(documents.count) documents in \(milliseconds) ms: \(output.words) words, n-grams \(nGrams), \(output.additions.count) pronunciations added"
            )
        } catch {
            logger.error("rebuilding the speech language model failed (the previous one stays): \(error)")
        }
    }
}
