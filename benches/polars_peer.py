"""The Polars peer of BENCHMARKS.md (issue 14): the nightly figures computed
with Polars' lazy API over the same input files, as a data engineer who
prefers Polars would write them (the same definitions as the DuckDB peer,
tests/sql/figures.py: buckets, classes, transitions, ratios, the worklist's
tiers and signals, collections, recovery, plans, legal, credit repair,
channels, promises and the `cn` compliance rules), each table written to
Parquet with ZSTD.

Usage: python polars_peer.py INPUT_DIR AS_OF OUT_DIR [THREADS] [RUNS]
Prints the median wall time of RUNS (default 3) full runs. THREADS is set
through POLARS_MAX_THREADS before Polars is imported.
"""
import datetime as dt
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

src, as_of, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
runs = int(sys.argv[5]) if len(sys.argv) > 5 else 3
os.environ["POLARS_MAX_THREADS"] = str(threads)
import polars as pl  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "sql"))
import figures  # noqa: E402  (the shared period dates)

prev, m1 = figures.periods(src, as_of)
D = dt.date.fromisoformat(as_of)
DELINQ = ["M1", "M2", "M3", "M4", "M5", "M6", "M6+"]
RPC = ["right_party_contact", "promise_to_pay", "refused", "paid"]
c = pl.col


def bucket():
    dpd = c("days_past_due")
    return (pl.when(c("status") == "paid_off").then(pl.lit("PAID"))
            .when(c("status") == "charged_off").then(pl.lit("WO"))
            .when(dpd == 0).then(pl.lit("M0")).when(dpd <= 30).then(pl.lit("M1"))
            .when(dpd <= 60).then(pl.lit("M2")).when(dpd <= 90).then(pl.lit("M3"))
            .when(dpd <= 120).then(pl.lit("M4")).when(dpd <= 150).then(pl.lit("M5"))
            .when(dpd <= 180).then(pl.lit("M6")).otherwise(pl.lit("M6+")))


def klass():
    dpd = c("days_past_due")
    by_dpd = (pl.when(c("status") == "charged_off").then(4).when(dpd == 0).then(0).when(dpd <= 90).then(1)
              .when(dpd <= 270).then(2).when(dpd <= 360).then(3).otherwise(4))
    plan = c("plan_status").fill_null("none")
    by_plan = pl.when(plan == "none").then(0).when(plan == "broken").then(2).otherwise(1)
    names = pl.Series(["normal", "special_mention", "substandard", "doubtful", "loss"])
    k = pl.max_horizontal(by_dpd, by_plan)
    return (pl.when(c("status") == "paid_off").then(None)
            .otherwise(k.replace_strict(list(range(5)), names.to_list(), return_dtype=pl.Utf8)))


def snap(date):
    return (pl.scan_parquet(f"{src}/loans/as_of_date={date}/*.parquet", hive_partitioning=False)
            .with_columns(bucket=bucket(), klass=klass()))


def figures():
    cur, P, M = snap(as_of), snap(prev), snap(m1)
    q = {}
    q["ageing"] = cur.group_by("product", "region", "credit_grade", "bucket").agg(
        loans=pl.len(), principal_balance=c("principal_balance").sum(), past_due_amount=c("past_due_amount").sum())
    q["classification"] = cur.filter(c("klass").is_not_null()).group_by("product", "klass").agg(
        loans=pl.len(), principal_balance=c("principal_balance").sum())
    for period, e in [("prev", P), ("1m", M)]:
        j = e.select("loan_id", "bucket", "principal_balance").join(
            cur.select("loan_id", "bucket", "principal_balance"), on="loan_id", how="full", suffix="_c")
        q[f"transitions {period}"] = j.group_by(
            from_state=c("bucket").fill_null("NEW"), to_state=c("bucket_c").fill_null("EXIT")).agg(
            loans=pl.len(),
            balance=pl.when(c("loan_id").is_null()).then(c("principal_balance_c")).otherwise(c("principal_balance")).sum())
    q["book ratios"] = cur.select(
        dpd1=c("bucket").is_in(DELINQ).sum(), active=(c("status") == "active").sum(),
        dpd30_bal=c("principal_balance").filter(c("bucket").is_in(["M2", "M3", "M4", "M5", "M6", "M6+"])).sum(),
        active_bal=c("principal_balance").filter(c("status") == "active").sum(),
        npl_bal=c("principal_balance").filter(c("klass").is_in(["substandard", "doubtful", "loss"])).sum(),
        book_bal=c("principal_balance").filter(c("klass").is_not_null()).sum())

    def recovered(e):
        j = cur.filter(c("status") == "charged_off").select("loan_id", "recovered_to_date").join(
            e.select("loan_id", "status", "recovered_to_date"), on="loan_id", how="left", suffix="_e")
        return j.select((c("recovered_to_date").fill_null(0) - pl.when(c("status") == "charged_off")
                         .then(c("recovered_to_date_e").fill_null(0)).otherwise(0)).sum())

    q["cash and recoveries"] = pl.concat([cur.select(c("paid_amount").sum().cast(pl.Float64).alias("v")),
                                          recovered(P).select(pl.all().cast(pl.Float64).alias("v")),
                                          recovered(M).select(pl.all().cast(pl.Float64).alias("v"))])
    cures = []
    for name, e in [("prev", P), ("1m", M)]:
        cures.append(e.filter(c("bucket").is_in(DELINQ)).select("loan_id").join(
            cur.select("loan_id", "bucket"), on="loan_id", how="left").select(
            p=pl.lit(name), cured=c("bucket").is_in(["M0", "PAID"]).sum(), n=pl.len()))
    q["cure M1+"] = pl.concat(cures)

    # The worklist: contacts, promises, signals, routes, tiers.
    contacts = (pl.scan_parquet(f"{src}/contacts/*/*.parquet", include_file_paths="f", hive_partitioning=False)
                .with_columns(contact_date=c("f").str.extract(r"as_of_date=([0-9-]+)", 1).str.to_date())
                .filter(c("contact_date").is_between(D - dt.timedelta(days=13), D)))
    all_snaps = (pl.scan_parquet(f"{src}/loans/*/*.parquet", include_file_paths="f", hive_partitioning=False)
                 .select("loan_id", "paid_amount",
                         snap_date=c("f").str.extract(r"as_of_date=([0-9-]+)", 1).str.to_date()))
    promised = contacts.filter((c("outcome") == "promise_to_pay") & c("ptp_amount").is_not_null()
                               & c("ptp_date").is_not_null() & (c("ptp_date") > D - dt.timedelta(days=7)))
    paid = (promised.select("contact_id", "loan_id", "contact_date", "ptp_date").join(all_snaps, on="loan_id")
            .filter((c("snap_date") > c("contact_date")) & (c("snap_date") <= pl.min_horizontal(c("ptp_date"), pl.lit(D))))
            .group_by("contact_id").agg(paid=c("paid_amount").sum()))
    promises = (promised.join(paid, on="contact_id", how="left")
                .with_columns(paid=c("paid").fill_null(0), open=c("ptp_date") > D)
                .with_columns(kept=~c("open") & (c("paid") * 100 >= c("ptp_amount") * 95)))
    broken = promises.filter(~c("open") & ~c("kept")).select("loan_id").unique()
    refused = contacts.filter((c("outcome") == "refused") & (c("contact_date") > D - dt.timedelta(days=7))).select(
        "loan_id").unique()
    facts = (cur.filter(c("status") != "paid_off")
             .join(P.select("loan_id", p_status="status", p_dpd="days_past_due"), on="loan_id", how="left")
             .join(M.select("loan_id", m_status="status", m_dpd="days_past_due"), on="loan_id", how="left")
             .join(refused.with_columns(refused=pl.lit(True)), on="loan_id", how="left")
             .join(broken.with_columns(broken=pl.lit(True)), on="loan_id", how="left")
             .with_columns(
                 refused=c("refused").fill_null(False), broken=c("broken").fill_null(False),
                 senior=c("senior_lien_balance").fill_null(0),
                 secured=c("collateral_value").is_not_null() & (c("collateral_value") > 0),
                 delinquent=(c("status") == "charged_off") | (c("days_past_due") > 0),
                 exposure=pl.when(c("status") == "charged_off").then(
                     pl.max_horizontal(pl.lit(0), c("charge_off_amount").fill_null(0) - c("recovered_to_date").fill_null(0)))
                 .otherwise(c("principal_balance")),
                 cushion=(c("collateral_value") * 0.70).round(2) - c("senior_lien_balance").fill_null(0),
                 reachable=c("contactable").fill_null(True), stage=c("legal_stage").fill_null("none"),
                 plan=c("plan_status").fill_null("none"),
                 mob=12 * (D.year - c("origination_date").dt.year()) + D.month - c("origination_date").dt.month())
             .with_columns(
                 route=pl.when(c("secured") & c("delinquent")).then(
                     pl.when(c("cushion") >= c("exposure")).then(pl.lit("enforce"))
                     .when(c("cushion") > 0).then(pl.lit("negotiate")).otherwise(pl.lit("unsecured"))),
                 shortfall=pl.when(c("secured") & c("delinquent")).then(
                     pl.max_horizontal(pl.lit(0), c("exposure") - pl.max_horizontal(pl.lit(0), c("cushion")))),
                 candidate=(c("status") == "active") & (c("days_past_due") <= 7)))
    cand = c("candidate")
    sig = [
        ("re_default_risk", cand & (c("days_past_due") == 0) & (c("m_status") == "active") & (c("m_dpd") > 0)),
        ("cltv_over_100", cand & c("secured") & (c("senior") + c("principal_balance") > c("collateral_value"))),
        ("plan_broken", cand & (c("plan") == "broken")),
        ("lost_contact", cand & (c("contactable") == False)),  # noqa: E712
        ("first_payment_risk", cand & (c("days_past_due") > 0) & (c("mob") <= 3)),
        ("dpd_rising", cand & (c("p_status") == "active") & (c("days_past_due") > c("p_dpd"))),
        ("broken_promise", cand & c("broken")),
    ]
    signals = facts.with_columns(
        ew=pl.concat_list([pl.when(cond.fill_null(False)).then(pl.lit(n)) for n, cond in sig]).list.drop_nulls())
    dpd = c("days_past_due")
    tier = (pl.when(c("status") == "charged_off").then(pl.lit("T5_recovery|charged_off"))
            .when((dpd >= 91) & (c("stage") != "none")).then(pl.lit("T4_legal|legal_action"))
            .when((dpd >= 91) & (c("plan") == "broken")).then(pl.lit("T4_legal|plan_broken"))
            .when((dpd >= 91) & c("refused")).then(pl.lit("T4_legal|refused"))
            .when((dpd >= 91) & c("secured") & (c("route") == "enforce")).then(pl.lit("T4_legal|enforce_collateral"))
            .when(dpd >= 61).then(pl.lit("T3_field|dpd_over_60"))
            .when((dpd >= 31) & ~c("reachable")).then(pl.lit("T3_field|lost_contact"))
            .when(dpd >= 8).then(pl.lit("T2_phone|dpd_over_7"))
            .when((dpd >= 1) & c("credit_grade").is_in(["D", "E"])).then(pl.lit("T2_phone|weak_grade"))
            .when(dpd.is_between(1, 7)).then(pl.lit("T1_reminder|early_dpd"))
            .when((dpd == 0) & (c("ew").list.len() > 0)).then(pl.lit("T0_watch|early_warning"))
            .otherwise(pl.lit("T0_current|current")))
    worklist = signals.select("loan_id", tier=tier, ew=c("ew").list.join(";"), route=c("route"),
                              shortfall=c("shortfall"))
    q["worklist"] = worklist

    # Recovery.
    q["collections"] = (cur.select("loan_id", "bucket", "paid_amount")
                        .join(P.select("loan_id", p_bucket="bucket", p_balance="principal_balance"), on="loan_id", how="left")
                        .join(worklist.select("loan_id", "tier"), on="loan_id", how="left")
                        .with_columns(cured=c("p_bucket").is_in(DELINQ) & c("bucket").is_in(["M0", "PAID"]))
                        .group_by(from_bucket=c("p_bucket").fill_null("NEW"), tier=c("tier").str.split("|").list.first())
                        .agg(loans=pl.len(), paying_loans=(c("paid_amount") > 0).sum(),
                             cash_collected=c("paid_amount").sum(), cured_loans=c("cured").sum(),
                             cured_balance=c("p_balance").filter(c("cured")).sum()))
    q["recovery_cohorts"] = (cur.filter(c("status") == "charged_off").select(
        "loan_id", "charge_off_date", "charge_off_amount", "recovered_to_date")
        .join(P.select("loan_id", p_status="status", p_rec="recovered_to_date"), on="loan_id", how="left")
        .group_by(charge_off_month=c("charge_off_date").dt.strftime("%Y-%m"))
        .agg(loans=pl.len(), charge_off_amount=c("charge_off_amount").fill_null(0).sum(),
             recovered_to_date=c("recovered_to_date").fill_null(0).sum(),
             recovered_today=(c("recovered_to_date").fill_null(0) - pl.when(c("p_status") == "charged_off")
                              .then(c("p_rec").fill_null(0)).otherwise(0)).sum()))
    q["vintage"] = cur.group_by(origination_month=c("origination_date").dt.strftime("%Y-%m")).agg(
        loans=pl.len(), original_principal=c("original_principal").sum(),
        principal_balance=c("principal_balance").sum(),
        dpd30_balance=c("principal_balance").filter((c("status") == "active") & (c("days_past_due") >= 31)).sum(),
        dpd90_balance=c("principal_balance").filter((c("status") == "active") & (c("days_past_due") >= 91)).sum(),
        charge_off_amount=c("charge_off_amount").fill_null(0).filter(c("status") == "charged_off").sum())
    groups = dict(loans=pl.len(), principal_balance=c("principal_balance").sum(),
                  past_due_amount=c("past_due_amount").sum(), cash_collected=c("paid_amount").sum())
    q["plans"] = cur.group_by(plan_status=c("plan_status").fill_null("none")).agg(**groups)
    pc = M.filter(c("plan_status") == "active").select("loan_id", "principal_balance").join(
        cur.select("loan_id", c_bucket="bucket", c_plan="plan_status"), on="loan_id", how="left")
    q["plan rates"] = pc.select(
        cured=c("c_bucket").is_in(["M0", "PAID"]).sum(), broken=(c("c_plan") == "broken").sum(), n=pl.len(),
        cured_bal=c("principal_balance").filter(c("c_bucket").is_in(["M0", "PAID"])).sum(),
        broken_bal=c("principal_balance").filter(c("c_plan") == "broken").sum(), bal=c("principal_balance").sum())
    q["legal_pipeline"] = cur.group_by("legal_stage").agg(**groups)
    q["credit_repair"] = (cur.filter(c("bucket").is_in(["M0", "PAID"]) & (c("past_due_amount") == 0))
                          .select("loan_id", "bucket")
                          .join(P.select("loan_id", prev_bucket="bucket"), on="loan_id", how="left")
                          .join(M.select("loan_id", m1_bucket="bucket"), on="loan_id", how="left")
                          .filter(c("prev_bucket").is_in(DELINQ) | c("m1_bucket").is_in(DELINQ)))

    # Contacts.
    today = contacts.filter(c("contact_date") == D)
    q["channels"] = today.group_by("channel").agg(
        contacts=pl.len(), attempts=(~c("channel").is_in(["sms", "app_push"])).sum(),
        loans_contacted=c("loan_id").n_unique(), loans_reached=c("loan_id").filter(c("outcome").is_in(RPC)).n_unique(),
        rpc=c("outcome").is_in(RPC).sum(), ptp=(c("outcome") == "promise_to_pay").sum(),
        ptp_amount=c("ptp_amount").filter(c("outcome") == "promise_to_pay").sum())
    q["promises"] = promises.group_by(due_date="ptp_date").agg(
        promises=pl.len(), due=(~c("open")).sum(), kept=c("kept").sum(), broken=(~c("open") & ~c("kept")).sum(),
        open=c("open").sum(), promised_amount=c("ptp_amount").sum(),
        kept_amount=c("ptp_amount").filter(c("kept")).sum(), paid_amount=c("paid").sum())
    judged = (contacts.with_row_index("idx")
              .with_columns(day=c("contact_ts").dt.date(),
                            minute_of_day=c("contact_ts").dt.hour().cast(pl.Int32) * 60
                            + c("contact_ts").dt.minute().cast(pl.Int32)))
    connected = c("outcome").is_in(RPC + ["third_party_contact"])
    calls = (judged.filter(c("channel") == "phone").sort("contact_ts", "idx")
             .with_columns(attempt_of_day=pl.int_range(1, pl.len() + 1).over("loan_id", "day"),
                           connect_of_day=connected.cast(pl.Int32).cum_sum().over("loan_id", "day")))
    on_day = c("contact_date") == D
    voice = c("channel").is_in(["phone", "field_visit"])
    q["compliance cn"] = pl.concat([
        judged.filter(on_day & voice & ((c("minute_of_day") >= 22 * 60) | (c("minute_of_day") < 8 * 60)))
        .select("contact_id", rule=pl.lit("quiet_hours")),
        calls.filter(on_day & (c("attempt_of_day") > 6)).select("contact_id", rule=pl.lit("too_many_attempts")),
        calls.filter(on_day & connected & (c("connect_of_day") > 3)).select("contact_id", rule=pl.lit("too_many_connects")),
        judged.filter(on_day & (c("outcome") == "third_party_contact")).select("contact_id", rule=pl.lit("third_party")),
        judged.filter(on_day & voice).join(cur.filter(c("bucket") == "M0").select("loan_id"), on="loan_id")
        .select("contact_id", rule=pl.lit("not_delinquent")),
    ])
    return q


times = []
counts = {}
for _ in range(runs):
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    t = time.perf_counter()
    q = figures()
    # Collected together, so Polars can share the scans of common inputs.
    names = list(q)
    frames = pl.collect_all([q[n] for n in names])
    for name, df in zip(names, frames):
        df.write_parquet(out / (name.replace(" ", "_") + ".parquet"), compression="zstd")
        counts[name] = df.height
    times.append(time.perf_counter() - t)
print(f"polars peer ({pl.__version__}): {len(counts)} tables ({counts['worklist']} worklist rows), {threads} threads, "
      f"median {statistics.median(times):.2f} s of {runs} (min {min(times):.2f}, max {max(times):.2f}); prev {prev}, 1m {m1}")
