//! [`Store`]: one async call turns a configuration into every repository, on either backend.

use std::sync::Arc;

use crate::config::{BackendKind, DatabaseConfig};
use crate::repo::*;
use crate::schema::{MigrationInfo, SchemaStatus, TABLES};
use crate::{Error, Result};

use crate::backend::postgres::{self, PgDb};
#[cfg(feature = "sqlite")]
use crate::backend::sqlite::{self, SqliteDb};

/// How [`Store::connect_with`] opens the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Apply pending migrations before handing out repositories (default true).
    pub migrate: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions { migrate: true }
    }
}

#[derive(Clone)]
enum Backend {
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteDb),
    Postgres(PgDb),
}

/// Declares the repositories once: the struct holding them, their construction per backend,
/// and the accessors on [`Store`]. Adding a repository is one line here.
macro_rules! repositories {
    ($($(#[$doc:meta])* $name:ident: $trait:ident => $sqlite:ident, $pg:ident;)+) => {
        #[derive(Clone)]
        struct Repositories {
            $($name: Arc<dyn $trait>,)+
        }

        impl Repositories {
            #[cfg(feature = "sqlite")]
            fn sqlite(db: &SqliteDb) -> Self {
                Repositories { $($name: Arc::new(sqlite::$sqlite::new(db.clone())),)+ }
            }

            fn postgres(db: &PgDb) -> Self {
                Repositories { $($name: Arc::new(postgres::$pg::new(db.clone())),)+ }
            }
        }

        impl Store {
            $(
                $(#[$doc])*
                pub fn $name(&self) -> Arc<dyn $trait> {
                    self.repositories.$name.clone()
                }
            )+
        }
    };
}

repositories! {
    /// Experiments.
    experiments: ExperimentRepository => SqliteExperimentRepository, PgExperimentRepository;
    /// Analysis runs (one per experiment).
    analyses: AnalysisRepository => SqliteAnalysisRepository, PgAnalysisRepository;
    /// Per-synth outcomes of analyses.
    synth_outcomes: SynthOutcomeRepository => SqliteSynthOutcomeRepository, PgSynthOutcomeRepository;
    /// Precomputed chart data of analyses.
    analysis_cache: AnalysisCacheRepository => SqliteAnalysisCacheRepository, PgAnalysisCacheRepository;
    /// LLM insights per chart.
    chart_insights: ChartInsightRepository => SqliteChartInsightRepository, PgChartInsightRepository;
    /// Generated documents of experiments.
    experiment_documents: ExperimentDocumentRepository => SqliteExperimentDocumentRepository, PgExperimentDocumentRepository;
    // /// Interview guides.
    // interview_guides: InterviewGuideRepository => SqliteInterviewGuideRepository, PgInterviewGuideRepository;
    // /// Synth groups.
    // synth_groups: SynthGroupRepository => SqliteSynthGroupRepository, PgSynthGroupRepository;
    // /// Synths.
    // synths: SynthRepository => SqliteSynthRepository, PgSynthRepository;
}

/// The data layer: every repository over one database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    config: DatabaseConfig,
    backend: Backend,
    repositories: Repositories,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("url", &self.config.redacted_url())
            .finish()
    }
}

impl Store {
    /// Connects and applies pending migrations.
    ///
    /// # Errors
    /// Unavailable when the database cannot be reached; Config when a legacy SQLite file is
    /// not adopted yet, or the SQLite backend is compiled out; Other when a migration fails.
    pub async fn connect(config: &DatabaseConfig) -> Result<Store> {
        Self::connect_with(config, ConnectOptions::default()).await
    }

    /// Parses `url` and connects (see [`Store::connect`]).
    ///
    /// # Errors
    /// Config for a malformed URL; otherwise as [`Store::connect`].
    pub async fn connect_url(url: &str) -> Result<Store> {
        Self::connect(&url.parse()?).await
    }

    /// Connects with explicit options.
    ///
    /// # Errors
    /// As [`Store::connect`].
    pub async fn connect_with(config: &DatabaseConfig, options: ConnectOptions) -> Result<Store> {
        let backend = match config {
            #[cfg(feature = "sqlite")]
            DatabaseConfig::Sqlite(sqlite) => Backend::Sqlite(SqliteDb::connect(sqlite, options.migrate).await?),
            #[cfg(not(feature = "sqlite"))]
            DatabaseConfig::Sqlite(_) => {
                return Err(Error::config(
                    "this build has no SQLite backend (compiled without the `sqlite` feature); use a postgres:// URL",
                ));
            }
            DatabaseConfig::Postgres(pg) => Backend::Postgres(PgDb::connect(pg, options.migrate).await?),
        };
        let repositories = match &backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(db) => Repositories::sqlite(db),
            Backend::Postgres(db) => Repositories::postgres(db),
        };
        tracing::info!(backend = %config.backend(), url = %config.redacted_url(), "store connected");
        Ok(Store {
            config: config.clone(),
            backend,
            repositories,
        })
    }

    /// Which backend answers.
    pub fn backend(&self) -> BackendKind {
        self.config.backend()
    }

    /// The configuration (its Display and Debug are redacted).
    pub fn config(&self) -> &DatabaseConfig {
        &self.config
    }

    /// Applies pending migrations; returns those applied.
    ///
    /// # Errors
    /// Unavailable when the database cannot be reached; Other when a migration fails.
    pub async fn migrate(&self) -> Result<Vec<MigrationInfo>> {
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(db) => db.exclusive(|conn| crate::schema::sqlite::prepare(conn, true)).await,
            Backend::Postgres(db) => {
                let mut client = db.client().await?;
                crate::schema::postgres::migrate(&mut client).await
            }
        }
    }

    /// The applied schema version and pending migrations.
    ///
    /// # Errors
    /// Unavailable when the database cannot be reached.
    pub async fn schema_status(&self) -> Result<SchemaStatus> {
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(db) => db.exclusive(crate::schema::sqlite::status).await,
            Backend::Postgres(db) => {
                let mut client = db.client().await?;
                crate::schema::postgres::status(&mut client).await
            }
        }
    }

    /// Row count of every table of the schema, in foreign-key order.
    ///
    /// # Errors
    /// Unavailable when the database cannot be reached.
    pub async fn table_counts(&self) -> Result<Vec<(String, i64)>> {
        // Table names come from the fixed list TABLES, never from callers.
        let sql = TABLES
            .iter()
            .map(|t| format!("SELECT '{t}' AS name, count(*) AS n FROM {t}"))
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let counts = match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(db) => {
                db.read(move |conn| {
                    let mut stmt = conn.prepare(&sql)?;
                    let rows = stmt.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))?;
                    rows.collect::<std::result::Result<Vec<_>, _>>().map_err(Error::from)
                })
                .await?
            }
            Backend::Postgres(db) => db
                .query(&sql, &[])
                .await?
                .iter()
                .map(|row| Ok((row.try_get::<_, String>(0)?, row.try_get::<_, i64>(1)?)))
                .collect::<Result<Vec<_>>>()?,
        };
        Ok(counts)
    }
}
