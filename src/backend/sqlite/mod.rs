//! The legacy SQLite store (rusqlite). The only module of the library that names rusqlite.
//!
//! One writer connection (writes are serialised, each in `BEGIN IMMEDIATE`) and a few
//! read-only connections (WAL lets them read while the writer writes). Every rusqlite call
//! goes through [`SqliteDb::read`] / [`SqliteDb::write`] / [`SqliteDb::exclusive`], which run
//! it where the runtime knows it blocks (`connection.rs`: in place under `block_in_place` on
//! the multi-thread runtime, else on the connection's own thread).

mod analysis;
mod analysis_cache;
pub(crate) mod capture;
mod chart_insight;
mod connection;
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
use rusqlite::{Connection, OpenFlags};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as SyncMutex, PoisonError};
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};

use connection::SqliteConn;

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
    /// Rows returned by queries on this thread since [`counted`] last reset it.
    static ROWS_READ: Cell<u64> = const { Cell::new(0) };
    /// The last INSERT / UPDATE / DELETE started on this thread, values inlined: what
    /// [`constraint::name`] runs again to find the foreign key a failed write broke.
    static LAST_WRITE: Cell<Option<String>> = const { Cell::new(None) };
}

/// SQLite's trace hook (installed on connections that can write, statement starts only): notes
/// the last write for [`name_constraint`].
fn note_write(event: TraceEvent<'_>) {
    if let TraceEvent::Stmt(stmt, sql) = event {
        let sql = sql.trim_start();
        let starts = |word: &str| sql.get(..word.len()).is_some_and(|h| h.eq_ignore_ascii_case(word));
        if ["insert", "update", "delete", "replace"].into_iter().any(starts) {
            LAST_WRITE.set(stmt.expanded_sql());
        }
    }
}

/// Counts `n` rows returned by a read-only statement (`driver::rows_on`, which every
/// repository query goes through) for the call in progress on this thread. Rows returned by
/// writes (`INSERT … RETURNING`) are counted as changes instead.
fn add_rows_read(n: usize) {
    ROWS_READ.set(ROWS_READ.get().saturating_add(n as u64));
}

/// Runs `f` on `conn` (on the current thread) and returns its result with the rows it read or
/// changed, for the repository call's span.
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

/// Read-only connections beside the writer (WAL lets them read while it writes), at most
/// `max_readers` in use at once; each opens on its first job.
struct ReaderPool {
    idle: SyncMutex<Vec<SqliteConn>>,
    permits: Semaphore,
    config: SqliteConfig,
}

impl ReaderPool {
    /// An idle reader (or a new, not yet opened one); back to the pool when dropped.
    fn checkout(&self) -> PooledReader<'_> {
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let conn = idle.unwrap_or_else(|| {
            let config = self.config.clone();
            SqliteConn::new(move || open(&config, true))
        });
        PooledReader {
            conn: Some(conn),
            pool: self,
        }
    }
}

/// A reader taken from the pool; goes back to it when dropped (even by a cancelled call: a job
/// still running on its thread finishes before the next one starts).
struct PooledReader<'a> {
    conn: Option<SqliteConn>,
    pool: &'a ReaderPool,
}

impl PooledReader<'_> {
    fn conn(&self) -> Result<&SqliteConn> {
        self.conn
            .as_ref()
            .ok_or_else(|| Error::other("a pooled SQLite reader was used after its return"))
    }
}

impl Drop for PooledReader<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.idle.lock().unwrap_or_else(PoisonError::into_inner).push(conn);
        }
    }
}

/// The writer connection and the turn that lets one write, unit of work or schema change use
/// it at a time.
struct Writer {
    conn: SqliteConn,
    turn: Arc<Semaphore>,
}

impl Writer {
    async fn turn(&self) -> Result<OwnedSemaphorePermit> {
        self.turn
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::new(ErrorKind::Unavailable, "SQLite writer closed"))
    }
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
    writer: Arc<Writer>,
}

/// An open unit of work: the writer's turn, held inside `BEGIN IMMEDIATE` until `finish`.
struct SqliteTx {
    writer: Arc<Writer>,
    /// The turn while the unit is open; `None` once it ended. Its lock serialises the unit's
    /// calls and its end.
    turn: Mutex<Option<OwnedSemaphorePermit>>,
    poisoned: AtomicBool,
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        // Dropped without commit or rollback (a panic, a cancelled future): roll back at once —
        // in place, or as the next job of the writer's thread — and only then give the turn
        // back, so the file is never left write-locked and nothing of the unit is committed.
        if let Some(turn) = self.turn.get_mut().take() {
            self.writer.conn.run_detached(move |conn| {
                reset_abandoned(conn);
                drop(turn);
            });
        }
    }
}

/// Runs `f` inside `BEGIN IMMEDIATE … COMMIT` (cached statements); an error or a panic in `f`
/// rolls back before the connection is used again.
fn immediate<T>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    /// Rolls back on the way out unless COMMIT ended the transaction.
    struct RollbackUnlessCommitted<'c>(&'c Connection);
    impl Drop for RollbackUnlessCommitted<'_> {
        fn drop(&mut self) {
            reset_abandoned(self.0);
        }
    }
    conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
    let _rollback = RollbackUnlessCommitted(conn);
    let value = f(conn)?;
    conn.prepare_cached("COMMIT")?.execute([])?;
    Ok(value)
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
    if !read_only {
        // Only a connection that writes needs its last write noted (read-only readers skip
        // the hook, which copies every statement's text).
        conn.trace_v2(TraceEventCodes::SQLITE_TRACE_STMT, Some(note_write));
    }
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
        let writer = SqliteConn::new(move || {
            // Read-only inspection opens even the "writer" read-only: a legacy file keeps its
            // bytes and journal mode (no switch to WAL) until someone asks to change it.
            let mut conn = open(&writer_config, read_only)?;
            crate::schema::sqlite::prepare(&mut conn, migrate)?;
            Ok(conn)
        });
        // Opens (and migrates) now, so a connect error surfaces here.
        writer.run(|_| Ok(())).await?;
        let readers = match config.location {
            SqliteLocation::File(_) if config.max_readers > 0 => Some(Arc::new(ReaderPool {
                idle: SyncMutex::new(Vec::new()),
                permits: Semaphore::new(config.max_readers),
                config: config.clone(),
            })),
            _ => None,
        };
        Ok(SqliteDb {
            writer: Arc::new(Writer {
                conn: writer,
                turn: Arc::new(Semaphore::new(1)),
            }),
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
        let turn = tx.turn.lock().await;
        if turn.is_none() {
            return Err(Error::other("the unit of work has ended"));
        }
        let result = tx
            .writer
            .conn
            .run(move |conn| counted(conn, f).map_err(|e| name_constraint(conn, e)))
            .await;
        drop(turn);
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

    /// Starts a unit of work: takes the writer's turn and opens `BEGIN IMMEDIATE`.
    pub(crate) async fn begin(&self) -> Result<SqliteDb> {
        if self.tx.is_some() {
            return Err(super::unit_of_work::nested());
        }
        let turn = self.writer.turn().await?;
        // The guard exists before BEGIN runs: dropped from here on (a cancelled `begin`), it
        // rolls back whatever BEGIN opened before giving the turn back.
        let tx = Arc::new(SqliteTx {
            writer: self.writer.clone(),
            turn: Mutex::new(Some(turn)),
            poisoned: AtomicBool::new(false),
        });
        self.writer
            .conn
            .run(|conn| {
                reset_abandoned(conn);
                Ok(conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?)
            })
            .await?;
        Ok(SqliteDb {
            writer: self.writer.clone(),
            readers: None,
            calls: self.calls,
            busy_timeout: self.busy_timeout,
            tx: Some(tx),
        })
    }

    /// Ends the unit of work: COMMIT when `commit` is true, else ROLLBACK. The turn goes back
    /// once the transaction has ended.
    pub(crate) async fn finish(&self, commit: bool) -> Result<()> {
        let Some(tx) = &self.tx else {
            return Err(Error::other("not inside a unit of work"));
        };
        let Some(turn) = tx.turn.lock().await.take() else {
            return Err(Error::other("the unit of work has ended"));
        };
        let aborted = tx.poisoned.load(Ordering::Acquire);
        tx.writer
            .conn
            .run(move |conn| {
                let ended = match (commit, aborted) {
                    (true, true) => Err(super::unit_of_work::aborted()),
                    (true, false) => conn
                        .prepare_cached("COMMIT")
                        .and_then(|mut commit| commit.execute([]))
                        .map(drop)
                        .map_err(Error::from),
                    (false, _) => Ok(()),
                };
                // After a refused COMMIT (or none) the transaction is still open.
                reset_abandoned(conn);
                drop(turn);
                ended
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
        // Dropped mid-way (a cancelled call), the job still ends its own transaction.
        let _turn = self.writer.turn().await?;
        let (value, rows) = self
            .writer
            .conn
            .run(move |conn| {
                reset_abandoned(conn);
                immediate(conn, |conn| counted(conn, f).map_err(|e| name_constraint(conn, e)))
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
        let (value, rows) = match &self.readers {
            None => {
                let _turn = self.writer.turn().await?;
                self.writer
                    .conn
                    .run(move |conn| {
                        reset_abandoned(conn);
                        counted(conn, f)
                    })
                    .await?
            }
            Some(pool) => {
                let _permit = pool
                    .permits
                    .acquire()
                    .await
                    .map_err(|_| Error::new(ErrorKind::Unavailable, "SQLite reader pool closed"))?;
                pool.checkout().conn()?.run(move |conn| counted(conn, f)).await?
            }
        };
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
        let _turn = self.writer.turn().await?;
        self.writer
            .conn
            .run_waiting(move |conn| {
                reset_abandoned(conn);
                f(conn)
            })
            .await
    }
}
