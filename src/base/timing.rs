//! Stage timings: the manifest's `timings` and what the operator is shown
//! as each stage ends ([`crate::progress`]).

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Timing {
    pub stage: String,
    pub millis: f64,
}

/// Times the stages of a run for the manifest's `timings`.
pub struct Clock {
    last: std::time::Instant,
    pub timings: Vec<Timing>,
    /// Whether each lap is shown to the operator (`crate::progress`): the
    /// run's own stages are; a partition's inner steps, timed once per
    /// partition, are not.
    shown: bool,
}

impl Clock {
    /// A clock whose stages only go to the manifest.
    pub fn new() -> Clock {
        Clock {
            last: std::time::Instant::now(),
            timings: Vec::new(),
            shown: false,
        }
    }

    /// A run's clock: each stage is also shown as it ends.
    pub fn shown() -> Clock {
        Clock {
            shown: true,
            ..Clock::new()
        }
    }
    /// Ends a stage; a stage run several times (once per partition) adds up.
    pub fn lap(&mut self, stage: &str) {
        self.lap_with(stage, None, None);
    }

    /// [`Clock::lap`] of a stage that handled `rows` rows and `bytes`
    /// bytes (for the operator's display: `crate::progress`).
    pub fn lap_with(&mut self, stage: &str, rows: Option<u64>, bytes: Option<u64>) {
        let now = std::time::Instant::now();
        let millis = (now - self.last).as_secs_f64() * 1000.0;
        if self.shown {
            crate::progress::stage(stage, rows, bytes, millis);
        }
        match self.timings.iter_mut().find(|t| t.stage == stage) {
            Some(t) => t.millis += millis,
            None => self.timings.push(Timing {
                stage: stage.to_string(),
                millis,
            }),
        }
        self.last = now;
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::new()
    }
}
