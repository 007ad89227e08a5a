//! How a [`Store`] is built and run over two stores: connecting, choosing each repository's
//! implementation, the routing table, the counters, and units of work across both stores.

use std::sync::Arc;

use serde::Serialize;

use super::config::{RouteMode, RoutingConfig, other};
use super::counters::{CounterRow, Event};
use super::routed::{Routed, Shared};
use crate::config::{BackendKind, DatabaseConfig};
use crate::store::{Backend, Repositories};
use crate::{ConnectOptions, Error, Result, Store};

/// The routing state of a store with two stores connected.
#[derive(Clone)]
pub(crate) struct Cutover {
    /// Every repository's mode, in declaration order.
    routes: Vec<(&'static str, RouteMode)>,
    /// The second store (the one `DATABASE_URL` does not name).
    other_config: DatabaseConfig,
    other: Backend,
    shared: Arc<Shared>,
}

impl Cutover {
    /// The repositories: each from the store its route names, wrapped when it has two.
    fn repositories(&self, default: &Backend, in_unit_of_work: bool) -> Repositories {
        let here = Repositories::for_backend(default);
        let there = Repositories::for_backend(&self.other);
        let (sqlite, postgres) = match default.kind() {
            BackendKind::Sqlite => (here, there),
            BackendKind::Postgres => (there, here),
        };
        let router = Router {
            default: default.kind(),
            routes: &self.routes,
            shared: &self.shared,
            in_unit_of_work,
        };
        Repositories::routed(&sqlite, &postgres, &router)
    }
}

/// Chooses each repository's implementation from its route (used by `repositories!`).
pub(crate) struct Router<'a> {
    default: BackendKind,
    routes: &'a [(&'static str, RouteMode)],
    shared: &'a Arc<Shared>,
    in_unit_of_work: bool,
}

/// One repository's implementation: a store's own, or a [`Routed`] pair.
pub(crate) enum Choice<T: ?Sized> {
    Single(Arc<T>),
    Routed(Routed<T>),
}

impl<T: ?Sized> Choice<T> {
    /// The trait object; `wrap` turns a routed pair into one (the unsizing needs the
    /// concrete trait, which only the caller names).
    pub(crate) fn into_arc(self, wrap: impl FnOnce(Routed<T>) -> Arc<T>) -> Arc<T> {
        match self {
            Choice::Single(repository) => repository,
            Choice::Routed(routed) => wrap(routed),
        }
    }
}

impl Router<'_> {
    pub(crate) fn route<T: ?Sized>(&self, repository: &'static str, sqlite: &Arc<T>, postgres: &Arc<T>) -> Choice<T> {
        let pick = |kind| match kind {
            BackendKind::Sqlite => sqlite.clone(),
            BackendKind::Postgres => postgres.clone(),
        };
        let mode = self
            .routes
            .iter()
            .find(|(name, _)| *name == repository)
            .map(|(_, mode)| *mode);
        match mode {
            // Routes are built from the same list of names; a missing one would be the default.
            None => Choice::Single(pick(self.default)),
            Some(RouteMode::Single(kind)) => Choice::Single(pick(kind)),
            Some(mode @ (RouteMode::Dual { primary } | RouteMode::Shadow { primary })) => Choice::Routed(Routed {
                repository,
                primary: pick(primary),
                secondary: pick(other(primary)),
                primary_kind: primary,
                shadow: mode.is_shadow(),
                in_unit_of_work: self.in_unit_of_work,
                shared: self.shared.clone(),
            }),
        }
    }
}

/// One store of a [`RoutingTable`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreRow {
    /// Its backend.
    #[serde(serialize_with = "kind_str")]
    pub backend: BackendKind,
    /// Its URL, redacted.
    pub url: String,
    /// Whether it is the store of `DATABASE_URL`.
    pub default: bool,
}

/// One repository of a [`RoutingTable`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteRow {
    /// The accessor name (`experiments`).
    pub repository: String,
    /// Its mode.
    pub mode: RouteMode,
    /// The store whose answers the caller gets.
    #[serde(serialize_with = "kind_str")]
    pub primary: BackendKind,
    /// The store that also receives its writes (and reads, in shadow mode).
    #[serde(serialize_with = "opt_kind_str")]
    pub secondary: Option<BackendKind>,
}

fn kind_str<S: serde::Serializer>(kind: &BackendKind, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(kind.as_str())
}

fn opt_kind_str<S: serde::Serializer>(kind: &Option<BackendKind>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match kind {
        Some(kind) => s.serialize_str(kind.as_str()),
        None => s.serialize_none(),
    }
}

/// Where each repository of a store goes (what `synthlab-db status` prints).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoutingTable {
    /// The connected stores, the default first.
    pub stores: Vec<StoreRow>,
    /// Every repository, in declaration order.
    pub routes: Vec<RouteRow>,
    /// Whether a failed secondary write fails the call.
    pub dual_strict: bool,
    /// The shadow-read budget, in milliseconds.
    pub shadow_budget_ms: u64,
}

impl std::fmt::Display for RoutingTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for store in &self.stores {
            let role = if store.default { " (DATABASE_URL)" } else { "" };
            writeln!(f, "store {:<9} {}{role}", store.backend.as_str(), store.url)?;
        }
        writeln!(
            f,
            "{:<22} {:<16} {:<9} {:<9}",
            "repository", "mode", "primary", "secondary"
        )?;
        for route in &self.routes {
            writeln!(
                f,
                "{:<22} {:<16} {:<9} {}",
                route.repository,
                route.mode.to_string(),
                route.primary.as_str(),
                route.secondary.map_or("-", BackendKind::as_str)
            )?;
        }
        write!(
            f,
            "dual strict: {}; shadow budget: {} ms",
            if self.dual_strict { "on" } else { "off" },
            self.shadow_budget_ms
        )
    }
}

impl Store {
    /// Connects the stores `routing` needs and routes each repository (see
    /// [`crate::cutover`]). With every repository on the default store this is
    /// [`Store::connect_with`] without reading the environment. Logs the routing table.
    ///
    /// # Errors
    /// Config when a route needs a store nobody named (or a backend this build lacks);
    /// otherwise as [`Store::connect`], for either store.
    pub async fn connect_routed(routing: &RoutingConfig, options: ConnectOptions) -> Result<Store> {
        routing.validate()?;
        let mut store = Store::connect_single(&routing.default, options).await?;
        if let Some(second) = routing.second_store() {
            let other_config = routing
                .store(second)
                .cloned()
                .ok_or_else(|| Error::config(format!("no {second} store configured")))?;
            let other = Store::connect_single(&other_config, options).await?;
            let cutover = Cutover {
                routes: routing.routes(),
                other_config,
                other: other.backend,
                shared: Arc::new(Shared::new(routing.dual_strict, routing.shadow_budget)),
            };
            store.repositories = cutover.repositories(&store.backend, false);
            store.cutover = Some(Arc::new(cutover));
        }
        let table = store.routing_table();
        let routes: Vec<String> = table
            .routes
            .iter()
            .map(|r| format!("{}={}", r.repository, r.mode))
            .collect();
        let stores: Vec<String> = table
            .stores
            .iter()
            .map(|s| format!("{}={}", s.backend, s.url))
            .collect();
        tracing::info!(
            stores = %stores.join(", "),
            routes = %routes.join(", "),
            dual_strict = table.dual_strict,
            shadow_budget_ms = table.shadow_budget_ms,
            "routing table"
        );
        Ok(store)
    }

    /// Where each repository goes, and the connected stores.
    pub fn routing_table(&self) -> RoutingTable {
        let mut stores = vec![StoreRow {
            backend: self.backend(),
            url: self.config.redacted_url(),
            default: true,
        }];
        let (routes, dual_strict, budget) = match &self.cutover {
            Some(cutover) => {
                stores.push(StoreRow {
                    backend: cutover.other.kind(),
                    url: cutover.other_config.redacted_url(),
                    default: false,
                });
                (cutover.routes.clone(), cutover.shared.strict, cutover.shared.budget)
            }
            None => (
                RoutingConfig::single(self.config.clone()).routes(),
                false,
                super::config::DEFAULT_SHADOW_BUDGET,
            ),
        };
        RoutingTable {
            stores,
            routes: routes
                .into_iter()
                .map(|(repository, mode)| RouteRow {
                    repository: repository.to_owned(),
                    mode,
                    primary: mode.primary(),
                    secondary: mode.secondary(),
                })
                .collect(),
            dual_strict,
            shadow_budget_ms: u64::try_from(budget.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// The dual-write and shadow-read counters since the store connected, one row per
    /// repository method that ran in dual or shadow mode (empty without such routes).
    pub fn cutover_counters(&self) -> Vec<CounterRow> {
        self.cutover
            .as_ref()
            .map(|c| c.shared.counters.snapshot())
            .unwrap_or_default()
    }

    /// One connected store on its own (no routing): the default store, or the second store
    /// of a routed store; `None` when no store of `kind` is connected. For inspection and
    /// comparison (status, verification), not for services.
    pub fn backend_store(&self, kind: BackendKind) -> Option<Store> {
        let (config, backend) = if self.backend() == kind {
            (self.config.clone(), self.backend.clone())
        } else {
            let cutover = self.cutover.as_ref().filter(|c| c.other.kind() == kind)?;
            (cutover.other_config.clone(), cutover.other.clone())
        };
        Some(Store {
            config,
            repositories: Repositories::for_backend(&backend),
            backend,
            cutover: None,
        })
    }
}

const UNIT_OF_WORK: &str = "(unit of work)";

/// A unit of work over both stores of a routed store (see [`crate::cutover`]).
pub(crate) async fn transaction<T>(
    store: &Store,
    cutover: &Arc<Cutover>,
    work: impl AsyncFnOnce(&Store) -> Result<T>,
) -> Result<T> {
    let mut primaries: Vec<(&str, RouteMode)> = Vec::new();
    for (repository, mode) in &cutover.routes {
        if mode.secondary().is_some() && !primaries.iter().any(|(_, m)| m.primary() == mode.primary()) {
            primaries.push((repository, *mode));
        }
    }
    if primaries.len() > 1 {
        let routes: Vec<String> = primaries.iter().map(|(r, m)| format!("{r}={m}")).collect();
        return Err(Error::invalid_input(format!(
            "a unit of work needs one primary store, but dual/shadow routes disagree ({}): \
             route them with the same primary",
            routes.join(", ")
        )));
    }
    let first_kind = primaries.first().map_or(store.backend(), |(_, m)| m.primary());
    let second_kind = other(first_kind);
    // The second store's commit may fail without failing the unit only if it holds nothing
    // but copies (no repository answers from it).
    let second_holds_copies_only = cutover.routes.iter().all(|(_, m)| m.primary() != second_kind);

    let tx_default = store.backend.begin().await?;
    let tx_other = match cutover.other.begin().await {
        Ok(tx) => tx,
        Err(err) => {
            let _ = tx_default.finish(false).await;
            return Err(err);
        }
    };
    let tx_cutover = Arc::new(Cutover {
        other: tx_other,
        ..Cutover::clone(cutover)
    });
    let tx_store = Store {
        config: store.config.clone(),
        repositories: tx_cutover.repositories(&tx_default, true),
        backend: tx_default,
        cutover: Some(tx_cutover.clone()),
    };
    let outcome = work(&tx_store).await;
    let (first, second) = if tx_store.backend.kind() == first_kind {
        (&tx_store.backend, &tx_cutover.other)
    } else {
        (&tx_cutover.other, &tx_store.backend)
    };
    let first_done = first.finish(outcome.is_ok()).await;
    let commit_second = outcome.is_ok() && first_done.is_ok();
    let second_done = second.finish(commit_second).await;
    let value = outcome?;
    first_done?;
    let counters = &cutover.shared.counters;
    counters.record(UNIT_OF_WORK, "commit", Event::DualWrite);
    if let Err(err) = second_done {
        counters.record(UNIT_OF_WORK, "commit", Event::DualWriteFailure);
        tracing::warn!(
            committed = %first_kind,
            failed = %second_kind,
            error = %err,
            "unit of work: committed on the primary store, not on the other store"
        );
        if !second_holds_copies_only || cutover.shared.strict {
            return Err(Error::new(
                err.kind(),
                format!(
                    "the unit of work committed on {first_kind} but not on {second_kind}; the stores differ: {}",
                    err.message()
                ),
            )
            .with_source(err));
        }
    }
    Ok(value)
}
