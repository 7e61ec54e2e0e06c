"""The peer comparison of BENCHMARKS.md (issue 6): the nightly figures
computed by DuckDB SQL over the same input files, as a data engineer would
write them (tests/sql/figures.py, the same queries the SQL cross-check
proves equal to arrears' tables), each written to Parquet with ZSTD.

Usage: python duckdb_peer.py INPUT_DIR AS_OF OUT_DIR [THREADS] [RUNS]
Prints the median wall time of RUNS (default 3) full runs.
"""
import shutil
import statistics
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "sql"))
import figures  # noqa: E402

src, as_of, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
runs = int(sys.argv[5]) if len(sys.argv) > 5 else 3

prev, m1 = figures.periods(src, as_of)

TABLES = ["ageing", "classification", "transitions prev", "transitions 1m", "book ratios", "cash and recoveries",
          "cure M1+", "worklist", "collections", "recovery_cohorts", "vintage", "plans", "plan rates",
          "legal_pipeline", "credit_repair", "channels", "promises", "compliance cn"]
times = []
for _ in range(runs):
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    t = time.perf_counter()
    db = duckdb.connect()
    db.execute(f"SET threads = {threads}")
    q = figures.build(db, src, as_of, prev, m1)
    for name in TABLES:
        db.execute(f"COPY ({q[name]}) TO '{out / (name.replace(' ', '_') + '.parquet')}' (FORMAT parquet, COMPRESSION zstd)")
    db.close()
    times.append(time.perf_counter() - t)
print(f"duckdb peer: {len(TABLES)} tables, {threads} threads, median {statistics.median(times):.2f} s of {runs} "
      f"(min {min(times):.2f}, max {max(times):.2f}); prev {prev}, 1m {m1}")
