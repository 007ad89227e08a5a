//! Units of work cancelled at every await point (issue 12, item 8).
//!
//! A unit of work is run again and again, dropped at its first, second, third… pending poll
//! (deterministic: [`cancel_after_polls`]), until one run completes. After every cancellation:
//!
//! - SQLite: another process (python3's `sqlite3`) writes the file at once — a dropped unit
//!   must not keep the file write-locked until this process writes again;
//! - PostgreSQL (a pool of one connection): a write through the store is visible to another
//!   session at once, so the pooled connection is not inside a leftover transaction, and no
//!   session of the store stays `idle in transaction`.
//!
//! A cancelled unit commits all of its rows or none: none when it was dropped before its
//! COMMIT was under way (`tests/parity/unit_of_work.rs` drops one mid-way), either when the
//! COMMIT was already sent — the way every client of a database works. The completed run
//! commits all of its rows. Each runtime flavour is covered: SQLite calls run in place on the
//! multi-thread runtime and on the connection's own thread on a current-thread runtime.

use std::future::Future;
use std::path::Path;
use std::pin::pin;
use std::process::Command;
use std::task::Poll;

use synthlab_db::model::{ExperimentChanges, NewExperiment};
use synthlab_db::{DatabaseConfig, Store};

/// Most runs tried before giving up (a unit has a handful of await points).
const MAX_RUNS: usize = 200;

/// Polls `future` until it completes or has returned `Pending` `polls` times; in the latter
/// case it is dropped right there (the await point it was parked on) and `None` is returned.
async fn cancel_after_polls<F: Future>(future: F, polls: usize) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut pending = 0;
    std::future::poll_fn(|cx| match future.as_mut().poll(cx) {
        Poll::Ready(output) => Poll::Ready(Some(output)),
        Poll::Pending => {
            pending += 1;
            if pending >= polls {
                Poll::Ready(None)
            } else {
                Poll::Pending
            }
        }
    })
    .await
}

fn experiment(id: String) -> NewExperiment {
    NewExperiment {
        id,
        ..NewExperiment::new("cancelled?", "a unit dropped mid-way commits nothing")
    }
}

/// The unit under test: three writes, with an await point of the caller's own between them.
async fn unit(store: &Store, run: usize) -> synthlab_db::Result<()> {
    store
        .transaction(async |tx| {
            tx.experiments().create(&experiment(format!("exp_unit{run}_a"))).await?;
            tokio::task::yield_now().await;
            let rename = ExperimentChanges {
                name: Some("renamed".into()),
                ..Default::default()
            };
            tx.experiments().update(&format!("exp_unit{run}_a"), &rename).await?;
            tokio::task::yield_now().await;
            tx.experiments().create(&experiment(format!("exp_unit{run}_b"))).await?;
            tokio::task::yield_now().await;
            Ok(())
        })
        .await
}

/// Runs [`unit`] with a cancellation at every await point in turn, calling `check` and
/// [`assert_all_or_nothing`] after each cancellation; returns (cancellations, the run that
/// completed).
async fn cancel_everywhere<C, Fut>(store: &Store, mut check: C) -> (usize, usize)
where
    C: FnMut(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    for run in 1..=MAX_RUNS {
        match cancel_after_polls(unit(store, run), run).await {
            Some(result) => {
                result.expect("the uncancelled run commits");
                return (run - 1, run);
            }
            None => {
                check(run).await;
                assert_all_or_nothing(store, run).await;
            }
        }
    }
    panic!("the unit never completed within {MAX_RUNS} polls");
}

/// Another process takes the write lock and commits a write, waiting at most one second
/// for a lock (the busy timeout), so a lock kept by a dropped unit fails the test.
fn another_process_writes(path: &Path) {
    let script = "import sqlite3, sys\n\
                  c = sqlite3.connect(sys.argv[1], timeout=1.0, isolation_level=None)\n\
                  c.execute('BEGIN IMMEDIATE')\n\
                  c.execute(\"UPDATE experiments SET name = name WHERE id = 'none'\")\n\
                  c.execute('COMMIT')\n";
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(path)
        .output()
        .expect("python3 runs (needed by this test)");
    assert!(
        out.status.success(),
        "another process could not write the file after a cancelled unit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn sqlite_units_cancelled_everywhere() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("cancel.db");
    let store = Store::connect(&DatabaseConfig::sqlite_file(&path))
        .await
        .expect("store");
    let (cancelled, completed) = cancel_everywhere(&store, |run| {
        let path = path.clone();
        async move {
            let checked = tokio::task::spawn_blocking(move || another_process_writes(&path));
            checked
                .await
                .unwrap_or_else(|e| panic!("after cancelling run {run}: {e}"));
        }
    })
    .await;
    // Await points: the caller's three, plus on a current-thread runtime each call's wait for
    // the connection's thread.
    assert!(
        cancelled >= 3,
        "only {cancelled} cancellations: the test would prove nothing"
    );
    assert_completed(&store, completed).await;
}

/// The experiments of a cancelled `run`: both (the first one renamed) or neither.
async fn assert_all_or_nothing(store: &Store, run: usize) {
    let repo = store.experiments();
    let a = repo.get(&format!("exp_unit{run}_a")).await.expect("get");
    let b = repo.get(&format!("exp_unit{run}_b")).await.expect("get");
    match (a, b) {
        (None, None) => {}
        (Some(a), Some(_)) => assert_eq!(a.name, "renamed", "run {run} committed in part"),
        (a, b) => panic!(
            "cancelled run {run} committed in part: a {}, b {}",
            a.is_some(),
            b.is_some()
        ),
    }
}

/// The completed run's two experiments exist, the first one renamed.
async fn assert_completed(store: &Store, completed: usize) {
    let a = store
        .experiments()
        .get(&format!("exp_unit{completed}_a"))
        .await
        .expect("get")
        .expect("committed");
    assert_eq!(a.name, "renamed");
    let b = store.experiments().get(&format!("exp_unit{completed}_b")).await;
    assert!(b.expect("get").is_some(), "committed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_unit_cancelled_at_every_await_point_multi_thread() {
    sqlite_units_cancelled_everywhere().await;
}

#[tokio::test(flavor = "current_thread")]
async fn sqlite_unit_cancelled_at_every_await_point_current_thread() {
    sqlite_units_cancelled_everywhere().await;
}

#[cfg(feature = "parity")]
mod postgres {
    use super::*;
    use std::time::{Duration, Instant};

    async fn units_cancelled_everywhere() {
        let db = crate::harness::postgres_db().await;
        let mut config = db.pg_config.clone().expect("pg config");
        let application = format!(
            "cancel_{}_{}",
            std::process::id(),
            db.pg_schema.clone().expect("schema")
        );
        config.set_application_name(&application);
        // One pooled connection: every call after a cancellation uses the one that was
        // returned to the pool (or its replacement).
        config.pool_max_size = 1;
        let store = Store::connect(&DatabaseConfig::Postgres(config.clone()))
            .await
            .expect("store");
        let observer = synthlab_db::pg::connect(&config).await.expect("observer connection");
        let (cancelled, completed) = cancel_everywhere(&store, |run| {
            let (store, observer, application) = (&store, &observer, &application);
            async move {
                // An autocommit write through the pooled connection is visible to another
                // session: that connection is not inside a leftover transaction.
                let probe = format!("exp_probe{run}");
                store
                    .experiments()
                    .create(&experiment(probe.clone()))
                    .await
                    .expect("probe write");
                let seen: i64 = observer
                    .query_one("SELECT count(*) FROM experiments WHERE id = $1", &[&probe])
                    .await
                    .expect("observe")
                    .get(0);
                assert_eq!(
                    seen, 1,
                    "after cancelling run {run}: the pooled connection is inside a transaction"
                );
                // Connections detached from the pool close; the server rolls them back.
                let deadline = Instant::now() + Duration::from_secs(10);
                loop {
                    let open: i64 = observer
                        .query_one(
                            "SELECT count(*) FROM pg_stat_activity
                             WHERE application_name = $1 AND state LIKE 'idle in transaction%'",
                            &[application],
                        )
                        .await
                        .expect("pg_stat_activity")
                        .get(0);
                    if open == 0 {
                        break;
                    }
                    assert!(
                        Instant::now() < deadline,
                        "after cancelling run {run}: {open} session(s) idle in transaction for 10 s"
                    );
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        })
        .await;
        assert!(
            cancelled >= 3,
            "only {cancelled} cancellations: the test would prove nothing"
        );
        assert_completed(&store, completed).await;
        crate::harness::drop_schema(&db).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_unit_cancelled_at_every_await_point_multi_thread() {
        units_cancelled_everywhere().await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn postgres_unit_cancelled_at_every_await_point_current_thread() {
        units_cancelled_everywhere().await;
    }
}
