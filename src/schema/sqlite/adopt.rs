//! `adopt`: takes a SQLite file written by the legacy application (its tables, no migration
//! history) under management at schema V1.
//!
//! Order of work, all on one connection holding the write lock (`BEGIN IMMEDIATE`) so that
//! the legacy application cannot write in between:
//!
//! 1. **Read only**: detect the layout (refusing anything that is not a known legacy layout),
//!    count rows, list orphans, and check every row against V1's constraints by inserting it
//!    into an empty V1 copy in an attached in-memory database (chunk by chunk, emptied after
//!    each), plus UNIQUE/PRIMARY KEY duplicates by query. A refused row stops here: nothing
//!    was written, and closing without a checkpoint leaves the file byte-for-byte as it was.
//! 2. **Backup**: `VACUUM INTO <file>.pre-adopt-<timestamp>.bak` from a second connection
//!    (a consistent copy including what still sits in the WAL), checked with `quick_check`
//!    and row counts.
//! 3. **Rebuild** tables whose definition differs from V1 (rename old, create V1 table, copy
//!    rows with their rowids column by column by name, V1 defaults for missing columns,
//!    compare old and new values and storage classes, drop old, create V1 indexes), create
//!    missing tables, rewrite timestamp text to the canonical shape of the same instant.
//! 4. **Verify**: `sqlite_master` equals a freshly migrated V1 (whitespace aside), the catalog
//!    diff is empty, row counts and orphans are unchanged, `quick_check` is ok. Then V1's seed
//!    rows (the default synth group) are inserted if absent.
//! 5. **Record** V1 as applied through refinery itself (`Target::FakeVersion(1)`), so the
//!    checksum is the one refinery computes, then COMMIT. Any error before COMMIT rolls
//!    everything back and removes the backup.
//!
//! Orphans (rows whose parent is missing) are kept and reported: SQLite never re-checks
//! stored rows, the legacy application lived with them, and dropping them would lose data.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};

use super::introspect::{check_constraints, introspect};
use super::{InTransaction, Tx, history, table_exists};
use crate::model::{parse_legacy, to_canonical};
use crate::schema::adopt::{AdoptOutcome, AdoptReport, DetectedLayout, RefusedRow};
use crate::schema::history::HISTORY_TABLE;
use crate::schema::model::{SchemaModel, TIMESTAMP_COLUMNS, collapse_whitespace};
use crate::schema::set::{MigrationScript, MigrationSet};
use crate::{BackendKind, Error, ErrorKind, Result};

/// Rows checked per statement against the V1 copy.
const CHUNK: i64 = 2000;
/// Refused rows named in the error at most.
const MAX_REFUSED: usize = 20;
/// Columns a legacy layout may lack (added by v10, v11 and v14).
const OPTIONAL_COLUMNS: [(&str, &str); 3] = [
    ("experiments", "status"),
    ("analysis_runs", "scenario_id"),
    ("scenario_nodes", "short_action"),
];
/// Tables a legacy layout may lack (added by v13 and v15).
const OPTIONAL_TABLES: [&str; 3] = ["explorations", "scenario_nodes", "experiment_documents"];

/// Schema V1 built in a private in-memory database: what the adopted file must equal.
struct V1 {
    script: MigrationScript,
    model: SchemaModel,
    /// `(type, name, table, sql)` of every table and index, whitespace collapsed.
    objects: BTreeSet<(String, String, String, String)>,
    tables: BTreeMap<String, String>,
    indexes: BTreeMap<String, Vec<(String, String)>>,
    seed: Vec<(String, Vec<String>, Vec<Value>)>,
}

fn schema_objects(conn: &Connection, schema: &str) -> Result<BTreeSet<(String, String, String, String)>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT type, name, tbl_name, sql FROM \"{schema}\".sqlite_master
         WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND tbl_name <> ?1
           AND name NOT LIKE '\\_synthlab\\_sync\\_%' ESCAPE '\\'"
    ))?;
    let rows = stmt.query_map([HISTORY_TABLE], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            collapse_whitespace(&row.get::<_, String>(3)?),
        ))
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

impl V1 {
    fn build() -> Result<V1> {
        let set = MigrationSet::embedded(BackendKind::Sqlite);
        let script = set
            .get(1)
            .cloned()
            .ok_or_else(|| Error::other("this build has no migration V1"))?;
        let scratch = Connection::open_in_memory()?;
        scratch.execute_batch(script.up_sql())?;
        let model = introspect(&scratch, "main")?;
        let mut tables = BTreeMap::new();
        let mut indexes: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        let mut stmt = scratch.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL")?;
        let rows: Vec<(String, String, String, String)> = stmt
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))?
            .collect::<std::result::Result<_, _>>()?;
        for (kind, name, table, sql) in rows {
            match kind.as_str() {
                "table" => {
                    tables.insert(name, sql);
                }
                "index" => indexes.entry(table).or_default().push((name, sql)),
                _ => {}
            }
        }
        let mut seed = Vec::new();
        for table in tables.keys() {
            let mut stmt = scratch.prepare(&format!("SELECT * FROM \"{table}\""))?;
            let columns: Vec<String> = stmt.column_names().iter().map(|c| (*c).to_owned()).collect();
            let width = columns.len();
            let rows: Vec<Vec<Value>> = stmt
                .query_map([], |row| (0..width).map(|i| row.get::<_, Value>(i)).collect())?
                .collect::<std::result::Result<_, _>>()?;
            for values in rows {
                seed.push((table.clone(), columns.clone(), values));
            }
        }
        let objects = schema_objects(&scratch, "main")?;
        Ok(V1 {
            script,
            model,
            objects,
            tables,
            indexes,
            seed,
        })
    }

    /// The V1 CREATE TABLE statement of `table` for another schema or name.
    fn create_table_as(&self, table: &str, qualified: &str) -> Result<String> {
        let sql = self
            .tables
            .get(table)
            .ok_or_else(|| Error::other(format!("V1 has no table {table}")))?;
        let prefix = format!("CREATE TABLE {table}");
        match sql.strip_prefix(&prefix) {
            Some(rest) => Ok(format!("CREATE TABLE {qualified}{rest}")),
            None => Err(Error::other(format!("unexpected V1 definition of {table}"))),
        }
    }
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Adopts the legacy file at `path`; see the module documentation.
pub(crate) fn adopt_file(path: &Path) -> Result<AdoptOutcome> {
    if !path.is_file() {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!("SQLite database file {} does not exist", path.display()),
        ));
    }
    let v1 = V1::build()?;
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Error::from(e).context(format!("cannot open {}", path.display())))?;
    conn.busy_timeout(Duration::from_secs(5))?;
    // Nothing below is stored in the file: closing must not even checkpoint, so that a refused
    // adopt leaves the file byte-for-byte as it was.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    conn.pragma_update(None, "legacy_alter_table", "ON")?;
    conn.execute_batch("ATTACH DATABASE ':memory:' AS adopt_check")?;
    let mut backup = None;
    let outcome = adopt_locked(&conn, path, &v1, &mut backup);
    if outcome.is_err()
        && let Some(backup) = backup
    {
        // The file is as it was: the copy is not needed.
        let _ = std::fs::remove_file(backup);
    }
    let _ = conn.execute_batch("DETACH DATABASE adopt_check");
    if outcome.is_ok() {
        let _ = conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, false);
    }
    outcome
}

fn adopt_locked(conn: &Connection, path: &Path, v1: &V1, backup_slot: &mut Option<PathBuf>) -> Result<AdoptOutcome> {
    let tx = Tx::begin(conn, "IMMEDIATE")?;
    if table_exists(conn, "main", HISTORY_TABLE)? {
        let history = history(conn, &MigrationSet::embedded(BackendKind::Sqlite))?;
        return Ok(AdoptOutcome::AlreadyManaged {
            current_version: history.current_version,
        });
    }
    let live = introspect(conn, "main")?;
    if live.tables.is_empty() {
        return Err(Error::invalid_input(format!(
            "{} has no tables: it is not a legacy file; `synthlab-db migrate` creates the schema",
            path.display()
        )));
    }
    let layout = detect(conn, &live, v1)?;
    let counts_before = row_counts(conn, live.tables.keys())?;
    let orphans_before = orphans(conn)?;
    validate(conn, &live, v1)?;

    // Nothing was written so far. Now the copy, then the changes.
    let backup = write_backup(path, &counts_before)?;
    *backup_slot = Some(backup.clone());

    let mut report = AdoptReport {
        path: path.to_path_buf(),
        backup,
        layout,
        tables_rebuilt: Vec::new(),
        tables_kept: Vec::new(),
        tables_created: Vec::new(),
        indexes_created: Vec::new(),
        columns_filled: Vec::new(),
        rows: Vec::new(),
        timestamps_rewritten: 0,
        timestamps_rewritten_by_column: Vec::new(),
        timestamps_unrecognised: 0,
        timestamps_unrecognised_examples: Vec::new(),
        orphans: orphans_before.clone(),
        seed_rows_added: 0,
    };
    let live_objects = schema_objects(conn, "main")?;
    let capture_triggers = take_capture_triggers(conn)?;
    for table in crate::schema::TABLES {
        match live.tables.get(table) {
            None => {
                conn.execute_batch(&v1.create_table_as(table, table)?)?;
                for (_, sql) in v1.indexes.get(table).into_iter().flatten() {
                    conn.execute_batch(sql)?;
                }
                report.tables_created.push(table.to_owned());
            }
            Some(found) => {
                let same_table = live_objects.iter().any(|(kind, name, _, sql)| {
                    kind == "table"
                        && name == table
                        && v1.tables.get(table).is_some_and(|v| collapse_whitespace(v) == *sql)
                });
                // Every index the file has on the table must be V1's, word for word.
                let same_indexes = live_objects
                    .iter()
                    .filter(|(kind, _, on, _)| kind == "index" && on == table)
                    .all(|(_, name, _, sql)| {
                        v1.indexes
                            .get(table)
                            .into_iter()
                            .flatten()
                            .any(|(n, v)| n == name && collapse_whitespace(v) == *sql)
                    });
                if same_table && same_indexes {
                    for (index, sql) in v1.indexes.get(table).into_iter().flatten() {
                        if !found.indexes.contains_key(index) {
                            conn.execute_batch(sql)?;
                            report.indexes_created.push(index.clone());
                        }
                    }
                    report.tables_kept.push(table.to_owned());
                } else {
                    rebuild(conn, v1, table, found, &mut report)?;
                    report.tables_rebuilt.push(table.to_owned());
                }
            }
        }
    }
    rewrite_timestamps(conn, v1, &mut report)?;
    verify(conn, v1, &counts_before, &orphans_before)?;
    report.seed_rows_added = insert_seed(conn, v1)?;
    for sql in &capture_triggers {
        conn.execute_batch(sql)?;
    }
    let runner = MigrationSet::embedded(BackendKind::Sqlite)
        .up_to(1)
        .runner()
        .set_target(refinery::Target::FakeVersion(1));
    runner
        .run(&mut InTransaction(conn))
        .map_err(|e| Error::other(format!("cannot record V1 in the history: {e}")))?;
    let recorded = history(conn, &MigrationSet::embedded(BackendKind::Sqlite))?;
    recorded.ensure_consistent()?;
    if recorded.current_version != 1 || recorded.applied.len() != 1 {
        return Err(Error::other("V1 was not recorded as the only applied migration"));
    }
    report.rows = row_counts(conn, crate::schema::TABLES)?
        .into_iter()
        .map(|(t, n)| (t, u64::try_from(n).unwrap_or_default()))
        .collect();
    tx.commit()?;
    tracing::info!(file = %path.display(), checksum = v1.script.checksum(), "legacy file adopted at V1");
    Ok(AdoptOutcome::Adopted(Box::new(report)))
}

/// Live sync's capture triggers (`_synthlab_sync_*`, see `crate::sync`): dropped here and
/// recreated from their own SQL once the file is V1 (a rebuilt table would lose them), inside
/// the adopt's transaction, so the legacy writer never writes uncaptured in between.
fn take_capture_triggers(conn: &Connection) -> Result<Vec<String>> {
    let triggers: Vec<(String, String)> = conn
        .prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' \
             AND name LIKE '\\_synthlab\\_sync\\_%' ESCAPE '\\' ORDER BY name",
        )?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<std::result::Result<_, _>>()?;
    for (name, _) in &triggers {
        conn.execute_batch(&format!("DROP TRIGGER {}", quote_ident(name)))?;
    }
    Ok(triggers.into_iter().map(|(_, sql)| sql).collect())
}

/// Recognises the legacy layout; refuses anything the legacy application never wrote.
fn detect(conn: &Connection, live: &SchemaModel, v1: &V1) -> Result<DetectedLayout> {
    let mut problems = Vec::new();
    let mut stmt =
        conn.prepare("SELECT type, name FROM sqlite_master WHERE type IN ('view', 'trigger') ORDER BY name")?;
    let others: Vec<(String, String)> = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<std::result::Result<_, _>>()?;
    for (kind, name) in others.into_iter().filter(|(_, n)| !crate::sync::is_sync_object(n)) {
        problems.push(format!("{kind} {name} is not part of any legacy layout"));
    }
    for table in live.tables.keys().filter(|t| !v1.model.tables.contains_key(*t)) {
        problems.push(format!("table {table} is not part of any legacy layout"));
    }
    for table in v1.model.tables.keys() {
        if !live.tables.contains_key(table) && !OPTIONAL_TABLES.contains(&table.as_str()) {
            problems.push(format!("table {table} is missing"));
        }
    }
    for (table, found) in &live.tables {
        let Some(expected) = v1.model.tables.get(table) else {
            continue;
        };
        for column in &found.columns {
            match expected.columns.iter().find(|c| c.name == column.name) {
                None => problems.push(format!(
                    "column {table}.{} is not part of any legacy layout",
                    column.name
                )),
                Some(v1_column) if v1_column.data_type != column.data_type => problems.push(format!(
                    "column {table}.{} is declared {} (legacy layouts: {})",
                    column.name, column.data_type, v1_column.data_type
                )),
                Some(_) => {}
            }
        }
        for column in &expected.columns {
            if !found.columns.iter().any(|c| c.name == column.name)
                && !OPTIONAL_COLUMNS.contains(&(table.as_str(), column.name.as_str()))
            {
                problems.push(format!("column {table}.{} is missing", column.name));
            }
        }
        for index in found.indexes.keys().filter(|i| !expected.indexes.contains_key(*i)) {
            problems.push(format!("index {index} is not part of any legacy layout"));
        }
    }
    if !problems.is_empty() {
        return Err(Error::invalid_input(format!(
            "not a known legacy layout (v10–v15, see docs/legacy-schema.md), nothing was changed: {}",
            problems.join("; ")
        )));
    }

    let mut notes = Vec::new();
    let position = |table: &str, column: &str| -> Option<(usize, usize)> {
        let found = live.tables.get(table)?;
        Some((
            found.columns.iter().position(|c| c.name == column)?,
            found.columns.len(),
        ))
    };
    let added_last = |table: &str, column: &str, notes: &mut Vec<String>| -> bool {
        match position(table, column) {
            None => false,
            Some((at, len)) => {
                let v1_at = v1
                    .model
                    .tables
                    .get(table)
                    .and_then(|t| t.columns.iter().position(|c| c.name == column));
                if at + 1 == len && v1_at != Some(at) {
                    notes.push(format!("{table}.{column} added in place (last column)"));
                }
                true
            }
        }
    };
    let has_status = added_last("experiments", "status", &mut notes);
    if has_status {
        let checked = live
            .tables
            .get("experiments")
            .is_some_and(|t| t.checks.iter().any(|c| c.starts_with("status IN")));
        if !checked {
            notes.push("experiments.status has no CHECK (values are checked row by row)".to_owned());
        }
        if !live
            .tables
            .get("experiments")
            .is_some_and(|t| t.indexes.contains_key("idx_experiments_status"))
        {
            notes.push("index idx_experiments_status missing".to_owned());
        }
    } else {
        notes.push("experiments.status missing (before v10): filled with 'active'".to_owned());
    }
    let has_scenario = added_last("analysis_runs", "scenario_id", &mut notes);
    if !has_scenario {
        notes.push("analysis_runs.scenario_id missing (before v11): filled with 'baseline'".to_owned());
    }
    let has_explorations = live.tables.contains_key("explorations");
    let has_short_action = added_last("scenario_nodes", "short_action", &mut notes);
    if has_explorations && !has_short_action {
        notes.push("scenario_nodes.short_action missing (before v14): NULL".to_owned());
    }
    if !has_explorations {
        notes.push("explorations and scenario_nodes missing (before v13): created empty".to_owned());
    }
    let has_documents = live.tables.contains_key("experiment_documents");
    if !has_documents {
        notes.push("experiment_documents missing (before v15): created empty".to_owned());
    }
    let version = if has_documents {
        "v15"
    } else if has_short_action {
        "v14"
    } else if has_explorations {
        "v13"
    } else if has_scenario {
        "v11–v12"
    } else if has_status {
        "v10"
    } else {
        "v9 or older"
    };
    Ok(DetectedLayout {
        version: version.to_owned(),
        notes,
    })
}

fn row_counts<S: AsRef<str>>(conn: &Connection, tables: impl IntoIterator<Item = S>) -> Result<Vec<(String, i64)>> {
    let mut counts = Vec::new();
    for table in tables {
        let table = table.as_ref();
        let n: i64 = conn.query_row(
            &format!("SELECT count(*) FROM main.{}", quote_ident(table)),
            [],
            |row| row.get(0),
        )?;
        counts.push((table.to_owned(), n));
    }
    Ok(counts)
}

/// Orphan rows per foreign key (`child (columns) -> parent: n row(s)`).
fn orphans(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT c.\"table\", c.parent, group_concat(DISTINCT f.\"from\"), count(*)
         FROM pragma_foreign_key_check AS c
         JOIN pragma_foreign_key_list(c.\"table\") AS f ON f.id = c.fkid
         GROUP BY c.\"table\", c.parent, c.fkid ORDER BY 1, 2, 3",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok(format!(
            "{} ({}) -> {}: {} row(s)",
            row.get::<_, String>(0)?,
            row.get::<_, String>(2)?,
            row.get::<_, String>(1)?,
            row.get::<_, i64>(3)?
        ))
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// The columns a table has in both the file and V1, in V1 order.
fn common_columns(live: &SchemaModel, v1: &V1, table: &str) -> Vec<String> {
    let (Some(found), Some(expected)) = (live.tables.get(table), v1.model.tables.get(table)) else {
        return Vec::new();
    };
    expected
        .columns
        .iter()
        .filter(|c| found.columns.iter().any(|f| f.name == c.name))
        .map(|c| c.name.clone())
        .collect()
}

/// The primary key of a row as `column = 'value'`.
fn row_key(conn: &Connection, v1: &V1, table: &str, rowid: i64) -> Result<String> {
    let key_columns = v1
        .model
        .tables
        .get(table)
        .map(|t| t.primary_key.clone())
        .unwrap_or_default();
    let mut parts = Vec::new();
    for column in key_columns {
        let value: String = conn.query_row(
            &format!(
                "SELECT quote({}) FROM main.{} WHERE rowid = ?1",
                quote_ident(&column),
                quote_ident(table)
            ),
            [rowid],
            |row| row.get(0),
        )?;
        parts.push(format!("{column} = {value}"));
    }
    if parts.is_empty() {
        parts.push(format!("rowid = {rowid}"));
    }
    Ok(parts.join(", "))
}

/// Every row checked against V1's constraints before anything is written.
fn validate(conn: &Connection, live: &SchemaModel, v1: &V1) -> Result<()> {
    let mut refused: Vec<RefusedRow> = Vec::new();
    for table in live.tables.keys() {
        if refused.len() >= MAX_REFUSED {
            break;
        }
        let columns = common_columns(live, v1, table);
        let names = columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
        let check_table = format!("adopt_check.{}", quote_ident(table));
        conn.execute_batch(&v1.create_table_as(table, &format!("adopt_check.{table}"))?)?;
        let chunk_sql = format!(
            "INSERT INTO {check_table} (rowid, {names}) SELECT rowid, {names} FROM main.{t}
             WHERE rowid > ?1 ORDER BY rowid LIMIT {CHUNK}",
            t = quote_ident(table)
        );
        let one_sql = format!(
            "INSERT INTO {check_table} (rowid, {names}) SELECT rowid, {names} FROM main.{t} WHERE rowid = ?1",
            t = quote_ident(table)
        );
        let mut last = i64::MIN;
        loop {
            let inserted = conn.execute(&chunk_sql, [last]);
            let chunk_end: Option<i64> = match inserted {
                Ok(0) => None,
                Ok(_) => conn.query_row(&format!("SELECT max(rowid) FROM {check_table}"), [], |row| row.get(0))?,
                Err(_) => {
                    // Find the rows to blame, one by one.
                    let rowids: Vec<i64> = conn
                        .prepare(&format!(
                            "SELECT rowid FROM main.{} WHERE rowid > ?1 ORDER BY rowid LIMIT {CHUNK}",
                            quote_ident(table)
                        ))?
                        .query_map([last], |row| row.get(0))?
                        .collect::<std::result::Result<_, _>>()?;
                    for rowid in &rowids {
                        if let Err(err) = conn.execute(&one_sql, [rowid])
                            && refused.len() < MAX_REFUSED
                        {
                            refused.push(diagnose(conn, v1, table, &columns, *rowid, &err)?);
                        }
                    }
                    rowids.last().copied()
                }
            };
            conn.execute(&format!("DELETE FROM {check_table}"), [])?;
            match chunk_end {
                Some(end) => last = end,
                None => break,
            }
        }
        conn.execute_batch(&format!("DROP TABLE {check_table}"))?;
        duplicates(conn, v1, table, &columns, &mut refused)?;
    }
    if refused.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = refused.iter().map(ToString::to_string).collect();
    Err(Error::new(
        ErrorKind::Check,
        format!(
            "adopt stopped: {} row(s) would be refused by schema V1; the file was not changed. \
             Fix or remove them with the legacy application, then run adopt again:\n  {}",
            refused.len(),
            lines.join("\n  ")
        ),
    ))
}

/// Which constraint a row breaks: each V1 CHECK and NOT NULL evaluated on the row itself.
fn diagnose(
    conn: &Connection,
    v1: &V1,
    table: &str,
    columns: &[String],
    rowid: i64,
    err: &rusqlite::Error,
) -> Result<RefusedRow> {
    let key = row_key(conn, v1, table, rowid)?;
    let value_of = |column: &str| -> Result<String> {
        Ok(conn.query_row(
            &format!(
                "SELECT quote({}) FROM main.{} WHERE rowid = ?1",
                quote_ident(column),
                quote_ident(table)
            ),
            [rowid],
            |row| row.get(0),
        )?)
    };
    if let Some(expected) = v1.model.tables.get(table) {
        for column in expected
            .columns
            .iter()
            .filter(|c| c.not_null && columns.contains(&c.name))
        {
            let value = value_of(&column.name)?;
            if value == "NULL" {
                return Ok(RefusedRow {
                    table: table.to_owned(),
                    key,
                    column: Some(column.name.clone()),
                    value: Some(value),
                    reason: format!("NOT NULL constraint of V1 on {table}.{}", column.name),
                });
            }
        }
    }
    let create = v1.tables.get(table).map(String::as_str).unwrap_or_default();
    for check in check_constraints(create) {
        let used: Vec<&String> = columns.iter().filter(|c| mentions(&check, c)).collect();
        let evaluated: Option<i64> = conn
            .query_row(
                &format!("SELECT ({check}) FROM main.{} WHERE rowid = ?1", quote_ident(table)),
                [rowid],
                |row| row.get(0),
            )
            .unwrap_or(Some(1));
        if evaluated == Some(0) {
            let column = used.first().map(|c| (*c).clone());
            let value = match &column {
                Some(c) => Some(value_of(c)?),
                None => None,
            };
            return Ok(RefusedRow {
                table: table.to_owned(),
                key,
                column,
                value,
                reason: format!("CHECK ({check}) of V1 fails"),
            });
        }
    }
    Ok(RefusedRow {
        table: table.to_owned(),
        key,
        column: None,
        value: None,
        reason: format!("refused by V1: {err}"),
    })
}

/// Whether an expression names `column` as a whole word.
fn mentions(expression: &str, column: &str) -> bool {
    expression
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|word| word == column)
}

/// Rows sharing a value that V1 declares PRIMARY KEY or UNIQUE.
fn duplicates(
    conn: &Connection,
    v1: &V1,
    table: &str,
    columns: &[String],
    refused: &mut Vec<RefusedRow>,
) -> Result<()> {
    let Some(expected) = v1.model.tables.get(table) else {
        return Ok(());
    };
    let mut keys: Vec<Vec<String>> = expected.unique.iter().cloned().collect();
    if !expected.primary_key.is_empty() {
        keys.push(expected.primary_key.clone());
    }
    for key in keys {
        if !key.iter().all(|c| columns.contains(c)) {
            continue;
        }
        let list = key.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
        let shown = key
            .iter()
            .map(|c| format!("'{c} = ' || quote({})", quote_ident(c)))
            .collect::<Vec<_>>()
            .join(" || ', ' || ");
        let not_null = key
            .iter()
            .map(|c| format!("{} IS NOT NULL", quote_ident(c)))
            .collect::<Vec<_>>()
            .join(" AND ");
        let sql = format!(
            "SELECT {shown}, count(*) FROM main.{} WHERE {not_null} GROUP BY {list} HAVING count(*) > 1 LIMIT 5",
            quote_ident(table)
        );
        let rows: Vec<(String, i64)> = conn
            .prepare(&sql)?
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<std::result::Result<_, _>>()?;
        for (shown, n) in rows {
            if refused.len() < MAX_REFUSED {
                refused.push(RefusedRow {
                    table: table.to_owned(),
                    key: shown,
                    column: None,
                    value: None,
                    reason: format!("{n} rows share this value of UNIQUE ({})", key.join(", ")),
                });
            }
        }
    }
    Ok(())
}

/// `<file>.pre-adopt-<UTC timestamp>.bak`, written by `VACUUM INTO` from a second connection
/// (this one holds the write lock, readers may still read), then checked.
fn write_backup(path: &Path, counts: &[(String, i64)]) -> Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".pre-adopt-{stamp}.bak"));
    let backup = path.with_file_name(name);
    if backup.exists() {
        return Err(Error::new(
            ErrorKind::Conflict,
            format!("backup {} already exists", backup.display()),
        ));
    }
    let target = backup
        .to_str()
        .ok_or_else(|| Error::invalid_input(format!("the path {} is not UTF-8", backup.display())))?;
    let reader = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    reader.busy_timeout(Duration::from_secs(5))?;
    reader
        .execute("VACUUM INTO ?1", [target])
        .map_err(|e| Error::from(e).context(format!("cannot write the backup {}", backup.display())))?;
    drop(reader);
    let check = Connection::open_with_flags(&backup, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let verdict: String = check.query_row("PRAGMA quick_check", [], |row| row.get(0))?;
    let copied = row_counts(&check, counts.iter().map(|(t, _)| t))?;
    drop(check);
    if verdict != "ok" || copied != counts {
        let _ = std::fs::remove_file(&backup);
        return Err(Error::other(format!(
            "the backup {} does not match the file (quick_check: {verdict}); nothing was changed",
            backup.display()
        )));
    }
    Ok(backup)
}

/// Rebuilds `table` to V1: rename, create, copy by column name with rowids, compare, drop,
/// create indexes.
fn rebuild(
    conn: &Connection,
    v1: &V1,
    table: &str,
    found: &crate::schema::model::TableModel,
    report: &mut AdoptReport,
) -> Result<()> {
    let old = format!("_adopt_old_{table}");
    let expected = v1
        .model
        .tables
        .get(table)
        .ok_or_else(|| Error::other(format!("V1 has no table {table}")))?;
    let common: Vec<String> = expected
        .columns
        .iter()
        .filter(|c| found.columns.iter().any(|f| f.name == c.name))
        .map(|c| c.name.clone())
        .collect();
    conn.execute_batch(&format!(
        "ALTER TABLE {} RENAME TO {}",
        quote_ident(table),
        quote_ident(&old)
    ))?;
    conn.execute_batch(&v1.create_table_as(table, table)?)?;
    let names = common.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
    conn.execute(
        &format!(
            "INSERT INTO {t} (rowid, {names}) SELECT rowid, {names} FROM {o}",
            t = quote_ident(table),
            o = quote_ident(&old)
        ),
        [],
    )
    .map_err(|e| Error::from(e).context(format!("cannot copy the rows of {table}")))?;
    let typed = common
        .iter()
        .map(|c| format!("{0}, typeof({0})", quote_ident(c)))
        .collect::<Vec<_>>()
        .join(", ");
    let differing: i64 = conn.query_row(
        &format!(
            "SELECT (SELECT count(*) FROM (SELECT rowid, {typed} FROM {o} EXCEPT SELECT rowid, {typed} FROM {t}))
                  + (SELECT count(*) FROM (SELECT rowid, {typed} FROM {t} EXCEPT SELECT rowid, {typed} FROM {o}))
                  + abs((SELECT count(*) FROM {t}) - (SELECT count(*) FROM {o}))",
            t = quote_ident(table),
            o = quote_ident(&old)
        ),
        [],
        |row| row.get(0),
    )?;
    if differing != 0 {
        return Err(Error::other(format!(
            "the copy of {table} differs from the original in {differing} row(s); nothing was changed"
        )));
    }
    let rows: i64 = conn.query_row(&format!("SELECT count(*) FROM {}", quote_ident(table)), [], |row| {
        row.get(0)
    })?;
    for column in expected.columns.iter().filter(|c| !common.contains(&c.name)) {
        report.columns_filled.push(format!(
            "{table}.{} = {} ({rows} row(s))",
            column.name,
            column.default.as_deref().unwrap_or("NULL")
        ));
    }
    conn.execute_batch(&format!("DROP TABLE {}", quote_ident(&old)))?;
    for (_, sql) in v1.indexes.get(table).into_iter().flatten() {
        conn.execute_batch(sql)?;
    }
    Ok(())
}

/// The canonical text of a legacy timestamp, when it has one without losing precision.
fn canonical(text: &str) -> Option<String> {
    let ts = parse_legacy(text)?;
    // parse_legacy truncates below microseconds: refuse to rewrite a value that carries more.
    if let Some(dot) = text.find('.') {
        let digits: String = text[dot + 1..].chars().take_while(char::is_ascii_digit).collect();
        if digits.len() > 6 && digits[6..].chars().any(|c| c != '0') {
            return None;
        }
    }
    Some(to_canonical(&ts))
}

/// Rewrites timestamp text to the canonical shape of the same instant.
fn rewrite_timestamps(conn: &Connection, v1: &V1, report: &mut AdoptReport) -> Result<()> {
    for (table, column) in TIMESTAMP_COLUMNS {
        if !v1
            .model
            .tables
            .get(*table)
            .is_some_and(|t| t.columns.iter().any(|c| c.name == *column))
        {
            continue;
        }
        let select = format!(
            "SELECT rowid, {c} FROM {t} WHERE rowid > ?1 AND {c} IS NOT NULL ORDER BY rowid LIMIT 1000",
            t = quote_ident(table),
            c = quote_ident(column)
        );
        let update = format!(
            "UPDATE {t} SET {c} = ?1 WHERE rowid = ?2",
            t = quote_ident(table),
            c = quote_ident(column)
        );
        let mut rewritten = 0u64;
        let mut last = i64::MIN;
        loop {
            let batch: Vec<(i64, Value)> = conn
                .prepare_cached(&select)?
                .query_map([last], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<std::result::Result<_, _>>()?;
            let Some((end, _)) = batch.last() else {
                break;
            };
            last = *end;
            for (rowid, value) in batch {
                let new = match &value {
                    Value::Text(text) => canonical(text).map(|c| (c != *text, c)),
                    _ => None,
                };
                match new {
                    Some((true, canonical)) => {
                        conn.prepare_cached(&update)?
                            .execute(rusqlite::params![canonical, rowid])?;
                        rewritten += 1;
                    }
                    Some((false, _)) => {}
                    None => {
                        report.timestamps_unrecognised += 1;
                        if report.timestamps_unrecognised_examples.len() < 10 {
                            let key = row_key(conn, v1, table, rowid)?;
                            let shown: String = conn.query_row("SELECT quote(?1)", [&value], |row| row.get(0))?;
                            report
                                .timestamps_unrecognised_examples
                                .push(format!("{table} {key}: {column} = {shown}"));
                        }
                    }
                }
            }
        }
        if rewritten > 0 {
            report.timestamps_rewritten += rewritten;
            report
                .timestamps_rewritten_by_column
                .push((format!("{table}.{column}"), rewritten));
        }
    }
    Ok(())
}

/// V1's seed rows (the default synth group), inserted when absent.
fn insert_seed(conn: &Connection, v1: &V1) -> Result<u64> {
    let mut added = 0u64;
    for (table, columns, values) in &v1.seed {
        let names = columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
        let marks = (1..=values.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        added += conn.execute(
            &format!(
                "INSERT OR IGNORE INTO {} ({names}) VALUES ({marks})",
                quote_ident(table)
            ),
            rusqlite::params_from_iter(values.iter()),
        )? as u64;
    }
    Ok(added)
}

/// The file now equals a freshly migrated V1, and no row or parent link was lost.
fn verify(conn: &Connection, v1: &V1, counts_before: &[(String, i64)], orphans_before: &[String]) -> Result<()> {
    let objects = schema_objects(conn, "main")?;
    if objects != v1.objects {
        let missing: Vec<String> = v1
            .objects
            .difference(&objects)
            .map(|o| format!("{} {}", o.0, o.1))
            .collect();
        let extra: Vec<String> = objects
            .difference(&v1.objects)
            .map(|o| format!("{} {}", o.0, o.1))
            .collect();
        return Err(Error::other(format!(
            "verification failed, nothing was changed: the layout differs from V1 (differs from V1: {}; not in V1: {})",
            missing.join(", "),
            extra.join(", ")
        )));
    }
    let diff = v1.model.diff(&introspect(conn, "main")?);
    if !diff.is_empty() {
        return Err(Error::other(format!(
            "verification failed, nothing was changed: {}",
            diff.differences.join("; ")
        )));
    }
    let counts_after = row_counts(conn, counts_before.iter().map(|(t, _)| t))?;
    if counts_after != counts_before {
        return Err(Error::other(format!(
            "verification failed, nothing was changed: row counts {counts_after:?} differ from {counts_before:?}"
        )));
    }
    if orphans(conn)? != orphans_before {
        return Err(Error::other(
            "verification failed, nothing was changed: orphan rows changed",
        ));
    }
    let verdict: String = conn.query_row("PRAGMA main.quick_check", [], |row| row.get(0))?;
    if verdict != "ok" {
        return Err(Error::other(format!(
            "verification failed, nothing was changed: quick_check says {verdict}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_keeps_instants_and_refuses_precision_loss() {
        assert_eq!(
            canonical("2025-12-01 10:00:00").as_deref(),
            Some("2025-12-01T10:00:00.000000+00:00")
        );
        assert_eq!(
            canonical("2025-12-02T12:30:00.5+02:00").as_deref(),
            Some("2025-12-02T10:30:00.500000+00:00")
        );
        assert_eq!(
            canonical("2025-12-01T10:00:00.1234560+00:00").as_deref(),
            Some("2025-12-01T10:00:00.123456+00:00")
        );
        assert_eq!(canonical("2025-12-01T10:00:00.1234567+00:00"), None);
        assert_eq!(canonical("yesterday"), None);
    }

    #[test]
    fn mentions_whole_words_only() {
        assert!(mentions("status IN ('a')", "status"));
        assert!(!mentions("node_status IN ('a')", "status"));
    }
}
