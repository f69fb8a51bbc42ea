#!/usr/bin/env python3
"""Writes one result document per neighbour-scoring kernel of an Omnifin ANN run.

    python split_kernels.py var/bench/omnifin.json

`omnifin bench ann --kernel int4,blas-dot --json` reports the first kernel as "results" and every kernel under
"by_kernel"; this writes OMNIFIN-<kernel>.json beside the input for each kernel but the first (lib "omnifin
<kernel>"), so that compare_ann.py and plot_ann.py show the BLAS reference path as a series of its own.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    source = Path(argv[0])
    doc = json.loads(source.read_text())
    first = doc.get("kernel")
    for kernel, rows in sorted(doc.get("by_kernel", {}).items()):
        if kernel == first:
            continue
        out = dict(doc, lib=f"omnifin {kernel}", kernel=kernel, results=rows)
        out.pop("by_kernel", None)
        target = source.with_name(f"{source.stem}-{kernel}.json")
        target.write_text(json.dumps(out, sort_keys=True))
        print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
