import Foundation

extension AnswerBenchmark.Report {
    /// The report as Markdown: the figures overall and per kind, the threshold sweep, and (with `failures`) every
    /// question that missed, with its answer.
    public func markdown(title: String, failures: Bool = false) -> String {
        func ratio(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "–" }
        func milliseconds(_ value: Double) -> String { String(format: "%.0f", value) }
        var lines = [
            "### \(title)", "",
            "Generator `\(generator)`, relevance threshold \(String(format: "%.2f", relevanceThreshold)), \(overall.questions) questions."
                + (warmUp.map { " Warmed up first, as a started server: \($0.sentences) sentences in \(String(format: "%.1f", $0.seconds)) s." } ?? ""), "",
            "| kind | questions | complete | cites a right document | answered | unanswerable refused | off-topic refused | near-duplicates | restating | right document first / in top 5 | answer chars p50 / p90 | ms p50 / p95 cold | ms p50 / p95 warm |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        let rows = [("all", overall)] + AnswerQuestion.Kind.allCases.compactMap { kind in byKind[kind.rawValue].map { (kind.rawValue, $0) } }
        for (name, figures) in rows {
            lines.append(
                "| \(name) | \(figures.questions) | \(ratio(figures.complete)) | \(ratio(figures.citationAccuracy)) | \(ratio(figures.answered)) | "
                    + "\(ratio(figures.unanswerableRefused)) | \(ratio(figures.offTopicRefused)) | \(ratio(figures.nearDuplicates)) | "
                    + "\(ratio(figures.restatements)) | \(ratio(figures.hitAt1)) / \(ratio(figures.hitAt5)) | "
                    + "\(String(format: "%.0f", figures.answerCharactersP50)) / \(String(format: "%.0f", figures.answerCharactersP90)) | "
                    + "\(milliseconds(figures.coldP50Milliseconds)) / \(milliseconds(figures.coldP95Milliseconds)) | "
                    + (figures.warmP95Milliseconds > 0 ? "\(milliseconds(figures.warmP50Milliseconds)) / \(milliseconds(figures.warmP95Milliseconds)) |" : "– |"))
        }
        if let first = overall.firstTokenP50Milliseconds, let last = overall.firstTokenP95Milliseconds {
            lines += [
                "",
                "First token p50 / p95 \(milliseconds(first)) / \(milliseconds(last)) ms"
                    + (overall.tokensPerSecond.map { String(format: ", %.1f tokens/s after it", $0) } ?? "")
                    + (overall.sentencesRemoved.map { String(format: "; the claim check removed %.0f %% of the generated sentences", $0 * 100) } ?? "")
                    + (overall.withheld.map { String(format: " and withheld %.0f %% of the answers whole (no cited sentence held up)", $0 * 100) } ?? "")
                    + ".",
            ]
        }
        if overall.citationPrecisionAt1 != nil {
            lines += [
                "",
                "Citation precision@1 \(ratio(overall.citationPrecisionAt1)), citation recall \(ratio(overall.citationRecall)), false refusals \(ratio(overall.falseRefusals)).",
            ]
        }
        if !sweep.isEmpty {
            lines += [
                "", "Relevance threshold swept over the same answers:", "",
                "| threshold | complete | false refusals | unanswerable refused | off-topic refused |", "|---:|---:|---:|---:|---:|",
            ]
            for row in sweep {
                lines.append(
                    "| \(String(format: "%.2f", row.threshold)) | \(ratio(row.complete)) | \(ratio(row.falseRefusals)) | \(ratio(row.unanswerableRefused)) | \(ratio(row.offTopicRefused)) |"
                )
            }
        }
        if failures {
            let missed = results.filter { result in
                result.complete == false || (result.complete == nil && !result.refused) || result.nearDuplicates > 0 || result.restatements > 0
            }
            lines += ["", "\(missed.count) answers to look at:", ""]
            for result in missed {
                var why: [String] = []
                if result.complete != nil && result.refused { why.append("refused") }
                if result.complete == nil && !result.refused { why.append("answered, should refuse") }
                if !result.missing.isEmpty && !result.refused { why.append("misses " + result.missing.map { "\"\($0)\"" }.joined(separator: ", ")) }
                if !result.forbidden.isEmpty { why.append("says " + result.forbidden.map { "\"\($0)\"" }.joined(separator: ", ")) }
                if result.citesRightDocument == false { why.append("cites " + result.cited.joined(separator: ", ")) }
                if result.nearDuplicates > 0 { why.append("repeats itself") }
                if result.restatements > 0 { why.append("restates the question") }
                let rank = result.documentRank.map { "document rank \($0)" } ?? (result.complete == nil ? "" : "document not retrieved")
                lines.append("- **\(result.id)** (\(result.kind.rawValue); \(why.joined(separator: "; ")); best \(String(format: "%.2f", result.bestScore)) \(rank)) \(result.question)")
                lines.append("  > " + result.answer.replacingOccurrences(of: "\n", with: "\n  > "))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
