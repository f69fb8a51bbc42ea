#!/usr/bin/env python3
"""Embedding-throughput peer: sentence-transformers (PyTorch, CPU) running the
same all-MiniLM-L6-v2 files as Omnifin's built-in Swift embedder.

Example:
    HF_HUB_OFFLINE=1 python embed_peers.py --model-dir ~/.cache/omnifin/models/all-MiniLM-L6-v2 \
        --input /work/shared/data/ann/pypi-minilm-100k/texts.tsv --limit 2000 \
        --threads 2 --batch-size 32 --json

Input:
  * .tsv   : the second tab-separated column of each line (texts.tsv is
             "package-name<TAB>summary"); a line without a tab gives "".
  * .jsonl : the "text" field of each object, and only that (for a BEIR
             corpus.jsonl the title is NOT prepended: this is exactly what
             Omnifin embeds).

What is timed: after one warm-up call on the first batch, a single
model.encode(texts, batch_size, normalize_embeddings=True) over the whole list
(wall clock). Note that sentence-transformers sorts the texts by length before
batching (so each batch is padded only to its own longest text) and restores
the order afterwards.

tokens = sum over texts of the tokenized length, [CLS] and [SEP] included,
truncated to max_seq_length (256 for this model); counted outside the timing.

--output OUT.fvecs writes the embeddings (TEXMEX fvecs: int32 dimension then
float32 values per row, little-endian) in input order, for comparison with
Omnifin's vectors.

With --json exactly one JSON document is printed on stdout
({"lib", "texts", "tokens", "seconds", "texts_per_second", "tokens_per_second"}
plus informative extras); progress messages go to stderr.

Requirements: see requirements-embed.txt (torch CPU + sentence-transformers).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def read_texts(path: str, limit: int | None) -> list[str]:
    texts: list[str] = []
    lower = path.lower()
    if lower.endswith(".tsv"):
        kind = "tsv"
    elif lower.endswith(".jsonl") or lower.endswith(".ndjson"):
        kind = "jsonl"
    else:
        raise SystemExit(f"{path}: expected a .tsv or .jsonl file")
    with open(path, encoding="utf-8", newline="") as f:
        for line in f:
            if limit is not None and len(texts) >= limit:
                break
            line = line.rstrip("\r\n") if kind == "tsv" else line
            if kind == "tsv":
                cols = line.split("\t")
                texts.append(cols[1] if len(cols) > 1 else "")
            else:
                if not line.strip():
                    continue
                texts.append(json.loads(line).get("text") or "")
    return texts


def write_fvecs(path: str, vectors) -> None:
    import numpy as np

    v = np.ascontiguousarray(vectors, dtype="<f4")
    n, d = v.shape
    rows = np.empty((n, d + 1), dtype="<i4")
    rows[:, 0] = d
    rows[:, 1:] = v.view("<i4")  # float32 bits, unchanged
    rows.tofile(path)


def main() -> int:
    default_model = os.environ.get(
        "OMNIFIN_MODEL_DIR", os.path.expanduser("~/.cache/omnifin/models/all-MiniLM-L6-v2")
    )
    ap = argparse.ArgumentParser(description="sentence-transformers CPU embedding throughput")
    ap.add_argument("--model-dir", default=default_model,
                    help="folder made by scripts/fetch-model.sh (default: %(default)s)")
    ap.add_argument("--input", required=True, help=".tsv (2nd column) or .jsonl (\"text\")")
    ap.add_argument("--limit", type=int, default=None, help="first N texts only")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="torch intra-op threads (default: all cores, %(default)s)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--output", default=None, help="write the vectors to OUT.fvecs")
    ap.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    args = ap.parse_args()
    if args.threads < 1 or args.batch_size < 1:
        ap.error("--threads and --batch-size must be >= 1")

    # Offline, and thread counts fixed before torch (and its OpenMP pool) loads.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    import importlib.metadata

    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    from sentence_transformers import SentenceTransformer

    texts = read_texts(args.input, args.limit)
    if not texts:
        raise SystemExit(f"{args.input}: no texts")
    log(f"loading {args.model_dir}")
    model = SentenceTransformer(args.model_dir, device="cpu", local_files_only=True)
    model.eval()
    max_len = int(model.max_seq_length)

    # Token count: same tokenizer and truncation as encode(), outside the timing.
    tok = model.tokenizer
    tokens = 0
    for s in range(0, len(texts), 1024):
        enc = tok(texts[s:s + 1024], truncation=True, max_length=max_len,
                  add_special_tokens=True, padding=False)
        tokens += sum(len(ids) for ids in enc["input_ids"])

    kw = dict(batch_size=args.batch_size, normalize_embeddings=True,
              convert_to_numpy=True, show_progress_bar=False)
    with torch.inference_mode():
        log(f"warm-up on {min(args.batch_size, len(texts))} texts")
        model.encode(texts[:args.batch_size], **kw)
        log(f"encoding {len(texts)} texts ({tokens} tokens), {args.threads} thread(s), "
            f"batch {args.batch_size}")
        t0 = time.perf_counter()
        vectors = model.encode(texts, **kw)
        seconds = time.perf_counter() - t0

    if args.output:
        write_fvecs(args.output, vectors)
        log(f"wrote {vectors.shape[0]}x{vectors.shape[1]} to {args.output}")

    result = {
        "lib": "sentence-transformers",
        "texts": len(texts),
        "tokens": tokens,
        "seconds": round(seconds, 4),
        "texts_per_second": round(len(texts) / seconds, 2),
        "tokens_per_second": round(tokens / seconds, 1),
        # informative extras
        "version": importlib.metadata.version("sentence-transformers"),
        "torch": torch.__version__,
        "transformers": importlib.metadata.version("transformers"),
        "threads": args.threads,
        "batch_size": args.batch_size,
        "max_seq_length": max_len,
        "input": os.path.basename(args.input),
        "dimension": int(vectors.shape[1]),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"sentence-transformers {result['version']} (torch {result['torch']}), "
              f"{args.threads} thread(s), batch {args.batch_size}: "
              f"{len(texts)} texts, {tokens} tokens in {seconds:.3f} s = "
              f"{result['texts_per_second']:.1f} texts/s, "
              f"{result['tokens_per_second']:.0f} tokens/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
