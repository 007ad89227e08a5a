//! The `synthlab-db` commands through a real PgBouncer in transaction mode
//! (`tests/support/pgbouncer.rs`): with `pgbouncer=true` every command works (status, doctor,
//! migrate and its reports, schema check, demo, copy, verify), also many at once; without it,
//! `doctor` recognises the pooler and says what is missing.

#![cfg(all(feature = "parity", feature = "sqlite"))]

#[path = "support/pgbouncer.rs"]
mod pgbouncer;
#[path = "support/scratch.rs"]
mod scratch;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use pgbouncer::{PgBouncer, Upstream};
use scratch::{ScratchDatabase, text};

fn synthlab(dir: &Path, args: &[&str], url: &str) -> Output {
    command(dir, args, url).output().expect("binary runs")
}

fn command(dir: &Path, args: &[&str], url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_synthlab-db"));
    command
        .current_dir(dir)
        .args(args)
        .env_remove("SYNTHLAB_DB_PATH")
        .env_remove("SYNTHLAB_PGBOUNCER")
        .env("DATABASE_URL", url);
    command
}

#[test]
fn schema_commands_status_doctor_and_demo_work_through_pgbouncer() {
    let database = ScratchDatabase::create("pgb_cli");
    let bouncer = PgBouncer::start(&Upstream::parity(), &[]);
    let url = bouncer.url(&database.name, "pgbouncer=true");
    let dir = tempfile::tempdir().expect("dir");
    let run = |args: &[&str], url: &str| {
        let out = synthlab(dir.path(), args, url);
        (out.status.code(), text(&out))
    };

    for (args, expect) in [
        (&["migrate"][..], "applied V1"),
        (&["migrate", "status"], "version"),
        (&["migrate", "history"], "initial_schema"),
        (&["schema", "check"], ""),
        (&["demo"], "demo data"),
        (&["status"], "synths"),
        (&["status", "--format", "json"], "\"schema_version\": 1"),
    ] {
        let (code, out) = run(args, &url);
        assert_eq!(
            code,
            Some(0),
            "{args:?} through PgBouncer: {out}\nPgBouncer log:\n{}",
            bouncer.log()
        );
        assert!(out.contains(expect), "{args:?}: {out}");
    }

    let (code, out) = run(&["doctor"], &url);
    assert_eq!(code, Some(0), "doctor with pgbouncer=true: {out}");
    assert!(
        out.contains("pooler:") && out.contains("transaction pooler in front"),
        "{out}"
    );

    // Without pgbouncer=true, doctor sees the pooler and says what is missing.
    let (code, out) = run(&["doctor"], &bouncer.url(&database.name, ""));
    assert_eq!(code, Some(1), "doctor without pgbouncer=true: {out}");
    assert!(out.contains("pgbouncer=true is missing"), "{out}");
    // Connected directly, no pooler is reported.
    let direct = std::env::var("PARITY_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let direct = format!(
        "{}/{}",
        direct.rsplit_once('/').expect("database in the URL").0,
        database.name
    );
    let (code, out) = run(&["doctor"], &direct);
    assert_eq!(code, Some(0), "doctor connected directly: {out}");
    assert!(out.contains("pooler:") && out.contains("none seen"), "{out}");

    // Many processes at once (before the fix: most failed with `prepared statement "s2"
    // already exists`).
    let children: Vec<_> = (0..20)
        .map(|_| {
            command(dir.path(), &["status"], &url)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn status")
        })
        .collect();
    let failed: Vec<String> = children
        .into_iter()
        .map(|child| child.wait_with_output().expect("status runs"))
        .filter(|out| !out.status.success())
        .map(|out| text(&out))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of 20 concurrent status runs failed: {:?}",
        failed.len(),
        failed.first()
    );
}

#[test]
fn copy_and_verify_work_through_pgbouncer() {
    let database = ScratchDatabase::create("pgb_copy");
    let bouncer = PgBouncer::start(&Upstream::parity(), &[]);
    let url = bouncer.url(&database.name, "pgbouncer=true");
    let dir = tempfile::tempdir().expect("dir");
    let run = |args: &[&str]| {
        let out = synthlab(dir.path(), args, &url);
        (out.status.code(), text(&out))
    };
    let (code, out) = run(&["generate", "--out", "dirty.db", "--scale", "0.02", "--dirty"]);
    assert_eq!(code, Some(0), "generate: {out}");

    // Quarantine mode: one commit per table, the lock checked at each.
    let copy = [
        "copy",
        "--from",
        "dirty.db",
        "--on-error",
        "quarantine",
        "--quarantine",
        "q.jsonl",
    ];
    let (code, out) = run(&copy);
    assert_eq!(
        code,
        Some(0),
        "copy through PgBouncer: {out}\nPgBouncer log:\n{}",
        bouncer.log()
    );
    assert!(out.contains("bad rows quarantined"), "{out}");
    let (code, out) = run(&["verify", "--from", "dirty.db", "--quarantine", "q.jsonl"]);
    assert_eq!(code, Some(0), "verify through PgBouncer: {out}");
    // Again: every table merges (stage tables, batches), nothing is left to copy.
    let (code, out) = run(&copy);
    assert_eq!(code, Some(0), "second copy through PgBouncer: {out}");
    assert!(out.contains("up to date"), "{out}");
}
