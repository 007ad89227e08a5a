//! [`Driver`]: how repositories run statements, the same on both backends.
//!
//! After refinery's driver traits: each backend implements two small required methods —
//! run a statement and map its rows ([`Driver::fetch_rows`]), run a statement and count the
//! rows it changed ([`Driver::execute_sql`]) — and everything built on them is written once in
//! the provided methods: one row or none, all rows, a page (total and items from one
//! statement), the row an INSERT/UPDATE … RETURNING wrote, and the NotFound of a write that
//! matched no row. The SQL stays with each backend, in its own dialect, next to the call.

use std::borrow::Cow;
use std::fmt::Display;

use async_trait::async_trait;

use super::row::{FromColumn, FromRow, Row};
use crate::model::{Page, PageRequest};
use crate::{Error, Result};

/// Whether a statement only reads or also writes. SQLite runs reads on a read-only
/// connection and writes on the single writer inside `BEGIN IMMEDIATE`; PostgreSQL runs both
/// alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// A query.
    Read,
    /// A statement that changes rows (and may return some, `… RETURNING`).
    Write,
}

/// The text of a statement and whether the driver keeps it prepared: fixed statements are
/// cached per connection; open-ended ones (built from a caller's search) are not.
#[derive(Debug, Clone)]
pub(crate) struct Sql {
    text: Cow<'static, str>,
    cached: bool,
}

impl Sql {
    /// A statement built at run time from an unbounded set of shapes: prepared for one use.
    pub(crate) fn uncached(text: String) -> Self {
        Sql {
            text: Cow::Owned(text),
            cached: false,
        }
    }

    /// The statement text.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Whether the driver should keep the statement prepared.
    pub(crate) fn cached(&self) -> bool {
        self.cached
    }
}

impl From<&'static str> for Sql {
    fn from(text: &'static str) -> Self {
        Sql {
            text: Cow::Borrowed(text),
            cached: true,
        }
    }
}

impl From<String> for Sql {
    /// A statement built at run time from a small, fixed set of shapes: cached like a fixed one.
    fn from(text: String) -> Self {
        Sql {
            text: Cow::Owned(text),
            cached: true,
        }
    }
}

/// How one row becomes a `T` (a plain function: it runs on whichever thread the driver
/// reads rows on).
pub(crate) type MapRow<T> = for<'r> fn(&'r dyn Row) -> Result<T>;

/// What each backend implements (two required methods) and what repositories call (the
/// provided ones). `Args` is the backend's parameter list: PostgreSQL borrows
/// `&[&dyn ToSql]`, SQLite owns its values (they move to a blocking thread).
#[async_trait]
pub(crate) trait Driver: Sync {
    /// The parameters of one statement.
    type Args<'a>: Send
    where
        Self: 'a;

    /// Runs one statement and maps each row it returns, in order.
    ///
    /// # Errors
    /// The statement's error, classified into a kind; the first error of `map`.
    async fn fetch_rows<T: Send + 'static>(
        &self,
        access: Access,
        sql: Sql,
        args: Self::Args<'_>,
        map: MapRow<T>,
    ) -> Result<Vec<T>>;

    /// Runs one write statement and returns the number of rows it changed.
    ///
    /// # Errors
    /// The statement's error, classified into a kind.
    async fn execute_sql(&self, sql: Sql, args: Self::Args<'_>) -> Result<u64>;

    /// The first row of a query, or `None`.
    ///
    /// # Errors
    /// As [`Driver::fetch_rows`].
    async fn fetch_opt<T: FromRow>(&self, sql: impl Into<Sql> + Send, args: Self::Args<'_>) -> Result<Option<T>> {
        let rows = self.fetch_rows(Access::Read, sql.into(), args, T::from_row).await?;
        Ok(rows.into_iter().next())
    }

    /// Every row of a query, in its order.
    ///
    /// # Errors
    /// As [`Driver::fetch_rows`].
    async fn fetch_all<T: FromRow>(&self, sql: impl Into<Sql> + Send, args: Self::Args<'_>) -> Result<Vec<T>> {
        self.fetch_rows(Access::Read, sql.into(), args, T::from_row).await
    }

    /// Every row of a query, each mapped by `map`, collected (into a `Vec`, a set, a map…).
    ///
    /// # Errors
    /// As [`Driver::fetch_rows`].
    async fn fetch_mapped<T: Send + 'static, C: FromIterator<T>>(
        &self,
        sql: impl Into<Sql> + Send,
        args: Self::Args<'_>,
        map: MapRow<T>,
    ) -> Result<C> {
        let rows = self.fetch_rows(Access::Read, sql.into(), args, map).await?;
        Ok(rows.into_iter().collect())
    }

    /// The single value of a one-column query (its column named `value`) in its first row,
    /// or `None` when it returned no row.
    ///
    /// # Errors
    /// As [`Driver::fetch_rows`].
    async fn fetch_value<T: FromColumn + Send + 'static>(
        &self,
        sql: impl Into<Sql> + Send,
        args: Self::Args<'_>,
    ) -> Result<Option<T>> {
        let rows = self.fetch_rows(Access::Read, sql.into(), args, value_column).await?;
        Ok(rows.into_iter().next())
    }

    /// The single value (the column `value`) of every row of a one-column query.
    ///
    /// # Errors
    /// As [`Driver::fetch_rows`].
    async fn fetch_values<T: FromColumn + Send + 'static>(
        &self,
        sql: impl Into<Sql> + Send,
        args: Self::Args<'_>,
    ) -> Result<Vec<T>> {
        self.fetch_rows(Access::Read, sql.into(), args, value_column).await
    }

    /// One page of a listing from a `total LEFT JOIN page` statement: a column `total` on every
    /// row, and the page's rows (none when the page is empty: one row whose `T::KEY` is NULL).
    /// Total and items come from one statement, so from one snapshot.
    ///
    /// # Errors
    /// As [`Driver::fetch_rows`].
    async fn fetch_page<T: FromRow>(
        &self,
        sql: impl Into<Sql> + Send,
        args: Self::Args<'_>,
        page: PageRequest,
    ) -> Result<Page<T>> {
        let rows = self.fetch_rows(Access::Read, sql.into(), args, page_row::<T>).await?;
        Ok(page_of(rows, page))
    }

    /// The row an `INSERT … RETURNING` (or an upsert) wrote.
    ///
    /// # Errors
    /// As [`Driver::fetch_rows`]; Other when the statement returned no row.
    async fn fetch_written<T: FromRow>(&self, sql: impl Into<Sql> + Send, args: Self::Args<'_>) -> Result<T> {
        written(self.fetch_rows(Access::Write, sql.into(), args, T::from_row).await?)
    }

    /// The row an `UPDATE … RETURNING` changed; NotFound (`what`) when it matched none.
    ///
    /// # Errors
    /// As [`Driver::fetch_rows`]; NotFound when no row matched.
    async fn fetch_updated<T: FromRow>(
        &self,
        sql: impl Into<Sql> + Send,
        args: Self::Args<'_>,
        what: impl Display + Send,
    ) -> Result<T> {
        let rows = self.fetch_rows(Access::Write, sql.into(), args, T::from_row).await?;
        rows.into_iter().next().ok_or_else(|| Error::not_found(what))
    }

    /// Runs a write statement; the number of rows it changed.
    ///
    /// # Errors
    /// As [`Driver::execute_sql`].
    async fn execute_count(&self, sql: impl Into<Sql> + Send, args: Self::Args<'_>) -> Result<u64> {
        self.execute_sql(sql.into(), args).await
    }

    /// Runs a write statement that must change a row; NotFound (`what`) when it matched none.
    ///
    /// # Errors
    /// As [`Driver::execute_sql`]; NotFound when no row matched.
    async fn execute_found(
        &self,
        sql: impl Into<Sql> + Send,
        args: Self::Args<'_>,
        what: impl Display + Send,
    ) -> Result<()> {
        match self.execute_sql(sql.into(), args).await? {
            0 => Err(Error::not_found(what)),
            _ => Ok(()),
        }
    }
}

/// The row an `INSERT … RETURNING` returned.
///
/// # Errors
/// Other when it returned none.
pub(crate) fn written<T: FromRow>(rows: Vec<T>) -> Result<T> {
    rows.into_iter()
        .next()
        .ok_or_else(|| Error::other(format!("INSERT INTO {} … RETURNING gave no row", T::TABLE)))
}

/// The column `value` of a one-column query.
fn value_column<T: FromColumn>(row: &dyn Row) -> Result<T> {
    T::from_column(row, "query", "value")
}

/// One row of a `total LEFT JOIN page` statement: the total, and the item unless the row is
/// the empty side of the join (its `T::KEY` is NULL).
///
/// # Errors
/// Other (bad data) when the row cannot be read.
pub(crate) fn page_row<T: FromRow>(row: &dyn Row) -> Result<(i64, Option<T>)> {
    let columns = row.of(T::TABLE);
    let total = columns.get("total")?;
    if columns.is_null(T::KEY)? {
        return Ok((total, None));
    }
    Ok((total, Some(T::from_row(row)?)))
}

/// The page of the rows [`page_row`] read.
pub(crate) fn page_of<T>(rows: Vec<(i64, Option<T>)>, request: PageRequest) -> Page<T> {
    let total = rows.first().map_or(0, |(total, _)| *total);
    let items = rows.into_iter().filter_map(|(_, item)| item).collect();
    Page::new(items, total, request)
}
