//! Moving legacy data into PostgreSQL: [`copy`] (streamed, resumable, never silently lossy),
//! [`verify`] (row counts and content checksums on both sides) and, with the `testing` feature,
//! `generate` (deterministic legacy files for tests and benchmarks).
//!
//! The copy reads a legacy SQLite file of any layout v10–v15 read-only, converts every value to
//! the migrated schema's type (timestamps to instants, JSON to jsonb, REAL to double precision
//! bit-exact) and refuses what cannot be converted without loss: a bad row is either the reason
//! to stop (`OnError::Abort`, nothing committed) or written to a quarantine file with its
//! original values (`OnError::Quarantine`), its children following it as orphans.

pub(crate) mod bad_row;
pub(crate) mod convert;
pub(crate) mod encode;
#[cfg(feature = "testing")]
pub mod generate;
pub(crate) mod json;
mod lock;
pub(crate) mod pg;
pub(crate) mod read;
pub(crate) mod source;
pub(crate) mod spec;
mod verify;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value as Json};
use tokio::sync::mpsc;

pub use bad_row::{BadRow, default_quarantine_path, read_quarantine};
#[cfg(feature = "testing")]
pub use generate::{FaultKind, GenerateOptions, GenerateReport, PlantedFault, generate};
pub use lock::LockHolder;
pub use verify::{VerifyOptions, VerifyReport, VerifyTable, verify};

use crate::backend::sqlite::copy_source::SqliteSource;
use crate::config::PostgresConfig;
use crate::{Error, ErrorKind, Result};
use pg::{LoadEvents, LoadStats, TableState, Target};
use read::{CHANNEL_CHUNKS, Msg, ReadJob, read_table};
use source::{ScanOrder, ScanPlan};
use spec::{SPECS, TableSpec};

/// What to do with a bad row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Stop at the first bad row; nothing is committed.
    #[default]
    Abort,
    /// Write bad rows (and their children) to the quarantine file; copy everything else.
    Quarantine,
}

/// Options of [`copy`].
#[derive(Debug, Clone)]
pub struct CopyOptions {
    /// The legacy SQLite file (opened read-only).
    pub source: PathBuf,
    /// The PostgreSQL target.
    pub target: PostgresConfig,
    /// Bad-row handling.
    pub on_error: OnError,
    /// Quarantine file (default: `<source>.quarantine.jsonl`).
    pub quarantine: Option<PathBuf>,
    /// Replace target rows that differ from the source.
    pub overwrite: bool,
    /// Read and validate everything, write nothing (no migration, no quarantine file).
    pub dry_run: bool,
    /// Copy only these tables (their parent tables are still read, to find orphans).
    pub tables: Option<Vec<String>>,
    /// How long to wait for another copy's lock on the target to end (default 60 s).
    pub lock_timeout: Duration,
}

/// The default of [`CopyOptions::lock_timeout`].
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

impl CopyOptions {
    /// Defaults: abort on the first bad row, default quarantine path, no overwrite, all tables.
    pub fn new(source: impl Into<PathBuf>, target: PostgresConfig) -> Self {
        CopyOptions {
            source: source.into(),
            target,
            on_error: OnError::Abort,
            quarantine: None,
            overwrite: false,
            dry_run: false,
            tables: None,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        }
    }

    /// The quarantine file this run writes (in quarantine mode).
    pub fn quarantine_path(&self) -> PathBuf {
        self.quarantine
            .clone()
            .unwrap_or_else(|| default_quarantine_path(&self.source))
    }
}

/// Why a table was or was not copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableOutcome {
    /// Loaded with COPY into an empty table (indexes built afterwards).
    Bulk,
    /// Merged into a table that already had rows.
    Merge,
    /// Read and validated only (dry run, or a parent of a selected table).
    Validated,
    /// The source layout has no such table.
    AbsentInSource,
    /// Not selected by `--tables` and not needed.
    Skipped,
}

/// Per-table figures.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableReport {
    /// Table.
    pub table: String,
    /// What happened.
    pub outcome: TableOutcome,
    /// Rows in the source table.
    pub source_rows: u64,
    /// Rows written to the target.
    pub copied: u64,
    /// Rows already in the target with the same values.
    pub already_present: u64,
    /// Rows in the target whose values differ from the source (or that conflict on a unique key).
    pub differing: u64,
    /// Of those, rows replaced (`--overwrite`).
    pub replaced: u64,
    /// Bad rows (written to the quarantine file).
    pub quarantined: u64,
    /// Bytes of COPY payload.
    pub bytes: u64,
    /// Wall time.
    pub seconds: f64,
}

impl TableReport {
    pub(crate) fn new(table: &str, outcome: TableOutcome) -> Self {
        TableReport {
            table: table.to_owned(),
            outcome,
            source_rows: 0,
            copied: 0,
            already_present: 0,
            differing: 0,
            replaced: 0,
            quarantined: 0,
            bytes: 0,
            seconds: 0.0,
        }
    }

    /// Source rows per second.
    pub fn rows_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.source_rows as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// How a target row differs from the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// Same key, different values (`columns` says which).
    Differs,
    /// The source row's key is new but another target row holds one of its unique values.
    Conflict,
    /// In the source, not in the target.
    MissingInTarget,
    /// In the target, not in the source (or quarantined there).
    ExtraInTarget,
    /// A source row that cannot be stored (a bad row not listed in the quarantine file).
    BadSourceRow,
}

/// One differing row.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RowDifference {
    /// Table.
    pub table: String,
    /// Key columns and values.
    pub key: Map<String, Json>,
    /// What differs.
    pub kind: DifferenceKind,
    /// The differing columns (for `Differs`).
    pub columns: Vec<String>,
    /// Whether the copy replaced the target row (`--overwrite`).
    pub replaced: bool,
    /// More detail (the reason of a bad source row).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl RowDifference {
    pub(crate) fn new(spec: &TableSpec, key: Vec<String>, kind: DifferenceKind, columns: Vec<String>) -> Self {
        RowDifference {
            table: spec.name.to_owned(),
            key: spec
                .key
                .iter()
                .zip(key)
                .map(|(k, v)| ((*k).to_owned(), Json::String(v)))
                .collect(),
            kind,
            columns,
            replaced: false,
            detail: None,
        }
    }

    /// The key as one line of text.
    pub fn key_text(&self) -> String {
        self.key
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The result of a [`copy`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct CopyReport {
    /// The source file.
    pub source: PathBuf,
    /// The target (redacted URL).
    pub target: String,
    /// Nothing was written.
    pub dry_run: bool,
    /// Bad-row handling.
    pub on_error: OnError,
    /// Migrations applied to the target (pending ones in a dry run).
    pub migrations: Vec<String>,
    /// Per table, in foreign-key order.
    pub tables: Vec<TableReport>,
    /// The quarantine file, when bad rows were written to it.
    pub quarantine_file: Option<PathBuf>,
    /// Differing rows (the first ones of each table; all are counted in `tables`).
    pub differences: Vec<RowDifference>,
    /// Notes (source columns the target has no place for, …).
    pub warnings: Vec<String>,
    /// Wall time.
    pub seconds: f64,
}

impl CopyReport {
    /// Rows written.
    pub fn copied(&self) -> u64 {
        self.tables.iter().map(|t| t.copied).sum()
    }

    /// Bad rows.
    pub fn quarantined(&self) -> u64 {
        self.tables.iter().map(|t| t.quarantined).sum()
    }

    /// Target rows that differ from the source and were not replaced.
    pub fn unresolved_differences(&self) -> u64 {
        self.tables.iter().map(|t| t.differing - t.replaced).sum()
    }

    /// Nothing needed copying and nothing differs.
    pub fn up_to_date(&self) -> bool {
        !self.dry_run && self.copied() == 0 && self.tables.iter().all(|t| t.differing == 0)
    }
}

/// Progress callbacks of [`copy`] (the CLI draws bars or prints lines).
pub trait CopyObserver: Send + Sync {
    /// A table starts; `rows` is its source row count.
    fn table_started(&self, table: &str, rows: u64) {
        let _ = (table, rows);
    }
    /// `rows` more rows of the current table went through.
    fn rows(&self, table: &str, rows: u64) {
        let _ = (table, rows);
    }
    /// A table is done.
    fn table_finished(&self, report: &TableReport) {
        let _ = report;
    }
    /// Another copy holds the target's lock: this run waits up to `timeout` for it to end.
    fn waiting_for_lock(&self, holder: &LockHolder, timeout: Duration) {
        let _ = (holder, timeout);
    }
}

/// An observer that says nothing.
pub struct Silent;
impl CopyObserver for Silent {}

fn selected_tables(tables: &Option<Vec<String>>) -> Result<Option<HashSet<&'static str>>> {
    let Some(names) = tables else { return Ok(None) };
    let mut out = HashSet::new();
    for name in names {
        let spec = spec::table(name.trim()).ok_or_else(|| {
            Error::invalid_input(format!(
                "unknown table '{name}' (known: {})",
                crate::schema::TABLES.join(", ")
            ))
        })?;
        out.insert(spec.name);
    }
    Ok(Some(out))
}

/// Tables to read: the selected ones and, transitively, their parents.
fn needed_tables(selected: &Option<HashSet<&'static str>>) -> HashSet<&'static str> {
    let Some(selected) = selected else {
        return SPECS.iter().map(|s| s.name).collect();
    };
    let mut needed: HashSet<&'static str> = selected.clone();
    for spec in SPECS.iter().rev() {
        if needed.contains(spec.name) {
            for fk in spec.foreign_keys {
                needed.insert(fk.parent);
            }
        }
    }
    needed
}

struct Events<'a> {
    table: &'static str,
    on_error: OnError,
    quarantine: Option<&'a mut bad_row::QuarantineWriter>,
    quarantined: u64,
    observer: &'a dyn CopyObserver,
}

fn abort_error(row: &BadRow) -> Error {
    Error::new(
        ErrorKind::Check,
        format!(
            "bad row in {} ({}), column {}: {}; nothing was committed (--on-error quarantine copies the other rows)",
            row.table,
            row.key_text(),
            row.column,
            row.reason
        ),
    )
}

impl LoadEvents for Events<'_> {
    fn bad(&mut self, row: BadRow) -> Result<()> {
        self.quarantined += 1;
        match self.on_error {
            OnError::Abort => Err(abort_error(&row)),
            OnError::Quarantine => match self.quarantine.as_deref_mut() {
                Some(writer) => writer.write(&row),
                None => Ok(()),
            },
        }
    }

    fn progress(&mut self, rows: u64) {
        self.observer.rows(self.table, rows);
    }
}

/// Drains a reader without writing (dry run, or a parent read only for its bad keys).
async fn drain(rx: &mut mpsc::Receiver<Msg>, events: &mut dyn LoadEvents) -> Result<LoadStats> {
    let mut stats = LoadStats::default();
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Chunk(bytes, rows) => {
                stats.bytes += bytes.len() as u64;
                stats.read_rows += rows;
                events.progress(rows);
            }
            Msg::EndBatch => {}
            Msg::Bad(row) => events.bad(*row)?,
        }
    }
    Ok(stats)
}

/// Opens the source read-only on a blocking thread.
pub(crate) async fn open_source(path: &Path) -> Result<SqliteSource> {
    let path = path.to_owned();
    blocking(move || SqliteSource::open(&path)).await
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::other(format!("a reader thread failed: {e}")))?
}

/// Builds the scan plan of a table from the source's layout.
pub(crate) fn plan_for(
    spec: &'static TableSpec,
    columns: &[String],
    tables_present: &HashSet<String>,
    order: ScanOrder,
) -> ScanPlan {
    ScanPlan {
        spec,
        present: spec
            .columns
            .iter()
            .map(|c| columns.iter().any(|n| n == c.name))
            .collect(),
        parent_present: spec
            .foreign_keys
            .iter()
            .map(|fk| tables_present.contains(fk.parent))
            .collect(),
        order,
    }
}

/// The layout of the source: per spec table its columns (absent tables are missing).
pub(crate) async fn source_layout(source: SqliteSource) -> Result<(SqliteSource, HashMap<String, Vec<String>>)> {
    blocking(move || {
        let mut layout = HashMap::new();
        for spec in &SPECS {
            if let Some(table) = source.table(spec.name)? {
                layout.insert(spec.name.to_owned(), table.columns);
            }
        }
        Ok((source, layout))
    })
    .await
}

/// Copies a legacy file into PostgreSQL (see the module doc). In abort mode the whole run is
/// one transaction; in quarantine mode each table commits on its own. Either way a run that is
/// killed leaves no partial table behind, and running again finishes the job.
///
/// # Errors
/// NotFound for a missing source; Check when a bad row aborts the copy (the message names the
/// table, key, column and reason); Other for a target at an unknown schema version;
/// Unavailable when the target cannot be reached; InvalidInput for an unknown table name.
pub async fn copy(options: &CopyOptions, observer: &dyn CopyObserver) -> Result<CopyReport> {
    let started = Instant::now();
    let selected = selected_tables(&options.tables)?;
    let needed = needed_tables(&selected);
    let source = open_source(&options.source).await?;
    let (mut source, layout) = source_layout(source).await?;
    if layout.is_empty() {
        return Err(Error::invalid_input(format!(
            "{} has none of the legacy tables: is it a SynthLab file?",
            options.source.display()
        )));
    }
    let tables_present: HashSet<String> = layout.keys().cloned().collect();
    let mut warnings = Vec::new();
    for spec in &SPECS {
        if let Some(columns) = layout.get(spec.name) {
            for column in columns {
                if spec.index_of(column).is_none() {
                    warnings.push(format!(
                        "source column {}.{column} has no place in the target schema and is not copied",
                        spec.name
                    ));
                }
            }
        }
    }

    let mut target = Target::connect(&options.target).await?;
    let migrations = target.prepare_schema(!options.dry_run).await?;
    let lock = match options.dry_run {
        false => Some(lock::CopyLock::acquire(&options.target, options.lock_timeout, observer).await?),
        true => None,
    };
    let mut quarantine = match (options.on_error, options.dry_run) {
        (OnError::Quarantine, false) => Some(bad_row::QuarantineWriter::open(&options.quarantine_path())?),
        _ => None,
    };
    let per_table_commit = options.on_error == OnError::Quarantine;
    if !options.dry_run {
        if let Some(selected) = &selected {
            for spec in SPECS.iter().filter(|s| selected.contains(s.name)) {
                for fk in spec.foreign_keys {
                    if !selected.contains(fk.parent)
                        && tables_present.contains(fk.parent)
                        && target.table_state(spec::table(fk.parent).unwrap_or(spec)).await? == TableState::Empty
                    {
                        return Err(Error::invalid_input(format!(
                            "{} needs its parent table {} in the target: copy it first or add it to --tables",
                            spec.name, fk.parent
                        )));
                    }
                }
            }
        }
        target.exec("BEGIN").await?;
    }

    let mut reports = Vec::new();
    let mut differences = Vec::new();
    let mut bad_keys: HashMap<&'static str, Arc<HashSet<String>>> = HashMap::new();
    let result: Result<()> = async {
        for spec in &SPECS {
            if !needed.contains(spec.name) {
                reports.push(TableReport::new(spec.name, TableOutcome::Skipped));
                continue;
            }
            let Some(columns) = layout.get(spec.name) else {
                reports.push(TableReport::new(spec.name, TableOutcome::AbsentInSource));
                continue;
            };
            let order = if spec.self_reference().is_some() {
                ScanOrder::Tree
            } else {
                ScanOrder::Natural
            };
            let plan = plan_for(spec, columns, &tables_present, order);
            if let Some(err) = read::missing_required(spec, &plan) {
                return Err(err);
            }
            let write = !options.dry_run && selected.as_ref().is_none_or(|s| s.contains(spec.name));
            let state = if write {
                Some(target.table_state(spec).await?)
            } else {
                None
            };
            let table_started = Instant::now();
            let (src, source_rows) = {
                let name = spec.name;
                blocking(move || {
                    let n = source.count(name)?;
                    Ok((source, n))
                })
                .await?
            };
            source = src;
            observer.table_started(spec.name, source_rows);
            let job = ReadJob {
                parent_bad: spec
                    .foreign_keys
                    .iter()
                    .map(|fk| bad_keys.get(fk.parent).cloned().unwrap_or_default())
                    .collect(),
                plan,
                batch_rows: match state {
                    Some(TableState::HasRows) => Some(pg::MERGE_BATCH_ROWS),
                    _ => None,
                },
                stop_at_first_bad: options.on_error == OnError::Abort,
            };
            let (tx, mut rx) = mpsc::channel(CHANNEL_CHUNKS);
            let reader = tokio::task::spawn_blocking(move || {
                let outcome = read_table(&source, &job, &tx);
                (source, outcome)
            });
            let mut events = Events {
                table: spec.name,
                on_error: options.on_error,
                quarantine: quarantine.as_mut(),
                quarantined: 0,
                observer,
            };
            let loaded = match state {
                None => drain(&mut rx, &mut events).await,
                Some(TableState::Empty) => target.bulk_load(spec, &mut rx, &mut events).await,
                Some(TableState::HasRows) => target.merge_load(spec, options.overwrite, &mut rx, &mut events).await,
            };
            drop(rx);
            let (src, outcome) = reader
                .await
                .map_err(|e| Error::other(format!("the reader of {} failed: {e}", spec.name)))?;
            source = src;
            let stats = loaded?;
            let outcome = outcome?;
            let quarantined = events.quarantined;
            if let Some(writer) = quarantine.as_mut() {
                writer.finish_table(spec.name)?;
            }
            bad_keys.insert(spec.name, Arc::new(outcome.bad_keys));
            if write && per_table_commit {
                if let Some(lock) = &lock {
                    lock.check().await?;
                }
                target.exec("COMMIT; BEGIN").await?;
            }
            let mut report = TableReport::new(
                spec.name,
                match state {
                    None => TableOutcome::Validated,
                    Some(TableState::Empty) => TableOutcome::Bulk,
                    Some(TableState::HasRows) => TableOutcome::Merge,
                },
            );
            report.source_rows = source_rows;
            report.copied = stats.inserted;
            report.already_present = stats.already_present;
            report.differing = stats.differing;
            report.replaced = stats.replaced;
            report.quarantined = quarantined;
            report.bytes = stats.bytes;
            report.seconds = table_started.elapsed().as_secs_f64();
            observer.table_finished(&report);
            differences.extend(stats.differences);
            reports.push(report);
        }
        Ok(())
    }
    .await;
    let result = match (result, &lock) {
        (Ok(()), Some(lock)) => lock.check().await,
        (result, _) => result,
    };
    match result {
        Ok(()) if !options.dry_run => target.exec("COMMIT").await?,
        Ok(()) => {}
        Err(err) => {
            if !options.dry_run {
                let _ = target.exec("ROLLBACK").await;
            }
            return Err(err);
        }
    }
    if let Some(lock) = lock {
        lock.release().await?;
    }
    let quarantined: u64 = reports.iter().map(|r| r.quarantined).sum();
    Ok(CopyReport {
        source: options.source.clone(),
        target: options.target.redacted_url().to_owned(),
        dry_run: options.dry_run,
        on_error: options.on_error,
        migrations: migrations
            .iter()
            .map(|m| format!("V{}__{}", m.version, m.name))
            .collect(),
        tables: reports,
        quarantine_file: match (&quarantine, quarantined) {
            (Some(_), 1..) => Some(options.quarantine_path()),
            _ => None,
        },
        differences,
        warnings,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// One column of [`target_columns`]: name, type as `format_type` prints it, NOT NULL.
pub type TargetColumn = (&'static str, &'static str, bool);

/// The copy's view of the target schema, per table in foreign-key order: `(column, PostgreSQL
/// type name as `format_type` prints it, NOT NULL)`. A test compares it with the migrated catalog.
pub fn target_columns() -> Vec<(&'static str, Vec<TargetColumn>)> {
    SPECS
        .iter()
        .map(|t| {
            (
                t.name,
                t.columns.iter().map(|c| (c.name, c.ty.pg_name(), c.not_null)).collect(),
            )
        })
        .collect()
}
