#!/usr/bin/env bash
# End-to-end benchmark of `arrears run` (make bench-e2e).
# Generates 1M- and 10M-loan books once (cached under target/bench-data:
# month-ago, yesterday and today, plus 7 days of contacts), then runs the
# full job several times each and prints the median wall time, CPU time and
# peak RSS, also with --threads 1.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
SIZES=${SIZES:-"1000000 10000000"}
DATA=${DATA:-target/bench-data}
AS_OF=2026-11-29

cargo build --release --quiet
BIN=target/release/arrears
TIME=/usr/bin/time
if [ ! -x "$TIME" ]; then
  apt-get update -qq && apt-get install -y -qq time
fi

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

printf '%-10s %-8s %10s %10s %10s\n' loans threads wall_s cpu_s rss_mib
for n in $SIZES; do
  dir="$DATA/$n"
  if [ ! -f "$dir/.done" ]; then
    rm -rf "$dir"
    "$BIN" generate --output "$dir" --loans "$n" --as-of "$AS_OF" --days 2 --seed 42 >/dev/null
    touch "$dir/.done"
  fi
  for threads in 2 1; do
    walls=(); cpus=(); rsss=()
    for _ in $(seq "$RUNS"); do
      out=$(mktemp -d)
      "$TIME" -f '%e %U %S %M' -o "$out/time" "$BIN" run --input "$dir" --output "$out/o" --as-of "$AS_OF" --threads "$threads" >/dev/null
      read -r wall user sys rss < "$out/time"
      walls+=("$wall"); cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')"); rsss+=("$rss")
      rm -rf "$out"
    done
    w=$(printf '%s\n' "${walls[@]}" | median)
    c=$(printf '%s\n' "${cpus[@]}" | median)
    r=$(printf '%s\n' "${rsss[@]}" | median)
    printf '%-10s %-8s %10.2f %10.2f %10.0f\n' "$n" "$threads" "$w" "$c" "$(awk -v r="$r" 'BEGIN{print r/1024}')"
  done
done
