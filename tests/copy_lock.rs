//! The copy lock (one copy into a target at a time) with real processes:
//!
//! - a copy killed with SIGKILL in the middle of its run can be run again at once (the lock is
//!   a transaction-scoped advisory lock of a connection of its own, which the server releases
//!   as soon as the process is gone);
//! - a copy that finds the lock held prints the holder's server process and waits for it, up
//!   to `--lock-timeout`, and fails only after that, naming the holder.

#![cfg(all(feature = "parity", feature = "sqlite"))]

#[path = "support/scratch.rs"]
mod scratch;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use scratch::{ScratchDatabase, text};

fn synthlab(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_synthlab-db"));
    command
        .current_dir(dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("SYNTHLAB_DB_PATH")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// A fresh database on the parity server with a small legacy file to copy into it.
struct Setup {
    dir: tempfile::TempDir,
    database: ScratchDatabase,
}

impl Setup {
    fn new(purpose: &str) -> Setup {
        let setup = Setup {
            dir: tempfile::tempdir().expect("dir"),
            database: ScratchDatabase::create(&format!("copylock_{purpose}")),
        };
        let out = synthlab(setup.dir.path(), &["generate", "--out", "legacy.db", "--scale", "0.02"])
            .output()
            .expect("generate");
        assert!(out.status.success(), "generate: {}", text(&out));
        setup
    }

    fn copy(&self, extra: &[&str], app: &str) -> Child {
        let to = format!("{}?application_name={app}", self.database.url);
        let mut args = vec!["copy", "--from", "legacy.db", "--to", &to];
        args.extend_from_slice(extra);
        synthlab(self.dir.path(), &args).spawn().expect("copy starts")
    }

    fn verify(&self) -> Output {
        synthlab(
            self.dir.path(),
            &["verify", "--from", "legacy.db", "--to", &self.database.url],
        )
        .output()
        .expect("verify runs")
    }
}

#[test]
fn a_copy_killed_with_sigkill_mid_run_can_be_run_again_at_once() {
    let setup = Setup::new("kill");
    let out = synthlab(setup.dir.path(), &["migrate"])
        .env("DATABASE_URL", &setup.database.url)
        .output()
        .expect("migrate");
    assert!(out.status.success(), "migrate: {}", text(&out));
    // Another session holds SHARE locks on every table: the copy's first write waits for them,
    // with its lock taken and its server session busy.
    let blocker = setup.database.connect();
    setup
        .database
        .runtime
        .block_on(blocker.batch_execute(&format!(
            "BEGIN; LOCK TABLE {} IN SHARE MODE",
            synthlab_db::schema::TABLES.join(", ")
        )))
        .expect("lock the tables");
    let mut first = setup.copy(&[], "copy_killed");
    let observer = setup.database.connect();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let waiting: i64 = setup
            .database
            .runtime
            .block_on(observer.query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'copy_killed' AND wait_event_type = 'Lock'",
                &[],
            ))
            .expect("pg_stat_activity")
            .get(0);
        if waiting > 0 {
            break;
        }
        assert!(
            first.try_wait().expect("copy status").is_none(),
            "the first copy ended before it was killed"
        );
        assert!(
            Instant::now() < deadline,
            "the first copy never reached its first write"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    first.kill().expect("SIGKILL the copy");
    first.wait().expect("reap the copy");

    // At once: the rerun takes the lock, then waits for the tables like the dead copy did.
    let started = Instant::now();
    let rerun = setup.copy(&["--lock-timeout", "30"], "copy_rerun");
    std::thread::sleep(Duration::from_millis(1500));
    setup
        .database
        .runtime
        .block_on(blocker.batch_execute("ROLLBACK"))
        .expect("release the tables");
    let out = rerun.wait_with_output().expect("rerun");
    assert!(
        out.status.success(),
        "rerun right after the kill ({:.1} s): {}",
        started.elapsed().as_secs_f64(),
        text(&out)
    );
    assert!(
        !text(&out).contains("another copy into this target is running"),
        "{}",
        text(&out)
    );
    let verified = setup.verify();
    assert!(verified.status.success(), "verify after the rerun: {}", text(&verified));
}

#[test]
fn a_held_lock_is_waited_for_with_the_holder_named_then_refused_after_the_timeout() {
    let setup = Setup::new("wait");
    // A session that holds the copy lock, as a dead copy's session does until the server
    // notices its client is gone.
    let holder = setup.database.connect();
    let pid: i32 = setup
        .database
        .runtime
        .block_on(async {
            holder.batch_execute("BEGIN").await?;
            holder
                .query_one(
                    "SELECT pg_backend_pid(), pg_advisory_xact_lock(hashtext('synthlab-db copy ' || current_database() || '.' || current_schema())::bigint)::text",
                    &[],
                )
                .await
        })
        .expect("take the copy lock")
        .get(0);

    let started = Instant::now();
    let waiting = setup.copy(&["--lock-timeout", "60"], "copy_waits");
    std::thread::sleep(Duration::from_secs(2));
    setup
        .database
        .runtime
        .block_on(holder.batch_execute("COMMIT"))
        .expect("release");
    let out = waiting.wait_with_output().expect("copy");
    let all = text(&out);
    assert!(out.status.success(), "the waiting copy: {all}");
    assert!(started.elapsed() >= Duration::from_secs(2), "did not wait: {all}");
    assert!(
        all.contains(&format!("another copy holds this target's lock (server process {pid}"))
            && all.contains("waiting up to 60 s"),
        "the holder is named: {all}"
    );

    setup
        .database
        .runtime
        .block_on(async {
            holder.batch_execute("BEGIN").await?;
            holder
                .batch_execute("SELECT pg_advisory_xact_lock(hashtext('synthlab-db copy ' || current_database() || '.' || current_schema())::bigint)")
                .await
        })
        .expect("take the copy lock again");
    let started = Instant::now();
    let out = setup
        .copy(&["--lock-timeout", "1"], "copy_gives_up")
        .wait_with_output()
        .expect("copy");
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(started.elapsed() >= Duration::from_secs(1), "{all}");
    assert!(
        all.contains("another copy into this target is running")
            && all.contains(&format!("server process {pid}"))
            && all.contains("after 1 s")
            && all.contains(&format!("pg_terminate_backend({pid})")),
        "{all}"
    );
    setup
        .database
        .runtime
        .block_on(holder.batch_execute("ROLLBACK"))
        .expect("release");
}
