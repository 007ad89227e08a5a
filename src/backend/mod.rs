//! The two backends. They mirror each other file for file (`sqlite/experiment.rs` ↔
//! `postgres/experiment.rs`); types carry a `Sqlite…` / `Pg…` prefix and only
//! [`crate::store`] names them. What is not dialect is written once here: reading rows
//! ([`row`]) into model types ([`from_row`]), running statements with pagination and
//! not-found ([`driver`]), the unit-of-work errors ([`unit_of_work`]).

pub(crate) mod driver;
pub(crate) mod from_row;
pub(crate) mod postgres;
pub(crate) mod row;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;
pub(crate) mod unit_of_work;
