//! [`Routed`]: one repository over two stores, with the two behaviours written once —
//! [`Routed::write`] (dual write) and [`Routed::read`] (shadow read). `#[repository]` (on each
//! trait in `src/repo/`) generates the trait's impl for `Routed<dyn Trait>`: a `#[write]`
//! method delegates to `write`, a `#[read]` method to `read`.

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::counters::{Counters, Event};
use crate::config::BackendKind;
use crate::{Error, ErrorKind, Result};

/// What every routed repository of one store shares.
#[derive(Debug)]
pub(crate) struct Shared {
    /// A failed secondary write fails the call.
    pub(crate) strict: bool,
    /// How much longer than the primary a shadow read waits for the secondary.
    pub(crate) budget: Duration,
    /// Serialises dual writes outside units of work, so both stores apply them in one order.
    pub(crate) write_lock: tokio::sync::Mutex<()>,
    /// Counters per repository and method.
    pub(crate) counters: Counters,
}

impl Shared {
    pub(crate) fn new(strict: bool, budget: Duration) -> Self {
        Shared {
            strict,
            budget,
            write_lock: tokio::sync::Mutex::new(()),
            counters: Counters::default(),
        }
    }
}

/// One repository over two stores (dual or shadow mode).
pub(crate) struct Routed<R: ?Sized> {
    pub(crate) repository: &'static str,
    pub(crate) primary: Arc<R>,
    pub(crate) secondary: Arc<R>,
    pub(crate) primary_kind: BackendKind,
    /// Reads are compared against the secondary (outside units of work).
    pub(crate) shadow: bool,
    /// Built for a unit of work: no write lock (the transactions order the writes) and no
    /// shadow reads (a read cancelled on the budget would break the unit's connection).
    pub(crate) in_unit_of_work: bool,
    pub(crate) shared: Arc<Shared>,
}

impl<R: ?Sized> Routed<R> {
    fn secondary_kind(&self) -> BackendKind {
        super::config::other(self.primary_kind)
    }

    /// A dual write: the primary first; when it fails its error is the answer and the
    /// secondary is not written. Then the secondary, under the same pinned clock and id
    /// stream (so both stores record the same instants and generated ids). A secondary
    /// failure is logged and counted, and fails the call only in strict mode; a secondary
    /// result that differs from the primary's is logged and counted. The caller gets the
    /// primary's result.
    pub(crate) async fn write<T, P, S>(
        &self,
        method: &'static str,
        key: impl FnOnce() -> String,
        primary: P,
        secondary: S,
    ) -> Result<T>
    where
        T: Serialize,
        P: Future<Output = Result<T>>,
        S: Future<Output = Result<T>>,
    {
        let _order = match self.in_unit_of_work {
            true => None,
            false => Some(self.shared.write_lock.lock().await),
        };
        let now = crate::model::now();
        let seed = crate::model::id::random_seed();
        let value = crate::model::replay::pinned(now, seed, primary).await?;
        // A caller that drops this call now leaves the secondary unwritten: count it.
        let abandoned = Abandoned {
            routed: self.repository,
            method,
            shared: &self.shared,
            armed: true,
        };
        let secondary = crate::model::replay::pinned(now, seed, secondary).await;
        abandoned.disarm();
        let counters = &self.shared.counters;
        counters.record(self.repository, method, Event::DualWrite);
        match secondary {
            Ok(other) => {
                if let Some(diff) = differs(&value, &other) {
                    counters.record(self.repository, method, Event::DualWriteMismatch);
                    tracing::warn!(
                        repository = self.repository,
                        method,
                        key = %key(),
                        primary = %self.primary_kind,
                        diff = %diff,
                        "dual write: the secondary returned another value than the primary"
                    );
                }
            }
            Err(err) => {
                counters.record(self.repository, method, Event::DualWriteFailure);
                tracing::warn!(
                    repository = self.repository,
                    method,
                    key = %key(),
                    primary = %self.primary_kind,
                    secondary = %self.secondary_kind(),
                    error = %err,
                    "dual write: the secondary write failed after the primary succeeded"
                );
                if self.shared.strict {
                    return Err(Error::new(
                        ErrorKind::Other,
                        format!(
                            "dual write {}.{method}: the primary ({}) succeeded and stays written, but the \
                             secondary ({}) failed: {err}",
                            self.repository,
                            self.primary_kind,
                            self.secondary_kind()
                        ),
                    )
                    .with_source(err));
                }
            }
        }
        Ok(value)
    }

    /// A read: from the primary; in shadow mode the secondary runs the same read
    /// concurrently and the answers are compared as values (`serde_json::to_value`). The
    /// caller gets the primary's answer and waits at most the budget longer than the primary
    /// took; a secondary still running then is dropped and counted as a timeout.
    pub(crate) async fn read<T, P, S>(
        &self,
        method: &'static str,
        key: impl FnOnce() -> String,
        primary: P,
        secondary: S,
    ) -> Result<T>
    where
        T: Serialize,
        P: Future<Output = Result<T>>,
        S: Future<Output = Result<T>>,
    {
        if !self.shadow || self.in_unit_of_work {
            return primary.await;
        }
        let mut secondary = std::pin::pin!(secondary);
        let mut early = None;
        let answer = {
            let mut primary = std::pin::pin!(primary);
            loop {
                tokio::select! {
                    biased;
                    answer = &mut primary => break answer,
                    other = &mut secondary, if early.is_none() => early = Some(other),
                }
            }
        };
        let other = match early {
            Some(other) => Some(other),
            None => tokio::time::timeout(self.shared.budget, secondary).await.ok(),
        };
        self.compare(method, key, &answer, other);
        answer
    }

    fn compare<T: Serialize>(
        &self,
        method: &'static str,
        key: impl FnOnce() -> String,
        answer: &Result<T>,
        other: Option<Result<T>>,
    ) {
        let counters = &self.shared.counters;
        counters.record(self.repository, method, Event::ShadowRead);
        let Some(other) = other else {
            counters.record(self.repository, method, Event::ShadowTimeout);
            tracing::info!(
                repository = self.repository,
                method,
                key = %key(),
                budget_ms = self.shared.budget.as_millis() as u64,
                "shadow read: the secondary did not answer within the budget"
            );
            return;
        };
        let diff = match (answer, &other) {
            (Ok(value), Ok(other)) => differs(value, other),
            (Err(a), Err(b)) if a.kind() == b.kind() => None,
            (Ok(_), Err(err)) => {
                counters.record(self.repository, method, Event::ShadowError);
                tracing::warn!(
                    repository = self.repository,
                    method,
                    key = %key(),
                    secondary = %self.secondary_kind(),
                    error = %err,
                    "shadow read: the secondary failed where the primary answered"
                );
                return;
            }
            (Err(a), Ok(_)) => Some(format!("primary failed ({}), secondary answered", a.kind())),
            (Err(a), Err(b)) => Some(format!(
                "primary failed ({}), secondary failed ({})",
                a.kind(),
                b.kind()
            )),
        };
        if let Some(diff) = diff {
            counters.record(self.repository, method, Event::ShadowMismatch);
            tracing::warn!(
                repository = self.repository,
                method,
                key = %key(),
                primary = %self.primary_kind,
                diff = %diff,
                "shadow read mismatch"
            );
        }
    }
}

/// Counts a dual write whose caller dropped it after the primary succeeded and before the
/// secondary finished (a cancelled request): the secondary may lack the write.
struct Abandoned<'a> {
    routed: &'static str,
    method: &'static str,
    shared: &'a Shared,
    armed: bool,
}

impl Abandoned<'_> {
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for Abandoned<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.shared
                .counters
                .record(self.routed, self.method, Event::DualWriteFailure);
            tracing::warn!(
                repository = self.routed,
                method = self.method,
                "dual write abandoned by its caller after the primary succeeded: the secondary may lack it"
            );
        }
    }
}

/// `None` when both values serialise to the same JSON value, else a short diff.
fn differs<T: Serialize>(primary: &T, secondary: &T) -> Option<String> {
    match (serde_json::to_value(primary), serde_json::to_value(secondary)) {
        (Ok(a), Ok(b)) if a == b => None,
        (Ok(a), Ok(b)) => Some(short_diff(&a, &b)),
        (Err(err), _) | (_, Err(err)) => Some(format!("cannot compare: {err}")),
    }
}

const MAX_DIFFS: usize = 3;
const MAX_SHOWN: usize = 60;

/// Up to three differing paths, `$.items[0].name: "a" ≠ "b"`, values cut to 60 characters.
pub(crate) fn short_diff(primary: &Value, secondary: &Value) -> String {
    let mut found = Vec::new();
    walk("$", primary, secondary, &mut found);
    let more = found.len().saturating_sub(MAX_DIFFS);
    let mut text = found.into_iter().take(MAX_DIFFS).collect::<Vec<_>>().join("; ");
    if more > 0 {
        text.push_str(&format!("; … {more} more"));
    }
    text
}

fn walk(path: &str, a: &Value, b: &Value, found: &mut Vec<String>) {
    if found.len() >= 50 {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (key, va) in x {
                match y.get(key) {
                    Some(vb) => walk(&format!("{path}.{key}"), va, vb, found),
                    None => found.push(format!("{path}.{key}: only in primary")),
                }
            }
            for key in y.keys().filter(|k| !x.contains_key(*k)) {
                found.push(format!("{path}.{key}: only in secondary"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                walk(&format!("{path}[{i}]"), va, vb, found);
            }
            if x.len() != y.len() {
                found.push(format!("{path}: {} items ≠ {} items", x.len(), y.len()));
            }
        }
        _ if a != b => found.push(format!("{path}: {} ≠ {}", shown(a), shown(b))),
        _ => {}
    }
}

fn shown(value: &Value) -> String {
    cut(&value.to_string(), MAX_SHOWN)
}

fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// The arguments of a call, `Debug`-formatted and cut to 160 characters (the "key" of log
/// lines). Built only when something is logged.
pub(crate) fn short_key(args: &[&dyn Debug]) -> String {
    let text = args.iter().map(|a| format!("{a:?}")).collect::<Vec<_>>().join(", ");
    cut(&text, 160)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_diff_names_paths_and_cuts_long_values() {
        let a = json!({"items": [{"name": "a", "n": 1}], "total": 1, "only_a": true});
        let b = json!({"items": [{"name": "b", "n": 1}], "total": 2});
        let diff = short_diff(&a, &b);
        assert!(diff.contains("$.items[0].name: \"a\" ≠ \"b\""), "{diff}");
        assert!(diff.contains("$.only_a: only in primary"), "{diff}");
        assert!(diff.contains("$.total: 1 ≠ 2"), "{diff}");
        let long = short_diff(&json!("x".repeat(500)), &json!("y"));
        assert!(long.chars().count() < 100, "{long}");
        let many = short_diff(&json!([1, 2, 3, 4, 5]), &json!([5, 4, 3, 2, 1]));
        assert!(many.ends_with("; … 1 more"), "{many}");
    }

    #[test]
    fn short_key_formats_the_arguments() {
        assert_eq!(short_key(&[&"exp_1", &3]), "\"exp_1\", 3");
        assert_eq!(short_key(&[]), "");
        assert!(short_key(&[&"z".repeat(1000)]).chars().count() <= 161);
    }
}
