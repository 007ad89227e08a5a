//! Facts about the schema, derived from the migrations when the crate is built (`build.rs`
//! reads `migrations/postgres` with `build/schema_facts.rs`): the tables in foreign-key order
//! and the timestamp and JSON columns. Nothing here is typed by hand; a new migration changes them.

include!(concat!(env!("OUT_DIR"), "/schema_facts.rs"));
