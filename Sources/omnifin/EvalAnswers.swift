import ArgumentParser
import Chat
import Foundation
import Retrieval
import Storage

/// `omnifin eval --answers`: the wiring of ``AnswerBenchmark`` (question files, the corpus, the output).
extension Eval {
    /// `--sweep` as numbers.
    func thresholds() throws -> [Double] {
        guard let sweep else { return [] }
        let values = sweep.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0.map { (-1...1).contains($0) } ?? false }) else {
            throw ValidationError("--sweep takes thresholds between -1 and 1 separated by commas, e.g. 0.2,0.3,0.4")
        }
        return values.map { $0! }
    }

    /// The question files over the `--corpus` folder, read into a fresh in-memory knowledge bank with the configured
    /// embedder, as the server would (no embedding cache, so the first pass is really cold).
    func answerQuestionFiles() async throws {
        var sets: [(String, [AnswerQuestion])] = []
        for path in questions {
            do {
                sets.append((URL(fileURLWithPath: path).lastPathComponent, try AnswerQuestion.load(path: path)))
            } catch {
                throw ValidationError(error.description)
            }
        }
        let settings = try Wiring.settings()
        let embedder = try Wiring.embedder(settings, threads: threads)
        let store = try SQLiteStore(path: ":memory:")
        defer { Task { await store.close() } }
        let (bank, _) = try await KnowledgeBank.open(
            store: store, embedder: embedder, chunker: KnowledgeBank.defaultChunker(for: embedder), logger: Wiring.logger("omnifin.eval"))
        let documents = try Wiring.markdownFolder(corpus)
        _ = try await bank.upsert(documents, rights: .everything)
        let names = Set(documents.compactMap(\.externalID))
        for (name, items) in sets {
            for item in items {
                if let unknown = item.documents.first(where: { !names.contains($0) }) {
                    throw ValidationError("\(name) (\(item.id)): \(unknown) is not in \(corpus)")
                }
            }
        }
        try await answer(sets, bank: bank)
    }

    /// Scores each set (and `--negatives` as a set of off-topic questions) and prints the reports.
    func answer(_ sets: [(String, [AnswerQuestion])], bank: KnowledgeBank) async throws {
        var sets = sets
        if let negatives {
            let lines: [Substring]
            do {
                lines = try String(contentsOfFile: negatives, encoding: .utf8).split(separator: "\n")
            } catch {
                throw ValidationError("--negatives \(negatives): \(error.localizedDescription)")
            }
            let offTopic = lines.prefix(300).enumerated().compactMap { index, line -> AnswerQuestion? in
                guard let text = (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["text"] as? String else { return nil }
                return AnswerQuestion(id: "n\(index + 1)", kind: .offTopic, question: text, answerable: false, documents: [])
            }
            sets.append((URL(fileURLWithPath: negatives).lastPathComponent + " (off-topic)", offTopic))
        }
        var configuration = ChatConfiguration(try Wiring.settings(overrides: llmModel.map { ["OMNIFIN_LLM_MODEL": $0] } ?? [:]))
        if let relevance { configuration.relevanceThreshold = relevance }
        let stderr = FileHandle.standardError
        var reports: [String: AnswerBenchmark.Report] = [:]
        for (name, items) in sets {
            // A fresh answerer per set: its sentence cache starts cold, as on a fresh server.
            let benchmark = AnswerBenchmark(bank: bank, configuration: configuration, logger: Wiring.logger("omnifin.eval"))
            let warmed = warmUp ? try await benchmark.warmUp() : nil
            // With OMNIFIN_LLM_MODEL the answerer's llama.cpp engine runs for the set, as a server runs it.
            let engine = benchmark.answerer.engine
            let running = engine.map { engine in Task { await engine.run() } }
            defer { running?.cancel() }
            if let engine {
                do {
                    try engine.checkFiles()
                } catch {
                    throw ValidationError(error.description)
                }
                guard await engine.waitUntilReady(timeout: .seconds(180)) else {
                    throw ValidationError("the llama.cpp engine did not start: \(engine.status.lastExit ?? "not ready after 180 s")")
                }
            }
            var report = try await benchmark.run(items, sweep: try thresholds()) { pass, done in
                stderr.write(Data("\r  \(name): pass \(pass), \(done)/\(items.count)".utf8))
            }
            if let running {
                running.cancel()
                await running.value
            }
            report.warmUp = warmed
            stderr.write(Data("\n".utf8))
            if json {
                var trimmed = report
                if !verbose { trimmed.results = [] }
                reports[name] = trimmed
            } else {
                print(report.markdown(title: name, failures: verbose))
            }
        }
        if json { try JSONOutput.print(reports) }
    }
}
