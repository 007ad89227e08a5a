//! An oracle for the copy written apart from `src/copy/convert.rs` (and from `verify`, which
//! uses that conversion): every value PostgreSQL holds after a copy is compared with the
//! SQLite value read by plain rusqlite and converted here, by the meaning the README gives it —
//! timestamps of every legacy shape as instants (own parser, own calendar arithmetic), floats by
//! their bits, JSON as values, integers exactly, NULL apart from empty text and from JSON
//! `null`. The generated file is seeded with the edge values first.

use std::collections::BTreeMap;
use std::path::Path;

use synthlab_db::copy::{CopyOptions, GenerateOptions, Silent};

use super::{Target, legacy};

/// A value as the oracle understands it, whichever side it came from.
#[derive(Debug, Clone)]
enum Cell {
    Null,
    Text(String),
    Int(i64),
    /// The bits of a double.
    Float(u64),
    /// Microseconds since 1970-01-01T00:00:00Z.
    Instant(i64),
    Json(serde_json::Value),
    Bool(bool),
}

impl Cell {
    fn same(&self, other: &Cell) -> bool {
        match (self, other) {
            (Cell::Null, Cell::Null) => true,
            (Cell::Text(a), Cell::Text(b)) => a == b,
            (Cell::Int(a), Cell::Int(b)) => a == b,
            (Cell::Float(a), Cell::Float(b)) => a == b,
            (Cell::Instant(a), Cell::Instant(b)) => a == b,
            (Cell::Json(a), Cell::Json(b)) => same_json(a, b),
            (Cell::Bool(a), Cell::Bool(b)) => a == b,
            _ => false,
        }
    }
}

/// JSON equality as values: key order and number spelling do not matter (`1e2` is `100`,
/// `2.50` is `2.5`); integers compare exactly, other numbers as doubles.
fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
            (Some(x), Some(y), _, _) => x == y,
            (_, _, Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// Days from 1970-01-01 to the proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = if year >= 0 { year } else { year - 399 } / 400;
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The instant a legacy timestamp means: `YYYY-MM-DD`, `T` or a space, `HH:MM`, then
/// optionally `:SS` and a fraction of 1–9 digits (digits past the sixth must be zeros), then
/// `Z`, `±HH:MM` or nothing (UTC, as SQLite's `datetime('now')`).
fn legacy_instant(text: &str) -> Option<i64> {
    fn digits(text: &str, n: usize) -> Option<(i64, &str)> {
        let head = text.get(..n)?;
        if !head.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some((head.parse().ok()?, &text[n..]))
    }
    let (year, rest) = digits(text, 4)?;
    let (month, rest) = digits(rest.strip_prefix('-')?, 2)?;
    let (day, rest) = digits(rest.strip_prefix('-')?, 2)?;
    let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' '))?;
    let (hour, rest) = digits(rest, 2)?;
    let (minute, mut rest) = digits(rest.strip_prefix(':')?, 2)?;
    let (mut second, mut micros) = (0, 0);
    if let Some(after) = rest.strip_prefix(':') {
        (second, rest) = digits(after, 2)?;
        if let Some(fraction) = rest.strip_prefix('.') {
            let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
            let (kept, dropped) = fraction[..n].split_at(n.min(6));
            if n == 0 || n > 9 || dropped.bytes().any(|b| b != b'0') {
                return None;
            }
            micros = format!("{kept:0<6}").parse().ok()?;
            rest = &fraction[n..];
        }
    }
    let offset = match rest {
        "" | "Z" => 0,
        zone => {
            let sign = match zone.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (hours, after) = digits(&zone[1..], 2)?;
            let (minutes, after) = digits(after.strip_prefix(':')?, 2)?;
            if !after.is_empty() {
                return None;
            }
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let month_days = [
        31,
        28 + i64::from(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)),
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let valid = (1..=12).contains(&month)
        && (1..=month_days[(month - 1) as usize]).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    valid.then(|| {
        let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
        seconds * 1_000_000 + micros
    })
}

#[test]
fn the_oracle_reads_timestamps_as_the_readme_says() {
    let noon = 1_764_583_200_000_000; // 2025-12-01T10:00:00Z (Python: datetime(...).timestamp())
    for (text, micros) in [
        ("2025-12-01 10:00:00", Some(noon)),
        ("2025-12-01T10:00:00Z", Some(noon)),
        ("2025-12-01T12:00:00+02:00", Some(noon)),
        ("2025-12-01T07:30:00-02:30", Some(noon)),
        ("2025-12-01 10:00", Some(noon)),
        ("2025-12-01T10:00:00.5", Some(noon + 500_000)),
        ("2025-12-01T10:00:00.123456000Z", Some(noon + 123_456)),
        ("1970-01-01T00:00:00Z", Some(0)),
        ("1969-12-31T23:59:59.999999Z", Some(-1)),
        ("2025-12-01T10:00:00.1234567Z", None),
        ("2025-02-29T10:00:00Z", None),
        ("yesterday", None),
    ] {
        assert_eq!(legacy_instant(text), micros, "{text}");
    }
}

/// Edge values written into the generated file before the copy: (table, column, values), the
/// n-th value into the n-th row by key.
fn seeded() -> Vec<(&'static str, &'static str, Vec<rusqlite::types::Value>)> {
    use rusqlite::types::Value::{Integer, Null, Real, Text};
    let text = |s: &str| Text(s.to_owned());
    vec![
        (
            "transcripts",
            "timestamp",
            [
                "2025-12-01T10:00:00.123456+00:00",
                "2025-12-01 10:00:00",
                "2025-12-01T10:00:00Z",
                "2025-12-01T10:00:00.5Z",
                "2025-12-01T12:30:00+02:30",
                "2025-12-01T05:00:00.000001-05:00",
                "2025-12-01T10:00:00",
                "2025-12-01 10:00:00.123",
                "2025-12-01 10:00:00.123456+00:00",
                "2025-12-01 23:30:00-03:00",
                "2025-12-01 10:00",
                "2024-02-29T23:59:59.999999Z",
                "1970-01-01T00:00:00Z",
                "1969-12-31T23:59:59.999999Z",
                "2025-12-01 10:00:00.123456000",
                "2025-06-15T10:00:00.123456+05:45",
                "2000-01-01 00:00:00Z",
                "0001-01-01 00:00:00",
                "9999-12-31T23:59:59.999999Z",
            ]
            .into_iter()
            .map(text)
            .collect(),
        ),
        (
            "region_analyses",
            "failure_delta",
            vec![
                Real(-0.0), // SQLite itself keeps it as 0 (an integral REAL is stored as an integer)
                Real(5e-324),
                Real(-5e-324),
                Real(f64::MAX),
                Real(f64::MIN),
                Real(f64::MIN_POSITIVE),
                Real(0.1),
                Real(0.1 + 0.2),
                Real(1.0 / 3.0),
                Real(1e-300),
                Real(-123_456.789),
                Integer(7),
                Real(f64::INFINITY),
                Real(f64::NEG_INFINITY),
            ],
        ),
        (
            "region_analyses",
            "synth_count",
            vec![
                Integer(i64::MAX),
                Integer(i64::MIN),
                Integer(0),
                Integer(-1),
                Integer(9_007_199_254_740_993),
            ],
        ),
        (
            "chart_insights",
            "response_json",
            [
                r#"{"b": 1, "a": [1, 2.50, 1e2, -0, 0.1]}"#,
                r#"{"u": "\u00e9\n\"x\"", "é": "\ud83d\ude00", "tab": "\t"}"#,
                r#"{"big": 12345678901234567890, "neg": -9223372036854775808, "tiny": 1E-7, "huge": 1.5e300}"#,
                r#"  { "spaced" :
                     [ true , false , null ] }  "#,
                r#"{"nested": {"deep": [[[]]], "empty": {}}}"#,
                r#""just a string""#,
                "null",
                "3.0",
                "[]",
            ]
            .into_iter()
            .map(text)
            .collect(),
        ),
        (
            "experiments",
            "description",
            vec![text(""), Null, text(" "), text("\n")],
        ),
        ("experiments", "scorecard_data", vec![text("null"), Null, text("{}")]),
        ("experiments", "hypothesis", vec![text("")]),
    ]
}

/// The primary key columns of `table` on the target.
async fn key_columns(client: &tokio_postgres::Client, table: &str) -> Vec<String> {
    client
        .query(
            "SELECT a.attname::text FROM pg_index i \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) \
             WHERE i.indrelid = $1::text::regclass AND i.indisprimary ORDER BY a.attname",
            &[&table],
        )
        .await
        .expect("primary key")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// The columns of `table` on the target with their types (`information_schema` names).
async fn typed_columns(client: &tokio_postgres::Client, table: &str) -> Vec<(String, String)> {
    client
        .query(
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            &[&table],
        )
        .await
        .expect("columns")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

/// A PostgreSQL value as a cell.
fn pg_cell(row: &tokio_postgres::Row, column: &str, data_type: &str) -> Cell {
    fn or_null<T>(value: Option<T>, cell: impl FnOnce(T) -> Cell) -> Cell {
        value.map_or(Cell::Null, cell)
    }
    match data_type {
        "text" => or_null(row.get::<_, Option<String>>(column), Cell::Text),
        "bigint" => or_null(row.get::<_, Option<i64>>(column), Cell::Int),
        "integer" => or_null(row.get::<_, Option<i32>>(column), |v| Cell::Int(v.into())),
        "double precision" => or_null(row.get::<_, Option<f64>>(column), |v| Cell::Float(v.to_bits())),
        "timestamp with time zone" => or_null(row.get::<_, Option<chrono::DateTime<chrono::Utc>>>(column), |v| {
            Cell::Instant(v.timestamp_micros())
        }),
        "jsonb" => or_null(row.get::<_, Option<serde_json::Value>>(column), Cell::Json),
        "boolean" => or_null(row.get::<_, Option<bool>>(column), Cell::Bool),
        other => panic!("the oracle does not know PostgreSQL type {other} ({column})"),
    }
}

/// A SQLite value as a cell, converted by the meaning of the target column's type.
fn sqlite_cell(value: rusqlite::types::ValueRef<'_>, data_type: &str, at: &str) -> Cell {
    use rusqlite::types::ValueRef;
    let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).unwrap_or_else(|_| panic!("{at}: not UTF-8"));
    match (data_type, value) {
        (_, ValueRef::Null) => Cell::Null,
        ("text", ValueRef::Text(bytes)) => Cell::Text(text(bytes)),
        ("bigint" | "integer", ValueRef::Integer(v)) => Cell::Int(v),
        ("bigint" | "integer", ValueRef::Text(bytes)) => {
            Cell::Int(text(bytes).parse().unwrap_or_else(|_| panic!("{at}: not an integer")))
        }
        ("double precision", ValueRef::Real(v)) => Cell::Float(v.to_bits()),
        ("double precision", ValueRef::Integer(v)) => {
            let float = v as f64;
            assert_eq!(float as i64, v, "{at}: {v} has no exact double");
            Cell::Float(float.to_bits())
        }
        ("timestamp with time zone", ValueRef::Text(bytes)) => {
            let shown = text(bytes);
            Cell::Instant(legacy_instant(&shown).unwrap_or_else(|| panic!("{at}: {shown:?} is no legacy timestamp")))
        }
        ("jsonb", ValueRef::Text(bytes)) => {
            Cell::Json(serde_json::from_str(&text(bytes)).unwrap_or_else(|e| panic!("{at}: not JSON: {e}")))
        }
        ("boolean", ValueRef::Integer(v @ (0 | 1))) => Cell::Bool(v == 1),
        (data_type, value) => panic!("{at}: the oracle does not convert {value:?} into {data_type}"),
    }
}

/// The key of a row, as text.
fn key_text(cells: &[Cell]) -> String {
    cells
        .iter()
        .map(|cell| match cell {
            Cell::Text(text) => text.clone(),
            Cell::Int(value) => value.to_string(),
            other => format!("{other:?}"),
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// Writes the edge values of [`seeded`] into the file.
fn seed(path: &Path) {
    let conn = rusqlite::Connection::open(path).expect("open the generated file");
    for (table, column, values) in seeded() {
        for (n, value) in values.into_iter().enumerate() {
            let changed = conn
                .execute(
                    &format!(
                        "UPDATE {table} SET \"{column}\" = ?1 \
                         WHERE rowid = (SELECT rowid FROM {table} ORDER BY rowid LIMIT 1 OFFSET ?2)"
                    ),
                    rusqlite::params![value, n as i64],
                )
                .unwrap_or_else(|e| panic!("seed {table}.{column} #{n}: {e}"));
            assert_eq!(changed, 1, "{table} has fewer than {} rows", n + 1);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_holds_what_an_independent_reading_of_the_sqlite_file_means() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, generated) = legacy(
        dir.path(),
        "oracle.db",
        &GenerateOptions {
            scale: 0.01,
            ..GenerateOptions::default()
        },
    );
    seed(&path);
    let target = Target::new().await;
    let report = synthlab_db::copy::copy(&CopyOptions::new(&path, target.config.clone()), &Silent)
        .await
        .expect("every seeded value is copyable");
    assert_eq!(report.copied(), generated.total_rows());

    let sqlite = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open read-only");
    let client = target.client().await;
    let mut compared = BTreeMap::<&str, usize>::new();
    for table in synthlab_db::schema::TABLES {
        let columns = typed_columns(&client, table).await;
        let types: BTreeMap<&str, &str> = columns.iter().map(|(c, t)| (c.as_str(), t.as_str())).collect();
        let keys = key_columns(&client, table).await;
        let mut expected = BTreeMap::new();
        let mut statement = sqlite.prepare(&format!("SELECT * FROM {table}")).expect("select");
        let names: Vec<String> = statement.column_names().iter().map(|n| (*n).to_owned()).collect();
        for (name, _) in &columns {
            assert!(names.contains(name), "{table}.{name} missing in the v15 file");
        }
        let mut rows = statement.query([]).expect("rows");
        while let Some(row) = rows.next().expect("row") {
            let mut cells = BTreeMap::new();
            for (i, name) in names.iter().enumerate() {
                let data_type = types
                    .get(name.as_str())
                    .unwrap_or_else(|| panic!("{table}.{name} not in PostgreSQL"));
                let value = row.get_ref(i).expect("value");
                cells.insert(name.clone(), sqlite_cell(value, data_type, &format!("{table}.{name}")));
            }
            let key = key_text(&keys.iter().map(|k| cells[k].clone()).collect::<Vec<_>>());
            assert!(expected.insert(key, cells).is_none(), "{table}: a key twice");
        }
        let stored = client
            .query(&format!("SELECT * FROM {table}"), &[])
            .await
            .expect("select");
        assert_eq!(stored.len(), expected.len(), "{table}: row count");
        for row in &stored {
            let cells: BTreeMap<String, Cell> = columns
                .iter()
                .map(|(name, data_type)| (name.clone(), pg_cell(row, name, data_type)))
                .collect();
            let key = key_text(&keys.iter().map(|k| cells[k].clone()).collect::<Vec<_>>());
            let source = expected
                .get(&key)
                .unwrap_or_else(|| panic!("{table} {key}: in PostgreSQL, not in the file"));
            for (name, cell) in &cells {
                assert!(
                    cell.same(&source[name]),
                    "{table} {key} {name}: PostgreSQL holds {cell:?}, the file means {:?}",
                    source[name]
                );
            }
        }
        compared.insert(table, stored.len());
    }
    // The oracle saw every table, and every seeded value reached a compared row.
    assert_eq!(compared.len(), synthlab_db::schema::TABLES.len());
    for (table, _, values) in seeded() {
        assert!(compared[table] >= values.len(), "{table}: {compared:?}");
    }
    target.drop().await;
}
