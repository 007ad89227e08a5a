//! The copy lock: one copy into a target (database + schema) at a time.
//!
//! The lock is a transaction-scoped advisory lock (`pg_advisory_xact_lock`) held by a
//! transaction of its own, on a connection of its own, for the whole run. Nothing lives on a
//! server session between transactions, so it works behind a transaction pooler (the open
//! transaction keeps its server connection), and it outlives the per-table commits of
//! quarantine mode. It ends with the run (`COMMIT`), or when the copy dies: the server rolls the
//! transaction back as soon as it sees the connection gone.
//!
//! A run that finds the lock taken names the holder (its server process) and waits for it up
//! to `--lock-timeout`: right after a copy was killed, the server may still be finishing the
//! dead copy's statement before it notices the client is gone.

use std::fmt;
use std::time::Duration;

use tokio_postgres::Client;
use tokio_postgres::error::SqlState;

use super::CopyObserver;
use crate::config::PostgresConfig;
use crate::{Error, ErrorKind, Result};

/// The advisory lock key of the current target (database and schema).
const KEY: &str = "hashtext('synthlab-db copy ' || current_database() || '.' || current_schema())::bigint";

/// The longest wait the server accepts for `lock_timeout` (milliseconds in an int4).
const MAX_WAIT_MS: u128 = i32::MAX as u128;

/// The server session holding the copy lock of a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockHolder {
    /// Its server process id (`pg_terminate_backend` ends it).
    pub pid: i32,
    /// Its `application_name`, when it set one.
    pub application_name: Option<String>,
    /// The address it connected from (a pooler's, behind one).
    pub client_addr: Option<String>,
    /// When its session started (UTC).
    pub backend_start: Option<String>,
    /// `active`, `idle in transaction`, …
    pub state: Option<String>,
}

impl fmt::Display for LockHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "server process {}", self.pid)?;
        for (label, value) in [
            ("application", &self.application_name),
            ("from", &self.client_addr),
            ("session since", &self.backend_start),
            ("state", &self.state),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                write!(f, ", {label} {value}")?;
            }
        }
        Ok(())
    }
}

/// The held copy lock; dropped without [`CopyLock::release`], its connection closes and the
/// server releases it.
pub(crate) struct CopyLock {
    client: Client,
}

impl CopyLock {
    /// Takes the lock of the target `config` names, waiting up to `wait` for a holder to end
    /// (the observer hears who it is first).
    ///
    /// # Errors
    /// Conflict when the lock is still held after `wait` (the message names the holder);
    /// Unavailable when the target cannot be reached.
    pub(crate) async fn acquire(config: &PostgresConfig, wait: Duration, observer: &dyn CopyObserver) -> Result<Self> {
        let client = crate::pg::connect(config).await?;
        // The run may be long: the server must not end this idle transaction on its own.
        client
            .batch_execute("BEGIN; SET LOCAL idle_in_transaction_session_timeout = 0")
            .await?;
        let got: bool = client
            .query_typed_one(&format!("SELECT pg_try_advisory_xact_lock({KEY})"), &[])
            .await?
            .try_get(0)?;
        if got {
            return Ok(CopyLock { client });
        }
        let holder = holder(&client).await?;
        if let Some(holder) = &holder {
            tracing::info!(%holder, wait_s = wait.as_secs(), "another copy holds the target's lock; waiting");
            observer.waiting_for_lock(holder, wait);
        }
        if wait.is_zero() {
            return Err(still_held(holder.as_ref(), wait));
        }
        let wait_ms = wait.as_millis().min(MAX_WAIT_MS);
        client
            .batch_execute(&format!("SET LOCAL lock_timeout = {wait_ms}"))
            .await?;
        let waited = tokio::time::timeout(
            wait.saturating_add(Duration::from_secs(5)),
            client.query_typed(&format!("SELECT pg_advisory_xact_lock({KEY})"), &[]),
        )
        .await;
        match waited {
            Ok(Ok(_)) => Ok(CopyLock { client }),
            Ok(Err(err)) if err.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => Err(still_held(holder.as_ref(), wait)),
            Ok(Err(err)) => Err(err.into()),
            Err(_) => Err(still_held(holder.as_ref(), wait)),
        }
    }

    /// Whether the lock is still held (its connection alive).
    ///
    /// # Errors
    /// Unavailable when the lock's connection ended: the target is no longer protected.
    pub(crate) async fn check(&self) -> Result<()> {
        self.client.simple_query("").await.map(drop).map_err(|err| {
            Error::new(
                ErrorKind::Unavailable,
                format!(
                    "the copy lock's connection ended ({}): another copy could now run into this target",
                    Error::from(err).message()
                ),
            )
        })
    }

    /// Releases the lock (ends its transaction).
    ///
    /// # Errors
    /// Unavailable when the connection was lost (the server released the lock then).
    pub(crate) async fn release(self) -> Result<()> {
        Ok(self.client.batch_execute("COMMIT").await?)
    }
}

/// The session holding the lock, if it still does.
async fn holder(client: &Client) -> Result<Option<LockHolder>> {
    let sql = format!(
        "WITH k AS (SELECT {KEY} AS key)
         SELECT l.pid, a.application_name::text, host(a.client_addr),
                to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), a.state::text
         FROM pg_locks l CROSS JOIN k LEFT JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND l.classid::bigint = ((k.key >> 32) & 4294967295) AND l.objid::bigint = (k.key & 4294967295)
         LIMIT 1"
    );
    let Some(row) = client.query_typed_opt(&sql, &[]).await? else {
        return Ok(None);
    };
    Ok(Some(LockHolder {
        pid: row.try_get(0)?,
        application_name: row.try_get(1)?,
        client_addr: row.try_get(2)?,
        backend_start: row.try_get(3)?,
        state: row.try_get(4)?,
    }))
}

fn still_held(holder: Option<&LockHolder>, wait: Duration) -> Error {
    let (who, hint) = match holder {
        Some(holder) => (
            format!(" ({holder})"),
            format!(
                "; if that copy is gone, end its session: SELECT pg_terminate_backend({})",
                holder.pid
            ),
        ),
        None => (String::new(), String::new()),
    };
    Error::new(
        ErrorKind::Conflict,
        format!(
            "another copy into this target is running{who} and still held its lock after {} s (--lock-timeout){hint}",
            wait.as_secs()
        ),
    )
}
