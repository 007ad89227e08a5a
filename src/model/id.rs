//! Identifier generation in the legacy shapes (`prefix_` + lowercase hex).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn random_u64() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    hasher.write_u128(nanos);
    hasher.finish()
}

/// A random 64-bit seed (for the pinned id stream of a dual write).
pub(crate) fn random_seed() -> u64 {
    random_u64()
}

/// A new id `prefix_` followed by `hex_digits` random lowercase hex digits (at most 16).
///
/// Explorations and scenario nodes must use 8 digits (their CHECK constraints say so); other
/// tables use 12 so that bulk loads do not collide.
pub fn generate(prefix: &str, hex_digits: usize) -> String {
    let digits = hex_digits.clamp(1, 16);
    // Inside a dual write the id stream is pinned, so both stores get the same ids.
    let bits = super::replay::next_pinned_bits().unwrap_or_else(random_u64);
    let value = bits >> (64 - 4 * digits as u32);
    format!("{prefix}_{value:0digits$x}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_have_the_requested_shape_and_differ() {
        let a = super::generate("expl", 8);
        let b = super::generate("expl", 8);
        assert_eq!(a.len(), 13);
        assert!(a[5..].chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
    }
}
