#!/usr/bin/env python3
"""Benchmark a peer ANN library (hnswlib, FAISS IndexHNSWFlat or USearch) on a
TEXMEX-format dataset, with the same parameters and output format as
Omnifin's Swift HNSW benchmark, so the results can be compared side by side
(see compare_ann.py and plot_ann.py).

Example:
    python ann_peers.py --lib hnswlib --base base.fvecs --query query.fvecs \
        --truth groundtruth.ivecs --m 16 --ef-construction 200 \
        --ef 10,20,40,80,160,320 --k 10 --threads 1 --build-threads 2 --json

Metric is inner product (the vectors are expected to be L2-normalised, so it
ranks like cosine). All vectors are stored as float32 in every library (no
quantisation), like ours.

Timing:
  * build_seconds: wall time of adding all base vectors with --build-threads.
  * qps: all queries as ONE batch call restricted to --threads threads, so the
    Python interpreter's per-query overhead is not counted. QPS = nq / seconds
    of the fastest of --repeat such calls.
  * p50_us / p99_us: single-query calls timed one by one in a Python loop;
    these DO include the Python call overhead (a few microseconds per call).

With --json exactly one JSON document is printed on stdout; progress messages
always go to stderr.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import sys
import tempfile
import time

import numpy as np


# --------------------------------------------------------------------------
# TEXMEX .fvecs / .ivecs
# --------------------------------------------------------------------------

def read_vecs(path: str, dtype: str, limit: int | None = None) -> np.ndarray:
    """Read a .fvecs ('<f4') or .ivecs ('<i4') file into an (n, d) array.

    Each row is a little-endian int32 dimension d followed by d 4-byte values.
    Only the first `limit` rows are read when limit is given.
    """
    with open(path, "rb") as f:
        head = np.fromfile(f, dtype="<i4", count=1)
    if head.size == 0:
        raise ValueError(f"{path}: empty file")
    d = int(head[0])
    if d <= 0:
        raise ValueError(f"{path}: bad dimension {d}")
    count = -1 if limit is None else limit * (d + 1)
    raw = np.fromfile(path, dtype="<i4", count=count)
    if raw.size % (d + 1):
        raise ValueError(f"{path}: size is not a whole number of rows of dim {d}")
    rows = raw.reshape(-1, d + 1)
    if not np.all(rows[:, 0] == d):
        raise ValueError(f"{path}: rows with differing dimensions")
    # Same item size, so reinterpreting the int32 payload as float32 is a view;
    # ascontiguousarray then drops the dimension column in one copy.
    return np.ascontiguousarray(rows[:, 1:].view(dtype))


def exact_topk(base: np.ndarray, queries: np.ndarray, k: int, chunk: int = 256) -> np.ndarray:
    """Exact top-k ids by inner product (brute force, chunked over queries)."""
    k = min(k, base.shape[0])
    out = np.empty((queries.shape[0], k), dtype=np.int64)
    for s in range(0, queries.shape[0], chunk):
        scores = queries[s:s + chunk] @ base.T
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
        out[s:s + chunk] = np.take_along_axis(part, order, axis=1)
    return out


def recall_at_k(ids: np.ndarray, truth: np.ndarray, k: int) -> float:
    """Mean over queries of |returned top-k ∩ truth top-k| / k."""
    ids = np.asarray(ids, dtype=np.int64)[:, :k]
    truth = np.asarray(truth, dtype=np.int64)[:, :k]
    # Ids within one row are distinct, so counting pairwise matches is the
    # size of the intersection. Missing results (-1 / sentinel keys) never match.
    hits = (ids[:, :, None] == truth[:, None, :]).any(axis=2).sum(axis=1)
    return float(hits.mean() / k)


def package_version(dist: str) -> str:
    """'name==version' of an installed distribution (hnswlib has no __version__)."""
    try:
        return f"{dist}=={importlib.metadata.version(dist)}"
    except importlib.metadata.PackageNotFoundError:
        return f"{dist}==unknown"


# --------------------------------------------------------------------------
# Library adapters: build(), set_ef(), batch(), single(), index_bytes()
# index_bytes() -> (bytes, how they were measured, serialized size)
# --------------------------------------------------------------------------

class HnswlibPeer:
    name = "hnswlib"

    def __init__(self, dim: int, m: int, ef_construction: int):
        import hnswlib
        self.version = package_version("hnswlib")
        self.index = hnswlib.Index(space="ip", dim=dim)
        self.m, self.efc = m, ef_construction

    def build(self, base: np.ndarray, threads: int) -> None:
        n = base.shape[0]
        self.index.init_index(max_elements=n, ef_construction=self.efc, M=self.m, random_seed=100)
        self.index.add_items(base, np.arange(n), num_threads=threads)

    def set_ef(self, ef: int) -> None:
        self.index.set_ef(ef)

    def batch(self, queries: np.ndarray, k: int, threads: int) -> np.ndarray:
        # num_threads defaults to -1 (= all cores): always pass it explicitly.
        labels, _ = self.index.knn_query(queries, k=k, num_threads=threads)
        return labels

    def single(self, q: np.ndarray, k: int) -> None:
        self.index.knn_query(q, k=k, num_threads=1)

    def index_bytes(self) -> tuple[int, str, int]:
        # The Python binding does not expose the allocation sizes, so use the
        # size of the saved index: it is the level-0 block (max_elements x
        # (dim*4 vector + (2M+1)*4 links + 8 label)) plus the upper-level link
        # lists plus a small header, i.e. what the index holds in RAM minus
        # per-element mutexes and the label hash map.
        fd, path = tempfile.mkstemp(suffix=".hnswlib")
        os.close(fd)
        try:
            self.index.save_index(path)
            size = os.path.getsize(path)
            return size, "size of save_index() file", size
        finally:
            os.unlink(path)


class FaissPeer:
    name = "faiss"

    def __init__(self, dim: int, m: int, ef_construction: int):
        import faiss
        self.faiss = faiss
        self.version = package_version("faiss-cpu")
        self.index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = ef_construction

    def build(self, base: np.ndarray, threads: int) -> None:
        # FAISS parallelises add() and batch search() with OpenMP; the thread
        # count is process-global, so it is set before each phase.
        self.faiss.omp_set_num_threads(threads)
        self.index.add(base)

    def set_ef(self, ef: int) -> None:
        self.index.hnsw.efSearch = ef

    def batch(self, queries: np.ndarray, k: int, threads: int) -> np.ndarray:
        self.faiss.omp_set_num_threads(threads)
        _, labels = self.index.search(queries, k)
        return labels

    def single(self, q: np.ndarray, k: int) -> None:
        self.index.search(q, k)

    def index_bytes(self) -> tuple[int, str, int]:
        # serialize_index writes the float32 vectors, the neighbour table of
        # every level, the per-vector levels and offsets: what the index holds.
        size = int(self.faiss.serialize_index(self.index).size)
        return size, "len(faiss.serialize_index())", size


class USearchPeer:
    name = "usearch"

    def __init__(self, dim: int, m: int, ef_construction: int):
        from usearch.index import Index
        self.version = package_version("usearch")
        # dtype f32: no quantisation, same exactness as the others.
        self.index = Index(ndim=dim, metric="ip", dtype="f32",
                           connectivity=m, expansion_add=ef_construction)

    def build(self, base: np.ndarray, threads: int) -> None:
        # threads=0 would mean "all cores", so the count is always explicit.
        self.index.add(np.arange(base.shape[0], dtype=np.uint64), base, threads=threads)

    def set_ef(self, ef: int) -> None:
        self.index.expansion_search = ef

    def batch(self, queries: np.ndarray, k: int, threads: int) -> np.ndarray:
        matches = self.index.search(queries, k, threads=threads)
        return matches.keys.astype(np.int64)

    def single(self, q: np.ndarray, k: int) -> None:
        self.index.search(q, k, threads=1)

    def index_bytes(self) -> tuple[int, str, int]:
        # memory_usage is USearch's own account of its allocations, i.e. the
        # real in-RAM footprint. The Python API cannot reserve an exact
        # capacity and add() grows it to the next power of two (100k vectors
        # -> 131072 slots), so this includes that slack; the serialized
        # length is the size comparable to the other libraries' numbers.
        return (int(self.index.memory_usage), "Index.memory_usage (includes capacity slack)",
                int(self.index.serialized_length))


PEERS = {p.name: p for p in (HnswlibPeer, FaissPeer, USearchPeer)}


# --------------------------------------------------------------------------

def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lib", required=True, choices=sorted(PEERS))
    ap.add_argument("--base", required=True, help="base vectors (.fvecs)")
    ap.add_argument("--query", required=True, help="query vectors (.fvecs)")
    ap.add_argument("--truth", help="ground-truth ids (.ivecs); required unless --limit-base")
    ap.add_argument("--m", type=int, default=16, help="HNSW M (links per node above level 0)")
    ap.add_argument("--ef-construction", type=int, default=200)
    ap.add_argument("--ef", default="10,20,40,80,160,320", help="comma-separated efSearch values")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1, help="search threads (batch call)")
    ap.add_argument("--build-threads", type=int, default=None, help="build threads (default: --threads)")
    ap.add_argument("--limit-base", type=int, default=None,
                    help="use only the first N base vectors; truth is then recomputed exactly")
    ap.add_argument("--limit-query", type=int, default=None, help="use only the first N queries")
    ap.add_argument("--latency-queries", type=int, default=None,
                    help="queries timed one by one for p50/p99 (default: all)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="timed batch runs per ef; the fastest is reported (default 3)")
    ap.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    args = ap.parse_args(argv)
    try:
        args.ef_list = [int(x) for x in args.ef.split(",") if x.strip()]
    except ValueError:
        ap.error(f"--ef must be comma-separated integers, got {args.ef!r}")
    if not args.ef_list:
        ap.error("--ef is empty")
    if args.build_threads is None:
        args.build_threads = args.threads
    if args.threads < 1 or args.build_threads < 1:
        ap.error("thread counts must be >= 1")
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")
    if args.truth is None and args.limit_base is None:
        ap.error("--truth is required unless --limit-base is given")
    return args


def run(args: argparse.Namespace) -> dict:
    base = read_vecs(args.base, "<f4", args.limit_base)
    queries = read_vecs(args.query, "<f4", args.limit_query)
    nb, dim = base.shape
    nq = queries.shape[0]
    if queries.shape[1] != dim:
        raise SystemExit(f"query dim {queries.shape[1]} != base dim {dim}")
    norms = np.linalg.norm(base[: min(nb, 1000)], axis=1)
    if not np.allclose(norms, 1.0, atol=1e-3):
        log("warning: base vectors are not L2-normalised; results are for raw inner product")

    if args.limit_base is not None:
        # The shipped truth refers to the full base: recompute on the subset.
        log(f"computing exact top-{args.k} for {nq} queries over {nb} base vectors")
        truth = exact_topk(base, queries, args.k)
    else:
        truth = read_vecs(args.truth, "<i4", args.limit_query)
        if truth.shape[0] < nq:
            raise SystemExit(f"truth has {truth.shape[0]} rows, need {nq}")
        if truth.shape[1] < args.k:
            raise SystemExit(f"truth has only {truth.shape[1]} ids per query, need k={args.k}")
        truth = truth[:nq]
    truth = truth[:, : args.k]

    peer = PEERS[args.lib](dim, args.m, args.ef_construction)
    log(f"{args.lib} {peer.version}: building over {nb} x {dim} with {args.build_threads} thread(s)")
    t0 = time.perf_counter()
    peer.build(base, args.build_threads)
    build_seconds = time.perf_counter() - t0
    log(f"built in {build_seconds:.2f} s")
    index_bytes, bytes_method, serialized_bytes = peer.index_bytes()

    n_lat = nq if args.latency_queries is None else max(1, min(nq, args.latency_queries))
    lat_queries = [queries[i:i + 1] for i in range(n_lat)]  # sliced once, outside the timing
    results = []
    for ef in args.ef_list:
        peer.set_ef(ef)
        peer.batch(queries[: min(nq, 100)], args.k, args.threads)  # warm-up (caches, thread pools)
        # Best of --repeat batch runs: on a small shared VM single runs vary by
        # 10-30%, and the minimum is the least disturbed one. Search is
        # deterministic, so recall comes from the first run.
        times = []
        for rep in range(args.repeat):
            t0 = time.perf_counter()
            out = peer.batch(queries, args.k, args.threads)
            times.append(time.perf_counter() - t0)
            if rep == 0:
                ids = out
        batch_seconds = min(times)
        recall = recall_at_k(ids, truth, args.k)

        lat = np.empty(n_lat)
        for i, q in enumerate(lat_queries):
            t = time.perf_counter_ns()
            peer.single(q, args.k)
            lat[i] = time.perf_counter_ns() - t
        lat /= 1e3  # -> microseconds
        row = {
            "ef": ef,
            # Named after the real k (recall_at_10 for the standard --k 10);
            # compare_ann.py / plot_ann.py accept any recall_at_<k> key.
            f"recall_at_{args.k}": round(recall, 6),
            "qps": round(nq / batch_seconds, 2),
            "p50_us": round(float(np.percentile(lat, 50)), 2),
            "p99_us": round(float(np.percentile(lat, 99)), 2),
        }
        results.append(row)
        log(f"ef={ef}: recall@{args.k}={recall:.4f} qps={row['qps']:.1f}")

    return {
        "lib": args.lib,
        "build_seconds": round(build_seconds, 3),
        "index_bytes": index_bytes,
        "results": results,
        # Extra context; compare_ann.py / plot_ann.py ignore unknown keys.
        "version": peer.version,
        "index_bytes_method": bytes_method,
        "serialized_bytes": serialized_bytes,
        "params": {
            "n_base": nb, "n_query": nq, "dim": dim, "k": args.k, "m": args.m,
            "ef_construction": args.ef_construction, "threads": args.threads,
            "build_threads": args.build_threads, "metric": "ip", "repeat": args.repeat,
            "truth": "recomputed (brute force)" if args.limit_base is not None else "file",
        },
        "latency_note": "p50_us/p99_us time single-query Python calls, so they include "
                        "Python call overhead; qps times one batch call (best of repeat)",
    }


def print_table(doc: dict, k: int) -> None:
    print(f"{'lib':<10} {'build_s':>9} {'index_MB':>9}")
    print(f"{doc['lib']:<10} {doc['build_seconds']:>9.2f} {doc['index_bytes'] / 1e6:>9.1f}")
    print(f"{'ef':>6} {'recall@' + str(k):>10} {'QPS':>10} {'p50_us':>9} {'p99_us':>9}")
    for r in doc["results"]:
        rec = r[f"recall_at_{k}"]
        print(f"{r['ef']:>6} {rec:>10.4f} {r['qps']:>10.1f} {r['p50_us']:>9.1f} {r['p99_us']:>9.1f}")
    print(f"# {doc['version']}; index bytes: {doc['index_bytes_method']}; "
          f"p50/p99 include Python call overhead; QPS is the best of "
          f"{doc['params']['repeat']} batch calls on {doc['params']['threads']} thread(s)")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    doc = run(args)
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print_table(doc, args.k)
    return 0


if __name__ == "__main__":
    sys.exit(main())
