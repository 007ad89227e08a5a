//! Live sync: the legacy application keeps writing its SQLite file, PostgreSQL keeps up.
//!
//! 1. **Capture** ([`capture`], rusqlite half in `backend::sqlite::capture`): triggers inside
//!    the legacy file record "key K of table T may have changed" in a change table, inside
//!    the legacy application's own transactions.
//! 2. **Initial copy** (`initial`): the capture position P is recorded first, the tables are
//!    copied in short keyset chunks with the copy's conversion and bulk load (foreign keys
//!    dropped), every change after P is replayed, then the foreign keys are rebuilt and the
//!    data commits with its checkpoint.
//! 3. **Apply** (`batch` + `apply`): per batch, one short SQLite read transaction (records and
//!    the current images of their keys), then one PostgreSQL transaction holding the rows and
//!    the checkpoint (`state`). A follower killed anywhere resumes exactly; applying twice is
//!    harmless because an image is a state, not a delta.
//!
//! [`Follower`] is the in-process follower (the CLI's `synthlab-db sync` runs it); [`status`]
//! and [`uninstall`] are the other commands. Metrics: [`metrics`].

mod apply;
mod batch;
pub mod capture;
mod follower;
mod initial;
pub mod metrics;
mod state;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

pub use capture::{CHANGES_TABLE, CaptureInfo, META_TABLE, OBJECT_PREFIX, is_sync_object};
pub use follower::{BatchReport, Follower, StartReport, SyncObserver};
pub use initial::InitialReport;
pub use metrics::SyncCounters;
pub use state::{STATE_TABLE, SyncState};

use crate::backend::sqlite::capture::CaptureFile;
use crate::backend::sqlite::copy_source::SqliteSource;
use crate::config::PostgresConfig;
use crate::copy::OnError;
use crate::copy::pg::Target;
use crate::copy::spec::TableSpec;
use crate::{Error, ErrorKind, Result};

/// The tables in foreign-key order, as the copy knows them (one place to follow the copy's
/// spec source).
pub(crate) fn specs() -> &'static [TableSpec] {
    &crate::copy::spec::SPECS
}

/// Options of a [`Follower`].
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// The legacy SQLite file (capture is installed in it; data is only read).
    pub source: PathBuf,
    /// The PostgreSQL target.
    pub target: PostgresConfig,
    /// Bad-row handling, as in `copy`.
    pub on_error: OnError,
    /// Quarantine file (default `<source>.quarantine.jsonl`).
    pub quarantine: Option<PathBuf>,
    /// How long to wait between polls when caught up (default 100 ms).
    pub poll: Duration,
    /// Change records per batch (default 1000).
    pub batch_changes: i64,
    /// Empty the target and start over when it follows another file or holds rows.
    pub force: bool,
    /// How long installing capture (and pruning) waits for the legacy writer's lock.
    pub lock_wait: Duration,
}

impl SyncOptions {
    /// Defaults: abort on bad rows, 100 ms polls, batches of 1000 records, no force.
    pub fn new(source: impl Into<PathBuf>, target: PostgresConfig) -> Self {
        SyncOptions {
            source: source.into(),
            target,
            on_error: OnError::Abort,
            quarantine: None,
            poll: Duration::from_millis(100),
            batch_changes: 1000,
            force: false,
            lock_wait: Duration::from_secs(30),
        }
    }

    /// The quarantine file of this follower.
    pub fn quarantine_path(&self) -> PathBuf {
        self.quarantine
            .clone()
            .unwrap_or_else(|| crate::copy::default_quarantine_path(&self.source))
    }
}

/// The legacy file: a read-only connection for the follower's reads and a read-write one for
/// capture itself; each used on a blocking thread.
#[derive(Clone)]
pub(crate) struct Source {
    reader: Arc<Mutex<SqliteSource>>,
    capture: Arc<Mutex<CaptureFile>>,
}

impl Source {
    pub(crate) async fn open(path: &Path) -> Result<Source> {
        let path = path.to_owned();
        blocking(move || {
            let capture = CaptureFile::open(&path)?;
            let reader = SqliteSource::open(&path)?;
            Ok(Source {
                reader: Arc::new(Mutex::new(reader)),
                capture: Arc::new(Mutex::new(capture)),
            })
        })
        .await
    }

    /// Runs `f` with the reading connection on a blocking thread.
    pub(crate) async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&SqliteSource) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let reader = self.reader.clone();
        blocking(move || f(&reader.lock().unwrap_or_else(PoisonError::into_inner))).await
    }

    /// Runs `f` with the capture connection on a blocking thread.
    pub(crate) async fn capture<T: Send + 'static>(
        &self,
        f: impl FnOnce(&CaptureFile) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let capture = self.capture.clone();
        blocking(move || f(&capture.lock().unwrap_or_else(PoisonError::into_inner))).await
    }
}

/// The application tables the legacy file has, in foreign-key order.
async fn present_tables(source: &Source) -> Result<Vec<&'static str>> {
    source
        .read(|s| {
            let mut present = Vec::new();
            for spec in specs() {
                if s.table(spec.name)?.is_some() {
                    present.push(spec.name);
                }
            }
            Ok(present)
        })
        .await
}

pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::other(format!("a sync thread failed: {e}")))?
}

/// Where a legacy file and its PostgreSQL follower stand (`synthlab-db sync status`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SyncStatus {
    /// The legacy file.
    pub source: PathBuf,
    /// The target (redacted URL).
    pub target: String,
    /// `installed`, `partial` (some tables lack triggers) or `absent`.
    pub capture: String,
    /// What capture holds (None when absent).
    pub capture_info: Option<CaptureInfo>,
    /// Newest captured sequence number.
    pub captured: i64,
    /// Applied sequence number (None: the target has no sync state).
    pub applied: Option<i64>,
    /// Captured, not applied.
    pub pending: i64,
    /// Age of the oldest pending record, seconds (0 when caught up).
    pub lag_seconds: f64,
    /// Last batch commit (RFC 3339, UTC); `last_apply_time` in JSON.
    #[serde(rename = "last_apply_time")]
    pub last_apply: Option<String>,
    /// The target's checkpoint.
    pub state: Option<SyncState>,
    /// Why the target cannot follow this file (another file's id), if so.
    pub problem: Option<String>,
}

fn unix_to_rfc3339(unix: f64) -> Option<String> {
    let micros = (unix * 1e6).round() as i64;
    chrono::DateTime::from_timestamp_micros(micros).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

pub(crate) fn now_unix() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// Reads where capture and the target stand; changes nothing.
///
/// # Errors
/// NotFound for a missing file; Unavailable when the target cannot be reached.
pub async fn status(source: &Path, target: &PostgresConfig) -> Result<SyncStatus> {
    let src = Source::open(source).await?;
    let info = src.read(|s| s.capture_info()).await?;
    let layout_tables = present_tables(&src).await?;
    let connection = Target::connect(target).await?;
    let state = state::read(&connection).await?;
    let captured = info.as_ref().map_or(0, |i| i.max_seq);
    let applied = state.as_ref().map(|s| s.applied);
    let pending = applied.map_or(0, |a| (captured - a).max(0));
    let lag_seconds = match applied {
        Some(a) if pending > 0 => src
            .read(move |s| s.snapshot(|snap| snap.captured_at(a + 1)))
            .await?
            .map_or(0.0, |at| (now_unix() - at).max(0.0)),
        _ => 0.0,
    };
    let capture = match &info {
        None => "absent",
        Some(i) if layout_tables.iter().all(|t| i.captured_tables().iter().any(|c| c == t)) => "installed",
        Some(_) => "partial",
    };
    let problem = match (&info, &state) {
        (Some(i), Some(s)) if i.source_id != s.source_id => Some(format!(
            "the target follows another legacy file (capture id {}, {}), not this one (capture id {})",
            s.source_id, s.source_path, i.source_id
        )),
        (None, Some(_)) => Some("the target has sync state but this file has no capture installed".to_owned()),
        _ => None,
    };
    Ok(SyncStatus {
        source: source.to_owned(),
        target: target.redacted_url().to_owned(),
        capture: capture.to_owned(),
        capture_info: info,
        captured,
        applied,
        pending,
        lag_seconds,
        last_apply: state.as_ref().and_then(|s| unix_to_rfc3339(s.applied_at)),
        state,
        problem,
    })
}

/// Installs capture in the legacy file (what is missing of it) without following: changes are
/// recorded from now on, for a follower that starts later. Returns what is installed.
///
/// # Errors
/// NotFound for a missing file; InvalidInput for a file without legacy tables; Unavailable when
/// the legacy writer holds the lock longer than `lock_wait`.
pub async fn install(source: &Path, lock_wait: Duration) -> Result<CaptureInfo> {
    let src = Source::open(source).await?;
    let tables = present_tables(&src).await?;
    if tables.is_empty() {
        return Err(Error::invalid_input(format!(
            "{} has none of the legacy tables: is it a SynthLab file?",
            source.display()
        )));
    }
    Ok(follower::install_on(&src, tables, lock_wait).await?.0)
}

/// What [`uninstall`] removed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UninstallReport {
    /// The objects dropped (triggers, then tables).
    pub removed: Vec<String>,
    /// Records no follower had applied yet (dropped with `force`).
    pub unapplied: u64,
}

/// Removes capture from the legacy file (triggers, change table, meta table): `sqlite_master`
/// is then exactly what it was before capture was installed. Refuses while the change table
/// holds records a registered follower has not applied, unless `force`.
///
/// # Errors
/// Conflict when records are unapplied and `force` is false; Unavailable when the legacy
/// writer holds the lock longer than `lock_wait`.
pub async fn uninstall(source: &Path, force: bool, lock_wait: Duration) -> Result<UninstallReport> {
    let src = Source::open(source).await?;
    let info = src.read(|s| s.capture_info()).await?;
    let unapplied = match &info {
        Some(i) => {
            let slowest = i.followers.iter().map(|(_, a)| *a).min().unwrap_or(i.max_seq);
            u64::try_from(i.max_seq - slowest).unwrap_or(0)
        }
        None => 0,
    };
    if unapplied > 0 && !force {
        return Err(Error::new(
            ErrorKind::Conflict,
            format!(
                "{unapplied} captured changes are not applied by every follower yet: let `sync` catch up, \
                 or pass --force to drop them (the follower then has to start over with --force)"
            ),
        ));
    }
    let removed = src.capture(move |c| c.uninstall(lock_wait)).await?;
    Ok(UninstallReport { removed, unapplied })
}
