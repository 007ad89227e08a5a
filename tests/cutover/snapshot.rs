//! Full-content snapshots of a SQLite file and a PostgreSQL schema, comparable with each
//! other. The cutover tests check both this row-by-row comparison (which names the first
//! differing row) and `synthlab_db::copy::verify` (the checksums `synthlab-db verify` prints);
//! the initial load uses `synthlab_db::copy::copy`.
//!
//! Every row of every table is read beneath the repositories (soft-deleted rows and columns
//! the model does not expose included) and normalised by the PostgreSQL column type:
//! timestamps to the canonical text, JSON text to JSON values, floating-point numbers to
//! `f64`. Rows are sorted, so two snapshots are equal exactly when the stores hold the same
//! rows.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};
use synthlab_db::config::PostgresConfig;
use synthlab_db::model::{parse_legacy, to_canonical};
use synthlab_db::schema::TABLES;

/// Table → its rows as JSON objects (column → value), sorted.
pub type Snapshot = BTreeMap<String, Vec<Value>>;

/// Table → [(column, PostgreSQL data type)] in column order.
pub type Columns = BTreeMap<String, Vec<(String, String)>>;

async fn connect(config: &PostgresConfig) -> tokio_postgres::Client {
    let client = synthlab_db::pg::connect(config).await.expect("PostgreSQL connects");
    client
        .batch_execute("SET TimeZone = 'UTC'")
        .await
        .expect("set time zone");
    client
}

/// The column types of the schema, from PostgreSQL's catalogue (both dialects have the same
/// tables and columns).
pub async fn columns(config: &PostgresConfig) -> Columns {
    let client = connect(config).await;
    let rows = client
        .query(
            "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
             WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position",
            &[],
        )
        .await
        .expect("read the catalogue");
    let mut columns = Columns::new();
    for row in rows {
        let table: String = row.get(0);
        if TABLES.contains(&table.as_str()) {
            columns.entry(table).or_default().push((row.get(1), row.get(2)));
        }
    }
    assert_eq!(columns.len(), TABLES.len(), "every table has columns: {columns:?}");
    columns
}

fn normalise(table: &str, column: &str, data_type: &str, value: Value) -> Value {
    match (data_type, value) {
        (_, Value::Null) => Value::Null,
        ("timestamp with time zone", Value::String(text)) => {
            let instant = parse_legacy(&text).unwrap_or_else(|| panic!("{table}.{column}: bad timestamp {text:?}"));
            Value::String(to_canonical(&instant))
        }
        ("double precision", Value::Number(n)) => Value::from(
            n.as_f64()
                .unwrap_or_else(|| panic!("{table}.{column}: {n} is not a number")),
        ),
        (_, value) => value,
    }
}

fn sorted(mut rows: Vec<Value>) -> Vec<Value> {
    rows.sort_by_cached_key(Value::to_string);
    rows
}

/// Every row of a PostgreSQL schema.
pub async fn postgres_snapshot(config: &PostgresConfig, columns: &Columns) -> Snapshot {
    let client = connect(config).await;
    let mut snapshot = Snapshot::new();
    for table in TABLES {
        let rows = client
            .query(&format!("SELECT to_jsonb(t) FROM {table} t"), &[])
            .await
            .unwrap_or_else(|e| panic!("read {table}: {e}"));
        let rows = rows
            .iter()
            .map(|row| {
                let Value::Object(object) = row.get::<_, Value>(0) else {
                    panic!("{table}: to_jsonb gave a non-object")
                };
                let mut out = Map::new();
                for (column, data_type) in &columns[table] {
                    let value = object.get(column).cloned().unwrap_or(Value::Null);
                    out.insert(column.clone(), normalise(table, column, data_type, value));
                }
                Value::Object(out)
            })
            .collect();
        snapshot.insert(table.to_owned(), sorted(rows));
    }
    snapshot
}

/// Every row of a SQLite file (opened read-only beside the store's own connections).
pub fn sqlite_snapshot(path: &Path, columns: &Columns) -> Snapshot {
    use rusqlite::types::ValueRef;
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the SQLite file");
    let mut snapshot = Snapshot::new();
    for table in TABLES {
        let cols = &columns[table];
        let names: Vec<&str> = cols.iter().map(|(c, _)| c.as_str()).collect();
        let mut stmt = conn
            .prepare(&format!("SELECT {} FROM {table}", names.join(", ")))
            .unwrap_or_else(|e| panic!("read {table}: {e}"));
        let rows = stmt
            .query_map([], |row| {
                let mut out = Map::new();
                for (i, (column, data_type)) in cols.iter().enumerate() {
                    let raw = match row.get_ref(i)? {
                        ValueRef::Null => Value::Null,
                        ValueRef::Integer(n) if data_type == "double precision" => Value::from(n as f64),
                        ValueRef::Integer(n) => Value::from(n),
                        ValueRef::Real(f) => Value::from(f),
                        ValueRef::Text(bytes) => {
                            let text = String::from_utf8_lossy(bytes).into_owned();
                            if data_type == "jsonb" {
                                serde_json::from_str(&text)
                                    .unwrap_or_else(|e| panic!("{table}.{column}: bad JSON {text:?}: {e}"))
                            } else {
                                Value::String(text)
                            }
                        }
                        ValueRef::Blob(_) => panic!("{table}.{column}: unexpected blob"),
                    };
                    out.insert(column.clone(), normalise(table, column, data_type, raw));
                }
                Ok(Value::Object(out))
            })
            .expect("query")
            .collect::<Result<Vec<_>, _>>()
            .expect("rows");
        snapshot.insert(table.to_owned(), sorted(rows));
    }
    snapshot
}

/// Panics with the first difference (table, row counts, first differing row) unless both
/// snapshots hold the same rows.
pub fn assert_identical(what: &str, sqlite: &Snapshot, postgres: &Snapshot) {
    for table in TABLES {
        let (a, b) = (&sqlite[table], &postgres[table]);
        if a == b {
            continue;
        }
        let first = a.iter().zip(b).find(|(x, y)| x != y);
        panic!(
            "{what}: table {table} differs (sqlite {} rows, postgres {} rows); first differing rows:\n  sqlite:   {}\n  postgres: {}",
            a.len(),
            b.len(),
            first.map_or_else(|| format!("{:?}", a.get(b.len())), |(x, _)| x.to_string()),
            first.map_or_else(|| format!("{:?}", b.get(a.len())), |(_, y)| y.to_string()),
        );
    }
}

/// Total rows of a snapshot.
pub fn rows(snapshot: &Snapshot) -> usize {
    snapshot.values().map(Vec::len).sum()
}

/// Runs raw SQL on the PostgreSQL schema (to plant a divergence beneath the repositories).
pub async fn postgres_sql(config: &PostgresConfig, sql: &str) {
    connect(config).await.batch_execute(sql).await.expect("raw SQL runs");
}

/// Runs raw SQL on the SQLite file.
pub fn sqlite_sql(path: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(path).expect("open the SQLite file");
    conn.execute_batch(sql).expect("raw SQL runs");
}

/// A PostgreSQL connection holding `LOCK TABLE … IN ACCESS EXCLUSIVE MODE` until dropped
/// with [`release`]: reads of the table on the store block meanwhile.
pub async fn lock_table(config: &PostgresConfig, table: &str) -> tokio_postgres::Client {
    let client = connect(config).await;
    client
        .batch_execute(&format!("BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        .await
        .expect("lock");
    client
}

/// Ends the transaction of [`lock_table`].
pub async fn release(client: tokio_postgres::Client) {
    client.batch_execute("ROLLBACK").await.expect("unlock");
}
