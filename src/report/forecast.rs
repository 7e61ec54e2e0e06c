//! The report's forecast section (metrics.md v2, "Forecast"): the
//! expected charge-off of today's book over six months in words and as a
//! fan chart, the M1..M3 loans the teams will face, the months in a table,
//! and the backtest of last month's forecast against today.

use chrono::{Months, NaiveDate};
use serde::Serialize;

use crate::figures::Figures;
use crate::metrics::forecast::{Backtest, Projection};
use crate::report::format;
use crate::report::locale::Locale;
use crate::report::svg::{self, Band, Series};
use crate::states::Bucket;

#[derive(Serialize)]
pub struct ForecastView {
    /// "At last month's roll rates, 1.9M (1.6M-2.3M) of today's balance is
    /// written off by May 2027."
    pub sentence: String,
    /// The M2 loans next month, for the phone team.
    pub staffing: String,
    pub charge_off_chart: String,
    pub buckets_chart: String,
    pub rows: Vec<MonthRow>,
    /// States whose row kept its mass for want of loans a month ago.
    pub thin: Vec<String>,
    /// The duration (Aalen-Johansen) method's cumulative charge-off in loans
    /// at six months beside the cohort method's, when it was projected.
    pub duration_note: Option<String>,
    pub backtest: Option<BacktestView>,
}

#[derive(Serialize)]
pub struct MonthRow {
    pub month: String,
    pub new_charge_off: String,
    pub cumulative: String,
    pub interval: String,
    pub m1: String,
    pub m2: String,
    pub m3: String,
}

#[derive(Serialize)]
pub struct BacktestView {
    pub title: String,
    pub rows: Vec<BacktestLine>,
    pub mape: String,
}

#[derive(Serialize)]
pub struct BacktestLine {
    pub state: String,
    pub forecast_loans: String,
    pub actual_loans: String,
    pub forecast_balance: String,
    pub actual_balance: String,
    pub error: String,
}

fn find<'a>(f: &'a Figures, method: &str, basis: &str) -> Option<&'a Projection> {
    f.forecast
        .iter()
        .find(|p| p.method == method && p.basis == basis)
}

/// A month-end `h` months after the run date, as the report names months.
fn month_after(as_of: NaiveDate, h: usize, loc: Locale) -> String {
    loc.month(as_of + Months::new(h as u32))
}

pub fn forecast_view(f: &Figures, loc: Locale) -> Option<ForecastView> {
    let count = find(f, "cohort_1m", "count")?;
    let balance = find(f, "cohort_1m", "balance")?;
    let wo = Bucket::Wo.index();
    let (m1, m2, m3) = (Bucket::M1.index(), Bucket::M2.index(), Bucket::M3.index());
    let horizons = balance.path.len();
    let cum = |p: &Projection, h: usize| p.path[h][wo] - p.start[wo];
    let cum_ci = |p: &Projection, h: usize| {
        p.ci.as_ref()
            .map(|ci| (ci[h][wo].0 - p.start[wo], ci[h][wo].1 - p.start[wo]))
    };
    let last = horizons - 1;
    let (lo, hi) = cum_ci(balance, last).unwrap_or((cum(balance, last), cum(balance, last)));
    let sentence = loc
        .t("forecast_sentence")
        .replace("{amount}", &loc.compact(cum(balance, last)))
        .replace("{low}", &loc.compact(lo))
        .replace("{high}", &loc.compact(hi))
        .replace("{month}", &month_after(f.as_of, horizons, loc));
    let (m2_lo, m2_hi) = count
        .ci
        .as_ref()
        .map(|ci| ci[0][m2])
        .unwrap_or((count.path[0][m2], count.path[0][m2]));
    let staffing = loc
        .t("forecast_staffing")
        .replace("{m2}", &format::int(count.path[0][m2].round() as i128))
        .replace("{low}", &format::int(m2_lo.round() as i128))
        .replace("{high}", &format::int(m2_hi.round() as i128))
        .replace("{now}", &format::int(count.start[m2].round() as i128));

    let labels: Vec<String> = (0..=horizons)
        .map(|h| match h {
            0 => loc.t("forecast_today").to_string(),
            _ => month_after(f.as_of, h, loc),
        })
        .collect();
    let cumulative: Vec<Option<f64>> = (0..=horizons)
        .map(|h| Some(if h == 0 { 0.0 } else { cum(balance, h - 1) }))
        .collect();
    let band = Band {
        low: (0..=horizons)
            .map(|h| match h {
                0 => 0.0,
                _ => cum_ci(balance, h - 1).map_or(cum(balance, h - 1), |c| c.0),
            })
            .collect(),
        high: (0..=horizons)
            .map(|h| match h {
                0 => 0.0,
                _ => cum_ci(balance, h - 1).map_or(cum(balance, h - 1), |c| c.1),
            })
            .collect(),
    };
    let charge_off_chart = svg::lines_with_band(
        &labels,
        &[Series {
            name: loc.t("forecast_cum_charge_off").to_string(),
            values: cumulative,
        }],
        Some(&band),
        |v| loc.compact(v),
        loc.t("forecast_cum_charge_off"),
        loc.t("chart_too_few"),
    );
    let bucket_series = |b: usize| Series {
        name: loc.bucket(Bucket::from_index(b)).to_string(),
        values: (0..=horizons)
            .map(|h| {
                Some(if h == 0 {
                    count.start[b]
                } else {
                    count.path[h - 1][b]
                })
            })
            .collect(),
    };
    let buckets_chart = svg::lines(
        &labels,
        &[bucket_series(m1), bucket_series(m2), bucket_series(m3)],
        |v| format::int(v.round() as i128),
        loc.t("forecast_buckets"),
        loc.t("chart_too_few"),
    );
    let new_co = balance.new_charge_off();
    let loans = |v: f64| format::int(v.round() as i128);
    let rows = (0..horizons)
        .map(|h| MonthRow {
            month: month_after(f.as_of, h + 1, loc),
            new_charge_off: loc.compact(new_co[h]),
            cumulative: loc.compact(cum(balance, h)),
            interval: cum_ci(balance, h)
                .map(|(a, b)| format!("{} \u{2013} {}", loc.compact(a), loc.compact(b)))
                .unwrap_or_default(),
            m1: loans(count.path[h][m1]),
            m2: loans(count.path[h][m2]),
            m3: loans(count.path[h][m3]),
        })
        .collect();
    let thin = (0..crate::states::BUCKETS)
        .filter(|&i| count.thin[i])
        .map(|i| loc.bucket(Bucket::from_index(i)).to_string())
        .collect();
    let duration_note = find(f, "duration_1m", "count").map(|d| {
        loc.t("forecast_duration_note")
            .replace("{duration}", &loans(cum(d, last)))
            .replace("{cohort}", &loans(cum(count, last)))
            .replace("{month}", &month_after(f.as_of, horizons, loc))
    });
    Some(ForecastView {
        sentence,
        staffing,
        charge_off_chart,
        buckets_chart,
        rows,
        thin,
        duration_note,
        backtest: f.backtest.as_ref().map(|b| backtest_view(b, loc)),
    })
}

fn backtest_view(b: &Backtest, loc: Locale) -> BacktestView {
    let value = |basis: &str, state: usize| {
        b.rows
            .iter()
            .find(|r| r.basis == basis && r.state == state)
            .map(|r| (r.forecast, r.actual))
    };
    let rows = (0..crate::states::BUCKETS)
        .filter_map(|i| {
            let (fc, ac) = value("count", i)?;
            let (fb, ab) = value("balance", i).unwrap_or((0.0, 0.0));
            Some(BacktestLine {
                state: loc.bucket(Bucket::from_index(i)).to_string(),
                forecast_loans: format::int(fc.round() as i128),
                actual_loans: format::int(ac.round() as i128),
                forecast_balance: loc.compact(fb),
                actual_balance: loc.compact(ab),
                error: if ab > 0.0 {
                    format::pct(Some((ab - fb) / ab))
                } else {
                    "\u{2013}".into()
                },
            })
        })
        .collect();
    BacktestView {
        title: loc
            .t("backtest_title")
            .replace("{date}", &loc.date(b.from_date)),
        rows,
        mape: format::pct(b.mape),
    }
}
