//! The report's view model: plain, already-formatted strings and flags,
//! built once from [`Figures`], the earlier runs ([`History`]) and what the
//! run read. This is the only thing templates see; charts arrive as finished
//! SVG strings (their data text escaped by [`svg`]).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::figures::{Figures, Period};
use crate::history::{self, History};
use crate::metrics::book::Ratio;
use crate::metrics::rates::{Basis, Rate, DELINQUENT};
use crate::output::manifest::InputPartition;
use crate::output::tables::{from_label, to_label};
use crate::policy::Policy;
use crate::report::format;
use crate::report::locale::Locale;
use crate::report::svg;
use crate::states::{Bucket, Class, BUCKETS};

/// What the run knows besides its figures, for the data-quality and run sections.
pub struct RunInfo<'a> {
    pub inputs: &'a [InputPartition],
    pub input_root: String,
    pub policy: &'a Policy,
}

#[derive(Serialize)]
pub struct Report {
    pub lang: &'static str,
    pub t: BTreeMap<&'static str, &'static str>,
    pub as_of: String,
    pub as_of_iso: String,
    pub program_version: String,
    pub periods: Vec<PeriodNote>,
    pub kpis: Vec<Kpi>,
    pub ratios: Vec<RatioRow>,
    pub ageing: Vec<AgeingRow>,
    pub ageing_total: AgeingRow,
    pub ageing_chart: String,
    /// Delinquency by product and by region: where to look.
    pub segments: Vec<SegmentTable>,
    pub classes: Vec<ClassRow>,
    pub npl_ratio: String,
    pub matrices: Vec<MatrixView>,
    /// The duration-based (Aalen-Johansen) one-month matrix, when `1m` exists.
    pub duration: Option<DurationView>,
    /// The roll-rate forecast; `None` without a `1m` period.
    pub forecast: Option<crate::report::forecast::ForecastView>,
    /// The champion / challenger tests; `None` when the policy runs none
    /// and none is evaluated.
    pub experiments: Option<crate::report::experiments::ExperimentsView>,
    /// Why DPD30+ and NPL moved; `None` without an earlier snapshot.
    pub drivers: Option<crate::report::drivers::DriversView>,
    pub rate_tables: Vec<RateTable>,
    pub trends: Trends,
    pub strategy: StrategyView,
    pub recovery: crate::report::collections::RecoveryView,
    pub contacts: crate::report::collections::ContactsView,
    pub quality: Quality,
    pub run: RunView,
}

#[derive(Serialize)]
pub struct PeriodNote {
    pub name: String,
    pub date: Option<String>,
}

/// A change against an earlier date.
#[derive(Serialize)]
pub struct Delta {
    /// `vs prev` / `vs 1m`.
    pub label: String,
    pub text: String,
    /// `▲`, `▼`, `=` or empty when not available.
    pub arrow: &'static str,
    /// `good`, `bad`, `neutral` (change without a better/worse reading), `flat` or `na`.
    pub verdict: &'static str,
    /// `better` / `worse` / `unchanged` in words, for print and screen readers.
    pub word: String,
}

#[derive(Serialize)]
pub struct Kpi {
    pub label: String,
    pub value: String,
    pub detail: String,
    pub deltas: Vec<Delta>,
}

#[derive(Serialize)]
pub struct RatioRow {
    pub label: String,
    pub count: String,
    pub balance: String,
    pub detail: String,
    pub count_deltas: Vec<Delta>,
    pub balance_deltas: Vec<Delta>,
}

#[derive(Serialize)]
pub struct AgeingRow {
    pub bucket: String,
    pub loans: String,
    pub loans_share: String,
    pub balance: String,
    pub balance_share: String,
    pub past_due: String,
}

#[derive(Serialize)]
pub struct SegmentTable {
    pub title: String,
    pub rows: Vec<SegmentRow>,
    /// Rows left out (smallest by balance), 0 when all are shown.
    pub more: usize,
}

#[derive(Serialize)]
pub struct SegmentRow {
    pub name: String,
    pub loans: String,
    pub balance: String,
    pub dpd30: String,
    pub dpd90: String,
    /// DPD30+ balance share above the whole book's.
    pub above: bool,
    pub charged_off: String,
}

#[derive(Serialize)]
pub struct ClassRow {
    pub class: String,
    pub loans: String,
    pub balance: String,
    pub balance_share: String,
    pub npl: bool,
}

#[derive(Serialize)]
pub struct MatrixView {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<MatrixRow>,
}

#[derive(Serialize)]
pub struct MatrixRow {
    pub from: String,
    pub total: String,
    pub thin: bool,
    pub cells: Vec<MatrixCell>,
}

#[derive(Serialize)]
pub struct MatrixCell {
    pub share: String,
    /// Loans (count matrix) or balance (balance matrix), shown small / as tooltip.
    pub amount: String,
    /// Background alpha of the heat shading, `0.00` .. `0.60`.
    pub alpha: String,
    /// Dark background: print the share in white.
    pub dark: bool,
}

#[derive(Serialize)]
pub struct DurationView {
    pub matrix: MatrixView,
    /// Nights chained.
    pub nights: usize,
    /// Stretches of the window no run covers, e.g. `1 Nov – 3 Nov`.
    pub gaps: Vec<String>,
    /// Runs left out because their `prev` period overlaps the chain.
    pub overlaps: Vec<String>,
}

#[derive(Serialize)]
pub struct RateTable {
    pub title: String,
    pub rows: Vec<RateRow>,
}

#[derive(Serialize)]
pub struct RateRow {
    pub state: String,
    /// Roll-forward, cure and entry, `None` where the rate does not apply.
    pub cells: Vec<Option<RateCell>>,
}

#[derive(Serialize)]
pub struct RateCell {
    pub value: String,
    pub interval: String,
    pub detail: String,
    pub thin: bool,
}

#[derive(Serialize)]
pub struct Trends {
    pub ratios_chart: String,
    pub flow_chart: String,
    pub monthly_chart: String,
    pub days: usize,
    pub months: usize,
    pub short: bool,
}

#[derive(Serialize)]
pub struct Quality {
    /// Optional columns the run date's book lacks, and how.
    pub missing_columns: Vec<Counted>,
    pub checks: Vec<CheckRow>,
    pub inputs: Vec<InputRow>,
    pub tolerated: Vec<Counted>,
    pub history_problems: Vec<String>,
}

#[derive(Serialize)]
pub struct CheckRow {
    pub name: String,
    pub expected: String,
    pub actual: String,
    pub passed: bool,
}

#[derive(Serialize)]
pub struct InputRow {
    pub role: String,
    pub date: String,
    pub file: String,
    pub rows: String,
}

#[derive(Serialize)]
pub struct Counted {
    pub item: String,
    pub count: String,
}

#[derive(Serialize)]
pub struct RunView {
    pub program: String,
    pub schema_version: String,
    pub input_root: String,
    pub policy: Vec<String>,
}

#[derive(Serialize)]
pub struct StrategyView {
    pub tiers: Vec<TierRow>,
    pub tiers_total: TierRow,
    pub tier_matrices: Vec<TierMatrix>,
    pub watch_list: String,
    pub flagged: String,
    pub by_signal: Vec<Counted>,
    pub by_product: Vec<Counted>,
    pub by_region: Vec<Counted>,
    pub secured: Vec<SecuredRow>,
    pub secured_total: SecuredRow,
    /// Why CLTV and routes are not available (no `collateral_value`).
    pub secured_missing: Option<String>,
    /// Earlier dates' tiers are computed without look-back signals.
    pub note: String,
}

#[derive(Serialize)]
pub struct TierRow {
    pub tier: String,
    pub reason: String,
    pub loans: String,
    pub balance: String,
    pub share: String,
    /// First row of its tier (the tier name is shown once).
    pub first: bool,
}

/// A tier transition matrix and where its earlier date's tiers came from.
#[derive(Serialize)]
pub struct TierMatrix {
    #[serde(flatten)]
    pub matrix: MatrixView,
    pub source: String,
}

#[derive(Serialize)]
pub struct SecuredRow {
    pub band: String,
    pub route: String,
    pub loans: String,
    pub balance: String,
    pub senior: String,
    pub collateral: String,
    pub shortfall: String,
    pub exposure: String,
}

fn strategy_view(f: &Figures, info: &RunInfo, loc: Locale) -> StrategyView {
    use crate::metrics::collateral::{Secured, BANDS};
    use crate::metrics::strategy::{ROUTES, SIGNALS};
    use crate::policy::tiers::{Tier, TIERS};
    // The main rules, then each experiment's challenger rules.
    let rules = info.policy.all_rules();
    let sum = &f.strategy_summary;
    let book_balance: i128 = sum.by_rule.iter().map(|t| t.balance).sum();
    let book_loans: u64 = sum.by_rule.iter().map(|t| t.loans).sum();
    // Tiers, worst first, each with the reasons (rules) that gave it.
    let mut tiers = Vec::new();
    for tier in Tier::ALL.iter().rev() {
        let mut first = true;
        for (k, r) in rules.iter().enumerate().filter(|(_, r)| r.tier == *tier) {
            let t = &sum.by_rule[k];
            if t.loans == 0 {
                continue;
            }
            tiers.push(TierRow {
                tier: if first {
                    tier.label().to_string()
                } else {
                    String::new()
                },
                reason: match info.policy.experiment_of_rule(k) {
                    Some(x) => format!("{} ({}: {})", r.reason, x.name, loc.t("challenger")),
                    None => r.reason.clone(),
                },
                loans: format::int(t.loans as i128),
                balance: format::money(t.balance),
                share: format::pct(share(t.balance, book_balance)),
                first,
            });
            first = false;
        }
    }
    let tier_label = |i: usize| -> String {
        match i {
            i if i < TIERS => Tier::ALL[i].label().to_string(),
            i if i == TIERS => loc.state("PAID"),
            _ => loc.state("NEW"),
        }
    };
    let tier_col = |i: usize| -> String {
        match i {
            i if i < TIERS => Tier::ALL[i].label().to_string(),
            i if i == TIERS => loc.state("PAID"),
            _ => loc.state("EXIT"),
        }
    };
    let tier_matrices = f
        .periods
        .iter()
        .map(|p| TierMatrix {
            matrix: matrix_table(&p.tiers, p, f.as_of, loc, false, &tier_label, &tier_col),
            source: tier_source(p, loc),
        })
        .collect();
    let watch = sum
        .by_rule
        .iter()
        .zip(&rules)
        .filter(|(_, r)| r.tier == Tier::T0Watch)
        .map(|(t, _)| t.loans)
        .sum::<u64>();
    let counted = |labels: &[Option<String>], counts: &[u64]| -> Vec<Counted> {
        let mut v: Vec<(u64, String)> = counts
            .iter()
            .zip(labels)
            .filter(|(c, _)| **c > 0)
            .map(|(c, l)| {
                let none = match loc {
                    Locale::En => "(none)",
                    Locale::ZhCn => "（空）",
                };
                (*c, l.clone().unwrap_or_else(|| none.into()))
            })
            .collect();
        v.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        v.into_iter()
            .take(15)
            .map(|(c, l)| Counted {
                item: l,
                count: format::int(c as i128),
            })
            .collect()
    };
    // Secured book by band and route, products and buckets summed.
    let c = &f.collateral;
    let mut secured = Vec::new();
    let mut total = Secured::default();
    for (k, band) in BANDS.iter().enumerate() {
        for (r, route) in ROUTES.iter().enumerate() {
            let mut t = Secured::default();
            for p in 0..c.products {
                for b in 0..BUCKETS {
                    t.merge(&c.cells[c.index(p, k, b, r)]);
                }
            }
            if t.loans == 0 {
                continue;
            }
            total.merge(&t);
            secured.push(secured_row(
                band,
                route.map(|x| x.label()).unwrap_or(loc.t("no_route")),
                &t,
            ));
        }
    }
    StrategyView {
        tiers,
        tiers_total: TierRow {
            tier: loc.t("total").into(),
            reason: String::new(),
            loans: format::int(book_loans as i128),
            balance: format::money(book_balance),
            share: format::pct(Some(1.0).filter(|_| book_balance != 0)),
            first: true,
        },
        tier_matrices,
        watch_list: format::int(watch as i128),
        flagged: format::int(sum.flagged as i128),
        by_signal: SIGNALS
            .iter()
            .zip(sum.by_signal)
            .map(|(s, n)| Counted {
                item: s.to_string(),
                count: format::int(n as i128),
            })
            .collect(),
        by_product: counted(&f.labels.product, &sum.flagged_by_product),
        by_region: counted(&f.labels.region, &sum.flagged_by_region),
        secured_total: secured_row(loc.t("total"), "", &total),
        secured,
        secured_missing: loc
            .missing(&f.columns, "collateral_value")
            .or_else(|| (total.loans == 0).then(|| loc.t("no_secured").to_string())),
        note: loc.t("tier_note").to_string(),
    }
}

/// One line saying where a period's earlier tiers came from.
fn tier_source(p: &Period, loc: Locale) -> String {
    use crate::figures::{NoWorklist, TierSource};
    let date = loc.date(p.from_date);
    match &p.tiers_from {
        TierSource::Worklist => loc.t("tiers_from_worklist").replace("{}", &date),
        TierSource::Snapshot(why) => {
            let why = match why {
                NoWorklist::NoRun => loc.t("no_earlier_run").to_string(),
                NoWorklist::Unusable(detail) => detail.clone(),
            };
            loc.t("tiers_from_snapshot")
                .replace("{}", &date)
                .replace("{why}", &why)
        }
    }
}

fn secured_row(band: &str, route: &str, t: &crate::metrics::collateral::Secured) -> SecuredRow {
    SecuredRow {
        band: band.to_string(),
        route: route.to_string(),
        loans: format::int(t.loans as i128),
        balance: format::money(t.balance),
        senior: format::money(t.senior),
        collateral: format::money(t.collateral),
        shortfall: format::money(t.shortfall),
        exposure: format::money(t.exposure),
    }
}

/// Fewer loans than this behind a rate make it "thin".
pub const THIN: u64 = 30;

/// Which way is good for a figure.
#[derive(Clone, Copy, PartialEq)]
enum Polarity {
    HigherWorse,
    HigherBetter,
    Neutral,
}

/// How a change is printed.
#[derive(Clone, Copy)]
enum Unit {
    /// A share: change in percentage points.
    Share,
    /// Cents: signed amount.
    Money,
    /// A count.
    Count,
}

fn share(num: i128, den: i128) -> Option<f64> {
    (den != 0).then(|| num as f64 / den as f64)
}

fn delta(
    loc: Locale,
    label: String,
    now: Option<f64>,
    then: Option<f64>,
    unit: Unit,
    pol: Polarity,
) -> Delta {
    let (Some(a), Some(b)) = (now, then) else {
        return Delta {
            label,
            text: loc.t("not_available").to_string(),
            arrow: "",
            verdict: "na",
            word: String::new(),
        };
    };
    let d = a - b;
    // "Flat" is what prints as zero: 0.00 pp, 0.00 money, 0 loans.
    let flat = match unit {
        Unit::Share => (d * 100.0).abs() < 0.005,
        Unit::Money | Unit::Count => d == 0.0,
    };
    let text = match unit {
        Unit::Share => format!("{:+.2}{}", d * 100.0, loc.pp()),
        Unit::Money => {
            let sign = if d > 0.0 { "+" } else { "" };
            format!("{sign}{}", format::money(d as i128))
        }
        Unit::Count => {
            let sign = if d > 0.0 { "+" } else { "" };
            format!("{sign}{}", format::int(d as i128))
        }
    };
    let (arrow, verdict, word) = if flat {
        ("=", "flat", loc.t("unchanged"))
    } else {
        let up = d > 0.0;
        let arrow = if up { "\u{25b2}" } else { "\u{25bc}" };
        match (pol, up) {
            (Polarity::Neutral, _) => (arrow, "neutral", ""),
            (Polarity::HigherWorse, true) | (Polarity::HigherBetter, false) => {
                (arrow, "bad", loc.t("worse"))
            }
            _ => (arrow, "good", loc.t("better")),
        }
    };
    Delta {
        label,
        text,
        arrow,
        verdict,
        word: word.to_string(),
    }
}

/// The two comparison labels, `vs prev (28 Nov)` and `vs 1m (29 Oct)`.
struct Against {
    prev: (String, Option<NaiveDate>),
    m1: (String, Option<NaiveDate>),
}

impl Against {
    fn new(f: &Figures, loc: Locale) -> Against {
        let one = |name: &str, key: &str| {
            let d = f.period(name).map(|p| p.from_date);
            let label = match d {
                Some(d) => format!("{} {}", loc.t(key), loc.short_date(d)),
                None => loc.t(key).to_string(),
            };
            (label, d)
        };
        Against {
            prev: one("prev", "vs_prev"),
            m1: one("1m", "vs_1m"),
        }
    }

    /// Deltas against both dates given "then" values.
    fn deltas(
        &self,
        loc: Locale,
        now: Option<f64>,
        then_prev: Option<f64>,
        then_1m: Option<f64>,
        unit: Unit,
        pol: Polarity,
    ) -> Vec<Delta> {
        vec![
            delta(loc, self.prev.0.clone(), now, then_prev, unit, pol),
            delta(loc, self.m1.0.clone(), now, then_1m, unit, pol),
        ]
    }
}

fn find_rate<'a>(rates: &'a [Rate], metric: &str, state: &str, basis: Basis) -> Option<&'a Rate> {
    rates
        .iter()
        .find(|r| r.metric == metric && r.state == state && r.basis == basis)
}

/// A rate of an earlier run, from its published `rates` table.
fn history_rate(h: &History, d: Option<NaiveDate>, k: &history::RateKey) -> Option<f64> {
    h.get(d?)?.rates.get(k).copied().flatten()
}

fn kpis(f: &Figures, h: &History, loc: Locale, ag: &Against) -> Vec<Kpi> {
    let hd = &f.headline;
    let prev = f.period("prev");
    let m1 = f.period("1m");
    let then = |p: Option<&Period>, pick: &dyn Fn(&Period) -> Option<f64>| p.and_then(pick);
    let book_loans = |p: &Period| Some(p.headline.npl[0].denominator as f64);
    let book_balance = |p: &Period| Some(p.headline.npl[1].denominator as f64);
    let mut out = vec![
        Kpi {
            label: loc.t("kpi_loans").into(),
            value: format::int(hd.npl[0].denominator),
            detail: format!(
                "{} {} \u{00b7} {} {}",
                format::int(hd.active_loans as i128),
                loc.t("active_loans"),
                format::int(hd.npl[0].denominator - hd.active_loans as i128),
                loc.t("charged_off")
            ),
            deltas: ag.deltas(
                loc,
                Some(hd.npl[0].denominator as f64),
                then(prev, &book_loans),
                then(m1, &book_loans),
                Unit::Count,
                Polarity::Neutral,
            ),
        },
        Kpi {
            label: loc.t("kpi_balance").into(),
            value: format::money(hd.npl[1].denominator),
            detail: format!(
                "{} {}",
                format::money(hd.active_balance),
                loc.t("active_loans")
            ),
            deltas: ag.deltas(
                loc,
                Some(hd.npl[1].denominator as f64),
                then(prev, &book_balance),
                then(m1, &book_balance),
                Unit::Money,
                Polarity::Neutral,
            ),
        },
    ];
    for (key, pick) in [
        (
            "kpi_dpd30",
            (|h: &crate::metrics::book::Headline| h.dpd30) as fn(&_) -> [Ratio; 2],
        ),
        ("kpi_npl", |h| h.npl),
    ] {
        let r = pick(hd);
        out.push(Kpi {
            label: loc.t(key).into(),
            value: format::pct(r[1].value),
            detail: format!("{} {}", format::pct(r[0].value), loc.t("of_loans")),
            deltas: ag.deltas(
                loc,
                r[1].value,
                prev.and_then(|p| pick(&p.headline)[1].value),
                m1.and_then(|p| pick(&p.headline)[1].value),
                Unit::Share,
                Polarity::HigherWorse,
            ),
        });
    }
    // Daily flow rates: today's from the `prev` period, the earlier dates'
    // from those runs' own `prev` periods (their published rates).
    for (key, metric, state, pol) in [
        ("kpi_entry", "entry", "M0", Polarity::HigherWorse),
        ("kpi_cure", "cure", DELINQUENT, Polarity::HigherBetter),
    ] {
        let r = prev.and_then(|p| find_rate(&p.rates, metric, state, Basis::Count));
        let k = history::key("prev", metric, state, "count");
        out.push(Kpi {
            label: loc.t(key).into(),
            value: format::pct(r.and_then(|r| r.value)),
            detail: r
                .map(|r| {
                    format!(
                        "{} / {} {}",
                        format::int(r.numerator),
                        format::int(r.denominator),
                        loc.t("loans_word")
                    )
                })
                .unwrap_or_else(|| loc.t("no_snapshot").to_string()),
            deltas: ag.deltas(
                loc,
                r.and_then(|r| r.value),
                history_rate(h, ag.prev.1, &k),
                history_rate(h, ag.m1.1, &k),
                Unit::Share,
                pol,
            ),
        });
    }
    let cash = |p: &Period| Some(p.headline.cash_collected as f64);
    out.push(Kpi {
        label: loc.t("kpi_cash").into(),
        value: format::money(hd.cash_collected),
        detail: loc.date(f.as_of),
        deltas: ag.deltas(
            loc,
            Some(hd.cash_collected as f64),
            then(prev, &cash),
            then(m1, &cash),
            Unit::Money,
            Polarity::HigherBetter,
        ),
    });
    let rec_then = |d: Option<NaiveDate>| {
        d.and_then(|d| h.get(d))
            .and_then(|r| r.recovered_prev)
            .map(|c| c as f64)
    };
    out.push(Kpi {
        label: loc.t("kpi_recovered").into(),
        value: prev
            .map(|p| format::money(p.recovered))
            .unwrap_or_else(|| "\u{2013}".into()),
        detail: prev
            .map(|p| {
                format!(
                    "{} \u{2013} {}",
                    loc.short_date(p.from_date),
                    loc.short_date(f.as_of)
                )
            })
            .unwrap_or_else(|| loc.t("no_snapshot").to_string()),
        deltas: ag.deltas(
            loc,
            prev.map(|p| p.recovered as f64),
            rec_then(ag.prev.1),
            rec_then(ag.m1.1),
            Unit::Money,
            Polarity::HigherBetter,
        ),
    });
    out
}

fn ratio_rows(f: &Figures, loc: Locale, ag: &Against) -> Vec<RatioRow> {
    let pick = |h: &crate::metrics::book::Headline, k: usize| -> [Ratio; 2] {
        match k {
            0 => h.dpd1,
            1 => h.dpd30,
            2 => h.dpd90,
            _ => h.npl,
        }
    };
    let (prev, m1) = (f.period("prev"), f.period("1m"));
    ["dpd1", "dpd30", "dpd90", "npl"]
        .iter()
        .enumerate()
        .map(|(k, key)| {
            let now = pick(&f.headline, k);
            let basis_deltas = |b: usize| {
                ag.deltas(
                    loc,
                    now[b].value,
                    prev.and_then(|p| pick(&p.headline, k)[b].value),
                    m1.and_then(|p| pick(&p.headline, k)[b].value),
                    Unit::Share,
                    Polarity::HigherWorse,
                )
            };
            RatioRow {
                label: loc.t(key).to_string(),
                count: format::pct(now[0].value),
                balance: format::pct(now[1].value),
                detail: format!(
                    "{} / {}",
                    format::int(now[0].numerator),
                    format::int(now[0].denominator)
                ),
                count_deltas: basis_deltas(0),
                balance_deltas: basis_deltas(1),
            }
        })
        .collect()
}

fn ageing(f: &Figures, loc: Locale) -> (Vec<AgeingRow>, AgeingRow) {
    let total = f.by_bucket.iter().fold((0u64, 0i128, 0i128), |a, t| {
        (a.0 + t.loans, a.1 + t.balance, a.2 + t.past_due)
    });
    let rows = (0..BUCKETS)
        .map(|b| {
            let t = &f.by_bucket[b];
            AgeingRow {
                bucket: loc.bucket(Bucket::from_index(b)).to_string(),
                loans: format::int(t.loans as i128),
                loans_share: format::pct(share(t.loans as i128, total.0 as i128)),
                balance: format::money(t.balance),
                balance_share: format::pct(share(t.balance, total.1)),
                past_due: format::money(t.past_due),
            }
        })
        .collect();
    let total_row = AgeingRow {
        bucket: loc.t("total").into(),
        loans: format::int(total.0 as i128),
        loans_share: format::pct(Some(1.0).filter(|_| total.0 > 0)),
        balance: format::money(total.1),
        balance_share: format::pct(Some(1.0).filter(|_| total.1 > 0)),
        past_due: format::money(total.2),
    };
    (rows, total_row)
}

/// Stacked bars: per product, the balance share of each delinquent bucket
/// and of charged-off loans in the product's book (M0..M6+ and WO).
fn ageing_chart(f: &Figures, loc: Locale) -> String {
    let segments: Vec<Bucket> = Bucket::ALL
        .iter()
        .copied()
        .filter(|b| b.is_delinquent() || *b == Bucket::Wo)
        .collect();
    let mut bars = Vec::new();
    let mut max = 0.0f64;
    for (p, cells) in f.book.by_dim(0).iter().enumerate() {
        let by_b: Vec<i128> = cells.iter().map(|t| t.balance).collect();
        let book: i128 = by_b[..=Bucket::Wo.index()].iter().sum();
        let values: Vec<f64> = segments
            .iter()
            .map(|b| share(by_b[b.index()], book).unwrap_or(0.0))
            .collect();
        max = max.max(values.iter().sum());
        let name = f.labels.product[p].clone().unwrap_or_default();
        bars.push(svg::Bar {
            titles: segments
                .iter()
                .zip(&values)
                .map(|(b, v)| {
                    format!(
                        "{name} {}: {} ({})",
                        loc.bucket(*b),
                        format::pct(Some(*v)),
                        format::money(by_b[b.index()])
                    )
                })
                .collect(),
            label: name,
            values,
        });
    }
    let legend: Vec<String> = segments
        .iter()
        .map(|b| loc.bucket(*b).to_string())
        .collect();
    svg::stacked_bars(
        &bars,
        &legend,
        svg::SEVERITY,
        svg::nice_ceiling(max),
        format::pct_short,
        loc.t("ageing_chart"),
    )
}

/// Regions shown in the region table; the rest are counted.
const MAX_SEGMENT_ROWS: usize = 15;

/// Active book and delinquency per product and per region, largest first.
fn segments(f: &Figures, loc: Locale) -> Vec<SegmentTable> {
    let by_p = f.book.by_dim(0);
    let by_r = f.book.by_dim(1);
    let book_dpd30 = f.headline.dpd30[1].value;
    let none = match loc {
        Locale::En => "(none)",
        Locale::ZhCn => "（空）",
    };
    let table = |title: &str,
                 labels: &[Option<String>],
                 cells: &[[crate::metrics::tally::Tally; BUCKETS]]| {
        let mut rows: Vec<(i128, SegmentRow)> = cells
            .iter()
            .zip(labels)
            .map(|(t, name)| {
                let sum = |from: Bucket| -> (u64, i128) {
                    Bucket::ACTIVE[from.index()..].iter().fold((0, 0), |a, b| {
                        (a.0 + t[b.index()].loans, a.1 + t[b.index()].balance)
                    })
                };
                let active = sum(Bucket::M0);
                let d30 = share(sum(Bucket::M2).1, active.1);
                (
                    active.1,
                    SegmentRow {
                        name: name.clone().unwrap_or_else(|| none.to_string()),
                        loans: format::int(active.0 as i128),
                        balance: format::money(active.1),
                        dpd30: format::pct(d30),
                        dpd90: format::pct(share(sum(Bucket::M4).1, active.1)),
                        above: matches!((d30, book_dpd30), (Some(a), Some(b)) if a > b + 5e-5),
                        charged_off: format::money(t[Bucket::Wo.index()].balance),
                    },
                )
            })
            .collect();
        // Largest active balance first; ties by name so the order is stable.
        rows.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
        let more = rows.len().saturating_sub(MAX_SEGMENT_ROWS);
        SegmentTable {
            title: title.to_string(),
            rows: rows
                .into_iter()
                .take(MAX_SEGMENT_ROWS)
                .map(|r| r.1)
                .collect(),
            more,
        }
    };
    vec![
        table(loc.t("by_product"), &f.labels.product, &by_p),
        table(loc.t("by_region"), &f.labels.region, &by_r),
    ]
}

fn classes(f: &Figures, loc: Locale) -> Vec<ClassRow> {
    let by_class = f.book.by_class();
    let book_balance: i128 = by_class.iter().map(|t| t.balance).sum();
    Class::ALL
        .iter()
        .map(|&c| {
            let t = &by_class[c as usize];
            ClassRow {
                class: loc.class(c).to_string(),
                loans: format::int(t.loans as i128),
                balance: format::money(t.balance),
                balance_share: format::pct(share(t.balance, book_balance)),
                npl: c.is_npl(),
            }
        })
        .collect()
}

fn matrix_view(p: &Period, to: NaiveDate, loc: Locale, balance: bool) -> MatrixView {
    matrix_table(
        &p.buckets,
        p,
        to,
        loc,
        balance,
        &|i| loc.state(from_label(i)),
        &|j| loc.state(to_label(j)),
    )
}

/// A heatmap of any transition matrix, rows and columns labelled by the caller.
fn matrix_table(
    m: &crate::metrics::transitions::Matrix,
    p: &Period,
    to: NaiveDate,
    loc: Locale,
    balance: bool,
    from_label: &dyn Fn(usize) -> String,
    to_label: &dyn Fn(usize) -> String,
) -> MatrixView {
    let columns = (0..=m.n).map(to_label).collect();
    let rows = (0..=m.n)
        .filter(|&i| m.row_total(i).loans > 0)
        .map(|i| {
            let total = m.row_total(i);
            MatrixRow {
                from: from_label(i),
                total: format::int(total.loans as i128),
                thin: total.loans < THIN,
                cells: (0..=m.n)
                    .map(|j| {
                        let c = m.cell(i, j);
                        let s = if balance {
                            share(c.balance, total.balance)
                        } else {
                            share(c.loans as i128, total.loans as i128)
                        };
                        let heat = s.unwrap_or(0.0).clamp(0.0, 1.0);
                        MatrixCell {
                            share: if c.loans == 0 {
                                String::new()
                            } else {
                                format::pct(s)
                            },
                            amount: match (c.loans, balance) {
                                (0, _) => String::new(),
                                (_, true) => format::money(c.balance),
                                (n, false) => format::int(n as i128),
                            },
                            alpha: format!("{:.2}", heat * 0.6),
                            dark: heat > 0.55,
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let period = if p.name == "prev" {
        loc.t("period_prev")
    } else {
        loc.t("period_1m")
    };
    let basis = if balance {
        loc.t("balance_matrix")
    } else {
        loc.t("count_matrix")
    };
    MatrixView {
        title: format!(
            "{period}: {} \u{2192} {}, {basis}",
            loc.date(p.from_date),
            loc.date(to)
        ),
        columns,
        rows,
    }
}

/// The duration-based matrix of the `1m` window (`History::month_chain`).
fn duration(f: &Figures, h: &History, loc: Locale) -> Option<DurationView> {
    use crate::metrics::duration::STATES;
    let start = f.period("1m")?.from_date;
    let chain = h.month_chain(start, f.as_of, f.prev_night());
    let span = |(a, b): &(NaiveDate, NaiveDate)| {
        format!("{} \u{2013} {}", loc.short_date(*a), loc.short_date(*b))
    };
    let gaps: Vec<String> = chain.gaps.iter().map(span).collect();
    let overlaps: Vec<String> = chain.overlaps.iter().map(span).collect();
    let p = chain.matrix();
    let at_risk = |i: usize| chain.at_risk(i);
    let columns = (0..STATES).map(|j| loc.state(to_label(j))).collect();
    let rows = (0..BUCKETS)
        .filter(|&i| at_risk(i))
        .map(|i| MatrixRow {
            from: loc.state(from_label(i)),
            total: String::new(),
            thin: false,
            cells: (0..STATES)
                .map(|j| {
                    let v = p[i][j];
                    MatrixCell {
                        share: if v > 0.0 {
                            format::pct(Some(v))
                        } else {
                            String::new()
                        },
                        amount: String::new(),
                        alpha: format!("{:.2}", v.clamp(0.0, 1.0) * 0.6),
                        dark: v > 0.55,
                    }
                })
                .collect(),
        })
        .collect();
    Some(DurationView {
        matrix: MatrixView {
            title: format!(
                "{}: {} \u{2192} {}",
                loc.t("duration_matrix"),
                loc.date(start),
                loc.date(f.as_of)
            ),
            columns,
            rows,
        },
        nights: chain.nights.len(),
        gaps,
        overlaps,
    })
}

fn rate_cell(r: Option<&Rate>, loc: Locale) -> Option<RateCell> {
    let r = r?;
    Some(RateCell {
        value: format::pct(r.value),
        interval: match r.ci {
            Some((lo, hi)) => format!(
                "{} \u{2013} {}",
                format::pct(Some(lo)),
                format::pct(Some(hi))
            ),
            None => String::new(),
        },
        detail: format!(
            "{} / {} {}",
            format::int(r.numerator),
            format::int(r.denominator),
            loc.t("loans_word")
        ),
        thin: (r.denominator as u64) < THIN,
    })
}

fn rate_table(p: &Period, loc: Locale) -> RateTable {
    let states = Bucket::ACTIVE
        .iter()
        .map(|b| b.label())
        .chain(std::iter::once(DELINQUENT));
    let rows = states
        .map(|s| RateRow {
            state: s.to_string(),
            cells: ["roll_forward", "cure", "entry"]
                .iter()
                .map(|m| rate_cell(find_rate(&p.rates, m, s, Basis::Count), loc))
                .collect(),
        })
        .collect();
    let period = if p.name == "prev" {
        loc.t("period_prev")
    } else {
        loc.t("period_1m")
    };
    RateTable {
        title: format!("{period}: {} \u{2192}", loc.date(p.from_date)),
        rows,
    }
}

fn trends(f: &Figures, h: &History, loc: Locale) -> Trends {
    // Daily: the latest earlier run dates and today.
    let mut days: Vec<NaiveDate> = h
        .runs
        .keys()
        .rev()
        .take(history::DAYS - 1)
        .copied()
        .collect();
    days.reverse();
    let labels: Vec<String> = days
        .iter()
        .chain(std::iter::once(&f.as_of))
        .map(|d| loc.short_date(*d))
        .collect();
    let today_current = |metric: &str, basis: Basis| {
        find_rate(
            &f.current_rates,
            metric,
            if metric == "npl" { "book" } else { "active" },
            basis,
        )
        .and_then(|r| r.value)
    };
    let today_period = |period: &str, metric: &str, state: &str| {
        f.period(period)
            .and_then(|p| find_rate(&p.rates, metric, state, Basis::Count))
            .and_then(|r| r.value)
    };
    let series_over =
        |dates: &[NaiveDate], name: String, k: history::RateKey, today: Option<f64>| {
            let mut values: Vec<Option<f64>> = dates
                .iter()
                .map(|d| history_rate(h, Some(*d), &k))
                .collect();
            values.push(today);
            svg::Series { name, values }
        };
    let ratio_series: Vec<svg::Series> = [
        ("dpd1", "dpd1_plus", "active"),
        ("dpd30", "dpd30_plus", "active"),
        ("dpd90", "dpd90_plus", "active"),
        ("npl", "npl", "book"),
    ]
    .iter()
    .map(|(label, metric, state)| {
        series_over(
            &days,
            loc.t(label).to_string(),
            history::key("current", metric, state, "balance"),
            today_current(metric, Basis::Balance),
        )
    })
    .collect();
    let flow_series = vec![
        series_over(
            &days,
            loc.t("entry").to_string(),
            history::key("prev", "entry", "M0", "count"),
            today_period("prev", "entry", "M0"),
        ),
        series_over(
            &days,
            format!("{} {DELINQUENT}", loc.t("cure")),
            history::key("prev", "cure", DELINQUENT, "count"),
            today_period("prev", "cure", DELINQUENT),
        ),
    ];
    // Monthly: the last run date of each earlier month, then today.
    let first = history::month_index(f.as_of) - (history::MONTHS as i32 - 1);
    let mut month_end: BTreeMap<i32, NaiveDate> = BTreeMap::new();
    for &d in h.runs.keys() {
        let m = history::month_index(d);
        if m >= first && m < history::month_index(f.as_of) {
            month_end.insert(m, d);
        }
    }
    let months: Vec<NaiveDate> = month_end.values().copied().collect();
    let month_labels: Vec<String> = months
        .iter()
        .chain(std::iter::once(&f.as_of))
        .map(|d| loc.month(*d))
        .collect();
    let mut monthly: Vec<svg::Series> = ["M0", "M1", "M2", "M3"]
        .iter()
        .map(|s| {
            series_over(
                &months,
                format!("{} {s}", loc.t("roll_forward")),
                history::key("1m", "roll_forward", s, "count"),
                today_period("1m", "roll_forward", s),
            )
        })
        .collect();
    monthly.push(series_over(
        &months,
        format!("{} {DELINQUENT}", loc.t("cure")),
        history::key("1m", "cure", DELINQUENT, "count"),
        today_period("1m", "cure", DELINQUENT),
    ));
    let pct = |v: f64| format::pct_short(v);
    Trends {
        ratios_chart: svg::lines(
            &labels,
            &ratio_series,
            pct,
            loc.t("trend_daily"),
            loc.t("chart_too_few"),
        ),
        flow_chart: svg::lines(
            &labels,
            &flow_series,
            pct,
            loc.t("trend_entry"),
            loc.t("chart_too_few"),
        ),
        monthly_chart: svg::lines(
            &month_labels,
            &monthly,
            pct,
            loc.t("trend_monthly"),
            loc.t("chart_too_few"),
        ),
        days: days.len() + 1,
        months: months.len() + 1,
        short: days.len() + 1 < history::DAYS || months.len() + 1 < history::MONTHS,
    }
}

fn quality(f: &Figures, h: &History, info: &RunInfo, loc: Locale) -> Quality {
    let checks = f
        .checks
        .iter()
        .map(|c| CheckRow {
            name: c.name.clone(),
            expected: c.expected.clone(),
            actual: c.actual.clone(),
            passed: c.passed,
        })
        .collect();
    let role = |r: &str| match (loc, r) {
        (Locale::ZhCn, "as_of") => "当期".to_string(),
        (Locale::ZhCn, "prev") => "上期".to_string(),
        (Locale::ZhCn, "1m") => "上月".to_string(),
        (Locale::ZhCn, "contacts") => "催收记录".to_string(),
        _ => r.to_string(),
    };
    let inputs = info
        .inputs
        .iter()
        .flat_map(|p| {
            p.files.iter().map(move |file| InputRow {
                role: role(&p.role),
                date: p.as_of_date.clone(),
                file: file.path.clone(),
                rows: format::int(file.rows as i128),
            })
        })
        .collect();
    // Tolerated: values the contract allows but a manager may want to know about.
    let null_loans = |dim: usize, labels: &[Option<String>]| -> u64 {
        f.book
            .by_dim(dim)
            .iter()
            .zip(labels)
            .filter(|(_, l)| l.is_none())
            .map(|(t, _)| t.iter().map(|x| x.loans).sum::<u64>())
            .sum()
    };
    let null_region = null_loans(1, &f.labels.region);
    let null_grade = null_loans(2, &f.labels.grade);
    let rounded: u64 = info.inputs.iter().map(|p| p.rounded_money_values).sum();
    let (nr_l, ng_l, ro_l, or_l) = match loc {
        Locale::En => (
            "Loans without a region (kept as null)",
            "Loans without a credit grade (kept as null)",
            "Money values with more than two decimals, rounded to the cent",
            "Contacts of the run date whose loan is not in the snapshot (orphans)",
        ),
        Locale::ZhCn => (
            "无地区的贷款（保留为空值）",
            "无信用等级的贷款（保留为空值）",
            "超过两位小数、四舍五入到分的金额",
            "当日催收记录中贷款不在快照内的条数（孤立记录）",
        ),
    };
    let mut missing_columns: Vec<Counted> = Vec::new();
    for (names, how) in [
        (&f.columns.absent, "column_absent"),
        (&f.columns.all_null, "column_all_null"),
    ] {
        missing_columns.extend(names.iter().map(|c| Counted {
            item: c.to_string(),
            count: loc.t(how).to_string(),
        }));
    }
    Quality {
        missing_columns,
        checks,
        inputs,
        tolerated: vec![
            Counted {
                item: nr_l.into(),
                count: format::int(null_region as i128),
            },
            Counted {
                item: ng_l.into(),
                count: format::int(null_grade as i128),
            },
            Counted {
                item: ro_l.into(),
                count: format::int(rounded as i128),
            },
            Counted {
                item: or_l.into(),
                count: format::int(f.contacts.orphans as i128),
            },
        ],
        history_problems: h.problems.clone(),
    }
}

fn run_view(info: &RunInfo, loc: Locale) -> RunView {
    let p = info.policy;
    let mut lo = 1;
    let mut edges = Vec::new();
    for (k, &hi) in p.bucket_upper.iter().enumerate() {
        edges.push(format!("M{} {lo}\u{2013}{hi}", k + 1));
        lo = hi + 1;
    }
    edges.push(format!("M6+ \u{2265}{lo}"));
    let (source_l, buckets_l, classes_l) = match loc {
        Locale::En => ("Source", "Buckets (days past due)", "Classes (highest dpd)"),
        Locale::ZhCn => ("来源", "账龄段（逾期天数）", "五级分类（逾期天数上限）"),
    };
    RunView {
        program: format!("arrears {}", env!("CARGO_PKG_VERSION")),
        schema_version: crate::output::SCHEMA_VERSION.to_string(),
        input_root: info.input_root.clone(),
        policy: vec![
            format!("{source_l}: {}", p.source),
            format!("{buckets_l}: {}", edges.join(", ")),
            format!(
                "{classes_l}: {} {}, {} {}, {} {}",
                loc.class(Class::SpecialMention),
                p.special_mention_max,
                loc.class(Class::Substandard),
                p.substandard_max,
                loc.class(Class::Doubtful),
                p.doubtful_max
            ),
        ],
    }
}

/// Builds the view of a run's figures.
pub fn build(f: &Figures, h: &History, info: &RunInfo, loc: Locale) -> Report {
    let ag = Against::new(f, loc);
    let (ageing_rows, ageing_total) = ageing(f, loc);
    let mut matrices = Vec::new();
    let mut rate_tables = Vec::new();
    for p in &f.periods {
        matrices.push(matrix_view(p, f.as_of, loc, false));
        matrices.push(matrix_view(p, f.as_of, loc, true));
        rate_tables.push(rate_table(p, loc));
    }
    let periods = [("prev", "prev_is"), ("1m", "m1_is")]
        .iter()
        .map(|(name, key)| PeriodNote {
            name: loc.t(key).to_string(),
            date: f.period(name).map(|p| loc.date(p.from_date)),
        })
        .collect();
    Report {
        lang: loc.tag(),
        t: loc.labels(),
        as_of: loc.date(f.as_of),
        as_of_iso: f.as_of.to_string(),
        program_version: env!("CARGO_PKG_VERSION").to_string(),
        periods,
        kpis: kpis(f, h, loc, &ag),
        ratios: ratio_rows(f, loc, &ag),
        ageing: ageing_rows,
        ageing_total,
        ageing_chart: ageing_chart(f, loc),
        segments: segments(f, loc),
        classes: classes(f, loc),
        npl_ratio: format::pct(f.headline.npl[1].value),
        matrices,
        duration: duration(f, h, loc),
        forecast: crate::report::forecast::forecast_view(f, loc),
        experiments: crate::report::experiments::experiments_view(f, info.policy, loc),
        drivers: crate::report::drivers::drivers_view(f, loc),
        rate_tables,
        trends: trends(f, h, loc),
        strategy: strategy_view(f, info, loc),
        recovery: crate::report::collections::recovery_view(f, h, loc),
        contacts: crate::report::collections::contacts_view(f, loc),
        quality: quality(f, h, info, loc),
        run: run_view(info, loc),
    }
}
