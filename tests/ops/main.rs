//! Production behaviour: load, failures, cancellation, TLS, restart, PgBouncer, SQLite
//! concurrency, observability, deployment files, environment variables. PostgreSQL cases need
//! `--features parity` (as the parity suite); the TLS
//! and restart cases start their own throwaway cluster (see `cluster.rs`).

#[macro_use]
#[path = "../parity/harness.rs"]
mod harness;

mod cancellation;
mod cluster;
mod deployment;
mod environment;
#[cfg(feature = "parity")]
mod failures;
mod load;
mod observability;
#[cfg(feature = "parity")]
mod pgbouncer;
#[cfg(feature = "parity")]
mod restart;
mod sqlite_concurrency;
#[cfg(feature = "parity")]
mod tls;
mod unreachable;
