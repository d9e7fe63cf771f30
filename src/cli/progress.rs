//! The progress shown on a terminal while a run goes: one bar for the trials of every scenario
//! (scenarios run one after another, so one bar gives an honest ETA), the scenario under way in its
//! prefix, a rounded rate, and a spinner while the reports are written.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::sync::Mutex;
use std::time::Duration;

/// One bar over all the trials of a run.
pub struct RunProgress {
    bar: ProgressBar,
    /// Trials each scenario may run (its trials, or --max-trials for a run to a target error).
    per_scenario: u64,
    /// The scenarios, in the order they run.
    names: Vec<String>,
    /// The scenario under way and the trials it has run.
    current: Mutex<(usize, u64)>,
}

impl RunProgress {
    /// A bar for `names.len()` scenarios of `per_scenario` trials each, drawn on `target`.
    pub fn new(target: ProgressDrawTarget, names: Vec<String>, per_scenario: u64) -> RunProgress {
        let total = per_scenario.saturating_mul(names.len() as u64);
        let bar = ProgressBar::with_draw_target(Some(total), target).with_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {human_pos}/{human_len} trials, {rate}, ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .with_key("rate", |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{}", rate(state.per_sec()));
                })
                .progress_chars("=> "),
        );
        let progress = RunProgress { bar, per_scenario, names, current: Mutex::new((0, 0)) };
        progress.show_prefix(0);
        progress
    }

    fn show_prefix(&self, index: usize) {
        if let Some(name) = self.names.get(index) {
            let name = arstress::terminal::printable(name);
            self.bar.set_prefix(format!("scenario {}/{} {name}", index + 1, self.names.len()));
        }
    }

    /// `n` more trials of scenario `name` are done. When a scenario starts, the one before it has
    /// ended: the trials it did not need (a run to a target error stops early) leave the total.
    pub fn tick(&self, name: &str, n: u64) {
        let mut current = self.current.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.names.get(current.0).is_some_and(|c| c != name)
            && let Some(index) = self.names.iter().position(|c| c == name)
        {
            let unused = self.per_scenario.saturating_sub(current.1);
            if let Some(len) = self.bar.length() {
                self.bar.set_length(len.saturating_sub(unused));
            }
            *current = (index, 0);
            self.show_prefix(index);
        }
        current.1 = current.1.saturating_add(n);
        self.bar.inc(n);
    }

    /// The trials are done: the bar is cleared.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// The bar's total and position (for tests).
    #[cfg(test)]
    fn figures(&self) -> (Option<u64>, u64) {
        (self.bar.length(), self.bar.position())
    }
}

/// A spinner shown while the reports are written; cleared when dropped.
pub struct Spinner(ProgressBar);

impl Spinner {
    pub fn new(target: ProgressDrawTarget, message: String) -> Spinner {
        let bar = ProgressBar::with_draw_target(None, target).with_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(arstress::terminal::printable(&message).into_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        Spinner(bar)
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// A rate for people: three significant digits, a k or M suffix, never four decimals.
pub fn rate(per_sec: f64) -> String {
    if !per_sec.is_finite() || per_sec <= 0.0 {
        return "— trials/s".into();
    }
    let (value, unit) = match per_sec {
        x if x >= 1e6 => (x / 1e6, "M"),
        x if x >= 1e3 => (x / 1e3, "k"),
        x => (x, ""),
    };
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$}{unit} trials/s")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("s{i}")).collect()
    }

    /// Regression (issue 17, item 19): one bar per scenario, all started at once, gave "ETA 4m" for a
    /// 33 s run. One bar holds the trials of every scenario, in the order they run.
    #[test]
    fn one_bar_counts_the_trials_of_every_scenario() {
        let p = RunProgress::new(ProgressDrawTarget::hidden(), names(3), 1000);
        assert_eq!(p.figures(), (Some(3000), 0));
        p.tick("s0", 600);
        p.tick("s0", 400);
        p.tick("s1", 1000);
        assert_eq!(p.figures(), (Some(3000), 2000));
        assert_eq!(p.bar.prefix(), "scenario 2/3 s1");
    }

    /// A run to a target error stops a scenario early: the trials it did not run leave the total, so
    /// the ETA counts only what is left to do.
    #[test]
    fn a_scenario_stopping_early_shortens_the_bar() {
        let p = RunProgress::new(ProgressDrawTarget::hidden(), names(3), 50_000);
        p.tick("s0", 10_000);
        p.tick("s0", 10_000);
        p.tick("s1", 10_000);
        assert_eq!(p.figures(), (Some(120_000), 30_000));
        p.tick("s2", 10_000);
        assert_eq!(p.figures(), (Some(80_000), 40_000));
    }

    /// Regression (issue 17, item 19): the rate showed four decimals (`1234.5678/s`).
    #[test]
    fn rates_are_rounded_to_three_digits() {
        assert_eq!(rate(1234.5678), "1.23k trials/s");
        assert_eq!(rate(52_345.9), "52.3k trials/s");
        assert_eq!(rate(987.65), "988 trials/s");
        assert_eq!(rate(7.891), "7.89 trials/s");
        assert_eq!(rate(2_500_000.0), "2.50M trials/s");
        assert_eq!(rate(0.0), "— trials/s");
    }
}
