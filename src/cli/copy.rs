//! `synthlab-db copy`, `verify` and `generate`: moving legacy data into PostgreSQL.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use synthlab_db::DatabaseConfig;
use synthlab_db::config::{PostgresConfig, SqliteLocation};
use synthlab_db::copy::{
    CopyObserver, CopyOptions, CopyReport, FaultKind, GenerateOptions, LockHolder, OnError, TableOutcome, TableReport,
    VerifyOptions, VerifyReport,
};

use super::Format;

/// Bad-row handling (CLI spelling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub(crate) enum OnErrorArg {
    /// Stop at the first bad row; nothing is committed.
    #[default]
    Abort,
    /// Write bad rows to the quarantine file and copy everything else.
    Quarantine,
}

/// Arguments of `copy`.
#[derive(Debug, Args)]
pub(crate) struct CopyArgs {
    /// The legacy SQLite file: sqlite://file.db, sqlite:///abs/file.db or a plain path. Opened read-only.
    #[arg(long, value_name = "URL")]
    from: String,
    /// The PostgreSQL target, postgres://… (default: --database-url / DATABASE_URL when it is postgres).
    #[arg(long, value_name = "URL")]
    to: Option<String>,
    /// What a bad row does: abort (nothing committed) or quarantine (written to the quarantine file).
    #[arg(long, value_enum, default_value_t)]
    on_error: OnErrorArg,
    /// Quarantine file, one JSON object per bad row (default: <source>.quarantine.jsonl).
    #[arg(long, value_name = "FILE")]
    quarantine: Option<PathBuf>,
    /// Replace target rows whose values differ from the source (otherwise they are only reported).
    #[arg(long)]
    overwrite: bool,
    /// Read and validate everything; write nothing (no migration, no quarantine file).
    #[arg(long)]
    dry_run: bool,
    /// Copy only these tables (comma-separated); their parents are read to find orphans.
    #[arg(long, value_delimiter = ',', value_name = "TABLES")]
    tables: Option<Vec<String>>,
    /// Seconds to wait for another copy's lock on the target to end (a copy killed a moment ago
    /// holds it until the server notices); 0 fails at once.
    #[arg(long, default_value_t = 60, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(0..=604_800))]
    lock_timeout: u64,
    /// Output format of the report.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Arguments of `verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The legacy SQLite file: sqlite://file.db, sqlite:///abs/file.db or a plain path. Opened read-only.
    #[arg(long, value_name = "URL")]
    from: String,
    /// The PostgreSQL target, postgres://… (default: --database-url / DATABASE_URL when it is postgres).
    #[arg(long, value_name = "URL")]
    to: Option<String>,
    /// The copy's quarantine file: the rows it lists are expected absent from the target.
    #[arg(long, value_name = "FILE")]
    quarantine: Option<PathBuf>,
    /// Verify only these tables (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "TABLES")]
    tables: Option<Vec<String>>,
    /// How many differing rows to name per table.
    #[arg(long, default_value_t = 10, value_name = "N")]
    max_differences: usize,
    /// Output format of the report.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Arguments of `generate`.
#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    /// The file to write; an existing file is refused unless --force is given.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Replace an existing --out file (and its -wal/-shm files: rows another process committed
    /// to it are lost).
    #[arg(long)]
    force: bool,
    /// Size: 1 ≈ 50 MB and 50k rows; fractions for small files.
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Legacy layout version, 10–15.
    #[arg(long, default_value_t = 15, value_parser = parse_layout)]
    layout: u8,
    /// Version the file was created at (9 up to --layout); later columns are then added in place,
    /// last and without CHECK (default: the layout itself).
    #[arg(long, value_parser = parse_layout_or_9)]
    created: Option<u8>,
    /// Seed of the generator: the same seed gives the same file.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Plant one instance (or two) of every kind of bad row.
    #[arg(long)]
    dirty: bool,
    /// Plant only these kinds of bad row (comma-separated: orphan, nul, non-utf8, non-numeric,
    /// bad-timestamp, duplicate-key-json, invalid-json, check-enum, check-length, check-id, check-range).
    #[arg(long, value_delimiter = ',', value_name = "KINDS")]
    faults: Option<Vec<String>>,
    /// Output format of the report.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

fn parse_layout(text: &str) -> Result<u8, String> {
    let text = text.trim_start_matches(['v', 'V']);
    match text.parse::<u8>() {
        Ok(v) if (10..=15).contains(&v) => Ok(v),
        _ => Err("a legacy layout is 10 to 15 (v10 … v15)".to_owned()),
    }
}

fn parse_layout_or_9(text: &str) -> Result<u8, String> {
    let text = text.trim_start_matches(['v', 'V']);
    match text.parse::<u8>() {
        Ok(v) if (9..=15).contains(&v) => Ok(v),
        _ => Err("a creation version is 9 to 15".to_owned()),
    }
}

pub(super) fn source_path(from: &str) -> anyhow::Result<PathBuf> {
    if !from.starts_with("sqlite:") {
        return Ok(PathBuf::from(from));
    }
    match from.parse::<DatabaseConfig>()? {
        DatabaseConfig::Sqlite(config) => match config.location {
            SqliteLocation::File(path) => Ok(path),
            SqliteLocation::Memory => {
                Err(synthlab_db::Error::config("--from needs a file, not sqlite::memory:").into())
            }
        },
        DatabaseConfig::Postgres(_) => Err(synthlab_db::Error::config("--from must be a SQLite file").into()),
    }
}

pub(super) fn target_config(to: Option<&str>, fallback: &DatabaseConfig) -> anyhow::Result<PostgresConfig> {
    let config = match to {
        Some(url) => url.parse::<DatabaseConfig>()?,
        None => fallback.clone(),
    };
    match config {
        DatabaseConfig::Postgres(pg) => Ok(pg),
        DatabaseConfig::Sqlite(_) => Err(synthlab_db::Error::config(
            "--to must be a postgres:// URL (or set DATABASE_URL / --database-url to one)",
        )
        .into()),
    }
}

/// Progress per table: a bar on a terminal, plain lines otherwise.
pub(super) struct Progress {
    bar: Mutex<Option<ProgressBar>>,
    terminal: bool,
    verb: &'static str,
}

impl Progress {
    pub(super) fn new(verb: &'static str, quiet: bool) -> Option<Progress> {
        if quiet {
            return None;
        }
        Some(Progress {
            bar: Mutex::new(None),
            terminal: std::io::stderr().is_terminal(),
            verb,
        })
    }
}

impl CopyObserver for Progress {
    fn table_started(&self, table: &str, rows: u64) {
        if self.terminal {
            let bar = ProgressBar::new(rows);
            let style = ProgressStyle::with_template(
                "{prefix:>22} [{bar:30}] {human_pos}/{human_len} rows, {elapsed} (eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style.progress_chars("=> "));
            bar.set_prefix(table.to_owned());
            if let Ok(mut slot) = self.bar.lock() {
                *slot = Some(bar);
            }
        } else {
            eprintln!("{} {table} ({rows} rows)…", self.verb);
        }
    }

    fn rows(&self, _table: &str, rows: u64) {
        if let Ok(slot) = self.bar.lock()
            && let Some(bar) = slot.as_ref()
        {
            bar.inc(rows);
        }
    }

    fn waiting_for_lock(&self, holder: &LockHolder, timeout: std::time::Duration) {
        eprintln!(
            "another copy holds this target's lock ({holder}); waiting up to {} s for it to end (--lock-timeout)",
            timeout.as_secs()
        );
    }

    fn table_finished(&self, report: &TableReport) {
        if let Ok(mut slot) = self.bar.lock()
            && let Some(bar) = slot.take()
        {
            bar.finish_and_clear();
        }
        eprintln!(
            "{}: {} rows, {} copied, {} quarantined in {:.2} s",
            report.table, report.source_rows, report.copied, report.quarantined, report.seconds
        );
    }
}

fn human_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / 1024.0 / 1024.0)
    } else if b >= 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

fn print_copy(report: &CopyReport) {
    outln!("source: {}", report.source.display());
    outln!("target: {}", report.target);
    if !report.migrations.is_empty() {
        let verb = if report.dry_run { "would apply" } else { "applied" };
        outln!("migrations {verb}: {}", report.migrations.join(", "));
    }
    for warning in &report.warnings {
        outln!("warning: {warning}");
    }
    outln!(
        "\n{:<22} {:>8} {:>9} {:>9} {:>8} {:>11} {:>10} {:>8} {:>9}  how",
        "table",
        "rows",
        "copied",
        "present",
        "differ",
        "quarantined",
        "bytes",
        "seconds",
        "rows/s"
    );
    let mut total = TableReport {
        table: "total".to_owned(),
        outcome: TableOutcome::Validated,
        source_rows: 0,
        copied: 0,
        already_present: 0,
        differing: 0,
        replaced: 0,
        quarantined: 0,
        bytes: 0,
        seconds: report.seconds,
    };
    for t in &report.tables {
        let how = match t.outcome {
            TableOutcome::Bulk => "bulk COPY",
            TableOutcome::Merge => "merge",
            TableOutcome::Validated => "validated only",
            TableOutcome::AbsentInSource => "not in source",
            TableOutcome::Skipped => "not selected",
        };
        outln!(
            "{:<22} {:>8} {:>9} {:>9} {:>8} {:>11} {:>10} {:>8.2} {:>9.0}  {how}",
            t.table,
            t.source_rows,
            t.copied,
            t.already_present,
            t.differing,
            t.quarantined,
            human_bytes(t.bytes),
            t.seconds,
            t.rows_per_second()
        );
        total.source_rows += t.source_rows;
        total.copied += t.copied;
        total.already_present += t.already_present;
        total.differing += t.differing;
        total.quarantined += t.quarantined;
        total.bytes += t.bytes;
    }
    outln!(
        "{:<22} {:>8} {:>9} {:>9} {:>8} {:>11} {:>10} {:>8.2} {:>9.0}",
        "total",
        total.source_rows,
        total.copied,
        total.already_present,
        total.differing,
        total.quarantined,
        human_bytes(total.bytes),
        total.seconds,
        total.rows_per_second()
    );
    outln!();
    if let Some(file) = &report.quarantine_file {
        outln!("{} bad rows quarantined in {}", report.quarantined(), file.display());
    } else if report.quarantined() > 0 {
        outln!(
            "{} bad rows found (dry run: not written anywhere)",
            report.quarantined()
        );
    }
    if !report.differences.is_empty() {
        outln!("rows in the target that differ from the source:");
        for d in &report.differences {
            let replaced = if d.replaced { " (replaced)" } else { "" };
            outln!(
                "  {} {} {:?} {}{replaced}",
                d.table,
                d.key_text(),
                d.kind,
                d.columns.join(", ")
            );
        }
    }
    if report.dry_run {
        outln!("dry run: nothing was written");
    } else if report.up_to_date() {
        outln!("target is up to date: nothing to copy");
    } else if report.unresolved_differences() > 0 {
        outln!(
            "{} target rows differ from the source and were kept; --overwrite replaces them",
            report.unresolved_differences()
        );
    } else {
        outln!("copy complete: {} rows copied", report.copied());
    }
}

/// `synthlab-db copy`.
pub(crate) async fn copy(args: CopyArgs, fallback: &DatabaseConfig) -> anyhow::Result<ExitCode> {
    let mut options = CopyOptions::new(source_path(&args.from)?, target_config(args.to.as_deref(), fallback)?);
    options.on_error = match args.on_error {
        OnErrorArg::Abort => OnError::Abort,
        OnErrorArg::Quarantine => OnError::Quarantine,
    };
    options.quarantine = args.quarantine;
    options.overwrite = args.overwrite;
    options.dry_run = args.dry_run;
    options.tables = args.tables;
    options.lock_timeout = std::time::Duration::from_secs(args.lock_timeout);
    let progress = Progress::new("copying", false);
    let observer: &dyn CopyObserver = match &progress {
        Some(p) => p,
        None => &synthlab_db::copy::Silent,
    };
    let report = match synthlab_db::copy::copy(&options, observer).await {
        Ok(report) => report,
        Err(err) if args.format == Format::Json && err.kind() == synthlab_db::ErrorKind::Check => {
            let doc = serde_json::json!({ "status": "aborted", "error": err.message() });
            outln!("{}", serde_json::to_string_pretty(&doc)?);
            eprintln!("error: {err}");
            return Ok(ExitCode::from(1));
        }
        Err(err) => return Err(err.into()),
    };
    match args.format {
        Format::Json => {
            let mut doc = serde_json::to_value(&report)?;
            doc["status"] = serde_json::json!(if report.dry_run {
                "dry_run"
            } else if report.up_to_date() {
                "up_to_date"
            } else if report.unresolved_differences() > 0 {
                "differences"
            } else {
                "copied"
            });
            outln!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Format::Text => print_copy(&report),
    }
    Ok(if report.unresolved_differences() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_verify(report: &VerifyReport) {
    outln!("source: {}", report.source.display());
    outln!("target: {}\n", report.target);
    outln!(
        "{:<22} {:>9} {:>9} {:>9} {:>9}  {:<34} result",
        "table",
        "source",
        "target",
        "absent",
        "bad",
        "checksum (source)"
    );
    for t in &report.tables {
        outln!(
            "{:<22} {:>9} {:>9} {:>9} {:>9}  {:<34} {}",
            t.table,
            t.source_rows,
            t.target_rows,
            t.expected_absent,
            t.bad_source_rows,
            t.source_checksum,
            if t.equal { "equal" } else { "DIFFERENT" }
        );
        if !t.equal && t.source_checksum != t.target_checksum {
            outln!("{:<22} {:>51}  target checksum {}", "", "", t.target_checksum);
        }
        for d in &t.differences {
            let detail = d.detail.as_deref().map(|s| format!(" ({s})")).unwrap_or_default();
            outln!("    {:?} {} {}{detail}", d.kind, d.key_text(), d.columns.join(", "));
        }
    }
    let different = report.tables.iter().filter(|t| !t.equal).count();
    if report.equal {
        outln!(
            "\nverify: all {} tables equal ({:.1} s)",
            report.tables.len(),
            report.seconds
        );
    } else {
        outln!("\nverify: {different} of {} tables differ", report.tables.len());
    }
}

/// `synthlab-db verify`.
pub(crate) async fn verify(args: VerifyArgs, fallback: &DatabaseConfig) -> anyhow::Result<ExitCode> {
    let mut options = VerifyOptions::new(source_path(&args.from)?, target_config(args.to.as_deref(), fallback)?);
    options.quarantine = args.quarantine;
    options.tables = args.tables;
    options.max_differences = args.max_differences;
    let report = synthlab_db::copy::verify(&options, &synthlab_db::copy::Silent).await?;
    match args.format {
        Format::Json => outln!("{}", serde_json::to_string_pretty(&report)?),
        Format::Text => print_verify(&report),
    }
    Ok(if report.equal {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `synthlab-db generate`.
pub(crate) async fn generate(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    if !args.force && std::fs::symlink_metadata(&args.out).is_ok() {
        return Err(synthlab_db::Error::new(
            synthlab_db::ErrorKind::Conflict,
            format!(
                "{} exists: not replaced (it and its -wal file may hold data); pass --force to replace it",
                args.out.display()
            ),
        )
        .into());
    }
    let faults = match (&args.faults, args.dirty) {
        (Some(names), _) => names
            .iter()
            .map(|n| n.trim().parse::<FaultKind>())
            .collect::<Result<Vec<_>, _>>()?,
        (None, true) => FaultKind::ALL.to_vec(),
        (None, false) => Vec::new(),
    };
    let options = GenerateOptions {
        scale: args.scale,
        layout: args.layout,
        created: args.created.unwrap_or(args.layout),
        seed: args.seed,
        faults,
    };
    let out = args.out.clone();
    let report = tokio::task::spawn_blocking(move || synthlab_db::copy::generate(&out, &options)).await??;
    match args.format {
        Format::Json => outln!("{}", serde_json::to_string_pretty(&report)?),
        Format::Text => {
            outln!(
                "{}: legacy layout v{} (created at v{}), {} rows, {}",
                report.path.display(),
                report.layout,
                report.created,
                report.total_rows(),
                human_bytes(report.bytes)
            );
            for (table, rows) in &report.rows {
                outln!("  {table:<22} {rows:>8}");
            }
            for fault in &report.faults {
                outln!(
                    "  bad row: {} key={} column {} ({})",
                    fault.table,
                    fault.key,
                    fault.column,
                    fault.kind.as_str()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
