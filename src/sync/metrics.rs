//! What the follower publishes through the `metrics` facade (any exporter the service
//! installs — Prometheus, StatsD… — shows them; without a recorder they cost nothing), and the
//! same figures as a plain struct ([`SyncCounters`]). README lists every name.

use std::sync::{Mutex, PoisonError};

/// Counter: change records applied to PostgreSQL.
pub const APPLIED_CHANGES: &str = "synthlab_sync_applied_changes_total";
/// Counter: batches committed.
pub const BATCHES: &str = "synthlab_sync_batches_total";
/// Counter: rows inserted or updated in PostgreSQL.
pub const UPSERTED_ROWS: &str = "synthlab_sync_upserted_rows_total";
/// Counter: rows deleted from PostgreSQL.
pub const DELETED_ROWS: &str = "synthlab_sync_deleted_rows_total";
/// Counter: bad rows (written to the quarantine file).
pub const QUARANTINED_ROWS: &str = "synthlab_sync_quarantined_rows_total";
/// Counter: batches read again as one snapshot up to the newest record (a foreign key needed it).
pub const SNAPSHOT_RETRIES: &str = "synthlab_sync_snapshot_retries_total";
/// Counter: change records pruned from the legacy file.
pub const PRUNED_CHANGES: &str = "synthlab_sync_pruned_changes_total";
/// Gauge: the newest captured sequence number.
pub const CAPTURED_POSITION: &str = "synthlab_sync_captured_position";
/// Gauge: the applied sequence number (the checkpoint).
pub const APPLIED_POSITION: &str = "synthlab_sync_applied_position";
/// Gauge: captured but not yet applied records.
pub const PENDING_CHANGES: &str = "synthlab_sync_pending_changes";
/// Gauge: age of the oldest pending record, seconds (0 when caught up).
pub const LAG_SECONDS: &str = "synthlab_sync_lag_seconds";
/// Gauge: Unix time of the last committed batch.
pub const LAST_APPLY_SECONDS: &str = "synthlab_sync_last_apply_timestamp_seconds";
/// Counter with labels `repository`, `method` and `event` (`dual_writes`,
/// `dual_write_failures`, `dual_write_mismatches`, `shadow_reads`, `shadow_mismatches`,
/// `shadow_errors`, `shadow_timeouts`): the cutover counters (`Store::cutover_counters`).
pub const CUTOVER_EVENTS: &str = crate::cutover::CUTOVER_EVENTS_METRIC;

/// Every metric name, for documentation and tests.
pub const ALL: [&str; 13] = [
    APPLIED_CHANGES,
    BATCHES,
    UPSERTED_ROWS,
    DELETED_ROWS,
    QUARANTINED_ROWS,
    SNAPSHOT_RETRIES,
    PRUNED_CHANGES,
    CAPTURED_POSITION,
    APPLIED_POSITION,
    PENDING_CHANGES,
    LAG_SECONDS,
    LAST_APPLY_SECONDS,
    CUTOVER_EVENTS,
];

/// The follower's figures since it started (positions and lag are current values).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SyncCounters {
    /// Newest captured sequence number seen.
    pub captured: i64,
    /// Applied sequence number.
    pub applied: i64,
    /// Captured, not yet applied.
    pub pending: i64,
    /// Age of the oldest pending record (0 when caught up), seconds.
    pub lag_seconds: f64,
    /// Records applied by this follower.
    pub applied_changes: u64,
    /// Batches committed.
    pub batches: u64,
    /// Rows inserted or updated.
    pub upserted_rows: u64,
    /// Rows deleted.
    pub deleted_rows: u64,
    /// Bad rows quarantined.
    pub quarantined_rows: u64,
    /// Batches read again up to the newest record.
    pub snapshot_retries: u64,
    /// Records pruned from the legacy file.
    pub pruned_changes: u64,
    /// Unix time of the last committed batch (0: none yet).
    pub last_apply_unix: f64,
}

/// Shared, updatable counters (the follower writes, anyone reads).
#[derive(Debug, Default)]
pub(crate) struct Counters(Mutex<SyncCounters>);

impl Counters {
    /// Counters starting at zero, every name registered with the recorder (so a dashboard
    /// shows 0 rather than nothing before the first event).
    pub(crate) fn new() -> Counters {
        for name in [
            APPLIED_CHANGES,
            BATCHES,
            UPSERTED_ROWS,
            DELETED_ROWS,
            QUARANTINED_ROWS,
            SNAPSHOT_RETRIES,
            PRUNED_CHANGES,
        ] {
            metrics::counter!(name).increment(0);
        }
        Counters::default()
    }

    pub(crate) fn snapshot(&self) -> SyncCounters {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn update(&self, f: impl FnOnce(&mut SyncCounters)) {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// Where capture and the checkpoint stand.
    pub(crate) fn positions(&self, captured: i64, applied: i64, lag_seconds: f64) {
        let pending = (captured - applied).max(0);
        self.update(|c| {
            c.captured = captured;
            c.applied = applied;
            c.pending = pending;
            c.lag_seconds = lag_seconds;
        });
        metrics::gauge!(CAPTURED_POSITION).set(captured as f64);
        metrics::gauge!(APPLIED_POSITION).set(applied as f64);
        metrics::gauge!(PENDING_CHANGES).set(pending as f64);
        metrics::gauge!(LAG_SECONDS).set(lag_seconds);
    }

    /// A committed batch.
    pub(crate) fn batch(&self, changes: u64, upserted: u64, deleted: u64, quarantined: u64, now_unix: f64) {
        self.update(|c| {
            c.applied_changes += changes;
            c.batches += 1;
            c.upserted_rows += upserted;
            c.deleted_rows += deleted;
            c.quarantined_rows += quarantined;
            c.last_apply_unix = now_unix;
        });
        metrics::counter!(APPLIED_CHANGES).increment(changes);
        metrics::counter!(BATCHES).increment(1);
        metrics::counter!(UPSERTED_ROWS).increment(upserted);
        metrics::counter!(DELETED_ROWS).increment(deleted);
        metrics::counter!(QUARANTINED_ROWS).increment(quarantined);
        metrics::gauge!(LAST_APPLY_SECONDS).set(now_unix);
    }

    /// A batch read again as one snapshot.
    pub(crate) fn snapshot_retry(&self) {
        self.update(|c| c.snapshot_retries += 1);
        metrics::counter!(SNAPSHOT_RETRIES).increment(1);
    }

    /// Records pruned.
    pub(crate) fn pruned(&self, n: u64) {
        self.update(|c| c.pruned_changes += n);
        metrics::counter!(PRUNED_CHANGES).increment(n);
    }
}
