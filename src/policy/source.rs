//! Where a policy text came from, and the checks of single values that
//! name the line and the key of what is wrong (exit 7).

use anyhow::Result;
use toml::Spanned;

use crate::error::{fail, FailureKind};

/// Where a policy came from, for error messages: `built-in` or a path.
pub(crate) struct Source<'a> {
    pub(crate) name: &'a str,
    pub(crate) text: &'a str,
}

impl Source<'_> {
    pub(crate) fn line(&self, at: usize) -> usize {
        self.text[..at.min(self.text.len())].matches('\n').count() + 1
    }
    pub(crate) fn error<T>(
        &self,
        span: std::ops::Range<usize>,
        key: &str,
        msg: String,
    ) -> Result<T> {
        Err(fail(
            FailureKind::Config,
            format!(
                "policy '{}', line {}, key '{key}': {msg}",
                self.name,
                self.line(span.start)
            ),
        ))
    }
}

pub(crate) fn int<T: TryFrom<i64>>(
    src: &Source,
    v: &Spanned<i64>,
    key: &str,
    min: i64,
    max: i64,
) -> Result<T> {
    let x = *v.get_ref();
    if x < min || x > max {
        return src.error(v.span(), key, format!("{x} is out of range {min}..={max}"));
    }
    T::try_from(x).or_else(|_| src.error(v.span(), key, format!("{x} is out of range")))
}

/// `HH:MM` as minutes after midnight.
pub(crate) fn clock(src: &Source, v: &Spanned<String>, key: &str) -> Result<u16> {
    let s = v.get_ref();
    let parsed = s.split_once(':').and_then(|(h, m)| {
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60 && s.len() == 5).then_some(h * 60 + m)
    });
    match parsed {
        Some(x) => Ok(x),
        None => src.error(v.span(), key, format!("{s:?} is not a time of day HH:MM")),
    }
}
