#!/usr/bin/env python3
"""Plot recall (x) vs QPS (y, log scale), one line per library, points labelled by ef.

    python plot_ann.py OUT.png ours.json hnswlib.json faiss.json usearch.json
"""

from __future__ import annotations

import argparse
import sys

import matplotlib

matplotlib.use("Agg")  # headless: no display on the benchmark machine
import matplotlib.pyplot as plt  # noqa: E402  (must follow use())

from ann_results import load_run  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="output image (.png)")
    ap.add_argument("files", nargs="+", help="result JSON files")
    ap.add_argument("--target", type=float, default=0.95, help="recall marked by a dashed line")
    ap.add_argument("--title", default=None)
    args = ap.parse_args(argv)

    runs = [load_run(p) for p in args.files]
    fig, ax = plt.subplots(figsize=(9, 6), dpi=120)
    for run in runs:
        pts = sorted(run.points, key=lambda p: p.ef)
        label = run.lib if run.build_seconds is None else f"{run.lib} (build {run.build_seconds:.1f} s)"
        line, = ax.plot([p.recall for p in pts], [p.qps for p in pts], marker="o", label=label)
        for p in pts:
            ax.annotate(f"ef={p.ef}", (p.recall, p.qps), textcoords="offset points", xytext=(4, 4),
                        fontsize=7, color=line.get_color())
    ax.axvline(args.target, color="grey", linestyle="--", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xlabel(f"recall@{runs[0].recall_k}")
    ax.set_ylabel("queries per second (log scale, one batch call)")
    ax.set_title(args.title or "HNSW recall vs throughput")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
