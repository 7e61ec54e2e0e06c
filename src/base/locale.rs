//! The report's language: a setting of the policy (`[report] locale`) and
//! of the command line, read by the report, the workbook and the archive.
//! Its labels live with the report (`crate::report::locale`).

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Locale {
    #[default]
    #[value(name = "en")]
    En,
    #[value(name = "zh-CN")]
    ZhCn,
}

impl Locale {
    /// The BCP 47 tag (`<html lang>`, `--locale`).
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::ZhCn => "zh-CN",
        }
    }
}
