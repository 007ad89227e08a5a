//! The rusqlite half of live sync (`crate::sync`): change capture inside the legacy file and
//! the short reads the follower makes of it.
//!
//! Capture is a change table, a meta table and triggers, all named `_synthlab_sync_…`:
//!
//! - `AFTER INSERT / UPDATE / DELETE` on every application table record `(table, key, op)`
//!   with a sequence number; an UPDATE that changes the key records the old key too.
//! - `BEFORE INSERT / UPDATE` on tables with a secondary UNIQUE constraint record the keys of
//!   the rows the new values collide with: SQLite's REPLACE conflict resolution deletes those
//!   rows without firing delete triggers (unless `recursive_triggers` is on).
//!
//! A record only means "this key may have changed": the follower reads the row's current image
//! (or its absence), so extra records are harmless. The triggers write inside the legacy
//! application's own transaction: a rollback leaves no record, and as SQLite serialises writers
//! the sequence order is the commit order. The change table has no AUTOINCREMENT (that would
//! create `sqlite_sequence`, which cannot be dropped again): pruning always keeps the newest
//! record, so a sequence number is never reused.
//!
//! Every read here is short: one statement, or one `BEGIN … COMMIT` around a batch, so the
//! legacy writer never waits long for a lock held by us (rollback-journal files included).

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags, params_from_iter};

use super::copy_source::{SqliteSource, raw, source_row};
use crate::copy::source::{ScanPlan, SourceRow};
use crate::sync::capture::{
    CAPTURE_VERSION, CHANGES_TABLE, CaptureInfo, Change, KeyPart, META_TABLE, OBJECT_PREFIX, RowKey,
};
use crate::{Error, ErrorKind, Result};

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn key_part(value: ValueRef<'_>) -> KeyPart {
    KeyPart::from_raw(raw(value))
}

fn bind_part(part: &KeyPart) -> Value {
    match part {
        KeyPart::Null => Value::Null,
        KeyPart::Int(i) => Value::Integer(*i),
        KeyPart::Real(bits) => Value::Real(f64::from_bits(*bits)),
        // Stored text may not be UTF-8: bind the exact bytes as TEXT.
        KeyPart::Text(bytes) => match String::from_utf8(bytes.clone()) {
            Ok(text) => Value::Text(text),
            Err(_) => Value::Blob(bytes.clone()),
        },
        KeyPart::Blob(bytes) => Value::Blob(bytes.clone()),
    }
}

/// `BEGIN <mode>`, retried while another connection holds the lock, up to `wait`.
fn begin(conn: &Connection, mode: &str, wait: Duration) -> Result<()> {
    let started = Instant::now();
    loop {
        match conn.execute_batch(&format!("BEGIN {mode}")) {
            Ok(()) => return Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(e.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
                    && started.elapsed() < wait =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(err) => {
                return Err(Error::new(
                    ErrorKind::Unavailable,
                    format!("the legacy file stayed locked by another writer for {wait:?}: {err}"),
                ));
            }
        }
    }
}

/// Runs `f` inside `BEGIN <mode> … COMMIT` (ROLLBACK when it fails).
fn in_transaction<T>(conn: &Connection, mode: &str, wait: Duration, f: impl FnOnce() -> Result<T>) -> Result<T> {
    begin(conn, mode, wait)?;
    match f() {
        Ok(value) => match conn.execute_batch("COMMIT") {
            Ok(()) => Ok(value),
            Err(err) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(err.into())
            }
        },
        Err(err) => {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            Err(err)
        }
    }
}

/// The capture's writing side: install, uninstall, follower positions, pruning.
pub(crate) struct CaptureFile {
    conn: Connection,
}

/// One application table as the capture sees it in the file.
pub(crate) struct CapturedTable<'a> {
    /// Table name.
    pub(crate) name: &'a str,
    /// Primary key columns.
    pub(crate) key: &'a [&'a str],
}

impl CaptureFile {
    /// Opens the legacy file read-write (its journal mode is left as it is).
    ///
    /// # Errors
    /// NotFound when the file does not exist.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        if !path.is_file() {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("source file {} does not exist", path.display()),
            ));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| Error::from(e).context(format!("cannot open {}", path.display())))?;
        Ok(CaptureFile { conn })
    }

    /// What is installed (None when capture is absent).
    pub(crate) fn info(&self) -> Result<Option<CaptureInfo>> {
        info(&self.conn)
    }

    /// Secondary UNIQUE column sets of `table` (constraints and unique indexes, not partial).
    fn unique_sets(&self, table: &str, key: &[&str]) -> Result<Vec<Vec<String>>> {
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM pragma_index_list(?1) WHERE \"unique\" AND NOT partial AND origin <> 'pk'")?;
        let names: Vec<String> = stmt
            .query_map([table], |row| row.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        let mut sets = Vec::new();
        for name in names {
            let mut stmt = self
                .conn
                .prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")?;
            let columns: Vec<Option<String>> = stmt
                .query_map([&name], |row| row.get(0))?
                .collect::<std::result::Result<_, _>>()?;
            let columns: Option<Vec<String>> = columns.into_iter().collect();
            // An expression index, or the primary key spelled as an index: not a secondary set.
            if let Some(columns) = columns
                && columns.iter().map(String::as_str).ne(key.iter().copied())
            {
                sets.push(columns);
            }
        }
        Ok(sets)
    }

    /// The trigger statements for one table.
    fn trigger_sql(&self, table: &CapturedTable<'_>) -> Result<Vec<String>> {
        let t = table.name;
        let name = |suffix: &str| quote(&format!("{OBJECT_PREFIX}{t}_{suffix}"));
        let keys = |row: &str| -> String {
            let mut parts: Vec<String> = table.key.iter().map(|k| format!("{row}.{}", quote(k))).collect();
            parts.resize(2, "NULL".to_owned());
            parts.join(", ")
        };
        let record = |op: &str, row: &str| {
            format!(
                "INSERT INTO {CHANGES_TABLE} (tbl, op, k1, k2, captured_at) VALUES ({}, '{op}', {}, julianday('now'));",
                literal(t),
                keys(row)
            )
        };
        let key_changed: Vec<String> = table
            .key
            .iter()
            .map(|k| format!("OLD.{0} IS NOT NEW.{0}", quote(k)))
            .collect();
        let mut out = vec![
            format!(
                "CREATE TRIGGER {} AFTER INSERT ON {} BEGIN {} END",
                name("ins"),
                quote(t),
                record("I", "NEW")
            ),
            format!(
                "CREATE TRIGGER {} AFTER UPDATE ON {} BEGIN \
                 INSERT INTO {CHANGES_TABLE} (tbl, op, k1, k2, captured_at) \
                 SELECT {}, 'K', {}, julianday('now') WHERE {}; {} END",
                name("upd"),
                quote(t),
                literal(t),
                keys("OLD"),
                key_changed.join(" OR "),
                record("U", "NEW")
            ),
            format!(
                "CREATE TRIGGER {} AFTER DELETE ON {} BEGIN {} END",
                name("del"),
                quote(t),
                record("D", "OLD")
            ),
        ];
        let sets = self.unique_sets(t, table.key)?;
        if !sets.is_empty() {
            let collide: Vec<String> = sets
                .iter()
                .map(|set| {
                    let parts: Vec<String> = set.iter().map(|c| format!("c.{0} = NEW.{0}", quote(c))).collect();
                    format!("({})", parts.join(" AND "))
                })
                .collect();
            let mut own_key: Vec<String> = table.key.iter().map(|k| format!("c.{}", quote(k))).collect();
            own_key.resize(2, "NULL".to_owned());
            let select = |op: &str, extra: &str| {
                format!(
                    "INSERT INTO {CHANGES_TABLE} (tbl, op, k1, k2, captured_at) \
                     SELECT {}, '{op}', {}, julianday('now') FROM {} c WHERE ({}){extra};",
                    literal(t),
                    own_key.join(", "),
                    quote(t),
                    collide.join(" OR ")
                )
            };
            out.push(format!(
                "CREATE TRIGGER {} BEFORE INSERT ON {} BEGIN {} END",
                name("rins"),
                quote(t),
                select("R", "")
            ));
            out.push(format!(
                "CREATE TRIGGER {} BEFORE UPDATE ON {} BEGIN {} END",
                name("rupd"),
                quote(t),
                select("R", " AND c.rowid <> OLD.rowid")
            ));
        }
        Ok(out)
    }

    /// Installs what is missing of capture on `tables` (the ones the file has) in one short
    /// `BEGIN IMMEDIATE`, retried while the legacy application holds the lock (up to
    /// `lock_wait`). Returns the capture's state afterwards and whether anything was created.
    ///
    /// # Errors
    /// Unavailable when the file stays locked longer than `lock_wait`.
    pub(crate) fn install(&self, tables: &[CapturedTable<'_>], lock_wait: Duration) -> Result<(CaptureInfo, bool)> {
        let mut statements = Vec::new();
        for table in tables {
            statements.extend(self.trigger_sql(table)?);
        }
        let created = in_transaction(&self.conn, "IMMEDIATE", lock_wait, || {
            let existing: Vec<String> = self
                .conn
                .prepare("SELECT name FROM sqlite_master WHERE name LIKE '\\_synthlab\\_sync\\_%' ESCAPE '\\'")?
                .query_map([], |row| row.get(0))?
                .collect::<std::result::Result<_, _>>()?;
            let mut created = false;
            if !existing.iter().any(|n| n == CHANGES_TABLE) {
                self.conn.execute_batch(&format!(
                    "CREATE TABLE {CHANGES_TABLE} (seq INTEGER PRIMARY KEY, tbl TEXT NOT NULL, op TEXT NOT NULL, \
                     k1, k2, captured_at REAL NOT NULL);
                     CREATE TABLE {META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                     INSERT INTO {META_TABLE} (key, value) VALUES
                       ('source_id', lower(hex(randomblob(16)))),
                       ('capture_version', '{CAPTURE_VERSION}'),
                       ('installed_at', strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'));"
                ))?;
                created = true;
            }
            for sql in &statements {
                let name = sql
                    .split_whitespace()
                    .nth(2)
                    .map(|n| n.trim_matches('"').to_owned())
                    .unwrap_or_default();
                if !existing.contains(&name) {
                    self.conn.execute_batch(sql)?;
                    created = true;
                }
            }
            Ok(created)
        })?;
        let info = self
            .info()?
            .ok_or_else(|| Error::other("capture was installed but cannot be read back"))?;
        Ok((info, created))
    }

    /// Removes every `_synthlab_sync_*` object (triggers first) in one short transaction.
    /// Returns the names removed.
    ///
    /// # Errors
    /// Unavailable when the file stays locked longer than `lock_wait`.
    pub(crate) fn uninstall(&self, lock_wait: Duration) -> Result<Vec<String>> {
        in_transaction(&self.conn, "IMMEDIATE", lock_wait, || {
            let objects: Vec<(String, String)> = self
                .conn
                .prepare(
                    "SELECT type, name FROM sqlite_master WHERE name LIKE '\\_synthlab\\_sync\\_%' ESCAPE '\\' \
                     AND type IN ('trigger', 'table') ORDER BY type = 'table', name",
                )?
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<std::result::Result<_, _>>()?;
            for (kind, name) in &objects {
                let kind = if kind == "trigger" { "TRIGGER" } else { "TABLE" };
                self.conn.execute_batch(&format!("DROP {kind} {}", quote(name)))?;
            }
            Ok(objects.into_iter().map(|(_, n)| n).collect())
        })
    }

    /// Records that follower `target` applied everything up to `applied`, then deletes the
    /// records every registered follower has applied, at most `max_rows` of them, keeping the
    /// newest record. One short `BEGIN IMMEDIATE`; returns the number of records deleted.
    ///
    /// # Errors
    /// Unavailable when the file stays locked longer than `lock_wait`.
    pub(crate) fn record_and_prune(
        &self,
        target: &str,
        applied: i64,
        max_rows: i64,
        lock_wait: Duration,
    ) -> Result<u64> {
        in_transaction(&self.conn, "IMMEDIATE", lock_wait, || {
            self.conn.execute(
                &format!("INSERT OR REPLACE INTO {META_TABLE} (key, value) VALUES (?1, ?2)"),
                rusqlite::params![format!("applied:{target}"), applied.to_string()],
            )?;
            let (low, floor): (Option<i64>, Option<i64>) = self.conn.query_row(
                &format!(
                    "SELECT (SELECT min(seq) FROM {CHANGES_TABLE}), \
                       min((SELECT max(seq) - 1 FROM {CHANGES_TABLE}), \
                           (SELECT min(CAST(value AS INTEGER)) FROM {META_TABLE} WHERE key LIKE 'applied:%'))"
                ),
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            let (Some(low), Some(floor)) = (low, floor) else {
                return Ok(0);
            };
            let upto = floor.min(low.saturating_add(max_rows - 1));
            if upto < low {
                return Ok(0);
            }
            let deleted = self.conn.execute(
                &format!("DELETE FROM {CHANGES_TABLE} WHERE seq >= ?1 AND seq <= ?2"),
                rusqlite::params![low, upto],
            )?;
            Ok(deleted as u64)
        })
    }

    /// Forgets a follower (its position no longer holds back pruning).
    pub(crate) fn forget_follower(&self, target: &str, lock_wait: Duration) -> Result<()> {
        in_transaction(&self.conn, "IMMEDIATE", lock_wait, || {
            self.conn.execute(
                &format!("DELETE FROM {META_TABLE} WHERE key = ?1"),
                [format!("applied:{target}")],
            )?;
            Ok(())
        })
    }

    /// Records the position a new follower starts from and returns it (the newest sequence
    /// number), in one short write transaction so no record after it can be pruned first.
    pub(crate) fn start_follower(&self, target: &str, lock_wait: Duration) -> Result<i64> {
        in_transaction(&self.conn, "IMMEDIATE", lock_wait, || {
            let position = max_seq(&self.conn)?;
            self.conn.execute(
                &format!("INSERT OR REPLACE INTO {META_TABLE} (key, value) VALUES (?1, ?2)"),
                rusqlite::params![format!("applied:{target}"), position.to_string()],
            )?;
            Ok(position)
        })
    }
}

fn max_seq(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        &format!("SELECT coalesce(max(seq), 0) FROM {CHANGES_TABLE}"),
        [],
        |row| row.get(0),
    )?)
}

fn info(conn: &Connection) -> Result<Option<CaptureInfo>> {
    let objects: Vec<(String, String, Option<String>)> = conn
        .prepare(
            "SELECT type, name, tbl_name FROM sqlite_master WHERE name LIKE '\\_synthlab\\_sync\\_%' ESCAPE '\\' \
             ORDER BY name",
        )?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<std::result::Result<_, _>>()?;
    if !objects.iter().any(|(_, n, _)| n == CHANGES_TABLE) || !objects.iter().any(|(_, n, _)| n == META_TABLE) {
        return Ok(None);
    }
    let meta: Vec<(String, String)> = conn
        .prepare(&format!("SELECT key, value FROM {META_TABLE} ORDER BY key"))?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<std::result::Result<_, _>>()?;
    let get = |key: &str| meta.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let (min_seq, max_seq, records): (Option<i64>, Option<i64>, i64) = conn.query_row(
        &format!("SELECT min(seq), max(seq), count(*) FROM {CHANGES_TABLE}"),
        [],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )?;
    Ok(Some(CaptureInfo {
        source_id: get("source_id").unwrap_or_default(),
        capture_version: get("capture_version").unwrap_or_default(),
        installed_at: get("installed_at").unwrap_or_default(),
        triggers: objects
            .iter()
            .filter(|(kind, _, _)| kind == "trigger")
            .map(|(_, name, table)| (table.clone().unwrap_or_default(), name.clone()))
            .collect(),
        followers: meta
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("applied:")?.to_owned(), v.parse().ok()?)))
            .collect(),
        min_seq: min_seq.unwrap_or(0),
        max_seq: max_seq.unwrap_or(0),
        records: u64::try_from(records).unwrap_or(0),
    }))
}

/// One short read transaction on the legacy file (see [`SqliteSource::snapshot`]).
pub(crate) struct Snapshot<'c> {
    conn: &'c Connection,
}

fn image_sql(plan: &ScanPlan, filter: &str) -> String {
    format!(
        "SELECT {} FROM {} c WHERE {filter}",
        SqliteSource::select_items(plan),
        quote(plan.spec.name)
    )
}

/// Reads the rows of a prepared statement as [`SourceRow`]s.
fn each_row(
    stmt: &mut rusqlite::Statement<'_>,
    params: Vec<Value>,
    plan: &ScanPlan,
    each: &mut dyn FnMut(&SourceRow<'_>) -> Result<()>,
) -> Result<u64> {
    let mut rows = stmt.query(params_from_iter(params))?;
    let mut n = 0;
    while let Some(row) = rows.next()? {
        let source = source_row(row, plan)?;
        each(&source)?;
        n += 1;
    }
    Ok(n)
}

impl Snapshot<'_> {
    /// The newest sequence number (0 when nothing was ever captured).
    pub(crate) fn max_seq(&self) -> Result<i64> {
        max_seq(self.conn)
    }

    /// The smallest sequence number still in the change table (0 when empty).
    pub(crate) fn min_seq(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            &format!("SELECT coalesce(min(seq), 0) FROM {CHANGES_TABLE}"),
            [],
            |row| row.get(0),
        )?)
    }

    /// The records with `after < seq <= upto`, in sequence order.
    pub(crate) fn changes(&self, after: i64, upto: i64, each: &mut dyn FnMut(Change)) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT tbl, op, k1, k2, captured_at FROM {CHANGES_TABLE} WHERE seq > ?1 AND seq <= ?2 ORDER BY seq"
        ))?;
        let mut rows = stmt.query([after, upto])?;
        while let Some(row) = rows.next()? {
            let table: String = row.get(0)?;
            let op: String = row.get(1)?;
            each(Change {
                table,
                op: op.chars().next().unwrap_or('?'),
                key: [key_part(row.get_ref(2)?), key_part(row.get_ref(3)?)],
                captured_at: julian_to_unix(row.get(4)?),
            });
        }
        Ok(())
    }

    /// When the record `seq` was captured (seconds since the Unix epoch), if it exists.
    pub(crate) fn captured_at(&self, seq: i64) -> Result<Option<f64>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT captured_at FROM {CHANGES_TABLE} WHERE seq = ?1"))?;
        let mut rows = stmt.query([seq])?;
        Ok(match rows.next()? {
            Some(row) => Some(julian_to_unix(row.get(0)?)),
            None => None,
        })
    }

    /// The current row of `plan`'s table with key `key`, given to `each`; false when absent.
    pub(crate) fn image(
        &self,
        plan: &ScanPlan,
        key: &RowKey,
        each: &mut dyn FnMut(&SourceRow<'_>) -> Result<()>,
    ) -> Result<bool> {
        let filter: Vec<String> = plan
            .spec
            .key
            .iter()
            .enumerate()
            .map(|(i, k)| format!("c.{} IS ?{}", quote(k), i + 1))
            .collect();
        let mut stmt = self.conn.prepare_cached(&image_sql(plan, &filter.join(" AND ")))?;
        let params = key.iter().take(plan.spec.key.len()).map(bind_part).collect();
        Ok(each_row(&mut stmt, params, plan, each)? > 0)
    }

    /// The rows of `plan`'s table whose `column` equals `value`.
    pub(crate) fn referencing(
        &self,
        plan: &ScanPlan,
        column: &str,
        value: &KeyPart,
        each: &mut dyn FnMut(&SourceRow<'_>) -> Result<()>,
    ) -> Result<u64> {
        let mut stmt = self
            .conn
            .prepare_cached(&image_sql(plan, &format!("c.{} = ?1", quote(column))))?;
        each_row(&mut stmt, vec![bind_part(value)], plan, each)
    }
}

/// SQLite's julianday → seconds since the Unix epoch.
fn julian_to_unix(julian: f64) -> f64 {
    (julian - 2_440_587.5) * 86_400.0
}

impl SqliteSource {
    /// Runs `f` inside one read transaction (`BEGIN … COMMIT`): everything it reads is one
    /// snapshot. Keep `f` short: in rollback-journal mode the legacy writer cannot commit
    /// while it runs.
    pub(crate) fn snapshot<T>(&self, f: impl FnOnce(&Snapshot<'_>) -> Result<T>) -> Result<T> {
        let conn = &self.conn;
        in_transaction(conn, "DEFERRED", Duration::from_secs(30), || f(&Snapshot { conn }))
    }

    /// What capture has installed in the file (None when absent), read without writing.
    pub(crate) fn capture_info(&self) -> Result<Option<CaptureInfo>> {
        info(&self.conn)
    }

    /// Reads one chunk of `plan`'s table in key order, after `after` (from the start when
    /// `None`; rows with a NULL key part come first, in one chunk of their own), as one
    /// statement that stops after `max_rows` rows or `max_time`. Returns the last key read,
    /// or `None` when the table has no more rows.
    pub(crate) fn scan_chunk(
        &self,
        plan: &ScanPlan,
        after: Option<&RowKey>,
        max_rows: usize,
        max_time: Duration,
        each: &mut dyn FnMut(&SourceRow<'_>) -> Result<()>,
    ) -> Result<Option<RowKey>> {
        let spec = plan.spec;
        let key_columns: Vec<String> = spec.key.iter().map(|k| format!("c.{}", quote(k))).collect();
        let not_null: Vec<String> = key_columns.iter().map(|k| format!("{k} IS NOT NULL")).collect();
        let order = key_columns.join(", ");
        let (sql, params): (String, Vec<Value>) = match after {
            None => {
                let any_null: Vec<String> = key_columns.iter().map(|k| format!("{k} IS NULL")).collect();
                let mut stmt = self.conn.prepare(&image_sql(plan, &any_null.join(" OR ")))?;
                if each_row(&mut stmt, Vec::new(), plan, each)? > 0 {
                    // The next chunk starts at the smallest key (no row has a key below it).
                    return Ok(Some([KeyPart::Null, KeyPart::Null]));
                }
                (
                    format!("{} ORDER BY {order}", image_sql(plan, &not_null.join(" AND "))),
                    Vec::new(),
                )
            }
            Some(key) if key.iter().all(|p| *p == KeyPart::Null) => (
                format!("{} ORDER BY {order}", image_sql(plan, &not_null.join(" AND "))),
                Vec::new(),
            ),
            Some(key) => {
                let placeholders: Vec<String> = (1..=spec.key.len()).map(|i| format!("?{i}")).collect();
                (
                    format!(
                        "{} AND ({order}) > ({}) ORDER BY {order}",
                        image_sql(plan, &not_null.join(" AND ")),
                        placeholders.join(", ")
                    ),
                    key.iter().take(spec.key.len()).map(bind_part).collect(),
                )
            }
        };
        let started = Instant::now();
        let key_indexes = spec.key_indexes();
        let mut last: Option<RowKey> = None;
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params_from_iter(params))?;
        let mut n = 0usize;
        while let Some(row) = rows.next()? {
            let source = source_row(row, plan)?;
            each(&source)?;
            let mut key: RowKey = [KeyPart::Null, KeyPart::Null];
            for (slot, i) in key.iter_mut().zip(&key_indexes) {
                *slot = source.values[*i].map(KeyPart::from_raw).unwrap_or(KeyPart::Null);
            }
            last = Some(key);
            n += 1;
            if n >= max_rows || (n.is_multiple_of(64) && started.elapsed() >= max_time) {
                break;
            }
        }
        Ok(last)
    }
}
