//! [`Migrator`]: the schema lifecycle of one store (up, down, history, drift check), on
//! either backend.

use super::history::{DownTarget, MigrationHistory};
use super::model::{SchemaDiff, SchemaModel};
use super::set::MigrationSet;
use super::{DownReport, MigrationInfo, postgres};
use crate::store::BackendRef;
use crate::{DatabaseConfig, Error, Result, Store};

/// Runs migrations of one set (by default the embedded set of the store's dialect) against
/// a store. Obtain one with [`Store::migrator`].
#[derive(Debug)]
pub struct Migrator<'s> {
    store: &'s Store,
    set: MigrationSet,
}

impl Store {
    /// The schema lifecycle of this store, with this build's migrations.
    pub fn migrator(&self) -> Migrator<'_> {
        Migrator {
            store: self,
            set: MigrationSet::embedded(self.backend()),
        }
    }
}

impl<'s> Migrator<'s> {
    /// Uses another migration set (tests and tools).
    ///
    /// # Errors
    /// InvalidInput when the set is written for the other dialect.
    pub fn with_set(self, set: MigrationSet) -> Result<Migrator<'s>> {
        if set.dialect() != self.store.backend() {
            return Err(Error::invalid_input(format!(
                "a {} migration set cannot run on a {} store",
                set.dialect(),
                self.store.backend()
            )));
        }
        Ok(Migrator { store: self.store, set })
    }

    /// The migrations this migrator runs.
    pub fn set(&self) -> &MigrationSet {
        &self.set
    }

    fn outside_unit_of_work(&self) -> Result<()> {
        if self.store.in_transaction() {
            return Err(Error::invalid_input("schema changes cannot run inside a unit of work"));
        }
        Ok(())
    }

    /// Applies pending migrations up to `target` (all when `None`), each with its history row,
    /// in one transaction under the migration lock. A concurrent migrator waits, then finds
    /// nothing to do. Returns the migrations applied.
    ///
    /// # Errors
    /// Config for an unadopted legacy SQLite file; Conflict when the history does not match
    /// this build (a modified or unknown applied migration); InvalidInput for a target below
    /// the current version or unknown; Other when a script fails (nothing is applied then).
    pub async fn up(&self, target: Option<i64>) -> Result<Vec<MigrationInfo>> {
        self.outside_unit_of_work()?;
        let set = self.set.clone();
        match self.store.backend_ref() {
            #[cfg(feature = "sqlite")]
            BackendRef::Sqlite(db) => db.exclusive(move |conn| super::sqlite::up(conn, &set, target)).await,
            BackendRef::Postgres(db) => {
                let mut client = db.client().await?;
                postgres::up(&mut client, &set, target).await
            }
        }
    }

    /// Rolls back applied migrations through their down scripts, removing their history rows,
    /// in one transaction under the migration lock. Returns those rolled back, newest first.
    /// Refuses when that would destroy data: see [`Migrator::down_with`].
    ///
    /// # Errors
    /// Conflict when the down would drop or empty tables (or columns) holding data, naming them
    /// with their row counts, or when the history does not match this build (the database is not
    /// at a known version); NotFound when a migration to roll back has no down script;
    /// InvalidInput for a target above the current version; Other when a script fails. Nothing
    /// is rolled back on any error.
    pub async fn down(&self, target: DownTarget) -> Result<Vec<MigrationInfo>> {
        Ok(self.down_with(target, false).await?.reverted)
    }

    /// [`Migrator::down`], and with `force` also when data would be destroyed: on SQLite a
    /// backup of the file is written first (`VACUUM INTO`, path in the report); on PostgreSQL
    /// the refusal without `force` names the `pg_dump` command that keeps the data. Rows the
    /// migrations insert themselves (the default synth group) are not counted as data.
    ///
    /// # Errors
    /// As [`Migrator::down`]; Unavailable when other SQLite connections kept writing while the
    /// backup was written.
    pub async fn down_with(&self, target: DownTarget, force: bool) -> Result<DownReport> {
        self.outside_unit_of_work()?;
        let set = self.set.clone();
        match self.store.backend_ref() {
            #[cfg(feature = "sqlite")]
            BackendRef::Sqlite(db) => {
                db.exclusive(move |conn| super::sqlite::down(conn, &set, target, force))
                    .await
            }
            BackendRef::Postgres(db) => {
                let DatabaseConfig::Postgres(config) = self.store.config() else {
                    return Err(Error::other("a PostgreSQL store without a PostgreSQL configuration"));
                };
                let mut client = db.client().await?;
                postgres::down(&mut client, &set, target, force, config).await
            }
        }
    }

    /// Applied migrations (version, name, applied at, checksum, state) and pending ones.
    ///
    /// # Errors
    /// Unavailable when the database cannot be reached.
    pub async fn history(&self) -> Result<MigrationHistory> {
        let set = self.set.clone();
        match self.store.backend_ref() {
            #[cfg(feature = "sqlite")]
            BackendRef::Sqlite(db) => db.read(move |conn| super::sqlite::history(conn, &set)).await,
            BackendRef::Postgres(db) => {
                let mut client = db.client().await?;
                postgres::history(&mut client, &set).await
            }
        }
    }

    /// The live schema as the catalog describes it.
    ///
    /// # Errors
    /// Unavailable when the database cannot be reached.
    pub async fn introspect(&self) -> Result<SchemaModel> {
        match self.store.backend_ref() {
            #[cfg(feature = "sqlite")]
            BackendRef::Sqlite(db) => {
                db.read(|conn| super::sqlite::introspect::introspect(conn, "main"))
                    .await
            }
            BackendRef::Postgres(db) => {
                let mut client = db.client().await?;
                postgres::introspect_live(&mut client).await
            }
        }
    }

    /// The schema the migrations define at `version`, built in a scratch database (SQLite:
    /// in memory; PostgreSQL: a schema inside a transaction that is rolled back).
    ///
    /// # Errors
    /// Other when a migration script fails.
    pub async fn expected(&self, version: i64) -> Result<SchemaModel> {
        let set = self.set.clone();
        match self.store.backend_ref() {
            #[cfg(feature = "sqlite")]
            BackendRef::Sqlite(db) => db.read(move |_| super::sqlite::expected(&set, version)).await,
            BackendRef::Postgres(db) => {
                let mut client = db.client().await?;
                postgres::expected(&mut client, &set, version).await
            }
        }
    }

    /// Compares the live schema with the one the migrations define at the live version;
    /// returns that version and the differences (empty when equal).
    ///
    /// # Errors
    /// Config for an unadopted legacy SQLite file; Conflict when the history does not match
    /// this build.
    pub async fn check(&self) -> Result<(i64, SchemaDiff)> {
        let set = self.set.clone();
        match self.store.backend_ref() {
            #[cfg(feature = "sqlite")]
            BackendRef::Sqlite(db) => db.read(move |conn| super::sqlite::check(conn, &set)).await,
            BackendRef::Postgres(db) => {
                let mut client = db.client().await?;
                postgres::check(&mut client, &set).await
            }
        }
    }
}
