//! The schema commands of the binary: migrate up/down/history/status/new, adopt, schema check,
//! two migrator processes at once, exit codes.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use synthlab_db::legacy::{LegacyLayout, LegacyVersion, build_legacy_file, sample_rows};

fn synthlab(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    command(dir, args, env).output().expect("binary runs")
}

fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_synthlab-db"));
    command
        .current_dir(dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("SYNTHLAB_DB_PATH");
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn every_schema_command_has_help() {
    let dir = tempfile::tempdir().expect("dir");
    for command in [
        &["migrate", "--help"][..],
        &["migrate", "up", "--help"],
        &["migrate", "down", "--help"],
        &["migrate", "history", "--help"],
        &["migrate", "status", "--help"],
        &["migrate", "new", "--help"],
        &["adopt", "--help"],
        &["schema", "--help"],
        &["schema", "check", "--help"],
    ] {
        let out = synthlab(dir.path(), command, &[]);
        assert_eq!(out.status.code(), Some(0), "{command:?}: {}", text(&out));
        assert!(text(&out).contains("Usage"), "{command:?}");
    }
    let out = synthlab(dir.path(), &["migrate", "down"], &[]);
    assert_eq!(out.status.code(), Some(2), "down needs --to or --steps: {}", text(&out));
    let out = synthlab(dir.path(), &["migrate", "down", "--to", "0", "--steps", "1"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn migrate_up_down_history_status_and_check_on_a_sqlite_file() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    let out = synthlab(d, &["migrate", "up", "--to", "1"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("applied V1__initial_schema"));
    let out = synthlab(d, &["migrate", "history"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let history = text(&out);
    assert!(
        history.contains("initial_schema") && history.contains(" ok"),
        "{history}"
    );
    let out = synthlab(d, &["migrate", "status", "--format", "json"], &[]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["current_version"], 1);
    assert_eq!(doc["problems"].as_array().map(Vec::len), Some(0));
    let out = synthlab(d, &["schema", "check"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let out = synthlab(d, &["migrate", "down", "--to", "0"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("rolled back V1__initial_schema"));
    let out = synthlab(d, &["migrate", "down", "--steps", "1"], &[]);
    assert_eq!(out.status.code(), Some(2), "nothing applied: {}", text(&out));
    let out = synthlab(d, &["migrate", "status"], &[]);
    assert!(
        text(&out).contains("pending:          V1__initial_schema"),
        "{}",
        text(&out)
    );
    let out = synthlab(d, &["migrate"], &[]);
    assert!(text(&out).contains("applied V1__initial_schema"), "{}", text(&out));

    // Drift is named and exits 1.
    let conn = rusqlite::Connection::open(d.join("synthlab.db")).expect("open");
    conn.execute_batch("DROP INDEX idx_synths_nome; ALTER TABLE synths ADD COLUMN extra TEXT;")
        .expect("drift");
    let out = synthlab(d, &["schema", "check"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("index idx_synths_nome missing"), "{}", text(&out));
    assert!(text(&out).contains("column synths.extra unexpected"), "{}", text(&out));

    // A modified applied migration: status and history exit 1, migrate refuses.
    conn.execute(
        "UPDATE refinery_schema_history SET checksum = '1' WHERE version = 1",
        [],
    )
    .expect("tamper");
    let out = synthlab(d, &["migrate", "status"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("V1__initial_schema was modified after it was applied"),
        "{}",
        text(&out)
    );
    assert_eq!(synthlab(d, &["migrate", "history"], &[]).status.code(), Some(1));
    let out = synthlab(d, &["migrate"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("refusing to continue"), "{}", text(&out));
    let out = synthlab(d, &["migrate", "down", "--to", "0"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

#[test]
fn two_migrator_processes_at_once_apply_once() {
    let dir = tempfile::tempdir().expect("dir");
    for round in 0..3 {
        let db = format!("sqlite://race{round}.db");
        let env = [("DATABASE_URL", db.as_str())];
        let a = command(dir.path(), &["migrate"], &env)
            .stdout(Stdio::piped())
            .spawn()
            .expect("a");
        let b = command(dir.path(), &["migrate"], &env)
            .stdout(Stdio::piped())
            .spawn()
            .expect("b");
        let (a, b) = (a.wait_with_output().expect("a"), b.wait_with_output().expect("b"));
        assert!(a.status.success() && b.status.success(), "{} / {}", text(&a), text(&b));
        let applied = [&a, &b]
            .iter()
            .filter(|o| text(o).contains("applied V1__initial_schema"))
            .count();
        let idle = [&a, &b].iter().filter(|o| text(o).contains("up to date")).count();
        assert_eq!((applied, idle), (1, 1), "{} / {}", text(&a), text(&b));
        let out = synthlab(dir.path(), &["migrate", "history"], &env);
        assert_eq!(text(&out).matches("initial_schema").count(), 1, "{}", text(&out));
    }
}

#[test]
fn migrate_new_writes_four_numbered_files_and_refuses_bad_names() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    let out = synthlab(d, &["migrate", "new", "add_tags"], &[]);
    assert_eq!(out.status.code(), Some(1), "no migrations folder: {}", text(&out));
    for dialect in ["sqlite", "postgres"] {
        std::fs::create_dir_all(d.join("migrations").join(dialect)).expect("mkdir");
        std::fs::write(
            d.join("migrations").join(dialect).join("V1__initial_schema.sql"),
            "-- v1",
        )
        .expect("write");
    }
    std::fs::write(d.join("migrations/postgres/V3__only_here.sql"), "-- v3").expect("write");
    // No database is needed, even a broken DATABASE_URL does not matter.
    let out = synthlab(d, &["migrate", "new", "add_tags"], &[("DATABASE_URL", "mysql://nope")]);
    assert!(out.status.success(), "{}", text(&out));
    for file in [
        "migrations/sqlite/V4__add_tags.sql",
        "migrations/sqlite/V4__add_tags.down.sql",
        "migrations/postgres/V4__add_tags.sql",
        "migrations/postgres/V4__add_tags.down.sql",
    ] {
        let body = std::fs::read_to_string(d.join(file)).unwrap_or_else(|_| panic!("{file} created"));
        assert!(body.contains("KEEP EQUIVALENT"), "{file}: {body}");
    }
    let up = std::fs::read_to_string(d.join("migrations/sqlite/V4__add_tags.sql")).expect("read");
    assert!(up.contains("migrations/postgres/V4__add_tags.sql"), "{up}");
    for bad in ["Add-Tags", "1tags", "drop table", "a__b", ""] {
        let out = synthlab(d, &["migrate", "new", bad], &[]);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", text(&out));
        assert!(text(&out).contains("invalid migration name"), "{}", text(&out));
    }
    let out = synthlab(d, &["migrate", "new", "next_one", "--dir", "migrations"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(d.join("migrations/postgres/V5__next_one.down.sql").exists());
}

#[test]
fn a_legacy_v15_file_is_refused_by_migrate_then_adopted_and_checked() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    let layout = LegacyLayout::fresh(LegacyVersion::V15);
    let rows = sample_rows(&layout).expect("rows");
    build_legacy_file(&d.join("legacy.db"), &layout, &rows).expect("legacy file");
    let env = [("DATABASE_URL", "sqlite://legacy.db")];
    let out = synthlab(d, &["migrate"], &env);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("synthlab-db adopt"), "{}", text(&out));
    let out = synthlab(d, &["schema", "check"], &env);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    let out = synthlab(d, &["adopt", "--format", "json"], &env);
    assert!(out.status.success(), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["outcome"], "adopted");
    assert_eq!(doc["layout"]["version"], "v15");
    let backup = doc["backup"].as_str().expect("backup path");
    assert!(Path::new(backup).exists() || d.join(backup).exists(), "{backup}");
    let rows_after: i64 = doc["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r[1].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(rows_after, i64::try_from(rows.len()).expect("count"), "every row kept");

    let out = synthlab(d, &["schema", "check"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // Adopted at V1: `migrate` applies what came after it, if anything, then nothing is left.
    let out = synthlab(d, &["migrate"], &env);
    assert!(out.status.success(), "{}", text(&out));
    let out = synthlab(d, &["migrate"], &env);
    assert!(text(&out).contains("up to date"), "{}", text(&out));
    let out = synthlab(d, &["adopt"], &env);
    assert!(
        out.status.success() && text(&out).contains("already under management"),
        "{}",
        text(&out)
    );
}

#[test]
fn adopt_stops_on_a_refused_row_with_exit_1() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    let layout = LegacyLayout::upgraded(LegacyVersion::V9, LegacyVersion::V15);
    let mut rows = sample_rows(&layout).expect("rows");
    for row in rows.iter_mut().filter(|r| r.table == "experiments") {
        row.values.retain(|(c, _)| c != "status");
        row.values.push(("status".into(), "archived".into()));
    }
    build_legacy_file(&d.join("legacy.db"), &layout, &rows).expect("legacy file");
    let bytes = std::fs::read(d.join("legacy.db")).expect("read");
    let out = synthlab(d, &["adopt"], &[("DATABASE_URL", "sqlite://legacy.db")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("3 row(s) would be refused"), "{}", text(&out));
    assert!(
        text(&out).contains("id = 'exp_0000000c': column status = 'archived'"),
        "{}",
        text(&out)
    );
    assert_eq!(std::fs::read(d.join("legacy.db")).expect("read"), bytes);
}

#[cfg(feature = "parity")]
#[test]
fn postgres_database_up_down_up_check_and_a_dropped_index() {
    let base =
        std::env::var("PARITY_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let dbname = format!("synthlab_cli_schema_{}", std::process::id());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let admin = |sql: String| {
        runtime.block_on(async {
            let client = synthlab_db::pg::connect_url(&base)
                .await
                .expect("PostgreSQL unreachable (PARITY_DATABASE_URL); start one: make pg-start");
            client.batch_execute(&sql).await.expect("admin statement");
        });
    };
    admin(format!("DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"));
    admin(format!("CREATE DATABASE {dbname}"));
    let url = match base.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{dbname}"),
        None => panic!("bad PARITY_DATABASE_URL"),
    };
    let dir = tempfile::tempdir().expect("dir");
    let env = [("DATABASE_URL", url.as_str())];
    for args in [
        &["migrate"][..],
        &["migrate", "down", "--to", "0"],
        &["migrate"],
        &["schema", "check"],
    ] {
        let out = synthlab(dir.path(), args, &env);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out));
    }
    // Two migrator processes at once on a fresh database.
    let out = synthlab(dir.path(), &["migrate", "down", "--to", "0"], &env);
    assert!(out.status.success(), "{}", text(&out));
    let a = command(dir.path(), &["migrate"], &env)
        .stdout(Stdio::piped())
        .spawn()
        .expect("a");
    let b = command(dir.path(), &["migrate"], &env)
        .stdout(Stdio::piped())
        .spawn()
        .expect("b");
    let (a, b) = (a.wait_with_output().expect("a"), b.wait_with_output().expect("b"));
    assert!(a.status.success() && b.status.success(), "{} / {}", text(&a), text(&b));
    let applied = [&a, &b].iter().filter(|o| text(o).contains("applied V1")).count();
    assert_eq!(applied, 1, "{} / {}", text(&a), text(&b));

    let db_url = url.clone();
    runtime.block_on(async {
        let client = synthlab_db::pg::connect_url(&db_url).await.expect("connect");
        client
            .batch_execute("DROP INDEX idx_experiments_status")
            .await
            .expect("drop index");
    });
    let out = synthlab(dir.path(), &["schema", "check"], &env);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("index idx_experiments_status missing"),
        "{}",
        text(&out)
    );
    let check_schemas: i64 = runtime.block_on(async {
        let client = synthlab_db::pg::connect_url(&db_url).await.expect("connect");
        client
            .query_one(
                "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'synthlab_check%'",
                &[],
            )
            .await
            .expect("count")
            .get(0)
    });
    assert_eq!(check_schemas, 0, "the scratch schema of the check is gone");
    admin(format!("DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"));
}

/// The journal mode of a file, read through a read-only connection (which changes nothing).
fn journal_mode(path: &Path) -> String {
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
    conn.query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .expect("journal mode")
}

#[test]
fn read_only_commands_leave_an_unadopted_legacy_file_as_it_was() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    let path = d.join("legacy.db");
    let layout = LegacyLayout::fresh(LegacyVersion::V15);
    build_legacy_file(&path, &layout, &sample_rows(&layout).expect("rows")).expect("legacy file");
    // A legacy file in rollback-journal mode: a switch to WAL would show.
    rusqlite::Connection::open(&path)
        .expect("open")
        .pragma_update(None, "journal_mode", "DELETE")
        .expect("delete mode");
    let bytes = std::fs::read(&path).expect("read");
    assert_eq!(journal_mode(&path), "delete");
    let env = [("DATABASE_URL", "sqlite://legacy.db")];
    for command in [
        &["status"][..],
        &["status", "--format", "json"],
        &["doctor"],
        &["migrate", "status"],
        &["migrate", "history"],
        &["schema", "check"],
    ] {
        let out = synthlab(d, command, &env);
        assert_ne!(
            out.status.code(),
            Some(0),
            "{command:?} refuses the legacy file: {}",
            text(&out)
        );
        assert!(!text(&out).contains("panicked"), "{command:?}: {}", text(&out));
        assert!(
            std::fs::read(&path).expect("read") == bytes,
            "{command:?} changed the file"
        );
        assert_eq!(journal_mode(&path), "delete", "{command:?} changed the journal mode");
        assert!(!d.join("legacy.db-wal").exists(), "{command:?} left a WAL file");
    }
}

#[test]
fn migrate_down_over_data_exits_1_naming_the_tables_and_force_backs_up_first() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    let out = synthlab(d, &["demo"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = synthlab(d, &["migrate", "down", "--steps", "1"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("experiments: 6 row(s), table dropped") && text(&out).contains("--force"),
        "{}",
        text(&out)
    );
    let out = synthlab(d, &["migrate", "status", "--format", "json"], &[]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["current_version"], 1, "nothing rolled back");

    let out = synthlab(d, &["migrate", "down", "--steps", "1", "--force"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let all = text(&out);
    let backup = all
        .lines()
        .find_map(|l| l.strip_prefix("backup written: "))
        .unwrap_or_else(|| panic!("backup path printed: {all}"));
    assert!(Path::new(backup).exists(), "{backup}");
    assert!(all.contains("rolled back V1__initial_schema"), "{all}");
    let out = synthlab(d, &["--database-url", &format!("sqlite://{backup}"), "status"], &[]);
    assert!(
        text(&out).contains("experiments") && text(&out).contains(" 6"),
        "{}",
        text(&out)
    );
}
