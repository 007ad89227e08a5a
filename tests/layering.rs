//! Code-layout invariants: the legacy backend stays removable, and the library carries neither
//! the command-line tool nor the test-data tools.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The files under `dirs` (relative to the crate) outside `allowed` whose code (comments
/// aside) contains one of `names`.
fn offenders(dirs: &[&str], allowed: &[&str], names: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in dirs {
        if root.join(dir).is_dir() {
            rust_files(&root.join(dir), &mut files);
        }
    }
    assert!(!files.is_empty(), "no Rust files under {dirs:?}");
    let allowed: Vec<PathBuf> = allowed.iter().map(|a| root.join(a)).collect();
    files
        .iter()
        .filter(|f| !allowed.iter().any(|a| f.starts_with(a)))
        .filter_map(|f| {
            let text = std::fs::read_to_string(f).expect("read");
            let hits: Vec<&str> = names
                .iter()
                .copied()
                .filter(|name| {
                    text.lines()
                        .any(|line| !line.trim_start().starts_with("//") && line.contains(name))
                })
                .collect();
            (!hits.is_empty()).then(|| format!("{} ({})", f.strip_prefix(root).unwrap_or(f).display(), hits.join(", ")))
        })
        .collect()
}

/// rusqlite may be named only by the SQLite backend and the SQLite half of the schema
/// lifecycle (`src/backend/sqlite/`, `src/schema/sqlite/`), so that
/// `--no-default-features --features postgres` compiles it out and every other file stays
/// driver-neutral. Library, binary, examples and benchmarks are checked; tests may use it to
/// reach beneath the repositories. One named exception: `examples/bench_repo.rs` measures the
/// repositories against the raw drivers, so its baseline must call rusqlite itself (it needs
/// the `sqlite` feature, see Cargo.toml).
#[test]
fn rusqlite_is_named_only_inside_the_sqlite_backend() {
    let found = offenders(
        &["src", "examples", "benches"],
        &["src/backend/sqlite", "src/schema/sqlite", "examples/bench_repo.rs"],
        &["rusqlite"],
    );
    assert!(found.is_empty(), "rusqlite named outside the SQLite backend: {found:?}");
}

/// The command-line tool's crates are named only by the binary (`src/main.rs`, `src/cli/`):
/// they are optional dependencies of the `cli` feature, and a service that links the library
/// without it compiles none of them (`make check-lib-only` builds exactly that).
#[test]
fn tool_crates_are_named_only_by_the_binary() {
    let found = offenders(
        &["src"],
        &["src/main.rs", "src/cli"],
        &["clap::", "anyhow", "indicatif", "tracing_subscriber", "dotenvy"],
    );
    assert!(found.is_empty(), "tool crates named by library code: {found:?}");
}

/// The test-data tools (the legacy layouts and file builder, the legacy-file generator, the
/// demo fixtures) sit on top of the library behind the `testing` feature: no library code
/// depends on them, only the binary and their own module declarations. (The SQLite writer
/// beneath them takes the neutral `LegacyValue`, so no import cycle runs through it.)
#[test]
fn library_code_does_not_depend_on_the_test_data_tools() {
    let found = offenders(
        &["src"],
        &[
            "src/cli",
            "src/copy/generate.rs",
            "src/schema/legacy.rs",
            "src/fixtures.rs",
            // Their module declarations and re-exports, each behind the `testing` feature.
            "src/lib.rs",
            "src/copy/mod.rs",
            "src/schema/mod.rs",
        ],
        &["generate::", "legacy::", "fixtures::"],
    );
    assert!(found.is_empty(), "library code uses the test-data tools: {found:?}");
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
    let found = offenders(
        &["src/backend"],
        &[],
        &[
            "crate::store",
            "crate::Store",
            "crate::ConnectOptions",
            "crate::cutover",
        ],
    );
    assert!(
        found.is_empty(),
        "backend files naming the store or the cutover: {found:?}"
    );
}

/// Inputs are checked once, before any backend sees them, by the wrapper `#[repository]`
/// generates (`model::Input`): no backend checks or normalises an argument itself, so the two
/// cannot drift apart.
#[test]
fn backends_do_not_check_inputs_themselves() {
    let found = offenders(
        &["src/backend"],
        &[],
        &["portable::", ".checked(", "Input::", ".validate()"],
    );
    assert!(found.is_empty(), "backend files checking inputs themselves: {found:?}");
}
