import ArgumentParser
import Foundation
import Index
import OmnifinBenchmarks
import Retrieval

/// The texts to embed and how: shared by `omnifin embed` and `omnifin bench embed`.
struct TextInputOptions: ParsableArguments {
    @Option(help: "Texts: .tsv (second column) or .jsonl (\"text\" field).") var input: String
    @Option(help: "Use only the first N texts.") var limit: Int?
    @Option(help: "Threads (default: all cores).") var threads: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func texts() throws -> [String] { try TextFile.read(input, limit: limit) }
}

struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Embed texts with the built-in all-MiniLM-L6-v2 model into an .fvecs file.",
        discussion: """
            The input is a .tsv (texts in the second column) or a .jsonl (a "text" field per line). The output holds one \
            L2-normalised 384-d vector per text, in input order (TEXMEX .fvecs). The model is fetched by `make model` \
            into OMNIFIN_MODEL_DIR (default ~/.cache/omnifin/models/all-MiniLM-L6-v2).

            Example, the 100k benchmark base set:
              omnifin embed --input ../shared/data/ann/pypi-minilm-100k/texts.tsv \\
                --output var/base.fvecs
            """
    )

    @OptionGroup var source: TextInputOptions
    @Option(help: "Where to write the vectors (.fvecs).") var output: String

    func run() throws {
        do {
            let texts = try source.texts()
            let embedder = try Wiring.builtinEmbedder(try Wiring.settings(), threads: source.threads)
            let (vectors, tokens) = embedder.embedFlat(texts)
            try VectorFile.writeFloatVectors(vectors, dimension: embedder.dimension ?? 384, to: output)
            FileHandle.standardError.write(Data("embedded \(texts.count) texts (\(tokens) tokens) into \(output)\n".utf8))
        } catch let error as EmbeddingError {
            throw ValidationError(error.message)
        } catch let error as BenchmarkError {
            throw ValidationError(error.description)
        } catch let error as IndexError {
            throw ValidationError(error.message)
        }
    }
}

struct BenchEmbed: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Measure the built-in embedder's throughput (texts/s and tokens/s).",
        discussion: """
            `make bench-embed` runs it beside sentence-transformers on the same texts and threads.

            Example:
              omnifin bench embed --input ../shared/data/scifact/corpus.jsonl \\
                --limit 300 --threads 2
            """
    )

    @OptionGroup var source: TextInputOptions
    @Flag(help: "Print one JSON document.") var json = false

    func run() throws {
        do {
            let report = EmbedBenchmark.run(texts: try source.texts(), embedder: try Wiring.builtinEmbedder(try Wiring.settings(), threads: source.threads))
            print(json ? report.json : report.table)
        } catch let error as EmbeddingError {
            throw ValidationError(error.message)
        } catch let error as BenchmarkError {
            throw ValidationError(error.description)
        }
    }
}
