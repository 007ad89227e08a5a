//! `synthlab-db doctor`: what an operator needs to know about the database, and what is wrong.
//!
//! [`diagnose`] never fails: an unreachable server or a missing file is itself a finding.
//! Each [`Check`] is a fact with an optional problem; the report is healthy when no check has
//! one. The backend-specific facts are gathered in `backend::*::doctor`.

use std::time::Instant;

use serde::Serialize;

use crate::{ConnectOptions, DatabaseConfig, Store};

/// One fact about the database, and what is wrong with it, if anything.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What was checked (`connectivity`, `server`, `tls`, `pool`, `schema`, …).
    pub name: &'static str,
    /// What was found, for humans.
    pub value: String,
    /// Why this is a problem, when it is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

impl Check {
    /// A fact that is fine.
    pub fn ok(name: &'static str, value: impl Into<String>) -> Self {
        Check {
            name,
            value: value.into(),
            problem: None,
        }
    }

    /// A fact that is a problem, with the reason.
    pub fn problem(name: &'static str, value: impl Into<String>, problem: impl Into<String>) -> Self {
        Check {
            name,
            value: value.into(),
            problem: Some(problem.into()),
        }
    }
}

/// The state of a PostgreSQL connection pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PoolState {
    /// The most connections the pool opens.
    pub max_size: usize,
    /// Connections open now (idle or in use).
    pub open: usize,
    /// Open connections not in use.
    pub idle: usize,
    /// Callers waiting for a connection.
    pub waiting: usize,
}

/// Everything `doctor` found.
#[derive(Debug, Clone, Serialize)]
pub struct DoctorReport {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The database URL, password redacted.
    pub url: String,
    /// The facts, in the order they were gathered.
    pub checks: Vec<Check>,
}

impl DoctorReport {
    /// The problems found (empty when all is well).
    pub fn problems(&self) -> Vec<&Check> {
        self.checks.iter().filter(|c| c.problem.is_some()).collect()
    }

    /// Whether no check found a problem.
    pub fn is_healthy(&self) -> bool {
        self.checks.iter().all(|c| c.problem.is_none())
    }
}

/// Connects without migrating or creating anything and gathers the facts: connectivity,
/// server and version, TLS (PostgreSQL, from `pg_stat_ssl`), pool, schema version and pending
/// migrations, database encoding and collation; for SQLite the file, journal mode,
/// foreign keys, busy timeout and `PRAGMA quick_check`.
pub async fn diagnose(config: &DatabaseConfig) -> DoctorReport {
    let mut checks = Vec::new();
    let started = Instant::now();
    match Store::connect_with(config, ConnectOptions::read_only_inspection()).await {
        Err(err) => checks.push(Check::problem(
            "connectivity",
            "failed",
            format!("cannot connect: {err}"),
        )),
        Ok(store) => {
            checks.push(Check::ok(
                "connectivity",
                format!("ok (connected in {:.1} ms)", started.elapsed().as_secs_f64() * 1000.0),
            ));
            store.backend_checks(&mut checks).await;
            checks.push(schema_check(&store).await);
        }
    }
    DoctorReport {
        backend: config.backend().as_str(),
        url: config.redacted_url(),
        checks,
    }
}

async fn schema_check(store: &Store) -> Check {
    let latest = crate::schema::latest_version();
    match store.schema_status().await {
        Err(err) => Check::problem("schema", "unknown", format!("cannot read the migration history: {err}")),
        Ok(status) if status.current_version > latest => Check::problem(
            "schema",
            format!("version {} (this build knows up to {latest})", status.current_version),
            "the database was migrated by a newer build: upgrade synthlab-db",
        ),
        Ok(status) if !status.pending.is_empty() => {
            let names: Vec<String> = status
                .pending
                .iter()
                .map(|m| format!("V{}__{}", m.version, m.name))
                .collect();
            Check::problem(
                "schema",
                format!(
                    "version {} (this build: {latest}), pending: {}",
                    status.current_version,
                    names.join(", ")
                ),
                "pending migrations: run `synthlab-db migrate`",
            )
        }
        Ok(status) => Check::ok(
            "schema",
            format!(
                "version {} (this build: {latest}), pending: none",
                status.current_version
            ),
        ),
    }
}
