//! Timestamps: one real type in the model, one canonical text shape in SQLite.
//!
//! The model holds [`Timestamp`] (UTC, microsecond precision, the precision of PostgreSQL's
//! `timestamptz`). The SQLite store keeps timestamps as text; we always write the fixed-width
//! shape `2025-12-01T10:00:00.123456+00:00`, which sorts as text in time order and which
//! Python's `datetime.fromisoformat` reads. On read every legacy shape is accepted.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

/// A point in time, UTC, at microsecond precision.
pub type Timestamp = DateTime<Utc>;

/// The current time, truncated to microseconds (what both backends can store exactly).
///
/// Inside a dual write (see `crate::cutover`) the instant is pinned, so that both stores
/// record the same value.
pub fn now() -> Timestamp {
    super::replay::pinned_now().unwrap_or_else(|| truncate(Utc::now()))
}

/// Drops sub-microsecond digits so that a value survives a round trip through either backend.
pub fn truncate(ts: Timestamp) -> Timestamp {
    ts.trunc_subsecs(6)
}

/// The canonical SQLite text of a timestamp: `YYYY-MM-DDTHH:MM:SS.ffffff+00:00`.
pub fn to_canonical(ts: &Timestamp) -> String {
    ts.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
}

/// Parses every timestamp shape found in legacy files: ISO 8601 with `T` or a space, with or
/// without fractional seconds, with an offset, `Z`, or no offset (meaning UTC, as SQLite's
/// `datetime('now')` writes). Returns `None` for anything else. Sub-microsecond digits are
/// truncated.
pub fn parse_legacy(text: &str) -> Option<Timestamp> {
    parse_legacy_exact(text).map(truncate)
}

/// Like [`parse_legacy`] but keeps sub-microsecond digits, so a caller can tell whether
/// storing the value at microsecond precision would lose anything.
pub fn parse_legacy_exact(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(ts) = DateTime::parse_from_rfc3339(text) {
        return Some(ts.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M:%S%.f%:z"] {
        if let Ok(ts) = DateTime::parse_from_str(text, format) {
            return Some(ts.with_timezone(&Utc));
        }
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Some(naive.and_utc());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_shape_is_fixed_width_and_round_trips() {
        let ts = parse_legacy("2025-12-01T10:00:00.123456+00:00").expect("parses");
        assert_eq!(to_canonical(&ts), "2025-12-01T10:00:00.123456+00:00");
        let whole = parse_legacy("2025-12-01 10:00:00").expect("parses");
        assert_eq!(to_canonical(&whole), "2025-12-01T10:00:00.000000+00:00");
    }

    #[test]
    fn legacy_shapes_mean_the_same_instant() {
        let a = parse_legacy("2025-12-01 10:00:00").expect("sqlite shape");
        let b = parse_legacy("2025-12-01T10:00:00Z").expect("zulu");
        let c = parse_legacy("2025-12-01T12:00:00+02:00").expect("offset");
        let d = parse_legacy("2025-12-01T10:00:00").expect("naive iso");
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(c, d);
        assert!(parse_legacy("yesterday").is_none());
    }
}
