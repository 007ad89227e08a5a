//! Code-layout invariants that keep the legacy backend removable.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// rusqlite may be named only by the SQLite backend (and refinery's SQLite runner in
/// `src/schema/`, and `legacy/`), so that `--no-default-features --features postgres`
/// compiles it out. Library, binary, examples and benchmarks are checked; tests may use it to
/// reach beneath the repositories. One named exception: `examples/bench_repo.rs` measures the
/// repositories against the raw drivers, so its baseline must call rusqlite itself (it needs
/// the `sqlite` feature, see Cargo.toml).
#[test]
fn rusqlite_is_named_only_inside_the_sqlite_backend() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "examples", "benches", "legacy"] {
        if root.join(dir).is_dir() {
            rust_files(&root.join(dir), &mut files);
        }
    }
    let allowed = ["src/backend/sqlite", "src/schema", "legacy", "examples/bench_repo.rs"].map(|dir| root.join(dir));
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| !allowed.iter().any(|dir| f.starts_with(dir)))
        .filter(|f| {
            std::fs::read_to_string(f)
                .expect("read")
                .lines()
                .any(|line| !line.trim_start().starts_with("//") && line.contains("rusqlite"))
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "rusqlite named outside the SQLite backend: {offenders:?}"
    );
}

/// What opens a PostgreSQL connection (or builds what does): the driver's connect functions and
/// TLS connectors, its connection settings, the pool's manager and builders, and the crate's
/// own connector types.
const CONNECTION_OPENERS: &[&str] = &[
    "NoTls",
    "tokio_postgres::connect",
    "connect_raw",
    "postgres::Config",
    "postgres::config::Config",
    "MakeTlsConnect",
    "MakeRustlsConnect",
    "Manager::from_connect",
    "Manager::from_config",
    "Manager::new",
    "create_pool",
    "PgConnector",
    "TrackedTls",
];

/// Crate paths whose `use` lines must not import an opener under a bare name.
const DRIVER_CRATES: &[&str] = &["tokio_postgres", "deadpool_postgres", "tokio_postgres_rustls"];

/// The openers named in `text` (comments ignored): the tokens above, `.driver` (the driver
/// settings inside `PostgresConfig`), and `use` statements importing `Config`, `connect`,
/// `Manager` or `NoTls` from a driver crate.
fn openers_in(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .map(|line| line.split_once(" // ").map_or(line, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found: Vec<String> = CONNECTION_OPENERS
        .iter()
        .filter(|token| code.contains(*token))
        .map(|token| (*token).to_owned())
        .collect();
    let bytes = code.as_bytes();
    for (at, _) in code.match_indices(".driver") {
        let next = bytes.get(at + ".driver".len()).copied();
        if !next.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_') {
            found.push(".driver".to_owned());
            break;
        }
    }
    for statement in code.split(';') {
        let statement = statement.trim_start();
        let imports_driver = DRIVER_CRATES
            .iter()
            .any(|krate| statement.starts_with(&format!("use {krate}::")));
        if imports_driver {
            let words: Vec<&str> = statement
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .collect();
            for name in ["Config", "connect", "Manager", "NoTls"] {
                if words.contains(&name) {
                    found.push(format!("use … {name}"));
                }
            }
        }
    }
    found
}

/// Every PostgreSQL connection is opened by the connect path (`src/backend/postgres/connect.rs`,
/// with the TLS connectors of `tls.rs`; the driver settings are built from the URL in
/// `src/config.rs`): TLS for every sslmode, timeouts, keepalives and application_name the same
/// everywhere. Library, binary, examples, benchmarks and tests are checked; tests, tools and
/// benchmarks connect through `synthlab_db::pg::connect`.
#[test]
fn postgres_connections_are_opened_only_by_the_connect_path() {
    // The checker itself must see what it is meant to catch.
    for sample in [
        "let (c, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;",
        "use tokio_postgres::{Client, NoTls};",
        "use deadpool_postgres::{\n    Manager,\n    Pool,\n};",
        "let c = config.driver.connect(tls).await?;",
        "let pool = cfg.create_pool(Some(Runtime::Tokio1), NoTls)?;",
    ] {
        assert!(!openers_in(sample).is_empty(), "the check misses: {sample}");
    }
    assert!(openers_in("let store = Store::connect(&config).await?; // NoTls").is_empty());

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "tests", "examples", "benches", "macros"] {
        if root.join(dir).is_dir() {
            rust_files(&root.join(dir), &mut files);
        }
    }
    let allowed = [
        "src/backend/postgres/connect.rs",
        "src/backend/postgres/tls.rs",
        "src/config.rs",
        "tests/layering.rs",
    ]
    .map(|file| root.join(file));
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| !allowed.contains(f))
        .filter_map(|f| {
            let found = openers_in(&std::fs::read_to_string(f).expect("read"));
            (!found.is_empty()).then(|| format!("{} ({})", f.display(), found.join(", ")))
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "PostgreSQL connections opened outside the connect path (use synthlab_db::pg::connect): {offenders:?}"
    );
}

/// Dependencies point one way: model ← repo ← backends ← store ← cutover / cli. The backends
/// never name the store (the unit-of-work errors they share live in `src/backend/`), so
/// `store.rs` ↔ `backend/*` is no cycle.
#[test]
fn backends_do_not_depend_on_the_store() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src/backend"), &mut files);
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| {
            std::fs::read_to_string(f).expect("read").lines().any(|line| {
                let code = line.trim_start();
                !code.starts_with("//")
                    && [
                        "crate::store",
                        "crate::Store",
                        "crate::ConnectOptions",
                        "crate::cutover",
                    ]
                    .iter()
                    .any(|name| code.contains(name))
            })
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "backend files naming the store or the cutover: {offenders:?}"
    );
}

/// Inputs are checked once, before any backend sees them, by the wrapper `#[repository]`
/// generates (`model::Input`): no backend checks or normalises an argument itself, so the two
/// cannot drift apart.
#[test]
fn backends_do_not_check_inputs_themselves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src/backend"), &mut files);
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| {
            std::fs::read_to_string(f).expect("read").lines().any(|line| {
                let code = line.trim_start();
                !code.starts_with("//")
                    && ["portable::", ".checked(", "Input::", ".validate()"]
                        .iter()
                        .any(|name| code.contains(name))
            })
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "backend files checking inputs themselves: {offenders:?}"
    );
}
