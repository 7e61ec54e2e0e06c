#!/usr/bin/env bash
# A/B of two arrears binaries on the same command, run by run (A B A B ...),
# with /usr/bin/time: prints each side's median wall seconds, CPU seconds
# and peak RSS, and the median of the run-by-run wall ratios A/B (a ratio
# of neighbours holds when the machine's speed drifts). One warm-up each.
#
#   RUNS=5 bash benches/ab.sh OLD_BINARY NEW_BINARY run --input target/bench-data/10000000 \
#       --output /tmp/ab --as-of 2026-11-29 --threads 2 --quiet
#
# Each side writes to its own output (`--output X` becomes `X-a` / `X-b`;
# likewise `--work`), so neither reads what the other published.
set -euo pipefail
A=$1; B=$2; shift 2
RUNS=${RUNS:-5}
TMP=$(mktemp -d)
side() { # side BINARY SUFFIX: the command's arguments with its own folders
  local bin=$1 suf=$2; shift 2
  local out=() prev=""
  for a in "$@"; do
    if [ "$prev" = "--output" ] || [ "$prev" = "--work" ]; then out+=("$a-$suf"); else out+=("$a"); fi
    prev=$a
  done
  /usr/bin/time -f "%e %U %S %M" -o "$TMP/t" "$bin" "${out[@]}" >/dev/null
  cat "$TMP/t"
}
side "$A" a "$@" >/dev/null; side "$B" b "$@" >/dev/null
for ((i = 0; i < RUNS; i++)); do
  side "$A" a "$@" >> "$TMP/a"; side "$B" b "$@" >> "$TMP/b"
done
median() { sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
for s in a b; do
  printf "%s: wall %s s, cpu %s s, peak %s MiB (median of %s)\n" "$s" \
    "$(awk '{print $1}' "$TMP/$s" | median)" "$(awk '{print $2+$3}' "$TMP/$s" | median)" \
    "$(awk '{print int($4/1024)}' "$TMP/$s" | median)" "$RUNS"
done
echo "wall A/B, run by run: median $(paste "$TMP/a" "$TMP/b" | awk '{print $1/$5}' | median)"
rm -rf "$TMP"
