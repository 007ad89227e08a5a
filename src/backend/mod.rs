//! The two backends. They mirror each other file for file (`sqlite/experiment.rs` ↔
//! `postgres/experiment.rs`); types carry a `Sqlite…` / `Pg…` prefix and only
//! [`crate::store`] names them.

pub(crate) mod postgres;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;
pub(crate) mod unit_of_work;
