#!/usr/bin/env bash
# End-to-end benchmark of `arrears run` (make bench-e2e).
# Generates 1M- and 10M-loan books once (cached under target/bench-data:
# month-ago, yesterday and today, plus 7 days of contacts), then runs the
# full job several times each and prints the median wall time, CPU time and
# peak RSS, also with --threads 1. Then, per size: the decode floor (the
# same columns read with the same reader settings, nothing computed;
# benches/floor.rs) and the DuckDB peer (the same figures in SQL,
# benches/duckdb_peer.py), with the job's ratio to each. PEER=0 skips the
# peer, FLOOR=0 the floor.
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

PEER=${PEER:-1}
FLOOR=${FLOOR:-1}
VENV=${VENV:-target/venv}
if [ "$PEER" = 1 ]; then
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -c "import duckdb" 2>/dev/null || "$VENV/bin/pip" install -q duckdb
fi
[ "$FLOOR" = 1 ] && cargo build --release --quiet --bench floor

declare -A JOB
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
    JOB[$n,$threads]=$w
  done
done
for n in $SIZES; do
  dir="$DATA/$n"
  if [ "$FLOOR" = 1 ]; then
    line=$(cargo bench --quiet --bench floor -- "$dir" "$AS_OF" "$RUNS" 2 | tail -1)
    echo "$n: $line"
    floor=$(echo "$line" | awk '{print $(NF-1)}')
    awk -v j="${JOB[$n,2]}" -v f="$floor" -v n="$n" 'BEGIN{printf "%s: job / decode floor = %.2f\n", n, j / f}'
  fi
  if [ "$PEER" = 1 ]; then
    line=$("$VENV/bin/python" benches/duckdb_peer.py "$dir" "$AS_OF" "$(mktemp -d)/peer" 2 "$RUNS" | tail -1)
    echo "$n: $line"
    peer=$(echo "$line" | sed -E 's/.*median ([0-9.]+) s.*/\1/')
    awk -v j="${JOB[$n,2]}" -v p="$peer" -v n="$n" 'BEGIN{printf "%s: duckdb / job = %.2f\n", n, p / j}'
  fi
done
set -- $SIZES
if [ $# -ge 2 ]; then
  awk -v a="${JOB[$1,2]}" -v b="${JOB[$2,2]}" -v x="$1" -v y="$2" 'BEGIN{printf "scaling: %s loans take %.2f x the time of %s\n", y, b / a, x}'
fi
for n in $SIZES; do
  awk -v a="${JOB[$n,1]}" -v b="${JOB[$n,2]}" -v n="$n" 'BEGIN{printf "%s: --threads 2 is %.2f x faster than --threads 1\n", n, a / b}'
done
