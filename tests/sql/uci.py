"""Real-data cross-check: the UCI "Default of Credit Card Clients" book.

Data: Yeh, I-C. (2009). Default of Credit Card Clients [Dataset]. UCI Machine
Learning Repository. https://doi.org/10.24432/C55S3H. CC BY 4.0. Read from
../shared/data (see its PROVENANCE.md); never copied into this repository.

30,000 Taiwanese card accounts with six monthly repayment statuses
(April..September 2005). This script

1. converts them into six month-end loans snapshots (2005-04-30 ..
   2005-09-30), with only the nine required columns of the data contract
   (an unsecured card book has no collateral, plans, legal stages or
   contactability) and the lender's own names where the data set has the
   value as it is: `ID`, `LIMIT_BAL`, `PAY_AMT`, mapped onto the contract by
   the policy's `[input.columns]`;
2. runs `arrears run` month by month, as a monthly schedule would;
3. counts the pooled month-to-month roll-rate matrix (loans and balance at
   the earlier month) here, in plain Python over the raw CSV, independently
   of arrears, and requires the sum of the five published `prev` bucket
   matrices to equal it exactly, cell by cell; and checks that every report
   says the optional columns' sections are not available.

The mapping (what the data set does not have is stated, not invented):

| contract column | from |
|---|---|
| loan_id | `ID` (Int64) |
| product | `credit_card` for every account |
| origination_date | not in the data set: 2000-01-01 for every account (vintage figures of this book mean nothing) |
| original_principal | `LIMIT_BAL` (the credit limit) |
| principal_balance | the month's `BILL_AMTk`, a credit balance (negative bill) read as 0 |
| past_due_amount | not in the data set: 0 |
| days_past_due | 30 x the month's repayment status `PAY_k` when >= 1 (status k = k months late), else 0 (-2, -1 and 0 are not late) |
| paid_amount | the month's `PAY_AMTk` |
| status | `active` (the data set has no charge-offs or pay-offs) |

Usage: python uci.py ARREARS_BIN WORK_DIR CSV
"""
import csv
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb

BIN, WORK, CSV = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
# Month-end of each observed month and its columns' suffix: the data set's
# PAY_0 is September and PAY_6 April; BILL_AMT1 / PAY_AMT1 are September.
MONTHS = [("2005-04-30", "6", "6"), ("2005-05-31", "5", "5"), ("2005-06-30", "4", "4"),
          ("2005-07-31", "3", "3"), ("2005-08-31", "2", "2"), ("2005-09-30", "0", "1")]
STATES = ["M0", "M1", "M2", "M3", "M4", "M5", "M6", "M6+"]


def bucket(status):
    """The contract's bucket of a repayment status (dpd = 30 x status)."""
    dpd = 30 * status if status >= 1 else 0
    if dpd == 0:
        return "M0"
    return STATES[min((dpd + 29) // 30, 7)] if dpd <= 180 else "M6+"


def convert(src, dst):
    """Six month-end snapshots in Parquet, written by DuckDB."""
    db = duckdb.connect()
    for date, pay, amt in MONTHS:
        part = dst / "loans" / f"as_of_date={date}"
        part.mkdir(parents=True, exist_ok=True)
        db.execute(f"""COPY (SELECT CAST(ID AS BIGINT) AS ID, 'credit_card' AS product,
              DATE '2000-01-01' AS origination_date,
              CAST(LIMIT_BAL AS DECIMAL(18,2)) AS LIMIT_BAL,
              CAST(greatest(BILL_AMT{amt}, 0) AS DECIMAL(18,2)) AS principal_balance,
              CAST(0 AS DECIMAL(18,2)) AS past_due_amount,
              CAST(CASE WHEN PAY_{pay} >= 1 THEN 30 * PAY_{pay} ELSE 0 END AS INTEGER) AS days_past_due,
              CAST(PAY_AMT{amt} AS DECIMAL(18,2)) AS PAY_AMT,
              'active' AS status
            FROM read_csv('{src}', header = true) ORDER BY ID)
            TO '{part}/part-0.parquet' (FORMAT parquet, ROW_GROUP_SIZE 8192)""")


def independent_matrix(src):
    """Pooled month-to-month transitions counted from the raw CSV: (from, to)
    -> [loans, balance in cents at the earlier month]."""
    cells = Counter()
    balance = Counter()
    with open(src, newline="") as f:
        for row in csv.DictReader(f):
            states = [(bucket(int(row[f"PAY_{pay}"])), max(int(row[f"BILL_AMT{amt}"]), 0) * 100)
                      for _, pay, amt in MONTHS]
            for (a, bal), (b, _) in zip(states, states[1:]):
                cells[(a, b)] += 1
                balance[(a, b)] += bal
    return {k: (cells[k], balance[k]) for k in cells}


def published_matrix(out, dates):
    """The sum of the published `prev` bucket matrices of the runs after the first."""
    db = duckdb.connect()
    total = {}
    for d in dates:
        rows = db.execute(f"""SELECT from_state, to_state, loans, CAST(balance * 100 AS HUGEINT)
            FROM read_parquet('{out}/transitions/as_of_date={d}/*.parquet')
            WHERE period = 'prev' AND dimension = 'bucket' AND loans > 0""").fetchall()
        if not rows:
            sys.exit(f"MISMATCH: the run of {d} published no prev bucket transitions")
        for a, b, n, bal in rows:
            k = (a, b)
            n0, b0 = total.get(k, (0, 0))
            total[k] = (n0 + n, b0 + int(bal))
    return total


def main():
    if not CSV.exists():
        sys.exit(f"{CSV} is missing: the real-data cross-check reads ../shared/data (see README)")
    src, out = WORK / "input", WORK / "out"
    for p in (src, out):
        subprocess.run(["rm", "-rf", str(p)], check=True)
    convert(CSV, src)
    policy = subprocess.run([BIN, "policy"], check=True, capture_output=True, text=True).stdout
    mapped = policy.replace("[input.columns]\n",
                            '[input.columns]\nloan_id = "ID"\noriginal_principal = "LIMIT_BAL"\npaid_amount = "PAY_AMT"\n', 1)
    assert mapped != policy, "the built-in policy has an [input.columns] section"
    (WORK / "uci.toml").write_text(mapped)
    dates = [d for d, _, _ in MONTHS]
    for d in dates:
        subprocess.run([BIN, "run", "--input", str(src), "--output", str(out), "--as-of", d,
                        "--policy", str(WORK / "uci.toml")], check=True, stdout=subprocess.DEVNULL)
    ok = True
    theirs = independent_matrix(CSV)
    ours = published_matrix(out, dates[1:])
    if ours != theirs:
        ok = False
        for k in sorted(set(ours) | set(theirs)):
            if ours.get(k) != theirs.get(k):
                print(f"MISMATCH {k}: arrears {ours.get(k)}, independent count {theirs.get(k)}")
    else:
        n = sum(v[0] for v in theirs.values())
        print(f"ok pooled monthly roll-rate matrix: {len(theirs)} cells, {n} month-to-month pairs identical")
    # Print the pooled matrix (row shares by loans), as the README shows it.
    print("   from\\to " + " ".join(f"{s:>6}" for s in STATES))
    for a in STATES:
        row = [theirs.get((a, b), (0, 0))[0] for b in STATES]
        if sum(row):
            print(f"   {a:<7} " + " ".join(f"{x / sum(row):6.3f}" for x in row) + f"  {sum(row):>6}")
    # The nine-column book: every run publishes, the manifest names the
    # absent columns, the report says which sections are not available.
    for d in dates:
        m = json.loads((out / "manifest" / f"as_of_date={d}" / "manifest.json").read_text())
        absent = set(m["inputs"][0]["absent_columns"])
        want = {"collateral_value", "plan_status", "legal_stage", "charge_off_date", "contactable"}
        if not want <= absent:
            ok = False
            print(f"MISMATCH {d}: manifest absent_columns {sorted(absent)}")
        html = (out / "report" / f"as_of_date={d}" / "report.html").read_text()
        for col in ["collateral_value", "plan_status", "legal_stage", "charge_off_date"]:
            if f"not available: the book has no {col} column" not in html:
                ok = False
                print(f"MISMATCH {d}: the report does not say the {col} sections are not available")
    print(f"uci crosscheck: {'1 passed, 0 failed' if ok else '0 passed, 1 failed'}")
    sys.exit(0 if ok else 1)


main()
