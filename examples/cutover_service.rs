//! A small service that moves to PostgreSQL by configuration alone.
//!
//! It connects like any service (`DATABASE_URL` plus the cutover variables
//! `SYNTHLAB_ROUTE_*`, `SYNTHLAB_SQLITE_URL`, `SYNTHLAB_POSTGRES_URL`, …), prints the routing
//! table, runs one phase of a scripted workload through the repository traits only, and
//! prints the dual-write / shadow-read counters at the end. Exit code 1 when the workload
//! failed or a counter shows a problem.
//!
//! ```sh
//! DATABASE_URL=sqlite://service.db SYNTHLAB_POSTGRES_URL=postgres://postgres@127.0.0.1/svc \
//!   SYNTHLAB_ROUTE_DEFAULT=shadow cargo run --example cutover_service -- --phase 3
//! ```
//! `make cutover-demo` walks it through dual → shadow → shadow:postgres → postgres.

#[path = "support/cutover_workload.rs"]
mod workload;

use std::process::ExitCode;

use synthlab_db::cutover::format_counters;
use synthlab_db::{DatabaseConfig, Store};

#[tokio::main]
async fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match serve().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(err) => {
            eprintln!("cutover_service: {err:#}");
            let config = err.downcast_ref::<synthlab_db::Error>().map(synthlab_db::Error::kind)
                == Some(synthlab_db::ErrorKind::Config);
            ExitCode::from(if config { 2 } else { 1 })
        }
    }
}

/// Runs one phase; `Ok(false)` when a counter shows a problem.
async fn serve() -> anyhow::Result<bool> {
    let mut args = std::env::args().skip(1);
    let mut phase: u8 = 1;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--phase" => {
                let value = args.next().unwrap_or_default();
                phase = value
                    .parse()
                    .map_err(|_| anyhow::anyhow!("--phase takes a number from 1 to 255, got '{value}'"))?;
                anyhow::ensure!(phase > 0, "--phase takes a number from 1 to 255");
            }
            "--help" | "-h" => {
                println!("usage: cutover_service [--phase N]   (configuration from the environment)");
                return Ok(true);
            }
            other => anyhow::bail!("unknown argument '{other}' (usage: cutover_service [--phase N])"),
        }
    }
    let (config, _) = DatabaseConfig::resolve(None)?;
    let store = Store::connect(&config).await?;
    println!("{}\n", store.routing_table());
    let report = workload::run(&store, phase).await?;
    println!("phase {phase}: {report}\n");
    let counters = store.cutover_counters();
    if counters.is_empty() {
        println!("no dual or shadow routes: nothing to count");
        return Ok(true);
    }
    print!("{}", format_counters(&counters));
    Ok(counters.iter().all(|row| row.problems() == 0))
}
