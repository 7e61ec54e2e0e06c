//! The report's drivers (metrics.md v2, "Drivers"): one line in words under
//! the headline cards naming what moved DPD30+ and NPL most, and a section
//! with a waterfall per ratio and the full split in a table.

use serde::Serialize;

use crate::figures::{Figures, Period};
use crate::metrics::drivers::{Driver, Split};
use crate::report::format;
use crate::report::locale::Locale;
use crate::report::svg;

#[derive(Serialize)]
pub struct DriversView {
    /// "Against 29 Oct 2026".
    pub title: String,
    /// One sentence per ratio, for the first screen.
    pub lines: Vec<String>,
    pub charts: Vec<Chart>,
    pub rows: Vec<Row>,
}

#[derive(Serialize)]
pub struct Chart {
    pub title: String,
    pub svg: String,
}

#[derive(Serialize)]
pub struct Row {
    pub metric: String,
    pub dimension: String,
    pub segment: String,
    pub weight: String,
    pub ratio: String,
    pub mix: String,
    pub rate: String,
    /// The row opens its (metric, dimension) group.
    pub first: bool,
}

/// Bars the waterfall shows; smaller contributors go into "others".
const BARS: usize = 8;

fn pp(v: f64, loc: Locale) -> String {
    format!("{:+.2}{}", v * 100.0, loc.pp()).replace('-', "\u{2212}")
}

fn metric_label(m: &str, loc: Locale) -> &'static str {
    loc.t(if m == "npl" {
        "kpi_npl"
    } else {
        "dpd30_balance"
    })
}

fn segment_label(d: &Driver, loc: Locale) -> String {
    d.segment
        .clone()
        .unwrap_or_else(|| loc.t("null_segment").to_string())
}

/// The dimension whose single largest effect is largest: where the
/// sentence and the waterfall look.
fn telling<'a>(splits: &'a [Split], metric: &str) -> Option<&'a Split> {
    let biggest = |s: &Split| {
        s.drivers
            .iter()
            .flat_map(|d| [d.mix.abs(), d.rate.abs()])
            .fold(0.0f64, f64::max)
    };
    splits
        .iter()
        .filter(|s| s.metric == metric)
        .max_by(|a, b| biggest(a).total_cmp(&biggest(b)))
}

/// "DPD30+ (balance) rose 0.24 pp against 29 Oct 2026; by product,
/// credit_line's rate explains +0.18 pp and consumer_installment's mix
/// −0.03 pp."
fn sentence(s: &Split, p: &Period, loc: Locale) -> String {
    let change = s.change();
    let moved = if change.abs() < 5e-5 {
        loc.t("drivers_flat")
    } else if change > 0.0 {
        loc.t("drivers_rose")
    } else {
        loc.t("drivers_fell")
    };
    let mut effects: Vec<(f64, String)> = s
        .drivers
        .iter()
        .flat_map(|d| {
            [
                (
                    d.rate,
                    loc.t("drivers_rate_of")
                        .replace("{}", &segment_label(d, loc)),
                ),
                (
                    d.mix,
                    loc.t("drivers_mix_of")
                        .replace("{}", &segment_label(d, loc)),
                ),
            ]
        })
        .filter(|(v, _)| v.abs() >= 5e-5)
        .collect();
    effects.sort_by(|a, b| b.0.abs().total_cmp(&a.0.abs()).then_with(|| a.1.cmp(&b.1)));
    let named: Vec<String> = effects
        .iter()
        .take(2)
        .map(|(v, who)| format!("{who} {}", pp(*v, loc)))
        .collect();
    let mut out = loc
        .t("drivers_sentence")
        .replace("{metric}", metric_label(s.metric, loc))
        .replace("{moved}", moved)
        .replace(
            "{change}",
            &format!("{:.2}{}", change.abs() * 100.0, loc.pp()),
        )
        .replace("{date}", &loc.date(p.from_date));
    if !named.is_empty() {
        out.push_str(
            &loc.t("drivers_by")
                .replace("{dimension}", loc.t(&format!("dim_{}", s.dimension)))
                .replace("{effects}", &named.join(loc.t("drivers_and"))),
        );
    }
    out.push_str(loc.t("drivers_end"));
    out
}

fn waterfall(s: &Split, p: &Period, loc: Locale) -> Chart {
    let mut steps: Vec<(String, f64)> = s
        .drivers
        .iter()
        .map(|d| (segment_label(d, loc), d.mix + d.rate))
        .collect();
    steps.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then_with(|| a.0.cmp(&b.0)));
    if steps.len() > BARS {
        let rest: f64 = steps[BARS - 1..].iter().map(|x| x.1).sum();
        steps.truncate(BARS - 1);
        steps.push((loc.t("others").to_string(), rest));
    }
    let start = loc.short_date(p.from_date);
    let title = loc
        .t("drivers_chart")
        .replace("{metric}", metric_label(s.metric, loc))
        .replace("{dimension}", loc.t(&format!("dim_{}", s.dimension)));
    Chart {
        svg: svg::waterfall(
            (&start, s.then),
            &steps,
            (loc.t("forecast_today"), s.now),
            |v| format!("{:.2}%", v * 100.0),
            &title,
        ),
        title,
    }
}

pub fn drivers_view(f: &Figures, loc: Locale) -> Option<DriversView> {
    // Against a month ago when there is one, else the previous snapshot.
    let p = f.period("1m").or_else(|| f.period("prev"))?;
    if p.drivers.is_empty() {
        return None;
    }
    let mut lines = Vec::new();
    let mut charts = Vec::new();
    for metric in crate::metrics::drivers::METRICS {
        if let Some(s) = telling(&p.drivers, metric) {
            lines.push(sentence(s, p, loc));
            charts.push(waterfall(s, p, loc));
        }
    }
    let mut rows = Vec::new();
    for s in &p.drivers {
        for (k, d) in s.drivers.iter().enumerate() {
            let r = |v: Option<f64>| format::pct(v);
            rows.push(Row {
                metric: if k == 0 {
                    metric_label(s.metric, loc).to_string()
                } else {
                    String::new()
                },
                dimension: if k == 0 {
                    loc.t(&format!("dim_{}", s.dimension)).to_string()
                } else {
                    String::new()
                },
                segment: segment_label(d, loc),
                weight: format!(
                    "{} \u{2192} {}",
                    format::pct(Some(d.weight_then)),
                    format::pct(Some(d.weight_now))
                ),
                ratio: format!("{} \u{2192} {}", r(d.ratio_then), r(d.ratio_now)),
                mix: pp(d.mix, loc),
                rate: pp(d.rate, loc),
                first: k == 0,
            });
        }
    }
    Some(DriversView {
        title: loc
            .t("drivers_against")
            .replace("{date}", &loc.date(p.from_date)),
        lines,
        charts,
        rows,
    })
}
