//! A migrator killed in the middle — a real process, SIGKILL, no error path — leaves a state
//! that the next run completes, on both backends.
//!
//! This test binary (harness = false) plays both parts: started with `SYNTHLAB_KILL_CHILD`
//! set it is the migrator, applying a migration set whose last migration (the one after this
//! build's newest) takes a while; otherwise it starts that child, waits until the slow migration
//! is visibly half done (SQLite: uncommitted pages spilled into the WAL file; PostgreSQL: its
//! statement running in `pg_stat_activity`), kills it, checks that nothing of it is visible and
//! the schema before it is intact, and runs the same set again.

#[path = "parity/harness.rs"]
mod harness;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use synthlab_db::schema::{MigrationScript, MigrationSet};
use synthlab_db::{BackendKind, ConnectOptions, DatabaseConfig, Store};

const CHILD_ENV: &str = "SYNTHLAB_KILL_CHILD";
const SQLITE_ROWS: i64 = 1_500_000;
const WAIT: Duration = Duration::from_secs(120);

/// The embedded migrations of the dialect and, after the newest, one that takes seconds
/// (version [`slow_version`]). `marker` tags its SQL so the parent can find it among other
/// sessions.
fn slow_set(kind: BackendKind, marker: &str) -> MigrationSet {
    let mut scripts = MigrationSet::embedded(kind).scripts().to_vec();
    let up = match kind {
        BackendKind::Sqlite => format!(
            "CREATE TABLE bulk (n INTEGER PRIMARY KEY, pad TEXT NOT NULL);
             WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < {SQLITE_ROWS})
             INSERT INTO bulk SELECT n, '{marker}' FROM c;
             CREATE INDEX idx_bulk_pad ON bulk (pad);"
        ),
        BackendKind::Postgres => format!(
            "CREATE TABLE bulk (n bigint PRIMARY KEY, pad text NOT NULL);
             INSERT INTO bulk SELECT g, '{marker}' FROM generate_series(1, 100000) g;
             SELECT pg_sleep(3) /* {marker} */;
             CREATE INDEX idx_bulk_pad ON bulk (pad);"
        ),
    };
    let name = format!("V{}__bulk", slow_version());
    scripts.push(MigrationScript::new(&name, &up, Some("DROP TABLE bulk;")).expect("slow script"));
    MigrationSet::new(kind, scripts).expect("set")
}

/// The version of the slow migration: the one after the newest this build embeds.
fn slow_version() -> i64 {
    synthlab_db::schema::latest_version() + 1
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The child: apply the slow set and report; the parent kills it before it finishes.
fn child(spec: &str) {
    let mut parts = spec.splitn(3, '|');
    let (kind, marker, url) = (parts.next(), parts.next(), parts.next());
    let kind = if kind == Some("sqlite") {
        BackendKind::Sqlite
    } else {
        BackendKind::Postgres
    };
    let (marker, url) = (marker.expect("marker"), url.expect("url"));
    runtime().block_on(async {
        let config: DatabaseConfig = url.parse().expect("child url");
        let options = ConnectOptions {
            migrate: false,
            ..ConnectOptions::default()
        };
        let store = Store::connect_with(&config, options).await.expect("child connects");
        println!("migrating");
        let applied = store
            .migrator()
            .with_set(slow_set(kind, marker))
            .expect("set")
            .up(None)
            .await
            .expect("child migrates");
        println!("finished {applied:?}");
    });
}

fn spawn_child(kind: BackendKind, marker: &str, url: &str) -> Child {
    let exe = std::env::current_exe().expect("own executable");
    let mut child = Command::new(exe)
        .env(CHILD_ENV, format!("{}|{marker}|{url}", kind.as_str()))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("child starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("child output");
    assert_eq!(line.trim(), "migrating", "the child reached the migration");
    child
}

fn kill(mut child: Child) {
    assert!(
        child.try_wait().expect("child state").is_none(),
        "the child finished before it could be killed; make the slow migration slower"
    );
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("reaped");
    assert!(!status.success(), "killed, not finished: {status}");
}

async fn sqlite_case() {
    let db = harness::sqlite_db().await;
    let path = db.sqlite_path.clone().expect("path");
    let wal = path.with_file_name(format!(
        "{}-wal",
        path.file_name().and_then(|n| n.to_str()).expect("name")
    ));
    let marker = format!("kill_marker_{}", std::process::id());
    let before = db.migrator().introspect().await.expect("catalog");

    let child = spawn_child(BackendKind::Sqlite, &marker, &format!("sqlite://{}", path.display()));
    let started = Instant::now();
    // Half done: the uncommitted transaction has spilled pages into the WAL.
    while std::fs::metadata(&wal).map_or(0, |m| m.len()) < 4 * 1024 * 1024 {
        assert!(started.elapsed() < WAIT, "the child never wrote into the WAL");
        std::thread::sleep(Duration::from_millis(10));
    }
    kill(child);

    // The slow migration left no trace, the schema before it is intact, and so is the history.
    let set = slow_set(BackendKind::Sqlite, &marker);
    let store = Store::connect(&DatabaseConfig::sqlite_file(&path))
        .await
        .expect("reopens");
    let migrator = store.migrator().with_set(set.clone()).expect("set");
    assert_eq!(migrator.introspect().await.expect("catalog"), before);
    let history = migrator.history().await.expect("history");
    assert_eq!(history.current_version, slow_version() - 1);
    assert_eq!(history.pending.len(), 1);

    // The next run completes.
    let applied = migrator.up(None).await.expect("rerun");
    assert_eq!(
        applied.iter().map(|m| m.version).collect::<Vec<_>>(),
        vec![slow_version()]
    );
    let rows = migrator.history().await.expect("history");
    assert_eq!(rows.applied.len() as i64, slow_version());
    assert!(migrator.check().await.expect("check").1.is_empty());
    println!("killed SQLite migrator: ok (rerun applied the slow migration, {SQLITE_ROWS} rows)");
}

#[cfg(feature = "parity")]
async fn postgres_case() {
    let db = harness::postgres_db().await;
    let schema = db.pg_schema.clone().expect("schema");
    let marker = format!("kill_marker_{schema}");
    let base = std::env::var("PARITY_DATABASE_URL").unwrap_or_else(|_| harness::DEFAULT_PARITY_URL.to_owned());
    let (server, _) = base.rsplit_once('/').expect("database in PARITY_DATABASE_URL");
    let server = server.split('?').next().unwrap_or(server);
    let url = format!("{server}/{}?options=-csearch_path%3D{schema}", harness::PARITY_DATABASE);
    let before = db.migrator().introspect().await.expect("catalog");

    let observer = synthlab_db::pg::connect(db.pg_config.as_ref().expect("config"))
        .await
        .expect("observer connects");
    let child = spawn_child(BackendKind::Postgres, &marker, &url);
    let started = Instant::now();
    // Half done: the slow migration's rows are inserted (uncommitted) and its sleep is running.
    loop {
        let running: i64 = observer
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE state = 'active' AND pid <> pg_backend_pid() AND query LIKE '%' || $1 || '%'",
                &[&marker],
            )
            .await
            .expect("pg_stat_activity")
            .get(0);
        if running > 0 {
            break;
        }
        assert!(started.elapsed() < WAIT, "the child never reached the slow migration");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    kill(child);

    let set = slow_set(BackendKind::Postgres, &marker);
    let migrator = db.migrator().with_set(set).expect("set");
    assert_eq!(
        migrator.introspect().await.expect("catalog"),
        before,
        "no trace of the slow migration"
    );
    assert_eq!(
        migrator.history().await.expect("history").current_version,
        slow_version() - 1
    );
    // The server rolls the dead session back and releases its lock; the rerun waits for that.
    let applied = migrator.up(None).await.expect("rerun");
    assert_eq!(
        applied.iter().map(|m| m.version).collect::<Vec<_>>(),
        vec![slow_version()]
    );
    let rows: i64 = observer
        .query_one(&format!("SELECT count(*) FROM {schema}.bulk"), &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(rows, 100_000);
    assert!(migrator.check().await.expect("check").1.is_empty());
    harness::drop_schema(&db).await;
    println!("killed PostgreSQL migrator: ok (rerun applied the slow migration)");
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        child(&spec);
        return;
    }
    let rt = runtime();
    rt.block_on(sqlite_case());
    #[cfg(feature = "parity")]
    rt.block_on(postgres_case());
    println!("test result: ok");
}
