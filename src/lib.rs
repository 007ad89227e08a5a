//! # synthlab-db
//!
//! The data layer of the SynthLab research application: one repository trait per table
//! group, each implemented twice — over the legacy SQLite store (rusqlite) and over
//! PostgreSQL (tokio-postgres + deadpool) — chosen at run time from the scheme of
//! `DATABASE_URL`. A caller cannot tell which backend answered.
//!
//! ```no_run
//! # async fn demo() -> synthlab_db::Result<()> {
//! use synthlab_db::{Store, model::NewExperiment, model::PageRequest};
//! let store = Store::connect_url("sqlite://synthlab.db").await?;
//! let created = store.experiments().create(&NewExperiment::new("Checkout", "One-click wins")).await?;
//! let page = store.experiments().list(PageRequest::first(20)?).await?;
//! assert!(page.items.iter().any(|e| e.id == created.id));
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod backend;
pub mod config;
#[cfg(feature = "sqlite")]
pub mod copy;
pub mod cutover;
pub mod doctor;
pub mod environment;
mod error;
#[cfg(feature = "testing")]
pub mod fixtures;
pub mod model;
pub mod observe;
pub mod pg;
pub mod repo;
pub mod schema;
mod store;
#[cfg(feature = "sqlite")]
pub mod sync;

#[cfg(all(feature = "sqlite", feature = "testing"))]
pub use schema::legacy;

pub use config::{BackendKind, DatabaseConfig};
pub use error::{Error, ErrorKind, Result};
pub use store::{ConnectOptions, Store};
