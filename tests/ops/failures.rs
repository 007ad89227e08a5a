//! Connections killed by the server (`pg_terminate_backend`): the call fails as Unavailable,
//! nothing of the transaction is committed, the broken connection never goes back to the
//! pool, and the next call succeeds. Connections that die silently while idle are found by
//! the pool's check before reuse.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use synthlab_db::model::NewExperiment;
use synthlab_db::{DatabaseConfig, ErrorKind, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
    let admin = synthlab_db::pg::connect(&admin_config).await.expect("admin connection");
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

/// A TCP proxy to the parity server that can freeze its current connections: they stay open
/// but nothing passes any more, as with a connection cut silently (no FIN) by a firewall or a
/// crashed host. Connections opened after the freeze work.
struct FreezingProxy {
    port: u16,
    generation: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl FreezingProxy {
    async fn start(target: String) -> FreezingProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let generation = Arc::new(AtomicU64::new(0));
        let current = generation.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(&target).await else {
                    continue;
                };
                let born = current.load(Ordering::Acquire);
                let current = current.clone();
                tokio::spawn(async move {
                    let (mut client_read, mut client_write) = client.into_split();
                    let (mut server_read, mut server_write) = server.into_split();
                    let alive = move || current.load(Ordering::Acquire) == born;
                    let alive2 = alive.clone();
                    let up = async move {
                        let mut buf = vec![0u8; 16 * 1024];
                        while let Ok(n) = client_read.read(&mut buf).await {
                            if n == 0 || !alive() || server_write.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                        // Frozen: keep the sockets open, forward nothing.
                        std::future::pending::<()>().await;
                        drop(server_write);
                    };
                    let down = async move {
                        let mut buf = vec![0u8; 16 * 1024];
                        while let Ok(n) = server_read.read(&mut buf).await {
                            if n == 0 || !alive2() || client_write.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                        std::future::pending::<()>().await;
                        drop(client_write);
                    };
                    tokio::join!(up, down);
                });
            }
        });
        FreezingProxy { port, generation, task }
    }

    fn freeze_current_connections(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

impl Drop for FreezingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `pool_recycling=verified` finds a connection that died silently while idle (the driver
/// cannot see it closed) and replaces it; `fast` hands it out and the call hangs on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silently_dead_idle_connections_are_found_by_verified_recycling() {
    let db = harness::postgres_db().await;
    let schema = db.pg_schema.clone().expect("schema");
    let server = std::env::var("PARITY_DATABASE_URL").unwrap_or_else(|_| harness::DEFAULT_PARITY_URL.to_owned());
    let server = url::Url::parse(&server).expect("parity URL");
    let target = format!("{}:{}", server.host_str().expect("host"), server.port().unwrap_or(5432));
    let proxy = FreezingProxy::start(target).await;
    let url_for = |recycling: &str| {
        let mut url = server.clone();
        url.set_host(Some("127.0.0.1")).expect("host");
        url.set_port(Some(proxy.port)).expect("port");
        url.set_path(&format!("/{}", harness::PARITY_DATABASE));
        url.set_query(None);
        url.query_pairs_mut()
            .append_pair("sslmode", "disable")
            .append_pair("options", &format!("-c search_path={schema}"))
            .append_pair("pool_recycling", recycling)
            .append_pair("pool_verify_after_ms", "200")
            .append_pair("pool_recycle_timeout", "1");
        url.to_string()
    };
    let verified = Store::connect_url(&url_for("verified")).await.expect("verified store");
    let fast = Store::connect_url(&url_for("fast")).await.expect("fast store");
    verified.experiments().get("exp_warm").await.expect("warm verified");
    fast.experiments().get("exp_warm").await.expect("warm fast");

    proxy.freeze_current_connections();
    tokio::time::sleep(Duration::from_millis(300)).await; // idle longer than pool_verify_after

    let started = Instant::now();
    verified
        .experiments()
        .get("exp_after_freeze")
        .await
        .expect("verified recycling replaces the silently dead connection");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert!(
        took >= Duration::from_millis(900),
        "the check waited for pool_recycle_timeout (1 s) before giving the connection up: {took:?}"
    );
    let hung = tokio::time::timeout(Duration::from_secs(2), fast.experiments().get("exp_after_freeze")).await;
    assert!(
        hung.is_err(),
        "fast recycling reused the dead connection and the call hung"
    );
    drop(proxy);
    harness::drop_schema(&db).await;
}
