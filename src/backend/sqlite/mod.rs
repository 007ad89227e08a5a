//! The legacy SQLite store (rusqlite). The only module of the library that names rusqlite.
//!
//! One writer connection (writes are serialised, each in `BEGIN IMMEDIATE`) and a few
//! read-only connections (WAL lets them read while the writer writes). Every rusqlite call
//! runs on tokio's blocking pool through [`SqliteDb::read`] / [`SqliteDb::write`], never on
//! the async worker threads.

mod analysis;
mod analysis_cache;
mod chart_insight;
mod error;
mod experiment;
mod experiment_document;
mod interview_guide;
pub(crate) mod row;
mod synth;
mod synth_group;
mod synth_outcome;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::sync::{Arc, Mutex as SyncMutex};
use tokio::sync::{Mutex, OwnedMutexGuard, Semaphore};

pub(crate) use analysis::SqliteAnalysisRepository;
pub(crate) use analysis_cache::SqliteAnalysisCacheRepository;
pub(crate) use chart_insight::SqliteChartInsightRepository;
pub(crate) use experiment::SqliteExperimentRepository;
pub(crate) use experiment_document::SqliteExperimentDocumentRepository;
pub(crate) use interview_guide::SqliteInterviewGuideRepository;
pub(crate) use synth::SqliteSynthRepository;
pub(crate) use synth_group::SqliteSynthGroupRepository;
pub(crate) use synth_outcome::SqliteSynthOutcomeRepository;

use crate::config::{SqliteConfig, SqliteLocation};
use crate::{Error, ErrorKind, Result};

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

/// Handle on one SQLite database; cheap to clone.
#[derive(Clone)]
pub(crate) struct SqliteDb {
    writer: Arc<Mutex<Connection>>,
    readers: Option<Arc<ReaderPool>>,
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
    conn.pragma_update(None, "foreign_keys", "ON")?;
    if !read_only && matches!(config.location, SqliteLocation::File(_)) {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
    }
    Ok(conn)
}

impl SqliteDb {
    /// Opens the database (creating the file if needed) and applies pending migrations
    /// unless `migrate` is false.
    pub(crate) async fn connect(config: &SqliteConfig, migrate: bool) -> Result<Self> {
        let writer_config = config.clone();
        let writer = run_blocking(move || {
            let mut conn = open(&writer_config, false)?;
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
        })
    }

    /// Runs `f` on the writer connection inside `BEGIN IMMEDIATE … COMMIT`; an error or a
    /// panic in `f` rolls back.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let mut guard: OwnedMutexGuard<Connection> = self.writer.clone().lock_owned().await;
        run_blocking(move || {
            let tx = guard.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let result = f(&tx)?;
            tx.commit()?;
            Ok(result)
        })
        .await
    }

    /// Runs `f` on a read-only connection (or on the writer for an in-memory database).
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let Some(pool) = self.readers.clone() else {
            let guard = self.writer.clone().lock_owned().await;
            return run_blocking(move || f(&guard)).await;
        };
        let _permit = pool
            .permits
            .acquire()
            .await
            .map_err(|_| Error::new(ErrorKind::Unavailable, "SQLite reader pool closed"))?;
        let pool_for_task = pool.clone();
        run_blocking(move || {
            let conn = match pool_for_task
                .idle
                .lock()
                .map_err(|_| Error::other("reader pool poisoned"))?
                .pop()
            {
                Some(conn) => conn,
                None => open(&pool_for_task.config, true)?,
            };
            let result = f(&conn);
            if let Ok(mut idle) = pool_for_task.idle.lock() {
                idle.push(conn);
            }
            result
        })
        .await
    }

    /// Runs `f` on the writer connection with no transaction around it (for work that
    /// manages its own transactions, such as migrations).
    pub(crate) async fn exclusive<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let mut guard: OwnedMutexGuard<Connection> = self.writer.clone().lock_owned().await;
        run_blocking(move || f(&mut guard)).await
    }
}
