//! PostgreSQL (tokio-postgres through a deadpool pool). Only this module names the driver's
//! connection types; repositories use the small query helpers of [`PgDb`].

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

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

pub(crate) use analysis::PgAnalysisRepository;
pub(crate) use analysis_cache::PgAnalysisCacheRepository;
pub(crate) use chart_insight::PgChartInsightRepository;
pub(crate) use experiment::PgExperimentRepository;
pub(crate) use experiment_document::PgExperimentDocumentRepository;
pub(crate) use interview_guide::PgInterviewGuideRepository;
pub(crate) use synth::PgSynthRepository;
pub(crate) use synth_group::PgSynthGroupRepository;
pub(crate) use synth_outcome::PgSynthOutcomeRepository;

use crate::config::PostgresConfig;
use crate::{Error, ErrorKind, Result};

/// A statement parameter.
pub(crate) type Param<'a> = &'a (dyn ToSql + Sync);

/// Handle on a PostgreSQL pool; cheap to clone.
#[derive(Clone)]
pub(crate) struct PgDb {
    pool: Pool,
}

impl PgDb {
    /// Builds the pool, checks that the server answers, and applies pending migrations unless
    /// `migrate` is false.
    pub(crate) async fn connect(config: &PostgresConfig, migrate: bool) -> Result<Self> {
        let manager = Manager::from_config(
            config.driver.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let connect_timeout = config
            .driver
            .get_connect_timeout()
            .copied()
            .unwrap_or(Duration::from_secs(10));
        let pool = Pool::builder(manager)
            .max_size(config.pool_max_size)
            .wait_timeout(Some(config.pool_timeout))
            .create_timeout(Some(connect_timeout))
            .recycle_timeout(Some(Duration::from_secs(5)))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| Error::config(format!("cannot build the PostgreSQL pool: {e}")))?;
        let db = PgDb { pool };
        let mut client = db.client().await.map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                format!("cannot connect to {}: {}", config.redacted_url(), e.message()),
            )
        })?;
        if migrate {
            crate::schema::postgres::migrate(&mut client).await?;
        }
        Ok(db)
    }

    /// A pooled connection.
    pub(crate) async fn client(&self) -> Result<Object> {
        Ok(self.pool.get().await?)
    }

    /// Runs a query (statement prepared once per connection and cached) and returns its rows.
    pub(crate) async fn query(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>> {
        let client = self.client().await?;
        let statement = client.prepare_cached(sql).await?;
        Ok(client.query(&statement, params).await?)
    }

    /// Runs a query that returns at most one row.
    pub(crate) async fn query_opt(&self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>> {
        let client = self.client().await?;
        let statement = client.prepare_cached(sql).await?;
        Ok(client.query_opt(&statement, params).await?)
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
        let statement = client.prepare_cached(sql).await?;
        Ok(client.execute(&statement, params).await?)
    }

    /// Pool size and idle connections (for status and doctor output).
    pub(crate) fn pool_status(&self) -> deadpool_postgres::Status {
        self.pool.status()
    }
}
