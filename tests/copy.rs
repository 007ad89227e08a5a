//! `copy`, `verify` and `generate` against the real PostgreSQL (one fresh schema per test in
//! the database `synthlab_copy_tests`) and real legacy files made by the generator.

#![cfg(all(feature = "parity", feature = "sqlite"))]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use synthlab_db::DatabaseConfig;
use synthlab_db::config::PostgresConfig;
use synthlab_db::copy::{
    CopyOptions, DifferenceKind, FaultKind, GenerateOptions, OnError, Silent, TableOutcome, VerifyOptions,
};

const DATABASE: &str = "synthlab_copy_tests";

fn server_url() -> String {
    std::env::var("PARITY_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

async fn connect(url: &str) -> tokio_postgres::Client {
    synthlab_db::pg::connect_url(url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL unreachable ({e}); start one: make pg-start, or set PARITY_DATABASE_URL")
    })
}

/// A fresh schema of the test database, addressed by a URL whose search_path selects it.
struct Target {
    url: String,
    config: PostgresConfig,
    schema: String,
}

impl Target {
    async fn new() -> Target {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let base = server_url();
        let (server, _) = base.rsplit_once('/').expect("server URL has a database");
        let admin = connect(&base).await;
        let exists = admin
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&DATABASE])
            .await
            .expect("pg_database")
            .is_some();
        if !exists && let Err(err) = admin.batch_execute(&format!("CREATE DATABASE {DATABASE}")).await {
            let raced = err.code().is_some_and(|c| c.code() == "42P04" || c.code() == "23505");
            assert!(raced, "create test database: {err}");
        }
        let schema = format!("cp_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let db = connect(&format!("{server}/{DATABASE}")).await;
        db.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .await
        .expect("create schema");
        let url = format!("{server}/{DATABASE}?options=-csearch_path%3D{schema}");
        let DatabaseConfig::Postgres(config) = url.parse().expect("target URL") else {
            panic!("not postgres")
        };
        Target { url, config, schema }
    }

    async fn client(&self) -> tokio_postgres::Client {
        let client = connect(
            &self
                .url
                .replace(&format!("?options=-csearch_path%3D{}", self.schema), ""),
        )
        .await;
        client
            .batch_execute(&format!("SET search_path = {}", self.schema))
            .await
            .expect("search_path");
        client
    }

    async fn count(&self, table: &str) -> i64 {
        self.client()
            .await
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .expect("count")
            .get(0)
    }

    async fn drop(self) {
        let _ = self
            .client()
            .await
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema))
            .await;
    }
}

fn legacy(dir: &Path, name: &str, options: &GenerateOptions) -> (PathBuf, synthlab_db::copy::GenerateReport) {
    let path = dir.join(name);
    let report = synthlab_db::copy::generate(&path, options).expect("generate");
    (path, report)
}

fn small(faults: Vec<FaultKind>) -> GenerateOptions {
    GenerateOptions {
        scale: 0.01,
        faults,
        ..GenerateOptions::default()
    }
}

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synthlab-db"))
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("binary runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

async fn verify(path: &Path, target: &Target, quarantine: Option<&Path>) -> synthlab_db::copy::VerifyReport {
    let mut options = VerifyOptions::new(path, target.config.clone());
    options.quarantine = quarantine.map(Path::to_owned);
    synthlab_db::copy::verify(&options, &Silent).await.expect("verify runs")
}

fn file_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("read source")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_kind_aborts_naming_table_key_column_and_commits_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    for kind in FaultKind::ALL {
        let (path, generated) = legacy(dir.path(), &format!("{}.db", kind.as_str()), &small(vec![kind]));
        let first = generated.faults.first().unwrap_or_else(|| panic!("{kind:?} planted"));
        let target = Target::new().await;
        let err = synthlab_db::copy::copy(&CopyOptions::new(&path, target.config.clone()), &Silent)
            .await
            .expect_err("a bad row aborts");
        assert_eq!(err.kind(), synthlab_db::ErrorKind::Check, "{kind:?}: {err}");
        let message = err.to_string();
        // Faults are planted in FK order per kind; the first one met is the one named.
        let named = generated
            .faults
            .iter()
            .any(|f| message.contains(&f.table) && message.contains(&f.key) && message.contains(&f.column));
        assert!(named, "{kind:?}: {message} should name one of {:?}", generated.faults);
        assert!(message.contains("nothing was committed"), "{message}");
        for table in synthlab_db::schema::TABLES {
            let expected = if table == "synth_groups" { 1 } else { 0 }; // the V1 seed row
            assert_eq!(target.count(table).await, expected, "{kind:?}: {table} must be empty");
        }
        let _ = first;
        target.drop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_kind_is_quarantined_with_its_children_and_the_rest_copied() {
    let dir = tempfile::tempdir().expect("dir");
    for kind in FaultKind::ALL {
        let (path, generated) = legacy(dir.path(), &format!("{}.db", kind.as_str()), &small(vec![kind]));
        assert!(!generated.faults.is_empty(), "{kind:?} planted");
        let target = Target::new().await;
        let quarantine = dir.path().join(format!("{}.jsonl", kind.as_str()));
        let mut options = CopyOptions::new(&path, target.config.clone());
        options.on_error = OnError::Quarantine;
        options.quarantine = Some(quarantine.clone());
        let report = synthlab_db::copy::copy(&options, &Silent)
            .await
            .expect("quarantine copy");
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(&quarantine)
            .expect("quarantine file")
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
            .collect();
        assert_eq!(lines.len() as u64, report.quarantined(), "{kind:?}");
        for fault in &generated.faults {
            let found = lines.iter().any(|l| {
                l["table"] == fault.table.as_str()
                    && l["key"]
                        .as_object()
                        .is_some_and(|k| k.values().any(|v| v == fault.key.as_str()))
                    && l["column"] == fault.column.as_str()
                    && l["reason"].as_str().is_some_and(|r| !r.is_empty())
                    && l["values"].as_object().is_some_and(|v| !v.is_empty())
            });
            assert!(found, "{kind:?}: {fault:?} not in {lines:?}");
        }
        if matches!(
            kind,
            FaultKind::CheckEnum | FaultKind::CheckLength | FaultKind::CheckId | FaultKind::CheckRange
        ) {
            assert!(
                lines
                    .iter()
                    .any(|l| l["reason"].as_str().is_some_and(|r| r.contains("is a bad row"))),
                "{kind:?}: children follow their bad parent: {lines:?}"
            );
        }
        let copied: u64 = report.tables.iter().map(|t| t.copied).sum();
        assert_eq!(copied + report.quarantined(), generated.total_rows(), "{kind:?}");
        for t in &report.tables {
            assert_eq!(t.outcome, TableOutcome::Bulk, "{kind:?} {}", t.table);
            assert_eq!(target.count(&t.table).await as u64, t.copied, "{kind:?} {}", t.table);
        }
        assert!(
            verify(&path, &target, Some(&quarantine)).await.equal,
            "{kind:?}: verify with quarantine"
        );
        assert!(
            !verify(&path, &target, None).await.equal,
            "{kind:?}: bad rows are missing without it"
        );
        target.drop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_legacy_layout_v10_to_v15_copies_and_verifies_without_touching_the_source() {
    let dir = tempfile::tempdir().expect("dir");
    for layout in 10..=15u8 {
        for created in [layout, 9] {
            let options = GenerateOptions {
                layout,
                created,
                ..small(Vec::new())
            };
            let (path, generated) = legacy(dir.path(), &format!("v{layout}-{created}.db"), &options);
            let before = file_bytes(&path);
            let target = Target::new().await;
            let report = synthlab_db::copy::copy(&CopyOptions::new(&path, target.config.clone()), &Silent)
                .await
                .unwrap_or_else(|e| panic!("v{layout} created v{created}: {e}"));
            assert_eq!(report.copied(), generated.total_rows(), "v{layout}/{created}");
            for t in &report.tables {
                let in_layout = generated.rows.iter().any(|(name, _)| *name == t.table);
                let expected = if in_layout {
                    TableOutcome::Bulk
                } else {
                    TableOutcome::AbsentInSource
                };
                assert_eq!(t.outcome, expected, "v{layout}/{created} {}", t.table);
            }
            if layout < 11 {
                // analysis_runs.scenario_id did not exist: every row gets the V1 default.
                let defaulted = target.count("analysis_runs WHERE scenario_id = 'baseline'").await;
                assert_eq!(defaulted, target.count("analysis_runs").await, "v{layout}");
                assert!(defaulted > 0);
            }
            let verified = verify(&path, &target, None).await;
            assert!(verified.equal, "v{layout}/{created}: {:?}", verified.tables);
            assert_eq!(file_bytes(&path), before, "the source file was written");
            target.drop().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerun_is_idempotent_and_differing_rows_are_replaced_only_with_overwrite() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, generated) = legacy(dir.path(), "clean.db", &small(Vec::new()));
    let target = Target::new().await;
    let from = format!("sqlite://{}", path.display());
    let out = cli(&["copy", "--from", &from, "--to", &target.url]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("{} rows copied", generated.total_rows())),
        "{}",
        text(&out)
    );

    let again = cli(&["copy", "--from", &from, "--to", &target.url, "--format", "json"]);
    assert!(again.status.success(), "{}", text(&again));
    let doc: serde_json::Value = serde_json::from_slice(&again.stdout).expect("json report");
    assert_eq!(doc["status"], "up_to_date", "{doc}");
    assert!(
        doc["tables"]
            .as_array()
            .expect("tables")
            .iter()
            .all(|t| t["copied"] == 0)
    );
    let text_again = cli(&["copy", "--from", &from, "--to", &target.url]);
    assert!(
        text(&text_again).contains("target is up to date"),
        "{}",
        text(&text_again)
    );

    target
        .client()
        .await
        .batch_execute("UPDATE experiments SET name = 'mudado à mão' WHERE id = 'exp_00000001'")
        .await
        .expect("change a row");
    let reported = cli(&["copy", "--from", &from, "--to", &target.url, "--format", "json"]);
    assert_eq!(reported.status.code(), Some(1), "{}", text(&reported));
    let doc: serde_json::Value = serde_json::from_slice(&reported.stdout).expect("json report");
    assert_eq!(doc["differences"][0]["key"]["id"], "exp_00000001", "{doc}");
    assert_eq!(doc["differences"][0]["columns"], serde_json::json!(["name"]), "{doc}");
    assert_eq!(target.count("experiments WHERE name = 'mudado à mão'").await, 1, "kept");

    let replaced = cli(&["copy", "--from", &from, "--to", &target.url, "--overwrite"]);
    assert!(replaced.status.success(), "{}", text(&replaced));
    assert_eq!(
        target.count("experiments WHERE name = 'mudado à mão'").await,
        0,
        "replaced"
    );
    let verified = cli(&["verify", "--from", &from, "--to", &target.url]);
    assert!(verified.status.success(), "{}", text(&verified));
    target.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_catches_each_listed_difference() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, _) = legacy(dir.path(), "clean.db", &small(Vec::new()));
    let cases: [(&str, &str, DifferenceKind, &str); 5] = [
        (
            "experiment_documents",
            "UPDATE experiment_documents SET markdown_content = overlay(markdown_content placing \
             (CASE WHEN substr(markdown_content, 1500, 1) = 'x' THEN 'y' ELSE 'x' END) from 1500 for 1) \
             WHERE id = 'doc_00000001' AND octet_length(markdown_content) >= 3000",
            DifferenceKind::Differs,
            "markdown_content",
        ),
        (
            "synth_outcomes",
            "UPDATE synth_outcomes SET success_rate = float8recv_bits WHERE id = 'out_00000001'",
            DifferenceKind::Differs,
            "success_rate",
        ),
        (
            "synths",
            "UPDATE synths SET data = jsonb_set(data, ARRAY[(SELECT k FROM jsonb_object_keys(data) k ORDER BY k LIMIT 1)], \
             '\"outro valor\"') WHERE id = 'syn_00000001'",
            DifferenceKind::Differs,
            "data",
        ),
        (
            "chart_insights",
            "DELETE FROM chart_insights WHERE id = 'ins_00000003'",
            DifferenceKind::MissingInTarget,
            "",
        ),
        (
            "chart_insights",
            "INSERT INTO chart_insights (id, simulation_id, insight_type, response_json) \
             VALUES ('ins_zzzzzzzz', 'sim_x', 'funil', '{}')",
            DifferenceKind::ExtraInTarget,
            "",
        ),
    ];
    for (table, change, kind, column) in cases {
        let target = Target::new().await;
        synthlab_db::copy::copy(&CopyOptions::new(&path, target.config.clone()), &Silent)
            .await
            .expect("copy");
        assert!(verify(&path, &target, None).await.equal, "equal before {change}");
        let client = target.client().await;
        if change.contains("float8recv_bits") {
            // Flip the last bit of one double.
            let row = client
                .query_one("SELECT success_rate FROM synth_outcomes WHERE id = 'out_00000001'", &[])
                .await
                .expect("rate");
            let rate: f64 = row.get(0);
            let flipped = f64::from_bits(rate.to_bits() ^ 1);
            let n = client
                .execute(
                    "UPDATE synth_outcomes SET success_rate = $1 WHERE id = 'out_00000001'",
                    &[&flipped],
                )
                .await
                .expect("flip");
            assert_eq!(n, 1);
        } else {
            let n = client.execute(change, &[]).await.expect(change);
            assert_eq!(n, 1, "{change}");
        }
        let report = verify(&path, &target, None).await;
        assert!(!report.equal, "{change} not caught");
        let unequal: Vec<&str> = report
            .tables
            .iter()
            .filter(|t| !t.equal)
            .map(|t| t.table.as_str())
            .collect();
        assert_eq!(unequal, vec![table], "{change}");
        let found = &report
            .tables
            .iter()
            .find(|t| t.table == table)
            .expect("table")
            .differences;
        assert_eq!(found.len(), 1, "{change}: {found:?}");
        assert_eq!(found[0].kind, kind, "{change}");
        if !column.is_empty() {
            assert_eq!(found[0].columns, vec![column.to_owned()], "{change}");
        }
        let from = format!("sqlite://{}", path.display());
        let out = cli(&["verify", "--from", &from, "--to", &target.url]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(text(&out).contains("DIFFERENT"), "{}", text(&out));
        target.drop().await;
    }
}

/// Runs the copy CLI and SIGKILLs it once stderr shows `when` (a table starting) plus `delay`.
fn copy_killed(from: &str, to: &str, extra: &[&str], when: &str, delay: Duration) -> bool {
    let mut child = Command::new(env!("CARGO_BIN_EXE_synthlab-db"))
        .args(["copy", "--from", from, "--to", to])
        .args(extra)
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn copy");
    let stderr = child.stderr.take().expect("stderr");
    let mut killed = false;
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        if line.contains(when) {
            std::thread::sleep(delay);
            killed = child.kill().is_ok();
            break;
        }
    }
    let _ = child.wait();
    killed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_killed_at_any_point_finishes_on_rerun_without_duplicates_or_gaps() {
    let dir = tempfile::tempdir().expect("dir");
    let options = GenerateOptions {
        scale: 0.1,
        faults: vec![FaultKind::CheckLength, FaultKind::Orphan],
        ..GenerateOptions::default()
    };
    let (path, _) = legacy(dir.path(), "kill.db", &options);
    let from = format!("sqlite://{}", path.display());
    let quarantine = dir.path().join("kill.jsonl");
    let quarantine_arg = quarantine.display().to_string();
    // Quarantine mode: each table commits on its own; killed runs leave finished tables behind.
    let target = Target::new().await;
    let extra = ["--on-error", "quarantine", "--quarantine", quarantine_arg.as_str()];
    let points = [
        ("copying experiments", 0),
        ("copying synths", 5),
        ("copying synth_outcomes", 30),
        ("copying transcripts", 10),
        ("copying scenario_nodes", 1),
        ("copying region_analyses", 0),
    ];
    let mut kills = 0;
    for (when, millis) in points {
        if copy_killed(&from, &target.url, &extra, when, Duration::from_millis(millis)) {
            kills += 1;
        }
    }
    assert!(kills >= 2, "the copy was killed at least twice ({kills})");
    let out = cli(&[&["copy", "--from", &from, "--to", &target.url][..], &extra[..]].concat());
    assert!(out.status.success(), "{}", text(&out));
    let verified = cli(&[
        "verify",
        "--from",
        &from,
        "--to",
        &target.url,
        "--quarantine",
        &quarantine_arg,
    ]);
    assert!(verified.status.success(), "{}", text(&verified));
    target.drop().await;
    // Abort mode: one transaction; a kill leaves nothing, a rerun copies everything.
    let (clean, generated) = legacy(
        dir.path(),
        "clean.db",
        &GenerateOptions {
            scale: 0.1,
            ..Default::default()
        },
    );
    let clean_from = format!("sqlite://{}", clean.display());
    let target = Target::new().await;
    for (when, millis) in [
        ("copying synths", 0),
        ("copying transcripts", 5),
        ("copying chart_insights", 0),
    ] {
        copy_killed(&clean_from, &target.url, &[], when, Duration::from_millis(millis));
        let total: i64 = {
            let mut sum = 0;
            for table in synthlab_db::schema::TABLES {
                sum += target.count(table).await;
            }
            sum
        };
        assert!(
            total <= 1 || total as u64 == generated.total_rows(),
            "all or nothing, got {total}"
        );
    }
    let out = cli(&["copy", "--from", &clean_from, "--to", &target.url]);
    assert!(out.status.success(), "{}", text(&out));
    let verified = cli(&["verify", "--from", &clean_from, "--to", &target.url]);
    assert!(verified.status.success(), "{}", text(&verified));
    target.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_writes_nothing_and_tables_limits_the_copy() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, _) = legacy(dir.path(), "dirty.db", &small(FaultKind::ALL.to_vec()));
    let target = Target::new().await;
    let mut options = CopyOptions::new(&path, target.config.clone());
    options.dry_run = true;
    options.on_error = OnError::Quarantine;
    let report = synthlab_db::copy::copy(&options, &Silent).await.expect("dry run");
    assert!(report.dry_run && report.quarantined() > 0 && report.copied() == 0);
    assert!(!synthlab_db::copy::default_quarantine_path(&path).exists());
    let history: bool = target
        .client()
        .await
        .query_one("SELECT to_regclass('refinery_schema_history') IS NOT NULL", &[])
        .await
        .expect("history")
        .get(0);
    assert!(!history, "a dry run applies no migration");

    let mut options = CopyOptions::new(&path, target.config.clone());
    options.on_error = OnError::Quarantine;
    options.tables = Some(vec!["synths".into()]);
    let err = synthlab_db::copy::copy(&options, &Silent)
        .await
        .expect_err("parent missing");
    assert!(err.to_string().contains("synth_groups"), "{err}");
    options.tables = Some(vec!["synth_groups".into(), "synths".into()]);
    let report = synthlab_db::copy::copy(&options, &Silent).await.expect("subset");
    assert!(target.count("synths").await > 0);
    assert_eq!(target.count("experiments").await, 0);
    assert!(report.tables.iter().any(|t| t.outcome == TableOutcome::Skipped));
    target.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_at_another_schema_version_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, _) = legacy(dir.path(), "clean.db", &small(Vec::new()));
    let target = Target::new().await;
    synthlab_db::copy::copy(&CopyOptions::new(&path, target.config.clone()), &Silent)
        .await
        .expect("copy");
    target
        .client()
        .await
        .batch_execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES (99, 'future', '2030-01-01T00:00:00Z', '0')",
        )
        .await
        .expect("fake a newer version");
    let err = synthlab_db::copy::copy(&CopyOptions::new(&path, target.config.clone()), &Silent)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("newer than this build"), "{err}");
    target.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_copy_spec_matches_the_migrated_catalog() {
    let target = Target::new().await;
    synthlab_db::Store::connect(&DatabaseConfig::Postgres(target.config.clone()))
        .await
        .expect("migrate");
    let client = target.client().await;
    for (table, columns) in synthlab_db::copy::target_columns() {
        let rows = client
            .query(
                "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull FROM pg_attribute a \
                 WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                &[&table],
            )
            .await
            .expect("catalog");
        let catalog: Vec<(String, String, bool)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
        let spec: Vec<(String, String, bool)> = columns
            .iter()
            .map(|(n, t, nn)| ((*n).to_owned(), (*t).to_owned(), *nn))
            .collect();
        assert_eq!(spec, catalog, "{table}");
    }
    target.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_one_copy_then_verify_exits_zero() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("scale1.db");
    let file = path.display().to_string();
    let out = cli(&["generate", "--out", &file, "--scale", "1", "--seed", "7"]);
    assert!(out.status.success(), "{}", text(&out));
    let size = std::fs::metadata(&path).expect("file").len();
    assert!(size > 40_000_000, "scale 1 is about 50 MB, got {size}");
    let target = Target::new().await;
    let from = format!("sqlite://{file}");
    let out = cli(&["copy", "--from", &from, "--to", &target.url, "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let copied: u64 = doc["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .map(|t| t["copied"].as_u64().unwrap_or(0))
        .sum();
    assert!(copied >= 45_000, "scale 1 is about 50k rows, copied {copied}");
    let verified = cli(&["verify", "--from", &from, "--to", &target.url]);
    assert_eq!(verified.status.code(), Some(0), "{}", text(&verified));
    target.drop().await;
}

/// Index and constraint definitions of a schema, with the schema name taken out.
async fn schema_shape(target: &Target) -> Vec<String> {
    let client = target.client().await;
    let rows = client
        .query(
            "SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid \
              WHERE c.relnamespace = current_schema()::regnamespace \
             UNION ALL \
             SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) \
               FROM pg_constraint WHERE connamespace = current_schema()::regnamespace \
             ORDER BY 1",
            &[],
        )
        .await
        .expect("catalog");
    rows.iter()
        .map(|r| r.get::<_, String>(0).replace(&format!("{}.", target.schema), ""))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_load_leaves_exactly_the_migrated_schema() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, _) = legacy(dir.path(), "clean.db", &small(Vec::new()));
    let migrated = Target::new().await;
    synthlab_db::Store::connect(&DatabaseConfig::Postgres(migrated.config.clone()))
        .await
        .expect("migrate");
    let copied = Target::new().await;
    let report = synthlab_db::copy::copy(&CopyOptions::new(&path, copied.config.clone()), &Silent)
        .await
        .expect("copy");
    assert!(report.tables.iter().all(|t| t.outcome == TableOutcome::Bulk));
    let expected = schema_shape(&migrated).await;
    assert!(expected.len() > 60, "indexes and constraints found: {}", expected.len());
    assert_eq!(schema_shape(&copied).await, expected);
    migrated.drop().await;
    copied.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_with_other_tables_keeps_the_first_runs_quarantine_records() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, _) = legacy(dir.path(), "dirty.db", &small(FaultKind::ALL.to_vec()));
    let quarantine = synthlab_db::copy::default_quarantine_path(&path);
    let target = Target::new().await;
    let (first, second) = synthlab_db::schema::TABLES.split_at(8);
    let mut total = 0;
    for tables in [first, second] {
        let mut options = CopyOptions::new(&path, target.config.clone());
        options.on_error = OnError::Quarantine;
        options.tables = Some(tables.iter().map(|t| (*t).to_owned()).collect());
        let report = synthlab_db::copy::copy(&options, &Silent).await.expect("copy");
        total += report
            .tables
            .iter()
            .filter(|t| tables.contains(&t.table.as_str()))
            .map(|t| t.quarantined)
            .sum::<u64>();
    }
    let lines = |file: &Path| std::fs::read_to_string(file).expect("quarantine file").lines().count();
    assert!(total > 0, "bad rows were planted");
    let after_two_runs = lines(&quarantine);
    assert!(
        after_two_runs as u64 >= total,
        "{after_two_runs} records for {total} bad rows"
    );
    let report = verify(&path, &target, Some(&quarantine)).await;
    let differing: Vec<_> = report.tables.iter().filter(|t| !t.equal).map(|t| &t.table).collect();
    assert!(report.equal, "tables differing after two runs: {differing:?}");

    // Running the first command again replaces its tables' records: nothing is duplicated.
    let mut options = CopyOptions::new(&path, target.config.clone());
    options.on_error = OnError::Quarantine;
    options.tables = Some(first.iter().map(|t| (*t).to_owned()).collect());
    synthlab_db::copy::copy(&options, &Silent).await.expect("rerun");
    assert_eq!(lines(&quarantine), after_two_runs);
    assert!(verify(&path, &target, Some(&quarantine)).await.equal);

    // A file that is not a quarantine file is refused and left alone.
    std::fs::write(&quarantine, "not json\n").expect("overwrite");
    let err = synthlab_db::copy::copy(&options, &Silent).await.expect_err("refused");
    assert_eq!(err.kind(), synthlab_db::ErrorKind::InvalidInput, "{err}");
    assert_eq!(std::fs::read_to_string(&quarantine).expect("kept"), "not json\n");
    target.drop().await;
}
