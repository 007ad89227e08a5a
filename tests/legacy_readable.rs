//! What the SQLite backend writes stays readable by the legacy Python application.
//!
//! The scripted workload of the cutover example (creates, updates, soft deletes and deletes
//! across all fifteen repositories) runs on a fresh SQLite file; then Python's own `sqlite3`
//! reads the file back as the legacy application does: every value of every timestamp column
//! parses with `datetime.fromisoformat` (and has the canonical shape that Python 3.7's stricter
//! parser accepts too), every JSON column holds text that `json.loads` reads. The column lists
//! are the schema facts derived from the migrations, not typed here.

#[path = "../examples/support/cutover_workload.rs"]
mod workload;

use std::process::Command;

use synthlab_db::schema::{JSON_COLUMNS, TIMESTAMP_COLUMNS};
use synthlab_db::{DatabaseConfig, Store};

/// Python's side: per (table, column) the number of values read, or the first failure.
const CHECKER: &str = r#"
import datetime, json, re, sqlite3, sys
path, spec = sys.argv[1], json.loads(sys.argv[2])
shape = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?\+00:00$")
conn = sqlite3.connect(path)
out = {"timestamps": {}, "json": {}, "rows": {}}
for table in spec["tables"]:
    out["rows"][table] = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
for table, column in spec["timestamps"]:
    n = 0
    for (value,) in conn.execute(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'):
        if not isinstance(value, str):
            sys.exit(f"{table}.{column}: {value!r} is not text")
        parsed = datetime.datetime.fromisoformat(value)
        if parsed.tzinfo is None or not shape.match(value):
            sys.exit(f"{table}.{column}: {value!r} is not the canonical shape")
        n += 1
    out["timestamps"][f"{table}.{column}"] = n
for table, column in spec["json"]:
    n = 0
    for (value,) in conn.execute(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'):
        if not isinstance(value, str):
            sys.exit(f"{table}.{column}: {value!r} is not JSON text")
        json.loads(value)
        n += 1
    out["json"][f"{table}.{column}"] = n
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_reads_every_timestamp_and_json_value_the_sqlite_backend_writes() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("legacy.db");
    let store = Store::connect(&DatabaseConfig::sqlite_file(&path)).await.expect("open");
    store.migrator().up(None).await.expect("migrate");
    for phase in 1..=2 {
        workload::run(&store, phase).await.expect("workload");
    }
    drop(store);

    let spec = serde_json::json!({
        "tables": synthlab_db::schema::TABLES,
        "timestamps": TIMESTAMP_COLUMNS,
        "json": JSON_COLUMNS,
    });
    let out = Command::new("python3")
        .arg("-c")
        .arg(CHECKER)
        .arg(&path)
        .arg(spec.to_string())
        .output()
        .expect("python3 runs (it plays the legacy application)");
    assert!(
        out.status.success(),
        "the legacy application cannot read what we wrote: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: serde_json::Value = serde_json::from_slice(&out.stdout).expect("checker prints JSON");

    // Every column was read from a table the workload filled, so the checks saw real values.
    assert!(!TIMESTAMP_COLUMNS.is_empty() && !JSON_COLUMNS.is_empty());
    let values = |kind: &str, table: &str, column: &str| read[kind][format!("{table}.{column}")].as_i64();
    let rows = |table: &str| read["rows"][table].as_i64().unwrap_or(0);
    let mut checked = 0;
    for (kind, columns) in [("timestamps", TIMESTAMP_COLUMNS), ("json", JSON_COLUMNS)] {
        for (table, column) in columns {
            let n = values(kind, table, column).expect("every listed column was read");
            checked += n;
            if rows(table) > 0 && n == 0 {
                eprintln!("note: {table}.{column} holds only NULLs after the workload");
            }
        }
    }
    let filled = synthlab_db::schema::TABLES.iter().filter(|t| rows(t) > 0).count();
    assert!(
        filled >= 15,
        "the workload should fill (nearly) every table: {}",
        read["rows"]
    );
    assert!(checked > 100, "only {checked} values checked: {read}");
}
