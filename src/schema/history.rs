//! The migration history of a database (refinery's `refinery_schema_history` table) compared
//! with the migrations of this build: applied, pending, and what does not match.

use serde::Serialize;

use super::MigrationInfo;
use super::set::MigrationSet;
use crate::{Error, ErrorKind, Result};

/// refinery's history table (one row per applied migration).
pub const HISTORY_TABLE: &str = "refinery_schema_history";

/// One row of the history table, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryRow {
    /// Version number.
    pub version: i64,
    /// Name recorded when it was applied.
    pub name: String,
    /// When it was applied (RFC 3339 text, as refinery writes it).
    pub applied_on: String,
    /// refinery's checksum of the script that was applied (decimal text).
    pub checksum: String,
}

/// How an applied migration compares with this build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AppliedState {
    /// The same name and checksum as this build's script.
    Ok,
    /// This build's script of that version has another name or checksum: it was modified
    /// after being applied.
    Divergent {
        /// This build's name of the version.
        expected_name: String,
        /// This build's checksum of the version.
        expected_checksum: String,
    },
    /// This build has no migration of that version (the database is newer than this build,
    /// or the migration was deleted).
    Unknown,
}

/// An applied migration with its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedMigration {
    /// The stored row.
    #[serde(flatten)]
    pub row: HistoryRow,
    /// How it compares with this build.
    #[serde(flatten)]
    pub state: AppliedState,
    /// Whether this build has a down script for it.
    pub has_down: bool,
}

/// The history of a database against this build's migrations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationHistory {
    /// Whether the history table exists at all.
    pub managed: bool,
    /// Applied migrations, oldest first.
    pub applied: Vec<AppliedMigration>,
    /// Migrations of this build not applied, oldest first.
    pub pending: Vec<MigrationInfo>,
    /// The highest applied version (0 when none).
    pub current_version: i64,
    /// The newest version this build knows.
    pub latest_version: i64,
}

impl MigrationHistory {
    /// Compares stored history rows (`None` when the table does not exist) with `set`.
    pub(crate) fn compare(rows: Option<Vec<HistoryRow>>, set: &MigrationSet) -> MigrationHistory {
        let managed = rows.is_some();
        let mut rows = rows.unwrap_or_default();
        rows.sort_by_key(|r| r.version);
        let applied: Vec<AppliedMigration> = rows
            .into_iter()
            .map(|row| {
                let script = set.get(row.version);
                let state = match script {
                    None => AppliedState::Unknown,
                    Some(s) if s.name() == row.name && s.checksum().to_string() == row.checksum => AppliedState::Ok,
                    Some(s) => AppliedState::Divergent {
                        expected_name: s.name().to_owned(),
                        expected_checksum: s.checksum().to_string(),
                    },
                };
                AppliedMigration {
                    has_down: script.is_some_and(|s| s.down_sql().is_some()),
                    row,
                    state,
                }
            })
            .collect();
        let pending = set
            .scripts()
            .iter()
            .filter(|s| !applied.iter().any(|a| a.row.version == s.version()))
            .map(|s| MigrationInfo {
                version: s.version(),
                name: s.name().to_owned(),
            })
            .collect();
        MigrationHistory {
            managed,
            current_version: applied.iter().map(|a| a.row.version).max().unwrap_or(0),
            latest_version: set.latest_version(),
            applied,
            pending,
        }
    }

    /// What keeps `migrate` from trusting this database: modified or unknown applied
    /// migrations, and known migrations skipped below the current version.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for applied in &self.applied {
            let row = &applied.row;
            if super::parse_applied_on(&row.applied_on).is_err() || row.checksum.parse::<u64>().is_err() {
                problems.push(format!(
                    "the history row of V{} is unreadable (applied_on {:?}, checksum {:?})",
                    row.version, row.applied_on, row.checksum
                ));
            }
            match &applied.state {
                AppliedState::Ok => {}
                AppliedState::Divergent {
                    expected_name,
                    expected_checksum,
                } => problems.push(format!(
                    "V{}__{} was modified after it was applied: applied checksum {}, this build's \
                     V{}__{} has checksum {}",
                    row.version, row.name, row.checksum, row.version, expected_name, expected_checksum
                )),
                AppliedState::Unknown => problems.push(format!(
                    "V{}__{} is applied but unknown to this build (newest known: V{})",
                    row.version, row.name, self.latest_version
                )),
            }
        }
        for pending in &self.pending {
            if pending.version < self.current_version {
                problems.push(format!(
                    "V{}__{} is not applied although the newer V{} is",
                    pending.version, pending.name, self.current_version
                ));
            }
        }
        problems
    }

    /// Refuses a history with problems.
    ///
    /// # Errors
    /// Conflict naming every problem.
    pub fn ensure_consistent(&self) -> Result<()> {
        let problems = self.problems();
        if problems.is_empty() {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Conflict,
            format!(
                "the migration history does not match this build, refusing to continue: {}",
                problems.join("; ")
            ),
        ))
    }

    /// Versions to roll back for `target`, newest first.
    ///
    /// # Errors
    /// InvalidInput for a target above the current version or more steps than applied.
    pub(crate) fn versions_to_revert(&self, target: DownTarget) -> Result<Vec<i64>> {
        let mut versions: Vec<i64> = self.applied.iter().map(|a| a.row.version).collect();
        versions.sort_unstable_by(|a, b| b.cmp(a));
        match target {
            DownTarget::To(to) => {
                if to < 0 {
                    return Err(Error::invalid_input(format!("--to {to}: versions are 0 or more")));
                }
                if to > self.current_version {
                    return Err(Error::invalid_input(format!(
                        "--to {to} is above the current version {}: use `migrate up`",
                        self.current_version
                    )));
                }
                Ok(versions.into_iter().filter(|v| *v > to).collect())
            }
            DownTarget::Steps(steps) => {
                if steps > versions.len() {
                    return Err(Error::invalid_input(format!(
                        "--steps {steps}: only {} migration(s) are applied",
                        versions.len()
                    )));
                }
                versions.truncate(steps);
                Ok(versions)
            }
        }
    }
}

/// How far `migrate down` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownTarget {
    /// Roll back every migration above this version (0: all of them).
    To(i64),
    /// Roll back this many of the newest applied migrations.
    Steps(usize),
}

/// Checks an up target against the history.
///
/// # Errors
/// InvalidInput for a target below the current version or unknown to this build.
pub(crate) fn check_up_target(history: &MigrationHistory, set: &MigrationSet, target: Option<i64>) -> Result<()> {
    let Some(to) = target else {
        return Ok(());
    };
    if to < history.current_version {
        return Err(Error::invalid_input(format!(
            "--to {to} is below the current version {}: use `migrate down --to {to}`",
            history.current_version
        )));
    }
    if to != 0 && set.get(to).is_none() {
        return Err(Error::invalid_input(format!(
            "--to {to}: this build has no migration V{to} (newest: V{})",
            set.latest_version()
        )));
    }
    Ok(())
}
