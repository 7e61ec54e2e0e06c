"""metrics.md in DuckDB SQL, written independently of arrears: one query per
published table (or per figure), over the raw input files. Used twice:

- tests/sql/crosscheck.py compares every query with what `arrears run`
  published (correctness; CI);
- benches/duckdb_peer.py writes every query to Parquet and times it (the
  peer comparison of BENCHMARKS.md).

`build(db, src, as_of, prev, m1)` creates the views over `src` (Hive-style
loans/ and contacts/ folders) and returns {name: SQL}. The built-in policy
is written out here by hand (buckets, classes, tiers, signals, routes,
compliance profile `cn`, and `us_reg_f` under its own name).
"""

def periods(src, as_of):
    """The `prev` and `1m` snapshot dates of a run date (README, "Periods"):
    the latest before it, and the latest on or before one calendar month
    back (end of month to end of month)."""
    import calendar
    import datetime as dt
    dates = sorted(p.name.split("=")[1] for p in (src / "loans").iterdir() if p.name.startswith("as_of_date="))
    prev = [d for d in dates if d < as_of][-1]
    d = dt.date.fromisoformat(as_of)
    y, m = (d.year, d.month - 1) if d.month > 1 else (d.year - 1, 12)
    last = calendar.monthrange(y, m)[1]
    eom = d.day == calendar.monthrange(d.year, d.month)[1]
    target = dt.date(y, m, last if eom else min(d.day, last)).isoformat()
    return prev, [x for x in dates if x <= target][-1]


BUCKET = """CASE WHEN status = 'paid_off' THEN 'PAID' WHEN status = 'charged_off' THEN 'WO'
  WHEN days_past_due = 0 THEN 'M0' WHEN days_past_due <= 30 THEN 'M1' WHEN days_past_due <= 60 THEN 'M2'
  WHEN days_past_due <= 90 THEN 'M3' WHEN days_past_due <= 120 THEN 'M4' WHEN days_past_due <= 150 THEN 'M5'
  WHEN days_past_due <= 180 THEN 'M6' ELSE 'M6+' END"""
DPD_CLASS = """CASE WHEN status = 'charged_off' THEN 4 WHEN days_past_due = 0 THEN 0 WHEN days_past_due <= 90 THEN 1
  WHEN days_past_due <= 270 THEN 2 WHEN days_past_due <= 360 THEN 3 ELSE 4 END"""
PLAN_CLASS = "CASE coalesce(plan_status, 'none') WHEN 'none' THEN 0 WHEN 'broken' THEN 2 ELSE 1 END"
DELINQ = "('M1','M2','M3','M4','M5','M6','M6+')"
RPC = "('right_party_contact','promise_to_pay','refused','paid')"


def build(db, src, as_of, prev, m1):
    D = f"DATE '{as_of}'"
    for d in sorted({as_of, prev, m1}):
        db.execute(f"""CREATE OR REPLACE VIEW "s{d}" AS SELECT *, {BUCKET} AS bucket,
            CASE WHEN status = 'paid_off' THEN NULL ELSE
              ['normal','special_mention','substandard','doubtful','loss'][greatest({DPD_CLASS}, {PLAN_CLASS}) + 1] END AS class
            FROM read_parquet('{src}/loans/as_of_date={d}/*.parquet')""")
    cur, P, M = f'"s{as_of}"', f'"s{prev}"', f'"s{m1}"'
    q = {}
    q["ageing"] = f"""SELECT product, region, credit_grade, bucket, count(*)::BIGINT AS loans,
        sum(principal_balance)::DECIMAL(20,2) AS principal_balance, sum(past_due_amount)::DECIMAL(20,2) AS past_due_amount
        FROM {cur} GROUP BY ALL"""
    q["classification"] = f"""SELECT product, class, count(*)::BIGINT AS loans,
        sum(principal_balance)::DECIMAL(20,2) AS principal_balance FROM {cur} WHERE class IS NOT NULL GROUP BY ALL"""
    for period, e in [("prev", P), ("1m", M)]:
        q[f"transitions {period}"] = f"""SELECT coalesce(e.bucket, 'NEW') AS from_state, coalesce(c.bucket, 'EXIT') AS to_state,
            count(*)::BIGINT AS loans,
            sum(CASE WHEN e.loan_id IS NULL THEN c.principal_balance ELSE e.principal_balance END)::DECIMAL(20,2) AS balance
            FROM {e} e FULL OUTER JOIN {cur} c ON e.loan_id = c.loan_id GROUP BY ALL"""
    q["book ratios"] = f"""SELECT 'dpd1_plus', 'count', count(*) FILTER (bucket IN {DELINQ})::DECIMAL(20,2),
          count(*) FILTER (status = 'active')::DECIMAL(20,2) FROM {cur}
        UNION ALL SELECT 'dpd30_plus', 'balance',
          coalesce(sum(principal_balance) FILTER (bucket IN ('M2','M3','M4','M5','M6','M6+')), 0)::DECIMAL(20,2),
          sum(principal_balance) FILTER (status = 'active')::DECIMAL(20,2) FROM {cur}
        UNION ALL SELECT 'npl', 'balance',
          sum(principal_balance) FILTER (class IN ('substandard','doubtful','loss'))::DECIMAL(20,2),
          sum(principal_balance) FILTER (class IS NOT NULL)::DECIMAL(20,2) FROM {cur}"""
    recovered = lambda e: f"""(SELECT coalesce(sum(coalesce(c.recovered_to_date, 0) - CASE WHEN e.status = 'charged_off'
          THEN coalesce(e.recovered_to_date, 0) ELSE 0 END), 0)::DECIMAL(20,2)
          FROM {cur} c LEFT JOIN {e} e ON e.loan_id = c.loan_id WHERE c.status = 'charged_off')"""
    q["cash and recoveries"] = f"""SELECT (SELECT sum(paid_amount)::DECIMAL(20,2) FROM {cur}), {recovered(P)}, {recovered(M)}"""
    q["cure M1+"] = f"""SELECT p, count(*) FILTER (c.bucket IN ('M0','PAID'))::DECIMAL(20,2), count(*)::DECIMAL(20,2)
        FROM (SELECT 'prev' AS p, * FROM {P} UNION ALL BY NAME SELECT '1m' AS p, * FROM {M}) e
        LEFT JOIN {cur} c ON e.loan_id = c.loan_id
        WHERE e.bucket IN {DELINQ} GROUP BY p"""

    # The worklist: tiers, signals, routes (metrics.md, "Collection tiers", "Second-lien").
    db.execute(f"""CREATE OR REPLACE VIEW contacts AS SELECT *, CAST(filename AS VARCHAR) AS f,
        CAST(regexp_extract(filename, 'as_of_date=([0-9-]+)', 1) AS DATE) AS contact_date
        FROM read_parquet('{src}/contacts/*/*.parquet', filename = true, file_row_number = true)
        WHERE CAST(regexp_extract(filename, 'as_of_date=([0-9-]+)', 1) AS DATE) BETWEEN {D} - 13 AND {D}""")
    db.execute(f"""CREATE OR REPLACE VIEW all_snaps AS SELECT loan_id, paid_amount,
        CAST(regexp_extract(filename, 'as_of_date=([0-9-]+)', 1) AS DATE) AS snap_date
        FROM read_parquet('{src}/loans/*/*.parquet', filename = true)""")
    db.execute(f"""CREATE OR REPLACE VIEW promise_due AS
        SELECT p.contact_id, p.loan_id, p.ptp_amount,
               coalesce((SELECT sum(s.paid_amount) FROM all_snaps s WHERE s.loan_id = p.loan_id
                         AND s.snap_date > p.contact_date AND s.snap_date <= p.ptp_date), 0) AS paid
        FROM contacts p
        WHERE p.outcome = 'promise_to_pay' AND p.ptp_amount IS NOT NULL
          AND p.ptp_date > {D} - 7 AND p.ptp_date <= {D}""")
    db.execute(f"""CREATE OR REPLACE VIEW facts AS SELECT c.*,
        coalesce(c.senior_lien_balance, 0) AS senior,
        (c.collateral_value IS NOT NULL AND c.collateral_value > 0) AS secured,
        (c.status = 'charged_off' OR c.days_past_due > 0) AS delinquent,
        CASE WHEN c.status = 'charged_off'
             THEN greatest(0, coalesce(c.charge_off_amount, 0) - coalesce(c.recovered_to_date, 0))
             ELSE c.principal_balance END AS exposure,
        round(c.collateral_value * 0.70, 2) - coalesce(c.senior_lien_balance, 0) AS cushion,
        coalesce(c.contactable, true) AS reachable,
        coalesce(c.legal_stage, 'none') AS stage,
        coalesce(c.plan_status, 'none') AS plan,
        c.loan_id IN (SELECT loan_id FROM contacts WHERE outcome = 'refused' AND contact_date > {D} - 7) AS refused,
        c.loan_id IN (SELECT loan_id FROM promise_due WHERE paid * 100 < ptp_amount * 95) AS broken,
        p.status AS p_status, p.days_past_due AS p_dpd, m.status AS m_status, m.days_past_due AS m_dpd,
        12 * (year({D}) - year(c.origination_date)) + month({D}) - month(c.origination_date) AS mob
        FROM {cur} c LEFT JOIN {P} p ON p.loan_id = c.loan_id LEFT JOIN {M} m ON m.loan_id = c.loan_id
        WHERE c.status <> 'paid_off'""")
    db.execute("""CREATE OR REPLACE VIEW routed AS SELECT *,
        CASE WHEN secured AND delinquent THEN CASE WHEN cushion >= exposure THEN 'enforce'
             WHEN cushion > 0 THEN 'negotiate' ELSE 'unsecured' END END AS route,
        CASE WHEN secured AND delinquent THEN greatest(0, exposure - greatest(0, cushion)) END AS shortfall,
        status = 'active' AND days_past_due <= 7 AS candidate
        FROM facts""")
    db.execute("""CREATE OR REPLACE VIEW signals AS SELECT *, list_filter([
          CASE WHEN candidate AND days_past_due = 0 AND m_status = 'active' AND m_dpd > 0 THEN 're_default_risk' END,
          CASE WHEN candidate AND secured AND senior + principal_balance > collateral_value THEN 'cltv_over_100' END,
          CASE WHEN candidate AND plan = 'broken' THEN 'plan_broken' END,
          CASE WHEN candidate AND contactable = false THEN 'lost_contact' END,
          CASE WHEN candidate AND days_past_due > 0 AND mob <= 3 THEN 'first_payment_risk' END,
          CASE WHEN candidate AND p_status = 'active' AND days_past_due > p_dpd THEN 'dpd_rising' END,
          CASE WHEN candidate AND broken THEN 'broken_promise' END], lambda x: x IS NOT NULL) AS ew
        FROM routed""")
    db.execute("""CREATE OR REPLACE VIEW sql_worklist AS SELECT loan_id,
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
    q["worklist"] = "SELECT * FROM sql_worklist"
    # The secured book (metrics.md, CLTV bands and v2 exposure of routed loans).
    q["collateral"] = """SELECT product,
          CASE WHEN (senior + principal_balance) * 100 <= 60 * collateral_value THEN '<=60%'
               WHEN (senior + principal_balance) * 100 <= 80 * collateral_value THEN '60-80%'
               WHEN (senior + principal_balance) * 100 <= 100 * collateral_value THEN '80-100%'
               WHEN (senior + principal_balance) * 100 <= 120 * collateral_value THEN '100-120%'
               ELSE '>120%' END AS cltv_band, bucket, count(*)::BIGINT AS loans,
          sum(principal_balance)::DECIMAL(20,2), sum(senior)::DECIMAL(20,2), sum(collateral_value)::DECIMAL(20,2),
          coalesce(sum(shortfall), 0)::DECIMAL(20,2),
          coalesce(sum(exposure) FILTER (route IS NOT NULL), 0)::DECIMAL(20,2)
        FROM routed WHERE secured GROUP BY ALL"""

    # Recovery (metrics.md, "Collections and recovery").
    q["collections"] = f"""SELECT coalesce(p.bucket, 'NEW') AS from_bucket, split_part(w.tier, '|', 1) AS tier,
          count(*)::BIGINT AS loans, count(*) FILTER (c.paid_amount > 0)::BIGINT AS paying_loans,
          sum(c.paid_amount)::DECIMAL(20,2) AS cash_collected,
          count(*) FILTER (p.bucket IN {DELINQ} AND c.bucket IN ('M0','PAID'))::BIGINT AS cured_loans,
          coalesce(sum(p.principal_balance) FILTER (p.bucket IN {DELINQ} AND c.bucket IN ('M0','PAID')), 0)::DECIMAL(20,2) AS cured_balance
        FROM {cur} c LEFT JOIN {P} p ON p.loan_id = c.loan_id LEFT JOIN sql_worklist w ON w.loan_id = c.loan_id
        GROUP BY ALL"""
    q["recovery_cohorts"] = f"""SELECT strftime(c.charge_off_date, '%Y-%m') AS charge_off_month, count(*)::BIGINT AS loans,
          sum(coalesce(c.charge_off_amount, 0))::DECIMAL(20,2) AS charge_off_amount,
          sum(coalesce(c.recovered_to_date, 0))::DECIMAL(20,2) AS recovered_to_date,
          sum(coalesce(c.recovered_to_date, 0) - CASE WHEN p.status = 'charged_off' THEN coalesce(p.recovered_to_date, 0) ELSE 0 END)::DECIMAL(20,2) AS recovered_today,
          round(sum(coalesce(c.recovered_to_date, 0)) / nullif(sum(coalesce(c.charge_off_amount, 0)), 0), 9) AS recovery_rate
        FROM {cur} c LEFT JOIN {P} p ON p.loan_id = c.loan_id WHERE c.status = 'charged_off' GROUP BY ALL"""
    q["vintage"] = f"""SELECT strftime(origination_date, '%Y-%m') AS origination_month,
          (12 * (year({D}) - year(origination_date)) + month({D}) - month(origination_date))::INTEGER AS months_on_book,
          count(*)::BIGINT AS loans, sum(original_principal)::DECIMAL(20,2) AS original_principal,
          sum(principal_balance)::DECIMAL(20,2) AS principal_balance,
          coalesce(sum(principal_balance) FILTER (status = 'active' AND days_past_due >= 31), 0)::DECIMAL(20,2) AS dpd30_balance,
          coalesce(sum(principal_balance) FILTER (status = 'active' AND days_past_due >= 91), 0)::DECIMAL(20,2) AS dpd90_balance,
          coalesce(sum(coalesce(charge_off_amount, 0)) FILTER (status = 'charged_off'), 0)::DECIMAL(20,2) AS charge_off_amount
        FROM {cur} GROUP BY ALL"""
    q["plans"] = f"""SELECT coalesce(plan_status, 'none') AS plan_status, count(*)::BIGINT AS loans,
          sum(principal_balance)::DECIMAL(20,2) AS principal_balance, sum(past_due_amount)::DECIMAL(20,2) AS past_due_amount,
          sum(paid_amount)::DECIMAL(20,2) AS cash_collected FROM {cur} GROUP BY ALL"""
    plan_rate = lambda metric, cond: f"""SELECT '{metric}' AS metric, count(*) FILTER ({cond})::DECIMAL(20,2),
          count(*)::DECIMAL(20,2), coalesce(sum(m.principal_balance) FILTER ({cond}), 0)::DECIMAL(20,2),
          sum(m.principal_balance)::DECIMAL(20,2)
        FROM {M} m LEFT JOIN {cur} c ON c.loan_id = m.loan_id WHERE m.plan_status = 'active'"""
    q["plan rates"] = plan_rate("plan_cure", "c.bucket IN ('M0','PAID')") + " UNION ALL " + plan_rate(
        "plan_broken", "c.plan_status = 'broken'")
    q["legal_pipeline"] = f"""SELECT legal_stage, count(*)::BIGINT AS loans, sum(principal_balance)::DECIMAL(20,2) AS principal_balance,
          sum(past_due_amount)::DECIMAL(20,2) AS past_due_amount, sum(paid_amount)::DECIMAL(20,2) AS cash_collected
        FROM {cur} GROUP BY ALL"""
    q["credit_repair"] = f"""SELECT c.loan_id, c.bucket, p.bucket AS prev_bucket, m.bucket AS m1_bucket FROM {cur} c
        LEFT JOIN {P} p ON p.loan_id = c.loan_id LEFT JOIN {M} m ON m.loan_id = c.loan_id
        WHERE c.bucket IN ('M0','PAID') AND c.past_due_amount = 0
          AND (p.bucket IN {DELINQ} OR m.bucket IN {DELINQ})"""

    # Contacts (metrics.md, "Contacts").
    q["channels"] = f"""SELECT channel, count(*)::BIGINT AS contacts,
          count(*) FILTER (channel NOT IN ('sms','app_push'))::BIGINT AS attempts,
          count(DISTINCT loan_id)::BIGINT AS loans_contacted,
          count(DISTINCT loan_id) FILTER (outcome IN {RPC})::BIGINT AS loans_reached,
          count(*) FILTER (outcome IN {RPC})::BIGINT AS rpc, count(*) FILTER (outcome = 'promise_to_pay')::BIGINT AS ptp,
          coalesce(sum(ptp_amount) FILTER (outcome = 'promise_to_pay'), 0)::DECIMAL(20,2) AS ptp_amount
        FROM contacts WHERE contact_date = {D} GROUP BY ALL"""
    q["promises"] = f"""WITH p AS (SELECT c.ptp_date, c.ptp_amount, c.ptp_date > {D} AS open,
          coalesce((SELECT sum(s.paid_amount) FROM all_snaps s WHERE s.loan_id = c.loan_id
                    AND s.snap_date > c.contact_date AND s.snap_date <= least(c.ptp_date, {D})), 0) AS paid
        FROM contacts c WHERE c.outcome = 'promise_to_pay' AND c.ptp_amount IS NOT NULL AND c.ptp_date IS NOT NULL
          AND c.ptp_date > {D} - 7)
        SELECT ptp_date AS due_date, count(*)::BIGINT AS promises, count(*) FILTER (NOT open)::BIGINT AS due,
          count(*) FILTER (NOT open AND paid * 100 >= ptp_amount * 95)::BIGINT AS kept,
          count(*) FILTER (NOT open AND paid * 100 < ptp_amount * 95)::BIGINT AS broken,
          count(*) FILTER (open)::BIGINT AS open,
          sum(ptp_amount)::DECIMAL(20,2) AS promised_amount,
          coalesce(sum(ptp_amount) FILTER (NOT open AND paid * 100 >= ptp_amount * 95), 0)::DECIMAL(20,2) AS kept_amount,
          sum(paid)::DECIMAL(20,2) AS paid_amount
        FROM p GROUP BY ALL"""
    # Compliance: contacts in arrears' reading order (date, file, row) with
    # their borrower-local day and minute (zone-less timestamps are local).
    db.execute(f"""CREATE OR REPLACE VIEW judged AS SELECT *, CAST(contact_ts AS DATE) AS day,
        hour(contact_ts) * 60 + minute(contact_ts) AS minute_of_day,
        row_number() OVER (ORDER BY contact_date, f, file_row_number) AS idx
        FROM contacts""")
    db.execute(f"""CREATE OR REPLACE VIEW calls AS SELECT *,
        row_number() OVER (PARTITION BY loan_id, day ORDER BY contact_ts, idx) AS attempt_of_day,
        count(*) FILTER (outcome IN {RPC} OR outcome = 'third_party_contact')
          OVER (PARTITION BY loan_id, day ORDER BY contact_ts, idx ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS connect_of_day
        FROM judged WHERE channel = 'phone'""")
    not_delinquent = f"""SELECT j.contact_id, 'not_delinquent' AS rule FROM judged j JOIN {cur} c ON c.loan_id = j.loan_id
          WHERE j.contact_date = {D} AND j.channel IN ('phone','field_visit') AND c.bucket = 'M0'"""
    quiet = lambda start: f"""SELECT contact_id, 'quiet_hours' AS rule FROM judged WHERE contact_date = {D}
          AND channel IN ('phone','field_visit') AND (minute_of_day >= {start} * 60 OR minute_of_day < 8 * 60)"""
    q["compliance cn"] = f"""{quiet(22)}
        UNION ALL SELECT contact_id, 'too_many_attempts' FROM calls WHERE contact_date = {D} AND attempt_of_day > 6
        UNION ALL SELECT contact_id, 'too_many_connects' FROM calls WHERE contact_date = {D}
          AND (outcome IN {RPC} OR outcome = 'third_party_contact') AND connect_of_day > 3
        UNION ALL SELECT contact_id, 'third_party' FROM judged WHERE contact_date = {D} AND outcome = 'third_party_contact'
        UNION ALL {not_delinquent}"""
    q["compliance us_reg_f"] = f"""{quiet(21)}
        UNION ALL SELECT a.contact_id, 'seven_in_seven' FROM calls a WHERE a.contact_date = {D}
          AND (SELECT count(*) FROM calls b WHERE b.loan_id = a.loan_id AND b.day BETWEEN a.day - 6 AND a.day
               AND (b.contact_ts < a.contact_ts OR (b.contact_ts = a.contact_ts AND b.idx <= a.idx))) > 7
        UNION ALL SELECT a.contact_id, 'call_after_conversation' FROM calls a WHERE a.contact_date = {D}
          AND EXISTS (SELECT 1 FROM calls b WHERE b.loan_id = a.loan_id AND b.outcome IN {RPC} AND b.day >= a.day - 6
               AND (b.contact_ts < a.contact_ts OR (b.contact_ts = a.contact_ts AND b.idx < a.idx)))
        UNION ALL {not_delinquent}"""
    return q
