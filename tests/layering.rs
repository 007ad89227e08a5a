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
