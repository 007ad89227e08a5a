//! A PostgreSQL restart under load: calls fail cleanly (Unavailable, promptly) while the server
//! is down and succeed again once it is back, without restarting the process or the store.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use synthlab_db::model::NewExperiment;
use synthlab_db::{ErrorKind, Store};

use crate::cluster::Cluster;

/// One call's outcome: when it ended, how long it took, and its error kind if it failed.
struct Outcome {
    ended: Instant,
    took: Duration,
    error: Option<(ErrorKind, String)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_under_load_heals_without_restarting_the_process() {
    // Every wait of a call is bounded by a configured timeout: waiting for a pooled connection
    // (pool_timeout), checking an idle one (pool_recycle_timeout), opening one
    // (connect_timeout). The bounds below are derived from them.
    let (pool_timeout, recycle_timeout, connect_timeout) = (2, 1, 2);
    let longest_call = Duration::from_secs(pool_timeout + recycle_timeout + connect_timeout);
    // Calls in flight when the server comes back have ended by then; later calls see a healed
    // pool.
    let healing = Duration::from_secs(pool_timeout + connect_timeout);
    let cluster = Cluster::start("host all all 127.0.0.1/32 trust", &[]);
    let url = cluster.url(
        "postgres",
        "127.0.0.1",
        &format!(
            "sslmode=disable&pool_max_size=8&pool_timeout={pool_timeout}&pool_recycle_timeout={recycle_timeout}\
             &connect_timeout={connect_timeout}"
        ),
    );
    let store = Store::connect_url(&url)
        .await
        .expect("connect to the throwaway cluster");
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..8 {
        let (store, stop) = (store.clone(), stop.clone());
        workers.spawn(async move {
            let mut outcomes = Vec::new();
            let mut i = 0u32;
            // Bounded: at most 60 s or 20 000 calls per worker.
            let deadline = Instant::now() + Duration::from_secs(60);
            while !stop.load(Ordering::Acquire) && Instant::now() < deadline && i < 20_000 {
                i += 1;
                let started = Instant::now();
                let result = if i.is_multiple_of(2) {
                    store
                        .experiments()
                        .create(&NewExperiment::new(format!("w{worker} #{i}"), "restart load"))
                        .await
                        .map(drop)
                } else {
                    store.experiments().get("exp_missing").await.map(drop)
                };
                let error = result.err().map(|e| (e.kind(), e.to_string()));
                if error.is_some() {
                    // A failing caller backs off a little, as a service would.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                outcomes.push(Outcome {
                    ended: Instant::now(),
                    took: started.elapsed(),
                    error,
                });
            }
            outcomes
        });
    }

    tokio::time::sleep(Duration::from_millis(800)).await;
    let stopping = Instant::now();
    tokio::task::block_in_place(|| cluster.stop_server());
    let stopped = Instant::now();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    tokio::task::block_in_place(|| cluster.start_server());
    let restarted = Instant::now();
    tokio::time::sleep(healing + Duration::from_secs(3)).await;
    stop.store(true, Ordering::Release);

    let mut all = Vec::new();
    while let Some(done) = workers.join_next().await {
        all.extend(done.expect("worker"));
    }
    let before: Vec<&Outcome> = all.iter().filter(|o| o.ended < stopping).collect();
    let down: Vec<&Outcome> = all
        .iter()
        .filter(|o| o.ended > stopped && o.ended < restarted)
        .collect();
    let healed_after = restarted + healing;
    let after: Vec<&Outcome> = all.iter().filter(|o| o.ended - o.took > healed_after).collect();

    assert!(
        before.iter().all(|o| o.error.is_none()),
        "calls failed before the restart: {:?}",
        before
            .iter()
            .filter_map(|o| o.error.as_ref())
            .take(3)
            .collect::<Vec<_>>()
    );
    assert!(!before.is_empty() && !after.is_empty(), "the load did not run");
    let down_errors: Vec<&(ErrorKind, String)> = down.iter().filter_map(|o| o.error.as_ref()).collect();
    assert!(!down_errors.is_empty(), "no call failed while the server was down");
    // Clean failures: every error of the whole run is Unavailable, none hung (a call may take
    // its timeouts plus a margin for a loaded machine, never more).
    let margin = Duration::from_secs(3);
    for outcome in &all {
        if let Some((kind, message)) = &outcome.error {
            assert_eq!(*kind, ErrorKind::Unavailable, "unclean failure: {message}");
        }
        assert!(
            outcome.took < longest_call + margin,
            "a call took {:?} (its timeouts add up to {longest_call:?}, margin {margin:?})",
            outcome.took
        );
    }
    // Healed: every call started once the calls in flight at the restart have ended succeeds.
    let failed_after: Vec<&(ErrorKind, String)> = after.iter().filter_map(|o| o.error.as_ref()).collect();
    assert!(
        failed_after.is_empty(),
        "{} of {} calls failed after the restart: {:?}",
        failed_after.len(),
        after.len(),
        failed_after.iter().take(3).collect::<Vec<_>>()
    );
    store
        .experiments()
        .create(&NewExperiment::new("after", "restart"))
        .await
        .expect("the same store works after the restart");
}
