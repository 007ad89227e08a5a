//! The legacy SQLite store (rusqlite). The only module of the library that names rusqlite.
//!
//! One writer connection (writes are serialised, each in `BEGIN IMMEDIATE`) and a few
//! read-only connections (WAL lets them read while the writer writes). Every rusqlite call
//! runs on tokio's blocking pool through [`SqliteDb::read`] / [`SqliteDb::write`], never on
//! the async worker threads.

mod analysis;
mod analysis_cache;
pub(crate) mod capture;
mod chart_insight;
mod constraint;
pub(crate) mod copy_source;
pub(crate) mod doctor;
mod driver;
mod error;
mod experiment;
mod experiment_document;
mod exploration;
mod interview_guide;
#[cfg(feature = "testing")]
pub(crate) mod legacy_writer;
mod region;
mod research;
pub(crate) mod row;
mod scorecard;
mod sensitivity;
mod simulation;
mod synth;
mod synth_group;
mod synth_outcome;

use rusqlite::trace::{TraceEvent, TraceEventCodes};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as SyncMutex};
use tokio::sync::{Mutex, OwnedMutexGuard, Semaphore};

pub(crate) use analysis::SqliteAnalysisRepository;
pub(crate) use analysis_cache::SqliteAnalysisCacheRepository;
pub(crate) use chart_insight::SqliteChartInsightRepository;
pub(crate) use experiment::SqliteExperimentRepository;
pub(crate) use experiment_document::SqliteExperimentDocumentRepository;
pub(crate) use exploration::SqliteExplorationRepository;
pub(crate) use interview_guide::SqliteInterviewGuideRepository;
pub(crate) use region::SqliteRegionRepository;
pub(crate) use research::SqliteResearchRepository;
pub(crate) use scorecard::SqliteScorecardRepository;
pub(crate) use sensitivity::SqliteSensitivityRepository;
pub(crate) use simulation::SqliteSimulationRepository;
pub(crate) use synth::SqliteSynthRepository;
pub(crate) use synth_group::SqliteSynthGroupRepository;
pub(crate) use synth_outcome::SqliteSynthOutcomeRepository;

use crate::config::{SqliteConfig, SqliteLocation};
use crate::observe::{CallSettings, add_rows};
use crate::{BackendKind, Error, ErrorKind, Result};

thread_local! {
    /// Whether the statement running on this thread is a query whose rows count as read.
    static READING: Cell<bool> = const { Cell::new(false) };
    /// Rows stepped by queries on this thread since [`counted`] last reset it.
    static ROWS_READ: Cell<u64> = const { Cell::new(0) };
    /// The last INSERT / UPDATE / DELETE started on this thread, values inlined: what
    /// [`constraint::name`] runs again to find the foreign key a failed write broke.
    static LAST_WRITE: Cell<Option<String>> = const { Cell::new(None) };
}

/// SQLite's trace hook (installed on every connection): counts the result rows of queries.
/// Rows returned by writes (`INSERT … RETURNING`) are counted as changes instead.
fn count_rows(event: TraceEvent<'_>) {
    match event {
        TraceEvent::Stmt(stmt, sql) => {
            let sql = sql.trim_start();
            let starts = |word: &str| sql.get(..word.len()).is_some_and(|h| h.eq_ignore_ascii_case(word));
            READING.set(starts("select") || starts("with"));
            if ["insert", "update", "delete", "replace"].into_iter().any(starts) {
                LAST_WRITE.set(stmt.expanded_sql());
            }
        }
        TraceEvent::Row(_) if READING.get() => ROWS_READ.set(ROWS_READ.get().saturating_add(1)),
        _ => {}
    }
}

/// Runs `f` on `conn` (on the current blocking thread) and returns its result with the rows
/// it read or changed, for the repository call's span.
fn counted<T>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<(T, u64)> {
    ROWS_READ.set(0);
    let before = conn.total_changes();
    let value = f(conn)?;
    let rows = ROWS_READ
        .get()
        .saturating_add(conn.total_changes().saturating_sub(before));
    Ok((value, rows))
}

/// Attaches to a constraint failure the name PostgreSQL gives that constraint (see
/// [`constraint`]); runs on `conn` inside the failed write's still-open transaction.
fn name_constraint(conn: &Connection, err: Error) -> Error {
    let statement = LAST_WRITE.take();
    if !matches!(
        err.kind(),
        ErrorKind::Conflict | ErrorKind::ForeignKey | ErrorKind::Check
    ) || err.constraint().is_some()
    {
        return err;
    }
    let name = std::error::Error::source(&err)
        .and_then(|source| source.downcast_ref::<rusqlite::Error>())
        .and_then(|native| constraint::name(conn, native, statement.as_deref()));
    match name {
        Some(name) => err.with_constraint(name),
        None => err,
    }
}

/// Runs a blocking closure on tokio's blocking pool; a panic inside becomes an error.
async fn run_blocking<T, F>(f: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(join) if join.is_panic() => Err(Error::other("a SQLite call panicked; its transaction was rolled back")),
        Err(join) => Err(Error::new(
            ErrorKind::Unavailable,
            format!("SQLite task cancelled: {join}"),
        )),
    }
}

struct ReaderPool {
    idle: SyncMutex<Vec<Connection>>,
    permits: Semaphore,
    config: SqliteConfig,
}

/// Handle on one SQLite database; cheap to clone. Inside a unit of work (`tx` set) every
/// call runs on the writer connection held by that transaction.
#[derive(Clone)]
pub(crate) struct SqliteDb {
    // Field order is drop order: read-only connections close before the writer, so the last
    // connection to close can checkpoint the WAL into the main file (a read-only one cannot).
    tx: Option<Arc<SqliteTx>>,
    calls: CallSettings,
    busy_timeout: std::time::Duration,
    readers: Option<Arc<ReaderPool>>,
    writer: Arc<Mutex<Connection>>,
}

/// The writer connection held by an open unit of work (inside `BEGIN IMMEDIATE`).
struct SqliteTx {
    conn: Mutex<Option<OwnedMutexGuard<Connection>>>,
    poisoned: AtomicBool,
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        // Dropped without commit or rollback (a panic, a cancelled future): the guard goes back
        // to the writer mutex and the next user of the writer rolls the transaction back
        // (see `reset_abandoned`), so nothing of it is ever committed.
        if let Some(guard) = self.conn.get_mut().take()
            && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            handle.spawn_blocking(move || reset_abandoned(&guard));
        }
    }
}

/// Rolls back a transaction left open on the writer by an abandoned unit of work.
fn reset_abandoned(conn: &Connection) {
    if !conn.is_autocommit()
        && let Err(err) = conn.execute_batch("ROLLBACK")
    {
        tracing::warn!(error = %err, "could not roll back an abandoned SQLite transaction");
    }
}

fn open(config: &SqliteConfig, read_only: bool) -> Result<Connection> {
    let conn = match &config.location {
        SqliteLocation::Memory => Connection::open_in_memory()?,
        SqliteLocation::File(path) => {
            let flags = if read_only {
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI
            } else {
                OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_CREATE
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI
            };
            Connection::open_with_flags(path, flags)
                .map_err(|e| Error::from(e).context(format!("cannot open SQLite database {}", path.display())))?
        }
    };
    conn.busy_timeout(config.busy_timeout)?;
    conn.set_prepared_statement_cache_capacity(128);
    conn.trace_v2(
        TraceEventCodes::SQLITE_TRACE_STMT | TraceEventCodes::SQLITE_TRACE_ROW,
        Some(count_rows),
    );
    conn.pragma_update(None, "foreign_keys", "ON")?;
    if !read_only && matches!(config.location, SqliteLocation::File(_)) {
        switch_to_wal(&conn, config.busy_timeout)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
    }
    Ok(conn)
}

/// `PRAGMA journal_mode=WAL`, retried while another connection holds the lock: SQLite does not
/// call the busy handler for this change (two processes creating the same new file race here).
fn switch_to_wal(conn: &Connection, busy_timeout: std::time::Duration) -> Result<()> {
    let started = std::time::Instant::now();
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Ok(()) => return Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && started.elapsed() < busy_timeout =>
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(err) => return Err(Error::from(err).context("cannot switch the SQLite database to WAL")),
        }
    }
}

impl SqliteDb {
    /// Opens the database (creating a missing file only when `create_if_missing`, read-only when
    /// `read_only`) and applies pending migrations when `migrate`.
    pub(crate) async fn connect(
        config: &SqliteConfig,
        migrate: bool,
        create_if_missing: bool,
        read_only: bool,
    ) -> Result<Self> {
        if let SqliteLocation::File(path) = &config.location
            && !create_if_missing
            && !path.exists()
        {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("SQLite database file {} does not exist", path.display()),
            ));
        }
        let writer_config = config.clone();
        let writer = run_blocking(move || {
            // Read-only inspection opens even the "writer" read-only: a legacy file keeps its
            // bytes and journal mode (no switch to WAL) until someone asks to change it.
            let mut conn = open(&writer_config, read_only)?;
            crate::schema::sqlite::prepare(&mut conn, migrate)?;
            Ok(conn)
        })
        .await?;
        let readers = match config.location {
            SqliteLocation::File(_) if config.max_readers > 0 => Some(Arc::new(ReaderPool {
                idle: SyncMutex::new(Vec::new()),
                permits: Semaphore::new(config.max_readers),
                config: config.clone(),
            })),
            _ => None,
        };
        Ok(SqliteDb {
            writer: Arc::new(Mutex::new(writer)),
            readers,
            tx: None,
            calls: CallSettings::new(BackendKind::Sqlite, config.slow_call),
            busy_timeout: config.busy_timeout,
        })
    }

    /// What traced repository calls of this database share.
    pub(crate) fn call_settings(&self) -> CallSettings {
        self.calls
    }

    /// The busy timeout every connection of this database uses.
    pub(crate) fn busy_timeout(&self) -> std::time::Duration {
        self.busy_timeout
    }

    /// Runs `f` on the connection of the open unit of work; an error poisons the unit (as a
    /// failed statement aborts a PostgreSQL transaction) so both backends behave alike.
    async fn in_tx<T, F>(tx: &Arc<SqliteTx>, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        if tx.poisoned.load(Ordering::Acquire) {
            return Err(super::unit_of_work::aborted());
        }
        let mut slot = tx.conn.lock().await;
        let guard = slot
            .take()
            .ok_or_else(|| Error::other("the unit of work lost its connection after a panic"))?;
        let (guard, result) = run_blocking(move || {
            let result = counted(&guard, f).map_err(|e| name_constraint(&guard, e));
            Ok((guard, result))
        })
        .await?;
        *slot = Some(guard);
        match result {
            Ok((value, rows)) => {
                add_rows(rows);
                Ok(value)
            }
            Err(err) => {
                tx.poisoned.store(true, Ordering::Release);
                Err(err)
            }
        }
    }

    /// Starts a unit of work: takes the writer and opens `BEGIN IMMEDIATE`.
    pub(crate) async fn begin(&self) -> Result<SqliteDb> {
        if self.tx.is_some() {
            return Err(super::unit_of_work::nested());
        }
        let guard = self.writer.clone().lock_owned().await;
        let guard = run_blocking(move || {
            reset_abandoned(&guard);
            guard.execute_batch("BEGIN IMMEDIATE")?;
            Ok(guard)
        })
        .await?;
        Ok(SqliteDb {
            writer: self.writer.clone(),
            readers: None,
            calls: self.calls,
            busy_timeout: self.busy_timeout,
            tx: Some(Arc::new(SqliteTx {
                conn: Mutex::new(Some(guard)),
                poisoned: AtomicBool::new(false),
            })),
        })
    }

    /// Ends the unit of work: COMMIT when `commit` is true, else ROLLBACK.
    pub(crate) async fn finish(&self, commit: bool) -> Result<()> {
        let Some(tx) = &self.tx else {
            return Err(Error::other("not inside a unit of work"));
        };
        let Some(guard) = tx.conn.lock().await.take() else {
            return Err(Error::other("the unit of work lost its connection after a panic"));
        };
        let aborted = tx.poisoned.load(Ordering::Acquire);
        run_blocking(move || {
            if commit && aborted {
                reset_abandoned(&guard);
                return Err(super::unit_of_work::aborted());
            }
            if commit {
                if let Err(err) = guard.execute_batch("COMMIT") {
                    reset_abandoned(&guard);
                    return Err(err.into());
                }
            } else {
                reset_abandoned(&guard);
            }
            Ok(())
        })
        .await
    }

    /// Whether this handle belongs to an open unit of work.
    pub(crate) fn in_unit_of_work(&self) -> bool {
        self.tx.is_some()
    }

    /// Runs `f` on the writer connection inside `BEGIN IMMEDIATE … COMMIT`; an error or a
    /// panic in `f` rolls back.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        if let Some(tx) = &self.tx {
            return Self::in_tx(tx, f).await;
        }
        let mut guard: OwnedMutexGuard<Connection> = self.writer.clone().lock_owned().await;
        let (value, rows) = run_blocking(move || {
            reset_abandoned(&guard);
            let tx = guard.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let result = counted(&tx, f).map_err(|e| name_constraint(&tx, e))?;
            tx.commit()?;
            Ok(result)
        })
        .await?;
        add_rows(rows);
        Ok(value)
    }

    /// Runs `f` on a read-only connection (or on the writer for an in-memory database).
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        if let Some(tx) = &self.tx {
            return Self::in_tx(tx, f).await;
        }
        let Some(pool) = self.readers.clone() else {
            let guard = self.writer.clone().lock_owned().await;
            let (value, rows) = run_blocking(move || {
                reset_abandoned(&guard);
                counted(&guard, f)
            })
            .await?;
            add_rows(rows);
            return Ok(value);
        };
        let _permit = pool
            .permits
            .acquire()
            .await
            .map_err(|_| Error::new(ErrorKind::Unavailable, "SQLite reader pool closed"))?;
        let pool_for_task = pool.clone();
        let (value, rows) = run_blocking(move || {
            let conn = match pool_for_task
                .idle
                .lock()
                .map_err(|_| Error::other("reader pool poisoned"))?
                .pop()
            {
                Some(conn) => conn,
                None => open(&pool_for_task.config, true)?,
            };
            let result = counted(&conn, f);
            if let Ok(mut idle) = pool_for_task.idle.lock() {
                idle.push(conn);
            }
            result
        })
        .await?;
        add_rows(rows);
        Ok(value)
    }

    /// Runs `f` on the writer connection with no transaction around it (for work that
    /// manages its own transactions, such as migrations).
    pub(crate) async fn exclusive<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        if self.tx.is_some() {
            return Err(Error::other("schema changes cannot run inside a unit of work"));
        }
        let mut guard: OwnedMutexGuard<Connection> = self.writer.clone().lock_owned().await;
        run_blocking(move || {
            reset_abandoned(&guard);
            f(&mut guard)
        })
        .await
    }
}
