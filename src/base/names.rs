//! Deserialising the `&'static str` names the partials carry (period
//! names, column names): the few a merge reads are leaked, once each.

use serde::{Deserialize, Deserializer};

/// `&'static str` under another name: serde's derive borrows a field
/// spelled `&str` from the input (which would have to live forever),
/// even with `deserialize_with`.
pub type Name = &'static str;

pub fn one<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    let s = String::deserialize(d)?;
    Ok(Box::leak(s.into_boxed_str()))
}

pub fn many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<&'static str>, D::Error> {
    let v = Vec::<String>::deserialize(d)?;
    Ok(v.into_iter()
        .map(|s| &*Box::leak(s.into_boxed_str()))
        .collect())
}
