//! View models of the report's recovery and contact sections: where the
//! cash came from and who cured, charge-off recovery and vintage curves,
//! plans and the legal pipeline, channel effectiveness, promise keeping and
//! compliance exceptions. Like [`view`](crate::report::view), everything is
//! formatted here and templates only place strings.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::figures::Figures;
use crate::fold::PLAN_COHORT;
use crate::history::History;
use crate::input::contacts::Channel;
use crate::metrics::rates::{wilson, Basis};
use crate::metrics::recovery::{month_label, FROM_NEW, FROM_STATES, FROM_UNKNOWN, TIER_STATES};
use crate::output::recovery::profile_label;
use crate::policy::tiers::{Tier, TIERS};
use crate::report::format;
use crate::report::locale::Locale;
use crate::report::svg;
use crate::report::view::{Counted, THIN};
use crate::states::{Bucket, PlanStatus};

/// Exceptions listed one by one; the rest are counted.
pub const EXCEPTIONS_LISTED: usize = 25;
/// Charge-off cohorts listed one by one (the most recent).
pub const COHORTS_LISTED: usize = 12;
/// Vintages and cohorts drawn on a curve (the most recent ones).
pub const CURVES: usize = 6;

#[derive(Serialize)]
pub struct CashRow {
    pub label: String,
    pub loans: String,
    pub paying: String,
    pub cash: String,
    pub cash_share: String,
    pub cured: String,
    pub cured_balance: String,
}

#[derive(Serialize)]
pub struct CohortRow {
    pub month: String,
    pub loans: String,
    pub charged_off: String,
    pub recovered: String,
    pub today: String,
    pub rate: String,
}

#[derive(Serialize)]
pub struct GroupRow {
    pub label: String,
    pub loans: String,
    pub balance: String,
    pub past_due: String,
    pub cash: String,
}

#[derive(Serialize)]
pub struct RecoveryView {
    /// `prev` date the collections are measured from, or empty.
    pub from: String,
    pub by_bucket: Vec<CashRow>,
    pub by_tier: Vec<CashRow>,
    pub cash_total: CashRow,
    pub cohorts: Vec<CohortRow>,
    pub cohorts_total: CohortRow,
    /// Why the charge-off cohorts are not available (no `charge_off_date`).
    pub cohorts_missing: Option<String>,
    pub recovery_chart: String,
    pub vintage30_chart: String,
    pub vintage90_chart: String,
    pub plans: Vec<GroupRow>,
    /// Why plans are not available (no `plan_status`).
    pub plans_missing: Option<String>,
    pub plan_cure: String,
    pub plan_broken: String,
    pub plan_cohort: String,
    pub legal: Vec<GroupRow>,
    /// Why the legal pipeline is not available (no `legal_stage`).
    pub legal_missing: Option<String>,
    pub credit_repair: String,
    pub credit_repair_balance: String,
}

#[derive(Serialize)]
pub struct ChannelRow {
    pub channel: String,
    pub contacts: String,
    pub attempts: String,
    pub contacted: String,
    pub reached: String,
    pub rpc_rate: String,
    pub ptp: String,
    pub ptp_rate: String,
    pub ptp_amount: String,
    pub thin: bool,
}

#[derive(Serialize)]
pub struct PromiseRow {
    pub date: String,
    pub due: String,
    pub kept: String,
    pub broken: String,
    pub open: String,
    pub promised: String,
    pub kept_amount: String,
    pub rate: String,
}

#[derive(Serialize)]
pub struct ExceptionView {
    pub contact: String,
    pub loan: String,
    pub rule: String,
    pub channel: String,
    pub agent: String,
    pub time: String,
    pub detail: String,
}

#[derive(Serialize)]
pub struct ContactsView {
    pub today: String,
    pub orphans: String,
    pub channels: Vec<ChannelRow>,
    pub channels_total: ChannelRow,
    pub promises: Vec<PromiseRow>,
    pub promises_total: PromiseRow,
    pub profile: String,
    pub exceptions: String,
    pub by_rule: Vec<Counted>,
    pub by_agent: Vec<Counted>,
    pub listed: Vec<ExceptionView>,
    pub more: usize,
    /// One line instead of the contact and promise tables when the window
    /// holds no contact at all.
    pub none: Option<String>,
}

fn int(v: u64) -> String {
    format::int(v as i128)
}

/// A count rate with its Wilson interval: `12.34% (10.1–14.9%, 56/454)`.
fn rate_text(k: u64, n: u64) -> String {
    if n == 0 {
        return format::pct(None);
    }
    let v = Some(k as f64 / n as f64);
    match wilson(k, n) {
        Some((lo, hi)) => format!(
            "{} ({}\u{2013}{}, {}/{})",
            format::pct(v),
            format::pct(Some(lo)),
            format::pct(Some(hi)),
            int(k),
            int(n)
        ),
        None => format::pct(v),
    }
}

pub fn recovery_view(f: &Figures, h: &History, loc: Locale) -> RecoveryView {
    let r = &f.recovery;
    let total_cash: i128 = r.collections.iter().map(|c| c.cash).sum();
    let cash_row = |label: String, cells: &mut dyn Iterator<Item = usize>| {
        let (mut loans, mut paying, mut cash, mut cured, mut cured_balance) = (0, 0, 0, 0, 0);
        for i in cells {
            let c = &r.collections[i];
            loans += c.loans;
            paying += c.paying_loans;
            cash += c.cash;
            cured += c.cured_loans;
            cured_balance += c.cured_balance;
        }
        CashRow {
            label,
            loans: int(loans),
            paying: int(paying),
            cash: format::money(cash),
            cash_share: format::pct((total_cash != 0).then(|| cash as f64 / total_cash as f64)),
            cured: int(cured),
            cured_balance: format::money(cured_balance),
        }
    };
    let from_label = |from: usize| match from {
        FROM_NEW => loc.state("NEW"),
        FROM_UNKNOWN => loc.t("not_available").to_string(),
        b => loc.bucket(Bucket::from_index(b)).to_string(),
    };
    let by_bucket = (0..FROM_STATES)
        .filter(|&from| (0..TIER_STATES).any(|t| r.cell(from, t).loans > 0))
        .map(|from| {
            cash_row(
                from_label(from),
                &mut (0..TIER_STATES).map(|t| from * TIER_STATES + t),
            )
        })
        .collect();
    let by_tier = (0..TIER_STATES)
        .rev()
        .filter(|&t| (0..FROM_STATES).any(|from| r.cell(from, t).loans > 0))
        .map(|t| {
            let label = if t < TIERS {
                Tier::ALL[t].label().to_string()
            } else {
                loc.state("PAID")
            };
            cash_row(
                label,
                &mut (0..FROM_STATES).map(|from| from * TIER_STATES + t),
            )
        })
        .collect();
    let cash_total = cash_row(loc.t("total").to_string(), &mut (0..r.collections.len()));

    let cohort_row = |month: String, c: &crate::metrics::recovery::Cohort| CohortRow {
        month,
        loans: int(c.loans),
        charged_off: format::money(c.charge_off_amount),
        recovered: format::money(c.recovered_to_date),
        today: c
            .recovered_today
            .map(format::money)
            .unwrap_or_else(|| loc.t("not_available").to_string()),
        rate: format::pct(
            (c.charge_off_amount > 0)
                .then(|| c.recovered_to_date as f64 / c.charge_off_amount as f64),
        ),
    };
    let none = match loc {
        Locale::En => "(none)",
        Locale::ZhCn => "（空）",
    };
    // The latest cohorts one by one, the older ones in one row.
    let sum = |cs: &mut dyn Iterator<Item = &crate::metrics::recovery::Cohort>| {
        let mut all = crate::metrics::recovery::Cohort::zero();
        for c in cs {
            all.merge(c);
        }
        all
    };
    let mut cohorts: Vec<CohortRow> = r
        .cohorts
        .iter()
        .rev()
        .take(COHORTS_LISTED)
        .map(|(m, c)| cohort_row(m.map(month_label).unwrap_or(none.into()), c))
        .collect();
    if r.cohorts.len() > COHORTS_LISTED {
        let older = sum(&mut r.cohorts.values().rev().skip(COHORTS_LISTED));
        let label = format!(
            "{} ({})",
            loc.t("earlier_cohorts"),
            r.cohorts.len() - COHORTS_LISTED
        );
        cohorts.push(cohort_row(label, &older));
    }
    let all = sum(&mut r.cohorts.values());

    let group = |label: String, g: &crate::metrics::recovery::Group| GroupRow {
        label,
        loans: int(g.tally.loans),
        balance: format::money(g.tally.balance),
        past_due: format::money(g.tally.past_due),
        cash: format::money(g.cash),
    };
    let plans = [
        PlanStatus::None,
        PlanStatus::Active,
        PlanStatus::Completed,
        PlanStatus::Broken,
    ]
    .iter()
    .map(|p| group(p.label().to_string(), &r.plans[*p as usize]))
    .collect();
    let plan_rate = |metric: &str| {
        f.period("1m")
            .and_then(|p| {
                p.rates.iter().find(|x| {
                    x.metric == metric && x.state == PLAN_COHORT && x.basis == Basis::Count
                })
            })
            .map(|x| rate_text(x.numerator as u64, x.denominator as u64))
            .unwrap_or_else(|| loc.t("not_available").to_string())
    };
    let legal = r
        .legal
        .iter()
        .enumerate()
        .filter(|(_, g)| g.tally.loans > 0)
        .map(|(k, g)| group(f.labels.legal[k].clone().unwrap_or_else(|| none.into()), g))
        .collect();
    let repair_balance: i128 = r.credit_repair.iter().map(|x| x.balance as i128).sum();
    let (recovery_chart, vintage30_chart, vintage90_chart) = curves(f, h, loc);
    RecoveryView {
        from: f
            .period("prev")
            .map(|p| loc.date(p.from_date))
            .unwrap_or_default(),
        by_bucket,
        by_tier,
        cash_total,
        cohorts,
        cohorts_total: cohort_row(loc.t("total").to_string(), &all),
        cohorts_missing: loc.missing(&f.columns, "charge_off_date"),
        recovery_chart,
        vintage30_chart,
        vintage90_chart,
        plans,
        // Absent or null column: say so; present but nobody on a plan:
        // one line instead of a table of zeros.
        plans_missing: loc.missing(&f.columns, "plan_status").or_else(|| {
            let on_plan: u64 = [
                PlanStatus::Active,
                PlanStatus::Completed,
                PlanStatus::Broken,
            ]
            .iter()
            .map(|p| r.plans[*p as usize].tally.loans)
            .sum();
            (on_plan == 0).then(|| loc.t("no_plans").to_string())
        }),
        plan_cure: plan_rate("plan_cure"),
        plan_broken: plan_rate("plan_broken"),
        plan_cohort: r
            .plan_cohort
            .map(|c| int(c.start.loans))
            .unwrap_or_else(|| loc.t("not_available").to_string()),
        legal,
        legal_missing: loc.missing(&f.columns, "legal_stage").or_else(|| {
            let in_stage: u64 = r
                .legal
                .iter()
                .enumerate()
                .filter(|(k, _)| f.labels.legal[*k].as_deref().is_some_and(|l| l != "none"))
                .map(|(_, g)| g.tally.loans)
                .sum();
            (in_stage == 0).then(|| loc.t("no_legal").to_string())
        }),
        credit_repair: int(r.credit_repair.len() as u64),
        credit_repair_balance: format::money(repair_balance),
    }
}

/// The recovery curve by charge-off cohort and the vintage curves (30+ and
/// 90+ balance as a share of original principal, by months on book), from
/// the month-end runs found and this run.
fn curves(f: &Figures, h: &History, loc: Locale) -> (String, String, String) {
    use crate::history::month_index;
    // The last run of each earlier month, then today.
    let mut month_end: BTreeMap<i32, &crate::history::Run> = BTreeMap::new();
    for (d, run) in &h.runs {
        if month_index(*d) < month_index(f.as_of) {
            month_end.insert(month_index(*d), run);
        }
    }
    let today_month = month_index(f.as_of);

    // Recovery: (cohort month) -> months since charge-off -> rate.
    let mut rec: BTreeMap<String, BTreeMap<i32, f64>> = BTreeMap::new();
    let mut add_cohort = |run_month: i32, month: String, amount: i128, recovered: i128| {
        let Some(m) = parse_month(&month) else {
            return;
        };
        if amount > 0 && run_month >= m {
            rec.entry(month)
                .or_default()
                .insert(run_month - m, recovered as f64 / amount as f64);
        }
    };
    for (&m, run) in &month_end {
        for c in &run.cohorts {
            add_cohort(
                m,
                c.charge_off_month.clone(),
                c.charge_off_amount,
                c.recovered_to_date,
            );
        }
    }
    for (m, c) in &f.recovery.cohorts {
        if let Some(m) = m {
            add_cohort(
                today_month,
                month_label(*m),
                c.charge_off_amount,
                c.recovered_to_date,
            );
        }
    }
    let recovery_chart = curve_chart(&rec, loc.t("recovery_curve"), loc.t("chart_too_few"));

    // Vintage: (origination month) -> MOB -> share.
    let mut v30: BTreeMap<String, BTreeMap<i32, f64>> = BTreeMap::new();
    let mut v90: BTreeMap<String, BTreeMap<i32, f64>> = BTreeMap::new();
    let mut add_vintage = |month: String, mob: i32, orig: i128, d30: i128, d90: i128| {
        if orig > 0 && mob >= 0 {
            v30.entry(month.clone())
                .or_default()
                .insert(mob, d30 as f64 / orig as f64);
            v90.entry(month)
                .or_default()
                .insert(mob, d90 as f64 / orig as f64);
        }
    };
    for run in month_end.values() {
        for v in &run.vintage {
            add_vintage(
                v.origination_month.clone(),
                v.months_on_book,
                v.original_principal,
                v.dpd30_balance,
                v.dpd90_balance,
            );
        }
    }
    for (m, v) in &f.recovery.vintage {
        add_vintage(
            month_label(*m),
            v.months_on_book,
            v.original_principal,
            v.dpd30_balance,
            v.dpd90_balance,
        );
    }
    (
        recovery_chart,
        curve_chart(&v30, loc.t("vintage30_curve"), loc.t("chart_too_few")),
        curve_chart(&v90, loc.t("vintage90_curve"), loc.t("chart_too_few")),
    )
}

fn parse_month(s: &str) -> Option<i32> {
    let (y, m) = s.split_once('-')?;
    let (y, m): (i32, i32) = (y.parse().ok()?, m.parse().ok()?);
    (1..=12).contains(&m).then_some(y * 12 + m - 1)
}

/// Lines of the most recent [`CURVES`] series over x = 0..=max.
fn curve_chart(series: &BTreeMap<String, BTreeMap<i32, f64>>, aria: &str, note: &str) -> String {
    let picked: Vec<(&String, &BTreeMap<i32, f64>)> = series.iter().rev().take(CURVES).collect();
    // The x axis spans the points drawn, not from zero: old vintages seen
    // over the last year sit at high months on book.
    let xs = || picked.iter().flat_map(|(_, p)| p.keys().copied());
    let min_x = xs().min().unwrap_or(0);
    let max_x = xs().max().unwrap_or(0).max(min_x + 1);
    let x_labels: Vec<String> = (min_x..=max_x).map(|x| x.to_string()).collect();
    let lines: Vec<svg::Series> = picked
        .iter()
        .rev()
        .map(|(name, points)| svg::Series {
            name: name.to_string(),
            values: (min_x..=max_x).map(|x| points.get(&x).copied()).collect(),
        })
        .collect();
    svg::lines(&x_labels, &lines, format::pct_short, aria, note)
}

pub fn contacts_view(f: &Figures, loc: Locale) -> ContactsView {
    let row = |label: String, s: &crate::metrics::channels::ChannelStats| ChannelRow {
        channel: label,
        contacts: int(s.contacts),
        attempts: int(s.attempts),
        contacted: int(s.loans_contacted),
        reached: int(s.loans_reached),
        rpc_rate: if s.attempts > 0 {
            rate_text(s.rpc, s.attempts)
        } else {
            format::pct(None)
        },
        ptp: int(s.ptp),
        ptp_rate: rate_text(s.ptp, s.rpc),
        ptp_amount: format::money(s.ptp_amount),
        thin: s.attempts > 0 && s.attempts < THIN,
    };
    let mut total = crate::metrics::channels::ChannelStats::default();
    for s in &f.channels {
        total.merge(s);
    }
    let channels = Channel::ALL
        .iter()
        .zip(&f.channels)
        .filter(|(_, s)| s.contacts > 0)
        .map(|(c, s)| row(c.label().to_string(), s))
        .collect();
    let mut channels_total = row(loc.t("total").to_string(), &total);
    // Distinct loans do not add up across channels: leave them out of the total.
    channels_total.contacted = String::new();
    channels_total.reached = String::new();

    let day = |d: i32| {
        loc.date(
            chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")
                + chrono::Duration::days(d as i64),
        )
    };
    let promise_row = |date: String, p: &crate::metrics::promises::PromiseDay| PromiseRow {
        date,
        due: int(p.due),
        kept: int(p.kept),
        broken: int(p.broken),
        open: int(p.open),
        promised: format::money(p.promised_amount),
        kept_amount: format::money(p.kept_amount),
        rate: rate_text(p.kept, p.due),
    };
    let mut all = crate::metrics::promises::PromiseDay::default();
    for p in &f.promises {
        all.due += p.due;
        all.kept += p.kept;
        all.broken += p.broken;
        all.open += p.open;
        all.promised_amount += p.promised_amount;
        all.kept_amount += p.kept_amount;
    }
    let x = &f.compliance;
    let by_rule = x
        .by_rule()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(r, n)| Counted {
            item: r.label().to_string(),
            count: int(n as u64),
        })
        .collect();
    let mut agents: BTreeMap<String, u64> = BTreeMap::new();
    for e in &x.rows {
        let name = e.agent.clone().unwrap_or_else(|| match loc {
            Locale::En => "(no agent)".into(),
            Locale::ZhCn => "（无坐席）".into(),
        });
        *agents.entry(name).or_default() += 1;
    }
    let mut agents: Vec<(String, u64)> = agents.into_iter().collect();
    agents.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let listed = x
        .rows
        .iter()
        .enumerate()
        .take(EXCEPTIONS_LISTED)
        .map(|(i, e)| ExceptionView {
            contact: x.contact_ids.display(i),
            loan: x.loan_ids.display(i),
            rule: e.rule.label().to_string(),
            channel: e.channel.label().to_string(),
            agent: e.agent.clone().unwrap_or_default(),
            time: chrono::DateTime::from_timestamp_millis(e.local_ts)
                .map(|t| t.naive_utc().format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default(),
            detail: e.detail.clone(),
        })
        .collect();
    let silent = f.channels.iter().all(|c| c.contacts == 0)
        && f.promises.is_empty()
        && f.contacts.today == 0
        && f.contacts.orphans == 0;
    ContactsView {
        none: silent.then(|| loc.t("no_contacts").to_string()),
        today: int(f.contacts.today as u64),
        orphans: int(f.contacts.orphans as u64),
        channels,
        channels_total,
        promises: f
            .promises
            .iter()
            .map(|p| promise_row(day(p.due_date), p))
            .collect(),
        promises_total: promise_row(loc.t("total").to_string(), &all),
        profile: profile_label(x.profile).to_string(),
        exceptions: int(x.rows.len() as u64),
        by_rule,
        by_agent: agents
            .into_iter()
            .take(10)
            .map(|(a, n)| Counted {
                item: a,
                count: int(n),
            })
            .collect(),
        listed,
        more: x.rows.len().saturating_sub(EXCEPTIONS_LISTED),
    }
}
