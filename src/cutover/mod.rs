//! Gradual cutover: route each repository to SQLite, PostgreSQL, or both.
//!
//! A service moves to PostgreSQL one repository at a time by environment variables alone
//! (see [`RoutingConfig`] for the variables and `docs/cutover.md` for the runbook):
//!
//! | mode | writes | reads |
//! |---|---|---|
//! | `sqlite` / `postgres` | that store | that store |
//! | `dual[:P]` | primary `P`, then the secondary | primary |
//! | `shadow[:P]` | primary `P`, then the secondary | primary, compared with the secondary |
//!
//! `P` defaults to the backend of `DATABASE_URL`; naming it (`dual:postgres`) runs the same
//! mechanism the way back, with PostgreSQL answering and SQLite kept in step.
//!
//! **Dual writes**: the primary is written first and its result is the
//! caller's answer. When the primary fails, its error is returned and the secondary is *not*
//! written (nothing to keep in step). When the primary succeeds the same call runs on the
//! secondary with the same pinned clock and id stream (`model::replay`), so both stores hold
//! identical rows; a secondary failure is logged and counted, and fails the call only with
//! `SYNTHLAB_DUAL_STRICT=1` (the primary's write stays: there is no two-phase commit). A
//! call dropped by its caller between the two writes is counted as a failure too.
//! Outside units of work, dual writes of one store are serialised, so both stores apply
//! them in the same order.
//!
//! **Shadow mode** writes like dual mode (so the secondary does not drift) and runs each read
//! on both stores concurrently; the answers are compared as JSON values and a mismatch is
//! logged (repository, method, arguments, short diff) and counted. The caller always gets the
//! primary's answer, at most `SYNTHLAB_SHADOW_BUDGET_MS` later than the primary alone
//! would have given it; a secondary that takes longer is dropped and counted as a timeout.
//!
//! **Units of work** ([`crate::Store::transaction`]) on a routed store open one transaction
//! on each store; calls inside route as outside (dual writes inside both transactions; reads
//! from the primary only, not shadowed). When `work` succeeds the primary store commits
//! first, then the other; if the other's commit fails after the primary committed, that is a
//! counted dual-write failure (`(unit of work)`/`commit`) when the other store only holds
//! copies, else an error. A unit needs one primary store: routes with different primaries
//! make `transaction` fail with InvalidInput.
//!
//! **Counters** per repository and method: [`crate::Store::cutover_counters`].

mod config;
mod counters;
mod routed;
mod wiring;

pub use config::{
    DEFAULT_SHADOW_BUDGET, DUAL_STRICT_VAR, POSTGRES_URL_VAR, REPOSITORIES, ROUTE_DEFAULT_VAR, ROUTE_PREFIX, RouteMode,
    RoutingConfig, SHADOW_BUDGET_VAR, SQLITE_URL_VAR,
};
pub use counters::{CUTOVER_EVENTS_METRIC, CounterRow, format_counters};
pub use wiring::{RouteRow, RoutingTable, StoreRow};

pub(crate) use routed::{Routed, short_key};
pub(crate) use wiring::{Cutover, Router, transaction};
