//! The follower and the cutover counters publish through the `metrics` facade: a recorder
//! installed by the service (here a minimal one that notes every name) sees every documented
//! name. Its own test binary, since a global recorder is per process.

#![cfg(all(feature = "parity", feature = "sqlite"))]

#[path = "support/sync_target.rs"]
mod support;

use std::collections::BTreeSet;
use std::sync::Mutex;

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use support::{Target, legacy_file, python};
use synthlab_db::DatabaseConfig;
use synthlab_db::copy::Silent;
use synthlab_db::sync::{Follower, SyncOptions};

struct Names(Mutex<BTreeSet<String>>);

impl Names {
    fn note(&self, key: &Key) {
        let mut name = key.name().to_owned();
        for label in key.labels() {
            name.push_str(&format!(" {}={}", label.key(), label.value()));
        }
        self.0.lock().expect("names").insert(name);
    }
}

impl Recorder for Names {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        self.note(key);
        Counter::noop()
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        self.note(key);
        Gauge::noop()
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        self.note(key);
        Histogram::noop()
    }
}

static NAMES: Names = Names(Mutex::new(BTreeSet::new()));

#[tokio::test]
async fn every_documented_metric_reaches_the_recorder() {
    metrics::set_global_recorder(&NAMES).expect("recorder");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = legacy_file(dir.path(), "legacy.db", 0.01);
    let target = Target::new().await;
    let mut options = SyncOptions::new(&path, target.config.clone());
    options.on_error = synthlab_db::copy::OnError::Quarantine;
    options.quarantine = Some(dir.path().join("q.jsonl"));
    let (mut follower, _) = Follower::start(options, &Silent).await.expect("start");
    python(
        &path,
        true,
        &[
            &[
                "INSERT INTO experiments (id, name, hypothesis, status, created_at) VALUES ('exp_m', 'n', 'h', 'active', 'not a time')",
            ],
            &["DELETE FROM chart_insights WHERE rowid = (SELECT min(rowid) FROM chart_insights)"],
        ],
    );
    follower.catch_up(&Silent).await.expect("catch up");
    let counters = follower.counters();
    assert_eq!(counters.quarantined_rows, 1);
    assert!(counters.pruned_changes >= 1 || counters.applied_changes >= 2);

    // A routed store's dual write publishes the cutover counter.
    let sqlite: DatabaseConfig = format!("sqlite://{}", dir.path().join("svc.db").display())
        .parse()
        .expect("url");
    let store = support::dual_store(&sqlite, &target).await;
    store
        .synth_groups()
        .create(&synthlab_db::model::NewSynthGroup::new("metrics"))
        .await
        .expect("dual write");

    let seen = NAMES.0.lock().expect("names").clone();
    for name in synthlab_db::sync::metrics::ALL {
        assert!(
            seen.iter().any(|s| s.split(' ').next() == Some(name)),
            "{name} never published; seen: {seen:#?}"
        );
    }
    assert!(
        seen.iter().any(|s| s.starts_with("synthlab_cutover_events_total")
            && s.contains("repository=synth_groups")
            && s.contains("event=dual_writes")),
        "{seen:#?}"
    );
    // The README documents every name.
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    for name in synthlab_db::sync::metrics::ALL {
        assert!(readme.contains(name), "README does not document {name}");
    }
    target.drop().await;
}
