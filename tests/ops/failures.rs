//! Connections killed by the server (`pg_terminate_backend`): the call fails as Unavailable,
//! nothing of the transaction is committed, the broken connection never goes back to the
//! pool, and the next call succeeds.

use std::time::{Duration, Instant};

use synthlab_db::model::NewExperiment;
use synthlab_db::{DatabaseConfig, ErrorKind, Store};

use crate::harness;

/// A store on a fresh parity schema whose connections carry `application_name = app`.
async fn store_named(app: &str) -> (harness::TestDb, Store, tokio_postgres::Client) {
    let db = harness::postgres_db().await;
    let admin_config = db.pg_config.clone().expect("pg config");
    let mut config = admin_config.clone();
    config.set_application_name(app);
    let store = Store::connect(&DatabaseConfig::Postgres(config))
        .await
        .expect("store with application_name");
    let (admin, connection) = admin_config
        .driver_config()
        .connect(tokio_postgres::NoTls)
        .await
        .expect("admin connection");
    tokio::spawn(connection);
    (db, store, admin)
}

/// Terminates the backends of `app` in `state` and waits until they are gone; returns how many.
async fn kill(admin: &tokio_postgres::Client, app: &str, state: &str) -> usize {
    let rows = admin
        .query(
            "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND state = $2",
            &[&app, &state],
        )
        .await
        .expect("terminate");
    let pids: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let alive: i64 = admin
            .query_one("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)", &[&pids])
            .await
            .expect("count")
            .get(0);
        if alive == 0 {
            return pids.len();
        }
        assert!(Instant::now() < deadline, "terminated backends still alive after 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_killed_mid_transaction() {
    let app = format!("synthlab_kill_tx_{}", std::process::id());
    let (db, store, admin) = store_named(&app).await;
    let before = store.pool_state().expect("pool");

    let first = NewExperiment::new("first", "written inside the killed transaction");
    let second = NewExperiment::new("second", "never reaches the server");
    let (first_id, second_id) = (first.id.clone(), second.id.clone());
    let outcome = store
        .transaction(async |tx| {
            tx.experiments().create(&first).await?;
            let killed = kill(&admin, &app, "idle in transaction").await;
            assert_eq!(killed, 1, "exactly the unit's connection is idle in transaction");
            tx.experiments().create(&second).await?;
            Ok(())
        })
        .await;
    let err = outcome.expect_err("the transaction cannot succeed on a killed connection");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    // The broken connection left the pool instead of going back to it.
    let after_failure = store.pool_state().expect("pool");
    assert!(before.open >= 1, "{before:?}");
    assert_eq!(
        after_failure.open,
        before.open - 1,
        "pool before {before:?}, after the failed unit {after_failure:?}"
    );

    // Nothing of the transaction was committed.
    assert!(store.experiments().get(&first_id).await.expect("read").is_none());
    assert!(store.experiments().get(&second_id).await.expect("read").is_none());

    // Every connection the pool holds is a live backend.
    let after = store.pool_state().expect("pool");
    let live: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
            &[&app],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(live as usize, after.open, "every pooled connection is a live backend");

    // The next calls succeed, including a new unit of work.
    let next = store
        .experiments()
        .create(&NewExperiment::new("next", "after the kill"))
        .await
        .expect("the next call succeeds");
    store
        .transaction(async |tx| {
            tx.experiments()
                .create(&NewExperiment::new("unit", "after the kill"))
                .await?;
            Ok(())
        })
        .await
        .expect("a new unit of work succeeds");
    assert!(store.experiments().get(&next.id).await.expect("read").is_some());
    harness::drop_schema(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_pooled_connections_killed_are_replaced() {
    let app = format!("synthlab_kill_idle_{}", std::process::id());
    let (db, store, admin) = store_named(&app).await;
    // Open several pooled connections.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let store = store.clone();
        tasks.spawn(async move {
            store
                .experiments()
                .create(&NewExperiment::new(format!("warm {i}"), "opens connections"))
                .await
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("join").expect("warm-up call");
    }
    let killed = kill(&admin, &app, "idle").await;
    assert!(killed >= 1, "no idle pooled connection to kill");
    // Every call after the kill succeeds: the pool checks connections before reuse
    // (pool_recycling=verified) and replaces the dead ones.
    for i in 0..20 {
        store
            .experiments()
            .get(&format!("exp_missing_{i}"))
            .await
            .unwrap_or_else(|e| panic!("call {i} after killing {killed} idle connections: {e}"));
    }
    harness::drop_schema(&db).await;
}
