//! The `synthlab-db` binary: configuration errors, redaction, status, migrate, demo.

#[path = "support/binary.rs"]
mod binary;

use std::process::Output;
use std::time::{Duration, Instant};

fn synthlab(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = binary::synthlab_db();
    command.current_dir(dir).args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("binary runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn unknown_scheme_exits_2_naming_the_accepted_forms() {
    let dir = tempfile::tempdir().expect("dir");
    let out = synthlab(dir.path(), &["status"], &[("DATABASE_URL", "mysql://x")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("sqlite://") && all.contains("postgres://") && all.contains("postgresql://"),
        "{all}"
    );
    assert_eq!(all.trim().lines().count(), 1, "one clear line: {all}");
}

#[test]
fn malformed_flag_url_exits_2() {
    let dir = tempfile::tempdir().expect("dir");
    let out = synthlab(
        dir.path(),
        &["--database-url", "postgres://u:hunter2@/db", "status"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(!text(&out).contains("hunter2"), "{}", text(&out));
}

#[test]
fn unreachable_server_fails_fast_without_leaking_the_password() {
    let dir = tempfile::tempdir().expect("dir");
    let started = Instant::now();
    let out = synthlab(
        dir.path(),
        &["status"],
        &[
            ("DATABASE_URL", "postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=2"),
            ("RUST_LOG", "trace"),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let all = text(&out);
    assert!(!all.contains("hunter2"), "{all}");
    assert!(all.contains("u:***@127.0.0.1:1"), "{all}");
}

#[test]
fn usage_errors_exit_2_and_every_command_has_help() {
    let dir = tempfile::tempdir().expect("dir");
    assert_eq!(synthlab(dir.path(), &["no-such-command"], &[]).status.code(), Some(2));
    for command in [
        &["--help"][..],
        &["status", "--help"],
        &["migrate", "--help"],
        &["demo", "--help"],
        &["doctor", "--help"],
    ] {
        let out = synthlab(dir.path(), command, &[]);
        assert_eq!(out.status.code(), Some(0), "{command:?}: {}", text(&out));
        assert!(text(&out).contains("Usage"), "{command:?}");
    }
}

#[test]
fn status_on_a_missing_file_does_not_create_it() {
    let dir = tempfile::tempdir().expect("dir");
    let out = synthlab(dir.path(), &["status"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("does not exist"), "{}", text(&out));
    assert!(!dir.path().join("synthlab.db").exists());
}

#[test]
fn migrate_then_status_on_the_default_sqlite_file() {
    let dir = tempfile::tempdir().expect("dir");
    let out = synthlab(dir.path(), &["migrate"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("applied V1__initial_schema"), "{}", text(&out));
    let again = synthlab(dir.path(), &["migrate"], &[]);
    assert!(text(&again).contains("up to date"), "{}", text(&again));
    let out = synthlab(dir.path(), &["status", "--format", "json"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["backend"], "sqlite");
    assert_eq!(doc["schema_version"], synthlab_db::schema::latest_version());
    assert_eq!(doc["tables"].as_array().map(Vec::len), Some(17));
}

#[test]
fn output_to_a_closed_pipe_ends_quietly_without_a_panic() {
    // `synthlab-db status | head -0`: the reader is gone before the first line is written.
    let dir = tempfile::tempdir().expect("dir");
    assert!(synthlab(dir.path(), &["migrate"], &[]).status.success());
    for args in [
        &["status"][..],
        &["migrate", "history"],
        &["doctor"],
        &["status", "--format", "json"],
    ] {
        let mut child = binary::synthlab_db()
            .current_dir(dir.path())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("binary runs");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("binary ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn an_unknown_synthlab_variable_is_named_in_a_warning_without_its_value() {
    let dir = tempfile::tempdir().expect("dir");
    let out = synthlab(
        dir.path(),
        &["migrate"],
        &[("SYNTHLAB_POOL_SZE", "s3cret-value"), ("SYNTHLAB_POOL_MAX_SIZE", "4")],
    );
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown environment variable SYNTHLAB_POOL_SZE"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("SYNTHLAB_POOL_MAX_SIZE"),
        "a known variable is not warned of: {stderr}"
    );
    assert!(!stderr.contains("s3cret-value"), "{stderr}");
}

#[test]
fn demo_creates_the_default_file_and_loads_fixtures_idempotently() {
    let dir = tempfile::tempdir().expect("dir");
    let out = synthlab(dir.path(), &["demo"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(dir.path().join("synthlab.db").exists());
    let all = text(&out);
    assert!(all.contains("synths") && all.contains("50"), "{all}");
    let again = synthlab(dir.path(), &["demo"], &[]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("0 rows created"), "{}", text(&again));
}

#[test]
fn legacy_env_path_selects_a_sqlite_file() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("legacy-path.db");
    let path = path.to_str().expect("utf-8 path");
    let out = synthlab(dir.path(), &["migrate"], &[("SYNTHLAB_DB_PATH", path)]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(std::path::Path::new(path).exists());
}

#[test]
fn dotenv_file_is_read_when_the_environment_is_silent() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join(".env"), "DATABASE_URL=sqlite://from-dotenv.db\n").expect("write .env");
    let out = synthlab(dir.path(), &["migrate"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(dir.path().join("from-dotenv.db").exists());
}

#[cfg(feature = "parity")]
#[test]
fn demo_on_postgres_loads_the_same_counts() {
    // A dedicated database so the demo never collides with other tests.
    let base =
        std::env::var("PARITY_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let admin = base.clone();
    let dbname = format!("synthlab_cli_demo_{}", std::process::id());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let client = synthlab_db::pg::connect_url(&admin)
            .await
            .expect("PostgreSQL unreachable (PARITY_DATABASE_URL); start one: make pg-start");
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {dbname}"))
            .await
            .expect("drop");
        client
            .batch_execute(&format!("CREATE DATABASE {dbname}"))
            .await
            .expect("create");
    });
    let url = match base.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{dbname}"),
        None => panic!("bad PARITY_DATABASE_URL"),
    };
    let dir = tempfile::tempdir().expect("dir");
    let out = synthlab(dir.path(), &["demo"], &[("DATABASE_URL", &url)]);
    assert!(out.status.success(), "{}", text(&out));
    let all = text(&out);
    assert!(all.contains("backend:         postgres"), "{all}");
    let synth_line = all.lines().find(|l| l.starts_with("synths ")).expect("synths row");
    assert!(synth_line.trim_end().ends_with(" 50"), "{synth_line}");
    runtime.block_on(async {
        let client = synthlab_db::pg::connect_url(&admin).await.expect("reconnect");
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"))
            .await
            .expect("drop");
    });
}

#[test]
fn doctor_on_a_migrated_sqlite_file_prints_the_facts_and_exits_0() {
    let dir = tempfile::tempdir().expect("dir");
    assert!(synthlab(dir.path(), &["migrate"], &[]).status.success());
    let out = synthlab(dir.path(), &["doctor"], &[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    for fact in [
        "backend:       sqlite",
        "file:",
        "synthlab.db",
        "journal mode wal",
        "foreign keys:  on",
        "busy timeout:  5000 ms",
        "integrity:     quick_check ok",
        &format!("schema:        version {}", synthlab_db::schema::latest_version()),
        "pending: none",
        "all checks passed",
    ] {
        assert!(all.contains(fact), "missing '{fact}':\n{all}");
    }
    let json = synthlab(dir.path(), &["doctor", "--format", "json"], &[]);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(doc["healthy"], true, "{doc}");
    assert!(doc["checks"].as_array().is_some_and(|c| c.len() >= 7), "{doc}");
}

#[test]
fn doctor_exits_1_with_the_reason_when_something_is_wrong() {
    let dir = tempfile::tempdir().expect("dir");
    // No file at all.
    let out = synthlab(dir.path(), &["doctor"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("does not exist"), "{}", text(&out));
    assert!(!dir.path().join("synthlab.db").exists(), "doctor creates nothing");
    // An empty database: the schema is missing.
    std::fs::write(dir.path().join("synthlab.db"), b"").expect("empty file");
    let out = synthlab(dir.path(), &["doctor"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("pending migrations: run `synthlab-db migrate`"),
        "{}",
        text(&out)
    );
    // An unreachable server, with the password redacted even at trace level.
    let out = synthlab(
        dir.path(),
        &["doctor"],
        &[
            ("DATABASE_URL", "postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=2"),
            ("RUST_LOG", "trace"),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("connectivity"), "{}", text(&out));
    assert!(!text(&out).contains("hunter2"), "{}", text(&out));
}

#[cfg(feature = "parity")]
#[test]
fn doctor_on_postgres_prints_server_tls_pool_schema_and_collation() {
    let base =
        std::env::var("PARITY_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let dbname = format!("synthlab_cli_doctor_{}", std::process::id());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let admin = |sql: String| {
        runtime.block_on(async {
            let client = synthlab_db::pg::connect_url(&base)
                .await
                .expect("PostgreSQL unreachable (PARITY_DATABASE_URL); start one: make pg-start");
            client.batch_execute(&sql).await.expect("admin statement");
        })
    };
    admin(format!("DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"));
    admin(format!("CREATE DATABASE {dbname}"));
    let url = match base.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{dbname}"),
        None => panic!("bad PARITY_DATABASE_URL"),
    };
    let dir = tempfile::tempdir().expect("dir");
    let before = synthlab(dir.path(), &["doctor"], &[("DATABASE_URL", &url)]);
    assert_eq!(before.status.code(), Some(1), "unmigrated: {}", text(&before));
    assert!(text(&before).contains("pending migrations"), "{}", text(&before));
    assert!(
        synthlab(dir.path(), &["migrate"], &[("DATABASE_URL", &url)])
            .status
            .success()
    );
    let out = synthlab(dir.path(), &["doctor"], &[("DATABASE_URL", &url)]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    for fact in [
        "connectivity:  ok",
        "server:        PostgreSQL ",
        "tls:           ",
        "sslmode=prefer",
        "pool:          max 16, open ",
        "recycling verified",
        "schema:        version ",
        "pending: none",
        "encoding UTF8, collation ",
        "all checks passed",
    ] {
        assert!(all.contains(fact), "missing '{fact}':\n{all}");
    }
    admin(format!("DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"));
}

#[test]
fn huge_configuration_numbers_exit_2_naming_the_range() {
    let dir = tempfile::tempdir().expect("dir");
    for (url, env, range) in [
        (
            "postgres://h/db?pool_max_size=18446744073709551615",
            None,
            "from 1 to 10000",
        ),
        ("postgres://h/db?pool_max_size=100000000000", None, "from 1 to 10000"),
        ("sqlite://a.db?max_readers=18446744073709551615", None, "from 0 to 256"),
        (
            "sqlite://a.db?busy_timeout_ms=18446744073709551615",
            None,
            "from 0 to 86400000",
        ),
        (
            "sqlite://a.db",
            Some(("SYNTHLAB_SQLITE_MAX_READERS", "99999999999999")),
            "from 0 to 256",
        ),
        (
            "postgres://h/db",
            Some(("SYNTHLAB_POOL_MAX_SIZE", "100000000000")),
            "from 1 to 10000",
        ),
    ] {
        let mut vars = vec![("DATABASE_URL", url)];
        vars.extend(env);
        for command in [&["status"][..], &["doctor"]] {
            let out = synthlab(dir.path(), command, &vars);
            let all = text(&out);
            assert_eq!(out.status.code(), Some(2), "{url} {env:?}: {all}");
            assert!(all.contains(range) && !all.contains("panicked"), "{url} {env:?}: {all}");
        }
    }
}

#[test]
fn errors_print_one_prefix_and_no_backend_name() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("junk.db"), [0x5a_u8; 4096]).expect("junk");
    let out = synthlab(dir.path(), &["--database-url", "sqlite://junk.db", "status"], &[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.starts_with("error: "), "{all}");
    assert_eq!(all.matches("error").count(), 1, "one prefix: {all}");
    assert!(!all.contains("sqlite:") && all.contains("not a database"), "{all}");
    assert_eq!(all.trim().lines().count(), 1, "{all}");
}
