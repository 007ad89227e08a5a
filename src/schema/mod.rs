//! The schema of both backends, driven by refinery from `migrations/<dialect>/V*.sql`.
//!
//! Both dialects carry the same version numbers. Migrations run grouped (all pending
//! migrations and their history rows in one transaction), and on PostgreSQL under an
//! advisory lock so that concurrent migrators never collide.

mod embedded {
    pub(crate) mod sqlite {
        refinery::embed_migrations!("migrations/sqlite");
    }
    pub(crate) mod postgres {
        refinery::embed_migrations!("migrations/postgres");
    }
}

use crate::{Error, ErrorKind};

/// The 17 tables of the schema, parents before children (the order to load data in).
pub const TABLES: [&str; 17] = [
    "experiments",
    "synth_groups",
    "feature_scorecards",
    "interview_guide",
    "analysis_runs",
    "research_executions",
    "experiment_documents",
    "synths",
    "synth_outcomes",
    "analysis_cache",
    "transcripts",
    "explorations",
    "scenario_nodes",
    "simulation_runs",
    "region_analyses",
    "sensitivity_results",
    "chart_insights",
];

/// The newest schema version this build knows (the same in both dialects).
pub fn latest_version() -> i64 {
    embedded::postgres::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .max()
        .unwrap_or(0)
}

/// A migration known to this build.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MigrationInfo {
    /// Version number.
    pub version: i64,
    /// Name (from the file name).
    pub name: String,
}

/// Where a database stands relative to this build's migrations.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SchemaStatus {
    /// The highest applied version (0 when none).
    pub current_version: i64,
    /// Migrations not yet applied, oldest first.
    pub pending: Vec<MigrationInfo>,
}

fn status_from(applied: &[refinery::Migration], runner: &refinery::Runner) -> SchemaStatus {
    let current_version = applied.iter().map(|m| i64::from(m.version())).max().unwrap_or(0);
    let pending = runner
        .get_migrations()
        .iter()
        .filter(|m| !applied.iter().any(|a| a.version() == m.version()))
        .map(|m| MigrationInfo {
            version: i64::from(m.version()),
            name: m.name().to_owned(),
        })
        .collect();
    SchemaStatus {
        current_version,
        pending,
    }
}

fn migration_error(err: refinery::Error) -> Error {
    Error::new(ErrorKind::Other, format!("migration failed: {err}"))
}

fn applied_names(report: &refinery::Report) -> Vec<MigrationInfo> {
    report
        .applied_migrations()
        .iter()
        .map(|m| MigrationInfo {
            version: i64::from(m.version()),
            name: m.name().to_owned(),
        })
        .collect()
}

/// SQLite: legacy detection, migration and status.
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite {
    use rusqlite::Connection;

    use super::{MigrationInfo, SchemaStatus, applied_names, embedded, migration_error, status_from};
    use crate::{Error, ErrorKind, Result};

    /// Refuses legacy files that are not under management, then migrates if asked.
    pub(crate) fn prepare(conn: &mut Connection, migrate: bool) -> Result<Vec<MigrationInfo>> {
        refuse_unadopted_legacy(conn)?;
        if migrate {
            let report = embedded::sqlite::migrations::runner()
                .set_grouped(true)
                .run(conn)
                .map_err(migration_error)?;
            return Ok(applied_names(&report));
        }
        Ok(Vec::new())
    }

    fn refuse_unadopted_legacy(conn: &Connection) -> Result<()> {
        let (has_tables, has_history): (bool, bool) = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'experiments'),
                    EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'refinery_schema_history')",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        if has_tables && !has_history {
            return Err(Error::new(
                ErrorKind::Config,
                "this SQLite file was written by the legacy application and is not under management: \
                 run `synthlab-db adopt` on it first (schema V1 never runs over legacy data)",
            ));
        }
        Ok(())
    }

    /// Applied version and pending migrations.
    pub(crate) fn status(conn: &mut Connection) -> Result<SchemaStatus> {
        let runner = embedded::sqlite::migrations::runner();
        let has_history: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'refinery_schema_history')",
            [],
            |row| row.get(0),
        )?;
        let applied = if has_history {
            runner.get_applied_migrations(conn).map_err(migration_error)?
        } else {
            Vec::new()
        };
        Ok(status_from(&applied, &runner))
    }
}

/// PostgreSQL: migration under an advisory lock, and status.
pub(crate) mod postgres {
    use super::{MigrationInfo, SchemaStatus, applied_names, embedded, migration_error, status_from};
    use crate::Result;

    /// Key of the advisory lock held while migrating ("synthlab" in ASCII).
    const MIGRATION_LOCK_KEY: i64 = 0x73796e74_686c6162;

    /// Applies pending migrations while holding the advisory lock.
    pub(crate) async fn migrate(client: &mut tokio_postgres::Client) -> Result<Vec<MigrationInfo>> {
        client
            .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
            .await?;
        let result = embedded::postgres::migrations::runner()
            .set_grouped(true)
            .run_async(client)
            .await
            .map_err(migration_error);
        let unlock = client
            .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY])
            .await;
        let report = result?;
        unlock?;
        Ok(applied_names(&report))
    }

    /// Applied version and pending migrations.
    pub(crate) async fn status(client: &mut tokio_postgres::Client) -> Result<SchemaStatus> {
        let runner = embedded::postgres::migrations::runner();
        let has_history: bool = client
            .query_one("SELECT to_regclass('refinery_schema_history') IS NOT NULL", &[])
            .await?
            .try_get(0)?;
        let applied = if has_history {
            runner
                .get_applied_migrations_async(client)
                .await
                .map_err(migration_error)?
        } else {
            Vec::new()
        };
        Ok(status_from(&applied, &runner))
    }
}
