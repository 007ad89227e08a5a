//! The schema of both backends: refinery applies the up scripts of `migrations/<dialect>/`;
//! this module adds what refinery lacks.
//!
//! - **One transaction, one migrator.** Pending migrations and their history rows commit
//!   together or not at all (refinery runs inside our transaction, through savepoints), under
//!   a lock that makes a second migrator wait and then find nothing to do: an exclusive
//!   transaction on SQLite, a transaction-scoped advisory lock on PostgreSQL. A killed
//!   migrator leaves nothing behind (the transaction dies with it).
//! - **Down migrations** from paired `V<N>__<name>.down.sql` scripts, with the history row
//!   removed in the same transaction.
//! - **History and status**, including applied migrations that were modified afterwards
//!   (checksum mismatch) or are unknown to this build; either makes `migrate` refuse.
//! - **Drift check**: the live catalog against a scratch copy migrated to the same version.
//! - **Adoption** of legacy SQLite files (`adopt`), and the refusal of legacy files that are
//!   not adopted: schema V1 never runs over legacy data.

mod adopt;
mod data_loss;
mod facts;
mod history;
mod migrator;
mod model;
pub(crate) mod postgres;
mod scaffold;
mod set;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;

#[cfg(all(feature = "sqlite", feature = "testing"))]
pub mod legacy;
#[cfg(all(feature = "sqlite", feature = "testing"))]
pub(crate) mod legacy_value;

pub use history::{AppliedMigration, AppliedState, DownTarget, HISTORY_TABLE, HistoryRow, MigrationHistory};
pub use migrator::Migrator;
pub use model::{
    ColumnModel, ForeignKeyModel, IndexModel, JSON_COLUMNS, LogicalCheck, LogicalColumn, LogicalSchema, LogicalTable,
    LogicalType, SchemaDiff, SchemaModel, TIMESTAMP_COLUMNS, TableModel, is_timestamp_column,
};
pub use scaffold::{NewMigration, new_migration};
pub use set::{MigrationScript, MigrationSet};

pub use adopt::{AdoptOutcome, AdoptReport, DetectedLayout, RefusedRow};
pub use data_loss::{DataAtRisk, Loss};
pub use facts::TABLES;

/// The message a migrator logs (INFO, once) when another one holds the migration lock and it
/// has to wait: SQLite's exclusive lock, PostgreSQL's advisory lock of the schema.
pub const LOCK_WAIT_MESSAGE: &str = "another connection holds the migration lock; waiting for it";

/// First key of the transaction-scoped advisory lock a PostgreSQL migrator holds while it
/// migrates (the second is `hashtext(current_schema())`); visible in `pg_locks` as `classid`.
pub const MIGRATION_LOCK_CLASS: i32 = postgres::LOCK_CLASS;

use crate::{BackendKind, DatabaseConfig, Error, Result};

/// The newest schema version this build knows (the same in both dialects).
pub fn latest_version() -> i64 {
    MigrationSet::embedded(BackendKind::Postgres).latest_version()
}

/// A migration known to this build.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MigrationInfo {
    /// Version number.
    pub version: i64,
    /// Name (from the file name).
    pub name: String,
}

impl MigrationInfo {
    /// `V<N>__<name>`.
    pub fn label(&self) -> String {
        format!("V{}__{}", self.version, self.name)
    }
}

/// What [`Migrator::down_with`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DownReport {
    /// The migrations rolled back, newest first.
    pub reverted: Vec<MigrationInfo>,
    /// The data that went with them (only with `force`; otherwise the down is refused).
    pub destroyed: Vec<DataAtRisk>,
    /// SQLite: the backup written before data was destroyed (`VACUUM INTO`).
    pub backup: Option<std::path::PathBuf>,
}

/// Where a database stands relative to this build's migrations.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SchemaStatus {
    /// The highest applied version (0 when none).
    pub current_version: i64,
    /// Migrations not yet applied, oldest first.
    pub pending: Vec<MigrationInfo>,
}

impl From<&MigrationHistory> for SchemaStatus {
    fn from(history: &MigrationHistory) -> Self {
        SchemaStatus {
            current_version: history.current_version,
            pending: history.pending.clone(),
        }
    }
}

/// The refusal for a legacy SQLite file that is not under management.
#[cfg(feature = "sqlite")]
pub(crate) fn unadopted_legacy_error() -> Error {
    Error::config(
        "this SQLite file was written by the legacy application and is not under management: \
         run `synthlab-db adopt` on it first (schema V1 never runs over legacy data)",
    )
}

/// Takes an existing legacy SQLite file under management; see [`AdoptReport`] for what it does.
///
/// # Errors
/// Config for a PostgreSQL or in-memory configuration, or a build without SQLite; NotFound for
/// a missing file; InvalidInput for a file that is not a known legacy layout; Check when a row
/// would be refused by schema V1 (the file is left as it was); Unavailable when the file is
/// locked by another writer for too long.
pub async fn adopt(config: &DatabaseConfig) -> Result<AdoptOutcome> {
    match config {
        #[cfg(feature = "sqlite")]
        DatabaseConfig::Sqlite(sqlite) => match &sqlite.location {
            crate::config::SqliteLocation::File(path) => {
                let path = path.clone();
                tokio::task::spawn_blocking(move || sqlite::adopt::adopt_file(&path))
                    .await
                    .map_err(|e| Error::other(format!("the adopt task failed: {e}")))?
            }
            crate::config::SqliteLocation::Memory => Err(Error::config(
                "adopt takes an existing SQLite file; sqlite::memory: holds no legacy data",
            )),
        },
        #[cfg(not(feature = "sqlite"))]
        DatabaseConfig::Sqlite(_) => Err(Error::config(
            "this build has no SQLite backend (compiled without the `sqlite` feature)",
        )),
        DatabaseConfig::Postgres(_) => Err(Error::config(
            "adopt takes a legacy SQLite file (sqlite://…); a PostgreSQL database gets its schema from `synthlab-db migrate`",
        )),
    }
}

/// A refinery failure: the whole run was rolled back, so nothing of it was applied.
fn migration_error(err: refinery::Error) -> Error {
    Error::other(format!("migration failed, nothing was applied: {err}"))
}

fn applied_names(report: &refinery::Report) -> Vec<MigrationInfo> {
    report
        .applied_migrations()
        .iter()
        .map(|m| MigrationInfo {
            version: i64::from(m.version()),
            name: m.name().to_owned(),
        })
        .collect()
}

/// A version as refinery stores it.
fn schema_version(version: i64) -> Result<refinery::SchemaVersion> {
    refinery::SchemaVersion::try_from(version)
        .map_err(|_| Error::invalid_input(format!("version {version} is out of range")))
}

/// refinery's `applied_on` text (RFC 3339).
fn parse_applied_on(text: &str) -> std::result::Result<time::OffsetDateTime, time::error::Parse> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
}

/// The scripts to roll back `versions` (newest first), all with a down script.
///
/// # Errors
/// NotFound naming the first migration without a down script; nothing is rolled back then.
fn down_scripts(set: &MigrationSet, versions: &[i64]) -> Result<Vec<MigrationScript>> {
    versions
        .iter()
        .map(|version| {
            let script = set.get(*version).ok_or_else(|| {
                Error::new(
                    crate::ErrorKind::Conflict,
                    format!("V{version} is applied but unknown to this build; nothing was rolled back"),
                )
            })?;
            if script.down_sql().is_none() {
                let dialect = set.dialect();
                return Err(Error::new(
                    crate::ErrorKind::NotFound,
                    format!(
                        "{} has no down script (migrations/{dialect}/{}.down.sql); nothing was rolled back",
                        script.label(),
                        script.label()
                    ),
                ));
            }
            Ok(script.clone())
        })
        .collect()
}
