//! SQLite under concurrent writers: several stores (each with its own writer connection) and
//! several processes writing one file at once. No call ever surfaces `database is locked`
//! (or any other error): each store serialises its own writers, and between connections and
//! processes the busy timeout waits for the lock.

use std::path::Path;
use std::process::Command;

use synthlab_db::model::{NewExperiment, PageRequest};
use synthlab_db::{DatabaseConfig, Store};

const WRITES_PER_WRITER: usize = 60;

/// Writes `WRITES_PER_WRITER` experiments (ids `exp_<tag>_<n>`) through one store with 8
/// concurrent tasks; returns the errors.
async fn write_through_one_store(path: &Path, tag: &str) -> Vec<String> {
    let url = format!("sqlite://{}", path.display());
    let store = Store::connect_url(&url).await.expect("store on the shared file");
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..WRITES_PER_WRITER {
        let store = store.clone();
        let id = format!("exp_{tag}_{n}");
        tasks.spawn(async move {
            let new = NewExperiment {
                id: id.clone(),
                ..NewExperiment::new("concurrent", "many writers, one file")
            };
            let created = store.experiments().create(&new).await;
            // Reads interleave with the writes of the other connections.
            let read = store.experiments().list(PageRequest::first(5).expect("page")).await;
            match (created, read) {
                (Ok(_), Ok(_)) => None,
                (Err(e), _) | (_, Err(e)) => Some(format!("{id}: {e}")),
            }
        });
    }
    let mut errors = Vec::new();
    while let Some(done) = tasks.join_next().await {
        if let Some(err) = done.expect("join") {
            errors.push(err);
        }
    }
    errors
}

async fn migrated_file(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("shared.db");
    Store::connect(&DatabaseConfig::sqlite_file(&path))
        .await
        .expect("create and migrate the shared file");
    path
}

async fn active_count(path: &Path) -> i64 {
    let store = Store::connect(&DatabaseConfig::sqlite_file(path))
        .await
        .expect("reopen");
    store
        .experiments()
        .list(PageRequest::first(1).expect("page"))
        .await
        .expect("count")
        .total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_stores_write_one_file_without_locked_errors() {
    let dir = tempfile::tempdir().expect("dir");
    let path = migrated_file(dir.path()).await;
    let writers = (0..4).map(|w| {
        let path = path.clone();
        tokio::spawn(async move { write_through_one_store(&path, &format!("s{w}")).await })
    });
    let mut errors = Vec::new();
    for writer in writers {
        errors.extend(writer.await.expect("writer"));
    }
    assert!(
        errors.is_empty(),
        "{} calls failed: {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    assert_eq!(active_count(&path).await, (4 * WRITES_PER_WRITER) as i64);
}

/// In a child process (`SYNTHLAB_TEST_SQLITE_FILE` set): writes to the parent's file. Run on
/// its own: writes to a file of its own. Either way every write must succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writer_process() {
    let (path, tag, _dir) = match std::env::var("SYNTHLAB_TEST_SQLITE_FILE") {
        Ok(path) => (
            std::path::PathBuf::from(path),
            std::env::var("SYNTHLAB_TEST_SQLITE_TAG").expect("tag"),
            None,
        ),
        Err(_) => {
            let dir = tempfile::tempdir().expect("dir");
            let path = migrated_file(dir.path()).await;
            (path, "solo".to_owned(), Some(dir))
        }
    };
    let errors = write_through_one_store(&path, &tag).await;
    assert!(
        errors.is_empty(),
        "{} calls failed: {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_and_this_one_write_one_file_without_locked_errors() {
    let dir = tempfile::tempdir().expect("dir");
    let path = migrated_file(dir.path()).await;
    let exe = std::env::current_exe().expect("test binary");
    let children: Vec<_> = (0..3)
        .map(|p| {
            Command::new(&exe)
                .args(["sqlite_concurrency::writer_process", "--exact", "--test-threads=1"])
                .env("SYNTHLAB_TEST_SQLITE_FILE", &path)
                .env("SYNTHLAB_TEST_SQLITE_TAG", format!("p{p}"))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn a writer process")
        })
        .collect();
    let own = write_through_one_store(&path, "parent").await;
    for child in children {
        let out = tokio::task::block_in_place(|| child.wait_with_output()).expect("child output");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "writer process failed:\n{text}");
        assert!(text.contains("1 passed"), "the child ran its writer:\n{text}");
        assert!(!text.contains("database is locked"), "{text}");
    }
    assert!(
        own.is_empty(),
        "{} calls failed: {:?}",
        own.len(),
        &own[..own.len().min(5)]
    );
    assert_eq!(active_count(&path).await, (4 * WRITES_PER_WRITER) as i64);
}
