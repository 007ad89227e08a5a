//! `synthlab-db sync`: live sync of a legacy SQLite file into PostgreSQL (`status`,
//! `uninstall`).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use synthlab_db::DatabaseConfig;
use synthlab_db::copy::{CopyObserver, OnError, TableReport};
use synthlab_db::sync::{BatchReport, Follower, InitialReport, SyncCounters, SyncObserver, SyncOptions, SyncStatus};

use super::Format;
use super::copy::{OnErrorArg, Progress, source_path, target_config};

/// Arguments of `sync`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct SyncArgs {
    /// `status` or `uninstall`; without one, sync runs.
    #[command(subcommand)]
    command: Option<SyncCommand>,
    /// What the run does.
    #[command(flatten)]
    run: RunArgs,
}

/// Arguments of a sync run.
#[derive(Debug, Args)]
struct RunArgs {
    /// The legacy SQLite file: sqlite://file.db, sqlite:///abs/file.db or a plain path. Capture
    /// triggers and a change table (`_synthlab_sync_*`) are installed in it; its data is only read.
    #[arg(long, value_name = "URL")]
    from: Option<String>,
    /// The PostgreSQL target, postgres://… (default: --database-url / DATABASE_URL when it is postgres).
    #[arg(long, value_name = "URL")]
    to: Option<String>,
    /// Keep applying changes until SIGINT or SIGTERM (otherwise exit 0 once caught up).
    #[arg(long)]
    follow: bool,
    /// What a bad row does: abort (the follower stops, nothing of its batch applied) or
    /// quarantine (written to the quarantine file, left out of PostgreSQL).
    #[arg(long, value_enum, default_value_t)]
    on_error: OnErrorArg,
    /// Quarantine file, one JSON object per bad row (default: <source>.quarantine.jsonl).
    #[arg(long, value_name = "FILE")]
    quarantine: Option<PathBuf>,
    /// Milliseconds between polls when caught up (--follow).
    #[arg(long, default_value_t = 100, value_name = "MS")]
    poll_ms: u64,
    /// Change records per batch.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    batch: i64,
    /// Start over: empty the target's tables and copy again (also when the target follows
    /// another file or holds rows without sync state).
    #[arg(long)]
    force: bool,
    /// Seconds to wait for the legacy writer's lock while installing capture.
    #[arg(long, default_value_t = 30, value_name = "S")]
    lock_wait: u64,
}

#[derive(Debug, Subcommand)]
enum SyncCommand {
    /// What was captured and applied, the pending changes, the lag, the state of capture.
    Status {
        /// The legacy SQLite file.
        #[arg(long, value_name = "URL")]
        from: String,
        /// The PostgreSQL target (default: --database-url / DATABASE_URL when it is postgres).
        #[arg(long, value_name = "URL")]
        to: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Remove the capture triggers and tables from the legacy file (sqlite_master is then as
    /// before sync first ran).
    Uninstall {
        /// The legacy SQLite file.
        #[arg(long, value_name = "URL")]
        from: String,
        /// Remove it even though some captured changes were not applied by every follower.
        #[arg(long)]
        force: bool,
    },
}

impl From<OnErrorArg> for OnError {
    fn from(arg: OnErrorArg) -> Self {
        match arg {
            OnErrorArg::Abort => OnError::Abort,
            OnErrorArg::Quarantine => OnError::Quarantine,
        }
    }
}

/// Progress: the copy's bars for the initial copy, then a status line on a terminal or a
/// summary line every few seconds otherwise.
struct SyncProgress {
    copy: Option<Progress>,
    line: Option<ProgressBar>,
    last_summary: Mutex<Instant>,
    applied_since: Mutex<u64>,
}

impl SyncProgress {
    fn new() -> SyncProgress {
        let line = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar
        });
        SyncProgress {
            copy: Progress::new("initial copy:", false),
            line,
            last_summary: Mutex::new(Instant::now()),
            applied_since: Mutex::new(0),
        }
    }

    fn show(&self, counters: &SyncCounters) {
        let text = format!(
            "applied {} / captured {} (pending {}, lag {:.2} s), {} rows upserted, {} deleted, {} quarantined",
            counters.applied,
            counters.captured,
            counters.pending,
            counters.lag_seconds,
            counters.upserted_rows,
            counters.deleted_rows,
            counters.quarantined_rows
        );
        if let Some(line) = &self.line {
            line.set_message(text);
            line.tick();
            return;
        }
        let Ok(mut last) = self.last_summary.lock() else { return };
        if last.elapsed() >= Duration::from_secs(5) {
            let applied = self
                .applied_since
                .lock()
                .map(|mut n| std::mem::take(&mut *n))
                .unwrap_or(0);
            eprintln!(
                "sync: {text}; {:.0} changes/s",
                applied as f64 / last.elapsed().as_secs_f64()
            );
            *last = Instant::now();
        }
    }
}

impl CopyObserver for SyncProgress {
    fn table_started(&self, table: &str, rows: u64) {
        if let Some(p) = &self.copy {
            p.table_started(table, rows);
        }
    }
    fn rows(&self, table: &str, rows: u64) {
        if let Some(p) = &self.copy {
            p.rows(table, rows);
        }
    }
    fn table_finished(&self, report: &TableReport) {
        if let Some(p) = &self.copy {
            p.table_finished(report);
        }
    }
}

impl SyncObserver for SyncProgress {
    fn initial_done(&self, report: &InitialReport) {
        eprintln!(
            "initial copy committed at position {} (started at {}; {} changes replayed, {} bad rows quarantined) in {:.2} s",
            report.position, report.start_position, report.replayed_changes, report.quarantined, report.seconds
        );
    }
    fn batch(&self, report: &BatchReport, counters: &SyncCounters) {
        if let Ok(mut n) = self.applied_since.lock() {
            *n += report.records;
        }
        self.show(counters);
    }
    fn idle(&self, counters: &SyncCounters) {
        self.show(counters);
    }
}

/// Completes on SIGINT or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn print_status(status: &SyncStatus, format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        outln!("{}", serde_json::to_string_pretty(status)?);
        return Ok(());
    }
    outln!("source:      {}", status.source.display());
    outln!("target:      {}", status.target);
    match &status.capture_info {
        Some(info) => outln!(
            "capture:     {} (capture id {}, installed {}, {} triggers, {} records in the change table)",
            status.capture,
            info.source_id,
            info.installed_at,
            info.triggers.len(),
            info.records
        ),
        None => outln!("capture:     absent"),
    }
    outln!("captured:    {}", status.captured);
    match status.applied {
        Some(applied) => outln!("applied:     {applied}"),
        None => outln!("applied:     - (the target has no sync state: `synthlab-db sync` makes the initial copy)"),
    }
    outln!("pending:     {}", status.pending);
    outln!("lag:         {:.3} s", status.lag_seconds);
    outln!("last apply:  {}", status.last_apply.as_deref().unwrap_or("-"));
    if let Some(problem) = &status.problem {
        outln!("problem:     {problem}");
    }
    Ok(())
}

/// `synthlab-db sync …`.
pub(crate) async fn run(args: SyncArgs, fallback: &DatabaseConfig) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(SyncCommand::Status { from, to, format }) => {
            let source = source_path(&from)?;
            let target = target_config(to.as_deref(), fallback)?;
            let status = synthlab_db::sync::status(&source, &target).await?;
            print_status(&status, format)?;
            Ok(if status.problem.is_some() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Some(SyncCommand::Uninstall { from, force }) => {
            let source = source_path(&from)?;
            let report = synthlab_db::sync::uninstall(&source, force, Duration::from_secs(30)).await?;
            if report.removed.is_empty() {
                outln!("no capture installed in {}", source.display());
            } else {
                outln!(
                    "removed from {}: {}{}",
                    source.display(),
                    report.removed.join(", "),
                    if report.unapplied > 0 {
                        format!(" ({} unapplied changes dropped)", report.unapplied)
                    } else {
                        String::new()
                    }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let run = args.run;
            let Some(from) = run.from.as_deref() else {
                return Err(synthlab_db::Error::config("sync needs --from SQLITE_URL").into());
            };
            let mut options = SyncOptions::new(source_path(from)?, target_config(run.to.as_deref(), fallback)?);
            options.on_error = run.on_error.into();
            options.quarantine = run.quarantine;
            options.poll = Duration::from_millis(run.poll_ms.max(1));
            options.batch_changes = run.batch.max(1);
            options.force = run.force;
            options.lock_wait = Duration::from_secs(run.lock_wait);
            let progress = SyncProgress::new();
            let (mut follower, start) = Follower::start(options, &progress).await?;
            if start.capture_created {
                eprintln!(
                    "capture installed in the legacy file (triggers and tables named _synthlab_sync_*; \
                     `synthlab-db sync uninstall` removes them)"
                );
            }
            if !start.migrations.is_empty() {
                eprintln!("migrations applied to the target: {}", start.migrations.join(", "));
            }
            if run.follow {
                follower.follow(stop_signal(), &progress).await?;
            } else {
                follower.catch_up(&progress).await?;
            }
            if let Some(line) = &progress.line {
                line.finish_and_clear();
            }
            let counters = follower.counters();
            outln!(
                "sync: applied {} (captured {}, pending {}); {} changes in {} batches, {} rows upserted, {} deleted, {} quarantined",
                counters.applied,
                counters.captured,
                counters.pending,
                counters.applied_changes,
                counters.batches,
                counters.upserted_rows,
                counters.deleted_rows,
                counters.quarantined_rows
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
