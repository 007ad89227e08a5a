//! `make bench-cutover`: what dual and shadow routing cost on one read and one write,
//! against the same call on the primary alone.
//!
//! A SQLite file (temporary directory) and a fresh PostgreSQL database
//! `synthlab_bench_cutover` on the server of `BENCH_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`; dropped at the end). The read is
//! `experiments().get(id)`, the write `experiments().update(id, name)`, each timed call by
//! call, sequentially, after a warm-up, in interleaved rounds (every mode in turn, the order
//! rotating) so that the machine's noise spreads over all modes alike. Every mode routes the experiments repository only:
//! `sqlite`, `dual:sqlite`, `shadow:sqlite` (ratios against `sqlite`) and `postgres`,
//! `dual:postgres`, `shadow:postgres` (ratios against `postgres`).
//!
//! Knobs: `BENCH_READS` (default 2000), `BENCH_WRITES` (default 500).

use std::time::{Duration, Instant};

use synthlab_db::config::PostgresConfig;
use synthlab_db::cutover::RoutingConfig;
use synthlab_db::model::{ExperimentChanges, NewExperiment};
use synthlab_db::{ConnectOptions, DatabaseConfig, Store};

const DATABASE: &str = "synthlab_bench_cutover";
const ROUNDS: usize = 20;

fn count(var: &str, default: usize) -> usize {
    std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Stats {
    median: Duration,
    p90: Duration,
    mean: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let n = samples.len().max(1);
    let total: Duration = samples.iter().sum();
    Stats {
        median: samples[n / 2],
        p90: samples[(n * 9) / 10],
        mean: total / n as u32,
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

async fn admin(server: &PostgresConfig) -> tokio_postgres::Client {
    synthlab_db::pg::connect(server)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {} is unreachable: {e}", server.redacted_url()))
}

async fn store(sqlite: &DatabaseConfig, postgres: &PostgresConfig, mode: &str) -> Store {
    let mut routing = RoutingConfig::from_vars(sqlite, [("SYNTHLAB_ROUTE_EXPERIMENTS", mode)]).expect("valid routing");
    routing.postgres = Some(DatabaseConfig::Postgres(postgres.clone()));
    Store::connect_routed(&routing, ConnectOptions::default())
        .await
        .expect("store connects")
}

/// The experiment of mode `m`: each mode has its own row, so that single-store writes of the
/// baselines do not make the stores differ where the shadow modes read.
fn id(m: usize) -> String {
    format!("exp_bench{m:04}")
}

async fn read_once(store: &Store, id: &str) -> Duration {
    let started = Instant::now();
    let got = store.experiments().get(id).await.expect("read");
    let elapsed = started.elapsed();
    assert!(got.is_some());
    elapsed
}

async fn write_once(store: &Store, id: &str, name: String) -> Duration {
    let changes = ExperimentChanges {
        name: Some(name),
        ..ExperimentChanges::default()
    };
    let started = Instant::now();
    store.experiments().update(id, &changes).await.expect("write");
    started.elapsed()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (reads, writes) = (count("BENCH_READS", 2000), count("BENCH_WRITES", 500));
    let url =
        std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let DatabaseConfig::Postgres(server) = url.parse().expect("BENCH_DATABASE_URL parses") else {
        panic!("BENCH_DATABASE_URL must be a postgres:// URL")
    };
    let admin = admin(&server).await;
    for sql in [
        format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"),
        format!("CREATE DATABASE {DATABASE}"),
    ] {
        admin.batch_execute(&sql).await.expect("create the bench database");
    }
    let postgres = server.with_dbname(DATABASE);
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = DatabaseConfig::sqlite_file(dir.path().join("bench.db"));

    // The same experiments in both stores (written once through a dual route).
    let seed = store(&sqlite, &postgres, "dual").await;
    for m in 0..6 {
        let mut new = NewExperiment::new("Bench", "Dual writes cost one more round trip");
        new.id = id(m);
        seed.experiments().create(&new).await.expect("seed");
    }
    drop(seed);

    const MODES: [&str; 6] = [
        "sqlite",
        "dual:sqlite",
        "shadow:sqlite",
        "postgres",
        "dual:postgres",
        "shadow:postgres",
    ];
    let mut stores = Vec::new();
    for mode in MODES {
        stores.push(store(&sqlite, &postgres, mode).await);
    }
    // Warm-up: connections, prepared statements, page caches.
    for (m, (store, mode)) in stores.iter().zip(MODES).enumerate() {
        for i in 0..50 {
            read_once(store, &id(m)).await;
            write_once(store, &id(m), format!("warm {mode} {i}")).await;
        }
    }
    // Interleaved rounds, rotating the order, so that the machine's noise (other processes,
    // fsync stalls) spreads over every mode alike.
    let rounds = ROUNDS.min(reads.min(writes)).max(1);
    let mut read_samples: Vec<Vec<Duration>> = vec![Vec::new(); MODES.len()];
    let mut write_samples: Vec<Vec<Duration>> = vec![Vec::new(); MODES.len()];
    for round in 0..rounds {
        for k in 0..MODES.len() {
            let m = (round + k) % MODES.len();
            for _ in 0..reads / rounds {
                read_samples[m].push(read_once(&stores[m], &id(m)).await);
            }
            for i in 0..writes / rounds {
                write_samples[m].push(write_once(&stores[m], &id(m), format!("{} {round} {i}", MODES[m])).await);
            }
        }
    }
    for (store, mode) in stores.iter().zip(MODES) {
        let problems: u64 = store.cutover_counters().iter().map(|r| r.problems()).sum();
        assert_eq!(problems, 0, "{mode}: {:#?}", store.cutover_counters());
    }
    println!(
        "cutover bench: {} reads (experiments.get) and {} writes (experiments.update) per mode, in {rounds} interleaved rounds",
        read_samples[0].len(),
        write_samples[0].len()
    );
    println!(
        "SQLite file in a temporary directory; PostgreSQL {}",
        postgres.redacted_url()
    );
    println!(
        "\n{:<6} {:<16} {:>10} {:>10} {:>10} {:>14}",
        "call", "mode", "median µs", "p90 µs", "mean µs", "ratio (median)"
    );
    let read_stats: Vec<Stats> = read_samples.into_iter().map(stats).collect();
    let write_stats: Vec<Stats> = write_samples.into_iter().map(stats).collect();
    for (call, all) in [("read", &read_stats), ("write", &write_stats)] {
        for (m, mode) in MODES.iter().enumerate() {
            // The single-store call of the same primary: index 0 (sqlite) or 3 (postgres).
            let base = &all[if m < 3 { 0 } else { 3 }];
            let stats = &all[m];
            println!(
                "{call:<6} {mode:<16} {:>10.1} {:>10.1} {:>10.1} {:>13.2}x",
                micros(stats.median),
                micros(stats.p90),
                micros(stats.mean),
                stats.median.as_secs_f64() / base.median.as_secs_f64()
            );
        }
    }
    drop(stores);
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        .await
        .expect("drop the bench database");
}
