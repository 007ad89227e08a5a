//! PostgreSQL (tokio-postgres through a deadpool pool). Only this module names the driver's
//! connection types; repositories use the small query helpers of [`PgDb`].

mod analysis;
mod analysis_cache;
mod chart_insight;
pub(crate) mod connect;
pub(crate) mod doctor;
mod driver;
mod error;
mod experiment;
mod experiment_document;
mod exploration;
mod interview_guide;
mod region;
mod research;
pub(crate) mod row;
mod scorecard;
mod sensitivity;
mod simulation;
mod statements;
mod synth;
mod synth_group;
mod synth_outcome;
mod tls;

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use deadpool_postgres::{ClientWrapper, Hook, HookError, Metrics, Object, Pool, QueueMode, RecyclingMethod, Runtime};
use tokio::sync::{Mutex, OwnedMutexGuard};
use tokio_postgres::Row;
use tokio_postgres::types::{ToSql, Type};

pub(crate) use analysis::PgAnalysisRepository;
pub(crate) use analysis_cache::PgAnalysisCacheRepository;
pub(crate) use chart_insight::PgChartInsightRepository;
pub(crate) use experiment::PgExperimentRepository;
pub(crate) use experiment_document::PgExperimentDocumentRepository;
pub(crate) use exploration::PgExplorationRepository;
pub(crate) use interview_guide::PgInterviewGuideRepository;
pub(crate) use region::PgRegionRepository;
pub(crate) use research::PgResearchRepository;
pub(crate) use scorecard::PgScorecardRepository;
pub(crate) use sensitivity::PgSensitivityRepository;
pub(crate) use simulation::PgSimulationRepository;
pub(crate) use synth::PgSynthRepository;
pub(crate) use synth_group::PgSynthGroupRepository;
pub(crate) use synth_outcome::PgSynthOutcomeRepository;

use crate::config::{PoolRecycling, PostgresConfig};
use crate::observe::{CallSettings, add_rows};
use crate::{BackendKind, Error, Result};
use statements::Statements;
pub(crate) use statements::unique_name;

/// A statement parameter.
pub(crate) type Param<'a> = &'a (dyn ToSql + Sync);

/// Parameters with their types, for an unnamed statement (pgbouncer mode).
type Typed<'a> = Vec<(Param<'a>, Type)>;

/// Handle on a PostgreSQL pool; cheap to clone. Inside a unit of work (`tx` set) every call
/// runs on the one pooled connection that holds the transaction.
#[derive(Clone)]
pub(crate) struct PgDb {
    pool: Pool,
    tx: Option<Arc<PgTx>>,
    calls: CallSettings,
    /// Named and cached, or unnamed behind a transaction pooler (`statements.rs`).
    statements: Statements,
}

/// The connection held by an open unit of work (inside `BEGIN`).
struct PgTx {
    client: Arc<Mutex<TxConnection>>,
    poisoned: AtomicBool,
}

/// A pooled connection that may be inside a transaction: dropped (a panic, a cancelled future —
/// from the moment BEGIN may be on the wire), it is detached from the pool, so an open
/// transaction can never be reused; closing it makes the server roll back. Only
/// [`TxConnection::release`], after the transaction ended cleanly, returns it to the pool.
pub(crate) struct TxConnection(Option<Object>);

impl TxConnection {
    fn client(&self) -> Result<&ClientWrapper> {
        self.0
            .as_deref()
            .ok_or_else(|| Error::other("the unit of work has ended"))
    }

    /// Gives the connection back to the pool (its transaction has ended).
    fn release(&mut self) {
        drop(self.0.take());
    }

    /// Closes the connection instead of pooling it.
    fn detach(&mut self) {
        if let Some(object) = self.0.take() {
            drop(Object::take(object));
        }
    }
}

impl Drop for TxConnection {
    fn drop(&mut self) {
        self.detach();
    }
}

/// A connection for one call: pooled, or the unit of work's.
pub(crate) enum PgClient {
    Pooled(Box<Object>),
    InTx(OwnedMutexGuard<TxConnection>),
}

impl Deref for PgClient {
    type Target = ClientWrapper;
    fn deref(&self) -> &ClientWrapper {
        match self {
            PgClient::Pooled(object) => object,
            // `InTx` is only built after checking that the unit still holds its connection.
            PgClient::InTx(guard) => match guard.0.as_ref() {
                Some(object) => object,
                None => unreachable!("checked when the guard was taken"),
            },
        }
    }
}

impl DerefMut for PgClient {
    fn deref_mut(&mut self) -> &mut ClientWrapper {
        match self {
            PgClient::Pooled(object) => object,
            PgClient::InTx(guard) => match guard.0.as_mut() {
                Some(object) => object,
                None => unreachable!("checked when the guard was taken"),
            },
        }
    }
}

impl PgDb {
    /// Builds the pool, checks that the server answers, and applies pending migrations unless
    /// `migrate` is false.
    ///
    /// The pool checks each idle connection before handing it out again as
    /// `pool_recycling` says (default `verified`: an empty query on connections idle for at
    /// least `pool_verify_after`, so connections killed by the server or cut by a restart are
    /// replaced instead of failing the next call).
    pub(crate) async fn connect(config: &PostgresConfig, migrate: bool) -> Result<Self> {
        // `verified` is deadpool's Fast (the driver's closed check) plus, for connections idle
        // at least `pool_verify_after`, an empty query in a post-recycle hook: busy connections
        // skip the round trip, idle ones (the ones a restart or an idle timeout kills) get it.
        let recycling_method = match config.pool_recycling {
            PoolRecycling::Fast | PoolRecycling::Verified => RecyclingMethod::Fast,
            PoolRecycling::Clean => RecyclingMethod::Clean,
        };
        let manager = connect::pool_manager(config, recycling_method)?;
        // Zero means "no limit", as connect_timeout=0 does for libpq.
        let limit = |d: Duration| (!d.is_zero()).then_some(d);
        let mut builder = Pool::builder(manager)
            .max_size(config.pool_max_size)
            .wait_timeout(Some(config.pool_timeout))
            .create_timeout(limit(config.pool_create_timeout))
            .recycle_timeout(limit(config.pool_recycle_timeout))
            // The most recently used connection first: under light load the same few stay busy
            // (never idle long enough for `verified` to spend a round trip on them), instead of
            // every pooled connection taking its turn and each call paying the check.
            .queue_mode(QueueMode::Lifo);
        if config.pool_recycling == PoolRecycling::Verified {
            let (verify_after, timeout) = (config.pool_verify_after, config.pool_recycle_timeout);
            builder = builder.post_recycle(Hook::async_fn(move |client: &mut ClientWrapper, metrics: &Metrics| {
                Box::pin(async move {
                    if metrics.last_used() < verify_after {
                        return Ok(());
                    }
                    match tokio::time::timeout(timeout, client.simple_query("")).await {
                        Ok(Ok(_)) => Ok(()),
                        Ok(Err(err)) => Err(HookError::Backend(err)),
                        Err(_) => Err(HookError::message("connection check timed out")),
                    }
                })
            }));
        }
        let pool = builder
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| Error::config(format!("cannot build the PostgreSQL pool: {e}")))?;
        let db = PgDb {
            pool,
            tx: None,
            calls: CallSettings::new(BackendKind::Postgres, config.slow_call),
            statements: Statements::for_pooler(config.pgbouncer),
        };
        let mut client = db
            .client()
            .await
            .map_err(|e| connect::cannot_connect(config, e.message()))?;
        if migrate {
            crate::schema::postgres::migrate(&mut client).await?;
        }
        Ok(db)
    }

    /// What traced repository calls of this database share.
    pub(crate) fn call_settings(&self) -> CallSettings {
        self.calls
    }

    /// The pool's state: (max size, open connections, idle connections, callers waiting).
    pub(crate) fn pool_status(&self) -> crate::doctor::PoolState {
        let status = self.pool.status();
        crate::doctor::PoolState {
            max_size: status.max_size,
            open: status.size,
            idle: status.available,
            waiting: status.waiting,
        }
    }

    /// A connection: pooled, or the unit of work's.
    pub(crate) async fn client(&self) -> Result<PgClient> {
        match &self.tx {
            None => Ok(PgClient::Pooled(Box::new(self.pool.get().await?))),
            Some(tx) => {
                if tx.poisoned.load(Ordering::Acquire) {
                    return Err(super::unit_of_work::aborted());
                }
                let guard = tx.client.clone().lock_owned().await;
                guard.client()?;
                Ok(PgClient::InTx(guard))
            }
        }
    }

    /// Marks the unit of work (if any) as aborted after a failed call: PostgreSQL refuses
    /// every later statement of the transaction, and SQLite is made to do the same.
    fn note<T>(&self, result: Result<T>) -> Result<T> {
        if let (Err(_), Some(tx)) = (&result, &self.tx) {
            tx.poisoned.store(true, Ordering::Release);
        }
        result
    }

    /// In pgbouncer mode, `params` with the types the server gives them in `sql` (learned once
    /// per text, see `statements.rs`); `None` in the default mode (named, cached statements).
    async fn typed<'a>(&self, client: &PgClient, sql: &str, params: &[Param<'a>]) -> Result<Option<Typed<'a>>> {
        let Statements::Unnamed(known) = &self.statements else {
            return Ok(None);
        };
        let types = match known.get(sql) {
            Some(types) => types,
            None if params.is_empty() => Arc::from(Vec::new()),
            None => {
                let types = statements::learn(client, sql).await?;
                known.keep(sql, types.clone());
                types
            }
        };
        if types.len() != params.len() {
            return Err(Error::other(format!(
                "statement expects {} parameters, {} given",
                types.len(),
                params.len()
            )));
        }
        Ok(Some(params.iter().copied().zip(types.iter().cloned()).collect()))
    }

    /// Runs a query (statement prepared once per connection and cached; unnamed in pgbouncer
    /// mode) and returns its rows.
    pub(crate) async fn query(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>> {
        let client = self.client().await?;
        let result = async {
            let rows = match self.typed(&client, sql, params).await? {
                Some(typed) => client.query_typed(sql, &typed).await?,
                None => {
                    let statement = client.prepare_cached(sql).await?;
                    client.query(&statement, params).await?
                }
            };
            add_rows(rows.len() as u64);
            Ok(rows)
        }
        .await;
        self.note(result)
    }

    /// Runs a query without caching its statement (for open-ended statement texts).
    pub(crate) async fn query_uncached(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>> {
        let client = self.client().await?;
        let result = async {
            let rows = match self.typed(&client, sql, params).await? {
                Some(typed) => client.query_typed(sql, &typed).await?,
                None => client.query(sql, params).await?,
            };
            add_rows(rows.len() as u64);
            Ok(rows)
        }
        .await;
        self.note(result)
    }

    /// Runs a query that returns at most one row.
    pub(crate) async fn query_opt(&self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>> {
        let client = self.client().await?;
        let result = async {
            let row = match self.typed(&client, sql, params).await? {
                Some(typed) => client.query_typed_opt(sql, &typed).await?,
                None => {
                    let statement = client.prepare_cached(sql).await?;
                    client.query_opt(&statement, params).await?
                }
            };
            add_rows(u64::from(row.is_some()));
            Ok(row)
        }
        .await;
        self.note(result)
    }

    /// Runs a query that returns exactly one row.
    pub(crate) async fn query_one(&self, sql: &str, params: &[Param<'_>]) -> Result<Row> {
        self.query_opt(sql, params)
            .await?
            .ok_or_else(|| Error::other("query returned no row"))
    }

    /// Runs a statement and returns the number of rows it touched.
    pub(crate) async fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        let client = self.client().await?;
        let result = async {
            let changed = match self.typed(&client, sql, params).await? {
                Some(typed) => client.execute_typed(sql, &typed).await?,
                None => {
                    let statement = client.prepare_cached(sql).await?;
                    client.execute(&statement, params).await?
                }
            };
            add_rows(changed);
            Ok(changed)
        }
        .await;
        self.note(result)
    }

    /// Starts a unit of work: takes a pooled connection and opens a transaction.
    pub(crate) async fn begin(&self) -> Result<PgDb> {
        if self.tx.is_some() {
            return Err(super::unit_of_work::nested());
        }
        // Guarded before BEGIN is sent: dropped while it awaits the answer, the connection is
        // detached, never pooled inside the transaction BEGIN may have opened.
        let conn = TxConnection(Some(self.pool.get().await?));
        conn.client()?.batch_execute("BEGIN").await?;
        Ok(PgDb {
            pool: self.pool.clone(),
            calls: self.calls,
            statements: self.statements.clone(),
            tx: Some(Arc::new(PgTx {
                client: Arc::new(Mutex::new(conn)),
                poisoned: AtomicBool::new(false),
            })),
        })
    }

    /// Ends the unit of work: COMMIT when `commit` is true, else ROLLBACK. The connection goes
    /// back to the pool only when the transaction ended cleanly.
    pub(crate) async fn finish(&self, commit: bool) -> Result<()> {
        let Some(tx) = &self.tx else {
            return Err(Error::other("not inside a unit of work"));
        };
        let mut conn = tx.client.lock().await;
        let aborted = tx.poisoned.load(Ordering::Acquire);
        let statement = if commit && !aborted { "COMMIT" } else { "ROLLBACK" };
        // Cancelled here, the connection stays in the unit and is detached with it.
        if let Err(err) = conn.client()?.batch_execute(statement).await {
            conn.detach();
            return Err(err.into());
        }
        conn.release();
        match commit && aborted {
            true => Err(super::unit_of_work::aborted()),
            false => Ok(()),
        }
    }

    /// Whether this handle belongs to an open unit of work.
    pub(crate) fn in_unit_of_work(&self) -> bool {
        self.tx.is_some()
    }
}
