//! The management report: a serialisable view model built from
//! [`Figures`](crate::figures::Figures) and the earlier runs, rendered by
//! Tera from templates embedded in the binary (`templates/`: `base.html` and
//! one partial per section). `--templates DIR` replaces any of them by a
//! file of the same name, for a lender's own branding. Templates never see
//! internal types, only the view structs of [`view`], and all data is
//! HTML-escaped by Tera; charts are finished SVG escaped by [`svg`].

pub mod archive;
pub mod collections;
pub mod drivers;
pub mod experiments;
pub mod forecast;
pub mod format;
pub mod locale;
pub mod svg;
pub mod view;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use tera::Tera;

use crate::error::{fail, FailureKind};
use crate::figures::Figures;
use crate::history::History;
pub use locale::Locale;

/// The embedded templates: (name, source). `base.html` is the page.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    (
        "headline.html",
        include_str!("../../templates/headline.html"),
    ),
    ("ageing.html", include_str!("../../templates/ageing.html")),
    (
        "classification.html",
        include_str!("../../templates/classification.html"),
    ),
    ("drivers.html", include_str!("../../templates/drivers.html")),
    (
        "roll_rates.html",
        include_str!("../../templates/roll_rates.html"),
    ),
    (
        "forecast.html",
        include_str!("../../templates/forecast.html"),
    ),
    (
        "experiments.html",
        include_str!("../../templates/experiments.html"),
    ),
    ("trends.html", include_str!("../../templates/trends.html")),
    (
        "strategy.html",
        include_str!("../../templates/strategy.html"),
    ),
    (
        "recovery.html",
        include_str!("../../templates/recovery.html"),
    ),
    (
        "contacts.html",
        include_str!("../../templates/contacts.html"),
    ),
    ("quality.html", include_str!("../../templates/quality.html")),
    ("run.html", include_str!("../../templates/run.html")),
];

/// The page template every render starts from.
const PAGE: &str = "base.html";

/// How the report is rendered.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub locale: Locale,
    /// Folder whose `*.html` files replace (or add to) the embedded templates.
    pub templates: Option<PathBuf>,
}

/// Loaded, parsed templates, ready to render.
pub struct Engine {
    tera: Tera,
    locale: Locale,
}

fn config_error(message: String) -> anyhow::Error {
    fail(FailureKind::Config, message)
}

impl Engine {
    /// Loads the embedded templates and the overrides. Done before any data
    /// is read, so a broken template folder fails the run at once.
    pub fn new(opts: &Options) -> Result<Engine> {
        let mut sources: BTreeMap<String, String> = TEMPLATES
            .iter()
            .map(|(n, s)| (n.to_string(), s.to_string()))
            .collect();
        if let Some(dir) = &opts.templates {
            for (name, text) in read_dir_templates(dir)? {
                sources.insert(name, text);
            }
        }
        let mut tera = Tera::default();
        // Templates see the view model and nothing else: Tera's functions
        // that reach outside it (the environment, the clock, randomness)
        // are replaced by ones that refuse, so that a `--templates` file
        // cannot render a secret or make two runs differ.
        for name in OUTSIDE_FUNCTIONS {
            tera.register_function(name, Refused(name));
        }
        // Escaping is on for `.html` templates by default; say so explicitly
        // so nobody turns it off by renaming a template.
        tera.autoescape_on(vec![".html"]);
        // Tera names the template in a parse error ("Failed to parse
        // 'x.html'", with line and column); say where overrides came from.
        tera.add_raw_templates(sources.iter().map(|(n, t)| (n.as_str(), t.as_str())))
            .map_err(|e| {
                let from = match &opts.templates {
                    Some(d) => format!(" (with overrides from '{}')", d.display()),
                    None => String::new(),
                };
                config_error(format!("loading the report templates{from}: {}", chain(&e)))
            })?;
        Ok(Engine {
            tera,
            locale: opts.locale,
        })
    }

    /// The report's language (the archive page uses it too).
    pub fn locale(&self) -> Locale {
        self.locale
    }

    /// Renders the report of a run.
    pub fn render(&self, f: &Figures, h: &History, info: &view::RunInfo) -> Result<String> {
        let v = view::build(f, h, info, self.locale);
        let ctx = tera::Context::from_serialize(&v)
            .map_err(|e| anyhow::anyhow!("building the report context: {}", chain(&e)))?;
        self.tera
            .render(PAGE, &ctx)
            .map_err(|e| config_error(format!("rendering report template '{PAGE}': {}", chain(&e))))
    }
}

/// Tera's built-in functions that read something outside the view model.
const OUTSIDE_FUNCTIONS: [&str; 3] = ["get_env", "now", "get_random"];

/// A template function that is not available: rendering fails (exit 7).
struct Refused(&'static str);

impl tera::Function for Refused {
    fn call(
        &self,
        _: &std::collections::HashMap<String, tera::Value>,
    ) -> tera::Result<tera::Value> {
        Err(tera::Error::msg(format!(
            "the function `{}` is not available: report templates see only the report's view model, not the environment, the clock or random numbers",
            self.0
        )))
    }
    fn is_safe(&self) -> bool {
        false
    }
}

/// `*.html` files of a template folder: (name, text).
fn read_dir_templates(dir: &Path) -> Result<Vec<(String, String)>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        config_error(format!(
            "report templates folder '{}' cannot be read: {e}",
            dir.display()
        ))
    })?;
    let mut out = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| config_error(format!("reading '{}': {e}", dir.display())))?
            .path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        if !name.ends_with(".html") || !path.is_file() {
            continue;
        }
        let text = crate::base::textfile::read(&path)
            .map_err(|e| config_error(format!("report template '{}': {e}", path.display())))?;
        out.push((name, text));
    }
    out.sort();
    Ok(out)
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

/// The report with what differs between two runs on the same data masked:
/// the values the templates wrap in `<span data-run>` (render time, timings,
/// thread count, file paths). Two runs of the same inputs give the same
/// masked report; the tests compare and snapshot it.
pub fn mask_run_values(html: &str) -> String {
    const OPEN: &str = "<span data-run>";
    const CLOSE: &str = "</span>";
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(OPEN) {
        out.push_str(&rest[..i + OPEN.len()]);
        rest = &rest[i + OPEN.len()..];
        match rest.find(CLOSE) {
            Some(j) => {
                out.push_str("[run]");
                rest = &rest[j..];
            }
            None => break,
        }
    }
    out.push_str(rest);
    out
}
