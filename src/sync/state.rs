//! The follower's checkpoint in PostgreSQL: one row of `_synthlab_sync_state` in the target's
//! schema, written in the same transaction as the batch it records.
//!
//! The table is created on demand (not by a migration: it belongs to sync, not to the
//! application's schema, and it has no SQLite twin); `schema check` ignores every
//! `_synthlab_sync_*` table, as it ignores refinery's history table.

use tokio_postgres::Row;

use crate::Result;
use crate::copy::pg::Target;

/// The state table.
pub const STATE_TABLE: &str = "_synthlab_sync_state";

const CREATE: &str = "CREATE TABLE IF NOT EXISTS _synthlab_sync_state (
    id integer PRIMARY KEY CHECK (id = 1),
    source_id text NOT NULL,
    target_id text NOT NULL,
    source_path text NOT NULL,
    applied bigint NOT NULL,
    initialized_at timestamptz NOT NULL DEFAULT now(),
    applied_at timestamptz NOT NULL DEFAULT now(),
    applied_changes bigint NOT NULL DEFAULT 0,
    upserted_rows bigint NOT NULL DEFAULT 0,
    deleted_rows bigint NOT NULL DEFAULT 0,
    quarantined_rows bigint NOT NULL DEFAULT 0
)";

const COLUMNS: &str = "source_id, target_id, source_path, applied, \
    extract(epoch FROM initialized_at)::float8, extract(epoch FROM applied_at)::float8, \
    applied_changes, upserted_rows, deleted_rows, quarantined_rows";

/// The checkpoint row.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SyncState {
    /// The capture id of the legacy file this target follows.
    pub source_id: String,
    /// This target's id (its position in the legacy file's meta table holds back pruning).
    pub target_id: String,
    /// The legacy file's path when the target was initialised.
    pub source_path: String,
    /// Every change up to this sequence number is applied.
    pub applied: i64,
    /// When the initial copy committed (Unix seconds).
    pub initialized_at: f64,
    /// When the last batch committed (Unix seconds).
    pub applied_at: f64,
    /// Change records applied since the initial copy.
    pub applied_changes: i64,
    /// Rows inserted or updated.
    pub upserted_rows: i64,
    /// Rows deleted.
    pub deleted_rows: i64,
    /// Bad rows quarantined (initial copy included).
    pub quarantined_rows: i64,
}

fn from_row(row: &Row) -> Result<SyncState> {
    Ok(SyncState {
        source_id: row.try_get(0)?,
        target_id: row.try_get(1)?,
        source_path: row.try_get(2)?,
        applied: row.try_get(3)?,
        initialized_at: row.try_get(4)?,
        applied_at: row.try_get(5)?,
        applied_changes: row.try_get(6)?,
        upserted_rows: row.try_get(7)?,
        deleted_rows: row.try_get(8)?,
        quarantined_rows: row.try_get(9)?,
    })
}

/// Creates the state table if missing (inside the caller's transaction).
pub(crate) async fn ensure_table(target: &Target) -> Result<()> {
    target.exec(CREATE).await
}

/// The checkpoint, if the target has one (no lock).
pub(crate) async fn read(target: &Target) -> Result<Option<SyncState>> {
    let exists: bool = target
        .client
        .query_one("SELECT to_regclass('_synthlab_sync_state') IS NOT NULL", &[])
        .await?
        .try_get(0)?;
    if !exists {
        return Ok(None);
    }
    let row = target
        .client
        .query_opt(&format!("SELECT {COLUMNS} FROM _synthlab_sync_state WHERE id = 1"), &[])
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The checkpoint, locked until the transaction ends (`FOR UPDATE`): a second follower
/// waits here and then sees the position the first one committed.
pub(crate) async fn lock(target: &Target) -> Result<Option<SyncState>> {
    let row = target
        .client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM _synthlab_sync_state WHERE id = 1 FOR UPDATE"),
            &[],
        )
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Writes the first checkpoint (the initial copy's position); returns the new target id.
pub(crate) async fn create(
    target: &Target,
    source_id: &str,
    target_id: &str,
    source_path: &str,
    applied: i64,
    quarantined: u64,
) -> Result<()> {
    target
        .client
        .execute(
            "INSERT INTO _synthlab_sync_state (id, source_id, target_id, source_path, applied, quarantined_rows) \
             VALUES (1, $1, $2, $3, $4, $5)",
            &[&source_id, &target_id, &source_path, &applied, &(quarantined as i64)],
        )
        .await?;
    Ok(())
}

/// What a batch adds to the checkpoint.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Advance {
    pub(crate) applied: i64,
    pub(crate) changes: u64,
    pub(crate) upserted: u64,
    pub(crate) deleted: u64,
    pub(crate) quarantined: u64,
}

/// Moves the checkpoint and commits the batch's transaction, in one round trip (the numbers
/// are this follower's own counts, so they are spelled into the statement).
pub(crate) async fn advance_and_commit(target: &Target, advance: Advance) -> Result<()> {
    target
        .exec(&format!(
            "UPDATE _synthlab_sync_state SET applied = {}, applied_at = now(), \
             applied_changes = applied_changes + {}, upserted_rows = upserted_rows + {}, \
             deleted_rows = deleted_rows + {}, quarantined_rows = quarantined_rows + {} WHERE id = 1; COMMIT",
            advance.applied, advance.changes, advance.upserted, advance.deleted, advance.quarantined
        ))
        .await
}

/// Removes the checkpoint (`--force` re-initialisation).
pub(crate) async fn remove(target: &Target) -> Result<()> {
    target.exec("DELETE FROM _synthlab_sync_state WHERE id = 1").await
}
