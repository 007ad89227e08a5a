//! Reading typed values out of SQLite rows by column name, accepting every legacy shape.
//!
//! Columns are always named (never positional): legacy files put columns added by later
//! versions last.

use std::str::FromStr;

use rusqlite::Row;
use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use serde_json::Value;

use crate::model::{Timestamp, parse_legacy, to_canonical};
use crate::{Error, Result};

fn text<'r>(row: &'r Row<'_>, table: &str, column: &str) -> Result<Option<&'r str>> {
    match row.get_ref(column)? {
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

/// A required text column.
pub(crate) fn string(row: &Row<'_>, table: &str, column: &str) -> Result<String> {
    opt_string(row, table, column)?.ok_or_else(|| Error::bad_data(table, column, "unexpected NULL"))
}

/// A nullable text column (numbers stored in a text column are read as their text).
pub(crate) fn opt_string(row: &Row<'_>, table: &str, column: &str) -> Result<Option<String>> {
    match row.get_ref(column)? {
        ValueRef::Integer(i) => Ok(Some(i.to_string())),
        ValueRef::Real(f) => Ok(Some(f.to_string())),
        _ => Ok(text(row, table, column)?.map(str::to_owned)),
    }
}

/// A required integer column (legacy text holding a whole number is accepted).
pub(crate) fn int(row: &Row<'_>, table: &str, column: &str) -> Result<i64> {
    opt_int(row, table, column)?.ok_or_else(|| Error::bad_data(table, column, "unexpected NULL"))
}

/// A nullable integer column.
pub(crate) fn opt_int(row: &Row<'_>, table: &str, column: &str) -> Result<Option<i64>> {
    match row.get_ref(column)? {
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

/// A required floating point column.
pub(crate) fn float(row: &Row<'_>, table: &str, column: &str) -> Result<f64> {
    opt_float(row, table, column)?.ok_or_else(|| Error::bad_data(table, column, "unexpected NULL"))
}

/// A nullable floating point column (integers are widened exactly as SQLite does).
pub(crate) fn opt_float(row: &Row<'_>, table: &str, column: &str) -> Result<Option<f64>> {
    match row.get_ref(column)? {
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

/// A required boolean computed in SQL (SQLite returns 0/1 integers).
pub(crate) fn flag(row: &Row<'_>, table: &str, column: &str) -> Result<bool> {
    Ok(int(row, table, column)? != 0)
}

/// A required timestamp column, in any legacy shape.
pub(crate) fn timestamp(row: &Row<'_>, table: &str, column: &str) -> Result<Timestamp> {
    opt_timestamp(row, table, column)?.ok_or_else(|| Error::bad_data(table, column, "unexpected NULL"))
}

/// A nullable timestamp column, in any legacy shape.
pub(crate) fn opt_timestamp(row: &Row<'_>, table: &str, column: &str) -> Result<Option<Timestamp>> {
    match text(row, table, column)? {
        None => Ok(None),
        Some(raw) => parse_legacy(raw)
            .map(Some)
            .ok_or_else(|| Error::bad_data(table, column, format!("unparseable timestamp {raw:?}"))),
    }
}

/// A required JSON column (stored as text).
pub(crate) fn json(row: &Row<'_>, table: &str, column: &str) -> Result<Value> {
    opt_json(row, table, column)?.ok_or_else(|| Error::bad_data(table, column, "unexpected NULL"))
}

/// A nullable JSON column (stored as text).
pub(crate) fn opt_json(row: &Row<'_>, table: &str, column: &str) -> Result<Option<Value>> {
    match text(row, table, column)? {
        None => Ok(None),
        Some(raw) => serde_json::from_str(raw)
            .map(Some)
            .map_err(|e| Error::bad_data(table, column, format!("invalid JSON: {e}"))),
    }
}

/// A required enumerated column stored as its legacy string.
pub(crate) fn enumerated<E: FromStr>(row: &Row<'_>, table: &str, column: &str) -> Result<E> {
    let raw = string(row, table, column)?;
    raw.parse()
        .map_err(|_| Error::bad_data(table, column, format!("value {raw:?} is outside the enumeration")))
}

/// Timestamp parameter in the canonical text shape.
pub(crate) fn ts_param(ts: &Timestamp) -> String {
    to_canonical(ts)
}

/// Optional timestamp parameter.
pub(crate) fn opt_ts_param(ts: &Option<Timestamp>) -> Option<String> {
    ts.as_ref().map(to_canonical)
}

/// JSON parameter as text.
pub(crate) fn json_param(value: &Value) -> String {
    value.to_string()
}

/// Optional JSON parameter as text.
pub(crate) fn opt_json_param(value: &Option<Value>) -> Option<String> {
    value.as_ref().map(Value::to_string)
}

/// A dynamically built parameter list for statements assembled at run time.
#[derive(Default)]
pub(crate) struct Params(Vec<SqlValue>);

impl Params {
    /// Appends a parameter and returns its placeholder (`?N`).
    pub(crate) fn push(&mut self, value: impl Into<SqlValue>) -> String {
        self.0.push(value.into());
        format!("?{}", self.0.len())
    }

    /// The parameters, for `rusqlite::params_from_iter`.
    pub(crate) fn iter(&self) -> impl Iterator<Item = ToSqlOutput<'_>> {
        self.0.iter().map(|v| ToSqlOutput::Borrowed(v.into()))
    }
}
