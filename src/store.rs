//! [`Store`]: one async call turns a configuration into every repository, on either backend.

use std::sync::Arc;

use crate::config::{BackendKind, DatabaseConfig};
use crate::observe::Traced;
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
    /// Create a missing SQLite file (default true); when false a missing file is NotFound.
    pub create_if_missing: bool,
    /// Open a SQLite file read-only (default false): nothing of the file changes, not even its
    /// journal mode; writes fail. For commands that only look.
    pub read_only: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            migrate: true,
            create_if_missing: true,
            read_only: false,
        }
    }
}

impl ConnectOptions {
    /// Inspect only: no migration, no file creation, a SQLite file opened read-only.
    pub fn read_only_inspection() -> Self {
        ConnectOptions {
            migrate: false,
            create_if_missing: false,
            read_only: true,
        }
    }
}

/// A borrowed backend handle (what `schema::Migrator` runs on).
pub(crate) enum BackendRef<'a> {
    #[cfg(feature = "sqlite")]
    Sqlite(&'a SqliteDb),
    Postgres(&'a PgDb),
}

#[derive(Clone)]
pub(crate) enum Backend {
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteDb),
    Postgres(PgDb),
}

impl Backend {
    /// Which backend this is.
    pub(crate) fn kind(&self) -> BackendKind {
        match self {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// Opens a unit of work on this backend.
    pub(crate) async fn begin(&self) -> Result<Backend> {
        Ok(match self {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(db) => Backend::Sqlite(db.begin().await?),
            Backend::Postgres(db) => Backend::Postgres(db.begin().await?),
        })
    }

    /// Ends the unit of work of this backend: commit or roll back.
    pub(crate) async fn finish(&self, commit: bool) -> Result<()> {
        match self {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(db) => db.finish(commit).await,
            Backend::Postgres(db) => db.finish(commit).await,
        }
    }
}

impl Repositories {
    pub(crate) fn for_backend(backend: &Backend) -> Self {
        match backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(db) => Repositories::sqlite(db),
            Backend::Postgres(db) => Repositories::postgres(db),
        }
    }
}

/// Declares the repositories once: the struct holding them, their construction per backend,
/// and the accessors on [`Store`]. Adding a repository is one line here.
macro_rules! repositories {
    ($($(#[$doc:meta])* $name:ident: $trait:ident => $sqlite:ident, $pg:ident;)+) => {
        #[derive(Clone)]
        pub(crate) struct Repositories {
            $($name: Arc<dyn $trait>,)+
        }

        /// The accessor names, in declaration order (the names `SYNTHLAB_ROUTE_*` accepts).
        pub(crate) const REPOSITORY_NAMES: &[&str] = &[$(stringify!($name)),+];

        impl Repositories {
            /// Each repository from the store its route names, wrapped for dual / shadow
            /// routes (see `crate::cutover`).
            pub(crate) fn routed(sqlite: &Self, postgres: &Self, router: &crate::cutover::Router<'_>) -> Self {
                Repositories {
                    $($name: router
                        .route(stringify!($name), &sqlite.$name, &postgres.$name)
                        .into_arc(|routed| Arc::new(routed) as Arc<dyn $trait>),)+
                }
            }

            // Every repository is wrapped in `Traced`: one span per call (crate::observe).
            #[cfg(feature = "sqlite")]
            fn sqlite(db: &SqliteDb) -> Self {
                let calls = db.call_settings();
                Repositories { $($name: Arc::new(Traced::new(calls, sqlite::$sqlite::new(db.clone()))),)+ }
            }

            fn postgres(db: &PgDb) -> Self {
                let calls = db.call_settings();
                Repositories { $($name: Arc::new(Traced::new(calls, postgres::$pg::new(db.clone()))),)+ }
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
    /// Interview guides.
    interview_guides: InterviewGuideRepository => SqliteInterviewGuideRepository, PgInterviewGuideRepository;
    /// Synth groups.
    synth_groups: SynthGroupRepository => SqliteSynthGroupRepository, PgSynthGroupRepository;
    /// Synths.
    synths: SynthRepository => SqliteSynthRepository, PgSynthRepository;
    /// Interview batches and their transcripts.
    research: ResearchRepository => SqliteResearchRepository, PgResearchRepository;
    /// Scenario explorations and their node trees.
    explorations: ExplorationRepository => SqliteExplorationRepository, PgExplorationRepository;
    /// Legacy feature scorecards.
    scorecards: ScorecardRepository => SqliteScorecardRepository, PgScorecardRepository;
    /// Legacy simulation runs.
    simulations: SimulationRepository => SqliteSimulationRepository, PgSimulationRepository;
    /// Region analyses of legacy simulations.
    regions: RegionRepository => SqliteRegionRepository, PgRegionRepository;
    /// Sensitivity results of legacy simulations.
    sensitivity: SensitivityRepository => SqliteSensitivityRepository, PgSensitivityRepository;
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
}

/// The data layer: every repository over one database (or, during a cutover, over two:
/// see [`crate::cutover`]). Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(crate) config: DatabaseConfig,
    pub(crate) backend: Backend,
    pub(crate) repositories: Repositories,
    /// The second store and the routing, when some repository is routed away from `backend`.
    pub(crate) cutover: Option<Arc<crate::cutover::Cutover>>,
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

    /// Connects with explicit options. `config` is the default store; the routing variables
    /// of the environment (`SYNTHLAB_ROUTE_*`, see [`crate::cutover`]) may route repositories
    /// to a second store — without them every repository is on `config`.
    ///
    /// # Errors
    /// As [`Store::connect`]; Config for invalid routing variables.
    pub async fn connect_with(config: &DatabaseConfig, options: ConnectOptions) -> Result<Store> {
        let routing = crate::cutover::RoutingConfig::from_env(config)?;
        Self::connect_routed(&routing, options).await
    }

    /// Connects to one store, with every repository on it.
    pub(crate) async fn connect_single(config: &DatabaseConfig, options: ConnectOptions) -> Result<Store> {
        let backend = match config {
            #[cfg(feature = "sqlite")]
            DatabaseConfig::Sqlite(sqlite) => Backend::Sqlite(
                SqliteDb::connect(sqlite, options.migrate, options.create_if_missing, options.read_only).await?,
            ),
            #[cfg(not(feature = "sqlite"))]
            DatabaseConfig::Sqlite(_) => {
                return Err(Error::config(
                    "this build has no SQLite backend (compiled without the `sqlite` feature); use a postgres:// URL",
                ));
            }
            DatabaseConfig::Postgres(pg) => Backend::Postgres(PgDb::connect(pg, options.migrate).await?),
        };
        let repositories = Repositories::for_backend(&backend);
        tracing::info!(backend = %config.backend(), url = %config.redacted_url(), "store connected");
        Ok(Store {
            config: config.clone(),
            backend,
            repositories,
            cutover: None,
        })
    }

    /// Runs `work` as one unit of work: every repository call made through the `&Store` it
    /// receives runs in one transaction, committed when `work` returns `Ok` and rolled back
    /// when it returns `Err`, panics or is cancelled. After a failed call inside the unit,
    /// later calls fail too (PostgreSQL aborts the transaction; SQLite is made to match) and
    /// the unit rolls back even if `work` returns `Ok`.
    ///
    /// On SQLite the unit holds the single writer (`BEGIN IMMEDIATE`): other writers of this
    /// store wait until it ends. Keep units short.
    ///
    /// On a routed store (two stores, see [`crate::cutover`]) the unit opens a transaction on
    /// each: writes are dual inside both, reads come from the primary only, and the primary
    /// store commits first. Routes with different primaries refuse units (InvalidInput).
    ///
    /// # Errors
    /// InvalidInput when called inside a unit of work (nesting is refused, never flattened);
    /// the error of `work`; Other ("unit of work aborted") when `work` swallowed an error.
    pub async fn transaction<T>(&self, work: impl AsyncFnOnce(&Store) -> Result<T>) -> Result<T> {
        if let Some(cutover) = &self.cutover {
            // Two stores: one transaction on each, the primary commits first (`cutover/wiring.rs`).
            return crate::cutover::transaction(self, cutover, work).await;
        }
        let tx_backend = self.backend.begin().await?;
        let tx_store = Store {
            config: self.config.clone(),
            repositories: Repositories::for_backend(&tx_backend),
            backend: tx_backend,
            cutover: None,
        };
        let outcome = work(&tx_store).await;
        let finished = tx_store.backend.finish(outcome.is_ok()).await;
        let value = outcome?;
        finished?;
        Ok(value)
    }

    /// Whether this store is the view of an open unit of work.
    pub fn in_transaction(&self) -> bool {
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(db) => db.in_unit_of_work(),
            Backend::Postgres(db) => db.in_unit_of_work(),
        }
    }

    /// The PostgreSQL pool's state (open, idle, waiting); `None` on SQLite.
    pub fn pool_state(&self) -> Option<crate::doctor::PoolState> {
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(_) => None,
            Backend::Postgres(db) => Some(db.pool_status()),
        }
    }

    /// Which backend answers.
    pub fn backend(&self) -> BackendKind {
        self.config.backend()
    }

    /// The configuration (its Display and Debug are redacted).
    pub fn config(&self) -> &DatabaseConfig {
        &self.config
    }

    /// Applies pending migrations to the default store; returns those applied (see
    /// [`crate::schema::Migrator::up`]). The second store of a routed store is migrated when it
    /// connects, unless the options say not to.
    ///
    /// # Errors
    /// Unavailable when the database cannot be reached; Conflict when the history does not
    /// match this build; Other when a migration fails (nothing is applied then).
    pub async fn migrate(&self) -> Result<Vec<MigrationInfo>> {
        self.migrator().up(None).await
    }

    /// The applied schema version and pending migrations.
    ///
    /// # Errors
    /// Unavailable when the database cannot be reached.
    pub async fn schema_status(&self) -> Result<SchemaStatus> {
        Ok(SchemaStatus::from(&self.migrator().history().await?))
    }

    /// The backend handle, for the schema module.
    pub(crate) fn backend_ref(&self) -> BackendRef<'_> {
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(db) => BackendRef::Sqlite(db),
            Backend::Postgres(db) => BackendRef::Postgres(db),
        }
    }

    /// The backend's facts for `synthlab-db doctor` (see [`crate::doctor`]).
    pub(crate) async fn backend_checks(&self, checks: &mut Vec<crate::doctor::Check>) {
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(db) => sqlite::doctor::checks(db, &self.config, checks).await,
            Backend::Postgres(db) => postgres::doctor::checks(db, &self.config, checks).await,
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
