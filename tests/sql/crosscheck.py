"""Independent cross-check of `arrears run` against DuckDB SQL (metrics.md).

1. DuckDB rewrites a generated portfolio with its own Parquet writer (so
   arrears reads files written by another tool);
2. `arrears run` computes the figures on those files;
3. the same figures are computed here in plain SQL from the raw rows, and
   every row of ageing, classification and transitions, every
   numerator/denominator of rates, cash and recoveries, the worklist
   loan by loan (the default tier rules, early-warning signals with promise
   keeping, routes and shortfalls on v2 exposure), the secured book by CLTV
   band, the recovery tables (collections,
   charge-off cohorts, vintage, plans, legal pipeline, credit repair), the
   contact tables (channels, promises) and the compliance exceptions of
   both profiles must match to the cent; the forecast's cohort projections
   (count and balance basis, metrics.md v2) are recomputed here by plain
   matrix products from the SQL transition counts and must agree to a
   relative 1e-9; the champion / challenger arms (reference XXH64), the
   challenger's and champions' tiers and the `experiments` table's counts
   must match exactly; the drivers' mix and rate effects to 1e-12.

Usage: python crosscheck.py ARREARS_BIN WORK_DIR [LOANS]
"""
import json
import subprocess
import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
import figures  # noqa: E402  (metrics.md in SQL, shared with benches/duckdb_peer.py)

BIN, WORK = sys.argv[1], Path(sys.argv[2])
LOANS = sys.argv[3] if len(sys.argv) > 3 else "50000"
AS_OF = "2026-11-29"
gen, src, out = WORK / "gen", WORK / "duckdb-input", WORK / "out"
subprocess.run([BIN, "generate", "--output", str(gen), "--loans", LOANS, "--as-of", AS_OF,
                "--days", "8", "--seed", "7", "--contact-days", "14"], check=True, stdout=subprocess.DEVNULL)
db = duckdb.connect()
dates = sorted(p.name.split("=")[1] for p in (gen / "loans").iterdir())
for d in dates:
    (src / "loans" / f"as_of_date={d}").mkdir(parents=True, exist_ok=True)
    db.execute(f"""COPY (SELECT * EXCLUDE (as_of_date) FROM read_parquet('{gen}/loans/as_of_date={d}/*.parquet'))
                   TO '{src}/loans/as_of_date={d}/data_0.parquet' (FORMAT parquet, ROW_GROUP_SIZE 10000)""")
for d in sorted(p.name.split("=")[1] for p in (gen / "contacts").iterdir()):
    (src / "contacts" / f"as_of_date={d}").mkdir(parents=True, exist_ok=True)
    db.execute(f"""COPY (SELECT * FROM read_parquet('{gen}/contacts/as_of_date={d}/*.parquet'))
                   TO '{src}/contacts/as_of_date={d}/data_0.parquet' (FORMAT parquet)""")
subprocess.run([BIN, "run", "--input", str(src), "--output", str(out)], check=True, stdout=subprocess.DEVNULL)

def table(name, root=None):
    return f"read_parquet('{root or out}/{name}/as_of_date={AS_OF}/*.parquet')"

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


prev = [d for d in dates if d < AS_OF][-1]
Q = figures.build(db, src, AS_OF, prev, "2026-10-29")
ok = same("ageing", Q["ageing"],
    f"SELECT product, region, credit_grade, bucket, loans, principal_balance, past_due_amount FROM {table('ageing')}")
ok &= same("classification (non-empty cells)", Q["classification"],
    f"SELECT product, class, loans, principal_balance FROM {table('classification')} WHERE loans > 0")
for period in ["prev", "1m"]:
    ok &= same(f"transitions {period} (non-empty cells)", Q[f"transitions {period}"],
        f"""SELECT from_state, to_state, loans, balance FROM {table('transitions')}
            WHERE period = '{period}' AND dimension = 'bucket' AND loans > 0""")
ok &= same("dpd and npl ratios (numerator, denominator)", Q["book ratios"],
    f"""SELECT metric, basis, numerator, denominator FROM {table('rates')} WHERE period = 'current'
        AND (metric, basis) IN (('dpd1_plus','count'), ('dpd30_plus','balance'), ('npl','balance'))""")
# Headline cash and recoveries (manifest `figures`, exact decimal strings).
fig = json.loads((out / "manifest" / f"as_of_date={AS_OF}" / "manifest.json").read_text())["figures"]
ok &= same("cash collected and recoveries (manifest)", Q["cash and recoveries"],
    f"""SELECT '{fig["cash_collected"]}'::DECIMAL(20,2), '{fig["recovered_prev"]}'::DECIMAL(20,2),
               '{fig["recovered_1m"]}'::DECIMAL(20,2)""")
ok &= same("cure over all delinquent buckets (M1+)", Q["cure M1+"],
    f"""SELECT period, numerator, denominator FROM {table('rates')}
        WHERE metric = 'cure' AND state = 'M1+' AND basis = 'count'""")
ok &= same("worklist loan by loan (default rules in SQL)", Q["worklist"],
    f"""SELECT loan_id, tier || '|' || tier_reason, array_to_string(ew_reasons, ';'), route, expected_shortfall
        FROM {table('worklist')}""")
ok &= same("collateral (secured book; charged-off loans routed on what is left)", Q["collateral"],
    f"""SELECT product, cltv_band, bucket, loans, principal_balance, senior_lien_balance, collateral_value,
          expected_shortfall, exposure FROM {table('collateral')}""")
ok &= same("collections (prev bucket x tier)", Q["collections"],
    f"""SELECT from_bucket, tier, loans, paying_loans, cash_collected, cured_loans, cured_balance
        FROM {table('collections')}""")
ok &= same("recovery_cohorts", Q["recovery_cohorts"],
    f"""SELECT charge_off_month, loans, charge_off_amount, recovered_to_date, recovered_today, round(recovery_rate, 9)
        FROM {table('recovery_cohorts')}""")
ok &= same("vintage", Q["vintage"],
    f"""SELECT origination_month, months_on_book, loans, original_principal, principal_balance, dpd30_balance,
          dpd90_balance, charge_off_amount FROM {table('vintage')}""")
ok &= same("plans (non-empty statuses)", Q["plans"],
    f"""SELECT plan_status, loans, principal_balance, past_due_amount, cash_collected FROM {table('plans')} WHERE loans > 0""")
ok &= same("plan cure and broken-plan rates (1m cohort)", Q["plan rates"],
    f"""SELECT a.metric, a.numerator, a.denominator, b.numerator, b.denominator
        FROM {table('rates')} a JOIN {table('rates')} b ON a.metric = b.metric AND a.period = b.period AND a.state = b.state
        WHERE a.period = '1m' AND a.state = 'active_plan' AND a.basis = 'count' AND b.basis = 'balance'""")
ok &= same("legal_pipeline", Q["legal_pipeline"],
    f"""SELECT legal_stage, loans, principal_balance, past_due_amount, cash_collected FROM {table('legal_pipeline')}""")
ok &= same("credit_repair loan by loan", Q["credit_repair"],
    f"SELECT loan_id, bucket, prev_bucket, m1_bucket FROM {table('credit_repair')}")
ok &= same("channels (channels with contacts)", Q["channels"],
    f"""SELECT channel, contacts, attempts, loans_contacted, loans_reached, rpc, ptp, ptp_amount
        FROM {table('channels')} WHERE contacts > 0""")
ok &= same("promises by due date", Q["promises"],
    f"""SELECT due_date, promises, due, kept, broken, open, promised_amount, kept_amount, paid_amount
        FROM {table('promises')}""")
ok &= same("compliance exceptions, profile cn", Q["compliance cn"], f"SELECT contact_id, rule FROM {table('compliance')}")
# The same book under profile us_reg_f (12 CFR 1006).
policy = subprocess.run([BIN, "policy"], check=True, capture_output=True, text=True).stdout
(WORK / "us.toml").write_text(policy.replace('profile = "cn"', 'profile = "us_reg_f"'))
subprocess.run([BIN, "run", "--input", str(src), "--output", str(WORK / "out-us"), "--policy", str(WORK / "us.toml")],
               check=True, stdout=subprocess.DEVNULL)
us_table = table("compliance", WORK / "out-us")
ok &= same("compliance exceptions, profile us_reg_f", Q["compliance us_reg_f"], f"SELECT contact_id, rule FROM {us_table}")
seen = db.execute(f"SELECT rule, count(*) FROM (SELECT rule FROM {table('compliance')} UNION ALL SELECT rule FROM {us_table}) GROUP BY ALL ORDER BY 1").fetchall()
print("   compliance rules seen (both profiles):", seen)
counts = db.execute(f"SELECT tier, count(*) FROM {table('worklist')} GROUP BY ALL ORDER BY 1").fetchall()
signals_seen = db.execute(f"SELECT count(*) FILTER (len(ew_reasons) > 0), count(*) FILTER (list_contains(ew_reasons, 'broken_promise')), count(*) FILTER (tier_reason = 'refused') FROM {table('worklist')}").fetchone()
print("   worklist tiers:", counts, "flagged, broken promises, refused:", signals_seen)


def agree(label, what, tol, ours, got, close):
    """Every key on both sides, every value close: prints the verdict."""
    bad = [k for k in ours if k not in got or not close(ours[k], got[k])]
    bad += [k for k in got if k not in ours]
    if bad:
        print(f"MISMATCH {label}: {[(k, ours.get(k), got.get(k)) for k in bad[:3]]}")
        return False
    print(f"ok {label}: {len(ours)} {what} agree to {tol}")
    return True


def forecast_check():
    """The cohort `1m` run-off projection from the SQL transition cells and
    the SQL book at D, by plain products (no code shared with arrears)."""
    states = ["M0", "M1", "M2", "M3", "M4", "M5", "M6", "M6+", "WO", "PAID", "EXIT"]
    absorbing = {"WO", "PAID", "EXIT"}
    cells = db.execute(Q["transitions 1m"]).fetchall()
    book = {b: (n, float(v)) for b, n, v in db.execute(
        f'SELECT bucket, count(*), sum(principal_balance) FROM "s{AS_OF}" GROUP BY bucket').fetchall()}
    theirs = db.execute(f"""SELECT basis, horizon_months, state, measure, value FROM {table('forecast')}
        WHERE method = 'cohort_1m' AND measure IN ('expected', 'new_charge_off')""").fetchall()
    ours = {}
    for basis, k in (("count", 0), ("balance", 1)):
        rows = {a: {b: 0.0 for b in states} for a in states}
        for f, t, n, bal in cells:
            if f != "NEW":
                rows[f][t] += n if basis == "count" else float(bal)
        P = {}
        for a in states:
            total = sum(rows[a].values())
            P[a] = ({b: float(a == b) for b in states} if a in absorbing or total == 0
                    else {b: rows[a][b] / total for b in states})
        v = {a: float(book.get(a, (0, 0.0))[k]) for a in states}
        for a in states:
            ours[(basis, 0, a, "expected")] = v[a]
        for h in range(1, 7):
            wo = v["WO"]
            v = {b: sum(v[a] * P[a][b] for a in states) for b in states}
            for b in states:
                ours[(basis, h, b, "expected")] = v[b]
            ours[(basis, h, "WO", "new_charge_off")] = v["WO"] - wo
    got = {(b, h, s, m): x for b, h, s, m, x in theirs}
    return agree("forecast cohort_1m (count and balance)", "values", "1e-9", ours, got,
                 lambda a, b: abs(a - b) <= 1e-9 * max(1.0, abs(a)))


RESULTS.append(forecast_check())
ok &= RESULTS[-1]


def experiments_check():
    """Champion / challenger (metrics.md v2) on the printed policy's example
    experiment widened to every active delinquent loan: the arms recomputed
    with the reference XXH64 (the Python xxhash package), the challenger's
    tiers and the champions' (the default rules in SQL), and the
    `experiments` table's counts from the SQL buckets at `1m` and D."""
    import xxhash
    M1 = "2026-10-29"
    text = subprocess.run([BIN, "policy"], check=True, capture_output=True, text=True).stdout
    example = "\n".join(l[2:] if l.startswith("# ") else l.lstrip("#")
                        for l in text[text.index("# [[experiments]]"):].splitlines())
    wide = (example.replace('scope = { dpd_min = 1, dpd_max = 30, grade = ["C"] }',
                            'scope = { status = ["active"], dpd_min = 1 }')
            .replace(', grade = ["C"]', "")
            .replace('tier = "T0_current"\nreason = "outside_scope"', 'tier = "T3_field"\nreason = "challenger_field"'))
    assert "challenger_field" in wide and 'status = ["active"]' in wide
    salt = wide.split('salt = "')[1].split('"')[0]
    share = round(float(wide.split("share = ")[1].split("\n")[0]) * 10_000)
    name = wide.split('name = "')[1].split('"')[0]
    (WORK / "experiment.toml").write_text(text + "\n" + wide + "\n")
    ox = WORK / "out-experiment"
    for d in (M1, AS_OF):
        subprocess.run([BIN, "run", "--input", str(src), "--output", str(ox), "--as-of", d,
                        "--policy", str(WORK / "experiment.toml")], check=True, stdout=subprocess.DEVNULL)

    def arm(loan_id):
        h = xxhash.xxh64_intdigest(f"{salt}:{loan_id}".encode(), seed=0)
        return "challenger" if h % 10_000 < share else "champion"

    db.execute("CREATE OR REPLACE TABLE arms (as_of VARCHAR, loan_id VARCHAR, arm VARCHAR)")
    for d in (M1, AS_OF):
        ids = db.execute(f"""SELECT loan_id::VARCHAR FROM "s{d}"
                             WHERE status = 'active' AND days_past_due >= 1""").fetchall()
        db.executemany("INSERT INTO arms VALUES (?, ?, ?)", [(d, i, arm(i)) for (i,) in ids])
    good = True
    for d in (M1, AS_OF):
        good &= _same(f"experiment arms {d} (reference XXH64)",
            f"SELECT loan_id, arm FROM arms WHERE as_of = '{d}'",
            f"""SELECT loan_id::VARCHAR, arm FROM read_parquet('{ox}/worklist/as_of_date={d}/*.parquet')
                WHERE experiment = '{name}'""")
    wl = f"read_parquet('{ox}/worklist/as_of_date={AS_OF}/*.parquet')"
    challengers = f"(SELECT loan_id FROM arms WHERE as_of = '{AS_OF}' AND arm = 'challenger')"
    good &= _same("challenger tiers (the experiment's rules)",
        f"""SELECT loan_id::VARCHAR, CASE WHEN days_past_due <= 30 THEN 'T2_phone|challenger_call_early'
                   ELSE 'T3_field|challenger_field' END FROM "s{AS_OF}" WHERE loan_id::VARCHAR IN {challengers}""",
        f"SELECT loan_id::VARCHAR, tier || '|' || tier_reason FROM {wl} WHERE arm = 'challenger'")
    good &= _same("champion and out-of-scope tiers (default rules in SQL)",
        f"SELECT #1::VARCHAR, #2 FROM ({Q['worklist']}) WHERE #1::VARCHAR NOT IN {challengers}",
        f"SELECT loan_id::VARCHAR, tier || '|' || tier_reason FROM {wl} WHERE arm IS DISTINCT FROM 'challenger'")
    order = "['M0','M1','M2','M3','M4','M5','M6','M6+','WO']"
    good &= _same("experiments table (1m cohorts followed to D)",
        f"""SELECT a.arm, m.bucket, count(*), sum(m.principal_balance)::DECIMAL(20,2),
                   count(*) FILTER (d.bucket IN ('M0', 'PAID')),
                   count(*) FILTER (list_position({order}, d.bucket) > list_position({order}, m.bucket))
            FROM arms a JOIN "s{M1}" m ON m.loan_id::VARCHAR = a.loan_id
            LEFT JOIN "s{AS_OF}" d ON d.loan_id = m.loan_id
            WHERE a.as_of = '{M1}' GROUP BY ALL""",
        f"""SELECT arm, from_bucket, loans, balance, cured, rolled
            FROM read_parquet('{ox}/experiments/as_of_date={AS_OF}/*.parquet')
            WHERE arm <> 'difference' AND from_bucket <> 'all' AND loans > 0""")
    n = db.execute(f"SELECT arm, count(*) FROM arms WHERE as_of = '{M1}' GROUP BY ALL ORDER BY 1").fetchall()
    print("   experiment arms at 1m:", n)
    return good


RESULTS.append(experiments_check())
ok &= RESULTS[-1]


def drivers_check():
    """Drivers (metrics.md v2): DPD30+ and NPL by balance against prev and
    1m, split by product, region and grade into mix and rate with midpoint
    weights, from SQL sums of the snapshots; every row to 1e-12."""
    theirs = db.execute(f"""SELECT period, metric, dimension, coalesce(segment, '<null>'), weight_then, weight_now,
        ratio_then, ratio_now, mix_effect, rate_effect FROM {table('drivers')}""").fetchall()
    got = {r[:4]: r[4:] for r in theirs}
    ours = {}
    for period, then in (("prev", prev), ("1m", "2026-10-29")):
        for dim, col in (("product", "product"), ("region", "region"), ("grade", "credit_grade")):
            sums = {}
            for side, d in ((0, then), (1, AS_OF)):
                for seg, dpd30, active, npl, book in db.execute(f"""
                    SELECT coalesce({col}, '<null>'),
                      sum(principal_balance) FILTER (bucket NOT IN ('M0', 'M1', 'WO', 'PAID')),
                      sum(principal_balance) FILTER (bucket NOT IN ('WO', 'PAID')),
                      sum(principal_balance) FILTER (class IN ('substandard', 'doubtful', 'loss')),
                      sum(principal_balance) FILTER (bucket <> 'PAID')
                    FROM "s{d}" GROUP BY 1""").fetchall():
                    sums.setdefault(seg, [[0, 0, 0, 0], [0, 0, 0, 0]])[side] = [
                        int((x or 0) * 100) for x in (dpd30, active, npl, book)]
            for metric, (n, k) in (("dpd30_plus", (0, 1)), ("npl", (2, 3))):
                tot = [sum(v[side][k] for v in sums.values()) for side in (0, 1)]
                for seg, v in sums.items():
                    if v[0][k] == 0 and v[1][k] == 0 and v[0][n] == 0 and v[1][n] == 0 and \
                            all(x == 0 for x in v[0] + v[1]):
                        continue
                    w = [v[side][k] / tot[side] if tot[side] else 0.0 for side in (0, 1)]
                    r = [v[side][n] / v[side][k] if v[side][k] else None for side in (0, 1)]
                    x0 = r[0] if r[0] is not None else (r[1] or 0.0)
                    x1 = r[1] if r[1] is not None else (r[0] or 0.0)
                    ours[(period, metric, dim, seg)] = (w[0], w[1], r[0], r[1],
                                                        (w[1] - w[0]) * (x0 + x1) / 2, (w[0] + w[1]) / 2 * (x1 - x0))
    close = lambda a, b: (a is None and b is None) or (a is not None and b is not None and abs(a - b) <= 1e-12)
    return agree("drivers (mix and rate, prev and 1m, 3 dimensions)", "rows", "1e-12", ours, got,
                 lambda a, b: all(close(x, y) for x, y in zip(a, b)))


RESULTS.append(drivers_check())
ok &= RESULTS[-1]
passed = sum(RESULTS)
print(f"crosscheck: {passed} passed, {len(RESULTS) - passed} failed")
sys.exit(0 if ok else 1)
