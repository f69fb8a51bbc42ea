import CBLAS
import Foundation

/// The hyper-parameters of a BERT encoder, read from the model's `config.json`.
public struct BERTConfiguration: Sendable, Equatable, Decodable {
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var intermediateSize: Int
    public var maxPositions: Int
    public var typeVocabularySize: Int
    public var layerNormEpsilon: Float
    public var activation: String

    enum CodingKeys: String, CodingKey {
        case vocabularySize = "vocab_size"
        case hiddenSize = "hidden_size"
        case layerCount = "num_hidden_layers"
        case headCount = "num_attention_heads"
        case intermediateSize = "intermediate_size"
        case maxPositions = "max_position_embeddings"
        case typeVocabularySize = "type_vocab_size"
        case layerNormEpsilon = "layer_norm_eps"
        case activation = "hidden_act"
    }
}

/// The forward pass of a BERT encoder with mean pooling and L2 normalisation, every matrix product in BLAS
/// (`cblas_sgemm`).
///
/// A batch is ragged: the tokens of all its texts are stacked without padding, so the dense layers multiply
/// exactly the real tokens and attention runs per text and head over that text's own length. Padding costs
/// nothing, and no attention mask is needed.
final class BERTEncoder: Sendable {
    struct Layer: Sendable {
        /// Query, key and value projections stacked: `3·hidden × hidden`, one `sgemm` for all three.
        var qkvWeight: [Float]
        var qkvBias: [Float]
        var outputWeight: [Float]
        var outputBias: [Float]
        var attentionNormGamma: [Float]
        var attentionNormBeta: [Float]
        var intermediateWeight: [Float]
        var intermediateBias: [Float]
        var feedForwardWeight: [Float]
        var feedForwardBias: [Float]
        var outputNormGamma: [Float]
        var outputNormBeta: [Float]
    }

    let configuration: BERTConfiguration
    let wordEmbeddings: [Float]
    let positionEmbeddings: [Float]
    let tokenTypeEmbeddings: [Float]
    let embeddingNormGamma: [Float]
    let embeddingNormBeta: [Float]
    let layers: [Layer]

    /// Loads the weights from `weights`, checking every tensor's shape against `configuration`.
    init(configuration c: BERTConfiguration, weights: SafeTensors) throws {
        guard c.hiddenSize > 0, c.headCount > 0, c.layerCount >= 0, c.intermediateSize > 0, c.maxPositions > 0, c.vocabularySize > 0,
            c.typeVocabularySize > 0, c.hiddenSize % c.headCount == 0, c.activation == "gelu"
        else {
            throw EmbeddingError.modelCorrupt("unsupported encoder configuration (hidden \(c.hiddenSize), heads \(c.headCount), \(c.activation))")
        }
        configuration = c
        let prefix = weights.tensors["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
        func tensor(_ name: String, _ shape: [Int]) throws -> [Float] { try weights.floats(prefix + name, shape: shape) }
        let h = c.hiddenSize
        wordEmbeddings = try tensor("embeddings.word_embeddings.weight", [c.vocabularySize, h])
        positionEmbeddings = try tensor("embeddings.position_embeddings.weight", [c.maxPositions, h])
        tokenTypeEmbeddings = try tensor("embeddings.token_type_embeddings.weight", [c.typeVocabularySize, h])
        embeddingNormGamma = try tensor("embeddings.LayerNorm.weight", [h])
        embeddingNormBeta = try tensor("embeddings.LayerNorm.bias", [h])
        layers = try (0..<c.layerCount).map { i in
            let p = "encoder.layer.\(i)."
            return Layer(
                qkvWeight: try tensor(p + "attention.self.query.weight", [h, h]) + tensor(p + "attention.self.key.weight", [h, h])
                    + tensor(p + "attention.self.value.weight", [h, h]),
                qkvBias: try tensor(p + "attention.self.query.bias", [h]) + tensor(p + "attention.self.key.bias", [h])
                    + tensor(p + "attention.self.value.bias", [h]),
                outputWeight: try tensor(p + "attention.output.dense.weight", [h, h]),
                outputBias: try tensor(p + "attention.output.dense.bias", [h]),
                attentionNormGamma: try tensor(p + "attention.output.LayerNorm.weight", [h]),
                attentionNormBeta: try tensor(p + "attention.output.LayerNorm.bias", [h]),
                intermediateWeight: try tensor(p + "intermediate.dense.weight", [c.intermediateSize, h]),
                intermediateBias: try tensor(p + "intermediate.dense.bias", [c.intermediateSize]),
                feedForwardWeight: try tensor(p + "output.dense.weight", [h, c.intermediateSize]),
                feedForwardBias: try tensor(p + "output.dense.bias", [h]),
                outputNormGamma: try tensor(p + "output.LayerNorm.weight", [h]),
                outputNormBeta: try tensor(p + "output.LayerNorm.bias", [h]))
        }
    }

    /// Embeds a batch of token sequences (each `[CLS] … [SEP]`, within the position limit): the mean of the last
    /// hidden states over each sequence's tokens, L2-normalised.
    ///
    /// - Returns: `sequences.count × hidden` floats.
    /// - Complexity: O(tokens · hidden · (hidden + intermediate) + Σ length² · hidden) per layer.
    func embed(_ sequences: [[Int32]]) -> [Float] {
        let c = configuration
        let h = c.hiddenSize
        let lengths = sequences.map { min($0.count, c.maxPositions) }
        let offsets = lengths.reduce(into: [0]) { $0.append($0.last! + $1) }
        let n = offsets.last!
        guard n > 0 else { return [Float](repeating: 0, count: sequences.count * h) }
        let longest = lengths.max() ?? 0

        var hidden = [Float](repeating: 0, count: n * h)
        var qkv = [Float](repeating: 0, count: n * 3 * h)
        var context = [Float](repeating: 0, count: n * h)
        var projected = [Float](repeating: 0, count: n * h)
        var intermediate = [Float](repeating: 0, count: n * c.intermediateSize)
        var scores = [Float](repeating: 0, count: longest * longest)

        // Embeddings: word + position + token type 0, then layer norm.
        hidden.withUnsafeMutableBufferPointer { x in
            for (s, sequence) in sequences.enumerated() {
                for t in 0..<lengths[s] {
                    let token = Int(sequence[t])
                    let id = token >= 0 && token < c.vocabularySize ? token : 0
                    let row = x.baseAddress! + (offsets[s] + t) * h
                    for i in 0..<h { row[i] = wordEmbeddings[id * h + i] + positionEmbeddings[t * h + i] + tokenTypeEmbeddings[i] }
                }
            }
            Self.layerNorm(x.baseAddress!, rows: n, width: h, gamma: embeddingNormGamma, beta: embeddingNormBeta, epsilon: c.layerNormEpsilon)
        }

        let headSize = h / c.headCount
        let scale = 1 / Float(headSize).squareRoot()
        for layer in layers {
            // Q, K, V for every token in one product.
            Self.linear(hidden, rows: n, inputs: h, weight: layer.qkvWeight, bias: layer.qkvBias, outputs: 3 * h, into: &qkv)
            // Attention per text and head, over the text's own tokens.
            qkv.withUnsafeBufferPointer { qkv in
                context.withUnsafeMutableBufferPointer { context in
                    scores.withUnsafeMutableBufferPointer { scores in
                        for s in 0..<sequences.count {
                            let length = lengths[s]
                            let base = offsets[s]
                            for head in 0..<c.headCount {
                                let q = qkv.baseAddress! + base * 3 * h + head * headSize
                                let k = q + h
                                let v = q + 2 * h
                                cblas_sgemm(
                                    CblasRowMajor, CblasNoTrans, CblasTrans, Int32(length), Int32(length), Int32(headSize), scale, q,
                                    Int32(3 * h), k, Int32(3 * h), 0, scores.baseAddress!, Int32(length))
                                Self.softmaxRows(scores.baseAddress!, rows: length, width: length)
                                cblas_sgemm(
                                    CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(length), Int32(headSize), Int32(length), 1,
                                    scores.baseAddress!, Int32(length), v, Int32(3 * h), 0, context.baseAddress! + base * h + head * headSize,
                                    Int32(h))
                            }
                        }
                    }
                }
            }
            Self.linear(context, rows: n, inputs: h, weight: layer.outputWeight, bias: layer.outputBias, outputs: h, into: &projected)
            Self.addAndNormalize(
                &hidden, projected, rows: n, width: h, gamma: layer.attentionNormGamma, beta: layer.attentionNormBeta,
                epsilon: c.layerNormEpsilon)
            Self.linear(
                hidden, rows: n, inputs: h, weight: layer.intermediateWeight, bias: layer.intermediateBias, outputs: c.intermediateSize,
                into: &intermediate)
            Self.gelu(&intermediate)
            Self.linear(
                intermediate, rows: n, inputs: c.intermediateSize, weight: layer.feedForwardWeight, bias: layer.feedForwardBias, outputs: h,
                into: &projected)
            Self.addAndNormalize(
                &hidden, projected, rows: n, width: h, gamma: layer.outputNormGamma, beta: layer.outputNormBeta, epsilon: c.layerNormEpsilon)
        }

        // Mean pooling over each text's tokens, then L2 normalisation.
        var pooled = [Float](repeating: 0, count: sequences.count * h)
        for s in 0..<sequences.count where lengths[s] > 0 {
            var sum = [Double](repeating: 0, count: h)
            for t in 0..<lengths[s] {
                let row = (offsets[s] + t) * h
                for i in 0..<h { sum[i] += Double(hidden[row + i]) }
            }
            let mean = sum.map { $0 / Double(lengths[s]) }
            let norm = max(mean.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
            for i in 0..<h { pooled[s * h + i] = Float(mean[i] / norm) }
        }
        return pooled
    }

    /// `out = x · weightᵀ + bias`, `x` being `rows × inputs` and `weight` `outputs × inputs` (PyTorch's layout).
    static func linear(_ x: [Float], rows: Int, inputs: Int, weight: [Float], bias: [Float], outputs: Int, into out: inout [Float]) {
        out.withUnsafeMutableBufferPointer { out in
            for r in 0..<rows { (out.baseAddress! + r * outputs).update(from: bias, count: outputs) }
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outputs), Int32(inputs), 1, x, Int32(inputs), weight,
                Int32(inputs), 1, out.baseAddress!, Int32(outputs))
        }
    }

    /// `x = layerNorm(x + residual)` row by row.
    static func addAndNormalize(
        _ x: inout [Float], _ residual: [Float], rows: Int, width: Int, gamma: [Float], beta: [Float], epsilon: Float
    ) {
        x.withUnsafeMutableBufferPointer { x in
            for i in 0..<rows * width { x[i] += residual[i] }
            layerNorm(x.baseAddress!, rows: rows, width: width, gamma: gamma, beta: beta, epsilon: epsilon)
        }
    }

    static func layerNorm(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, gamma: [Float], beta: [Float], epsilon: Float) {
        for r in 0..<rows {
            let row = x + r * width
            var mean: Float = 0
            for i in 0..<width { mean += row[i] }
            mean /= Float(width)
            var variance: Float = 0
            for i in 0..<width {
                let d = row[i] - mean
                variance += d * d
            }
            variance /= Float(width)
            let inverse = 1 / (variance + epsilon).squareRoot()
            for i in 0..<width { row[i] = (row[i] - mean) * inverse * gamma[i] + beta[i] }
        }
    }

    static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        for r in 0..<rows {
            let row = x + r * width
            var largest = -Float.infinity
            for i in 0..<width { largest = max(largest, row[i]) }
            let inverse = 1 / VectorMath.expShifted(row, count: width, shift: largest)
            for i in 0..<width { row[i] *= inverse }
        }
    }

    /// The exact GELU, `x · Φ(x)`, as BERT's `hidden_act: gelu`.
    static func gelu(_ x: inout [Float]) {
        x.withUnsafeMutableBufferPointer { VectorMath.gelu($0.baseAddress!, count: $0.count) }
    }
}
