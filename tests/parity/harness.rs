//! The parity harness: every case runs once per backend against a fresh, migrated database.
//!
//! - SQLite: a new file in a temporary directory.
//! - PostgreSQL: a new schema in the database `synthlab_parity`, created once with an ICU
//!   collation (`en-US`) so that the text-order trap is always exercised. The server comes
//!   from `PARITY_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`). If it
//!   cannot be reached the case FAILS with instructions; nothing is ever skipped.
//! - PgBouncer (`<case>::pgbouncer`, with `--features parity`): the same PostgreSQL case through
//!   a real PgBouncer in transaction mode started for the case (`tests/support/pgbouncer.rs`),
//!   with `pgbouncer=true`; the pooler's `connect_query` selects the case's schema.

#![allow(dead_code)]

use std::future::Future;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};

use synthlab_db::config::PostgresConfig;
use synthlab_db::{BackendKind, DatabaseConfig, Store};

#[path = "../support/pgbouncer.rs"]
pub mod pgbouncer;

/// The result type of a case body.
pub type CaseResult = anyhow::Result<()>;

/// Default server of the parity suite.
pub const DEFAULT_PARITY_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// The database holding the per-test schemas.
pub const PARITY_DATABASE: &str = "synthlab_parity";

/// One case's database: the store plus what a case needs to reach beneath it.
pub struct TestDb {
    /// The store under test.
    pub store: Store,
    /// SQLite: the database file.
    pub sqlite_path: Option<std::path::PathBuf>,
    /// PostgreSQL: the per-test configuration (search_path set to the test schema).
    pub pg_config: Option<PostgresConfig>,
    /// PostgreSQL: the schema name.
    pub pg_schema: Option<String>,
    /// The PgBouncer the case runs through (kept running until the case ends).
    pub pgbouncer: Option<pgbouncer::PgBouncer>,
    _dir: Option<tempfile::TempDir>,
}

impl Deref for TestDb {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

impl TestDb {
    /// Which backend this case runs on.
    pub fn kind(&self) -> BackendKind {
        self.store.backend()
    }

    /// Runs raw SQL beneath the repositories (to plant legacy-shaped data): `sqlite_sql` on
    /// SQLite, `pg_sql` on PostgreSQL.
    pub async fn raw(&self, sqlite_sql: &str, pg_sql: &str) -> anyhow::Result<()> {
        match self.kind() {
            BackendKind::Sqlite => {
                let path = self.sqlite_path.clone().expect("sqlite path");
                let sql = sqlite_sql.to_owned();
                tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                    let conn = rusqlite::Connection::open(path)?;
                    conn.pragma_update(None, "foreign_keys", "ON")?;
                    conn.execute_batch(&sql)?;
                    Ok(())
                })
                .await??;
            }
            BackendKind::Postgres => {
                let client = connect(self.pg_config.as_ref().expect("pg config")).await?;
                client.batch_execute(pg_sql).await?;
            }
        }
        Ok(())
    }
}

async fn connect(config: &PostgresConfig) -> anyhow::Result<tokio_postgres::Client> {
    Ok(synthlab_db::pg::connect(config).await?)
}

/// A fresh SQLite store in its own temporary directory.
pub async fn sqlite_db() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("parity.db");
    let store = Store::connect(&DatabaseConfig::sqlite_file(&path))
        .await
        .expect("SQLite store connects and migrates");
    TestDb {
        store,
        sqlite_path: Some(path),
        pg_config: None,
        pg_schema: None,
        pgbouncer: None,
        _dir: Some(dir),
    }
}

pub fn parity_server() -> PostgresConfig {
    let url = std::env::var("PARITY_DATABASE_URL").unwrap_or_else(|_| DEFAULT_PARITY_URL.to_owned());
    match url.parse::<DatabaseConfig>() {
        Ok(DatabaseConfig::Postgres(pg)) => pg,
        Ok(_) => panic!("PARITY_DATABASE_URL must be a postgres:// URL"),
        Err(err) => panic!("PARITY_DATABASE_URL is invalid: {err}"),
    }
}

fn unreachable(server: &PostgresConfig, err: impl std::fmt::Display) -> ! {
    panic!(
        "\n\nPARITY SUITE: PostgreSQL is unreachable at {} ({err}).\n\
         Set PARITY_DATABASE_URL to a reachable server, or start one:\n  \
         this machine: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n  \
         elsewhere:    make pg-start   (a throwaway cluster from the local PostgreSQL binaries)\n\
         The parity suite never skips PostgreSQL cases.\n",
        server.redacted_url()
    )
}

/// Creates the ICU-collated parity database if missing (tolerating concurrent creators)
/// and drops schemas left behind by test processes that no longer exist.
async fn ensure_parity_database(server: &PostgresConfig) -> tokio_postgres::Client {
    let admin = match connect(server).await {
        Ok(client) => client,
        Err(err) => unreachable(server, err),
    };
    let exists = admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&PARITY_DATABASE])
        .await
        .expect("query pg_database")
        .is_some();
    if !exists {
        let created = admin
            .batch_execute(&format!(
                "CREATE DATABASE {PARITY_DATABASE} TEMPLATE template0 ENCODING 'UTF8' \
                 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
            ))
            .await;
        if let Err(err) = created {
            let raced = err.code().is_some_and(|c| c.code() == "42P04" || c.code() == "23505");
            assert!(raced, "cannot create the parity database: {err}");
        }
    }
    let parity = server.with_dbname(PARITY_DATABASE);
    let client = connect(&parity).await.unwrap_or_else(|err| unreachable(&parity, err));
    sweep_stale_schemas(&client).await;
    client
}

async fn sweep_stale_schemas(client: &tokio_postgres::Client) {
    static SWEPT: std::sync::Once = std::sync::Once::new();
    if SWEPT.is_completed() {
        return;
    }
    SWEPT.call_once(|| {});
    let rows = client
        .query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'pt\\_%'", &[])
        .await
        .unwrap_or_default();
    for row in rows {
        let name: String = row.get(0);
        let pid = name.split('_').nth(1).and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists()) {
            let _ = client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                .await;
        }
    }
}

/// A new, empty schema of the parity database (`pt_<pid>_<n>`).
pub async fn new_schema(server: &PostgresConfig) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let client = ensure_parity_database(server).await;
    let schema = format!("pt_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
    client
        .batch_execute(&format!("CREATE SCHEMA \"{schema}\""))
        .await
        .expect("create test schema");
    schema
}

/// A fresh PostgreSQL store in its own schema of the ICU-collated parity database.
pub async fn postgres_db() -> TestDb {
    let server = parity_server();
    let schema = new_schema(&server).await;
    let config = search_path_config(&server, &schema);
    let store = Store::connect(&DatabaseConfig::Postgres(config.clone()))
        .await
        .unwrap_or_else(|err| unreachable(&server, err));
    TestDb {
        store,
        sqlite_path: None,
        pg_config: Some(config),
        pg_schema: Some(schema),
        pgbouncer: None,
        _dir: None,
    }
}

/// A real PgBouncer (transaction mode) in front of the parity server whose database
/// `synthlab_parity` works in `schema` (its server connections set the search_path when they
/// open, with PgBouncer's `connect_query`; PgBouncer refuses the `options` startup parameter).
pub fn pgbouncer_for_schema(schema: &str) -> pgbouncer::PgBouncer {
    let upstream = pgbouncer::Upstream::parity();
    pgbouncer::PgBouncer::start(
        &upstream,
        &[(
            PARITY_DATABASE.to_owned(),
            format!("dbname={PARITY_DATABASE} connect_query='SET search_path TO {schema}'"),
        )],
    )
}

/// A fresh PostgreSQL store in its own schema, through its own PgBouncer (`pgbouncer=true`).
pub async fn pgbouncer_db() -> TestDb {
    let server = parity_server();
    let schema = new_schema(&server).await;
    let for_bouncer = schema.clone();
    let bouncer = tokio::task::spawn_blocking(move || pgbouncer_for_schema(&for_bouncer))
        .await
        .expect("PgBouncer starts");
    let config = match bouncer.url(PARITY_DATABASE, "pgbouncer=true").parse::<DatabaseConfig>() {
        Ok(DatabaseConfig::Postgres(pg)) => pg,
        other => panic!("PgBouncer URL: {other:?}"),
    };
    let store = Store::connect(&DatabaseConfig::Postgres(config.clone()))
        .await
        .unwrap_or_else(|err| panic!("store through PgBouncer: {err}\nPgBouncer log:\n{}", bouncer.log()));
    TestDb {
        store,
        sqlite_path: None,
        pg_config: Some(config),
        pg_schema: Some(schema),
        pgbouncer: Some(bouncer),
        _dir: None,
    }
}

fn search_path_config(server: &PostgresConfig, schema: &str) -> PostgresConfig {
    let mut config = server.with_dbname(PARITY_DATABASE);
    config.set_options(&format!("-c search_path={schema}"));
    config
}

/// Drops a PostgreSQL test schema after a case passed (failed cases keep theirs for
/// inspection until the next run sweeps them).
pub async fn drop_schema(db: &TestDb) {
    if let (Some(config), Some(schema)) = (&db.pg_config, &db.pg_schema)
        && let Ok(client) = connect(config).await
    {
        let _ = client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            .await;
    }
}

/// Runs one case body on one backend.
pub async fn run<F, Fut>(kind: BackendKind, case: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = (TestDb, CaseResult)>,
{
    let db = match kind {
        BackendKind::Sqlite => sqlite_db().await,
        BackendKind::Postgres => postgres_db().await,
    };
    finish(&kind.to_string(), case(db).await).await;
}

/// Runs one case body on PostgreSQL through a real PgBouncer in transaction mode.
pub async fn run_through_pgbouncer<F, Fut>(case: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = (TestDb, CaseResult)>,
{
    finish("postgres through PgBouncer", case(pgbouncer_db().await).await).await;
}

async fn finish(on: &str, (db, result): (TestDb, CaseResult)) {
    if let Err(err) = result {
        let log = db.pgbouncer.as_ref().map(|b| format!("\nPgBouncer log:\n{}", b.log()));
        panic!("case failed on {on}: {err:#}{}", log.unwrap_or_default());
    }
    drop_schema(&db).await;
}

/// Writes a case once and expands it into `<case>::sqlite`, `<case>::postgres` and
/// `<case>::pgbouncer` tests (the PostgreSQL ones with `--features parity`).
#[macro_export]
macro_rules! parity {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn case($db: &$crate::harness::TestDb) -> $crate::harness::CaseResult $body

            #[cfg(feature = "sqlite")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::harness::run(synthlab_db::BackendKind::Sqlite, |db| async move {
                    let result = case(&db).await;
                    (db, result)
                })
                .await;
            }

            #[cfg(feature = "parity")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::harness::run(synthlab_db::BackendKind::Postgres, |db| async move {
                    let result = case(&db).await;
                    (db, result)
                })
                .await;
            }

            #[cfg(feature = "parity")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn pgbouncer() {
                $crate::harness::run_through_pgbouncer(|db| async move {
                    let result = case(&db).await;
                    (db, result)
                })
                .await;
            }
        }
    };
}
