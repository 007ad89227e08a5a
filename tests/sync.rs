//! Live sync against the real PostgreSQL (one fresh schema per test in `synthlab_sync_tests`)
//! and real legacy files written by Python's `sqlite3`, as the legacy application writes them:
//! every capture case, bad rows (abort vs quarantine), foreign keys off, uninstall, install
//! under a held lock, identity, adopt and schema check beside capture, and a Rust service
//! dual-writing through `Store` while sync follows the same file.

#![cfg(all(feature = "parity", feature = "sqlite"))]

#[path = "support/sync_target.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::{Target, legacy_file, python, python_query};
use synthlab_db::copy::{OnError, Silent, VerifyOptions};
use synthlab_db::sync::{Follower, SyncOptions};
use synthlab_db::{DatabaseConfig, ErrorKind};

const TS: &str = "2025-12-01T10:00:00.000000+00:00";

async fn verify(path: &Path, target: &Target, quarantine: Option<&Path>) -> synthlab_db::copy::VerifyReport {
    let mut options = VerifyOptions::new(path, target.config.clone());
    options.quarantine = quarantine.map(Path::to_owned);
    synthlab_db::copy::verify(&options, &Silent).await.expect("verify runs")
}

async fn assert_equal(path: &Path, target: &Target, quarantine: Option<&Path>) {
    let report = verify(path, target, quarantine).await;
    let unequal: Vec<String> = report
        .tables
        .iter()
        .filter(|t| !t.equal)
        .map(|t| format!("{}: {:?}", t.table, t.differences))
        .collect();
    assert!(report.equal, "verify found differences: {unequal:#?}");
}

fn options(path: &Path, target: &Target) -> SyncOptions {
    let mut options = SyncOptions::new(path, target.config.clone());
    options.poll = Duration::from_millis(20);
    options
}

async fn start(path: &Path, target: &Target) -> Follower {
    Follower::start(options(path, target), &Silent).await.expect("start").0
}

fn records(path: &Path) -> i64 {
    python_query(path, "SELECT count(*) FROM _synthlab_sync_changes")[0][0]
        .as_i64()
        .expect("count")
}

fn experiment(id: &str) -> String {
    format!(
        "INSERT INTO experiments (id, name, hypothesis, status, created_at) VALUES ('{id}', 'n', 'h', 'active', '{TS}')"
    )
}

fn run(id: &str, experiment: &str) -> String {
    format!(
        "INSERT INTO analysis_runs (id, experiment_id, scenario_id, config, status, started_at) \
         VALUES ('{id}', '{experiment}', 'baseline', '{{}}', 'pending', '{TS}')"
    )
}

fn outcome(id: &str, run: &str, synth: &str, verb: &str) -> String {
    format!(
        "{verb} INTO synth_outcomes (id, analysis_id, synth_id, did_not_try_rate, failed_rate, success_rate, \
         synth_attributes) VALUES ('{id}', '{run}', '{synth}', 0.1, 0.2, 0.7, '{{}}')"
    )
}

#[tokio::test]
async fn every_capture_case_converges() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = legacy_file(dir.path(), "legacy.db", 0.01);
    let target = Target::new().await;
    let mut follower = start(&path, &target).await;
    assert_equal(&path, &target, None).await;

    let setup = [
        experiment("exp_a"),
        experiment("exp_b"),
        experiment("exp_c"),
        run("run_a", "exp_a"),
        run("run_b", "exp_b"),
        outcome("out_1", "run_a", "syn_1", "INSERT"),
        outcome("out_2", "run_a", "syn_2", "INSERT"),
    ];
    python(&path, true, &[&setup.iter().map(String::as_str).collect::<Vec<_>>()]);
    follower.catch_up(&Silent).await.expect("catch up");
    assert_equal(&path, &target, None).await;

    // A rolled-back transaction leaves no record.
    let before = records(&path);
    let rolled_back = experiment("exp_rolled_back");
    python(&path, true, &[&[&rolled_back, "ROLLBACK"]]);
    assert_eq!(records(&path), before, "a rolled-back transaction left change records");

    let renamed_key = "UPDATE experiments SET id = 'exp_c2' WHERE id = 'exp_c'";
    let same_key_replace = "INSERT OR REPLACE INTO experiments (id, name, hypothesis, status, created_at) \
                            VALUES ('exp_a', 'replaced', 'h', 'active', '2025-12-02T10:00:00.000000+00:00')";
    // A new run for exp_b: REPLACE removes run_b (UNIQUE experiment_id) without a delete trigger.
    let other_unique_replace = run("run_b2", "exp_b").replace("INSERT", "INSERT OR REPLACE");
    // A new outcome id for (run_a, syn_1): REPLACE removes out_1 (UNIQUE (analysis_id, synth_id)).
    let outcome_replace = outcome("out_1b", "run_a", "syn_1", "INSERT OR REPLACE");
    let upsert = "INSERT INTO analysis_cache (analysis_id, cache_key, data, computed_at) \
                  VALUES ('run_a', 'k', '{\"v\":1}', '2025-12-01T10:00:00+00:00') \
                  ON CONFLICT (analysis_id, cache_key) DO UPDATE SET data = excluded.data";
    let upsert_again = upsert.replace("{\"v\":1}", "{\"v\":2}");
    let soft_delete = "UPDATE experiments SET status = 'deleted' WHERE id = 'exp_c2'";
    python(
        &path,
        true,
        &[
            &[renamed_key],
            &[&other_unique_replace, &outcome_replace],
            &[upsert, &upsert_again],
            &[soft_delete],
            // Same key: the old exp_a row is deleted (cascading to run_a and its children,
            // foreign keys being on) and the new one inserted.
            &[same_key_replace],
        ],
    );
    follower.catch_up(&Silent).await.expect("catch up");
    assert_equal(&path, &target, None).await;
    assert_eq!(
        target
            .scalar("SELECT count(*) FROM analysis_runs WHERE id = 'run_b'")
            .await,
        0
    );
    assert_eq!(
        target
            .scalar("SELECT count(*) FROM experiments WHERE id = 'exp_c'")
            .await,
        0
    );

    assert_eq!(
        target
            .scalar("SELECT count(*) FROM analysis_runs WHERE id = 'run_a'")
            .await,
        0
    );
    assert_eq!(
        target
            .scalar("SELECT count(*) FROM experiments WHERE id = 'exp_a' AND name = 'replaced'")
            .await,
        1
    );

    // Delete with cascades (the legacy writer has foreign keys on): children go too.
    assert_eq!(
        target
            .scalar("SELECT count(*) FROM analysis_runs WHERE id = 'run_b2'")
            .await,
        1
    );
    python(&path, true, &[&["DELETE FROM experiments WHERE id = 'exp_b'"]]);
    follower.catch_up(&Silent).await.expect("catch up");
    assert_equal(&path, &target, None).await;
    assert_eq!(
        target
            .scalar("SELECT count(*) FROM analysis_runs WHERE id = 'run_b2'")
            .await,
        0
    );

    // Applying the same changes twice is harmless: rewind the checkpoint to the oldest record
    // still in the change table and apply again.
    let oldest = python_query(&path, "SELECT min(seq) FROM _synthlab_sync_changes")[0][0]
        .as_i64()
        .expect("min seq");
    target
        .client()
        .await
        .batch_execute(&format!("UPDATE _synthlab_sync_state SET applied = {}", oldest - 1))
        .await
        .expect("rewind");
    let mut again = start(&path, &target).await;
    again.catch_up(&Silent).await.expect("apply twice");
    assert_equal(&path, &target, None).await;
    let counters = again.counters();
    assert_eq!(counters.pending, 0);
    assert!(counters.applied_changes > 0);
    target.drop().await;
}

#[tokio::test]
async fn deletes_by_a_writer_with_foreign_keys_off_leave_orphans_that_are_bad_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = legacy_file(dir.path(), "legacy.db", 0.01);
    let target = Target::new().await;
    let mut follower = start(&path, &target).await;
    let setup = [
        experiment("exp_x"),
        run("run_x", "exp_x"),
        outcome("out_x", "run_x", "syn_1", "INSERT"),
    ];
    python(&path, true, &[&setup.iter().map(String::as_str).collect::<Vec<_>>()]);
    follower.catch_up(&Silent).await.expect("catch up");
    // Python's sqlite3 leaves foreign keys off by default: no cascade, orphans stay.
    python(&path, false, &[&["DELETE FROM experiments WHERE id = 'exp_x'"]]);
    let err = follower.catch_up(&Silent).await.expect_err("abort mode stops");
    assert_eq!(err.kind(), ErrorKind::Check, "{err}");
    assert!(err.message().contains("orphan"), "{err}");
    assert_eq!(
        target
            .scalar("SELECT count(*) FROM experiments WHERE id = 'exp_x'")
            .await,
        1
    );

    let quarantine = dir.path().join("q.jsonl");
    let mut options = options(&path, &target);
    options.on_error = OnError::Quarantine;
    options.quarantine = Some(quarantine.clone());
    let (mut follower, _) = Follower::start(options, &Silent).await.expect("start");
    follower.catch_up(&Silent).await.expect("quarantine mode applies");
    let text = std::fs::read_to_string(&quarantine).expect("quarantine file");
    assert!(text.contains("run_x") && text.contains("out_x"), "{text}");
    assert_eq!(follower.counters().quarantined_rows, 2);
    assert_equal(&path, &target, Some(&quarantine)).await;
    target.drop().await;
}

#[tokio::test]
async fn a_bad_row_during_follow_aborts_or_is_quarantined_and_a_fix_lands() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = legacy_file(dir.path(), "legacy.db", 0.01);
    let target = Target::new().await;
    let mut follower = start(&path, &target).await;
    let applied = follower.state().applied;
    // SQLite takes any text as a timestamp; PostgreSQL cannot.
    let bad = experiment("exp_bad").replace(TS, "yesterday");
    let good = experiment("exp_good");
    python(&path, true, &[&[&good], &[&bad]]);
    let err = follower.catch_up(&Silent).await.expect_err("abort");
    assert_eq!(err.kind(), ErrorKind::Check);
    assert!(
        err.message().contains("exp_bad") && err.message().contains("unparseable timestamp"),
        "{err}"
    );
    assert_eq!(
        target.scalar("SELECT applied FROM _synthlab_sync_state").await,
        applied,
        "the checkpoint moved past a refused batch"
    );

    let quarantine = dir.path().join("q.jsonl");
    let mut options = options(&path, &target);
    options.on_error = OnError::Quarantine;
    options.quarantine = Some(quarantine.clone());
    let (mut follower, _) = Follower::start(options, &Silent).await.expect("start");
    follower.catch_up(&Silent).await.expect("quarantine");
    let text = std::fs::read_to_string(&quarantine).expect("quarantine file");
    assert!(text.contains("exp_bad") && text.contains("yesterday"), "{text}");
    assert_eq!(
        target
            .scalar("SELECT count(*) FROM experiments WHERE id = 'exp_good'")
            .await,
        1
    );
    assert_equal(&path, &target, Some(&quarantine)).await;

    // The legacy application fixes the row: it lands.
    python(
        &path,
        true,
        &[&[&format!(
            "UPDATE experiments SET created_at = '{TS}' WHERE id = 'exp_bad'"
        )]],
    );
    follower.catch_up(&Silent).await.expect("catch up");
    assert_eq!(
        target
            .scalar("SELECT count(*) FROM experiments WHERE id = 'exp_bad'")
            .await,
        1
    );
    assert_equal(&path, &target, None).await;
    target.drop().await;
}

fn master(path: &Path) -> serde_json::Value {
    python_query(
        path,
        "SELECT type, name, tbl_name, rootpage, sql FROM sqlite_master ORDER BY name",
    )
}

#[tokio::test]
async fn uninstall_restores_sqlite_master_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = legacy_file(dir.path(), "legacy.db", 0.01);
    let before = master(&path);
    let integrity = python_query(&path, "PRAGMA integrity_check");
    let target = Target::new().await;
    let mut follower = start(&path, &target).await;
    python(&path, true, &[&[&experiment("exp_u")]]);
    follower.catch_up(&Silent).await.expect("catch up");
    assert_ne!(master(&path), before, "capture was not installed");
    drop(follower);
    let report = synthlab_db::sync::uninstall(&path, false, Duration::from_secs(5))
        .await
        .expect("uninstall");
    assert!(report.removed.iter().any(|n| n == "_synthlab_sync_changes"));
    assert_eq!(master(&path), before);
    assert_eq!(python_query(&path, "PRAGMA integrity_check"), integrity);
    python(&path, true, &[&[&experiment("exp_after")]]);
    target.drop().await;
}

#[tokio::test]
async fn uninstall_refuses_while_changes_are_unapplied_unless_forced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = legacy_file(dir.path(), "legacy.db", 0.01);
    let target = Target::new().await;
    let _follower = start(&path, &target).await;
    python(&path, true, &[&[&experiment("exp_p")]]);
    let err = synthlab_db::sync::uninstall(&path, false, Duration::from_secs(5))
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    let report = synthlab_db::sync::uninstall(&path, true, Duration::from_secs(5))
        .await
        .expect("forced");
    assert_eq!(report.unapplied, 1);
    target.drop().await;
}

#[tokio::test]
async fn install_waits_for_a_writer_that_holds_the_lock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = legacy_file(dir.path(), "legacy.db", 0.01);
    let target = Target::new().await;
    // The legacy application holds the write lock for 1.5 s.
    let script = r#"
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=5.0, isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("INSERT INTO experiments (id, name, hypothesis, status, created_at) VALUES ('exp_held', 'n', 'h', 'active', '2025-12-01T10:00:00+00:00')")
print("locked", flush=True)
time.sleep(1.5)
db.execute("COMMIT")
"#;
    let mut holder = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.as_mut().expect("stdout")),
        &mut line,
    )
    .expect("read");
    assert_eq!(line.trim(), "locked");
    let started = Instant::now();
    let (mut follower, report) = Follower::start(options(&path, &target), &Silent).await.expect("start");
    assert!(report.capture_created);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "install did not wait for the lock"
    );
    assert!(holder.wait().expect("holder").success());
    follower.catch_up(&Silent).await.expect("catch up");
    assert_eq!(
        target
            .scalar("SELECT count(*) FROM experiments WHERE id = 'exp_held'")
            .await,
        1
    );
    assert_equal(&path, &target, None).await;
    target.drop().await;
}

#[tokio::test]
async fn a_target_following_another_file_is_refused_without_force() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = legacy_file(dir.path(), "first.db", 0.01);
    let second = legacy_file(dir.path(), "second.db", 0.01);
    let target = Target::new().await;
    start(&first, &target).await;
    let err = Follower::start(options(&second, &target), &Silent)
        .await
        .err()
        .expect("refused");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(err.message().contains("another legacy file"), "{err}");
    let mut forced = options(&second, &target);
    forced.force = true;
    let (mut follower, report) = Follower::start(forced, &Silent).await.expect("forced");
    assert!(report.initial.is_some());
    follower.catch_up(&Silent).await.expect("catch up");
    assert_equal(&second, &target, None).await;
    target.drop().await;
}

#[tokio::test]
async fn schema_check_adopt_and_status_live_beside_capture() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = legacy_file(dir.path(), "legacy.db", 0.01);
    let target = Target::new().await;
    let mut follower = start(&path, &target).await;
    // PostgreSQL: the state table is not drift.
    let pg = synthlab_db::Store::connect_url(&target.url).await.expect("pg store");
    let (_, diff) = pg.migrator().check().await.expect("check");
    assert!(diff.is_empty(), "{diff:?}");

    // The legacy file is adopted while capture is installed: capture survives and keeps working.
    let sqlite: DatabaseConfig = format!("sqlite://{}", path.display()).parse().expect("url");
    let triggers_before = synthlab_db::sync::status(&path, &target.config)
        .await
        .expect("status")
        .capture_info
        .expect("installed")
        .triggers
        .len();
    synthlab_db::schema::adopt(&sqlite).await.expect("adopt");
    let status = synthlab_db::sync::status(&path, &target.config).await.expect("status");
    assert_eq!(status.capture, "installed");
    assert_eq!(status.capture_info.expect("installed").triggers.len(), triggers_before);
    let store = synthlab_db::Store::connect(&sqlite).await.expect("adopted file opens");
    let (_, diff) = store.migrator().check().await.expect("check");
    assert!(diff.is_empty(), "{diff:?}");
    python(&path, true, &[&[&experiment("exp_after_adopt")]]);
    let status = synthlab_db::sync::status(&path, &target.config).await.expect("status");
    assert!(status.pending >= 1 && status.lag_seconds >= 0.0);
    follower.catch_up(&Silent).await.expect("catch up");
    assert_eq!(
        target
            .scalar("SELECT count(*) FROM experiments WHERE id = 'exp_after_adopt'")
            .await,
        1
    );
    assert_equal(&path, &target, None).await;
    target.drop().await;
}

#[tokio::test]
async fn a_service_dual_writing_through_store_converges_with_sync() {
    use synthlab_db::model::NewExperiment;

    let dir = tempfile::tempdir().expect("tempdir");
    let path = legacy_file(dir.path(), "legacy.db", 0.01);
    let sqlite: DatabaseConfig = format!("sqlite://{}", path.display()).parse().expect("url");
    synthlab_db::schema::adopt(&sqlite).await.expect("adopt");
    let target = Target::new().await;
    let (mut follower, _) = Follower::start(options(&path, &target), &Silent).await.expect("start");
    let store = support::dual_store(&sqlite, &target).await;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let follow = tokio::spawn(async move {
        follower
            .follow(
                async {
                    let _ = stop_rx.await;
                },
                &Silent,
            )
            .await
            .map(|()| follower)
    });
    let mut ids = Vec::new();
    for i in 0..40 {
        let created = store
            .experiments()
            .create(&NewExperiment::new(format!("dual {i}"), "both stores"))
            .await
            .expect("create");
        if i % 3 == 0 {
            store.experiments().soft_delete(&created.id).await.expect("soft delete");
        } else {
            ids.push(created.id);
        }
        // The legacy application writes the same file meanwhile.
        if i % 10 == 0 {
            python(&path, true, &[&[&experiment(&format!("exp_legacy_{i}"))]]);
        }
    }
    let _ = stop_tx.send(());
    let mut follower = follow.await.expect("join").expect("follow");
    follower.catch_up(&Silent).await.expect("drain");
    assert_equal(&path, &target, None).await;
    let failures: u64 = store.cutover_counters().iter().map(|r| r.dual_write_failures).sum();
    eprintln!("dual-write secondary failures while sync followed: {failures} (sync heals them)");
    target.drop().await;
}

#[tokio::test]
async fn a_batch_cut_before_a_parent_written_later_is_read_again_as_one_snapshot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = legacy_file(dir.path(), "legacy.db", 0.01);
    let target = Target::new().await;
    let mut options = options(&path, &target);
    options.batch_changes = 1;
    let (mut follower, _) = Follower::start(options, &Silent).await.expect("start");
    // Foreign keys off: the child is written before its parent, in two transactions.
    python(
        &path,
        false,
        &[&[&run("run_early", "exp_late")], &[&experiment("exp_late")]],
    );
    follower.catch_up(&Silent).await.expect("catch up");
    assert!(follower.counters().snapshot_retries >= 1, "{:?}", follower.counters());
    assert_eq!(
        target
            .scalar("SELECT count(*) FROM analysis_runs WHERE id = 'run_early'")
            .await,
        1
    );
    assert_equal(&path, &target, None).await;
    target.drop().await;
}

#[tokio::test]
async fn two_followers_of_one_target_never_apply_a_batch_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = legacy_file(dir.path(), "legacy.db", 0.01);
    let target = Target::new().await;
    let mut a = start(&path, &target).await;
    let mut b = start(&path, &target).await;
    let inserts: Vec<String> = (0..60).map(|i| experiment(&format!("exp_two_{i}"))).collect();
    let transactions: Vec<Vec<&str>> = inserts.iter().map(|s| vec![s.as_str()]).collect();
    let transactions: Vec<&[&str]> = transactions.iter().map(Vec::as_slice).collect();
    python(&path, true, &transactions);
    let (ra, rb) = tokio::join!(a.catch_up(&Silent), b.catch_up(&Silent));
    ra.expect("a");
    rb.expect("b");
    let applied = a.counters().applied_changes + b.counters().applied_changes;
    assert_eq!(applied, 60, "a: {:?}, b: {:?}", a.counters(), b.counters());
    assert_eq!(
        target.scalar("SELECT applied_changes FROM _synthlab_sync_state").await,
        60
    );
    assert_equal(&path, &target, None).await;
    target.drop().await;
}

fn quarantine_lines(path: &Path) -> Vec<(String, String, String)> {
    let mut lines: Vec<(String, String, String)> = std::fs::read_to_string(path)
        .expect("quarantine file")
        .lines()
        .map(|l| {
            let row: serde_json::Value = serde_json::from_str(l).expect("json line");
            (
                row["table"].to_string(),
                row["key"].to_string(),
                row["reason"].to_string(),
            )
        })
        .collect();
    lines.sort();
    lines
}

#[tokio::test]
async fn the_initial_copy_judges_bad_rows_exactly_as_copy_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("dirty.db");
    synthlab_db::copy::generate(
        &path,
        &synthlab_db::copy::GenerateOptions {
            scale: 0.02,
            faults: synthlab_db::copy::FaultKind::ALL.to_vec(),
            ..Default::default()
        },
    )
    .expect("generate");
    let pristine = dir.path().join("pristine.db");
    std::fs::copy(&path, &pristine).expect("copy of the file");

    let target = Target::new().await;
    let err = Follower::start(options(&path, &target), &Silent)
        .await
        .err()
        .expect("abort mode refuses a dirty file");
    assert_eq!(err.kind(), ErrorKind::Check, "{err}");
    assert_eq!(
        target.scalar("SELECT count(*) FROM experiments").await,
        0,
        "nothing committed"
    );

    let synced = dir.path().join("sync.jsonl");
    let mut quarantine = options(&path, &target);
    quarantine.on_error = OnError::Quarantine;
    quarantine.quarantine = Some(synced.clone());
    Follower::start(quarantine, &Silent).await.expect("quarantine mode");
    assert_equal(&path, &target, Some(&synced)).await;

    let copied_target = Target::new().await;
    let copied = dir.path().join("copy.jsonl");
    let mut copy = synthlab_db::copy::CopyOptions::new(&pristine, copied_target.config.clone());
    copy.on_error = OnError::Quarantine;
    copy.quarantine = Some(copied.clone());
    synthlab_db::copy::copy(&copy, &Silent).await.expect("copy");
    let (from_sync, from_copy) = (quarantine_lines(&synced), quarantine_lines(&copied));
    assert!(!from_sync.is_empty());
    assert_eq!(from_sync, from_copy);
    target.drop().await;
    copied_target.drop().await;
}
