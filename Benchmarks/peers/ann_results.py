"""Loading and interpolating ANN benchmark JSON documents.

Shared by compare_ann.py and plot_ann.py. A document looks like
    {"lib": "hnswlib", "build_seconds": 12.3, "index_bytes": 170000000,
     "results": [{"ef": 10, "recall_at_10": 0.81, "qps": 9000.0,
                  "p50_us": 100.0, "p99_us": 200.0}, ...]}
"lib" may be absent (Omnifin's Swift tool): the file name stem is used then.
Unknown keys are ignored. The recall key may be recall_at_<k> for any k.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

_RECALL_KEY = re.compile(r"^recall_at_(\d+)$")


@dataclass
class Point:
    ef: int
    recall: float
    qps: float
    p50_us: float | None
    p99_us: float | None


@dataclass
class Run:
    lib: str
    build_seconds: float | None
    index_bytes: int | None
    serialized_bytes: int | None
    recall_k: int
    points: list[Point]  # in the file's order (normally ascending ef)

    def qps_at(self, recall: float) -> float | None:
        """QPS at `recall`, linearly interpolated on this run's recall->QPS curve.

        Points are sorted by recall; if several share a recall the fastest is
        kept. Returns None outside the measured recall range (no extrapolation).
        """
        best: dict[float, float] = {}
        for p in self.points:
            best[p.recall] = max(p.qps, best.get(p.recall, 0.0))
        xs = sorted(best)
        if not xs or recall < xs[0] or recall > xs[-1]:
            return None
        for x0, x1 in zip(xs, xs[1:]):
            if x0 <= recall <= x1:
                t = (recall - x0) / (x1 - x0)
                return best[x0] + t * (best[x1] - best[x0])
        return best[xs[0]]  # a single point, equal to recall


def _num(value):
    return None if value is None else float(value)


def load_run(path: str | Path) -> Run:
    path = Path(path)
    doc = json.loads(path.read_text())
    rows = doc.get("results")
    if not isinstance(rows, list) or not rows:
        raise ValueError(f"{path}: no 'results' list")
    keys = {m.group(1) for r in rows for k in r for m in [_RECALL_KEY.match(k)] if m}
    if not keys:
        raise ValueError(f"{path}: results have no recall_at_<k> key")
    k = 10 if "10" in keys else int(sorted(keys, key=int)[0])
    points = []
    for r in rows:
        points.append(Point(ef=int(r["ef"]), recall=float(r[f"recall_at_{k}"]), qps=float(r["qps"]),
                            p50_us=_num(r.get("p50_us")), p99_us=_num(r.get("p99_us"))))
    index_bytes = doc.get("index_bytes")
    serialized = doc.get("serialized_bytes")
    return Run(lib=doc.get("lib") or path.stem, build_seconds=_num(doc.get("build_seconds")),
               index_bytes=None if index_bytes is None else int(index_bytes),
               serialized_bytes=None if serialized is None else int(serialized),
               recall_k=k, points=points)


def fmt(value: float | None, spec: str, missing: str = "n/a") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    return format(value, spec)
