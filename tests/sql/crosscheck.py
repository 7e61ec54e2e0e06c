"""Independent cross-check of `arrears run` against DuckDB SQL (metrics.md).

1. DuckDB rewrites a generated portfolio with its own Parquet writer (so
   arrears reads files written by another tool);
2. `arrears run` computes the figures on those files;
3. the same figures are computed here in plain SQL from the raw rows, and
   every row of ageing, classification and transitions, every
   numerator/denominator of rates, cash and recoveries, the worklist
   loan by loan (the default tier rules, early-warning signals with promise
   keeping, routes and shortfalls), the recovery tables (collections,
   charge-off cohorts, vintage, plans, legal pipeline, credit repair), the
   contact tables (channels, promises) and the compliance exceptions of
   both profiles must match to the cent.

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
            WHERE period = '{period}' AND dimension = 'bucket' AND loans > 0""")
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
# The worklist, loan by loan, against the default policy's rules written
# independently in SQL (metrics.md, "Collection tiers", "Second-lien").
db.execute(f"""CREATE VIEW contacts AS SELECT *, CAST(filename AS VARCHAR) AS f,
    CAST(regexp_extract(filename, 'as_of_date=([0-9-]+)', 1) AS DATE) AS contact_date
    FROM read_parquet('{src}/contacts/*/*.parquet', filename = true)""")
db.execute(f"""CREATE VIEW all_snaps AS SELECT loan_id, paid_amount,
    CAST(regexp_extract(filename, 'as_of_date=([0-9-]+)', 1) AS DATE) AS snap_date
    FROM read_parquet('{src}/loans/*/*.parquet', filename = true)""")
D = f"DATE '{AS_OF}'"
db.execute(f"""CREATE VIEW promise_due AS
    SELECT p.contact_id, p.loan_id, p.ptp_amount,
           coalesce((SELECT sum(s.paid_amount) FROM all_snaps s WHERE s.loan_id = p.loan_id
                     AND s.snap_date > p.contact_date AND s.snap_date <= p.ptp_date), 0) AS paid
    FROM contacts p
    WHERE p.outcome = 'promise_to_pay' AND p.ptp_amount IS NOT NULL
      AND p.contact_date >= {D} - 13 AND p.ptp_date > {D} - 7 AND p.ptp_date <= {D}""")
db.execute(f"""CREATE VIEW facts AS SELECT c.*,
    coalesce(c.senior_lien_balance, 0) AS senior,
    (c.collateral_value IS NOT NULL AND c.collateral_value > 0) AS secured,
    (c.status = 'charged_off' OR c.days_past_due > 0) AS delinquent,
    round(c.collateral_value * 0.70, 2) - coalesce(c.senior_lien_balance, 0) AS cushion,
    coalesce(c.contactable, true) AS reachable,
    coalesce(c.legal_stage, 'none') AS stage,
    coalesce(c.plan_status, 'none') AS plan,
    c.loan_id IN (SELECT loan_id FROM contacts WHERE outcome = 'refused' AND contact_date > {D} - 7) AS refused,
    c.loan_id IN (SELECT loan_id FROM promise_due WHERE paid * 100 < ptp_amount * 95) AS broken,
    p.status AS p_status, p.days_past_due AS p_dpd, m.status AS m_status, m.days_past_due AS m_dpd,
    12 * (year({D}) - year(c.origination_date)) + month({D}) - month(c.origination_date) AS mob
    FROM "s{AS_OF}" c LEFT JOIN "s{prev}" p ON p.loan_id = c.loan_id LEFT JOIN "s2026-10-29" m ON m.loan_id = c.loan_id
    WHERE c.status <> 'paid_off'""")
db.execute("""CREATE VIEW routed AS SELECT *,
    CASE WHEN secured AND delinquent THEN CASE WHEN cushion >= principal_balance THEN 'enforce'
         WHEN cushion > 0 THEN 'negotiate' ELSE 'unsecured' END END AS route,
    CASE WHEN secured AND delinquent THEN greatest(0, principal_balance - greatest(0, cushion)) END AS shortfall,
    status = 'active' AND days_past_due <= 7 AS candidate
    FROM facts""")
db.execute("""CREATE VIEW signals AS SELECT *, list_filter([
      CASE WHEN candidate AND days_past_due = 0 AND m_status = 'active' AND m_dpd > 0 THEN 're_default_risk' END,
      CASE WHEN candidate AND secured AND senior + principal_balance > collateral_value THEN 'cltv_over_100' END,
      CASE WHEN candidate AND plan = 'broken' THEN 'plan_broken' END,
      CASE WHEN candidate AND contactable = false THEN 'lost_contact' END,
      CASE WHEN candidate AND days_past_due > 0 AND mob <= 3 THEN 'first_payment_risk' END,
      CASE WHEN candidate AND p_status = 'active' AND days_past_due > p_dpd THEN 'dpd_rising' END,
      CASE WHEN candidate AND broken THEN 'broken_promise' END], lambda x: x IS NOT NULL) AS ew
    FROM routed""")
db.execute("""CREATE VIEW sql_worklist AS SELECT loan_id,
         CASE WHEN status = 'charged_off' THEN 'T5_recovery|charged_off'
              WHEN days_past_due >= 91 AND stage <> 'none' THEN 'T4_legal|legal_action'
              WHEN days_past_due >= 91 AND plan = 'broken' THEN 'T4_legal|plan_broken'
              WHEN days_past_due >= 91 AND refused THEN 'T4_legal|refused'
              WHEN days_past_due >= 91 AND secured AND route = 'enforce' THEN 'T4_legal|enforce_collateral'
              WHEN days_past_due >= 61 THEN 'T3_field|dpd_over_60'
              WHEN days_past_due >= 31 AND NOT reachable THEN 'T3_field|lost_contact'
              WHEN days_past_due >= 8 THEN 'T2_phone|dpd_over_7'
              WHEN days_past_due >= 1 AND credit_grade IN ('D', 'E') THEN 'T2_phone|weak_grade'
              WHEN days_past_due BETWEEN 1 AND 7 THEN 'T1_reminder|early_dpd'
              WHEN days_past_due = 0 AND len(ew) > 0 THEN 'T0_watch|early_warning'
              ELSE 'T0_current|current' END AS tier,
         array_to_string(ew, ';') AS ew, route, shortfall::DECIMAL(20,2) AS shortfall
       FROM signals""")
ok &= same("worklist loan by loan (default rules in SQL)", "SELECT * FROM sql_worklist",
    f"""SELECT loan_id, tier || '|' || tier_reason, array_to_string(ew_reasons, ';'), route, expected_shortfall
        FROM {table('worklist')}""")
# Recovery and contacts (metrics.md, "Collections and recovery", "Contacts").
P = f'"s{prev}"'
M = '"s2026-10-29"'
DELINQ = "('M1','M2','M3','M4','M5','M6','M6+')"
ok &= same("collections (prev bucket x tier)",
    f"""SELECT coalesce(p.bucket, 'NEW'), split_part(w.tier, '|', 1) AS tier, count(*)::BIGINT,
          count(*) FILTER (c.paid_amount > 0)::BIGINT, sum(c.paid_amount)::DECIMAL(20,2),
          count(*) FILTER (p.bucket IN {DELINQ} AND c.bucket IN ('M0','PAID'))::BIGINT,
          coalesce(sum(p.principal_balance) FILTER (p.bucket IN {DELINQ} AND c.bucket IN ('M0','PAID')), 0)::DECIMAL(20,2)
        FROM {cur} c LEFT JOIN {P} p ON p.loan_id = c.loan_id LEFT JOIN sql_worklist w ON w.loan_id = c.loan_id
        GROUP BY ALL""",
    f"""SELECT from_bucket, tier, loans, paying_loans, cash_collected, cured_loans, cured_balance
        FROM {table('collections')}""")
ok &= same("recovery_cohorts",
    f"""SELECT strftime(c.charge_off_date, '%Y-%m'), count(*)::BIGINT, sum(coalesce(c.charge_off_amount, 0))::DECIMAL(20,2),
          sum(coalesce(c.recovered_to_date, 0))::DECIMAL(20,2),
          sum(coalesce(c.recovered_to_date, 0) - CASE WHEN p.status = 'charged_off' THEN coalesce(p.recovered_to_date, 0) ELSE 0 END)::DECIMAL(20,2),
          round(sum(coalesce(c.recovered_to_date, 0)) / nullif(sum(coalesce(c.charge_off_amount, 0)), 0), 9)
        FROM {cur} c LEFT JOIN {P} p ON p.loan_id = c.loan_id WHERE c.status = 'charged_off' GROUP BY ALL""",
    f"""SELECT charge_off_month, loans, charge_off_amount, recovered_to_date, recovered_today, round(recovery_rate, 9)
        FROM {table('recovery_cohorts')}""")
ok &= same("vintage",
    f"""SELECT strftime(origination_date, '%Y-%m'),
          (12 * (year({D}) - year(origination_date)) + month({D}) - month(origination_date))::INTEGER,
          count(*)::BIGINT, sum(original_principal)::DECIMAL(20,2), sum(principal_balance)::DECIMAL(20,2),
          coalesce(sum(principal_balance) FILTER (status = 'active' AND days_past_due >= 31), 0)::DECIMAL(20,2),
          coalesce(sum(principal_balance) FILTER (status = 'active' AND days_past_due >= 91), 0)::DECIMAL(20,2),
          coalesce(sum(coalesce(charge_off_amount, 0)) FILTER (status = 'charged_off'), 0)::DECIMAL(20,2)
        FROM {cur} GROUP BY ALL""",
    f"""SELECT origination_month, months_on_book, loans, original_principal, principal_balance, dpd30_balance,
          dpd90_balance, charge_off_amount FROM {table('vintage')}""")
ok &= same("plans (non-empty statuses)",
    f"""SELECT coalesce(plan_status, 'none'), count(*)::BIGINT, sum(principal_balance)::DECIMAL(20,2),
          sum(past_due_amount)::DECIMAL(20,2), sum(paid_amount)::DECIMAL(20,2) FROM {cur} GROUP BY ALL""",
    f"""SELECT plan_status, loans, principal_balance, past_due_amount, cash_collected FROM {table('plans')} WHERE loans > 0""")
ok &= same("plan cure and broken-plan rates (1m cohort)",
    f"""SELECT 'plan_cure', count(*) FILTER (c.bucket IN ('M0','PAID'))::DECIMAL(20,2), count(*)::DECIMAL(20,2),
          coalesce(sum(m.principal_balance) FILTER (c.bucket IN ('M0','PAID')), 0)::DECIMAL(20,2), sum(m.principal_balance)::DECIMAL(20,2)
        FROM {M} m LEFT JOIN {cur} c ON c.loan_id = m.loan_id WHERE m.plan_status = 'active'
        UNION ALL
        SELECT 'plan_broken', count(*) FILTER (c.plan_status = 'broken')::DECIMAL(20,2), count(*)::DECIMAL(20,2),
          coalesce(sum(m.principal_balance) FILTER (c.plan_status = 'broken'), 0)::DECIMAL(20,2), sum(m.principal_balance)::DECIMAL(20,2)
        FROM {M} m LEFT JOIN {cur} c ON c.loan_id = m.loan_id WHERE m.plan_status = 'active'""",
    f"""SELECT a.metric, a.numerator, a.denominator, b.numerator, b.denominator
        FROM {table('rates')} a JOIN {table('rates')} b ON a.metric = b.metric AND a.period = b.period AND a.state = b.state
        WHERE a.period = '1m' AND a.state = 'active_plan' AND a.basis = 'count' AND b.basis = 'balance'""")
ok &= same("legal_pipeline",
    f"""SELECT legal_stage, count(*)::BIGINT, sum(principal_balance)::DECIMAL(20,2), sum(past_due_amount)::DECIMAL(20,2),
          sum(paid_amount)::DECIMAL(20,2) FROM {cur} GROUP BY ALL""",
    f"""SELECT legal_stage, loans, principal_balance, past_due_amount, cash_collected FROM {table('legal_pipeline')}""")
ok &= same("credit_repair loan by loan",
    f"""SELECT c.loan_id, c.bucket, p.bucket, m.bucket FROM {cur} c
        LEFT JOIN {P} p ON p.loan_id = c.loan_id LEFT JOIN {M} m ON m.loan_id = c.loan_id
        WHERE c.bucket IN ('M0','PAID') AND c.past_due_amount = 0
          AND (p.bucket IN {DELINQ} OR m.bucket IN {DELINQ})""",
    f"SELECT loan_id, bucket, prev_bucket, m1_bucket FROM {table('credit_repair')}")
RPC = "('right_party_contact','promise_to_pay','refused','paid')"
ok &= same("channels (channels with contacts)",
    f"""SELECT channel, count(*)::BIGINT, count(*) FILTER (channel NOT IN ('sms','app_push'))::BIGINT,
          count(DISTINCT loan_id)::BIGINT, count(DISTINCT loan_id) FILTER (outcome IN {RPC})::BIGINT,
          count(*) FILTER (outcome IN {RPC})::BIGINT, count(*) FILTER (outcome = 'promise_to_pay')::BIGINT,
          coalesce(sum(ptp_amount) FILTER (outcome = 'promise_to_pay'), 0)::DECIMAL(20,2)
        FROM contacts WHERE contact_date = {D} GROUP BY ALL""",
    f"""SELECT channel, contacts, attempts, loans_contacted, loans_reached, rpc, ptp, ptp_amount
        FROM {table('channels')} WHERE contacts > 0""")
ok &= same("promises by due date",
    f"""WITH p AS (SELECT c.ptp_date, c.ptp_amount, c.ptp_date > {D} AS open,
          coalesce((SELECT sum(s.paid_amount) FROM all_snaps s WHERE s.loan_id = c.loan_id
                    AND s.snap_date > c.contact_date AND s.snap_date <= least(c.ptp_date, {D})), 0) AS paid
        FROM contacts c WHERE c.outcome = 'promise_to_pay' AND c.ptp_amount IS NOT NULL AND c.ptp_date IS NOT NULL
          AND c.contact_date >= {D} - 13 AND c.ptp_date > {D} - 7)
        SELECT ptp_date, count(*)::BIGINT, count(*) FILTER (NOT open)::BIGINT,
          count(*) FILTER (NOT open AND paid * 100 >= ptp_amount * 95)::BIGINT,
          count(*) FILTER (NOT open AND paid * 100 < ptp_amount * 95)::BIGINT, count(*) FILTER (open)::BIGINT,
          sum(ptp_amount)::DECIMAL(20,2),
          coalesce(sum(ptp_amount) FILTER (NOT open AND paid * 100 >= ptp_amount * 95), 0)::DECIMAL(20,2),
          sum(paid)::DECIMAL(20,2)
        FROM p GROUP BY ALL""",
    f"""SELECT due_date, promises, due, kept, broken, open, promised_amount, kept_amount, paid_amount
        FROM {table('promises')}""")
# Compliance: every contact of the window, in arrears' reading order (date,
# file, row), with its borrower-local day and minute (the generator writes
# zone-less, i.e. local, timestamps).
db.execute(f"""CREATE VIEW judged AS SELECT c.*, CAST(c.contact_ts AS DATE) AS day,
    hour(c.contact_ts) * 60 + minute(c.contact_ts) AS minute_of_day,
    row_number() OVER (ORDER BY contact_date, f, file_row_number) AS idx
    FROM read_parquet('{src}/contacts/*/*.parquet', filename = true, file_row_number = true) x
    JOIN contacts c USING (contact_id)
    WHERE c.contact_date >= {D} - 13""")
db.execute(f"""CREATE VIEW calls AS SELECT *,
    row_number() OVER (PARTITION BY loan_id, day ORDER BY contact_ts, idx) AS attempt_of_day,
    count(*) FILTER (outcome IN {RPC} OR outcome = 'third_party_contact')
      OVER (PARTITION BY loan_id, day ORDER BY contact_ts, idx ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS connect_of_day
    FROM judged WHERE channel = 'phone'""")
cn_sql = f"""
    SELECT contact_id, 'quiet_hours' FROM judged WHERE contact_date = {D} AND channel IN ('phone','field_visit')
      AND (minute_of_day >= 22 * 60 OR minute_of_day < 8 * 60)
    UNION ALL SELECT contact_id, 'too_many_attempts' FROM calls WHERE contact_date = {D} AND attempt_of_day > 6
    UNION ALL SELECT contact_id, 'too_many_connects' FROM calls WHERE contact_date = {D}
      AND (outcome IN {RPC} OR outcome = 'third_party_contact') AND connect_of_day > 3
    UNION ALL SELECT contact_id, 'third_party' FROM judged WHERE contact_date = {D} AND outcome = 'third_party_contact'
    UNION ALL SELECT j.contact_id, 'not_delinquent' FROM judged j JOIN {cur} c ON c.loan_id = j.loan_id
      WHERE j.contact_date = {D} AND j.channel IN ('phone','field_visit') AND c.bucket = 'M0'"""
ok &= same("compliance exceptions, profile cn", cn_sql, f"SELECT contact_id, rule FROM {table('compliance')}")
# The same book under profile us_reg_f (12 CFR 1006).
policy = subprocess.run([BIN, "policy"], check=True, capture_output=True, text=True).stdout
(WORK / "us.toml").write_text(policy.replace('profile = "cn"', 'profile = "us_reg_f"'))
subprocess.run([BIN, "run", "--input", str(src), "--output", str(WORK / "out-us"), "--policy", str(WORK / "us.toml")],
               check=True, stdout=subprocess.DEVNULL)
us_sql = f"""
    SELECT contact_id, 'quiet_hours' FROM judged WHERE contact_date = {D} AND channel IN ('phone','field_visit')
      AND (minute_of_day >= 21 * 60 OR minute_of_day < 8 * 60)
    UNION ALL SELECT a.contact_id, 'seven_in_seven' FROM calls a WHERE a.contact_date = {D}
      AND (SELECT count(*) FROM calls b WHERE b.loan_id = a.loan_id AND b.day BETWEEN a.day - 6 AND a.day
           AND (b.contact_ts < a.contact_ts OR (b.contact_ts = a.contact_ts AND b.idx <= a.idx))) > 7
    UNION ALL SELECT a.contact_id, 'call_after_conversation' FROM calls a WHERE a.contact_date = {D}
      AND EXISTS (SELECT 1 FROM calls b WHERE b.loan_id = a.loan_id AND b.outcome IN {RPC} AND b.day >= a.day - 6
           AND (b.contact_ts < a.contact_ts OR (b.contact_ts = a.contact_ts AND b.idx < a.idx)))
    UNION ALL SELECT j.contact_id, 'not_delinquent' FROM judged j JOIN {cur} c ON c.loan_id = j.loan_id
      WHERE j.contact_date = {D} AND j.channel IN ('phone','field_visit') AND c.bucket = 'M0'"""
us_table = f"read_parquet('{WORK}/out-us/compliance/as_of_date={AS_OF}/*.parquet')"
ok &= same("compliance exceptions, profile us_reg_f", us_sql, f"SELECT contact_id, rule FROM {us_table}")
seen = db.execute(f"SELECT rule, count(*) FROM (SELECT rule FROM {table('compliance')} UNION ALL SELECT rule FROM {us_table}) GROUP BY ALL ORDER BY 1").fetchall()
print("   compliance rules seen (both profiles):", seen)
counts = db.execute(f"SELECT tier, count(*) FROM {table('worklist')} GROUP BY ALL ORDER BY 1").fetchall()
signals_seen = db.execute(f"SELECT count(*) FILTER (len(ew_reasons) > 0), count(*) FILTER (list_contains(ew_reasons, 'broken_promise')), count(*) FILTER (tier_reason = 'refused') FROM {table('worklist')}").fetchone()
print("   worklist tiers:", counts, "flagged, broken promises, refused:", signals_seen)
passed = sum(RESULTS)
print(f"crosscheck: {passed} passed, {len(RESULTS) - passed} failed")
sys.exit(0 if ok else 1)
