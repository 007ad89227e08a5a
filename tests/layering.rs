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
