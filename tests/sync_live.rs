//! The whole story with separate processes: the legacy application (a Python `sqlite3` writer,
//! rollback-journal file, foreign keys on, ≥ 50 transactions/s over several tables) keeps
//! writing while `synthlab-db sync --follow` makes the initial copy and follows; the follower is
//! killed with SIGKILL and started again; the writer stops; the sync drains. Then `verify`
//! exits 0, the writer saw no error and no transaction longer than 1 s, and `sync status`
//! reports nothing pending.

#![cfg(all(feature = "parity", feature = "sqlite", unix))]

#[path = "support/binary.rs"]
mod binary;
#[path = "support/sync_target.rs"]
mod support;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::{Target, fast_tempdir, legacy_file, writer_script};

fn binary() -> Command {
    let mut command = binary::synthlab_db();
    command.env("RUST_LOG", "warn");
    command
}

fn follower(path: &Path, target: &Target, log: &Path) -> Child {
    binary()
        .args(["sync", "--follow", "--poll-ms", "50", "--from"])
        .arg(path)
        .args(["--to", &target.url])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("log file"))
        .spawn()
        .expect("follower starts")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

async fn wait_for_state(path: &Path, target: &Target, child: &mut Child, log: &Path) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(status) = synthlab_db::sync::status(path, &target.config).await
            && let Some(applied) = status.applied
        {
            return applied;
        }
        if let Some(exit) = child.try_wait().expect("try_wait") {
            panic!(
                "the follower exited ({exit}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "the initial copy did not commit in time");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn legacy_writes_during_initial_sync_kill_and_restart_then_drain_and_verify() {
    let dir = fast_tempdir();
    let path = legacy_file(dir.path(), "legacy.db", 0.3);
    let target = Target::new().await;
    let stop = dir.path().join("stop");
    let writer = Command::new("python3")
        .arg(writer_script())
        .arg(&path)
        .args(["--rate", "80", "--seconds", "120", "--seed", "3", "--stop-file"])
        .arg(&stop)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 writer");
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The initial sync under writes, then following.
    let log1 = dir.path().join("follower1.log");
    let mut first = follower(&path, &target, &log1);
    let initial_position = wait_for_state(&path, &target, &mut first, &log1).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // The legacy application wrote while the initial copy ran: its changes were replayed.
    let log = std::fs::read_to_string(&log1).unwrap_or_default();
    let replayed: u64 = log
        .split("; ")
        .find_map(|part| part.split_once(" changes replayed")?.0.parse().ok())
        .unwrap_or_else(|| panic!("no initial copy line in the follower's log: {log}"));
    assert!(replayed > 0, "no write landed during the initial copy: {log}");

    // Killed anywhere: SIGKILL, no chance to clean up.
    first.kill().expect("SIGKILL");
    let killed = first.wait().expect("wait");
    assert_eq!(
        killed.signal(),
        Some(9),
        "the follower did not die by SIGKILL: {killed}"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;

    let log2 = dir.path().join("follower2.log");
    let mut second = follower(&path, &target, &log2);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let following = synthlab_db::sync::status(&path, &target.config).await.expect("status");
    assert!(
        following.applied.expect("state") > initial_position,
        "the restarted follower applies nothing"
    );

    // The legacy application stops; the writer must have seen no error and no long wait.
    std::fs::write(&stop, b"stop").expect("stop file");
    let written = writer.wait_with_output().expect("writer output");
    let report: serde_json::Value =
        serde_json::from_slice(&written.stdout).unwrap_or_else(|e| panic!("writer report ({e}): {}", text(&written)));
    assert!(written.status.success(), "the legacy writer saw errors: {report}");
    assert_eq!(report["errors"], serde_json::json!([]), "{report}");
    assert!(
        report["rate"].as_f64().expect("rate") >= 50.0,
        "writer too slow: {report}"
    );
    assert!(
        report["longest_transaction_ms"].as_f64().expect("longest") < 1000.0,
        "the legacy writer waited more than 1 s: {report}"
    );
    for kind in [
        "hard_delete",
        "replace_outcome",
        "upsert_cache",
        "new_run",
        "soft_delete",
    ] {
        assert!(report["kinds"][kind].as_u64().unwrap_or(0) > 0, "no {kind}: {report}");
    }

    // SIGTERM: the follower finishes its batch and exits 0.
    let term = Command::new("kill")
        .args(["-TERM", &second.id().to_string()])
        .status()
        .expect("kill");
    assert!(term.success());
    let stopped = second.wait().expect("wait");
    assert!(
        stopped.success(),
        "SIGTERM did not stop the follower cleanly ({stopped}): {}",
        std::fs::read_to_string(&log2).unwrap_or_default()
    );

    // Drain what is left, then prove it.
    let drained = Instant::now();
    let drain = binary()
        .args(["sync", "--from"])
        .arg(&path)
        .args(["--to", &target.url])
        .output()
        .expect("sync");
    assert!(drain.status.success(), "{}", text(&drain));
    eprintln!(
        "drain after the writer stopped: {:.2} s",
        drained.elapsed().as_secs_f64()
    );
    let verify = binary()
        .args(["verify", "--from"])
        .arg(&path)
        .args(["--to", &target.url])
        .output()
        .expect("verify");
    assert!(verify.status.success(), "verify failed:\n{}", text(&verify));

    let status = binary()
        .args(["sync", "status", "--format", "json", "--from"])
        .arg(&path)
        .args(["--to", &target.url])
        .output()
        .expect("status");
    assert!(status.status.success(), "{}", text(&status));
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status JSON");
    for key in [
        "captured",
        "applied",
        "pending",
        "lag_seconds",
        "last_apply_time",
        "capture",
    ] {
        assert!(status.get(key).is_some(), "status lacks {key}: {status}");
    }
    assert_eq!(status["pending"], 0, "{status}");
    assert_eq!(status["captured"], status["applied"], "{status}");
    assert_eq!(status["capture"], "installed", "{status}");
    let info = &status["capture_info"];
    assert!(
        info["triggers"][0]["table"].is_string() && info["triggers"][0]["trigger"].is_string(),
        "{status}"
    );
    assert!(
        info["followers"][0]["follower"].is_string() && info["followers"][0]["applied"].is_i64(),
        "{status}"
    );
    eprintln!("writer: {report}");
    target.drop().await;
}
