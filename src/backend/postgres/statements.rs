//! How [`super::PgDb`] sends statements: named and cached per connection (the default), or,
//! behind a transaction pooler (`pgbouncer=true`), unnamed.
//!
//! A transaction pooler such as PgBouncer hands each transaction — each `Sync` outside an
//! explicit transaction — to whichever server connection is free, so a statement prepared
//! under a name on one server connection is unknown on the next (`prepared statement "s2" does
//! not exist`), or a name is taken twice (`… already exists`). In pgbouncer mode every call is
//! therefore one unnamed Parse/Bind/Execute/Sync (`query_typed`), which needs the type of each
//! parameter. The types are the server's own: learned once per statement text by preparing it
//! inside a transaction (`BEGIN`, prepare, close, `COMMIT`, all on one server connection) and
//! cached. A statement without parameters needs no learning.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use deadpool_postgres::Pool;
use tokio_postgres::types::Type;

use crate::{Error, Result};

/// Statement texts whose parameter types are kept (beyond that they are learned per call).
const KEPT_TEXTS: usize = 4096;

/// How statements reach the server.
#[derive(Clone)]
pub(crate) enum Statements {
    /// Named prepared statements, cached per pooled connection (direct connections).
    Prepared,
    /// Unnamed statements with learned parameter types (behind a transaction pooler).
    Unnamed(Arc<ParamTypes>),
}

impl Statements {
    /// The mode for a configuration: unnamed when `pgbouncer` is on.
    pub(crate) fn for_pooler(pgbouncer: bool) -> Self {
        if pgbouncer {
            Statements::Unnamed(Arc::new(ParamTypes::default()))
        } else {
            Statements::Prepared
        }
    }
}

/// Parameter types per statement text, as the server inferred them.
#[derive(Default)]
pub(crate) struct ParamTypes {
    known: RwLock<HashMap<String, Arc<[Type]>>>,
}

impl ParamTypes {
    /// The types learned for `sql`, if any.
    pub(crate) fn get(&self, sql: &str) -> Option<Arc<[Type]>> {
        self.known
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(sql)
            .cloned()
    }

    /// Keeps the types of `sql` (unless the cache is full).
    pub(crate) fn keep(&self, sql: &str, types: Arc<[Type]>) {
        let mut known = self.known.write().unwrap_or_else(PoisonError::into_inner);
        if known.len() < KEPT_TEXTS {
            known.insert(sql.to_owned(), types);
        }
    }
}

/// Learns the parameter types of `sql` on a connection of `pool`, inside a transaction of its
/// own: the named statement is prepared and closed before `COMMIT`, so a transaction pooler
/// runs all of it on one server connection and nothing outlives the transaction.
///
/// Runs in a task of its own, so that a caller who gives up (a dropped future) cannot leave the
/// connection inside the transaction: the task still ends it before the connection goes back
/// to the pool.
///
/// # Errors
/// The pool's error, or the server's when the statement does not parse.
pub(crate) async fn learn(pool: &Pool, sql: &str) -> Result<Arc<[Type]>> {
    let pool = pool.clone();
    let sql = sql.to_owned();
    tokio::spawn(async move {
        let client = pool.get().await?;
        client.batch_execute("BEGIN").await?;
        // The statement is dropped at the end of this line: its Close goes out before COMMIT.
        let learned = client.prepare(&sql).await.map(|s| Arc::<[Type]>::from(s.params()));
        let end = if learned.is_ok() { "COMMIT" } else { "ROLLBACK" };
        client.batch_execute(end).await?;
        Ok(learned?)
    })
    .await
    .map_err(|e| Error::other(format!("learning the parameter types of a statement failed: {e}")))?
}
