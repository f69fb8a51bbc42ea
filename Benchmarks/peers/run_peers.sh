#!/usr/bin/env bash
# Run the three peer libraries one after another (never in parallel: the
# machine has 2 cores) on one dataset and write OUT/{hnswlib,faiss,usearch}.json,
# then compare and plot them (with OUT/ours.json first if it exists).
#
#   Benchmarks/peers/run_peers.sh DATA_DIR OUT_DIR [extra ann_peers.py args]
#
# DATA_DIR holds base.fvecs, query.fvecs, groundtruth.ivecs.
# VENV (default ~/.cache/omnifin/venv) is created and filled from
# requirements.txt when missing.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
data="${1:?usage: run_peers.sh DATA_DIR OUT_DIR [args]}"
out="${2:?usage: run_peers.sh DATA_DIR OUT_DIR [args]}"
shift 2
venv="${VENV:-$HOME/.cache/omnifin/venv}"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$here/requirements.txt"
fi
py="$venv/bin/python"
mkdir -p "$out"

for lib in hnswlib faiss usearch; do
    echo "== $lib (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    "$py" "$here/ann_peers.py" --lib "$lib" \
        --base "$data/base.fvecs" --query "$data/query.fvecs" --truth "$data/groundtruth.ivecs" \
        --m 16 --ef-construction 200 --ef 10,20,40,80,160,320 --k 10 \
        --threads 1 --build-threads 2 --json "$@" > "$out/$lib.json"
done

files=()
[ -f "$out/ours.json" ] && files+=("$out/ours.json")
files+=("$out/hnswlib.json" "$out/faiss.json" "$out/usearch.json")
"$py" "$here/compare_ann.py" "${files[@]}" | tee "$out/compare.md"
"$py" "$here/plot_ann.py" "$out/plot.png" "${files[@]}"
