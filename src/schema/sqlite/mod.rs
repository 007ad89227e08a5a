//! SQLite: migrations up and down in one exclusive transaction, history, drift check.
//!
//! refinery's own rusqlite driver runs each batch in its own transaction and reads the
//! history in another, so two migrators could both find V1 pending. Here refinery runs on
//! [`InTransaction`], a connection already inside `BEGIN EXCLUSIVE`: its batches become
//! savepoints, and the history read, the scripts and the history rows commit together. The
//! second migrator waits for the lock, then reads the committed history and finds nothing to
//! do. Foreign keys are switched off while migrating (so that table rebuilds never cascade),
//! and `PRAGMA foreign_key_check` must not find more violations afterwards than before.

pub(crate) mod adopt;
pub(crate) mod introspect;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use refinery::Migration;
use refinery_core::traits::sync::{Query, Transaction};
use rusqlite::{Connection, ErrorCode};

use super::data_loss::{self, DataAtRisk, TableData, TableShape};
use super::history::{DownTarget, HISTORY_TABLE, HistoryRow, MigrationHistory, check_up_target};
use super::model::{SchemaDiff, SchemaModel};
use super::set::MigrationSet;
use super::{DownReport, MigrationInfo, unadopted_legacy_error};
use crate::{BackendKind, Error, ErrorKind, Result};

/// How long a migrator waits for another one to finish.
const LOCK_WAIT: Duration = Duration::from_secs(120);

/// Refuses legacy files that are not under management, then applies every pending migration
/// if asked (the path of `Store::connect`).
pub(crate) fn prepare(conn: &mut Connection, migrate: bool) -> Result<Vec<MigrationInfo>> {
    refuse_unadopted_legacy(conn)?;
    if migrate {
        return up(conn, &MigrationSet::embedded(BackendKind::Sqlite), None);
    }
    Ok(Vec::new())
}

fn table_exists(conn: &Connection, schema: &str, table: &str) -> Result<bool> {
    let sql = format!("SELECT EXISTS (SELECT 1 FROM \"{schema}\".sqlite_master WHERE type = 'table' AND name = ?1)");
    Ok(conn.query_row(&sql, [table], |row| row.get(0))?)
}

/// A file with the application's tables but no history was written by the legacy application.
pub(crate) fn refuse_unadopted_legacy(conn: &Connection) -> Result<()> {
    if table_exists(conn, "main", "experiments")? && !table_exists(conn, "main", HISTORY_TABLE)? {
        return Err(unadopted_legacy_error());
    }
    Ok(())
}

/// Switches foreign keys off for the life of the guard (outside any transaction, where
/// SQLite allows it) and back on afterwards.
pub(crate) struct ForeignKeysOff<'c> {
    conn: &'c Connection,
}

impl<'c> ForeignKeysOff<'c> {
    pub(crate) fn new(conn: &'c Connection) -> Result<Self> {
        conn.pragma_update(None, "foreign_keys", "OFF")?;
        Ok(ForeignKeysOff { conn })
    }
}

impl Drop for ForeignKeysOff<'_> {
    fn drop(&mut self) {
        if let Err(err) = self.conn.pragma_update(None, "foreign_keys", "ON") {
            tracing::warn!(error = %err, "could not switch SQLite foreign keys back on");
        }
    }
}

/// A transaction rolled back when dropped unless committed.
pub(crate) struct Tx<'c> {
    conn: &'c Connection,
    open: bool,
}

impl<'c> Tx<'c> {
    /// `BEGIN <mode>`, retrying while another writer holds the lock (up to [`LOCK_WAIT`]).
    pub(crate) fn begin(conn: &'c Connection, mode: &str) -> Result<Self> {
        let started = Instant::now();
        loop {
            match conn.execute_batch(&format!("BEGIN {mode}")) {
                Ok(()) => return Ok(Tx { conn, open: true }),
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == ErrorCode::DatabaseBusy && started.elapsed() < LOCK_WAIT =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(err) => {
                    return Err(Error::from(err).context("cannot lock the SQLite database for migration"));
                }
            }
        }
    }

    pub(crate) fn commit(mut self) -> Result<()> {
        self.open = false;
        if let Err(err) = self.conn.execute_batch("COMMIT") {
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(err.into());
        }
        Ok(())
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// A connection inside our transaction, handed to refinery: its batches run as savepoints.
pub(crate) struct InTransaction<'c>(pub(crate) &'c Connection);

impl Transaction for InTransaction<'_> {
    type Error = rusqlite::Error;

    fn execute<'a, T: Iterator<Item = &'a str>>(&mut self, queries: T) -> Result<usize, Self::Error> {
        self.0.execute_batch("SAVEPOINT refinery_batch")?;
        let mut count = 0;
        for query in queries {
            if let Err(err) = self.0.execute_batch(query) {
                let _ = self
                    .0
                    .execute_batch("ROLLBACK TO refinery_batch; RELEASE refinery_batch");
                return Err(err);
            }
            count += 1;
        }
        self.0.execute_batch("RELEASE refinery_batch")?;
        Ok(count)
    }
}

impl Query<Vec<Migration>> for InTransaction<'_> {
    fn query(&mut self, query: &str) -> Result<Vec<Migration>, Self::Error> {
        let mut stmt = self.0.prepare(query)?;
        let mut rows = stmt.query([])?;
        let mut applied = Vec::new();
        while let Some(row) = rows.next()? {
            let applied_on: String = row.get(2)?;
            let applied_on = super::parse_applied_on(&applied_on)
                .map_err(|e| rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, e.into()))?;
            let checksum: String = row.get(3)?;
            let checksum = checksum
                .parse::<u64>()
                .map_err(|e| rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, e.into()))?;
            applied.push(Migration::applied(row.get(0)?, row.get(1)?, applied_on, checksum));
        }
        Ok(applied)
    }
}

impl refinery::Migrate for InTransaction<'_> {}

/// The stored history rows, or `None` when the history table does not exist.
fn history_rows(conn: &Connection) -> Result<Option<Vec<HistoryRow>>> {
    if !table_exists(conn, "main", HISTORY_TABLE)? {
        return Ok(None);
    }
    let mut stmt = conn.prepare(&format!(
        "SELECT version, name, applied_on, checksum FROM {HISTORY_TABLE} ORDER BY version"
    ))?;
    let rows = stmt.query_map([], |row| {
        Ok(HistoryRow {
            version: row.get(0)?,
            name: row.get(1)?,
            applied_on: row.get(2)?,
            checksum: row.get(3)?,
        })
    })?;
    Ok(Some(rows.collect::<std::result::Result<_, _>>()?))
}

/// The history compared with `set`.
pub(crate) fn history(conn: &Connection, set: &MigrationSet) -> Result<MigrationHistory> {
    Ok(MigrationHistory::compare(history_rows(conn)?, set))
}

fn foreign_key_violations(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |row| row.get(0))?)
}

fn ensure_no_new_violations(conn: &Connection, before: i64) -> Result<()> {
    let after = foreign_key_violations(conn)?;
    if after > before {
        return Err(Error::new(
            ErrorKind::ForeignKey,
            format!(
                "the migration leaves {} row(s) whose parent does not exist (PRAGMA foreign_key_check); rolled back",
                after - before
            ),
        ));
    }
    Ok(())
}

/// Applies pending migrations of `set` up to `target` (all when `None`) in one exclusive
/// transaction; returns those applied.
pub(crate) fn up(conn: &mut Connection, set: &MigrationSet, target: Option<i64>) -> Result<Vec<MigrationInfo>> {
    let conn: &Connection = conn;
    let _fk = ForeignKeysOff::new(conn)?;
    let tx = Tx::begin(conn, "EXCLUSIVE")?;
    refuse_unadopted_legacy(conn)?;
    let history = history(conn, set)?;
    history.ensure_consistent()?;
    check_up_target(&history, set, target)?;
    let violations = foreign_key_violations(conn)?;
    let runner = set.runner().set_grouped(true).set_target(match target {
        Some(version) => refinery::Target::Version(super::schema_version(version)?),
        None => refinery::Target::Latest,
    });
    let report = runner.run(&mut InTransaction(conn)).map_err(super::migration_error)?;
    ensure_no_new_violations(conn, violations)?;
    tx.commit()?;
    Ok(super::applied_names(&report))
}

/// Rolls back migrations through their down scripts in one exclusive transaction, removing
/// their history rows with them; returns those rolled back, newest first.
///
/// The scripts run first inside the transaction; when they would destroy data (see
/// [`super::data_loss`]) the transaction is rolled back and the down refused, unless `force`:
/// then a `VACUUM INTO` backup of the file is written first (outside any transaction, as SQLite
/// requires) and the down runs again, provided no other connection wrote in between
/// (`PRAGMA data_version`).
pub(crate) fn down(conn: &mut Connection, set: &MigrationSet, target: DownTarget, force: bool) -> Result<DownReport> {
    let conn: &Connection = conn;
    let _fk = ForeignKeysOff::new(conn)?;
    let in_memory = conn.path().is_none_or(str::is_empty);
    let mut backup: Option<(PathBuf, i64)> = None;
    for _ in 0..3 {
        let tx = Tx::begin(conn, "EXCLUSIVE")?;
        if let Some((path, version)) = &backup
            && data_version(conn)? != *version
        {
            // Another connection wrote after the backup: it is stale, take another one.
            drop(tx);
            let _ = std::fs::remove_file(path);
            backup = None;
            continue;
        }
        let (reverted, destroyed) = run_down(conn, set, target)?;
        if destroyed.is_empty() || (force && (backup.is_some() || in_memory)) {
            tx.commit()?;
            return Ok(DownReport {
                reverted,
                destroyed,
                backup: backup.map(|(path, _)| path),
            });
        }
        drop(tx);
        if !force {
            return Err(data_loss::refusal(
                &destroyed,
                "run again with --force to roll back anyway: a backup of the file is written first \
                 (VACUUM INTO) and its path printed",
            ));
        }
        let version = data_version(conn)?;
        backup = Some((vacuum_into(conn)?, version));
    }
    Err(Error::new(
        ErrorKind::Unavailable,
        "other connections kept writing while the backup was written; nothing was rolled back: try again",
    ))
}

/// The down scripts and history deletions of `target`, inside the caller's transaction;
/// returns what was rolled back and the data that went with it.
fn run_down(
    conn: &Connection,
    set: &MigrationSet,
    target: DownTarget,
) -> Result<(Vec<MigrationInfo>, Vec<DataAtRisk>)> {
    refuse_unadopted_legacy(conn)?;
    let history = history(conn, set)?;
    history.ensure_consistent()?;
    let versions = history.versions_to_revert(target)?;
    let scripts = super::down_scripts(set, &versions)?;
    let seeds = seed_keys(set, history.current_version)?;
    let before = table_data(conn, &seeds)?;
    let violations = foreign_key_violations(conn)?;
    for script in &scripts {
        conn.execute_batch(script.down_sql().unwrap_or_default()).map_err(|e| {
            Error::from(e).context(format!(
                "down script of {} failed; nothing was rolled back",
                script.label()
            ))
        })?;
        conn.execute(
            &format!("DELETE FROM {HISTORY_TABLE} WHERE version = ?1"),
            [script.version()],
        )?;
    }
    ensure_no_new_violations(conn, violations)?;
    let after = table_shapes(conn)?;
    let reverted = scripts
        .iter()
        .map(|s| MigrationInfo {
            version: s.version(),
            name: s.name().to_owned(),
        })
        .collect();
    Ok((reverted, data_loss::losses(&before, &after)))
}

/// SQLite's count of commits by other connections (changes when one commits).
fn data_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA data_version", [], |row| row.get(0))?)
}

/// Writes a consistent copy of the database beside it (`<file>.before-down-<UTC time>.db`).
fn vacuum_into(conn: &Connection) -> Result<PathBuf> {
    let file = conn.path().unwrap_or_default();
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let mut path = PathBuf::from(format!("{file}.before-down-{stamp}.db"));
    for n in 2.. {
        if !path.exists() {
            break;
        }
        path = PathBuf::from(format!("{file}.before-down-{stamp}-{n}.db"));
    }
    let target = path.to_string_lossy().into_owned();
    conn.execute("VACUUM INTO ?1", [&target])
        .map_err(|e| Error::from(e).context(format!("cannot write the backup {target}; nothing was rolled back")))?;
    Ok(path)
}

/// The tables of the live schema (not SQLite's own, not the history) with their columns.
fn tables(conn: &Connection) -> Result<Vec<(String, Vec<String>)>> {
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         AND name <> ?1 ORDER BY name",
    )?;
    let names = stmt
        .query_map([HISTORY_TABLE], |row| row.get::<_, String>(0))?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let mut out = Vec::new();
    for name in names {
        let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")?;
        let columns = stmt
            .query_map([&name], |row| row.get::<_, String>(0))?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        out.push((name, columns));
    }
    Ok(out)
}

/// A row as one text (its values quoted, columns in name order, so that column order does not
/// matter).
fn row_key(columns: &[String]) -> String {
    let mut sorted: Vec<&String> = columns.iter().collect();
    sorted.sort();
    let quoted: Vec<String> = sorted
        .iter()
        .map(|c| format!("quote({})", data_loss::quote_ident(c)))
        .collect();
    if quoted.is_empty() {
        "''".to_owned()
    } else {
        quoted.join(" || ',' || ")
    }
}

/// The rows the migrations of `set` up to `version` insert themselves, per table, as row keys
/// (read from a private in-memory database migrated to that version).
fn seed_keys(set: &MigrationSet, version: i64) -> Result<HashMap<String, Vec<String>>> {
    let mut scratch = Connection::open_in_memory()?;
    if version > 0 {
        up(&mut scratch, &set.up_to(version), None)?;
    }
    let mut out = HashMap::new();
    for (table, columns) in tables(&scratch)? {
        let sql = format!("SELECT {} FROM {}", row_key(&columns), data_loss::quote_ident(&table));
        let keys = scratch
            .prepare(&sql)?
            .query_map([], |row| row.get::<_, String>(0))?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        if !keys.is_empty() {
            out.insert(table, keys);
        }
    }
    Ok(out)
}

/// Every table with its rows, data rows (not seed rows) and non-NULL values per column.
fn table_data(conn: &Connection, seeds: &HashMap<String, Vec<String>>) -> Result<Vec<TableData>> {
    let mut out = Vec::new();
    for (name, columns) in tables(conn)? {
        let keys = seeds.get(&name).map(Vec::as_slice).unwrap_or_default();
        let seed = if keys.is_empty() {
            "0".to_owned()
        } else {
            let placeholders: Vec<String> = (1..=keys.len()).map(|i| format!("?{i}")).collect();
            format!("({}) IN ({})", row_key(&columns), placeholders.join(", "))
        };
        let sql = data_loss::count_sql(&data_loss::quote_ident(&name), &columns, &seed);
        let table = conn.query_row(&sql, rusqlite::params_from_iter(keys), |row| {
            TableData::from_counts(name, columns, |i| row.get::<_, i64>(i))
        })?;
        out.push(table);
    }
    Ok(out)
}

/// Every table with its rows and columns.
fn table_shapes(conn: &Connection) -> Result<Vec<TableShape>> {
    tables(conn)?
        .into_iter()
        .map(|(name, columns)| {
            let rows: i64 = conn.query_row(
                &format!("SELECT count(*) FROM {}", data_loss::quote_ident(&name)),
                [],
                |row| row.get(0),
            )?;
            Ok(TableShape {
                name,
                rows: rows.max(0) as u64,
                columns,
            })
        })
        .collect()
}

/// The schema the migrations of `set` define at `version`: migrated into a private in-memory
/// database and read back.
pub(crate) fn expected(set: &MigrationSet, version: i64) -> Result<SchemaModel> {
    let mut scratch = Connection::open_in_memory()?;
    if version > 0 {
        up(&mut scratch, &set.up_to(version), None)?;
    }
    introspect::introspect(&scratch, "main")
}

/// Compares the live schema with the one the migrations define at the live version.
pub(crate) fn check(conn: &Connection, set: &MigrationSet) -> Result<(i64, SchemaDiff)> {
    refuse_unadopted_legacy(conn)?;
    let history = history(conn, set)?;
    history.ensure_consistent()?;
    let live = introspect::introspect(conn, "main")?;
    let expected = expected(set, history.current_version)?;
    Ok((history.current_version, expected.diff(&live)))
}
