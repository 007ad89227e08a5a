//! Shared by the sync tests: a fresh PostgreSQL schema per test, legacy files, and the legacy
//! writer (Python's standard `sqlite3`, as the legacy application).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use synthlab_db::DatabaseConfig;
use synthlab_db::config::PostgresConfig;

const DATABASE: &str = "synthlab_sync_tests";

pub fn server_url() -> String {
    std::env::var("PARITY_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub async fn connect(url: &str) -> tokio_postgres::Client {
    synthlab_db::pg::connect_url(url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL unreachable ({e}); start one: make pg-start, or set PARITY_DATABASE_URL")
    })
}

/// A fresh schema of the test database, addressed by a URL whose search_path selects it.
pub struct Target {
    pub url: String,
    pub config: PostgresConfig,
    pub schema: String,
    server: String,
}

impl Target {
    pub async fn new() -> Target {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let base = server_url();
        let (server, _) = base.rsplit_once('/').expect("server URL has a database");
        let admin = connect(&base).await;
        let exists = admin
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&DATABASE])
            .await
            .expect("pg_database")
            .is_some();
        if !exists && let Err(err) = admin.batch_execute(&format!("CREATE DATABASE {DATABASE}")).await {
            let raced = err.code().is_some_and(|c| c.code() == "42P04" || c.code() == "23505");
            assert!(raced, "create test database: {err}");
        }
        let schema = format!("sy_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let db = connect(&format!("{server}/{DATABASE}")).await;
        db.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .await
        .expect("create schema");
        let url = format!("{server}/{DATABASE}?options=-csearch_path%3D{schema}");
        let DatabaseConfig::Postgres(config) = url.parse().expect("target URL") else {
            panic!("not postgres")
        };
        Target {
            url,
            config,
            schema,
            server: server.to_owned(),
        }
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        let client = connect(&format!("{}/{DATABASE}", self.server)).await;
        client
            .batch_execute(&format!("SET search_path = {}", self.schema))
            .await
            .expect("search_path");
        client
    }

    pub async fn scalar(&self, sql: &str) -> i64 {
        self.client().await.query_one(sql, &[]).await.expect(sql).get(0)
    }

    pub async fn drop(self) {
        let _ = self
            .client()
            .await
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema))
            .await;
    }
}

/// A small generated legacy file (v15), switched to rollback-journal mode as Python's
/// `sqlite3` leaves a file it creates.
pub fn legacy_file(dir: &Path, name: &str, scale: f64) -> PathBuf {
    let path = dir.join(name);
    synthlab_db::copy::generate(
        &path,
        &synthlab_db::copy::GenerateOptions {
            scale,
            ..Default::default()
        },
    )
    .expect("generate");
    python(&path, true, &[&["PRAGMA journal_mode=DELETE"]]);
    path
}

/// Runs transactions with Python's `sqlite3` (the legacy application's driver). A transaction
/// whose last statement is `ROLLBACK` is rolled back. Panics with Python's message on error.
pub fn python(path: &Path, foreign_keys: bool, transactions: &[&[&str]]) {
    let result = try_python(path, foreign_keys, transactions);
    assert!(result.is_ok(), "legacy SQL failed: {}", result.unwrap_err());
}

/// As [`python`], returning Python's error text.
pub fn try_python(path: &Path, foreign_keys: bool, transactions: &[&[&str]]) -> Result<(), String> {
    let script = r#"
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=5.0, isolation_level=None)
if sys.argv[2] == "on":
    db.execute("PRAGMA foreign_keys=ON")
for tx in json.loads(sys.argv[3]):
    if len(tx) == 1 and tx[0].upper().startswith("PRAGMA"):
        db.execute(tx[0]).fetchall()
        continue
    db.execute("BEGIN")
    for sql in tx:
        if sql == "ROLLBACK":
            db.execute("ROLLBACK")
            break
        db.execute(sql)
    else:
        db.execute("COMMIT")
"#;
    let txs = serde_json::to_string(transactions).expect("json");
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .arg(if foreign_keys { "on" } else { "off" })
        .arg(txs)
        .output()
        .expect("python3 runs");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// One query's rows through Python's `sqlite3`, as JSON.
pub fn python_query(path: &Path, sql: &str) -> serde_json::Value {
    let script = r#"
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=5.0)
print(json.dumps([list(r) for r in db.execute(sys.argv[2]).fetchall()]))
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .arg(sql)
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json rows")
}

/// The legacy writer script.
pub fn writer_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/legacy_writer.py")
}

/// A temporary directory on tmpfs when there is one (the writer's rate must not depend on this
/// machine's fsync latency), else the default.
pub fn fast_tempdir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::Builder::new()
            .prefix("synthlab-sync")
            .tempdir_in(shm)
            .expect("tempdir")
    } else {
        tempfile::tempdir().expect("tempdir")
    }
}

/// A store routing every repository `dual:sqlite` over `sqlite` (primary) and the target.
pub async fn dual_store(sqlite: &synthlab_db::DatabaseConfig, target: &Target) -> synthlab_db::Store {
    let routing = synthlab_db::cutover::RoutingConfig::from_vars(
        sqlite,
        [
            ("SYNTHLAB_POSTGRES_URL", target.url.as_str()),
            ("SYNTHLAB_ROUTE_DEFAULT", "dual:sqlite"),
        ],
    )
    .expect("routing");
    synthlab_db::Store::connect_routed(&routing, synthlab_db::ConnectOptions::default())
        .await
        .expect("routed store")
}
