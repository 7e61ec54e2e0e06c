#!/usr/bin/env bash
# What champion / challenger tests cost the nightly run (issue 16).
#
# On one generated book (default 10M loans, the bench-e2e book: 3 loan
# snapshots and 14 days of contacts), the run date is run RUNS times under
# each of three policies, after the `1m` date was run once under the same
# policy (so its worklist carries arms and the run evaluates them):
#   none     the built-in policy (no experiment)
#   example  the built-in policy with its example experiment (M1 grade C,
#            20% challenger: what `arrears demo` runs)
#   all      the example's challenger rules over every loan with a tier
#            (scope = {}: every loan hashed, the worst case)
# Prints the median wall, CPU and peak RSS of the run date, and the loans
# in an arm (DuckDB counts them in the worklist). Usage: bash benches/experiments.sh [LOANS] (RUNS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
LOANS=${1:-10000000}
RUNS=${RUNS:-3}
DATA=${DATA:-target/bench-data}
AS_OF=2026-11-29
M1=2026-10-29
BIN=target/release/arrears
VENV=${VENV:-target/venv}
TIME=/usr/bin/time
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

cargo build --release --quiet
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import duckdb" 2>/dev/null || "$VENV/bin/pip" install -q duckdb
dir="$DATA/$LOANS"
if [ ! -f "$dir/.done" ]; then
  rm -rf "$dir"
  "$BIN" generate --output "$dir" --loans "$LOANS" --as-of "$AS_OF" --days 2 --seed 42 >/dev/null
  touch "$dir/.done"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$BIN" policy > "$work/none.toml"
example=$(sed -n '/^# \[\[experiments\]\]/,$p' "$work/none.toml" | sed -e 's/^# \{0,1\}//')
{ cat "$work/none.toml"; echo; echo "$example"; } > "$work/example.toml"
{ cat "$work/none.toml"; echo; echo "$example" | sed -e 's/^scope = .*/scope = {}/'; } > "$work/all.toml"

printf '%-8s %10s %10s %10s %14s\n' policy wall_s cpu_s rss_mib loans_in_arms
for p in none example all; do
  out="$work/out-$p"
  "$BIN" run --input "$dir" --output "$out" --as-of "$M1" --policy "$work/$p.toml" >/dev/null
  walls=(); cpus=(); rsss=()
  for _ in $(seq "$RUNS"); do
    "$TIME" -f '%e %U %S %M' -o "$work/time" "$BIN" run --input "$dir" --output "$out" --as-of "$AS_OF" --policy "$work/$p.toml" >/dev/null
    read -r wall user sys rss < "$work/time"
    walls+=("$wall"); cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')"); rsss+=("$rss")
  done
  n=$("$VENV/bin/python" -c "import duckdb,sys; print(duckdb.sql(\"SELECT count(*) FROM read_parquet('$out/worklist/as_of_date=$AS_OF/*.parquet') WHERE arm IS NOT NULL\").fetchall()[0][0])")
  printf '%-8s %10.2f %10.2f %10.0f %14s\n' "$p" \
    "$(printf '%s\n' "${walls[@]}" | median)" "$(printf '%s\n' "${cpus[@]}" | median)" \
    "$(awk -v r="$(printf '%s\n' "${rsss[@]}" | median)" 'BEGIN{print r/1024}')" "$n"
done
