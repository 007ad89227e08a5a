//! The PostgreSQL side of rows: [`Row`] for `tokio_postgres::Row`, reading the native types
//! (text, bigint, double precision, boolean, timestamptz, jsonb) by column name.

use serde_json::Value;
use tokio_postgres::types::FromSql;

use crate::backend::row::Row;
use crate::model::Timestamp;
use crate::{Error, Result};

/// Any column whose Rust type maps directly; a type mismatch is a bad-data error.
pub(crate) fn get<'r, T: FromSql<'r>>(row: &'r tokio_postgres::Row, table: &str, column: &str) -> Result<T> {
    row.try_get(column).map_err(|e| Error::bad_data(table, column, e))
}

impl Row for tokio_postgres::Row {
    fn text(&self, table: &str, column: &str) -> Result<Option<String>> {
        get(self, table, column)
    }

    fn int(&self, table: &str, column: &str) -> Result<Option<i64>> {
        get(self, table, column)
    }

    fn float(&self, table: &str, column: &str) -> Result<Option<f64>> {
        get(self, table, column)
    }

    fn flag(&self, table: &str, column: &str) -> Result<Option<bool>> {
        get(self, table, column)
    }

    fn timestamp(&self, table: &str, column: &str) -> Result<Option<Timestamp>> {
        get(self, table, column)
    }

    fn json(&self, table: &str, column: &str) -> Result<Option<Value>> {
        get(self, table, column)
    }
}
