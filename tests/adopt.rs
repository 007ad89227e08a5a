//! `adopt` on legacy SQLite files of every layout (v10–v15, created new or upgraded in place):
//! every row keeps its values (timestamps compared as instants), the layout becomes exactly
//! V1, `schema check` is clean, the repositories read the data; and a file holding a value
//! V1 refuses is left byte-for-byte as it was.

#![cfg(feature = "sqlite")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::types::Value;
use synthlab_db::legacy::{LegacyLayout, LegacyRow, LegacyVersion, build_legacy_file, sample_rows};
use synthlab_db::model::{DocumentType, ExperimentStatus, ExplorationStatus, PageRequest, parse_legacy, to_canonical};
use synthlab_db::schema::{AdoptOutcome, AdoptReport, AppliedState, MigrationSet, is_timestamp_column};
use synthlab_db::{BackendKind, DatabaseConfig, ErrorKind, Store};

type Snapshot = BTreeMap<String, BTreeMap<i64, BTreeMap<String, Value>>>;

/// Every row of every table by rowid, every column by name.
fn snapshot(path: &Path) -> Snapshot {
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'refinery_schema_history'")
        .expect("prepare")
        .query_map([], |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("tables");
    let mut out = Snapshot::new();
    for table in tables {
        let mut stmt = conn
            .prepare(&format!("SELECT rowid, * FROM \"{table}\""))
            .expect("prepare");
        let names: Vec<String> = stmt.column_names().iter().skip(1).map(|c| (*c).to_owned()).collect();
        let rows = stmt
            .query_map([], |row| {
                let mut values = BTreeMap::new();
                for (i, name) in names.iter().enumerate() {
                    values.insert(name.clone(), row.get::<_, Value>(i + 1)?);
                }
                Ok((row.get::<_, i64>(0)?, values))
            })
            .expect("query")
            .collect::<Result<BTreeMap<_, _>, _>>()
            .expect("rows");
        out.insert(table, rows);
    }
    out
}

fn is_canonical(text: &str) -> bool {
    parse_legacy(text).map(|t| to_canonical(&t)).as_deref() == Some(text)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn build(dir: &Path, layout: &LegacyLayout, rows: &[LegacyRow]) -> PathBuf {
    let path = dir.join("legacy.db");
    build_legacy_file(&path, layout, rows).expect("legacy file built");
    path
}

fn adopt(path: &Path) -> synthlab_db::Result<AdoptOutcome> {
    runtime().block_on(synthlab_db::schema::adopt(&DatabaseConfig::sqlite_file(path)))
}

fn adopted(path: &Path) -> AdoptReport {
    match adopt(path).expect("adopt succeeds") {
        AdoptOutcome::Adopted(report) => *report,
        other => panic!("expected an adoption, got {other:?}"),
    }
}

fn expected_label(layout: &LegacyLayout) -> &'static str {
    match layout.current {
        LegacyVersion::V9 => "v9 or older",
        LegacyVersion::V10 => "v10",
        LegacyVersion::V11 | LegacyVersion::V12 => "v11–v12",
        LegacyVersion::V13 => "v13",
        LegacyVersion::V14 => "v14",
        LegacyVersion::V15 => "v15",
    }
}

/// The whole check for one layout.
fn adopt_layout(layout: LegacyLayout) {
    use LegacyVersion::*;
    let dir = tempfile::tempdir().expect("dir");
    let rows = sample_rows(&layout).expect("sample rows");
    let path = build(dir.path(), &layout, &rows);
    let before = snapshot(&path);

    let report = adopted(&path);
    assert_eq!(
        report.layout.version,
        expected_label(&layout),
        "{layout}: {:?}",
        report.layout
    );

    // Which tables had to be rebuilt: those with a column added in place or missing.
    let mut rebuilt = Vec::new();
    if layout.created < V10 {
        rebuilt.push("experiments");
    }
    if layout.created < V11 {
        rebuilt.push("analysis_runs");
    }
    if layout.current >= V13 && layout.created < V14 {
        rebuilt.push("scenario_nodes");
    }
    let mut found = report.tables_rebuilt.clone();
    found.sort();
    rebuilt.sort_unstable();
    assert_eq!(found, rebuilt, "{layout}");
    let mut created = Vec::new();
    if layout.current < V13 {
        created.extend(["explorations", "scenario_nodes"]);
    }
    if layout.current < V15 {
        created.push("experiment_documents");
    }
    let mut found = report.tables_created.clone();
    found.sort();
    created.sort_unstable();
    assert_eq!(found, created, "{layout}");
    if layout.created < V10 {
        assert!(
            report
                .layout
                .notes
                .iter()
                .any(|n| n.contains("experiments.status added in place")),
            "{:?}",
            report.layout
        );
    }

    // The backup holds the file as it was.
    assert!(report.backup.exists());
    assert!(
        report
            .backup
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("legacy.db.pre-adopt-") && n.ends_with(".bak"))
    );
    assert_eq!(snapshot(&report.backup), before, "backup equals the original");

    // Every row keeps its rowid and its values; timestamps the same instant, now canonical.
    let after = snapshot(&path);
    let mut non_canonical = 0u64;
    for (table, rows_before) in &before {
        let rows_after = &after[table];
        assert_eq!(rows_after.len(), rows_before.len(), "{layout}: rows of {table}");
        for (rowid, values) in rows_before {
            let now = rows_after
                .get(rowid)
                .unwrap_or_else(|| panic!("{table} rowid {rowid} lost"));
            for (column, value) in values {
                let new = &now[column];
                match (value, new) {
                    (Value::Text(old), Value::Text(new)) if is_timestamp_column(table, column) => {
                        assert_eq!(parse_legacy(old), parse_legacy(new), "{table}.{column} instant");
                        assert!(is_canonical(new), "{table}.{column} = {new} is canonical");
                        if !is_canonical(old) {
                            non_canonical += 1;
                        }
                    }
                    _ => assert_eq!(value, new, "{layout}: {table}.{column} of rowid {rowid}"),
                }
            }
            // Columns the layout lacked hold V1's default.
            for (column, new) in now.iter().filter(|(c, _)| !values.contains_key(*c)) {
                let expected = match (table.as_str(), column.as_str()) {
                    ("experiments", "status") => Value::Text("active".into()),
                    ("analysis_runs", "scenario_id") => Value::Text("baseline".into()),
                    ("scenario_nodes", "short_action") => Value::Null,
                    other => panic!("unexpected new column {other:?}"),
                };
                assert_eq!(new, &expected, "{table}.{column}");
            }
        }
    }
    assert!(non_canonical > 0, "the sample holds legacy timestamp shapes");
    assert_eq!(report.timestamps_rewritten, non_canonical, "rewrites are counted");
    assert_eq!(report.timestamps_unrecognised, 0);
    for table in after.keys().filter(|t| !before.contains_key(*t)) {
        assert!(after[table].is_empty(), "created table {table} is empty");
    }

    // Under management at V1 with refinery's own checksum (connecting applies the migrations
    // after V1, if any); schema check clean; repositories read.
    let latest = synthlab_db::schema::latest_version();
    runtime().block_on(async {
        let store = Store::connect(&DatabaseConfig::sqlite_file(&path))
            .await
            .expect("connects");
        let history = store.migrator().history().await.expect("history");
        assert_eq!(history.current_version, latest);
        assert_eq!(history.applied.len() as i64, latest);
        assert_eq!(history.applied[0].state, AppliedState::Ok);
        let v1 = MigrationSet::embedded(BackendKind::Sqlite).get(1).cloned().expect("V1");
        assert_eq!(history.applied[0].row.checksum, v1.checksum().to_string());
        assert!(
            store.migrate().await.expect("migrate").is_empty(),
            "nothing left to apply"
        );
        let (version, diff) = store.migrator().check().await.expect("check");
        assert_eq!(version, latest);
        assert!(diff.is_empty(), "{layout}: {diff}");
        assert_eq!(
            store.migrator().introspect().await.expect("catalog"),
            store.migrator().expected(latest).await.expect("latest")
        );

        let e = store
            .experiments()
            .get("exp_0000000a")
            .await
            .expect("get")
            .expect("exp a");
        assert_eq!(e.name, "Checkout in one click");
        assert_eq!(e.status, ExperimentStatus::Active);
        assert_eq!(Some(e.created_at), parse_legacy("2025-12-01 10:00:00"));
        assert_eq!(e.scorecard_data.expect("scorecard")["complexity"]["score"], 0.4);
        assert_eq!(
            store
                .experiments()
                .list(PageRequest::first(10).expect("page"))
                .await
                .expect("list")
                .total,
            2
        );
        let s = store.synths().get("syn_0000000a").await.expect("get").expect("synth");
        assert_eq!(s.synth_group_id.as_deref(), Some("grp_0000000b"));
        assert_eq!(Some(s.created_at), parse_legacy("2025-12-01T10:00:00Z"));
        assert!(store.synth_groups().get("grp_00000001").await.expect("get").is_some());
        let run = store
            .analyses()
            .get_by_experiment("exp_0000000a")
            .await
            .expect("get")
            .expect("run");
        let scenario = if layout.current >= V11 { "scn_peak" } else { "baseline" };
        assert_eq!(run.scenario_id, scenario);
        assert_eq!(run.config["seed"], 7);
        let transcripts = store
            .research()
            .list_transcripts("exec_0000000a")
            .await
            .expect("transcripts");
        assert_eq!(transcripts.len(), 1);
        if layout.current >= V13 {
            let x = store
                .explorations()
                .get("expl_0000000a")
                .await
                .expect("get")
                .expect("exploration");
            assert_eq!(x.status, ExplorationStatus::GoalAchieved);
            let node = store
                .explorations()
                .get_node("node_0000000b")
                .await
                .expect("get")
                .expect("node");
            let short = if layout.current >= V14 { Some("simplify") } else { None };
            assert_eq!(node.short_action.as_deref(), short);
            assert_eq!(
                store.explorations().nodes("expl_0000000a").await.expect("nodes").len(),
                2
            );
        }
        if layout.current >= V15 {
            let doc = store
                .experiment_documents()
                .get_by_type("exp_0000000a", DocumentType::Summary)
                .await
                .expect("get")
                .expect("document");
            assert_eq!(doc.markdown_content, "# Summary");
        }
    });

    // Adopting again does nothing.
    assert!(matches!(
        adopt(&path).expect("second adopt"),
        AdoptOutcome::AlreadyManaged { current_version } if current_version == latest
    ));
}

macro_rules! layout_cases {
    ($($name:ident => $layout:expr;)+) => {
        $(
            #[test]
            fn $name() {
                adopt_layout($layout);
            }
        )+
    };
}

layout_cases! {
    adopt_v10_created_new => LegacyLayout::fresh(LegacyVersion::V10);
    adopt_v11_created_new => LegacyLayout::fresh(LegacyVersion::V11);
    adopt_v12_created_new => LegacyLayout::fresh(LegacyVersion::V12);
    adopt_v13_created_new => LegacyLayout::fresh(LegacyVersion::V13);
    adopt_v14_created_new => LegacyLayout::fresh(LegacyVersion::V14);
    adopt_v15_created_new => LegacyLayout::fresh(LegacyVersion::V15);
    adopt_v10_upgraded_in_place => LegacyLayout::upgraded(LegacyVersion::V9, LegacyVersion::V10);
    adopt_v11_upgraded_in_place => LegacyLayout::upgraded(LegacyVersion::V9, LegacyVersion::V11);
    adopt_v12_upgraded_in_place => LegacyLayout::upgraded(LegacyVersion::V9, LegacyVersion::V12);
    adopt_v13_upgraded_in_place => LegacyLayout::upgraded(LegacyVersion::V9, LegacyVersion::V13);
    adopt_v14_upgraded_in_place => LegacyLayout::upgraded(LegacyVersion::V9, LegacyVersion::V14);
    adopt_v15_upgraded_in_place => LegacyLayout::upgraded(LegacyVersion::V9, LegacyVersion::V15);
    adopt_v15_upgraded_in_place_with_status_index => LegacyLayout::upgraded(LegacyVersion::V9, LegacyVersion::V15).with_status_index(true);
    adopt_v15_upgraded_from_v10 => LegacyLayout::upgraded(LegacyVersion::V10, LegacyVersion::V15);
    adopt_v15_upgraded_from_v12 => LegacyLayout::upgraded(LegacyVersion::V12, LegacyVersion::V15);
    adopt_v14_upgraded_from_v13 => LegacyLayout::upgraded(LegacyVersion::V13, LegacyVersion::V14);
}

#[test]
fn the_catalogue_is_covered_by_the_cases_above() {
    // Guards the list above against drifting from LegacyLayout::catalogue().
    assert_eq!(LegacyLayout::catalogue().len(), 16);
}

/// Bytes of the database file and the names of the files beside it.
fn file_state(path: &Path) -> (Vec<u8>, Vec<String>) {
    let mut names: Vec<String> = std::fs::read_dir(path.parent().expect("parent"))
        .expect("read dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with("-shm") && !n.ends_with("-wal"))
        .collect();
    names.sort();
    (std::fs::read(path).expect("read"), names)
}

#[test]
fn a_status_outside_the_enumeration_stops_adopt_and_leaves_the_file_unchanged() {
    let dir = tempfile::tempdir().expect("dir");
    // Upgraded in place: experiments.status has no CHECK, so 'archived' could be written.
    let layout = LegacyLayout::upgraded(LegacyVersion::V9, LegacyVersion::V15);
    let mut rows = sample_rows(&layout).expect("rows");
    for row in rows
        .iter_mut()
        .filter(|r| r.table == "experiments" && r.get("id") == Some(&"exp_0000000b".into()))
    {
        row.values.retain(|(c, _)| c != "status");
        row.values.push(("status".into(), "archived".into()));
    }
    let path = build(dir.path(), &layout, &rows);
    let before = file_state(&path);
    let wal = path.with_file_name("legacy.db-wal");
    let wal_before = std::fs::read(&wal).unwrap_or_default();

    let err = adopt(&path).expect_err("adopt refuses");
    assert_eq!(err.kind(), ErrorKind::Check, "{err}");
    let text = err.to_string();
    for part in [
        "table experiments",
        "id = 'exp_0000000b'",
        "column status = 'archived'",
        "status IN ('active','deleted')",
    ] {
        assert!(text.contains(part), "{part:?} in {text}");
    }
    assert_eq!(file_state(&path), before, "byte-for-byte unchanged, no backup left");
    assert_eq!(
        std::fs::read(&wal).unwrap_or_default(),
        wal_before,
        "nothing written to the WAL"
    );

    // Store::connect and migrate still refuse the file, pointing to adopt.
    let err = runtime()
        .block_on(Store::connect(&DatabaseConfig::sqlite_file(&path)))
        .expect_err("connect refuses a legacy file");
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("synthlab-db adopt"), "{err}");
    assert_eq!(file_state(&path), before);
}

#[test]
fn orphans_are_kept_and_reported() {
    let dir = tempfile::tempdir().expect("dir");
    let layout = LegacyLayout::fresh(LegacyVersion::V15);
    let mut rows = sample_rows(&layout).expect("rows");
    rows.push(
        LegacyRow::new("synths")
            .set("id", "syn_orphan")
            .set("synth_group_id", "grp_gone")
            .set("nome", "Orphan")
            .set("created_at", "2025-12-01 10:00:00"),
    );
    let path = build(dir.path(), &layout, &rows);
    let report = adopted(&path);
    assert_eq!(
        report.orphans,
        vec!["synths (synth_group_id) -> synth_groups: 1 row(s)".to_owned()]
    );
    let after = snapshot(&path);
    assert!(
        after["synths"]
            .values()
            .any(|r| r["id"] == Value::Text("syn_orphan".into()))
    );
}

#[test]
fn unrecognised_and_over_precise_timestamps_are_left_as_they_were() {
    let dir = tempfile::tempdir().expect("dir");
    let layout = LegacyLayout::fresh(LegacyVersion::V15);
    let mut rows = sample_rows(&layout).expect("rows");
    rows.push(
        LegacyRow::new("experiments")
            .set("id", "exp_odd1")
            .set("name", "odd")
            .set("hypothesis", "h")
            .set("created_at", "yesterday"),
    );
    rows.push(
        LegacyRow::new("experiments")
            .set("id", "exp_odd2")
            .set("name", "odd")
            .set("hypothesis", "h")
            .set("created_at", "2025-12-01T10:00:00.1234567+00:00"),
    );
    let path = build(dir.path(), &layout, &rows);
    let report = adopted(&path);
    assert_eq!(report.timestamps_unrecognised, 2, "{report}");
    assert!(
        report
            .timestamps_unrecognised_examples
            .iter()
            .any(|e| e.contains("id = 'exp_odd1'") && e.contains("'yesterday'"))
    );
    let after = snapshot(&path);
    let created: Vec<&Value> = after["experiments"]
        .values()
        .filter(|r| matches!(&r["id"], Value::Text(id) if id.starts_with("exp_odd")))
        .map(|r| &r["created_at"])
        .collect();
    assert!(created.contains(&&Value::Text("yesterday".into())));
    assert!(created.contains(&&Value::Text("2025-12-01T10:00:00.1234567+00:00".into())));
}

#[test]
fn an_unknown_layout_is_refused_without_change() {
    let dir = tempfile::tempdir().expect("dir");
    let layout = LegacyLayout::fresh(LegacyVersion::V15);
    let path = build(dir.path(), &layout, &sample_rows(&layout).expect("rows"));
    {
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.execute_batch("CREATE TABLE private_notes (id TEXT); ALTER TABLE synths ADD COLUMN mood TEXT;")
            .expect("extend");
    }
    let before = file_state(&path);
    let err = adopt(&path).expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(
        err.to_string()
            .contains("table private_notes is not part of any legacy layout"),
        "{err}"
    );
    assert!(err.to_string().contains("column synths.mood"), "{err}");
    assert_eq!(file_state(&path), before);
}

#[test]
fn the_backup_includes_what_still_sits_in_the_wal_and_missing_seed_rows_are_added() {
    let dir = tempfile::tempdir().expect("dir");
    let layout = LegacyLayout::fresh(LegacyVersion::V15);
    let rows: Vec<LegacyRow> = sample_rows(&layout)
        .expect("rows")
        .into_iter()
        .filter(|r| r.get("id") != Some(&"grp_00000001".into()))
        .collect();
    let path = build(dir.path(), &layout, &rows);
    // The legacy application is still running: its last write is only in the WAL.
    let legacy_app = rusqlite::Connection::open(&path).expect("open");
    legacy_app
        .pragma_update(None, "wal_autocheckpoint", 0)
        .expect("no checkpoint");
    legacy_app
        .execute(
            "INSERT INTO experiments (id, name, hypothesis, created_at) VALUES ('exp_in_wal', 'w', 'h', '2025-12-05 00:00:00')",
            [],
        )
        .expect("insert");
    let wal_len = std::fs::metadata(path.with_file_name("legacy.db-wal"))
        .expect("wal")
        .len();
    assert!(wal_len > 0, "the row is in the WAL");

    let report = adopted(&path);
    assert_eq!(report.seed_rows_added, 1, "the default synth group was missing");
    let backup = snapshot(&report.backup);
    assert!(
        backup["experiments"]
            .values()
            .any(|r| r["id"] == Value::Text("exp_in_wal".into()))
    );
    assert!(
        !backup["synth_groups"]
            .values()
            .any(|r| r["id"] == Value::Text("grp_00000001".into()))
    );
    drop(legacy_app);
    let after = snapshot(&path);
    assert!(
        after["experiments"]
            .values()
            .any(|r| r["id"] == Value::Text("exp_in_wal".into()))
    );
    assert!(
        after["synth_groups"]
            .values()
            .any(|r| r["id"] == Value::Text("grp_00000001".into()))
    );
}

#[test]
fn adopt_refuses_postgres_memory_and_missing_files() {
    let rt = runtime();
    let err = rt
        .block_on(synthlab_db::schema::adopt(&"sqlite::memory:".parse().expect("url")))
        .expect_err("memory");
    assert_eq!(err.kind(), ErrorKind::Config);
    let err = rt
        .block_on(synthlab_db::schema::adopt(
            &"postgres://u@127.0.0.1:1/db".parse().expect("url"),
        ))
        .expect_err("postgres");
    assert_eq!(err.kind(), ErrorKind::Config);
    let dir = tempfile::tempdir().expect("dir");
    let err = adopt(&dir.path().join("missing.db")).expect_err("missing");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(!dir.path().join("missing.db").exists());
}
