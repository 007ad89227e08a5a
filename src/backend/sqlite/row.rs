//! The SQLite side of rows and parameters: [`Row`] for a rusqlite row ([`SqliteRow`]),
//! accepting every legacy shape, and [`SqliteArgs`], parameters written the way the legacy
//! layout stores them.
//!
//! Columns are always named (never positional): legacy files put columns added by later
//! versions last.

use rusqlite::types::{Value as SqlValue, ValueRef};
use serde_json::Value;

use crate::backend::row::Row;
use crate::model::{StringEnum, Timestamp, parse_legacy, to_canonical};
use crate::{Error, Result};

/// The column names of a statement, read from SQLite once per execution: rusqlite's lookup by
/// name asks SQLite for every column name again on each read.
pub(crate) struct ColumnNames {
    joined: String,
    ends: Vec<usize>,
}

impl ColumnNames {
    /// The names of `stmt`'s result columns, in order.
    pub(crate) fn of(stmt: &rusqlite::Statement<'_>) -> Self {
        let mut names = ColumnNames {
            joined: String::new(),
            ends: Vec::with_capacity(stmt.column_count()),
        };
        for name in stmt.column_names() {
            names.joined.push_str(name);
            names.ends.push(names.joined.len());
        }
        names
    }

    /// The index of `column` (ASCII case-insensitive, as SQLite names columns).
    fn index(&self, column: &str) -> Result<usize> {
        let mut start = 0;
        for (index, &end) in self.ends.iter().enumerate() {
            if self.joined[start..end].eq_ignore_ascii_case(column) {
                return Ok(index);
            }
            start = end;
        }
        Err(rusqlite::Error::InvalidColumnName(column.to_owned()).into())
    }
}

/// A rusqlite row read by column name through its statement's [`ColumnNames`].
pub(crate) struct SqliteRow<'r, 's> {
    /// The row.
    pub(crate) row: &'r rusqlite::Row<'s>,
    /// Its statement's column names.
    pub(crate) names: &'r ColumnNames,
}

impl SqliteRow<'_, '_> {
    fn value(&self, column: &str) -> Result<ValueRef<'_>> {
        Ok(self.row.get_ref(self.names.index(column)?)?)
    }

    fn text(&self, table: &str, column: &str) -> Result<Option<&str>> {
        match self.value(column)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(bytes) => std::str::from_utf8(bytes)
                .map(Some)
                .map_err(|_| Error::bad_data(table, column, "text is not valid UTF-8")),
            other => Err(Error::bad_data(
                table,
                column,
                format!("expected text, found {:?}", other.data_type()),
            )),
        }
    }
}

impl Row for SqliteRow<'_, '_> {
    /// Numbers stored in a text column are read as their text.
    fn text(&self, table: &str, column: &str) -> Result<Option<String>> {
        match self.value(column)? {
            ValueRef::Integer(i) => Ok(Some(i.to_string())),
            ValueRef::Real(f) => Ok(Some(f.to_string())),
            _ => Ok(SqliteRow::text(self, table, column)?.map(str::to_owned)),
        }
    }

    /// Legacy text holding a whole number, and whole reals, are accepted.
    fn int(&self, table: &str, column: &str) -> Result<Option<i64>> {
        match self.value(column)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(i) => Ok(Some(i)),
            ValueRef::Real(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
            ValueRef::Text(t) => std::str::from_utf8(t)
                .ok()
                .and_then(|t| t.trim().parse::<i64>().ok())
                .map(Some)
                .ok_or_else(|| Error::bad_data(table, column, "not a whole number")),
            _ => Err(Error::bad_data(table, column, "not a whole number")),
        }
    }

    /// Integers are widened exactly as SQLite does; numeric legacy text is accepted.
    fn float(&self, table: &str, column: &str) -> Result<Option<f64>> {
        match self.value(column)? {
            ValueRef::Null => Ok(None),
            ValueRef::Real(f) => Ok(Some(f)),
            ValueRef::Integer(i) => Ok(Some(i as f64)),
            ValueRef::Text(t) => std::str::from_utf8(t)
                .ok()
                .and_then(|t| t.trim().parse::<f64>().ok())
                .map(Some)
                .ok_or_else(|| Error::bad_data(table, column, "not a number")),
            ValueRef::Blob(_) => Err(Error::bad_data(table, column, "not a number")),
        }
    }

    /// SQLite computes booleans as 0/1 integers.
    fn flag(&self, table: &str, column: &str) -> Result<Option<bool>> {
        Ok(self.int(table, column)?.map(|n| n != 0))
    }

    /// Any legacy timestamp shape.
    fn timestamp(&self, table: &str, column: &str) -> Result<Option<Timestamp>> {
        match SqliteRow::text(self, table, column)? {
            None => Ok(None),
            Some(raw) => parse_legacy(raw)
                .map(Some)
                .ok_or_else(|| Error::bad_data(table, column, format!("unparseable timestamp {raw:?}"))),
        }
    }

    /// JSON stored as text.
    fn json(&self, table: &str, column: &str) -> Result<Option<Value>> {
        match SqliteRow::text(self, table, column)? {
            None => Ok(None),
            Some(raw) => serde_json::from_str(raw)
                .map(Some)
                .map_err(|e| Error::bad_data(table, column, format!("invalid JSON: {e}"))),
        }
    }
}

/// A value bound as a parameter the way the legacy layout stores it: timestamps in the
/// canonical text shape, JSON as text, booleans as 0/1, enumerations as their legacy string.
pub(crate) trait SqliteArg {
    /// The value to bind.
    fn to_sqlite(&self) -> SqlValue;
}

/// `SqliteArg` for values rusqlite binds as they are.
macro_rules! plain_args {
    ($($ty:ty),+) => {$(
        impl SqliteArg for $ty {
            fn to_sqlite(&self) -> SqlValue {
                SqlValue::from(self.to_owned())
            }
        }
    )+};
}

plain_args!(String, i64, f64, bool);

impl SqliteArg for str {
    fn to_sqlite(&self) -> SqlValue {
        SqlValue::Text(self.to_owned())
    }
}

impl SqliteArg for Timestamp {
    fn to_sqlite(&self) -> SqlValue {
        SqlValue::Text(to_canonical(self))
    }
}

impl SqliteArg for Value {
    fn to_sqlite(&self) -> SqlValue {
        SqlValue::Text(self.to_string())
    }
}

impl<E: StringEnum> SqliteArg for E {
    fn to_sqlite(&self) -> SqlValue {
        SqlValue::Text(self.to_string())
    }
}

impl<T: SqliteArg> SqliteArg for Option<T> {
    fn to_sqlite(&self) -> SqlValue {
        self.as_ref().map_or(SqlValue::Null, SqliteArg::to_sqlite)
    }
}

impl SqliteArg for &str {
    fn to_sqlite(&self) -> SqlValue {
        SqlValue::Text((*self).to_owned())
    }
}

/// The parameters of one statement (`?1`, `?2`, …), owned: they move to the blocking thread
/// the statement runs on. Built with `args![…]`, or with [`SqliteArgs::push`] for statements
/// assembled at run time.
#[derive(Debug, Clone, Default)]
pub(crate) struct SqliteArgs(Vec<SqlValue>);

impl SqliteArgs {
    /// The given values, in order.
    pub(crate) fn new(values: Vec<SqlValue>) -> Self {
        SqliteArgs(values)
    }

    /// Appends a parameter and returns its placeholder (`?N`).
    pub(crate) fn push(&mut self, value: impl SqliteArg) -> String {
        self.0.push(value.to_sqlite());
        format!("?{}", self.0.len())
    }

    /// The parameters as rusqlite binds them.
    pub(crate) fn params(&self) -> impl rusqlite::Params + '_ {
        rusqlite::params_from_iter(self.0.iter())
    }
}

/// `args![a, b, …]`: the [`SqliteArgs`] of one statement, each value bound through
/// [`SqliteArg`] (so a timestamp is always written in the canonical shape).
macro_rules! args {
    ($($value:expr),* $(,)?) => {{
        #[allow(unused_imports)]
        use $crate::backend::sqlite::row::SqliteArg as _;
        $crate::backend::sqlite::row::SqliteArgs::new(vec![$(($value).to_sqlite()),*])
    }};
}
pub(crate) use args;
