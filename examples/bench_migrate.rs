//! `make bench-migrate`: how long applying every migration to a fresh database takes, on each
//! backend (goal: under 1 s). Each run gets a new SQLite file / a new PostgreSQL schema; the
//! connection is opened before the clock starts. PostgreSQL comes from `BENCH_DATABASE_URL`,
//! else `PARITY_DATABASE_URL`, else `postgres://postgres@127.0.0.1:5432/postgres`; it must
//! be reachable (the benchmark fails otherwise, it does not skip).

use std::time::{Duration, Instant};

use synthlab_db::{ConnectOptions, DatabaseConfig, Store};

const RUNS: usize = 10;

fn summary(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<10} fresh apply of all migrations, {RUNS} runs: min {:.1} ms, median {:.1} ms, max {:.1} ms (goal < 1000 ms)",
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1])
    );
}

fn no_migrate() -> ConnectOptions {
    ConnectOptions {
        migrate: false,
        ..ConnectOptions::default()
    }
}

async fn sqlite() -> anyhow::Result<Vec<Duration>> {
    let dir = tempfile::tempdir()?;
    let mut times = Vec::new();
    for run in 0..RUNS {
        let config = DatabaseConfig::sqlite_file(dir.path().join(format!("bench{run}.db")));
        let store = Store::connect_with(&config, no_migrate()).await?;
        let started = Instant::now();
        let applied = store.migrator().up(None).await?;
        times.push(started.elapsed());
        anyhow::ensure!(!applied.is_empty(), "nothing was applied");
    }
    Ok(times)
}

async fn postgres() -> anyhow::Result<Vec<Duration>> {
    let url = std::env::var("BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("PARITY_DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let DatabaseConfig::Postgres(server) = url.parse::<DatabaseConfig>()? else {
        anyhow::bail!("BENCH_DATABASE_URL must be a postgres:// URL");
    };
    let admin = synthlab_db::pg::connect(&server).await?;
    let mut times = Vec::new();
    for run in 0..RUNS {
        let schema = format!("bench_migrate_{}_{run}", std::process::id());
        admin.batch_execute(&format!("CREATE SCHEMA {schema}")).await?;
        let mut config = server.clone();
        config.set_options(&format!("-c search_path={schema}"));
        let store = Store::connect_with(&DatabaseConfig::Postgres(config), no_migrate()).await?;
        let started = Instant::now();
        let applied = store.migrator().up(None).await;
        times.push(started.elapsed());
        drop(store);
        admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).await?;
        anyhow::ensure!(!applied?.is_empty(), "nothing was applied");
    }
    Ok(times)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    summary("sqlite", sqlite().await?);
    summary("postgres", postgres().await?);
    Ok(())
}
