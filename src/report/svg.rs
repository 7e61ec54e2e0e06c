//! Charts drawn by the program as inline SVG: stacked horizontal bars and
//! line charts. No script, no external resource, so the page opens from an
//! e-mail attachment and prints. Every text that comes from data (product
//! names, labels) is XML-escaped here, because templates insert the finished
//! SVG unescaped.
//!
//! Charts are sized in user units with a `viewBox`, so they scale to the
//! page width on screen and on A4.

use std::fmt::Write;

/// Escapes text for SVG/HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Colour-blind-safe palette (Okabe-Ito order, then greys), one per series.
pub const PALETTE: &[&str] = &[
    "#E69F00", "#D55E00", "#CC79A7", "#0072B2", "#009E73", "#56B4E9", "#8B0000", "#000000",
    "#999999", "#F0E442",
];

/// Ordered colours for bucket severity M1..M6+, WO (light to dark red).
pub const SEVERITY: &[&str] = &[
    "#fdd49e", "#fdbb84", "#fc8d59", "#ef6548", "#d7301f", "#b30000", "#7f0000", "#3b3b3b",
];

/// One bar of a stacked bar chart: a label and its segments' values.
pub struct Bar {
    pub label: String,
    /// Values per segment, in the same order as the legend; tooltips show `titles`.
    pub values: Vec<f64>,
    pub titles: Vec<String>,
}

/// Horizontal stacked bars. `max` is the axis end (a share, e.g. 0.2);
/// `ticks` formats an axis value.
pub fn stacked_bars(
    bars: &[Bar],
    legend: &[String],
    colours: &[&str],
    max: f64,
    tick: impl Fn(f64) -> String,
    aria: &str,
) -> String {
    let (left, right, row, top) = (150.0, 16.0, 24.0, 30.0);
    let width = 560.0;
    let plot = width - left - right;
    let height = top + row * bars.len() as f64 + 30.0;
    let max = if max > 0.0 { max } else { 1.0 };
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart bars" viewBox="0 0 {width} {height}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(aria)
    );
    // Legend on top.
    let mut x = left;
    for (k, name) in legend.iter().enumerate() {
        let _ = write!(
            s,
            r#"<rect x="{x:.1}" y="6" width="10" height="10" fill="{}"/><text x="{:.1}" y="15" class="lg">{}</text>"#,
            colours[k % colours.len()],
            x + 14.0,
            esc(name)
        );
        x += 22.0 + 8.5 * name.chars().count() as f64;
    }
    // Grid and axis ticks.
    for k in 0..=4 {
        let v = max * k as f64 / 4.0;
        let gx = left + plot * k as f64 / 4.0;
        let _ = write!(
            s,
            r##"<line x1="{gx:.1}" y1="{top}" x2="{gx:.1}" y2="{:.1}" stroke="#e3e7ee"/><text x="{gx:.1}" y="{:.1}" class="ax" text-anchor="middle">{}</text>"##,
            height - 26.0,
            height - 12.0,
            esc(&tick(v))
        );
    }
    for (i, b) in bars.iter().enumerate() {
        let y = top + row * i as f64;
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" class="lb" text-anchor="end">{}</text>"#,
            left - 8.0,
            y + row * 0.62,
            esc(&b.label)
        );
        let mut x = left;
        for (k, &v) in b.values.iter().enumerate() {
            let w = (v.max(0.0) / max * plot).min(left + plot - x);
            if w <= 0.0 {
                continue;
            }
            let _ = write!(
                s,
                r#"<rect x="{x:.2}" y="{:.1}" width="{w:.2}" height="{:.1}" fill="{}"><title>{}</title></rect>"#,
                y + 4.0,
                row - 8.0,
                colours[k % colours.len()],
                esc(&b.titles[k])
            );
            x += w;
        }
    }
    s.push_str("</svg>");
    s
}

/// One line of a line chart; `None` values leave a gap.
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// A line chart over `x_labels` (evenly spaced), y from 0 to a rounded-up max.
/// With fewer than two points in every series there is no line to draw:
/// `note` is shown instead of an empty plot.
pub fn lines(
    x_labels: &[String],
    series: &[Series],
    tick: impl Fn(f64) -> String,
    aria: &str,
    note: &str,
) -> String {
    lines_with_band(x_labels, series, None, tick, aria, note)
}

/// A band (low, high per x label) drawn under the first series: a fan
/// chart of a forecast and its interval.
pub struct Band {
    pub low: Vec<f64>,
    pub high: Vec<f64>,
}

/// [`lines`] with an optional shaded [`Band`] in the first series' colour.
pub fn lines_with_band(
    x_labels: &[String],
    series: &[Series],
    band: Option<&Band>,
    tick: impl Fn(f64) -> String,
    aria: &str,
    note: &str,
) -> String {
    if !series
        .iter()
        .any(|s| s.values.iter().flatten().count() >= 2)
    {
        return format!(r#"<p class="note">{}</p>"#, esc(note));
    }
    let (left, right, top, bottom) = (64.0, 16.0, 30.0, 40.0);
    let (width, height) = (860.0, 260.0);
    let (pw, ph) = (width - left - right, height - top - bottom);
    let data_max = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .chain(band.iter().flat_map(|b| b.high.iter()))
        .fold(0.0f64, |a, &b| a.max(b));
    let max = nice_ceiling(data_max);
    let n = x_labels.len();
    let xpos = |i: usize| {
        if n <= 1 {
            left + pw / 2.0
        } else {
            left + pw * i as f64 / (n - 1) as f64
        }
    };
    let ypos = |v: f64| top + ph - (v / max) * ph;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart line" viewBox="0 0 {width} {height}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(aria)
    );
    let mut lx = left;
    for (k, se) in series.iter().enumerate() {
        let c = PALETTE[k % PALETTE.len()];
        let _ = write!(
            s,
            r#"<rect x="{lx:.1}" y="8" width="14" height="4" fill="{c}"/><text x="{:.1}" y="15" class="lg">{}</text>"#,
            lx + 18.0,
            esc(&se.name)
        );
        lx += 30.0 + 7.0 * se.name.chars().count() as f64;
    }
    // A tick whose label repeats the one below (tiny values rounded by
    // `tick`) keeps its grid line but not its label.
    let mut below = String::new();
    for k in 0..=4 {
        let v = max * k as f64 / 4.0;
        let y = ypos(v);
        let label = tick(v);
        let shown = if k > 0 && label == below {
            String::new()
        } else {
            esc(&label)
        };
        let _ = write!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e3e7ee"/><text x="{:.1}" y="{:.1}" class="ax" text-anchor="end">{}</text>"##,
            left + pw,
            left - 6.0,
            y + 4.0,
            shown
        );
        below = label;
    }
    // At most ~8 x labels so they never overlap; the last one (the run
    // date) always, so a regular label too close before it is dropped.
    let every = n.div_ceil(8).max(1);
    for (i, l) in x_labels.iter().enumerate() {
        let last = i + 1 == n;
        if (i % every == 0 && i + every < n) || last {
            let anchor = match (i, last) {
                (_, true) if n > 1 => "end",
                (0, _) if n > 1 => "start",
                _ => "middle",
            };
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{:.1}" class="ax" text-anchor="{anchor}">{}</text>"#,
                xpos(i),
                height - bottom + 16.0,
                esc(l)
            );
        }
    }
    if let Some(b) = band {
        // Upper edge left to right, lower edge back: one closed polygon.
        let mut pts = String::new();
        for (i, v) in b.high.iter().enumerate() {
            let _ = write!(pts, "{:.1},{:.1} ", xpos(i), ypos(*v));
        }
        for (i, v) in b.low.iter().enumerate().rev() {
            let _ = write!(pts, "{:.1},{:.1} ", xpos(i), ypos(*v));
        }
        let _ = write!(
            s,
            r#"<polygon points="{}" fill="{}" fill-opacity="0.18" stroke="none"/>"#,
            pts.trim_end(),
            PALETTE[0]
        );
    }
    for (k, se) in series.iter().enumerate() {
        let c = PALETTE[k % PALETTE.len()];
        // A path with a break at every missing value.
        let mut d = String::new();
        let mut pen_down = false;
        for (i, v) in se.values.iter().enumerate() {
            match v {
                Some(v) => {
                    let _ = write!(
                        d,
                        "{}{:.1},{:.1} ",
                        if pen_down { "L" } else { "M" },
                        xpos(i),
                        ypos(*v)
                    );
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        if !d.is_empty() {
            let _ = write!(
                s,
                r#"<path d="{}" fill="none" stroke="{c}" stroke-width="2"/>"#,
                d.trim_end()
            );
        }
        for (i, v) in se.values.iter().enumerate() {
            if let Some(v) = v {
                let _ = write!(
                    s,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{c}"><title>{} {}: {}</title></circle>"#,
                    xpos(i),
                    ypos(*v),
                    esc(&se.name),
                    esc(&x_labels[i]),
                    esc(&tick(*v))
                );
            }
        }
    }
    s.push_str("</svg>");
    s
}

/// The smallest of 1, 2, 2.5, 5 x 10^k that is at least `v` (a readable axis end).
pub fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * p >= v * (1.0 - 1e-12) {
            return m * p;
        }
    }
    10.0 * p
}

/// A waterfall: a ratio `start`, the signed steps that move it, and where it
/// ends, as vertical bars; a rise in the worse colour, a fall in the better.
/// Values are shares (0.0123 = 1.23%); `tick` formats them.
pub fn waterfall(
    start: (&str, f64),
    steps: &[(String, f64)],
    end: (&str, f64),
    tick: impl Fn(f64) -> String,
    aria: &str,
) -> String {
    let (left, right, top, bottom) = (64.0, 16.0, 16.0, 64.0);
    let n = steps.len() + 2;
    let slot = 84.0;
    let width = left + right + slot * n as f64;
    let height = 300.0;
    let ph = height - top - bottom;
    // The axis spans every level the bars reach.
    let mut level = start.1;
    let (mut lo, mut hi) = (start.1.min(end.1), start.1.max(end.1));
    for (_, v) in steps {
        level += v;
        lo = lo.min(level);
        hi = hi.max(level);
    }
    // Zoomed on the levels the bars reach (the changes are small against
    // the ratio), but never below zero; the start and end bars rise from
    // the axis, whose labels say where it starts.
    let span = (hi - lo).max(hi.abs() * 0.02).max(1e-9);
    let lo = (lo - span).max(0.0);
    let hi = hi + span * 0.25;
    let y = |v: f64| top + ph - (v - lo) / (hi - lo) * ph;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart bars" viewBox="0 0 {width} {height}" style="max-width: {:.0}px" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        // Never drawn larger than 1.25 x: few bars stay a modest chart.
        width * 1.25,
        esc(aria)
    );
    for k in 0..=4 {
        let v = lo + (hi - lo) * k as f64 / 4.0;
        let _ = write!(
            s,
            r##"<line x1="{left}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#e3e7ee"/><text x="{:.1}" y="{:.1}" class="ax" text-anchor="end">{}</text>"##,
            width - right,
            left - 6.0,
            y(v) + 4.0,
            esc(&tick(v)),
            yy = y(v)
        );
    }
    let bar = |s: &mut String, i: usize, a: f64, b: f64, fill: &str, label: &str, value: String| {
        let x = left + slot * i as f64 + 10.0;
        let (y0, y1) = (y(a.max(b)), y(a.min(b)));
        let _ = write!(
            s,
            r#"<rect x="{x:.1}" y="{y0:.1}" width="{:.1}" height="{:.1}" fill="{fill}"><title>{}: {}</title></rect><text x="{:.1}" y="{:.1}" class="ax" text-anchor="middle">{}</text><text x="{:.1}" y="{:.1}" class="lb" text-anchor="middle">{}</text>"#,
            slot - 20.0,
            (y1 - y0).max(1.0),
            esc(label),
            esc(&value),
            x + (slot - 20.0) / 2.0,
            y0 - 5.0,
            esc(&value),
            x + (slot - 20.0) / 2.0,
            height - bottom + 18.0,
            esc(&short(label, 11))
        );
    };
    bar(&mut s, 0, lo, start.1, "#98a2b3", start.0, tick(start.1));
    let mut level = start.1;
    for (i, (label, v)) in steps.iter().enumerate() {
        let colour = if *v > 0.0 { "#d7301f" } else { "#067647" };
        let signed = if *v >= 0.0 {
            format!("+{}", tick(*v))
        } else {
            format!("\u{2212}{}", tick(-v))
        };
        bar(&mut s, i + 1, level, level + v, colour, label, signed);
        level += v;
    }
    bar(&mut s, n - 1, lo, end.1, "#475467", end.0, tick(end.1));
    s.push_str("</svg>");
    s
}

/// `text` cut to `n` characters with an ellipsis (the full label is in the
/// bar's tooltip).
fn short(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_string()
    } else {
        let mut t: String = text.chars().take(n - 1).collect();
        t.push('\u{2026}');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_data_text() {
        assert_eq!(
            esc(r#"<script>alert(1)</script> "&'"#),
            "&lt;script&gt;alert(1)&lt;/script&gt; &quot;&amp;&#39;"
        );
        let svg = stacked_bars(
            &[Bar {
                label: "<b>".into(),
                values: vec![0.1],
                titles: vec!["a&b".into()],
            }],
            &["M1".into()],
            SEVERITY,
            0.2,
            |v| format!("{v}"),
            "x",
        );
        assert!(svg.contains("&lt;b&gt;") && svg.contains("a&amp;b") && !svg.contains("<b>"));
    }

    #[test]
    fn nice_axis_ends() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(0.034), 0.05);
        assert_eq!(nice_ceiling(0.2), 0.2);
        assert_eq!(nice_ceiling(0.21), 0.25);
        assert_eq!(nice_ceiling(7.0), 10.0);
    }

    #[test]
    fn gaps_break_the_line() {
        let svg = lines(
            &["a".into(), "b".into(), "c".into()],
            &[Series {
                name: "s".into(),
                values: vec![Some(0.1), None, Some(0.2)],
            }],
            |v| format!("{v:.2}"),
            "x",
            "too few",
        );
        assert_eq!(svg.matches(" M").count() + svg.matches("\"M").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 2);
    }

    #[test]
    fn one_point_is_a_note_and_repeated_ticks_are_unlabelled() {
        let one = |values: Vec<Option<f64>>| {
            lines(
                &["a".into(), "b".into()],
                &[Series {
                    name: "s".into(),
                    values,
                }],
                |v| format!("{v:.0}"),
                "x",
                "too few",
            )
        };
        assert_eq!(one(vec![Some(0.3), None]), r#"<p class="note">too few</p>"#);
        // 0..0.5 in steps of 0.125, all shown as "0": only the first is labelled.
        let svg = one(vec![Some(0.3), Some(0.5)]);
        assert_eq!(svg.matches(">0</text>").count(), 1, "{svg}");
    }
}
