"""Independent cross-check of `arrears run` against DuckDB SQL (metrics.md).

1. DuckDB rewrites a generated portfolio with its own Parquet writer (so
   arrears reads files written by another tool);
2. `arrears run` computes the figures on those files;
3. the same figures are computed here in plain SQL from the raw rows, and
   every row of ageing, classification and transitions, and every
   numerator/denominator of rates, must match to the cent.

Usage: python crosscheck.py ARREARS_BIN WORK_DIR [LOANS]
"""
import json
import subprocess
import sys
from pathlib import Path

import duckdb

BIN, WORK = sys.argv[1], Path(sys.argv[2])
LOANS = sys.argv[3] if len(sys.argv) > 3 else "50000"
AS_OF = "2026-11-29"
gen, src, out = WORK / "gen", WORK / "duckdb-input", WORK / "out"
subprocess.run([BIN, "generate", "--output", str(gen), "--loans", LOANS, "--as-of", AS_OF,
                "--days", "2", "--seed", "7", "--contact-days", "1"], check=True, stdout=subprocess.DEVNULL)
db = duckdb.connect()
dates = sorted(p.name.split("=")[1] for p in (gen / "loans").iterdir())
for d in dates:
    (src / "loans" / f"as_of_date={d}").mkdir(parents=True, exist_ok=True)
    db.execute(f"""COPY (SELECT * EXCLUDE (as_of_date) FROM read_parquet('{gen}/loans/as_of_date={d}/*.parquet'))
                   TO '{src}/loans/as_of_date={d}/data_0.parquet' (FORMAT parquet, ROW_GROUP_SIZE 10000)""")
subprocess.run([BIN, "run", "--input", str(src), "--output", str(out)], check=True, stdout=subprocess.DEVNULL)

BUCKET = """CASE WHEN status = 'paid_off' THEN 'PAID' WHEN status = 'charged_off' THEN 'WO'
  WHEN days_past_due = 0 THEN 'M0' WHEN days_past_due <= 30 THEN 'M1' WHEN days_past_due <= 60 THEN 'M2'
  WHEN days_past_due <= 90 THEN 'M3' WHEN days_past_due <= 120 THEN 'M4' WHEN days_past_due <= 150 THEN 'M5'
  WHEN days_past_due <= 180 THEN 'M6' ELSE 'M6+' END"""
DPD_CLASS = """CASE WHEN status = 'charged_off' THEN 4 WHEN days_past_due = 0 THEN 0 WHEN days_past_due <= 90 THEN 1
  WHEN days_past_due <= 270 THEN 2 WHEN days_past_due <= 360 THEN 3 ELSE 4 END"""
PLAN_CLASS = "CASE coalesce(plan_status, 'none') WHEN 'none' THEN 0 WHEN 'broken' THEN 2 ELSE 1 END"
for d in dates:
    db.execute(f"""CREATE VIEW "s{d}" AS SELECT *, {BUCKET} AS bucket,
        CASE WHEN status = 'paid_off' THEN NULL ELSE
          ['normal','special_mention','substandard','doubtful','loss'][greatest({DPD_CLASS}, {PLAN_CLASS}) + 1] END AS class
        FROM read_parquet('{src}/loans/as_of_date={d}/*.parquet')""")

def table(name):
    return f"read_parquet('{out}/{name}/as_of_date={AS_OF}/*.parquet')"

RESULTS = []


def same(label, ours, theirs):
    RESULTS.append(_same(label, ours, theirs))
    return RESULTS[-1]


def _same(label, ours, theirs):
    a = db.execute(f"SELECT * FROM ({ours}) EXCEPT ALL SELECT * FROM ({theirs})").fetchall()
    b = db.execute(f"SELECT * FROM ({theirs}) EXCEPT ALL SELECT * FROM ({ours})").fetchall()
    n = db.execute(f"SELECT count(*) FROM ({theirs})").fetchone()[0]
    if a or b:
        print(f"MISMATCH {label}: only in SQL {a[:5]}, only in arrears {b[:5]}")
        return False
    print(f"ok {label}: {n} rows identical")
    return True

cur = f'"s{AS_OF}"'
ok = same("ageing",
    f"""SELECT product, region, credit_grade, bucket, count(*)::BIGINT, sum(principal_balance)::DECIMAL(20,2),
        sum(past_due_amount)::DECIMAL(20,2) FROM {cur} GROUP BY ALL""",
    f"SELECT product, region, credit_grade, bucket, loans, principal_balance, past_due_amount FROM {table('ageing')}")
ok &= same("classification (non-empty cells)",
    f"SELECT product, class, count(*)::BIGINT, sum(principal_balance)::DECIMAL(20,2) FROM {cur} WHERE class IS NOT NULL GROUP BY ALL",
    f"SELECT product, class, loans, principal_balance FROM {table('classification')} WHERE loans > 0")
prev = [d for d in dates if d < AS_OF][-1]
for period, d in [("prev", prev), ("1m", "2026-10-29")]:
    e = f'"s{d}"'
    ok &= same(f"transitions {period} (non-empty cells)",
        f"""SELECT coalesce(e.bucket, 'NEW'), coalesce(c.bucket, 'EXIT'), count(*)::BIGINT,
              sum(CASE WHEN e.loan_id IS NULL THEN c.principal_balance ELSE e.principal_balance END)::DECIMAL(20,2)
            FROM {e} e FULL OUTER JOIN {cur} c ON e.loan_id = c.loan_id GROUP BY ALL""",
        f"""SELECT from_state, to_state, loans, balance FROM {table('transitions')}
            WHERE period = '{period}' AND loans > 0""")
ok &= same("dpd and npl ratios (numerator, denominator)",
    f"""SELECT 'dpd1_plus', 'count', count(*) FILTER (bucket IN ('M1','M2','M3','M4','M5','M6','M6+'))::DECIMAL(20,2),
          count(*) FILTER (status = 'active')::DECIMAL(20,2) FROM {cur}
        UNION ALL SELECT 'dpd30_plus', 'balance',
          coalesce(sum(principal_balance) FILTER (bucket IN ('M2','M3','M4','M5','M6','M6+')), 0)::DECIMAL(20,2),
          sum(principal_balance) FILTER (status = 'active')::DECIMAL(20,2) FROM {cur}
        UNION ALL SELECT 'npl', 'balance',
          sum(principal_balance) FILTER (class IN ('substandard','doubtful','loss'))::DECIMAL(20,2),
          sum(principal_balance) FILTER (class IS NOT NULL)::DECIMAL(20,2) FROM {cur}""",
    f"""SELECT metric, basis, numerator, denominator FROM {table('rates')} WHERE period = 'current'
        AND (metric, basis) IN (('dpd1_plus','count'), ('dpd30_plus','balance'), ('npl','balance'))""")
# Headline cash and recoveries (manifest `figures`, exact decimal strings).
fig = json.loads((out / "manifest" / f"as_of_date={AS_OF}" / "manifest.json").read_text())["figures"]
ok &= same("cash collected and recoveries (manifest)",
    f"""SELECT (SELECT sum(paid_amount)::DECIMAL(20,2) FROM {cur}),
               (SELECT coalesce(sum(coalesce(c.recovered_to_date, 0) - CASE WHEN e.status = 'charged_off'
                          THEN coalesce(e.recovered_to_date, 0) ELSE 0 END), 0)::DECIMAL(20,2)
                FROM {cur} c LEFT JOIN "s{prev}" e ON e.loan_id = c.loan_id WHERE c.status = 'charged_off'),
               (SELECT coalesce(sum(coalesce(c.recovered_to_date, 0) - CASE WHEN e.status = 'charged_off'
                          THEN coalesce(e.recovered_to_date, 0) ELSE 0 END), 0)::DECIMAL(20,2)
                FROM {cur} c LEFT JOIN "s2026-10-29" e ON e.loan_id = c.loan_id WHERE c.status = 'charged_off')""",
    f"""SELECT '{fig["cash_collected"]}'::DECIMAL(20,2), '{fig["recovered_prev"]}'::DECIMAL(20,2),
               '{fig["recovered_1m"]}'::DECIMAL(20,2)""")
ok &= same("cure over all delinquent buckets (M1+)",
    f"""SELECT p, count(*) FILTER (c.bucket IN ('M0','PAID'))::DECIMAL(20,2), count(*)::DECIMAL(20,2)
        FROM (SELECT 'prev' AS p, * FROM "s{prev}" UNION ALL BY NAME SELECT '1m' AS p, * FROM "s2026-10-29") e
        LEFT JOIN {cur} c ON e.loan_id = c.loan_id
        WHERE e.bucket IN ('M1','M2','M3','M4','M5','M6','M6+') GROUP BY p""",
    f"""SELECT period, numerator, denominator FROM {table('rates')}
        WHERE metric = 'cure' AND state = 'M1+' AND basis = 'count'""")
passed = sum(RESULTS)
print(f"crosscheck: {passed} passed, {len(RESULTS) - passed} failed")
sys.exit(0 if ok else 1)
