#!/usr/bin/env bash
# Build llama.cpp's llama-server, the local LLM engine Omnifin can run as a child process, outside the clone.
#
# Usage: scripts/build-llama.sh [PREFIX]
#   PREFIX defaults to $HOME/.cache/omnifin/llama.cpp/$LLAMA_SDIST_VERSION
#
# The sources are llama.cpp as vendored in the source distribution of llama-cpp-python on PyPI (vendor/llama.cpp,
# MIT; fetched with pip, SHA-256 pinned; none of llama-cpp-python's own code is used). Debian's cmake and ninja build
# a static llama-server (no shared libraries to find at run time): CPU backend only, ggml's own thread pool (no
# OpenMP), no OpenSSL and no curl (it never downloads; Omnifin passes it a local model file), no web UI (with the
# prebuilt UI on, the build would fetch one). PREFIX then holds bin/llama-server and LICENSE. Nothing happens when
# PREFIX already holds a build of the same version and CPU flags.
#
# ggml is built for this machine's CPU (GGML_NATIVE, like -march=native) when it has AVX-512, whose kernels are the
# fastest here; otherwise, and with OMNIFIN_LLAMA_PORTABLE=1, for any x86-64 with AVX2 and FMA (an image built on
# one machine and run on others).
#
# Environment:
#   OMNIFIN_LLAMA_SDIST     use this local copy of the sdist instead of pip download
#   OMNIFIN_LLAMA_PORTABLE  1: AVX2/FMA/F16C instead of the build machine's own instruction set
#   PYTHON                  python interpreter for pip (default python3)
set -euo pipefail

SDIST_NAME="llama-cpp-python"
SDIST_VERSION="0.3.36"
SDIST_SHA256="832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"

PREFIX="${1:-$HOME/.cache/omnifin/llama.cpp/$SDIST_VERSION}"
PREFIX="${PREFIX%/}"
PYTHON="${PYTHON:-python3}"
FETCH_NAME="build-llama"
# shellcheck source=lib/fetch.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/fetch.sh"

PORTABLE="${OMNIFIN_LLAMA_PORTABLE:-0}"
if [ "$PORTABLE" != 1 ] && ! grep -q -w avx512f /proc/cpuinfo 2>/dev/null; then
  PORTABLE=1
fi
if [ "$PORTABLE" = 1 ]; then
  CPU_FLAGS=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON)
  CPU_KEY="portable-avx2"
else
  CPU_FLAGS=(-DGGML_NATIVE=ON)
  # The build is for this CPU: a different CPU (a copied cache, a moved disk) rebuilds.
  CPU_KEY="native-$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | sha256sum | cut -c1-12)"
fi
STAMP="$PREFIX/.built"
WANT="llama.cpp from $SDIST_NAME $SDIST_VERSION ($SDIST_SHA256) $CPU_KEY"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x "$PREFIX/bin/llama-server" ]; then
  echo "llama.cpp ok: $PREFIX"
  exit 0
fi

for tool in cmake c++ "$PYTHON"; do
  command -v "$tool" >/dev/null 2>&1 || { echo "build-llama: $tool not found (make deps installs it)" >&2; exit 1; }
done

PARENT="$(dirname "$PREFIX")"
mkdir -p "$PARENT"
WORK="$(mktemp -d "$PARENT/.build.XXXXXX")"
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${OMNIFIN_LLAMA_SDIST:-}" ]; then
  SDIST="$OMNIFIN_LLAMA_SDIST"
  check_hash "$SDIST" "$SDIST_SHA256" || exit 1
else
  echo "build-llama: downloading $SDIST_NAME==$SDIST_VERSION (source distribution, ~75 MB) with pip" >&2
  pip_download "$SDIST_NAME" "$SDIST_VERSION" "$SDIST_SHA256" "$WORK/sdist" sdist
  SDIST="$FETCHED"
fi

SDIST_DIR="llama_cpp_python-$SDIST_VERSION"
tar -xzf "$SDIST" -C "$WORK" "$SDIST_DIR/vendor/llama.cpp"
SRC="$WORK/$SDIST_DIR/vendor/llama.cpp"
[ -f "$SRC/tools/server/server.cpp" ] || { echo "build-llama: $SRC/tools/server missing in the sdist" >&2; exit 1; }

GENERATOR=()
command -v ninja >/dev/null 2>&1 && GENERATOR=(-G Ninja)
echo "build-llama: building llama-server $SDIST_VERSION ($CPU_KEY), about five minutes on 2 cores" >&2
cmake -S "$SRC" -B "$WORK/build" "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
  -DGGML_OPENMP=OFF -DGGML_CCACHE=OFF "${CPU_FLAGS[@]}" -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_UI=OFF \
  -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON \
  -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_APP=OFF \
  >"$WORK/configure.log" 2>&1 || { tail -30 "$WORK/configure.log" >&2; exit 1; }
cmake --build "$WORK/build" --config Release -j "$(nproc)" --target llama-server \
  >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log" >&2; exit 1; }

STAGE="$WORK/prefix"
mkdir -p "$STAGE/bin"
cp "$WORK/build/bin/llama-server" "$STAGE/bin/"
cp "$SRC/LICENSE" "$STAGE/LICENSE"
"$STAGE/bin/llama-server" --version >/dev/null 2>&1 || { echo "build-llama: the built llama-server does not run" >&2; exit 1; }
echo "$WANT" >"$STAGE/.built"
rm -rf "$PREFIX.old"
[ -d "$PREFIX" ] && mv "$PREFIX" "$PREFIX.old"
mv "$STAGE" "$PREFIX"
rm -rf "$PREFIX.old"
echo "llama.cpp built: $PREFIX"
