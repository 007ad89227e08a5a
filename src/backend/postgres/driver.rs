//! [`Driver`] over PostgreSQL: every statement through [`PgDb`]'s helpers (prepared and
//! cached per connection, rows counted for the call's span, units of work honoured).

use async_trait::async_trait;

use super::{Param, PgDb};
use crate::Result;
use crate::backend::driver::{Access, Driver, MapRow, Sql};

#[async_trait]
impl Driver for PgDb {
    type Args<'a> = &'a [Param<'a>];

    async fn fetch_rows<T: Send + 'static>(
        &self,
        _access: Access,
        sql: Sql,
        args: Self::Args<'_>,
        map: MapRow<T>,
    ) -> Result<Vec<T>> {
        let rows = match sql.cached() {
            true => self.query(sql.text(), args).await?,
            false => self.query_uncached(sql.text(), args).await?,
        };
        rows.iter().map(|row| map(row)).collect()
    }

    async fn execute_sql(&self, sql: Sql, args: Self::Args<'_>) -> Result<u64> {
        PgDb::execute(self, sql.text(), args).await
    }
}
