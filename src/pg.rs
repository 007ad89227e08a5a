//! Raw PostgreSQL connections for tools, tests and benchmarks, through the crate's one connect
//! path: TLS as `sslmode` asks (rustls), `connect_timeout`, keepalives and `application_name`,
//! exactly as the pool, the copy and `verify` open theirs.
//!
//! ```no_run
//! # async fn demo() -> synthlab_db::Result<()> {
//! let client = synthlab_db::pg::connect_url("postgres://app@db/synthlab?sslmode=require").await?;
//! client.batch_execute("SELECT 1").await?;
//! # Ok(()) }
//! ```
//!
//! Behind a transaction pooler (`pgbouncer=true`) a raw client must not use named prepared
//! statements outside an explicit transaction: use `simple_query`/`batch_execute`,
//! `query_typed`, or prepare inside a transaction and drop the statement before it ends.

pub use crate::backend::postgres::connect::{connect, connect_url};
