//! How [`super::PgDb`] sends statements: named and cached per connection (the default), or,
//! behind a transaction pooler (`pgbouncer=true`), unnamed.
//!
//! A transaction pooler such as PgBouncer hands each transaction — each `Sync` outside an
//! explicit transaction — to whichever server connection is free, so a statement prepared
//! under a name on one server connection is unknown on the next (`prepared statement "s2" does
//! not exist`), or a name is taken twice (`… already exists`). In pgbouncer mode every call is
//! therefore one unnamed Parse/Bind/Execute/Sync (`query_typed`), which needs the type of each
//! parameter. The types are the server's own, learned once per statement text and cached:
//! `PREPARE` under a name of ours, read `pg_prepared_statements`, `DEALLOCATE` — one simple
//! query, so a pooler runs all of it on one server connection and nothing outlives it. A
//! statement without parameters needs no learning.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use tokio_postgres::types::Type;
use tokio_postgres::{Client, SimpleQueryMessage};

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

/// A server-side name no other session of any process picks: `prefix`, our process id, a
/// counter and the clock's nanoseconds (plain identifier characters only).
pub(crate) fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Learns the parameter types of `sql` (the server infers them as for a prepared statement).
///
/// # Errors
/// The server's error when the statement does not parse or a type cannot be inferred; Other
/// for a parameter of a type the driver does not know (only built-in types are used here).
pub(crate) async fn learn(client: &Client, sql: &str) -> Result<Arc<[Type]>> {
    let name = unique_name("synthlab_types");
    // Statement texts are this crate's own (never a caller's): safe to embed.
    let probe = format!(
        "PREPARE {name} AS {sql};\n\
         SELECT parameter_types::oid[]::text FROM pg_prepared_statements WHERE name = '{name}';\n\
         DEALLOCATE {name}"
    );
    let mut oids = None;
    for message in client.simple_query(&probe).await? {
        if let SimpleQueryMessage::Row(row) = message {
            oids = row.get(0).map(str::to_owned);
        }
    }
    let oids = oids.ok_or_else(|| Error::other("the server did not describe the statement's parameters"))?;
    oids.trim_matches(|c| c == '{' || c == '}')
        .split(',')
        .filter(|oid| !oid.is_empty())
        .map(|oid| {
            oid.parse::<u32>()
                .ok()
                .and_then(Type::from_oid)
                .ok_or_else(|| Error::other(format!("parameter of unsupported type (oid {oid}) in pgbouncer mode")))
        })
        .collect()
}
