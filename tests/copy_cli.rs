//! `synthlab-db generate`, `copy` and `verify` at the command line, without a server: help,
//! usage errors, determinism of the generator.

#![cfg(feature = "sqlite")]

use std::process::{Command, Output};

fn synthlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synthlab-db"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("SYNTHLAB_DB_PATH")
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

#[test]
fn copy_verify_and_generate_have_help() {
    for command in ["copy", "verify", "generate"] {
        let out = synthlab(&[command, "--help"]);
        assert_eq!(out.status.code(), Some(0), "{command}: {}", text(&out));
        assert!(text(&out).contains("Usage"), "{command}");
    }
}

#[test]
fn the_same_seed_gives_the_same_file_and_another_seed_another() {
    let dir = tempfile::tempdir().expect("dir");
    let path = |name: &str| dir.path().join(name).display().to_string();
    for (name, seed) in [("a.db", "3"), ("b.db", "3"), ("c.db", "4")] {
        let out = synthlab(&[
            "generate",
            "--out",
            &path(name),
            "--scale",
            "0.02",
            "--seed",
            seed,
            "--dirty",
        ]);
        assert!(out.status.success(), "{}", text(&out));
    }
    let read = |name: &str| std::fs::read(dir.path().join(name)).expect("file");
    assert_eq!(read("a.db"), read("b.db"));
    assert_ne!(read("a.db"), read("c.db"));
    let out = synthlab(&[
        "generate",
        "--out",
        &path("d.db"),
        "--scale",
        "0.02",
        "--format",
        "json",
        "--dirty",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(doc["layout"], 15);
    assert_eq!(doc["faults"].as_array().map(Vec::len), Some(13), "{doc}");
}

#[test]
fn usage_errors_exit_2_and_a_missing_source_exits_1() {
    let dir = tempfile::tempdir().expect("dir");
    let missing = dir.path().join("missing.db").display().to_string();
    let out = synthlab(&["copy", "--from", &missing, "--to", "sqlite://x.db"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("postgres://"), "{}", text(&out));
    let out = synthlab(&["generate", "--out", &missing, "--layout", "9"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = synthlab(&["generate", "--out", &missing, "--faults", "gremlins"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = synthlab(&[
        "copy",
        "--from",
        &missing,
        "--to",
        "postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=1",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("does not exist"), "{}", text(&out));
    assert!(!text(&out).contains("hunter2"), "{}", text(&out));
}

#[test]
fn generate_refuses_an_existing_file_unless_forced() {
    let dir = tempfile::tempdir().expect("dir");
    let out_path = dir.path().join("taken.db");
    let wal = dir.path().join("taken.db-wal");
    std::fs::write(&out_path, b"someone else's data").expect("file");
    std::fs::write(&wal, b"committed rows").expect("wal");
    let file = out_path.display().to_string();
    let args = ["generate", "--out", &file, "--scale", "0.01"];
    let out = synthlab(&args);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("--force"), "{}", text(&out));
    assert_eq!(std::fs::read(&out_path).expect("kept"), b"someone else's data");
    assert_eq!(std::fs::read(&wal).expect("kept"), b"committed rows");
    let out = synthlab(&[&args[..], &["--force"]].concat());
    assert!(out.status.success(), "{}", text(&out));
    assert_ne!(std::fs::read(&out_path).expect("replaced"), b"someone else's data");
}
