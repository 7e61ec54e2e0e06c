#!/usr/bin/env bash
# End-to-end benchmark of `arrears run` (make bench-e2e), the figures of
# BENCHMARKS.md. Generates the books once (cached under target/bench-data:
# month-ago, yesterday and today, plus 7 days of contacts):
#   10000000           10M loans, snapshots in id order
#   30000000           30M loans, in id order (memory must not grow)
#   10000000-shuffled  10M loans whose ids are scattered (`generate --shuffle`)
# then, per book: the median wall time, CPU time and peak RSS of RUNS full
# runs with 2 threads (and with 1 thread for the books in THREADS1), the
# partitions the run used, the decode floor (the same columns read with the
# same reader settings, nothing computed; benches/floor.rs), and the peers:
# the same figures in DuckDB SQL (benches/duckdb_peer.py) and in Polars
# (benches/polars_peer.py), measured in the same session, with the ratios.
# PEER=0 skips the peers, FLOOR=0 the floor; BOOKS picks books.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
BOOKS=${BOOKS:-"10000000 30000000 10000000-shuffled"}
THREADS1=${THREADS1:-"10000000"}
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
  "$VENV/bin/python" -c "import polars" 2>/dev/null || "$VENV/bin/pip" install -q polars
fi
[ "$FLOOR" = 1 ] && cargo build --release --quiet --bench floor

# A book's loans and generator flags from its name.
loans_of() { echo "${1%%-*}"; }
flags_of() { case "$1" in *-shuffled) echo "--shuffle" ;; *) echo "" ;; esac; }

declare -A JOB
printf '%-18s %-8s %10s %10s %10s %11s\n' book threads wall_s cpu_s rss_mib partitions
for book in $BOOKS; do
  dir="$DATA/$book"
  if [ ! -f "$dir/.done" ]; then
    rm -rf "$dir"
    # shellcheck disable=SC2046
    "$BIN" generate --output "$dir" --loans "$(loans_of "$book")" --as-of "$AS_OF" --days 2 --seed 42 $(flags_of "$book") >/dev/null
    touch "$dir/.done"
  fi
  threads_list=2
  case " $THREADS1 " in *" $book "*) threads_list="2 1" ;; esac
  for threads in $threads_list; do
    walls=(); cpus=(); rsss=(); parts=""
    for _ in $(seq "$RUNS"); do
      out=$(mktemp -d)
      "$TIME" -f '%e %U %S %M' -o "$out/time" "$BIN" run --input "$dir" --output "$out/o" --as-of "$AS_OF" --threads "$threads" >/dev/null
      read -r wall user sys rss < "$out/time"
      walls+=("$wall"); cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')"); rsss+=("$rss")
      parts=$(grep -o '"partitions": [0-9]*' "$out/o/manifest/as_of_date=$AS_OF/manifest.json" | grep -o '[0-9]*$')
      rm -rf "$out"
    done
    w=$(printf '%s\n' "${walls[@]}" | median)
    c=$(printf '%s\n' "${cpus[@]}" | median)
    r=$(printf '%s\n' "${rsss[@]}" | median)
    printf '%-18s %-8s %10.2f %10.2f %10.0f %11s\n' "$book" "$threads" "$w" "$c" "$(awk -v r="$r" 'BEGIN{print r/1024}')" "$parts"
    JOB[$book,$threads]=$w
  done
done
for book in $BOOKS; do
  dir="$DATA/$book"
  if [ "$FLOOR" = 1 ]; then
    line=$(cargo bench --quiet --bench floor -- "$dir" "$AS_OF" "$RUNS" 2 | tail -1)
    echo "$book: $line"
    floor=$(echo "$line" | awk '{print $(NF-1)}')
    awk -v j="${JOB[$book,2]}" -v f="$floor" -v n="$book" 'BEGIN{printf "%s: job / decode floor = %.2f\n", n, j / f}'
  fi
  if [ "$PEER" = 1 ]; then
    for peer in duckdb polars; do
      line=$("$VENV/bin/python" "benches/${peer}_peer.py" "$dir" "$AS_OF" "$(mktemp -d)/peer" 2 "$RUNS" | tail -1)
      echo "$book: $line"
      p=$(echo "$line" | sed -E 's/.*median ([0-9.]+) s.*/\1/')
      awk -v j="${JOB[$book,2]}" -v p="$p" -v n="$book" -v peer="$peer" 'BEGIN{printf "%s: %s / job = %.2f\n", n, peer, p / j}'
    done
  fi
done
if [ -n "${JOB[10000000,2]:-}" ] && [ -n "${JOB[30000000,2]:-}" ]; then
  awk -v a="${JOB[10000000,2]}" -v b="${JOB[30000000,2]}" 'BEGIN{printf "scaling: 30M loans take %.2f x the time of 10M\n", b / a}'
fi
if [ -n "${JOB[10000000,2]:-}" ] && [ -n "${JOB[10000000-shuffled,2]:-}" ]; then
  awk -v a="${JOB[10000000,2]}" -v b="${JOB[10000000-shuffled,2]}" 'BEGIN{printf "shuffled: %.2f x the id-ordered wall\n", b / a}'
fi
for book in $THREADS1; do
  if [ -n "${JOB[$book,1]:-}" ]; then
    awk -v a="${JOB[$book,1]}" -v b="${JOB[$book,2]}" -v n="$book" 'BEGIN{printf "%s: --threads 2 is %.2f x faster than --threads 1\n", n, a / b}'
  fi
done
