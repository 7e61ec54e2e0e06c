//! Watching a run (issue 17): what the operator sees while the job works.
//! Nothing here touches the outputs; a run publishes the same bytes in
//! every mode.
//!
//! - On a terminal: a spinner on stderr with the stage just finished, its
//!   rows and bytes and the time so far, cleared when the run ends.
//! - Otherwise (cron, Airflow): one log line per stage through `tracing`,
//!   as text or JSON (`--log-format`), with the stage, rows, bytes and
//!   milliseconds.
//! - `--quiet`: neither (errors are still printed, and the exit code says
//!   how the run ended).
//!
//! Stages are the manifest's `timings` (`Clock::lap`), reported as they end.

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// How stages are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

enum Sink {
    Bar(indicatif::ProgressBar),
    Log,
}

static SINK: OnceLock<Mutex<Option<Sink>>> = OnceLock::new();

/// Chooses the display for this process: `quiet`, else a spinner when
/// stderr is a terminal, else log lines in `format`. Called once, by the
/// command line, before the run.
pub fn init(quiet: bool, format: LogFormat) {
    use std::io::IsTerminal;
    let sink = if quiet {
        None
    } else if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} arrears {elapsed:>4} {msg}")
                .expect("a valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar.set_message("starting");
        Some(Sink::Bar(bar))
    } else {
        let builder = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_target(false)
            .with_ansi(false);
        let installed = match format {
            LogFormat::Json => builder.json().flatten_event(true).try_init(),
            LogFormat::Text => builder.try_init(),
        };
        installed.ok().map(|_| Sink::Log)
    };
    let _ = SINK.set(Mutex::new(sink));
}

/// `1.2 GB` / `340 kB`.
fn bytes(n: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut k = 0;
    while v >= 1000.0 && k + 1 < units.len() {
        v /= 1000.0;
        k += 1;
    }
    if k == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", units[k])
    }
}

/// A stage ended after `millis`, having handled `rows` and `bytes` where
/// they are known.
pub fn stage(name: &str, rows: Option<u64>, bytes_: Option<u64>, millis: f64) {
    let Some(lock) = SINK.get() else {
        return;
    };
    let guard = lock.lock().expect("progress sink");
    match guard.as_ref() {
        None => {}
        Some(Sink::Bar(bar)) => {
            let mut msg = format!("{name} done ({millis:.0} ms");
            if let Some(r) = rows {
                msg.push_str(&format!(", {r} rows"));
            }
            if let Some(b) = bytes_ {
                msg.push_str(&format!(", {}", bytes(b)));
            }
            msg.push(')');
            bar.set_message(msg);
        }
        Some(Sink::Log) => {
            tracing::info!(
                stage = name,
                rows = rows,
                bytes = bytes_,
                ms = (millis * 10.0).round() / 10.0,
                "stage done"
            );
        }
    }
}

/// The run ended (either way): the spinner is cleared from the terminal.
pub fn finish() {
    if let Some(lock) = SINK.get() {
        if let Some(Sink::Bar(bar)) = lock.lock().expect("progress sink").as_ref() {
            bar.finish_and_clear();
        }
    }
}

/// Whether the summary on stdout is wanted (not under `--quiet`).
pub fn quiet() -> bool {
    SINK.get()
        .map(|l| l.lock().expect("progress sink").is_none())
        .unwrap_or(false)
}
