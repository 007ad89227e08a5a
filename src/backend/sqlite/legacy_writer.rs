//! Writes legacy-layout SQLite files for the test-data tools (the builder of
//! `synthlab_db::legacy` and the generator of `synthlab-db generate`): the schema statements it
//! is given, rows by column name (columns the layout lacks are left out), and fault injection
//! that goes around the checks the legacy application did not always have. It takes the
//! driver-neutral [`LegacyValue`] and knows nothing of the tools above it.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rusqlite::types::ToSqlOutput;
use rusqlite::{Connection, ToSql};

use crate::schema::legacy_value::LegacyValue;
use crate::{Error, Result};

/// An open legacy file being written.
pub(crate) struct LegacyWriter {
    conn: Connection,
    columns: BTreeMap<String, Vec<String>>,
    /// Per table, per list of columns a row gives: the INSERT and the positions of the row's
    /// values it uses.
    statements: HashMap<String, Vec<Insert>>,
}

/// A prepared shape of INSERT.
struct Insert {
    given: Vec<String>,
    sql: String,
    used: Vec<usize>,
}

impl ToSql for LegacyValue {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            LegacyValue::Null => ToSqlOutput::from(rusqlite::types::Null),
            LegacyValue::Integer(v) => ToSqlOutput::from(*v),
            LegacyValue::Real(v) => ToSqlOutput::from(*v),
            LegacyValue::Text(v) => ToSqlOutput::from(v.as_str()),
            LegacyValue::Bytes(v) => ToSqlOutput::from(v.as_slice()),
        })
    }
}

/// The tables of a connection with their columns in physical order.
fn table_columns(conn: &Connection) -> Result<BTreeMap<String, Vec<String>>> {
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?
        .query_map([], |row| row.get(0))?
        .collect::<std::result::Result<_, _>>()?;
    let mut tables = BTreeMap::new();
    for name in names {
        let columns: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")?
            .query_map([&name], |row| row.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        tables.insert(name, columns);
    }
    Ok(tables)
}

/// The tables a layout script creates, with their columns in physical order (run in memory).
///
/// # Errors
/// As SQLite reports a failing statement.
pub(crate) fn layout_columns(sql: &str) -> Result<BTreeMap<String, Vec<String>>> {
    let conn = Connection::open_in_memory()?;
    conn.execute_batch(sql)?;
    table_columns(&conn)
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl LegacyWriter {
    /// Creates `path` (replacing any file there) and runs the layout statements.
    pub(crate) fn create(path: &Path, statements: &[String]) -> Result<Self> {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let _ = std::fs::remove_file(&name);
        }
        let conn =
            Connection::open(path).map_err(|e| Error::from(e).context(format!("cannot create {}", path.display())))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "OFF")?;
        for statement in statements {
            conn.execute_batch(statement)
                .map_err(|e| Error::from(e).context(format!("layout statement failed: {statement}")))?;
        }
        // As in the wild: foreign keys are not enforced on this connection (set after the
        // layout, whose script switches them on as the legacy application did).
        conn.pragma_update(None, "foreign_keys", "OFF")?;
        let columns = table_columns(&conn)?;
        conn.execute_batch("BEGIN")?;
        Ok(LegacyWriter {
            conn,
            columns,
            statements: HashMap::new(),
        })
    }

    /// Whether the layout has this table.
    pub(crate) fn has_table(&self, table: &str) -> bool {
        self.columns.contains_key(table)
    }

    /// Inserts one row (`DEFAULT VALUES` when it names no column); columns the layout lacks
    /// are skipped, and so is a row of a table the layout lacks.
    pub(crate) fn insert<C: AsRef<str>>(&mut self, table: &str, row: &[(C, LegacyValue)]) -> Result<()> {
        let Some(columns) = self.columns.get(table) else {
            return Ok(());
        };
        let shapes = self.statements.entry(table.to_owned()).or_default();
        let same = |insert: &Insert| {
            insert
                .given
                .iter()
                .map(String::as_str)
                .eq(row.iter().map(|(c, _)| c.as_ref()))
        };
        let at = match shapes.iter().position(same) {
            Some(at) => at,
            None => {
                let used: Vec<usize> = (0..row.len())
                    .filter(|&i| columns.iter().any(|c| c == row[i].0.as_ref()))
                    .collect();
                let names: Vec<String> = used.iter().map(|&i| quote(row[i].0.as_ref())).collect();
                let marks: Vec<String> = (1..=used.len()).map(|i| format!("?{i}")).collect();
                let sql = if used.is_empty() {
                    format!("INSERT INTO {} DEFAULT VALUES", quote(table))
                } else {
                    format!(
                        "INSERT INTO {} ({}) VALUES ({})",
                        quote(table),
                        names.join(", "),
                        marks.join(", ")
                    )
                };
                let given = row.iter().map(|(c, _)| c.as_ref().to_owned()).collect();
                shapes.push(Insert { given, sql, used });
                shapes.len() - 1
            }
        };
        let Insert { sql, used, .. } = &shapes[at];
        let mut stmt = self.conn.prepare_cached(sql)?;
        let params: Vec<&dyn ToSql> = used.iter().map(|&i| &row[i].1 as &dyn ToSql).collect();
        stmt.execute(params.as_slice())
            .map_err(|e| Error::from(e).context(format!("insert into {table}")))?;
        Ok(())
    }

    /// Sets one value of the rows whose `key_column` is `key`, bypassing CHECK constraints
    /// (as files upgraded in place lack them). `LegacyValue::Bytes` is stored as TEXT with
    /// exactly those bytes, valid UTF-8 or not. Returns the number of rows changed.
    pub(crate) fn corrupt(
        &mut self,
        table: &str,
        key_column: &str,
        key: &str,
        column: &str,
        value: &LegacyValue,
    ) -> Result<usize> {
        if !self.columns.get(table).is_some_and(|c| c.iter().any(|n| n == column)) {
            return Ok(0);
        }
        let placeholder = match value {
            LegacyValue::Bytes(_) => "CAST(?1 AS TEXT)",
            _ => "?1",
        };
        let sql = format!(
            "UPDATE {} SET {} = {placeholder} WHERE {} = ?2",
            quote(table),
            quote(column),
            quote(key_column)
        );
        self.conn.pragma_update(None, "ignore_check_constraints", "ON")?;
        let changed = self.conn.execute(&sql, rusqlite::params![value, key]);
        self.conn.pragma_update(None, "ignore_check_constraints", "OFF")?;
        Ok(changed?)
    }

    /// Commits and closes the file.
    pub(crate) fn finish(self) -> Result<()> {
        self.conn.execute_batch("COMMIT")?;
        self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        self.conn.close().map_err(|(_, e)| Error::from(e))?;
        Ok(())
    }
}
