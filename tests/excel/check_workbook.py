"""The run's Excel workbook read by an independent reader (openpyxl) and
checked against the run's Parquet tables (read by DuckDB) and manifest.

Every table sheet must hold the table's columns in order and every row:
text as text, counts and amounts as numbers equal to the Parquet values
(amounts to the cent), rates to 1e-12, dates as dates; numbers must carry
number formats (`#,##0.00` for amounts, `#,##0` for counts). The headline
sheet must give the manifest's loans and principal balance, the roll-rate
grids the `transitions` table's bucket cells, the compliance summary the
exceptions per rule. A rerun must write the same bytes (checked by the
caller's second run, if given).

Usage: python check_workbook.py OUTPUT_DIR AS_OF [SECOND_OUTPUT_DIR]
"""
import datetime
import json
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl

out, as_of = Path(sys.argv[1]), sys.argv[2]
book = out / "report" / f"as_of_date={as_of}" / "report.xlsx"
wb = openpyxl.load_workbook(book)
manifest = json.loads((out / "manifest" / f"as_of_date={as_of}" / "manifest.json").read_text())
LOAN_LEVEL = {"worklist", "credit_repair", "compliance"}
problems = []
checked = 0


def same(a, b, kind):
    if b is None:
        return a is None
    if kind == "text":
        return a == b
    if kind == "date":
        return isinstance(a, datetime.datetime) and a.date() == b
    if kind == "money":
        return isinstance(a, (int, float)) and round(Decimal(str(a)) * 100) == round(b * 100)
    if kind == "count":
        return isinstance(a, (int, float)) and a == b
    if kind == "bool":
        return a is b or a == b
    return isinstance(a, (int, float)) and abs(a - b) <= 1e-12 * max(1.0, abs(b))


tables = sorted({o["table"] for o in manifest["outputs"]} - LOAN_LEVEL)
for t in tables:
    if t not in wb.sheetnames:
        problems.append(f"no sheet {t}")
        continue
    ws = wb[t]
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{out}/{t}/as_of_date={as_of}/*.parquet')")
    cols, types = rel.columns, [str(x) for x in rel.types]
    rows = rel.fetchall()
    header = [c.value for c in ws[1]]
    if header != cols:
        problems.append(f"{t}: header {header} != {cols}")
        continue
    if ws.max_row - 1 != len(rows):
        problems.append(f"{t}: {ws.max_row - 1} rows in the sheet, {len(rows)} in Parquet")
        continue
    kinds = ["text" if ty == "VARCHAR" else "date" if ty == "DATE" else "money" if ty.startswith("DECIMAL")
             else "count" if ty in ("BIGINT", "INTEGER") else "bool" if ty == "BOOLEAN" else "rate" for ty in types]
    for r, row in enumerate(rows, start=2):
        for c, (want, kind) in enumerate(zip(row, kinds), start=1):
            cell = ws.cell(row=r, column=c)
            if not same(cell.value, want, kind):
                problems.append(f"{t}!{cell.coordinate}: {cell.value!r} != {want!r} ({kind})")
                break
            if want is not None and kind == "money" and cell.number_format != "#,##0.00":
                problems.append(f"{t}!{cell.coordinate}: amount formatted {cell.number_format!r}")
            if want is not None and kind == "count" and cell.number_format != "#,##0":
                problems.append(f"{t}!{cell.coordinate}: count formatted {cell.number_format!r}")
            checked += 1
    if len(problems) > 20:
        break

h = {(r[1].value, r[2].value): r for r in wb["headline"].iter_rows(min_row=2)}
fig = manifest["figures"]
if h[("loans", None)][3].value != fig["loans"]:
    problems.append(f"headline loans {h[('loans', None)][3].value} != {fig['loans']}")
if round(Decimal(str(h[("principal_balance", None)][3].value)) * 100) != round(Decimal(fig["principal_balance"]) * 100):
    problems.append("headline principal balance differs from the manifest")
ratio = h[("dpd30_plus", "balance")][3].value
if fig.get("dpd30_plus_balance") is not None and abs(ratio - fig["dpd30_plus_balance"]) > 1e-12:
    problems.append(f"headline DPD30+ {ratio} != {fig['dpd30_plus_balance']}")

for period in ("prev", "1m"):
    name = f"roll_rates_{period}"
    if name not in wb.sheetnames:
        continue
    ws = wb[name]
    to = [c.value for c in ws[1]][1:]
    grid = {(r[0].value, to[k]): r[k + 1].value for r in ws.iter_rows(min_row=2) for k in range(len(to))}
    cells = duckdb.sql(f"""SELECT from_state, to_state, loans FROM read_parquet('{out}/transitions/as_of_date={as_of}/*.parquet')
        WHERE period = '{period}' AND dimension = 'bucket' AND experiment IS NULL""").fetchall()
    bad = [(f, t, n, grid.get((f, t))) for f, t, n in cells if grid.get((f, t)) != n]
    if bad or len(cells) != len(grid):
        problems.append(f"{name}: {bad[:3]}")
    checked += len(cells)

summary = {r[0].value: r[1].value for r in wb["compliance_summary"].iter_rows(min_row=2)}
counted = dict(duckdb.sql(f"SELECT rule, count(*) FROM read_parquet('{out}/compliance/as_of_date={as_of}/*.parquet') GROUP BY 1").fetchall())
if {k: v for k, v in summary.items() if v} != counted:
    problems.append(f"compliance_summary {summary} != {counted}")

if len(sys.argv) > 3:
    other = Path(sys.argv[3]) / "report" / f"as_of_date={as_of}" / "report.xlsx"
    if other.read_bytes() != book.read_bytes():
        problems.append("a rerun wrote different workbook bytes")

if problems:
    print("workbook: " + "\n  ".join(problems[:20]))
    sys.exit(1)
print(f"workbook: {len(wb.sheetnames)} sheets, {checked} cells equal to the Parquet tables; "
      f"headline, roll-rate grids and compliance summary agree" + ("; a rerun wrote the same bytes" if len(sys.argv) > 3 else ""))
