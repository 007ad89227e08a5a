//! Reads a legacy SQLite file for the copy and verify: opened read-only (the source is never
//! written), every column named, rows streamed one at a time.

use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use crate::copy::convert::Raw;
use crate::copy::source::{MAX_FOREIGN_KEYS, ScanOrder, ScanPlan, SourceRow, SourceTable};
use crate::{Error, ErrorKind, Result};

/// A legacy file opened read-only.
pub(crate) struct SqliteSource {
    pub(super) conn: Connection,
}

/// A stored value as the copy sees it.
pub(super) fn raw(value: ValueRef<'_>) -> Raw<'_> {
    match value {
        ValueRef::Null => Raw::Null,
        ValueRef::Integer(v) => Raw::Integer(v),
        ValueRef::Real(v) => Raw::Real(v),
        ValueRef::Text(v) => Raw::Text(v),
        ValueRef::Blob(v) => Raw::Blob(v),
    }
}

/// One result row of a [`SqliteSource::select_items`] query as a [`SourceRow`].
pub(super) fn source_row<'r>(row: &'r rusqlite::Row<'_>, plan: &ScanPlan) -> Result<SourceRow<'r>> {
    let mut source = SourceRow {
        values: [None; crate::copy::source::MAX_COLUMNS],
        parent_exists: [true; MAX_FOREIGN_KEYS],
    };
    let mut at = 0usize;
    for (i, present) in plan.present.iter().enumerate() {
        if *present {
            source.values[i] = Some(raw(row.get_ref(at)?));
            at += 1;
        }
    }
    let fk_count = plan.spec.foreign_keys.len().min(MAX_FOREIGN_KEYS);
    for flag in source.parent_exists.iter_mut().take(fk_count) {
        *flag = row.get::<_, i64>(at)? != 0;
        at += 1;
    }
    Ok(source)
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl SqliteSource {
    /// Opens `path` read-only.
    ///
    /// # Errors
    /// NotFound when the file does not exist; Config when it is not a SQLite file.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        if !path.is_file() {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("source file {} does not exist", path.display()),
            ));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|e| Error::from(e).context(format!("cannot open {}", path.display())))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "query_only", "ON")?;
        let source = SqliteSource { conn };
        // Touch the schema now so that a file that is not SQLite fails here, clearly.
        source
            .conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get::<_, i64>(0))
            .map_err(|e| {
                Error::new(
                    ErrorKind::Config,
                    format!("{} is not a readable SQLite database: {e}", path.display()),
                )
            })?;
        Ok(source)
    }

    /// The table's columns, or `None` when the file has no such table.
    pub(crate) fn table(&self, name: &str) -> Result<Option<SourceTable>> {
        let exists: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
            [name],
            |row| row.get(0),
        )?;
        if !exists {
            return Ok(None);
        }
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")?;
        let columns = stmt
            .query_map([name], |row| row.get::<_, String>(0))?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(Some(SourceTable { columns }))
    }

    /// Number of rows of a table the file has.
    pub(crate) fn count(&self, table: &str) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row(&format!("SELECT count(*) FROM {}", quote(table)), [], |row| row.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Whether the table holds a row whose single-column key is `key`.
    pub(crate) fn has_key(&self, table: &str, column: &str, key: &str) -> Result<bool> {
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM {} WHERE {} = ?1)",
            quote(table),
            quote(column)
        );
        Ok(self.conn.query_row(&sql, [key], |row| row.get(0))?)
    }

    /// The select list of `plan` (table alias `c`): the present spec columns, then one
    /// parent-exists flag per foreign key.
    pub(super) fn select_items(plan: &ScanPlan) -> String {
        let spec = plan.spec;
        let mut items: Vec<String> = Vec::new();
        for (column, present) in spec.columns.iter().zip(&plan.present) {
            if *present {
                items.push(format!("c.{}", quote(column.name)));
            }
        }
        for (fk, parent_present) in spec.foreign_keys.iter().zip(&plan.parent_present) {
            let column_present = spec
                .index_of(fk.column)
                .and_then(|i| plan.present.get(i).copied())
                .unwrap_or(false);
            let col = format!("c.{}", quote(fk.column));
            items.push(if !column_present {
                "1".to_owned()
            } else if !parent_present {
                format!("({col} IS NULL)")
            } else {
                format!(
                    "({col} IS NULL OR EXISTS (SELECT 1 FROM {} p WHERE p.{} = {col}))",
                    quote(fk.parent),
                    quote(fk.parent_column)
                )
            });
        }
        items.join(", ")
    }

    fn select_sql(plan: &ScanPlan) -> String {
        let spec = plan.spec;
        let table = quote(spec.name);
        let select = Self::select_items(plan);
        match (plan.order, spec.self_reference()) {
            (ScanOrder::Tree, Some(fk))
                if spec
                    .index_of(fk.column)
                    .and_then(|i| plan.present.get(i).copied())
                    .unwrap_or(false) =>
            {
                let parent = quote(fk.column);
                let id = quote(fk.parent_column);
                format!(
                    "WITH RECURSIVE tree(id, lvl) AS (\
                       SELECT n.{id}, 0 FROM {table} n \
                        WHERE n.{parent} IS NULL OR NOT EXISTS (SELECT 1 FROM {table} q WHERE q.{id} = n.{parent}) \
                       UNION ALL \
                       SELECT k.{id}, tree.lvl + 1 FROM {table} k JOIN tree ON k.{parent} = tree.id) \
                     SELECT {select} FROM {table} c LEFT JOIN tree ON tree.id = c.{id} \
                     ORDER BY tree.lvl IS NULL, tree.lvl, c.rowid"
                )
            }
            (ScanOrder::Key, _) => {
                let order: Vec<String> = spec.key.iter().map(|k| format!("c.{}", quote(k))).collect();
                format!("SELECT {select} FROM {table} c ORDER BY {}", order.join(", "))
            }
            _ => format!("SELECT {select} FROM {table} c"),
        }
    }

    /// Streams the rows of `plan` to `each` until it returns `Ok(false)` or the rows end.
    ///
    /// # Errors
    /// A SQLite error, or the first error of `each`.
    pub(crate) fn scan(&self, plan: &ScanPlan, each: &mut dyn FnMut(&SourceRow<'_>) -> Result<bool>) -> Result<()> {
        let sql = Self::select_sql(plan);
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let source = source_row(row, plan)?;
            if !each(&source)? {
                break;
            }
        }
        Ok(())
    }
}
