//! `make bench-repo`: what the repository layer costs, reported (not asserted).
//!
//! 1. Overhead: get-by-id and insert through the repository traits vs the same statement
//!    through the raw driver (rusqlite cached statement, on the caller's thread and in
//!    `spawn_blocking`; tokio-postgres prepared statement), each backend, one call at a time on
//!    a runtime worker. Goals (issue 16): SQLite get ≤ 2× and insert ≤ 1.2× rusqlite on the
//!    caller's thread; PostgreSQL ≤ 1.10×.
//! 2. Throughput: read-by-id through the pool with 16 concurrent tasks vs `pgbench` running the
//!    same SELECT with 16 clients for the same duration, in rounds (pgbench, then each pool
//!    mode and the raw driver); goal ≥ 0.95× pgbench's TPS.
//! 3. Startup: process start to first query answered (the `startup_probe` example), PostgreSQL.
//!    Goal < 100 ms.
//! 4. PgBouncer: the same read-by-id throughput (16 tasks) through a real PgBouncer in
//!    transaction mode with `pgbouncer=true` (unnamed statements), divided by the throughput
//!    connected directly (cached prepared statements), in interleaved rounds of one run; also
//!    `pgbouncer=true` without a pooler, to tell the statements' cost from the hop's.
//!    Goal ≥ 0.7×. Needs the `pgbouncer` binary (`apt-get install -y pgbouncer`).
//! 5. Light load: one read every 100 ms after a burst opened 16 connections, `verified` vs
//!    `fast` recycling (what the idle check costs a caller).
//!
//! Environment: `BENCH_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`;
//! a database `synthlab_bench` is created and dropped on that server), `BENCH_SECONDS`
//! (throughput run length, default 5), `PGBENCH` (path of pgbench; default the newest
//! `/usr/lib/postgresql/*/bin/pgbench`, else `pgbench` on PATH).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use synthlab_db::model::NewExperiment;
use synthlab_db::{DatabaseConfig, Store};

#[path = "../tests/support/pgbouncer.rs"]
mod pgbouncer;

const ROWS: usize = 1000;
const BENCH_DB: &str = "synthlab_bench";
const SELECT_PG: &str = "SELECT id, name, hypothesis, description, scorecard_data, status, created_at, updated_at
                     FROM experiments WHERE id = $1 AND status = 'active'";
const SELECT_SQLITE: &str = "SELECT id, name, hypothesis, description, scorecard_data, status, created_at, updated_at
                     FROM experiments WHERE id = ?1 AND status = 'active'";
const INSERT_PG: &str =
    "INSERT INTO experiments (id, name, hypothesis, description, scorecard_data, status, created_at)
                 VALUES ($1, $2, $3, $4, $5, 'active', $6)
                 RETURNING id, name, hypothesis, description, scorecard_data, status, created_at, updated_at";
const INSERT_SQLITE: &str =
    "INSERT INTO experiments (id, name, hypothesis, description, scorecard_data, status, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6)
                     RETURNING id, name, hypothesis, description, scorecard_data, status, created_at, updated_at";

type AnyResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn id(n: usize) -> String {
    format!("exp_{:06}", 100_000 + n % ROWS)
}

/// Times `iterations` calls of `f`, in µs per call.
async fn time_us<F, Fut>(iterations: usize, offset: usize, f: &mut F) -> AnyResult<f64>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = AnyResult<()>>,
{
    let started = Instant::now();
    for n in 0..iterations {
        f(offset + n).await?;
    }
    Ok(started.elapsed().as_secs_f64() * 1e6 / iterations as f64)
}

/// Best of `rounds` timings of each side, the two sides alternating round by round so that
/// both see the same machine load.
async fn compare<A, FA, B, FB>(rounds: usize, iterations: usize, mut ours: A, mut raw: B) -> AnyResult<(f64, f64)>
where
    A: FnMut(usize) -> FA,
    FA: std::future::Future<Output = AnyResult<()>>,
    B: FnMut(usize) -> FB,
    FB: std::future::Future<Output = AnyResult<()>>,
{
    let (mut best_ours, mut best_raw) = (f64::MAX, f64::MAX);
    for round in 0..rounds {
        let offset = round * iterations;
        best_ours = best_ours.min(time_us(iterations, offset, &mut ours).await?);
        best_raw = best_raw.min(time_us(iterations, offset, &mut raw).await?);
    }
    Ok((best_ours, best_raw))
}

fn report(label: &str, ours: f64, raw: f64, goal: &str) {
    println!(
        "  {label:<44} trait {ours:>8.1} µs   raw {raw:>8.1} µs   ratio {:>5.2}×   ({goal})",
        ours / raw
    );
}

fn new_experiment(id: String) -> NewExperiment {
    NewExperiment {
        id,
        ..NewExperiment::new("bench", "the repository layer costs little")
    }
}

async fn sqlite_overhead() -> AnyResult<()> {
    println!("\n[1a] repository overhead, SQLite (file in a temp dir, WAL, synchronous=NORMAL, one call at a time)");
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.db");
    let store = Store::connect(&DatabaseConfig::sqlite_file(&path)).await?;
    let repo = store.experiments();
    for n in 0..ROWS {
        repo.create(&new_experiment(id(n))).await?;
    }
    // The raw side uses the settings the store uses on its own connections.
    let conn = rusqlite::Connection::open(&path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    let raw = Arc::new(std::sync::Mutex::new(conn));
    fn read_raw(conn: &rusqlite::Connection, key: &str) -> AnyResult<()> {
        let mut stmt = conn.prepare_cached(SELECT_SQLITE)?;
        let mut rows = stmt.query([key])?;
        let row = rows.next()?.ok_or("missing")?;
        // Read every column, as the repository does (it also parses them into the model).
        for column in 0..8 {
            let _: Option<String> = row.get(column)?;
        }
        Ok(())
    }
    fn insert_raw(conn: &mut rusqlite::Connection, key: String) -> AnyResult<()> {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut stmt = tx.prepare_cached(INSERT_SQLITE)?;
            let mut rows = stmt.query(rusqlite::params![
                key,
                "bench",
                "the repository layer costs little",
                Option::<String>::None,
                Option::<String>::None,
                chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
            ])?;
            rows.next()?.ok_or("no row")?;
        }
        tx.commit()?;
        Ok(())
    }
    let get_ours = |n: usize| {
        let repo = repo.clone();
        async move {
            repo.get(&id(n)).await?.ok_or("missing")?;
            Ok(())
        }
    };
    let get_direct = |n: usize| {
        let result = raw
            .lock()
            .map_err(|_| "poisoned".into())
            .and_then(|c| read_raw(&c, &id(n)));
        async move { result }
    };
    let get_blocking = |n: usize| {
        let raw = raw.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let conn = raw.lock().map_err(|_| "poisoned")?;
                read_raw(&conn, &id(n))
            })
            .await?
        }
    };
    let (ours, direct) = compare(9, 5_000, get_ours, get_direct).await?;
    report(
        "get by id vs rusqlite on the caller's thread",
        ours,
        direct,
        "goal ≤ 2×",
    );
    let (ours, blocking) = compare(9, 5_000, get_ours, get_blocking).await?;
    report(
        "get by id vs rusqlite in spawn_blocking",
        ours,
        blocking,
        "goal ≤ 1.10×",
    );
    // A current-thread runtime may not block its only thread: calls go to the connection's own
    // thread there (the runtime's blocking pool is the baseline).
    let (ours, blocking) = tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            let on_current_thread = scope.spawn(|| -> AnyResult<(f64, f64)> {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                runtime.block_on(compare(9, 5_000, get_ours, get_blocking))
            });
            on_current_thread
                .join()
                .map_err(|_| "the current-thread run panicked")?
        })
    })?;
    report(
        "get by id, current-thread, vs spawn_blocking",
        ours,
        blocking,
        "reference",
    );

    let insert_ours = |prefix: &'static str| {
        let repo = repo.clone();
        move |n: usize| {
            let repo = repo.clone();
            async move {
                repo.create(&new_experiment(format!("{prefix}{n}"))).await?;
                Ok(())
            }
        }
    };
    let insert_direct = |n: usize| {
        let result = raw
            .lock()
            .map_err(|_| "poisoned".into())
            .and_then(|mut c| insert_raw(&mut c, format!("exp_r{n}")));
        async move { result }
    };
    let insert_blocking = |n: usize| {
        let raw = raw.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let mut conn = raw.lock().map_err(|_| "poisoned")?;
                insert_raw(&mut conn, format!("exp_b{n}"))
            })
            .await?
        }
    };
    let (ours, direct) = compare(7, 500, insert_ours("exp_t"), insert_direct).await?;
    report("insert vs rusqlite on the caller's thread", ours, direct, "goal ≤ 1.2×");
    let (ours, blocking) = compare(7, 500, insert_ours("exp_u"), insert_blocking).await?;
    report("insert vs rusqlite in spawn_blocking", ours, blocking, "goal ≤ 1.10×");
    Ok(())
}

fn server_url() -> String {
    std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn bench_db_url(params: &str) -> AnyResult<String> {
    let mut url = url::Url::parse(&server_url())?;
    url.set_path(&format!("/{BENCH_DB}"));
    url.set_query(if params.is_empty() { None } else { Some(params) });
    Ok(url.to_string())
}

async fn admin(sql: &str) -> AnyResult<()> {
    let client = synthlab_db::pg::connect_url(&server_url()).await?;
    client.batch_execute(sql).await?;
    Ok(())
}

async fn raw_client() -> AnyResult<tokio_postgres::Client> {
    Ok(synthlab_db::pg::connect_url(&bench_db_url("")?).await?)
}

async fn postgres_overhead() -> AnyResult<()> {
    let raw = raw_client().await?;
    let select = raw.prepare(SELECT_PG).await?;
    let insert = raw.prepare(INSERT_PG).await?;
    for (label, params) in [
        ("verified, default window 1000 ms", "pool_recycling=verified"),
        (
            "verified on every checkout",
            "pool_recycling=verified&pool_verify_after_ms=0",
        ),
        ("fast", "pool_recycling=fast"),
    ] {
        println!(
            "\n[1b] repository overhead, PostgreSQL (pool_recycling={label}; sslmode=disable, one call at a time)"
        );
        let store = Store::connect_url(&bench_db_url(&format!("sslmode=disable&{params}"))?).await?;
        let repo = store.experiments();
        let get_ours = |n: usize| {
            let repo = repo.clone();
            async move {
                repo.get(&id(n)).await?.ok_or("missing")?;
                Ok(())
            }
        };
        let get_raw = |n: usize| {
            let (raw, select) = (&raw, &select);
            async move {
                raw.query_opt(select, &[&id(n)]).await?.ok_or("missing")?;
                Ok(())
            }
        };
        let (ours, direct) = compare(9, 1_000, get_ours, get_raw).await?;
        report("get by id vs tokio-postgres prepared", ours, direct, "goal ≤ 1.10×");
        let tag = label.split_whitespace().next().unwrap_or("x").to_owned() + &params.len().to_string();
        let insert_ours = |n: usize| {
            let (repo, tag) = (repo.clone(), tag.clone());
            async move {
                repo.create(&new_experiment(format!("exp_t{tag}_{n}"))).await?;
                Ok(())
            }
        };
        let insert_raw = |n: usize| {
            let (raw, insert, tag) = (&raw, &insert, tag.clone());
            async move {
                let none: Option<String> = None;
                let json: Option<serde_json::Value> = None;
                raw.query_one(
                    insert,
                    &[
                        &format!("exp_r{tag}_{n}"),
                        &"bench",
                        &"the repository layer costs little",
                        &none,
                        &json,
                        &chrono::Utc::now(),
                    ],
                )
                .await?;
                Ok(())
            }
        };
        let (ours, direct) = compare(7, 300, insert_ours, insert_raw).await?;
        report("insert vs tokio-postgres prepared", ours, direct, "goal ≤ 1.10×");
    }
    Ok(())
}

fn pgbench_path() -> PathBuf {
    if let Ok(path) = std::env::var("PGBENCH") {
        return PathBuf::from(path);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.flatten()
                .map(|e| e.path().join("bin/pgbench"))
                .filter(|p| p.exists())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.pop().unwrap_or_else(|| PathBuf::from("pgbench"))
}

/// Reads by id per second through the repository: 16 tasks over a pool of 16.
async fn ours_tps(params: &str, seconds: u64) -> AnyResult<f64> {
    url_tps(
        &bench_db_url(&format!("sslmode=disable&pool_max_size=16&{params}"))?,
        seconds,
    )
    .await
}

/// Read-by-id calls per second of 16 tasks on a store connected to `url`.
async fn url_tps(url: &str, seconds: u64) -> AnyResult<f64> {
    let store = Store::connect_url(url).await?;
    let counter = Counter::default();
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..16usize {
        let (store, counter) = (store.clone(), counter.clone());
        tasks.spawn(async move {
            let repo = store.experiments();
            let mut n = task * 7919;
            while counter.running() {
                n = n.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                counter.count(repo.get(&id(n >> 8)).await.ok().flatten().is_some());
            }
        });
    }
    Ok(counter.measure(tasks, seconds).await)
}

/// The same reads on the raw driver: 16 tasks, each with its own tokio-postgres connection
/// and prepared statement (the driver's ceiling on this machine).
async fn raw_tps(seconds: u64) -> AnyResult<f64> {
    let counter = Counter::default();
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..16usize {
        let client = raw_client().await?;
        let select = client.prepare(SELECT_PG).await?;
        let counter = counter.clone();
        tasks.spawn(async move {
            let mut n = task * 7919;
            while counter.running() {
                n = n.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                counter.count(client.query_opt(&select, &[&id(n >> 8)]).await.ok().flatten().is_some());
            }
        });
    }
    Ok(counter.measure(tasks, seconds).await)
}

/// Calls counted by looping tasks, and the flag that stops them.
#[derive(Clone, Default)]
struct Counter {
    done: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Counter {
    fn running(&self) -> bool {
        !self.stop.load(Ordering::Relaxed)
    }

    fn count(&self, answered: bool) {
        if answered {
            self.done.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Calls per second over `seconds` after a 500 ms warm-up (connections, statement
    /// caches); then stops the tasks.
    async fn measure(&self, mut tasks: tokio::task::JoinSet<()>, seconds: u64) -> f64 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let start_count = self.done.load(Ordering::Relaxed);
        let started = Instant::now();
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        let counted = self.done.load(Ordering::Relaxed) - start_count;
        let elapsed = started.elapsed().as_secs_f64();
        self.stop.store(true, Ordering::Relaxed);
        while tasks.join_next().await.is_some() {}
        counted as f64 / elapsed
    }
}

fn pgbench_tps(seconds: u64) -> AnyResult<f64> {
    pgbench_tps_at(&bench_db_url("")?, "prepared", seconds)
}

/// pgbench's TPS on the read-by-id SELECT, 16 clients, against `url` in protocol `mode`.
fn pgbench_tps_at(url: &str, mode: &str, seconds: u64) -> AnyResult<f64> {
    let url = url::Url::parse(url)?;
    let script = std::env::temp_dir().join(format!("synthlab-bench-{}.sql", std::process::id()));
    std::fs::write(
        &script,
        format!(
            "\\set n random(100000, {})\n{} AND id = 'exp_' || :n;\n",
            100_000 + ROWS - 1,
            SELECT_PG.replace("id = $1 AND ", "")
        ),
    )?;
    let out = Command::new(pgbench_path())
        .args(["-n", "-M", mode, "-c", "16", "-j", "2", "-T"])
        .arg(seconds.to_string())
        .arg("-f")
        .arg(&script)
        .args(["-h", url.host_str().unwrap_or("127.0.0.1")])
        .args(["-p", &url.port().unwrap_or(5432).to_string()])
        .args([
            "-U",
            if url.username().is_empty() {
                "postgres"
            } else {
                url.username()
            },
        ])
        .arg(url.path().trim_start_matches('/'))
        .stderr(Stdio::inherit())
        .output()?;
    let _ = std::fs::remove_file(&script);
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("pgbench failed: {text}").into());
    }
    let tps = text
        .lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l["tps = ".len()..].split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .ok_or_else(|| format!("no tps in pgbench output: {text}"))?;
    Ok(tps)
}

async fn throughput() -> AnyResult<()> {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    const ROUNDS: usize = 3;
    println!(
        "\n[2] throughput: read by id, 16 concurrent tasks through the pool vs pgbench -c 16 -M prepared, {seconds} s each, \
         {ROUNDS} rounds (pgbench, then each mode; ratio to the same round's pgbench)"
    );
    let modes = [
        ("verified (1000 ms)", Some("pool_recycling=verified")),
        (
            "verified (every)",
            Some("pool_recycling=verified&pool_verify_after_ms=0"),
        ),
        ("fast", Some("pool_recycling=fast")),
        ("raw tokio-postgres", None),
    ];
    let mut ratios = vec![Vec::new(); modes.len()];
    for round in 0..ROUNDS {
        let pgbench = tokio::task::spawn_blocking(move || pgbench_tps(seconds)).await??;
        let mut line = format!("  round {}: pgbench {pgbench:>7.0} tps", round + 1);
        for (mode, (label, params)) in modes.iter().enumerate() {
            let ours = match params {
                Some(params) => ours_tps(params, seconds).await?,
                None => raw_tps(seconds).await?,
            };
            ratios[mode].push(ours / pgbench);
            line += &format!(" | {label} {ours:>7.0}/s {:.2}×", ours / pgbench);
        }
        println!("{line}");
    }
    for ((label, params), mut ratio) in modes.iter().zip(ratios) {
        ratio.sort_by(f64::total_cmp);
        let goal = match params {
            Some(_) => "goal ≥ 0.95×",
            None => "the driver's ceiling, for reference",
        };
        println!(
            "  {label:<20} ÷ pgbench: median {:.2}×, range {:.2}–{:.2}×   ({goal})",
            ratio[ratio.len() / 2],
            ratio[0],
            ratio[ratio.len() - 1]
        );
    }
    Ok(())
}

/// Latency of one read every 100 ms after a burst opened 16 connections: every connection
/// then waits 1.6 s between uses when the pool hands out the least recently used one, so
/// `verified` would check each call; handing out the most recently used one, it checks
/// none. Median of `CALLS` calls per mode, the modes interleaved call by call.
async fn low_load() -> AnyResult<()> {
    const CALLS: usize = 40;
    println!(
        "\n[5] light load: 16 connections opened by a burst, then one read every 100 ms ({CALLS} per mode, interleaved)"
    );
    let modes = [
        ("verified (1000 ms)", "pool_recycling=verified"),
        ("fast", "pool_recycling=fast"),
    ];
    let mut stores = Vec::new();
    for (_, params) in modes {
        let store = Store::connect_url(&bench_db_url(&format!("sslmode=disable&pool_max_size=16&{params}"))?).await?;
        let mut burst = tokio::task::JoinSet::new();
        for n in 0..16 {
            let store = store.clone();
            burst.spawn(async move {
                // Hold a connection long enough for all 16 to be open at once.
                store
                    .transaction(async |tx| {
                        tx.experiments().get(&id(n)).await?;
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        Ok(())
                    })
                    .await
            });
        }
        while let Some(done) = burst.join_next().await {
            done??;
        }
        stores.push(store);
    }
    let mut latencies = vec![Vec::new(); modes.len()];
    for n in 0..CALLS {
        for (mode, store) in stores.iter().enumerate() {
            tokio::time::sleep(Duration::from_millis(100 / modes.len() as u64)).await;
            let started = Instant::now();
            store.experiments().get(&id(n)).await?.ok_or("missing")?;
            latencies[mode].push(started.elapsed().as_secs_f64() * 1e6);
        }
    }
    let medians: Vec<f64> = latencies
        .iter_mut()
        .map(|l| {
            l.sort_by(f64::total_cmp);
            l[l.len() / 2]
        })
        .collect();
    for ((label, _), median) in modes.iter().zip(&medians) {
        println!(
            "  {label:<20} median {median:>7.1} µs   ratio to fast {:.2}×",
            median / medians[medians.len() - 1]
        );
    }
    Ok(())
}

async fn pgbouncer_throughput() -> AnyResult<()> {
    const ROUNDS: usize = 3;
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let upstream = pgbouncer::Upstream::from_url(&server_url());
    let small = pgbouncer::PgBouncer::start_sized(&upstream, &[], 4);
    let large = pgbouncer::PgBouncer::start_sized(&upstream, &[], 16);
    println!(
        "\n[4] PgBouncer {} (pool_mode=transaction, server connections handed out in turn): read by id, 16 tasks, \
         {seconds} s per run, {ROUNDS} interleaved rounds (best and median per setup)",
        pgbouncer_version()
    );
    let common = "sslmode=disable&pool_max_size=16&pool_recycling=verified";
    let setups = [
        ("direct (prepared, cached)", bench_db_url(common)?),
        (
            "direct, pgbouncer=true",
            bench_db_url(&format!("{common}&pgbouncer=true"))?,
        ),
        (
            "PgBouncer, 4 server conns",
            small.url(BENCH_DB, &format!("{common}&pgbouncer=true")),
        ),
        (
            "PgBouncer, 16 server conns",
            large.url(BENCH_DB, &format!("{common}&pgbouncer=true")),
        ),
    ];
    let mut runs: Vec<Vec<f64>> = vec![Vec::new(); setups.len()];
    for _ in 0..ROUNDS {
        for (i, (_, url)) in setups.iter().enumerate() {
            runs[i].push(url_tps(url, seconds).await?);
        }
    }
    let stats = |runs: &mut Vec<f64>| {
        runs.sort_by(f64::total_cmp);
        (runs[runs.len() - 1], runs[runs.len() / 2])
    };
    // The same ratio for pgbench itself: the ceiling for a client that cannot keep prepared
    // statements across transactions (PgBouncer 1.18 does not support them).
    let bounced = small.url(BENCH_DB, "");
    let direct_url = bench_db_url("")?;
    let reference = tokio::task::spawn_blocking(move || -> AnyResult<[f64; 3]> {
        Ok([
            pgbench_tps_at(&direct_url, "prepared", seconds)?,
            pgbench_tps_at(&direct_url, "extended", seconds)?,
            pgbench_tps_at(&bounced, "extended", seconds)?,
        ])
    })
    .await??;
    let (direct_best, direct_median) = stats(&mut runs[0]);
    for (i, (label, _)) in setups.iter().enumerate() {
        let (best, median) = stats(&mut runs[i]);
        println!(
            "  {label:<28} best {best:>8.0} calls/s  median {median:>8.0} calls/s   ÷ direct: best {:>4.2}×  median {:>4.2}×{}",
            best / direct_best,
            median / direct_median,
            if i >= 2 { "   (goal ≥ 0.70×)" } else { "" }
        );
    }
    println!(
        "  pgbench -c 16, same SELECT: -M prepared direct {:.0} tps; -M extended direct {:.0} tps ({:.2}×); \
         -M extended through PgBouncer (4 server conns) {:.0} tps ({:.2}×)",
        reference[0],
        reference[1],
        reference[1] / reference[0],
        reference[2],
        reference[2] / reference[0]
    );
    Ok(())
}

fn pgbouncer_version() -> String {
    Command::new("pgbouncer")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).lines().next().map(str::to_owned))
        .unwrap_or_default()
}

fn startup() -> AnyResult<()> {
    println!("\n[3] startup: process start to first query answered (examples/startup_probe, PostgreSQL)");
    let probe = std::env::current_exe()?.with_file_name("startup_probe");
    if !probe.exists() {
        return Err(format!(
            "{} missing: build it with `cargo build --release --examples`",
            probe.display()
        )
        .into());
    }
    let url = bench_db_url("sslmode=disable")?;
    let mut times = Vec::new();
    for _ in 0..15 {
        let started = Instant::now();
        let out = Command::new(&probe).env("DATABASE_URL", &url).output()?;
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || !text.contains("answered") {
            return Err(format!("probe failed: {text}{}", String::from_utf8_lossy(&out.stderr)).into());
        }
        times.push(elapsed);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "  15 runs: min {:.1} ms, median {:.1} ms, max {:.1} ms   (goal < 100 ms; includes connect, migration check, one get)",
        times[0],
        times[times.len() / 2],
        times[times.len() - 1]
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> AnyResult<()> {
    println!("synthlab-db bench-repo (release build; figures are reported, not asserted)");
    // On a worker thread of the multi-thread runtime, where services make their calls (the
    // body of `main` runs in `block_on`, outside the workers).
    tokio::spawn(sqlite_overhead()).await??;
    admin(&format!("DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")).await?;
    admin(&format!("CREATE DATABASE {BENCH_DB}")).await?;
    let outcome = async {
        let store = Store::connect_url(&bench_db_url("sslmode=disable")?).await?;
        for n in 0..ROWS {
            store.experiments().create(&new_experiment(id(n))).await?;
        }
        drop(store);
        postgres_overhead().await?;
        throughput().await?;
        startup()?;
        pgbouncer_throughput().await?;
        low_load().await
    }
    .await;
    admin(&format!("DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")).await?;
    outcome
}
