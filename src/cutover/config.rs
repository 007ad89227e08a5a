//! Which store answers each repository: the routing configuration and its parsing.
//!
//! `DATABASE_URL` gives the default backend and its store. Everything else comes from these
//! variables (process environment first, then `./.env`, like `DATABASE_URL` itself):
//!
//! | variable | value | meaning |
//! |---|---|---|
//! | `SYNTHLAB_ROUTE_<REPO>` | a [`RouteMode`] | route of one repository (`<REPO>` = its `Store` accessor upper-cased, e.g. `EXPERIMENTS`, `SYNTH_OUTCOMES`; see [`REPOSITORIES`]) |
//! | `SYNTHLAB_ROUTE_DEFAULT` | a [`RouteMode`] | route of every repository without its own variable (default: the backend of `DATABASE_URL` alone) |
//! | `SYNTHLAB_SQLITE_URL` | `sqlite://…` | the SQLite store (default: `DATABASE_URL` when it is SQLite) |
//! | `SYNTHLAB_POSTGRES_URL` | `postgres://…` | the PostgreSQL store (default: `DATABASE_URL` when it is PostgreSQL) |
//! | `SYNTHLAB_DUAL_STRICT` | `1`/`0` (`true`/`false`, `yes`/`no`, `on`/`off`) | a failed secondary write fails the call (default 0) |
//! | `SYNTHLAB_SHADOW_BUDGET_MS` | whole milliseconds | how much longer than the primary a shadow read may wait for the secondary (default 50) |
//!
//! Any other `SYNTHLAB_ROUTE_*` name, an unknown mode, a malformed URL or setting, or a route
//! that needs a store nobody named is a [`crate::ErrorKind::Config`] error when the store
//! connects — never ignored.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::config::{BackendKind, DatabaseConfig};
use crate::{Error, Result};

/// The repositories that can be routed, by their [`crate::Store`] accessor name, in the
/// order of the `repositories!` declaration. `SYNTHLAB_ROUTE_<NAME>` takes the upper-cased name.
pub const REPOSITORIES: &[&str] = crate::store::REPOSITORY_NAMES;

/// Prefix of the per-repository route variables.
pub const ROUTE_PREFIX: &str = "SYNTHLAB_ROUTE_";
/// The route of every repository without its own variable.
pub const ROUTE_DEFAULT_VAR: &str = "SYNTHLAB_ROUTE_DEFAULT";
/// The SQLite store.
pub const SQLITE_URL_VAR: &str = "SYNTHLAB_SQLITE_URL";
/// The PostgreSQL store.
pub const POSTGRES_URL_VAR: &str = "SYNTHLAB_POSTGRES_URL";
/// Whether a failed secondary write fails the call.
pub const DUAL_STRICT_VAR: &str = "SYNTHLAB_DUAL_STRICT";
/// The shadow-read budget in milliseconds.
pub const SHADOW_BUDGET_VAR: &str = "SYNTHLAB_SHADOW_BUDGET_MS";
/// The shadow-read budget when none is set.
pub const DEFAULT_SHADOW_BUDGET: Duration = Duration::from_millis(50);

const MODES: &str = "sqlite, postgres, dual, dual:sqlite, dual:postgres, shadow, shadow:sqlite, shadow:postgres";

/// How one repository is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteMode {
    /// One store answers reads and writes (`sqlite` or `postgres`).
    Single(BackendKind),
    /// Writes go to the primary, then to the other store (the secondary); reads go to the
    /// primary only (`dual`, `dual:sqlite`, `dual:postgres`).
    Dual {
        /// The store whose result the caller gets.
        primary: BackendKind,
    },
    /// Writes as [`RouteMode::Dual`]; every read also runs on the secondary and the two
    /// results are compared (`shadow`, `shadow:sqlite`, `shadow:postgres`).
    Shadow {
        /// The store whose result the caller gets.
        primary: BackendKind,
    },
}

impl RouteMode {
    /// Parses a mode; a bare `dual` / `shadow` takes `default` as its primary.
    ///
    /// # Errors
    /// Config for anything but the accepted modes.
    pub fn parse(text: &str, default: BackendKind) -> Result<RouteMode> {
        let text = text.trim().to_ascii_lowercase();
        let (kind, primary) = match text.split_once(':') {
            Some((kind, primary)) => (kind, Some(primary)),
            None => (text.as_str(), None),
        };
        let primary = match primary {
            None => default,
            Some("sqlite") => BackendKind::Sqlite,
            Some("postgres" | "postgresql") => BackendKind::Postgres,
            Some(other) => {
                return Err(Error::config(format!(
                    "unknown primary '{other}' in route mode '{text}' (accepted modes: {MODES})"
                )));
            }
        };
        match (kind, text.contains(':')) {
            ("sqlite", false) => Ok(RouteMode::Single(BackendKind::Sqlite)),
            ("postgres" | "postgresql", false) => Ok(RouteMode::Single(BackendKind::Postgres)),
            ("dual", _) => Ok(RouteMode::Dual { primary }),
            ("shadow", _) => Ok(RouteMode::Shadow { primary }),
            _ => Err(Error::config(format!(
                "unknown route mode '{text}' (accepted modes: {MODES})"
            ))),
        }
    }

    /// The store whose result the caller gets.
    pub fn primary(self) -> BackendKind {
        match self {
            RouteMode::Single(kind) => kind,
            RouteMode::Dual { primary } | RouteMode::Shadow { primary } => primary,
        }
    }

    /// The store that also receives writes (and, in shadow mode, reads), if any.
    pub fn secondary(self) -> Option<BackendKind> {
        match self {
            RouteMode::Single(_) => None,
            RouteMode::Dual { primary } | RouteMode::Shadow { primary } => Some(other(primary)),
        }
    }

    /// Whether this route touches the store of `kind`.
    pub fn uses(self, kind: BackendKind) -> bool {
        self.primary() == kind || self.secondary() == Some(kind)
    }

    /// Whether reads are compared against the secondary.
    pub fn is_shadow(self) -> bool {
        matches!(self, RouteMode::Shadow { .. })
    }
}

impl fmt::Display for RouteMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteMode::Single(kind) => write!(f, "{kind}"),
            RouteMode::Dual { primary } => write!(f, "dual:{primary}"),
            RouteMode::Shadow { primary } => write!(f, "shadow:{primary}"),
        }
    }
}

impl Serialize for RouteMode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The other backend.
pub(crate) fn other(kind: BackendKind) -> BackendKind {
    match kind {
        BackendKind::Sqlite => BackendKind::Postgres,
        BackendKind::Postgres => BackendKind::Sqlite,
    }
}

/// The routing of a store: the default store, the other store, and each repository's mode.
#[derive(Debug, Clone)]
pub struct RoutingConfig {
    /// `DATABASE_URL`: the default backend and its store.
    pub default: DatabaseConfig,
    /// `SYNTHLAB_SQLITE_URL`, when set.
    pub sqlite: Option<DatabaseConfig>,
    /// `SYNTHLAB_POSTGRES_URL`, when set.
    pub postgres: Option<DatabaseConfig>,
    /// `SYNTHLAB_ROUTE_DEFAULT`: the mode of repositories without an override.
    pub default_mode: RouteMode,
    /// `SYNTHLAB_ROUTE_<REPO>`: overrides by repository accessor name (`experiments`).
    pub overrides: BTreeMap<String, RouteMode>,
    /// `SYNTHLAB_DUAL_STRICT`: a failed secondary write fails the call.
    pub dual_strict: bool,
    /// `SYNTHLAB_SHADOW_BUDGET_MS`: how much longer than the primary a shadow read may wait.
    pub shadow_budget: Duration,
}

impl RoutingConfig {
    /// Every repository on the store of `default` alone (what a store without routing
    /// variables does).
    pub fn single(default: DatabaseConfig) -> RoutingConfig {
        RoutingConfig {
            default_mode: RouteMode::Single(default.backend()),
            default,
            sqlite: None,
            postgres: None,
            overrides: BTreeMap::new(),
            dual_strict: false,
            shadow_budget: DEFAULT_SHADOW_BUDGET,
        }
    }

    /// Reads the routing variables from the process environment, then from `./.env` for
    /// names the environment does not set, and checks that every store a route needs is named.
    ///
    /// # Errors
    /// Config as [`RoutingConfig::from_vars`] and [`RoutingConfig::validate`], or for a
    /// non-UTF-8 `SYNTHLAB_*` value.
    pub fn from_env(default: &DatabaseConfig) -> Result<RoutingConfig> {
        let mut vars: BTreeMap<String, String> = crate::config::read_dotenv()
            .into_iter()
            .filter(|(k, _)| k.starts_with("SYNTHLAB_"))
            .collect();
        for (key, value) in std::env::vars_os() {
            let Some(key) = key.to_str().filter(|k| k.starts_with("SYNTHLAB_")).map(str::to_owned) else {
                continue;
            };
            let value = value
                .into_string()
                .map_err(|_| Error::config(format!("{key} is not valid UTF-8")))?;
            vars.insert(key, value);
        }
        let routing = Self::from_vars(default, vars)?;
        routing.validate()?;
        Ok(routing)
    }

    /// Parses the routing from `(name, value)` pairs; names not starting with `SYNTHLAB_`
    /// are ignored, and so are `SYNTHLAB_*` names other than the routing variables. Whether
    /// the stores the routes need are named is checked by [`RoutingConfig::validate`] (which
    /// [`crate::Store::connect_routed`] calls), so a caller may still set `sqlite` /
    /// `postgres` itself.
    ///
    /// # Errors
    /// Config for a `SYNTHLAB_ROUTE_*` name that is not a repository (nor `DEFAULT`), an
    /// unknown mode, a malformed or wrong-backend store URL, a store URL that contradicts
    /// `DATABASE_URL`, or a malformed setting.
    pub fn from_vars<K, V>(default: &DatabaseConfig, vars: impl IntoIterator<Item = (K, V)>) -> Result<RoutingConfig>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut routing = RoutingConfig::single(default.clone());
        let default_kind = default.backend();
        for (key, value) in vars {
            let (key, value) = (key.as_ref(), value.as_ref());
            let context = |err: Error| Error::config(format!("{key}: {}", err.message()));
            if key == ROUTE_DEFAULT_VAR {
                routing.default_mode = RouteMode::parse(value, default_kind).map_err(context)?;
            } else if let Some(name) = key.strip_prefix(ROUTE_PREFIX) {
                let Some(repository) = REPOSITORIES.iter().find(|r| r.to_ascii_uppercase() == name) else {
                    let known: Vec<String> = REPOSITORIES.iter().map(|r| r.to_ascii_uppercase()).collect();
                    return Err(Error::config(format!(
                        "{key}: no repository is called {name} (known: {}, and DEFAULT for all of them)",
                        known.join(", ")
                    )));
                };
                let mode = RouteMode::parse(value, default_kind).map_err(context)?;
                routing.overrides.insert((*repository).to_owned(), mode);
            } else if key == SQLITE_URL_VAR || key == POSTGRES_URL_VAR {
                let want = if key == SQLITE_URL_VAR {
                    BackendKind::Sqlite
                } else {
                    BackendKind::Postgres
                };
                let config: DatabaseConfig = value.parse().map_err(context)?;
                if config.backend() != want {
                    return Err(Error::config(format!(
                        "{key} must name a {want} database, got '{}'",
                        config.redacted_url()
                    )));
                }
                if default_kind == want && config.redacted_url() != default.redacted_url() {
                    return Err(Error::config(format!(
                        "{key} ('{}') and DATABASE_URL ('{}') name different {want} stores; \
                         DATABASE_URL's store is the {want} store: unset {key} or make them equal",
                        config.redacted_url(),
                        default.redacted_url()
                    )));
                }
                match want {
                    BackendKind::Sqlite => routing.sqlite = Some(config),
                    BackendKind::Postgres => routing.postgres = Some(config),
                }
            } else if key == DUAL_STRICT_VAR {
                routing.dual_strict = match value.trim().to_ascii_lowercase().as_str() {
                    "1" | "true" | "yes" | "on" => true,
                    "0" | "false" | "no" | "off" => false,
                    other => {
                        return Err(Error::config(format!(
                            "{key} must be 1 or 0 (true/false, yes/no, on/off), got '{other}'"
                        )));
                    }
                };
            } else if key == SHADOW_BUDGET_VAR {
                let ms = crate::config::bounded_number("shadow_budget_ms", &format!("{key} (milliseconds)"), value)
                    .map_err(Error::config)?;
                routing.shadow_budget = Duration::from_millis(ms);
            }
        }
        Ok(routing)
    }

    /// The store of `kind`: `DATABASE_URL` when it is of that backend, else the explicit one.
    pub fn store(&self, kind: BackendKind) -> Option<&DatabaseConfig> {
        if self.default.backend() == kind {
            return Some(&self.default);
        }
        match kind {
            BackendKind::Sqlite => self.sqlite.as_ref(),
            BackendKind::Postgres => self.postgres.as_ref(),
        }
    }

    /// The mode of one repository (by accessor name).
    pub fn mode(&self, repository: &str) -> RouteMode {
        self.overrides.get(repository).copied().unwrap_or(self.default_mode)
    }

    /// Every repository with its mode, in declaration order.
    pub fn routes(&self) -> Vec<(&'static str, RouteMode)> {
        REPOSITORIES.iter().map(|r| (*r, self.mode(r))).collect()
    }

    /// Whether every repository is on the default store alone (no second store, no wrappers).
    pub fn is_single(&self) -> bool {
        let single = RouteMode::Single(self.default.backend());
        self.routes().iter().all(|(_, mode)| *mode == single)
    }

    /// Checks that every store a route needs is named.
    ///
    /// # Errors
    /// Config naming the repository, its mode and the variable to set.
    pub fn validate(&self) -> Result<()> {
        for (repository, mode) in self.routes() {
            for kind in [BackendKind::Sqlite, BackendKind::Postgres] {
                if mode.uses(kind) && self.store(kind).is_none() {
                    let var = match kind {
                        BackendKind::Sqlite => SQLITE_URL_VAR,
                        BackendKind::Postgres => POSTGRES_URL_VAR,
                    };
                    return Err(Error::config(format!(
                        "repository {repository} is routed {mode}, which needs the {kind} store: set {var}"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The store other than the default one that some route needs, if any.
    pub(crate) fn second_store(&self) -> Option<BackendKind> {
        let second = other(self.default.backend());
        self.routes()
            .iter()
            .any(|(_, mode)| mode.uses(second))
            .then_some(second)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn sqlite() -> DatabaseConfig {
        "sqlite://legacy.db".parse().expect("sqlite url")
    }

    const PG: &str = "postgres://app:hunter2@127.0.0.1:5432/synthlab";

    #[test]
    fn no_variables_mean_every_repository_on_the_default_store() {
        let routing = RoutingConfig::from_vars(&sqlite(), Vec::<(String, String)>::new()).expect("valid");
        assert!(routing.is_single());
        assert_eq!(routing.routes().len(), 15);
        assert!(
            routing
                .routes()
                .iter()
                .all(|(_, m)| *m == RouteMode::Single(BackendKind::Sqlite))
        );
        assert_eq!(routing.second_store(), None);
    }

    #[test]
    fn modes_parse_with_the_default_or_an_explicit_primary() {
        let s = BackendKind::Sqlite;
        let p = BackendKind::Postgres;
        assert_eq!(RouteMode::parse("sqlite", p).expect("ok"), RouteMode::Single(s));
        assert_eq!(RouteMode::parse(" Postgres ", s).expect("ok"), RouteMode::Single(p));
        assert_eq!(RouteMode::parse("dual", s).expect("ok"), RouteMode::Dual { primary: s });
        assert_eq!(
            RouteMode::parse("dual:postgres", s).expect("ok"),
            RouteMode::Dual { primary: p }
        );
        assert_eq!(
            RouteMode::parse("shadow", p).expect("ok"),
            RouteMode::Shadow { primary: p }
        );
        assert_eq!(
            RouteMode::parse("shadow:sqlite", p).expect("ok"),
            RouteMode::Shadow { primary: s }
        );
        for bad in ["", "mysql", "dual:mysql", "sqlite:postgres", "both", "dual:"] {
            let err = RouteMode::parse(bad, s).expect_err(bad);
            assert_eq!(err.kind(), ErrorKind::Config, "{bad}");
            assert!(err.to_string().contains("shadow:postgres"), "{err}");
        }
        for mode in ["sqlite", "postgres", "dual:sqlite", "shadow:postgres"] {
            assert_eq!(RouteMode::parse(mode, s).expect("ok").to_string(), mode);
        }
    }

    #[test]
    fn per_repository_overrides_and_the_default_route() {
        let routing = RoutingConfig::from_vars(
            &sqlite(),
            [
                ("SYNTHLAB_ROUTE_DEFAULT", "dual"),
                ("SYNTHLAB_ROUTE_EXPERIMENTS", "shadow"),
                ("SYNTHLAB_ROUTE_SYNTH_OUTCOMES", "postgres"),
                ("SYNTHLAB_POSTGRES_URL", PG),
                ("SYNTHLAB_DUAL_STRICT", "yes"),
                ("SYNTHLAB_SHADOW_BUDGET_MS", "7"),
                ("SYNTHLAB_DB_PATH", "ignored.db"),
                ("HOME", "/ignored"),
            ],
        )
        .expect("valid");
        assert_eq!(
            routing.mode("experiments"),
            RouteMode::Shadow {
                primary: BackendKind::Sqlite
            }
        );
        assert_eq!(routing.mode("synth_outcomes"), RouteMode::Single(BackendKind::Postgres));
        assert_eq!(
            routing.mode("synths"),
            RouteMode::Dual {
                primary: BackendKind::Sqlite
            }
        );
        assert!(routing.dual_strict);
        assert_eq!(routing.shadow_budget, Duration::from_millis(7));
        assert_eq!(routing.second_store(), Some(BackendKind::Postgres));
        assert!(!routing.is_single());
    }

    #[test]
    fn unknown_repositories_modes_and_settings_are_config_errors() {
        let cases: &[&[(&str, &str)]] = &[
            &[("SYNTHLAB_ROUTE_EXPERIMENT", "postgres")],
            &[("SYNTHLAB_ROUTE_experiments", "postgres")],
            &[("SYNTHLAB_ROUTE_", "postgres")],
            &[("SYNTHLAB_ROUTE_EXPERIMENTS", "mirror"), ("SYNTHLAB_POSTGRES_URL", PG)],
            &[("SYNTHLAB_DUAL_STRICT", "maybe")],
            &[("SYNTHLAB_SHADOW_BUDGET_MS", "fast")],
            &[("SYNTHLAB_POSTGRES_URL", "sqlite://wrong.db")],
            &[("SYNTHLAB_SQLITE_URL", "sqlite://other.db")],
            &[("SYNTHLAB_POSTGRES_URL", "mysql://app:hunter2@h/db")],
        ];
        for vars in cases {
            let err = RoutingConfig::from_vars(&sqlite(), vars.iter().copied()).expect_err("refused");
            assert_eq!(err.kind(), ErrorKind::Config, "{vars:?}: {err}");
            assert!(err.to_string().contains(vars[0].0), "names the variable: {err}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
        let err = RoutingConfig::from_vars(&sqlite(), [("SYNTHLAB_ROUTE_EXPERIMENT", "postgres")]).expect_err("x");
        assert!(err.to_string().contains("EXPERIMENTS"), "lists the known names: {err}");
    }

    #[test]
    fn a_route_needing_an_unnamed_store_is_a_config_error() {
        let parsed = RoutingConfig::from_vars(&sqlite(), [("SYNTHLAB_ROUTE_SYNTHS", "dual")]).expect("parses");
        let err = parsed.validate().expect_err("refused");
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.to_string().contains("SYNTHLAB_POSTGRES_URL"), "{err}");
        assert!(err.to_string().contains("synths"), "{err}");
        let pg: DatabaseConfig = PG.parse().expect("pg");
        let parsed = RoutingConfig::from_vars(&pg, [("SYNTHLAB_ROUTE_DEFAULT", "shadow")]).expect("parses");
        let err = parsed.validate().expect_err("refused");
        assert!(err.to_string().contains("SYNTHLAB_SQLITE_URL"), "{err}");
        let same = RoutingConfig::from_vars(&pg, [("SYNTHLAB_POSTGRES_URL", PG)]).expect("same store is fine");
        assert!(same.is_single());
        same.validate().expect("nothing needed");
    }
}
