//! No form of a password is ever printed where a connected store shows itself: log lines
//! (captured by a global subscriber, so every thread's lines are seen), the store's Debug, the
//! doctor report, and the `status` and `doctor` commands (text and JSON, with `RUST_LOG=trace`).
//! A whole session (calls, failures, units of work, spawned tasks, a killed connection, a dual
//! write, a failed connect) is logged and shows no password either.
//! Display, Debug and errors of the configuration itself are covered by the property test of
//! `src/config.rs`. The PostgreSQL server of the parity suite uses trust authentication, so every
//! password form below connects.
#![cfg(feature = "parity")]

#[path = "support/binary.rs"]
mod binary;
#[path = "support/scratch.rs"]
mod scratch;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use proptest::prelude::*;
use synthlab_db::{ConnectOptions, DatabaseConfig, Store};

/// Everything every thread logged since the test binary started.
fn log() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
            .with_ansi(false)
            .with_writer(move || SharedWriter(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
        buffer
    })
}

struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The parity server's address and user.
fn server() -> (String, u16, String) {
    let raw =
        std::env::var("PARITY_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let url = url::Url::parse(&raw).expect("PARITY_DATABASE_URL is a URL");
    (
        url.host_str().expect("host").to_owned(),
        url.port().unwrap_or(5432),
        url.username().to_owned(),
    )
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The URL of the parity server with `password` given in one of the forms people write.
fn url_with(password: &str, form: u8) -> String {
    let (host, port, user) = server();
    let encoded = percent_encode(password);
    let base = format!("{host}:{port}/postgres?sslmode=disable");
    match form {
        0 => format!("postgres://{user}:{password}@{base}"),
        1 => format!("postgres://{user}:{encoded}@{base}"),
        2 => format!("postgres://{user}@{base}&password={encoded}"),
        3 => format!("postgres://{user}@{base}&%70assword={encoded}"),
        _ => format!(
            "postgres://{user}@{base}&password={}",
            password.replace(['&', '#', '%', '+'], "x")
        ),
    }
}

fn password() -> impl Strategy<Value = String> {
    let char = prop_oneof![
        10 => (0x20u8..0x7f).prop_map(char::from),
        1 => prop::sample::select(vec!['é', 'ß', '€', '中', '😀', '\u{a0}', 'Ω']),
    ];
    prop::collection::vec(char, 8..24).prop_map(|chars| chars.into_iter().collect())
}

/// Fails when `text` shows the password or any 4-character piece of it.
fn assert_hidden(password: &str, text: &str, what: &str) {
    assert!(!text.contains(password), "{what} shows the password: {text}");
    assert!(
        !text.contains(&percent_encode(password)),
        "{what} shows the encoded password: {text}"
    );
    let chars: Vec<char> = password.chars().collect();
    for piece in chars.windows(4).map(|w| w.iter().collect::<String>()) {
        assert!(!text.contains(&piece), "{what} shows {piece:?} of {password:?}: {text}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn connected_store_logs_and_doctor_never_show_the_password(password in password(), form in 0u8..5) {
        let log = log();
        let raw = url_with(&password, form);
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
        let mut shown = Vec::new();
        let mut connected = false;
        runtime.block_on(async {
            match raw.parse::<DatabaseConfig>() {
                Err(err) => shown.push(format!("{err} {err:?}")),
                Ok(config) => {
                    shown.push(format!("{config} {config:?}"));
                    match Store::connect_with(&config, ConnectOptions::read_only_inspection()).await {
                        Ok(store) => {
                            connected = true;
                            shown.push(format!("{store:?} {}", store.config().redacted_url()));
                            shown.push(format!("{:?}", store.schema_status().await));
                        }
                        Err(err) => shown.push(format!("{err} {err:?}")),
                    }
                    let report = synthlab_db::doctor::diagnose(&config).await;
                    shown.push(serde_json::to_string(&report).expect("json"));
                }
            }
        });
        drop(runtime);
        let logged = String::from_utf8_lossy(&log.lock().expect("log")).into_owned();
        // The capture works: the connection was logged (with its redacted URL).
        prop_assert!(!connected || logged.contains("store connected"), "nothing captured");
        shown.push(logged);
        for text in &shown {
            assert_hidden(&password, text, &raw);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]
    #[test]
    fn status_and_doctor_commands_never_show_the_password(password in password(), form in 0u8..5) {
        let dir = tempfile::tempdir().expect("dir");
        let raw = url_with(&password, form);
        for args in [&["status"][..], &["status", "--format", "json"], &["doctor"], &["doctor", "--format", "json"]] {
            let out = binary::synthlab_db()
                .current_dir(dir.path())
                .args(args)
                .env("DATABASE_URL", &raw)
                .env("RUST_LOG", "trace")
                .output()
                .expect("binary runs");
            let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            assert_hidden(&password, &text, &format!("{args:?} of {raw}"));
        }
    }
}

/// A whole session on PostgreSQL with a password in the URL, logged at TRACE by the global
/// subscriber (every thread, spawned tasks included): connecting, successful calls, failed
/// calls, calls from spawned tasks, a committed and a rolled-back unit of work, a connection the
/// server kills under the pool, a dual-writing store whose secondary write fails, doctor, and a
/// connect that fails. Each of them is found in the log, and the password nowhere.
#[test]
fn a_session_logs_calls_failures_units_and_connects_but_never_the_password() {
    use synthlab_db::ErrorKind;
    use synthlab_db::cutover::RoutingConfig;
    use synthlab_db::model::{NewExperiment, PageRequest};
    use tracing::Instrument;

    const SECRET: &str = "Zx9!qW#7@vK$u:Pn";
    let log = log();
    let database = scratch::ScratchDatabase::create("no_password_log");
    let app = format!("synthlab_no_password_{}", std::process::id());
    let mut url = url::Url::parse(&database.url).expect("scratch URL");
    url.set_password(Some(SECRET)).expect("password");
    url.set_query(Some(&format!("sslmode=disable&application_name={app}")));
    let url = url.to_string();
    let dir = tempfile::tempdir().expect("dir");
    let sqlite = DatabaseConfig::sqlite_file(dir.path().join("dual.db"));
    let admin = database.connect();

    let mut shown = Vec::new();
    let session = async {
        let store = Store::connect_url(&url)
            .await
            .expect("connect with a password in the URL");
        let repo = store.experiments();
        let mut new = NewExperiment::new("logged", "every call is logged");
        new.id = "exp_logged01".to_owned();
        repo.create(&new).await.expect("create");
        assert!(repo.get("exp_missing").await.expect("get").is_none());
        let duplicate = repo.create(&new).await.expect_err("same id twice");
        assert_eq!(duplicate.kind(), ErrorKind::Conflict);
        tracing::warn!(error = %duplicate, debug = ?duplicate, "call failed");
        shown.push(format!("{duplicate} {duplicate:?}"));

        // Calls from spawned tasks (no span of the session: only a global capture sees them).
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..4 {
            let store = store.clone();
            tasks.spawn(async move { store.experiments().list(PageRequest::first(5)?).await.map(|p| p.total) });
        }
        while let Some(done) = tasks.join_next().await {
            assert!(done.expect("task").expect("list") >= 1);
        }

        store
            .transaction(async |tx| {
                tx.experiments()
                    .create(&NewExperiment::new("in a unit", "commits"))
                    .await?;
                Ok(())
            })
            .instrument(tracing::info_span!("unit_committed"))
            .await
            .expect("committed unit");
        let rolled_back = store
            .transaction(async |tx| {
                tx.experiments()
                    .create(&NewExperiment::new("rolled back", "never seen"))
                    .await?;
                tx.experiments().create(&new).await?;
                Ok(())
            })
            .instrument(tracing::info_span!("unit_rolled_back"))
            .await
            .expect_err("the unit fails on the duplicate");
        tracing::warn!(error = %rolled_back, "unit of work failed");

        // The server kills the pool's connections: their connection tasks log the end.
        let killed: i64 = admin
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
                &[&app],
            )
            .await
            .expect("terminate")
            .get(0);
        assert!(killed >= 1, "the pool had a connection to kill");
        for _ in 0..3 {
            if let Err(err) = repo.get(&new.id).await {
                tracing::warn!(error = %err, "call failed");
                shown.push(format!("{err} {err:?}"));
            }
        }

        // A dual-writing store whose PostgreSQL store is named by URL with the password; its
        // secondary write fails (the row is already there) and is logged by the library.
        let routing = RoutingConfig::from_vars(
            &sqlite,
            [
                ("SYNTHLAB_POSTGRES_URL", url.as_str()),
                ("SYNTHLAB_ROUTE_DEFAULT", "dual"),
            ],
        )
        .expect("routing");
        let dual = Store::connect_routed(&routing, ConnectOptions::default())
            .await
            .expect("dual store");
        dual.experiments()
            .create(&new)
            .await
            .expect("the primary (SQLite) write succeeds");
        shown.push(format!("{dual:?} {:?}", dual.routing_table()));

        let report = synthlab_db::doctor::diagnose(store.config()).await;
        tracing::info!(report = ?report, "doctor");
        shown.push(serde_json::to_string(&report).expect("json"));

        let mut unreachable = url::Url::parse(&url).expect("url");
        unreachable.set_port(Some(1)).expect("port");
        unreachable.set_query(Some("connect_timeout=5"));
        let err = Store::connect_url(unreachable.as_str())
            .await
            .expect_err("port 1 is closed");
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        tracing::error!(error = %err, debug = ?err, "connect failed");
        shown.push(format!("{err} {err:?}"));
    };
    database
        .runtime
        .block_on(session.instrument(tracing::info_span!("no_password_session", app = %app)));
    drop(admin);

    let logged = String::from_utf8_lossy(&log.lock().expect("log")).into_owned();
    let lines: Vec<&str> = logged.lines().collect();
    let has = |what: &str, parts: &[&str]| {
        assert!(
            lines.iter().any(|line| parts.iter().all(|part| line.contains(part))),
            "no log line with {what} ({parts:?}) in:\n{logged}"
        );
    };
    has(
        "the connection, redacted",
        &["store connected", &database.name, ":***@"],
    );
    has(
        "a successful call",
        &["no_password_session", "method=\"create\"", "rows=1"],
    );
    has(
        "a failed call",
        &["no_password_session", "method=\"create\"", "error=\"conflict\""],
    );
    has("the service's error line", &["call failed", "exp_logged01"]);
    has(
        "a committed unit's call",
        &["unit_committed", "method=\"create\"", "rows=1"],
    );
    has(
        "a rolled-back unit's failed call",
        &["unit_rolled_back", "error=\"conflict\""],
    );
    has("the failed unit", &["unit of work failed"]);
    has(
        "the connection task of a killed connection",
        &["postgres connection ended with an error"],
    );
    has("the routing table", &["routing table", "postgres=postgres://", ":***@"]);
    has(
        "the failed secondary write",
        &["secondary write failed", "exp_logged01"],
    );
    has("doctor", &["doctor", ":***@"]);
    has("the failed connect", &["connect failed", ":***@127.0.0.1:1"]);
    let spawned = lines
        .iter()
        .filter(|l| l.contains("method=\"list\"") && !l.contains("no_password_session"))
        .count();
    assert!(
        spawned >= 4,
        "the spawned tasks' calls are logged ({spawned} lines):\n{logged}"
    );
    shown.push(logged);
    for text in &shown {
        assert_hidden(SECRET, text, "the session");
    }
}
