//! Input checks that make both backends see (and give back) the same values.
//!
//! The rules behind [`super::Input`] (which every repository call's arguments pass, see
//! `src/repo/`), so that every backend refuses or normalises a value in the same way before it
//! reaches the database:
//! - PostgreSQL refuses a NUL character in `text` and `jsonb` (SQLite stores it): refused here
//!   for both, as [`crate::ErrorKind::InvalidInput`].
//! - SQLite turns a NaN bound to a REAL column into NULL and writes -0.0 as the integer 0;
//!   PostgreSQL keeps both: non-finite numbers are refused, -0.0 becomes 0.0.
//! - Timestamps outside the years 1–9999 are refused on both (SQLite text and Python stop at
//!   9999); the others are truncated to microseconds.
//! - jsonb prints numbers in plain decimal, so a float written by serde as `1e+16` comes back
//!   from PostgreSQL as the integer `10000000000000000` while SQLite keeps the float: integral
//!   floats of magnitude ≥ 1e16 that fit a 64-bit integer are stored as that integer on both.

use serde_json::{Number, Value};

use super::Timestamp;
use crate::{Error, Result};

/// Refuses text PostgreSQL cannot store (a NUL character).
pub(crate) fn text(value: &str, what: &str) -> Result<()> {
    if value.contains('\0') {
        return Err(Error::invalid_input(format!("{what} must not contain a NUL character")));
    }
    Ok(())
}

/// A finite float, with -0.0 replaced by 0.0.
pub(crate) fn finite(value: f64, what: &str) -> Result<f64> {
    if !value.is_finite() {
        return Err(Error::invalid_input(format!(
            "{what} must be a finite number, got {value}"
        )));
    }
    Ok(if value == 0.0 { 0.0 } else { value })
}

/// [`finite`] for an optional value.
pub(crate) fn opt_finite(value: Option<f64>, what: &str) -> Result<Option<f64>> {
    value.map(|v| finite(v, what)).transpose()
}

/// The years both backends store and give back as the same instant (and that the legacy
/// application's `datetime.fromisoformat` and SQLite's `julianday` read).
pub(crate) const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// A timestamp both backends store identically: years 1–9999 (SQLite would write `+10000-…`
/// text nobody reads back, PostgreSQL refuses some of them), truncated to microseconds.
pub(crate) fn timestamp(value: Timestamp, what: &str) -> Result<Timestamp> {
    use chrono::Datelike;
    if !YEARS.contains(&value.year()) {
        return Err(Error::invalid_input(format!(
            "{what} must be in the years {} to {}, got {value}",
            YEARS.start(),
            YEARS.end()
        )));
    }
    Ok(super::truncate(value))
}

/// A JSON value both backends store and give back identically (see the module docs).
pub(crate) fn json(value: &Value, what: &str) -> Result<Value> {
    Ok(match value {
        Value::String(s) => {
            text(s, what)?;
            value.clone()
        }
        Value::Number(n) => Value::Number(number(n)),
        Value::Array(items) => Value::Array(items.iter().map(|v| json(v, what)).collect::<Result<_>>()?),
        Value::Object(map) => {
            let mut out = serde_json::Map::with_capacity(map.len());
            for (key, v) in map {
                text(key, what)?;
                out.insert(key.clone(), json(v, what)?);
            }
            Value::Object(out)
        }
        Value::Null | Value::Bool(_) => value.clone(),
    })
}

/// 2^64 and -2^63 as floats: the range serde reads an integer literal into.
const U64_END: f64 = 18_446_744_073_709_551_616.0;
const I64_START: f64 = -9_223_372_036_854_775_808.0;

fn number(n: &Number) -> Number {
    let Some(f) = n.as_f64().filter(|_| n.is_f64()) else {
        return n.clone();
    };
    if f == 0.0 {
        return Number::from_f64(0.0).unwrap_or_else(|| n.clone());
    }
    if f.fract() == 0.0 && f.abs() >= 1e16 {
        if f > 0.0 && f < U64_END {
            return Number::from(f as u64);
        }
        if (I64_START..0.0).contains(&f) {
            return Number::from(f as i64);
        }
    }
    n.clone()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn big_integral_floats_become_integers_and_others_stay() {
        let v = super::json(&json!([1e16, -1e16, 1.5e16, 1e15, 1e20, -0.0, 0.5, 7]), "x").expect("valid");
        assert_eq!(
            v,
            json!([
                10000000000000000u64,
                -10000000000000000i64,
                15000000000000000u64,
                1e15,
                1e20,
                0.0,
                0.5,
                7
            ])
        );
        assert!(v[5].as_f64().is_some_and(|z| z.is_sign_positive()));
        assert!(v[3].is_f64() && v[4].is_f64());
    }

    #[test]
    fn nul_is_refused_in_strings_and_keys() {
        assert!(super::json(&json!({"a": ["x\u{0}y"]}), "x").is_err());
        assert!(super::json(&json!({"a\u{0}": 1}), "x").is_err());
        assert!(super::text("ok", "x").is_ok());
    }

    #[test]
    fn floats_must_be_finite() {
        assert!(super::finite(f64::NAN, "x").is_err());
        assert!(super::finite(f64::INFINITY, "x").is_err());
        assert_eq!(super::finite(-0.0, "x").map(f64::to_bits).ok(), Some(0.0f64.to_bits()));
    }
}
