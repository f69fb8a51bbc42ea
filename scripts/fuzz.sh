#!/usr/bin/env bash
# Runs every fuzz target of Sources/OmnifinFuzz under libFuzzer for SECONDS each, from the seed corpus and what
# earlier runs kept in var/fuzz/corpus. Fails when any target finds a crash, a hang or a leak of time (its input is
# kept in var/fuzz/crashes). Needs the libFuzzer build (.build-fuzz, see make fuzz) and the replay build (for the
# snapshot seeds).
#   scripts/fuzz.sh SECONDS
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-60}"
FUZZER=.build-fuzz/debug/omnifin-fuzz
REPLAY=.build/debug/omnifin-fuzz
SEEDS=var/fuzz/seeds
python3 scripts/fuzz-seeds.py "$SEEDS" "${SHARED:-../shared}/data"
mkdir -p "$SEEDS/snapshot" var/fuzz/crashes
"$REPLAY" seed-snapshot "$SEEDS/snapshot/small.hnsw" 20
"$REPLAY" seed-snapshot "$SEEDS/snapshot/quantised.hnsw" 1000
failed=0
for target in snapshot vectors safetensors recording json prompt export answer; do
  mkdir -p "var/fuzz/corpus/$target"
  max_len=8192
  [ "$target" = snapshot ] && max_len=131072
  log="var/fuzz/$target.log"
  # SWIFT_BACKTRACE off: libFuzzer's own signal handler then saves the input that crashed.
  if SWIFT_BACKTRACE=enable=no OMNIFIN_FUZZ_TARGET=$target "$FUZZER" "var/fuzz/corpus/$target" "$SEEDS/$target" -max_total_time="$SECONDS_EACH" \
      -timeout=10 -rss_limit_mb=4096 -max_len=$max_len -print_final_stats=1 -artifact_prefix="var/fuzz/crashes/$target-" \
      > "$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    cover=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    echo "fuzz $target: ${SECONDS_EACH}s, $runs inputs, $cover, no crash"
  else
    echo "fuzz $target: FAILED, see $log and var/fuzz/crashes/$target-*" >&2
    tail -30 "$log" >&2
    failed=1
  fi
done
exit $failed
