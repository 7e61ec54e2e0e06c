#!/usr/bin/env bash
# Shard and merge costs (make bench-shards), the figures of SCALING.md.
# On the cached 10M book of `make bench-e2e` (generated if missing), for
# N in SHARDS: every shard K/N run one after the other on this machine
# (2 threads each), then the merge; prints per N the median shard's wall,
# CPU and peak RSS, the slowest shard, the merge's wall, CPU and peak RSS,
# and the work folder's bytes. A shard on its own machine takes what one
# shard takes here; the sum over shards is the CPU a cluster spends.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARDS=${SHARDS:-"1 2 4 8"}
BOOK=${BOOK:-10000000}
DATA=${DATA:-target/bench-data}
AS_OF=2026-11-29
cargo build --release --quiet
BIN=target/release/arrears
if [ ! -d "$DATA/$BOOK" ]; then
  loans=${BOOK%%-*}
  extra=""; [ "$BOOK" != "$loans" ] && extra="--shuffle"
  $BIN generate --output "$DATA/$BOOK" --loans "$loans" --as-of $AS_OF --days 2 --seed 42 $extra >/dev/null
fi
TMP=${TMPDIR:-/tmp}/arrears-bench-shards
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf "%-8s %-6s %10s %10s %10s %10s %10s %10s %10s %12s\n" book shards shard_wall shard_cpu shard_rss max_wall merge_wall merge_cpu merge_rss work_bytes
for n in $SHARDS; do
  rm -rf "$TMP"; mkdir -p "$TMP/out"
  : > "$TMP/shards.txt"
  for ((k = 0; k < n; k++)); do
    /usr/bin/time -f "%e %U %S %M" -o "$TMP/t" $BIN shard --input "$DATA/$BOOK" --output "$TMP/out" \
      --work "$TMP/work" --as-of $AS_OF --shard "$k/$n" --threads 2 >/dev/null
    cat "$TMP/t" >> "$TMP/shards.txt"
  done
  bytes=$(du -sb "$TMP/work" | cut -f1)
  /usr/bin/time -f "%e %U %S %M" -o "$TMP/m" $BIN merge --work "$TMP/work" --output "$TMP/out" \
    --as-of $AS_OF --shards "$n" --threads 2 >/dev/null
  wall=$(awk '{print $1}' "$TMP/shards.txt" | median)
  cpu=$(awk '{print $2 + $3}' "$TMP/shards.txt" | median)
  rss=$(awk '{print int($4 / 1024)}' "$TMP/shards.txt" | median)
  max=$(awk '{print $1}' "$TMP/shards.txt" | sort -n | tail -1)
  read -r mw mu ms mr < "$TMP/m"
  printf "%-8s %-6s %10s %10s %10s %10s %10s %10.2f %10s %12s\n" "$BOOK" "$n" "$wall" "$cpu" "$rss" "$max" \
    "$mw" "$(awk -v u="$mu" -v s="$ms" 'BEGIN {print u + s}')" "$((mr / 1024))" "$bytes"
done
rm -rf "$TMP"
