//! Where a blocking SQLite job runs: written once, for every call of every connection.
//!
//! - On tokio's multi-thread runtime: on the caller's thread, inside
//!   [`tokio::task::block_in_place`] — the runtime first hands this worker's other tasks to
//!   another thread, so it knows the thread blocks, and the call pays no hop to another
//!   thread (a get by id costs what its statement costs).
//! - Elsewhere — a current-thread runtime, whose only worker must never block — on the
//!   connection's own thread, fed by a channel (as tokio-rusqlite does); the caller awaits
//!   the answer. The thread starts on first use and ends with the connection.
//! - Outside any tokio runtime (a plain thread): right there.
//!
//! A panic inside a job becomes an error; the connection stays usable.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use rusqlite::Connection;
use tokio::runtime::{Handle, RuntimeFlavor};

use crate::{Error, ErrorKind, Result};

/// How a connection is opened (on the thread of its first job).
type Opener = Box<dyn FnMut() -> Result<Connection> + Send>;

/// A job for the connection's thread.
type Job = Box<dyn FnOnce() + Send>;

/// One SQLite connection, opened on first use, and the thread that runs its jobs when the
/// caller's thread may not block.
pub(crate) struct SqliteConn {
    slot: Arc<Mutex<Slot>>,
    thread: OnceLock<Sender<Job>>,
}

struct Slot {
    conn: Option<Connection>,
    open: Opener,
}

impl Slot {
    fn conn(&mut self) -> Result<&mut Connection> {
        match &mut self.conn {
            Some(conn) => Ok(conn),
            none => Ok(none.insert((self.open)()?)),
        }
    }
}

/// Where the current call may block.
enum Site {
    /// A worker (or `block_on`) of the multi-thread runtime: in place, the runtime told.
    BlockInPlace,
    /// A current-thread runtime: never here; on the connection's thread.
    ConnectionThread,
    /// No tokio runtime on this thread: blocking it is the caller's business.
    CallerThread,
}

fn site() -> Site {
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => Site::BlockInPlace,
        Ok(_) => Site::ConnectionThread,
        Err(_) => Site::CallerThread,
    }
}

/// Runs `job` on the connection in `slot` on the current thread, opening it if needed; a panic
/// becomes an error (the lock is released before the panic could poison it).
fn run_locked<T>(slot: &Mutex<Slot>, job: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
    let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
    let conn = slot.conn()?;
    catch_unwind(AssertUnwindSafe(|| job(conn)))
        .unwrap_or_else(|_| Err(Error::other("a SQLite call panicked; its transaction was rolled back")))
}

fn thread_gone() -> Error {
    Error::new(ErrorKind::Unavailable, "the SQLite connection's thread has stopped")
}

impl SqliteConn {
    /// A connection that `open` opens on its first job (and again after an open failed).
    pub(crate) fn new(open: impl FnMut() -> Result<Connection> + Send + 'static) -> Self {
        SqliteConn {
            slot: Arc::new(Mutex::new(Slot {
                conn: None,
                open: Box::new(open),
            })),
            thread: OnceLock::new(),
        }
    }

    /// Runs `job` on the connection where the runtime allows blocking (see the module
    /// documentation) and returns its result.
    ///
    /// # Errors
    /// The job's error; Other when it panicked; the opener's error; Unavailable when the
    /// connection's thread cannot be started.
    pub(crate) async fn run<T, F>(&self, job: F) -> Result<T>
    where
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        match site() {
            Site::BlockInPlace => tokio::task::block_in_place(|| run_locked(&self.slot, job)),
            Site::CallerThread => run_locked(&self.slot, job),
            Site::ConnectionThread => {
                let (answer, answered) = tokio::sync::oneshot::channel();
                let slot = self.slot.clone();
                self.send(Box::new(move || {
                    // The caller may be gone (cancelled): the job still ran to its end.
                    let _ = answer.send(run_locked(&slot, job));
                }))?;
                answered.await.map_err(|_| thread_gone())?
            }
        }
    }

    /// [`SqliteConn::run`] for a job that may wait a long time for a lock (a migration waiting
    /// for another migrator): on the multi-thread runtime it runs on a blocking-pool thread, so
    /// that the caller's task — and any future joined with it, such as the one that will
    /// release the lock — goes on running meanwhile. `block_in_place` would suspend those.
    /// When the caller is cancelled the job still runs to its end (commit or rollback).
    ///
    /// # Errors
    /// As [`SqliteConn::run`].
    pub(crate) async fn run_waiting<T, F>(&self, job: F) -> Result<T>
    where
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        match site() {
            Site::BlockInPlace => {
                let slot = self.slot.clone();
                tokio::task::spawn_blocking(move || run_locked(&slot, job))
                    .await
                    .map_err(|e| Error::new(ErrorKind::Unavailable, format!("a SQLite job did not finish: {e}")))?
            }
            Site::CallerThread | Site::ConnectionThread => self.run(job).await,
        }
    }

    /// Runs `job` now or as the next job of the connection's thread, without waiting for it
    /// (for `Drop`: a rollback); jobs already queued on the thread run first.
    pub(crate) fn run_detached(&self, job: impl FnOnce(&mut Connection) + Send + 'static) {
        let slot = self.slot.clone();
        let job = move || {
            if let Err(err) = run_locked(&slot, |conn| {
                job(conn);
                Ok(())
            }) {
                tracing::warn!(error = %err, "a detached SQLite job failed");
            }
        };
        match site() {
            Site::BlockInPlace => tokio::task::block_in_place(job),
            Site::CallerThread => job(),
            Site::ConnectionThread => {
                if self.send(Box::new(job)).is_err() {
                    tracing::warn!("the SQLite connection's thread has stopped; a detached job was dropped");
                }
            }
        }
    }

    /// Hands `job` to the connection's thread, starting it on first use.
    fn send(&self, job: Job) -> Result<()> {
        let jobs = match self.thread.get() {
            Some(jobs) => jobs,
            None => {
                let (jobs, queue) = channel::<Job>();
                std::thread::Builder::new()
                    .name("synthlab-sqlite".into())
                    .spawn(move || {
                        for job in queue {
                            job();
                        }
                    })
                    .map_err(|e| Error::new(ErrorKind::Unavailable, format!("cannot start a SQLite thread: {e}")))?;
                // Two first callers may race: the loser's thread ends at once (its sender drops).
                let _ = self.thread.set(jobs);
                self.thread.get().ok_or_else(thread_gone)?
            }
        };
        jobs.send(job).map_err(|_| thread_gone())
    }
}
