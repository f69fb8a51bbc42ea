#!/usr/bin/env python3
"""Side-by-side markdown comparison of ANN benchmark results.

    python compare_ann.py ours.json hnswlib.json faiss.json usearch.json

The first file is "ours"; the rest are peers. Prints
  1. one table row per lib per ef (recall, QPS, p50/p99, build time, size);
  2. for each peer, the peer's QPS linearly interpolated at each of our recall
     points and the ratio ours/peer (n/a where our recall lies outside the
     peer's measured range), plus the build-time ratio;
  3. every lib's interpolated QPS at the target recall (default 0.95).
"""

from __future__ import annotations

import argparse
import sys

from ann_results import Run, fmt, load_run


def _mb(n: int | None) -> str:
    return fmt(None if n is None else n / 1e6, ".1f")


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def results_table(runs: list[Run]) -> list[str]:
    k = runs[0].recall_k
    out = [f"| lib | ef | recall@{k} | QPS | p50 µs | p99 µs | build s | index MB | serialized MB |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for run in runs:
        for p in run.points:
            out.append(f"| {run.lib} | {p.ef} | {p.recall:.4f} | {p.qps:.1f} | {fmt(p.p50_us, '.1f')} "
                       f"| {fmt(p.p99_us, '.1f')} | {fmt(run.build_seconds, '.2f')} "
                       f"| {_mb(run.index_bytes)} | {_mb(run.serialized_bytes)} |")
    return out


def peer_table(ours: Run, peer: Run) -> list[str]:
    out = [f"### ours ({ours.lib}) vs {peer.lib}", "",
           f"Build: {fmt(ours.build_seconds, '.2f')} s vs {fmt(peer.build_seconds, '.2f')} s, "
           f"ratio ours/{peer.lib} = {fmt(_ratio(ours.build_seconds, peer.build_seconds), '.2f')} "
           f"(< 1 means we build faster)", "",
           f"| ef (ours) | recall | QPS ours | QPS {peer.lib} @ same recall | ours/{peer.lib} |",
           "|---:|---:|---:|---:|---:|"]
    for p in ours.points:
        theirs = peer.qps_at(p.recall)
        out.append(f"| {p.ef} | {p.recall:.4f} | {p.qps:.1f} | {fmt(theirs, '.1f', 'n/a (out of range)')} "
                   f"| {fmt(_ratio(p.qps, theirs), '.2f')} |")
    return out


def target_table(runs: list[Run], target: float) -> list[str]:
    ours_qps = runs[0].qps_at(target)
    out = [f"### QPS at recall {target}", "",
           f"| lib | QPS @ {target} | ours/lib |", "|---|---:|---:|"]
    for run in runs:
        q = run.qps_at(target)
        out.append(f"| {run.lib} | {fmt(q, '.1f', 'n/a (out of range)')} | {fmt(_ratio(ours_qps, q), '.2f')} |")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ours", help="our result JSON")
    ap.add_argument("peers", nargs="*", help="peer result JSON files")
    ap.add_argument("--target", type=float, default=0.95, help="target recall (default 0.95)")
    args = ap.parse_args(argv)

    runs = [load_run(p) for p in [args.ours, *args.peers]]
    if len({r.recall_k for r in runs}) > 1:
        print("warning: files use different k for recall", file=sys.stderr)
    lines = ["## ANN results", "", *results_table(runs), ""]
    for peer in runs[1:]:
        lines += [*peer_table(runs[0], peer), ""]
    lines += target_table(runs, args.target)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
