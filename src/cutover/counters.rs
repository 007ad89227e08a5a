//! Counters of dual writes and shadow reads, per repository and method.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use serde::Serialize;

/// What dual writes and shadow reads of one repository method did since the store connected.
///
/// A service exports these on its metrics endpoint ([`crate::Store::cutover_counters`]).
/// Before moving a repository to the next cutover stage, every problem counter
/// ([`CounterRow::problems`]) must stay at zero; see `docs/cutover.md`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CounterRow {
    /// Repository accessor name (`experiments`), or `(unit of work)` for commits.
    pub repository: String,
    /// Trait method (`create`), or `commit` for units of work.
    pub method: String,
    /// Writes run on both stores (the primary succeeded, so the secondary was written too).
    pub dual_writes: u64,
    /// Secondary writes that failed after the primary succeeded, or that the caller
    /// abandoned (dropped the call) before the secondary finished.
    pub dual_write_failures: u64,
    /// Secondary writes that succeeded but returned another value than the primary.
    pub dual_write_mismatches: u64,
    /// Reads run on both stores (shadow mode).
    pub shadow_reads: u64,
    /// Shadow reads whose two answers differed (values, or error kinds).
    pub shadow_mismatches: u64,
    /// Shadow reads where the primary answered and the secondary failed.
    pub shadow_errors: u64,
    /// Shadow reads where the secondary did not answer within the budget (not compared).
    pub shadow_timeouts: u64,
}

impl CounterRow {
    /// Failures and mismatches: the counters that must be zero before going on. Timeouts are
    /// not included (nothing was compared); watch them separately.
    pub fn problems(&self) -> u64 {
        self.dual_write_failures + self.dual_write_mismatches + self.shadow_mismatches + self.shadow_errors
    }
}

/// The `metrics` facade counter every cutover event is also published to, labelled
/// `repository`, `method` and `event` (the snake_case name of the [`CounterRow`] field).
pub const CUTOVER_EVENTS_METRIC: &str = "synthlab_cutover_events_total";

/// What a routed call adds to its counter row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    DualWrite,
    DualWriteFailure,
    DualWriteMismatch,
    ShadowRead,
    ShadowMismatch,
    ShadowError,
    ShadowTimeout,
}

/// The counters of one store (shared by its clones and units of work).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    rows: Mutex<BTreeMap<(&'static str, &'static str), CounterRow>>,
}

impl Counters {
    /// Adds one event to the row of (`repository`, `method`).
    pub(crate) fn record(&self, repository: &'static str, method: &'static str, event: Event) {
        let mut rows = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        let row = rows.entry((repository, method)).or_insert_with(|| CounterRow {
            repository: repository.to_owned(),
            method: method.to_owned(),
            ..CounterRow::default()
        });
        let (field, name) = match event {
            Event::DualWrite => (&mut row.dual_writes, "dual_writes"),
            Event::DualWriteFailure => (&mut row.dual_write_failures, "dual_write_failures"),
            Event::DualWriteMismatch => (&mut row.dual_write_mismatches, "dual_write_mismatches"),
            Event::ShadowRead => (&mut row.shadow_reads, "shadow_reads"),
            Event::ShadowMismatch => (&mut row.shadow_mismatches, "shadow_mismatches"),
            Event::ShadowError => (&mut row.shadow_errors, "shadow_errors"),
            Event::ShadowTimeout => (&mut row.shadow_timeouts, "shadow_timeouts"),
        };
        *field += 1;
        metrics::counter!(CUTOVER_EVENTS_METRIC, "repository" => repository, "method" => method, "event" => name)
            .increment(1);
    }

    /// Every row with at least one event, by repository then method.
    pub(crate) fn snapshot(&self) -> Vec<CounterRow> {
        self.rows
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }
}

/// Formats counter rows as a fixed-width text table (what the example service prints).
pub fn format_counters(rows: &[CounterRow]) -> String {
    let mut out = format!(
        "{:<22} {:<26} {:>7} {:>6} {:>6} {:>7} {:>6} {:>6} {:>6}\n",
        "repository", "method", "dual_wr", "w_fail", "w_diff", "shadow", "r_diff", "r_err", "r_late"
    );
    for row in rows {
        out.push_str(&format!(
            "{:<22} {:<26} {:>7} {:>6} {:>6} {:>7} {:>6} {:>6} {:>6}\n",
            row.repository,
            row.method,
            row.dual_writes,
            row.dual_write_failures,
            row.dual_write_mismatches,
            row.shadow_reads,
            row.shadow_mismatches,
            row.shadow_errors,
            row.shadow_timeouts
        ));
    }
    let problems: u64 = rows.iter().map(CounterRow::problems).sum();
    let late: u64 = rows.iter().map(|r| r.shadow_timeouts).sum();
    out.push_str(&format!(
        "problems (failures + mismatches + errors): {problems}; shadow timeouts: {late}\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_land_in_their_row_and_problems_exclude_timeouts() {
        let counters = Counters::default();
        counters.record("experiments", "get", Event::ShadowRead);
        counters.record("experiments", "get", Event::ShadowMismatch);
        counters.record("experiments", "get", Event::ShadowTimeout);
        counters.record("synths", "create", Event::DualWrite);
        let rows = counters.snapshot();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].repository.as_str(), rows[0].method.as_str()),
            ("experiments", "get")
        );
        assert_eq!(rows[0].shadow_reads, 1);
        assert_eq!(rows[0].problems(), 1);
        assert_eq!(rows[1].dual_writes, 1);
        assert_eq!(rows[1].problems(), 0);
        assert!(format_counters(&rows).contains("problems (failures + mismatches + errors): 1"));
    }
}
