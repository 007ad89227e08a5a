//! Legacy SQLite values → the typed values of the migrated schema, and the checks that make a
//! row "bad". A conversion either keeps the meaning exactly or refuses with a reason: nothing is
//! ever altered silently.

use std::borrow::Cow;

use super::spec::{Check, ColType, ColumnSpec};

/// A value as SQLite stores it (backend-neutral mirror of SQLite's storage classes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Raw<'a> {
    /// NULL.
    Null,
    /// INTEGER.
    Integer(i64),
    /// REAL.
    Real(f64),
    /// TEXT, as stored (not necessarily UTF-8).
    Text(&'a [u8]),
    /// BLOB.
    Blob(&'a [u8]),
}

/// A value of the target schema.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    /// SQL NULL.
    Null,
    /// text.
    Text(Cow<'a, str>),
    /// bigint.
    Int(i64),
    /// double precision (bit-exact).
    Float(f64),
    /// timestamptz as microseconds since the Unix epoch.
    Timestamp(i64),
    /// jsonb, as validated JSON text.
    Json(Cow<'a, str>),
}

fn utf8(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let bad: Vec<String> = bytes[at..bytes.len().min(at + 4)]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("text is not valid UTF-8 (bytes {} at offset {at})", bad.join(" "))
    })
}

/// 2^63 as a double: integers in [-2^63, 2^63) fit in i64.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(40).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// Whether `text` is a plain decimal number (what SQLite's numeric affinity would accept).
fn is_decimal(text: &str) -> bool {
    let t = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(at) => (&t[..at], Some(&t[at + 1..])),
        None => (t, None),
    };
    let digits = mantissa.replacen('.', "", 1);
    let mantissa_ok = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && mantissa != ".";
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

/// Converts one stored value of `column`; `Err` carries the reason the row is bad.
pub(crate) fn convert<'a>(column: &ColumnSpec, raw: Raw<'a>) -> Result<Value<'a>, String> {
    let value = match (column.ty, raw) {
        (_, Raw::Null) => {
            if column.not_null {
                return Err("NULL in a NOT NULL column".to_owned());
            }
            return Ok(Value::Null);
        }
        (ty, Raw::Blob(bytes)) => {
            return Err(format!("a BLOB of {} bytes in a {} column", bytes.len(), ty.pg_name()));
        }
        (ColType::Text, Raw::Text(bytes)) => {
            let text = utf8(bytes)?;
            if text.contains('\0') {
                return Err("text contains a NUL character (PostgreSQL text cannot hold it)".to_owned());
            }
            Value::Text(Cow::Borrowed(text))
        }
        (ColType::Text, Raw::Integer(i)) => Value::Text(Cow::Owned(i.to_string())),
        (ColType::Text, Raw::Real(f)) => return Err(format!("a real number ({f:?}) in a text column")),
        (ColType::Int, Raw::Integer(i)) => Value::Int(i),
        (ColType::Int, Raw::Real(f)) => {
            // Exactly integral and in range: what INTEGER affinity would have stored.
            if f.fract() == 0.0 && (-TWO_POW_63..TWO_POW_63).contains(&f) {
                Value::Int(f as i64)
            } else {
                return Err(format!("non-integer number {f:?} in an integer column"));
            }
        }
        (ColType::Int, Raw::Text(bytes)) => {
            let text = utf8(bytes)?;
            match text.parse::<i64>() {
                Ok(i) => Value::Int(i),
                Err(_) => return Err(format!("non-numeric value '{}' in an integer column", shorten(text))),
            }
        }
        (ColType::Float, Raw::Real(f)) => Value::Float(f),
        (ColType::Float, Raw::Integer(i)) => {
            let f = i as f64;
            if f as i128 != i128::from(i) || f >= TWO_POW_63 {
                return Err(format!("integer {i} cannot be stored exactly as double precision"));
            }
            Value::Float(f)
        }
        (ColType::Float, Raw::Text(bytes)) => {
            let text = utf8(bytes)?;
            match text.parse::<f64>() {
                Ok(f) if is_decimal(text) && f.is_finite() => Value::Float(f),
                _ => return Err(format!("non-numeric value '{}' in a numeric column", shorten(text))),
            }
        }
        (ColType::Timestamp, Raw::Text(bytes)) => {
            let text = utf8(bytes)?;
            let Some(ts) = crate::model::parse_legacy_exact(text) else {
                return Err(format!("unparseable timestamp '{}'", shorten(text)));
            };
            if ts.timestamp_subsec_nanos() % 1000 != 0 {
                return Err(format!(
                    "timestamp '{}' has sub-microsecond digits that timestamptz would drop",
                    shorten(text)
                ));
            }
            Value::Timestamp(ts.timestamp_micros())
        }
        (ColType::Timestamp, Raw::Integer(_) | Raw::Real(_)) => {
            return Err("a number in a timestamp column (its time zone and unit are unknown)".to_owned());
        }
        (ColType::Json, Raw::Text(bytes)) => {
            let text = utf8(bytes)?;
            super::json::validate(text)?;
            Value::Json(Cow::Borrowed(text))
        }
        (ColType::Json, Raw::Integer(i)) => Value::Json(Cow::Owned(i.to_string())),
        (ColType::Json, Raw::Real(f)) => return Err(format!("a real number ({f:?}) in a JSON column")),
    };
    check(column, &value)?;
    Ok(value)
}

/// A numeric value as PostgreSQL compares it with a numeric literal.
fn numeric(value: &Value<'_>) -> Option<f64> {
    match value {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// Evaluates the column's CHECK like PostgreSQL would (NULL passes; NaN sorts above every
/// number). A rule that does not fit the value's type cannot arise: the build-time reader
/// only gives text rules to text columns and numeric rules to numeric ones.
fn check(column: &ColumnSpec, value: &Value<'_>) -> Result<(), String> {
    let ok = match (column.check, value) {
        (Check::None, _) | (_, Value::Null) => true,
        (Check::OneOf(allowed), Value::Text(t)) => allowed.contains(&t.as_ref()),
        (Check::MaxChars(max), Value::Text(t)) => t.chars().count() <= max,
        (Check::HexId(prefix, n), Value::Text(t)) => t.strip_prefix(prefix).is_some_and(|rest| {
            rest.len() == n && rest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        }),
        (Check::AtLeast(min), v) => numeric(v).is_some_and(|x| x.is_nan() || x >= min),
        (Check::Between(low, high), v) => numeric(v).is_some_and(|x| (x.is_nan() || x >= low) && x <= high),
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let shown = match value {
        Value::Text(t) => format!("'{}'", shorten(t)),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format!("{f:?}"),
        _ => String::new(),
    };
    Err(match column.check {
        Check::OneOf(allowed) => format!("{shown} is not one of {}", allowed.join(", ")),
        Check::MaxChars(max) => format!(
            "text of {} characters is longer than the {max} allowed",
            match value {
                Value::Text(t) => t.chars().count(),
                _ => 0,
            }
        ),
        Check::HexId(prefix, n) => format!("{shown} is not an id of the shape {prefix} + {n} hex digits"),
        Check::AtLeast(min) => format!("{shown} is below {min}"),
        Check::Between(low, high) => format!("{shown} is outside [{low}, {high}]"),
        Check::None => format!("{shown} does not fit the column's type"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::copy::spec::{Missing, table};

    fn column(table_name: &str, name: &str) -> ColumnSpec {
        let spec = table(table_name).expect("table");
        spec.columns[spec.index_of(name).expect("column")]
    }

    #[test]
    fn lossless_conversions_are_accepted() {
        let rate = column("synth_outcomes", "success_rate");
        assert_eq!(convert(&rate, Raw::Real(0.1)), Ok(Value::Float(0.1)));
        assert_eq!(convert(&rate, Raw::Integer(1)), Ok(Value::Float(1.0)));
        let count = column("region_analyses", "synth_count");
        assert_eq!(convert(&count, Raw::Text(b"12")), Ok(Value::Int(12)));
        assert_eq!(convert(&count, Raw::Real(12.0)), Ok(Value::Int(12)));
        let created = column("experiments", "created_at");
        let a = convert(&created, Raw::Text(b"2025-12-01 10:00:00")).expect("sqlite shape");
        let b = convert(&created, Raw::Text(b"2025-12-01T07:00:00-03:00")).expect("offset");
        assert_eq!(a, b);
        assert_eq!(a, Value::Timestamp(1_764_583_200_000_000));
        assert_eq!(column("experiments", "status").missing, Missing::Text("active"));
    }

    #[test]
    fn lossy_or_invalid_values_are_refused() {
        let name = column("experiments", "name");
        assert!(convert(&name, Raw::Text(b"a\0b")).unwrap_err().contains("NUL"));
        assert!(convert(&name, Raw::Text(b"a\xc3\x28")).unwrap_err().contains("UTF-8"));
        assert!(
            convert(&name, Raw::Text("é".repeat(101).as_bytes()))
                .unwrap_err()
                .contains("101")
        );
        assert!(convert(&name, Raw::Null).unwrap_err().contains("NULL"));
        let count = column("region_analyses", "synth_count");
        assert!(convert(&count, Raw::Text(b"n/a")).unwrap_err().contains("non-numeric"));
        assert!(convert(&count, Raw::Real(12.5)).unwrap_err().contains("non-integer"));
        let rate = column("synth_outcomes", "success_rate");
        assert!(convert(&rate, Raw::Text(b"inf")).is_err());
        let created = column("experiments", "created_at");
        assert!(
            convert(&created, Raw::Text(b"yesterday"))
                .unwrap_err()
                .contains("unparseable")
        );
        assert!(
            convert(&created, Raw::Text(b"2025-12-01T10:00:00.123456789Z"))
                .unwrap_err()
                .contains("sub-microsecond")
        );
        let status = column("experiments", "status");
        assert!(
            convert(&status, Raw::Text(b"archived"))
                .unwrap_err()
                .contains("not one of")
        );
        let id = column("explorations", "id");
        assert!(convert(&id, Raw::Text(b"expl_0000000G")).is_err());
        assert!(convert(&id, Raw::Text(b"expl_0000000a")).is_ok());
        let best = column("explorations", "best_success_rate");
        assert!(convert(&best, Raw::Real(1.5)).unwrap_err().contains("[0, 1]"));
        let json = column("synths", "data");
        assert!(
            convert(&json, Raw::Text(b"{\"a\":1,\"a\":1}"))
                .unwrap_err()
                .contains("twice")
        );
    }

    mod no_panic {
        use super::super::*;
        use crate::copy::spec::SPECS;
        use proptest::prelude::*;

        fn raw() -> impl Strategy<Value = (u8, i64, f64, Vec<u8>)> {
            (
                0u8..5,
                any::<i64>(),
                prop_oneof![
                    any::<f64>(),
                    Just(f64::NAN),
                    Just(f64::INFINITY),
                    Just(-0.0),
                    Just(9.223372036854776e18)
                ],
                prop_oneof![
                    prop::collection::vec(any::<u8>(), 0..80),
                    ".*".prop_map(String::into_bytes),
                    "[0-9 :T.+-]{0,40}".prop_map(String::into_bytes),
                    "[-+]?[0-9]{0,25}(\\.[0-9]{0,5})?([eE][-+]?[0-9]{0,4})?".prop_map(String::into_bytes),
                ],
            )
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(3000))]
            #[test]
            fn every_column_gives_a_value_or_a_reason((kind, int, real, bytes) in raw()) {
                let raw = match kind {
                    0 => Raw::Null,
                    1 => Raw::Integer(int),
                    2 => Raw::Real(real),
                    3 => Raw::Text(&bytes),
                    _ => Raw::Blob(&bytes),
                };
                for spec in &SPECS {
                    for column in spec.columns {
                        // A value or a reason: both are fine, a panic is not.
                        let _ = convert(column, raw);
                    }
                }
            }
        }
    }
}

/// Every CHECK rule the build derived from the migrations judges like PostgreSQL: the migrated
/// schema (in a transaction that is rolled back) evaluates each CHECK expression of its catalog
/// on boundary values, and so does [`check`]. The catalog's CHECKs and the rules correspond one
/// to one, so no CHECK is left out.
#[cfg(all(test, feature = "parity"))]
mod postgres_agreement {
    use super::*;
    use crate::copy::spec::SPECS;

    fn candidates(column: &ColumnSpec) -> Vec<Value<'static>> {
        let text = |s: String| Value::Text(Cow::Owned(s));
        match column.check {
            Check::None => Vec::new(),
            Check::OneOf(allowed) => {
                let mut out: Vec<Value<'static>> = allowed.iter().map(|a| text((*a).to_owned())).collect();
                out.extend([String::new(), allowed[0].to_uppercase(), format!("{} ", allowed[0])].map(text));
                out
            }
            Check::MaxChars(n) => ["é".repeat(n), "é".repeat(n + 1), "a".repeat(n + 1), String::new()]
                .map(text)
                .into(),
            Check::HexId(prefix, n) => [
                format!("{prefix}{}", "0".repeat(n)),
                format!("{prefix}{}", "af".repeat(n).chars().take(n).collect::<String>()),
                format!("{prefix}{}", "A".repeat(n)),
                format!("{prefix}{}", "g".repeat(n)),
                format!("{prefix}{}", "0".repeat(n - 1)),
                format!("{prefix}{}", "0".repeat(n + 1)),
                format!("{prefix}{}\n", "0".repeat(n)),
                format!("x{prefix}{}", "0".repeat(n)),
                "0".repeat(n),
            ]
            .map(text)
            .into(),
            Check::AtLeast(bound) | Check::Between(bound, _) => {
                let high = match column.check {
                    Check::Between(_, high) => high,
                    _ => bound + 1.0,
                };
                match column.ty {
                    ColType::Int => [
                        bound as i64 - 1,
                        bound as i64,
                        high as i64,
                        high as i64 + 1,
                        i64::MIN,
                        i64::MAX,
                    ]
                    .map(Value::Int)
                    .into(),
                    _ => [
                        bound - 0.5,
                        bound,
                        -0.0,
                        (bound + high) / 2.0,
                        high,
                        high + 1e-9,
                        f64::NAN,
                        f64::INFINITY,
                    ]
                    .map(Value::Float)
                    .into(),
                }
            }
        }
    }

    #[tokio::test]
    async fn every_derived_check_agrees_with_postgresql() {
        let url = std::env::var("PARITY_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let mut client = crate::pg::connect_url(&url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at PARITY_DATABASE_URL ({e}); see README, `make pg-start`"));
        let tx = client.transaction().await.expect("begin");
        let schema = format!("check_agreement_{}", std::process::id());
        tx.batch_execute(&format!("CREATE SCHEMA {schema}; SET LOCAL search_path TO {schema}"))
            .await
            .expect("scratch schema");
        for script in crate::schema::MigrationSet::embedded(crate::BackendKind::Postgres).scripts() {
            tx.batch_execute(script.up_sql()).await.expect("migrate");
        }
        let rows = tx
            .query(
                "SELECT t.relname::text, a.attname::text, pg_get_expr(c.conbin, c.conrelid) \
                   FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
                   JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) \
                  WHERE c.contype = 'c' AND t.relnamespace = $1::text::regnamespace",
                &[&schema],
            )
            .await
            .expect("catalog");
        let mut catalog: Vec<(String, String, String)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
        catalog.sort();
        let mut derived: Vec<(String, String)> = SPECS
            .iter()
            .flat_map(|t| {
                t.columns
                    .iter()
                    .filter(|c| c.check != Check::None)
                    .map(|c| (t.name.to_owned(), c.name.to_owned()))
            })
            .collect();
        derived.sort();
        let in_catalog: Vec<(String, String)> = catalog.iter().map(|(t, c, _)| (t.clone(), c.clone())).collect();
        assert_eq!(derived, in_catalog, "one derived rule per CHECK of the catalog");
        let mut compared = 0;
        for (table, column_name, expression) in &catalog {
            let spec = crate::copy::spec::table(table).expect("table");
            let column = &spec.columns[spec.index_of(column_name).expect("column")];
            let cast = match column.ty {
                ColType::Text => "text",
                ColType::Int => "bigint",
                _ => "double precision",
            };
            let sql = format!("SELECT {expression} FROM (SELECT $1::{cast} AS \"{column_name}\") AS v");
            for value in candidates(column) {
                let verdict: Option<bool> = match &value {
                    Value::Text(t) => tx.query_one(&sql, &[&t.as_ref()]).await,
                    Value::Int(i) => tx.query_one(&sql, &[i]).await,
                    Value::Float(f) => tx.query_one(&sql, &[f]).await,
                    _ => unreachable!("candidates are text or numbers"),
                }
                .expect("evaluate")
                .get(0);
                let postgres = verdict.unwrap_or(true);
                assert_eq!(
                    check(column, &value).is_ok(),
                    postgres,
                    "{table}.{column_name} CHECK ({expression}) on {}",
                    format!("{value:?}").chars().take(60).collect::<String>()
                );
                compared += 1;
            }
        }
        assert!(compared > 100, "only {compared} comparisons");
        tx.rollback().await.expect("rollback");
    }
}
