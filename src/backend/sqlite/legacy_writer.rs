//! Writes legacy-layout SQLite files for the generator (`synthlab-db generate`): the schema
//! statements it is given, rows by column name (columns the layout lacks are left out), and
//! fault injection that goes around the checks the legacy application did not always have.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::types::ToSqlOutput;
use rusqlite::{Connection, ToSql};

use crate::copy::generate::GenValue;
use crate::{Error, Result};

/// An open legacy file being written.
pub(crate) struct LegacyWriter {
    conn: Connection,
    columns: HashMap<String, Vec<String>>,
    statements: HashMap<String, (String, Vec<usize>)>,
}

impl ToSql for GenValue {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            GenValue::Null => ToSqlOutput::from(rusqlite::types::Null),
            GenValue::Int(v) => ToSqlOutput::from(*v),
            GenValue::Real(v) => ToSqlOutput::from(*v),
            GenValue::Text(v) => ToSqlOutput::from(v.as_str()),
            GenValue::Bytes(v) => ToSqlOutput::from(v.as_slice()),
        })
    }
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
        let mut writer = LegacyWriter {
            conn,
            columns: HashMap::new(),
            statements: HashMap::new(),
        };
        let tables: Vec<String> = {
            let mut stmt = writer
                .conn
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?;
            stmt.query_map([], |row| row.get(0))?
                .collect::<std::result::Result<_, _>>()?
        };
        for table in tables {
            let mut stmt = writer.conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
            let cols: Vec<String> = stmt
                .query_map([&table], |row| row.get(0))?
                .collect::<std::result::Result<_, _>>()?;
            drop(stmt);
            writer.columns.insert(table, cols);
        }
        writer.conn.execute_batch("BEGIN")?;
        Ok(writer)
    }

    /// Whether the layout has this table.
    pub(crate) fn has_table(&self, table: &str) -> bool {
        self.columns.contains_key(table)
    }

    /// Inserts one row; columns the layout lacks are skipped.
    pub(crate) fn insert(&mut self, table: &str, row: &[(&str, GenValue)]) -> Result<()> {
        let Some(columns) = self.columns.get(table) else {
            return Ok(());
        };
        if !self.statements.contains_key(table) {
            let used: Vec<usize> = (0..row.len())
                .filter(|&i| columns.iter().any(|c| c == row[i].0))
                .collect();
            let names: Vec<String> = used.iter().map(|&i| quote(row[i].0)).collect();
            let marks: Vec<String> = (1..=used.len()).map(|i| format!("?{i}")).collect();
            let sql = format!(
                "INSERT INTO {} ({}) VALUES ({})",
                quote(table),
                names.join(", "),
                marks.join(", ")
            );
            self.statements.insert(table.to_owned(), (sql, used));
        }
        let Some((sql, used)) = self.statements.get(table) else {
            return Ok(());
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let params: Vec<&dyn ToSql> = used.iter().map(|&i| &row[i].1 as &dyn ToSql).collect();
        stmt.execute(params.as_slice())
            .map_err(|e| Error::from(e).context(format!("insert into {table}")))?;
        Ok(())
    }

    /// Sets one value of the rows whose `key_column` is `key`, bypassing CHECK constraints
    /// (as files upgraded in place lack them). `GenValue::Bytes` is stored as TEXT with
    /// exactly those bytes, valid UTF-8 or not. Returns the number of rows changed.
    pub(crate) fn corrupt(
        &mut self,
        table: &str,
        key_column: &str,
        key: &str,
        column: &str,
        value: &GenValue,
    ) -> Result<usize> {
        if !self.columns.get(table).is_some_and(|c| c.iter().any(|n| n == column)) {
            return Ok(0);
        }
        let placeholder = match value {
            GenValue::Bytes(_) => "CAST(?1 AS TEXT)",
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
