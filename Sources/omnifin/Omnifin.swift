import ArgumentParser
import Index

@main
struct Omnifin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "omnifin",
        abstract: "Omnifin: a self-hosted knowledge search engine with a chat layer for finance teams.",
        subcommands: [Serve.self, IngestCommand.self, Admin.self, Backup.self, Eval.self, Reindex.self, Embed.self, Bench.self]
    )

    /// Before any command: OpenBLAS with one thread per call (``BLASThreads``), whatever the environment says.
    static func main() async {
        BLASThreads.ensureOnePerCall()
        await main(nil)
    }
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a benchmark. Build with -c release for meaningful figures.",
        subcommands: [BenchANN.self, BenchEmbed.self, BenchStore.self, BenchIngest.self, BenchDocument.self, BenchVoice.self]
    )
}
