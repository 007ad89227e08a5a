//! `make bench-sync`: what live sync costs and how far behind it stays, measured in one run.
//!
//! - capture overhead: the legacy writer (tests/support/legacy_writer.py, Python's `sqlite3`,
//!   rollback journal) as fast as it can go, with capture installed ÷ without, per transaction
//!   (rounds alternate; median), on tmpfs (CPU cost alone) and on the disk;
//! - the follower (`synthlab-db sync --follow`, the release binary, a separate process) behind
//!   writers at 60 and at 500 transactions/s (two Python processes for 500): steady lag
//!   (median and max of samples every 250 ms), changes applied per second, drain time after
//!   the writers stop;
//! - apply throughput: a backlog written while no follower runs, then applied by `sync`;
//! - the longest transaction of the legacy writer (at 60/s) while the initial sync of a
//!   ≈ 50 MB file runs, and the follower's peak RSS (VmHWM) across the whole run.
//!
//! Needs PostgreSQL at BENCH_DATABASE_URL (database `synthlab_bench_sync` is dropped and
//! created), python3, and the release binary (`make bench-sync` builds it). Figures are
//! reported, never asserted; the machine is shared, so the load average is printed too.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use synthlab_db::DatabaseConfig;
use synthlab_db::config::PostgresConfig;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn binary() -> PathBuf {
    root().join("target/release/synthlab-db")
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn generate(path: &Path, scale: f64) -> Res<()> {
    synthlab_db::copy::generate(
        path,
        &synthlab_db::copy::GenerateOptions {
            scale,
            ..Default::default()
        },
    )?;
    let out = Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute('PRAGMA journal_mode=DELETE')",
        ])
        .arg(path)
        .output()?;
    if !out.status.success() {
        return Err("python3 cannot open the file".into());
    }
    Ok(())
}

struct WriterRun {
    transactions: f64,
    seconds: f64,
    longest_ms: f64,
    errors: usize,
}

fn writer(path: &Path, rate: f64, seconds: f64, seed: u64, stop: Option<&Path>) -> Res<Child> {
    let mut command = Command::new("python3");
    command
        .arg(root().join("tests/support/legacy_writer.py"))
        .arg(path)
        .args(["--rate", &rate.to_string(), "--seconds", &seconds.to_string()])
        .args(["--seed", &seed.to_string()]);
    if let Some(stop) = stop {
        command.arg("--stop-file").arg(stop);
    }
    Ok(command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn()?)
}

fn finish(child: Child) -> Res<WriterRun> {
    let out = child.wait_with_output()?;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    Ok(WriterRun {
        transactions: report["transactions"].as_f64().unwrap_or(0.0),
        seconds: report["seconds"].as_f64().unwrap_or(0.0),
        longest_ms: report["longest_transaction_ms"].as_f64().unwrap_or(0.0),
        errors: report["errors"].as_array().map_or(0, Vec::len),
    })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// Writer time per transaction, capture ÷ none, rounds alternating; median of the ratios.
fn capture_overhead(dir: &Path, base: &Path, rt: &tokio::runtime::Runtime) -> Res<(f64, f64, f64)> {
    let plain = dir.join("plain.db");
    let captured = dir.join("captured.db");
    std::fs::copy(base, &plain)?;
    std::fs::copy(base, &captured)?;
    rt.block_on(synthlab_db::sync::install(&captured, Duration::from_secs(10)))?;
    let (mut ratios, mut with, mut without) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..3u64 {
        let a = finish(writer(&plain, 0.0, 3.0, 100 + round, None)?)?;
        let b = finish(writer(&captured, 0.0, 3.0, 200 + round, None)?)?;
        let per_a = a.seconds / a.transactions.max(1.0) * 1e3;
        let per_b = b.seconds / b.transactions.max(1.0) * 1e3;
        without.push(per_a);
        with.push(per_b);
        ratios.push(per_b / per_a);
    }
    Ok((median(&mut ratios), median(&mut with), median(&mut without)))
}

struct Follower {
    child: Child,
    peak_kib: u64,
}

impl Follower {
    fn start(path: &Path, url: &str, follow: bool) -> Res<Follower> {
        let mut command = Command::new(binary());
        command
            .args(["sync", "--poll-ms", "100", "--from"])
            .arg(path)
            .args(["--to", url]);
        if follow {
            command.arg("--follow");
        }
        let child = command
            .env_remove("DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        Ok(Follower { child, peak_kib: 0 })
    }

    fn sample(&mut self) {
        if let Some(kib) = peak_rss_kib(self.child.id()) {
            self.peak_kib = self.peak_kib.max(kib);
        }
    }

    fn wait(mut self) -> Res<(bool, u64)> {
        loop {
            self.sample();
            if let Some(status) = self.child.try_wait()? {
                return Ok((status.success(), self.peak_kib));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(mut self) -> Res<(bool, u64)> {
        self.sample();
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        self.wait()
    }
}

struct Steady {
    rate: f64,
    lag_median: f64,
    lag_max: f64,
    applied_per_second: f64,
    drain_seconds: f64,
    peak_kib: u64,
    writer_longest_ms: f64,
}

fn steady(
    dir: &Path,
    base: &Path,
    config: &PostgresConfig,
    url: &str,
    rate: f64,
    rt: &tokio::runtime::Runtime,
) -> Res<Steady> {
    let path = dir.join(format!("steady_{rate}.db"));
    std::fs::copy(base, &path)?;
    reset(url, rt)?;
    let mut follower = Follower::start(&path, url, true)?;
    // Wait for the initial copy.
    let deadline = Instant::now() + Duration::from_secs(300);
    while rt.block_on(synthlab_db::sync::status(&path, config))?.applied.is_none() {
        follower.sample();
        if Instant::now() > deadline {
            return Err("the initial copy did not finish".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let stop = dir.join(format!("stop_{rate}"));
    let seconds = 12.0;
    // One Python process manages about 400 transactions/s here: above 300/s, several share the rate.
    let processes = (rate / 300.0).ceil().max(1.0) as u64;
    let writers: Vec<Child> = (0..processes)
        .map(|i| writer(&path, rate / processes as f64, 60.0, rate as u64 + i, Some(&stop)))
        .collect::<Res<_>>()?;
    let started = Instant::now();
    let first = rt
        .block_on(synthlab_db::sync::status(&path, config))?
        .applied
        .unwrap_or(0);
    let mut lags = Vec::new();
    while started.elapsed().as_secs_f64() < seconds {
        std::thread::sleep(Duration::from_millis(250));
        follower.sample();
        let status = rt.block_on(synthlab_db::sync::status(&path, config))?;
        if started.elapsed() > Duration::from_secs(2) {
            lags.push(status.lag_seconds);
        }
    }
    let last = rt
        .block_on(synthlab_db::sync::status(&path, config))?
        .applied
        .unwrap_or(0);
    let applied_per_second = (last - first) as f64 / started.elapsed().as_secs_f64();
    std::fs::write(&stop, b"stop")?;
    let mut written = WriterRun {
        transactions: 0.0,
        seconds: 0.0,
        longest_ms: 0.0,
        errors: 0,
    };
    for w in writers {
        let run = finish(w)?;
        written.transactions += run.transactions;
        written.seconds = written.seconds.max(run.seconds);
        written.longest_ms = written.longest_ms.max(run.longest_ms);
        written.errors += run.errors;
    }
    if written.errors > 0 {
        return Err(format!("the legacy writers saw {} errors", written.errors).into());
    }
    let drain_started = Instant::now();
    loop {
        follower.sample();
        let status = rt.block_on(synthlab_db::sync::status(&path, config))?;
        if status.pending == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let drain_seconds = drain_started.elapsed().as_secs_f64();
    let (ok, peak_kib) = follower.stop()?;
    if !ok {
        return Err("the follower did not stop cleanly on SIGTERM".into());
    }
    let lag_max = lags.iter().copied().fold(0.0, f64::max);
    Ok(Steady {
        rate: written.transactions / written.seconds.max(1e-9),
        lag_median: median(&mut lags),
        lag_max,
        applied_per_second,
        drain_seconds,
        peak_kib,
        writer_longest_ms: written.longest_ms,
    })
}

fn reset(url: &str, rt: &tokio::runtime::Runtime) -> Res<()> {
    let (server, _) = url.rsplit_once('/').ok_or("BENCH_DATABASE_URL has no database")?;
    let admin = format!("{server}/postgres");
    rt.block_on(async {
        let client = synthlab_db::pg::connect_url(&admin).await?;
        client
            .batch_execute("DROP DATABASE IF EXISTS synthlab_bench_sync WITH (FORCE)")
            .await?;
        client.batch_execute("CREATE DATABASE synthlab_bench_sync").await?;
        Ok::<(), Box<dyn std::error::Error>>(())
    })?;
    Ok(())
}

fn main() -> Res<()> {
    let server = std::env::var("BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("PARITY_DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let (host, _) = server.rsplit_once('/').ok_or("BENCH_DATABASE_URL has no database")?;
    let url = format!("{host}/synthlab_bench_sync");
    let DatabaseConfig::Postgres(config) = url.parse::<DatabaseConfig>()? else {
        return Err("BENCH_DATABASE_URL must be postgres://".into());
    };
    if !binary().is_file() {
        return Err("build the release binary first: cargo build --release --bin synthlab-db".into());
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let shm = Path::new("/dev/shm");
    let tmpfs = tempfile::Builder::new()
        .prefix("bench-sync")
        .tempdir_in(if shm.is_dir() { shm } else { Path::new("/tmp") })?;
    let disk = tempfile::Builder::new()
        .prefix("bench-sync")
        .tempdir_in(root().join("target"))?;
    println!("bench-sync: load average at start {}", loadavg());

    let small = tmpfs.path().join("small.db");
    generate(&small, 0.1)?;
    let (ratio_tmpfs, with_tmpfs, without_tmpfs) = capture_overhead(tmpfs.path(), &small, &rt)?;
    let small_disk = disk.path().join("small.db");
    std::fs::copy(&small, &small_disk)?;
    let (ratio_disk, with_disk, without_disk) = capture_overhead(disk.path(), &small_disk, &rt)?;

    let at60 = steady(tmpfs.path(), &small, &config, &url, 60.0, &rt)?;
    let at500 = steady(tmpfs.path(), &small, &config, &url, 500.0, &rt)?;

    // Apply throughput: a backlog written with no follower running, then applied.
    let backlog = tmpfs.path().join("backlog.db");
    std::fs::copy(&small, &backlog)?;
    reset(&url, &rt)?;
    let (ok, _) = Follower::start(&backlog, &url, false)?.wait()?;
    if !ok {
        return Err("initial sync failed".into());
    }
    finish(writer(&backlog, 0.0, 5.0, 77, None)?)?;
    let pending = rt.block_on(synthlab_db::sync::status(&backlog, &config))?.pending;
    let started = Instant::now();
    let (ok, backlog_kib) = Follower::start(&backlog, &url, false)?.wait()?;
    let apply_seconds = started.elapsed().as_secs_f64();
    if !ok {
        return Err("catch-up failed".into());
    }

    // Initial sync of a ≈ 50 MB file while the legacy writer runs at 60/s.
    let big = tmpfs.path().join("big.db");
    generate(&big, 1.0)?;
    let big_bytes = std::fs::metadata(&big)?.len();
    reset(&url, &rt)?;
    let stop = tmpfs.path().join("stop_big");
    let w = writer(&big, 60.0, 600.0, 9, Some(&stop))?;
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let (ok, initial_kib) = Follower::start(&big, &url, false)?.wait()?;
    let initial_seconds = started.elapsed().as_secs_f64();
    std::fs::write(&stop, b"stop")?;
    let during_initial = finish(w)?;
    if !ok {
        return Err("the initial sync of the big file failed".into());
    }

    println!("bench-sync: load average at end {}\n", loadavg());
    println!("| figure | measured | goal |");
    println!("|---|---|---|");
    println!(
        "| legacy write with capture ÷ without (tmpfs: CPU only) | {ratio_tmpfs:.2}× ({with_tmpfs:.3} ms vs {without_tmpfs:.3} ms per transaction) | ≤ 1.3× |"
    );
    println!(
        "| legacy write with capture ÷ without (disk, fsync per commit) | {ratio_disk:.2}× ({with_disk:.2} ms vs {without_disk:.2} ms) | ≤ 1.3× |"
    );
    for s in [&at60, &at500] {
        println!(
            "| steady lag at {:.0} writes/s (median / max of 250 ms samples) | {:.3} s / {:.3} s; {:.0} changes/s applied | < 1 s |",
            s.rate, s.lag_median, s.lag_max, s.applied_per_second
        );
        println!(
            "| drain after the writer stops ({:.0}/s) | {:.2} s | |",
            s.rate, s.drain_seconds
        );
    }
    println!(
        "| apply throughput (backlog of {pending} changes, `sync` process start to exit) | {:.0} changes/s ({apply_seconds:.2} s) | |",
        pending as f64 / apply_seconds
    );
    println!(
        "| initial sync of {:.0} MB under 60 writes/s | {initial_seconds:.1} s | |",
        big_bytes as f64 / 1e6
    );
    println!(
        "| longest legacy transaction during the initial sync | {:.1} ms ({} errors) | < 1000 ms |",
        during_initial.longest_ms, during_initial.errors
    );
    println!(
        "| longest legacy transaction while following at 60 / 500 per s | {:.1} ms / {:.1} ms | < 1000 ms |",
        at60.writer_longest_ms, at500.writer_longest_ms
    );
    let peak = [at60.peak_kib, at500.peak_kib, backlog_kib, initial_kib]
        .into_iter()
        .max()
        .unwrap_or(0);
    println!(
        "| follower peak RSS (initial sync of the big file / following) | {:.1} MiB / {:.1} MiB | < 100 MiB |",
        initial_kib as f64 / 1024.0,
        at500.peak_kib.max(at60.peak_kib) as f64 / 1024.0
    );
    println!("\npeak RSS over all runs: {:.1} MiB", peak as f64 / 1024.0);
    Ok(())
}
