//! Replaying one write on two stores: a pinned clock and a pinned id stream.
//!
//! A dual write (see `crate::cutover`) runs the same repository call on two stores. Backends
//! take "now" ([`super::now`]) and sometimes generate ids ([`super::id::generate`]) inside
//! the call; left alone, the two stores would record instants microseconds apart and
//! different ids. Inside [`pinned`], both return values fixed for the scope: every call of
//! `now()` gives the same instant, and the k-th generated id is a function of the scope's
//! seed and k only. Running both halves of a dual write under scopes with the same instant
//! and seed therefore writes identical rows.
//!
//! The scope is a tokio task-local: it covers the async part of a repository method, which
//! is where both backends call `now()` and `generate()` (never inside a blocking SQLite
//! closure; ARCHITECTURE.md lists this as an invariant, and the cutover tests check it by
//! comparing both stores after every mode).

use std::cell::Cell;
use std::future::Future;

use super::Timestamp;

struct Pinned {
    now: Timestamp,
    seed: u64,
    drawn: Cell<u64>,
}

tokio::task_local! {
    static PINNED: Pinned;
}

/// Runs `future` with `now()` pinned to `now` and generated ids drawn from `seed`.
pub(crate) async fn pinned<F: Future>(now: Timestamp, seed: u64, future: F) -> F::Output {
    PINNED
        .scope(
            Pinned {
                now,
                seed,
                drawn: Cell::new(0),
            },
            future,
        )
        .await
}

/// The pinned instant, inside a [`pinned`] scope.
pub(crate) fn pinned_now() -> Option<Timestamp> {
    PINNED.try_with(|p| p.now).ok()
}

/// The next 64 id bits of the pinned stream, inside a [`pinned`] scope.
pub(crate) fn next_pinned_bits() -> Option<u64> {
    PINNED
        .try_with(|p| {
            let k = p.drawn.get();
            p.drawn.set(k.wrapping_add(1));
            splitmix64(p.seed ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        })
        .ok()
}

/// SplitMix64: a fixed, well-mixed function of its input.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_same_seed_and_instant_replay_the_same_values() {
        let instant = crate::model::now();
        let draw = || async {
            let a = crate::model::id::generate("doc", 12);
            let b = crate::model::id::generate("doc", 12);
            (crate::model::now(), a, b)
        };
        let first = pinned(instant, 42, draw()).await;
        let second = pinned(instant, 42, draw()).await;
        assert_eq!(first, second);
        assert_eq!(first.0, instant);
        assert_ne!(first.1, first.2, "ids within one scope differ");
        let other_seed = pinned(instant, 43, draw()).await;
        assert_ne!(first.1, other_seed.1);
        assert!(pinned_now().is_none(), "outside a scope nothing is pinned");
    }
}
