//! [`Driver`] over SQLite: reads on a read-only connection, writes on the single writer in
//! `BEGIN IMMEDIATE` (through [`SqliteDb::read`] / [`SqliteDb::write`], off the async
//! workers), statements prepared and cached per connection.

use async_trait::async_trait;
use rusqlite::Connection;

use super::row::{ColumnNames, SqliteArgs, SqliteRow};
use super::{SqliteDb, add_rows_read};
use crate::Result;
use crate::backend::driver::{Access, Driver, MapRow, Sql};

/// Runs one statement on `conn` and maps each row it returns (for work that runs several
/// statements in one transaction).
///
/// # Errors
/// The statement's error; the first error of `map`.
pub(crate) fn rows_on<T>(conn: &Connection, sql: impl Into<Sql>, args: &SqliteArgs, map: MapRow<T>) -> Result<Vec<T>> {
    let sql = sql.into();
    let (mut cached, mut plain);
    let stmt: &mut rusqlite::Statement<'_> = match sql.cached() {
        true => {
            cached = conn.prepare_cached(sql.text())?;
            &mut cached
        }
        false => {
            plain = conn.prepare(sql.text())?;
            &mut plain
        }
    };
    let names = ColumnNames::of(stmt);
    let mut rows = stmt.query(args.params())?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(map(&SqliteRow { row, names: &names })?);
    }
    drop(rows);
    if stmt.readonly() {
        add_rows_read(out.len());
    }
    Ok(out)
}

/// Runs one write statement on `conn`; the number of rows it changed.
///
/// # Errors
/// The statement's error.
pub(crate) fn execute_on(conn: &Connection, sql: impl Into<Sql>, args: &SqliteArgs) -> Result<u64> {
    let sql = sql.into();
    Ok(conn.prepare_cached(sql.text())?.execute(args.params())? as u64)
}

#[async_trait]
impl Driver for SqliteDb {
    type Args<'a> = SqliteArgs;

    async fn fetch_rows<T: Send + 'static>(
        &self,
        access: Access,
        sql: Sql,
        args: Self::Args<'_>,
        map: MapRow<T>,
    ) -> Result<Vec<T>> {
        let work = move |conn: &Connection| rows_on(conn, sql, &args, map);
        match access {
            Access::Read => self.read(work).await,
            Access::Write => self.write(work).await,
        }
    }

    async fn execute_sql(&self, sql: Sql, args: Self::Args<'_>) -> Result<u64> {
        self.write(move |conn| execute_on(conn, sql, &args)).await
    }
}
