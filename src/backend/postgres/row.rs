//! Reading typed values out of PostgreSQL rows by column name.

use std::str::FromStr;

use serde_json::Value;
use tokio_postgres::Row;
use tokio_postgres::types::FromSql;

use crate::model::Timestamp;
use crate::{Error, Result};

/// Any column whose Rust type maps directly (text, bigint, double, jsonb, timestamptz, bool).
pub(crate) fn get<'r, T: FromSql<'r>>(row: &'r Row, table: &str, column: &str) -> Result<T> {
    row.try_get(column).map_err(|e| Error::bad_data(table, column, e))
}

/// A required enumerated column stored as its legacy string.
pub(crate) fn enumerated<E: FromStr>(row: &Row, table: &str, column: &str) -> Result<E> {
    let raw: &str = get(row, table, column)?;
    raw.parse()
        .map_err(|_| Error::bad_data(table, column, format!("value {raw:?} is outside the enumeration")))
}

/// A required timestamptz column.
pub(crate) fn timestamp(row: &Row, table: &str, column: &str) -> Result<Timestamp> {
    get(row, table, column)
}

/// A nullable timestamptz column.
pub(crate) fn opt_timestamp(row: &Row, table: &str, column: &str) -> Result<Option<Timestamp>> {
    get(row, table, column)
}

/// A required jsonb column.
pub(crate) fn json(row: &Row, table: &str, column: &str) -> Result<Value> {
    get(row, table, column)
}

/// A nullable jsonb column.
pub(crate) fn opt_json(row: &Row, table: &str, column: &str) -> Result<Option<Value>> {
    get(row, table, column)
}
