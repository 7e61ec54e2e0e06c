//! The management report: a serialisable view model built from
//! [`Figures`](crate::figures::Figures), rendered by Tera from templates
//! embedded in the binary. Templates never see internal types, only the
//! view structs of [`view`], and all data is HTML-escaped by Tera.

pub mod format;
pub mod view;

use anyhow::{Context, Result};
use tera::Tera;

use crate::figures::Figures;

/// The embedded templates: (name, source).
const TEMPLATES: &[(&str, &str)] = &[("report.html", include_str!("../../templates/report.html"))];

fn engine() -> Result<Tera> {
    let mut t = Tera::default();
    t.add_raw_templates(TEMPLATES.iter().copied())
        .context("loading the embedded report templates")?;
    // Escaping is on for `.html` templates by default; say so explicitly so
    // nobody turns it off by renaming a template.
    t.autoescape_on(vec![".html"]);
    Ok(t)
}

/// Renders the report of a run.
pub fn render(f: &Figures) -> Result<String> {
    let view = view::build(f);
    let ctx = tera::Context::from_serialize(&view).context("building the report context")?;
    engine()?
        .render("report.html", &ctx)
        .map_err(|e| anyhow::anyhow!("rendering template 'report.html': {}", chain(&e)))
}

/// Tera puts the useful part of an error in its source chain.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
