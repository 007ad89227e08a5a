//! The cutover end to end, on a real SQLite file and a fresh PostgreSQL schema per test:
//! the example service's workload in every mode in turn (sqlite → dual → shadow →
//! shadow:postgres → postgres) with both stores compared in full after each step, an
//! injected divergence caught by shadow reads, secondary failures in dual writes (lenient
//! and strict), the shadow budget, units of work over both stores, and the CLI's routing
//! table and configuration errors.
//!
//! The PostgreSQL cases run with `--features parity` (as the parity suite: `make test`).

#![cfg(feature = "sqlite")]

#[path = "support/binary.rs"]
mod binary;
#[path = "parity/harness.rs"]
mod harness;
#[path = "cutover/snapshot.rs"]
mod snapshot;
#[path = "../examples/support/cutover_workload.rs"]
mod workload;

fn synthlab(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = binary::synthlab_db();
    command.current_dir(dir).args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("binary runs")
}

fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn unknown_route_names_and_modes_exit_2_naming_the_variable() {
    let dir = tempfile::tempdir().expect("dir");
    for (env, needle) in [
        (("SYNTHLAB_ROUTE_EXPERIMENT", "postgres"), "SYNTHLAB_ROUTE_EXPERIMENT"),
        (("SYNTHLAB_ROUTE_SYNTHS", "mirror"), "unknown route mode 'mirror'"),
        (("SYNTHLAB_ROUTE_DEFAULT", "dual"), "set SYNTHLAB_POSTGRES_URL"),
        (("SYNTHLAB_SHADOW_BUDGET_MS", "soon"), "SYNTHLAB_SHADOW_BUDGET_MS"),
    ] {
        let out = synthlab(dir.path(), &["--database-url", "sqlite://s.db", "status"], &[env]);
        assert_eq!(out.status.code(), Some(2), "{env:?}: {}", text(&out));
        assert!(text(&out).contains(needle), "{env:?}: {}", text(&out));
        assert!(
            !dir.path().join("s.db").exists(),
            "nothing created on a configuration error"
        );
    }
}

#[test]
fn status_prints_the_routing_table_of_a_single_store() {
    let dir = tempfile::tempdir().expect("dir");
    let url = "sqlite://s.db";
    assert_eq!(
        synthlab(dir.path(), &["--database-url", url, "migrate"], &[])
            .status
            .code(),
        Some(0)
    );
    let out = synthlab(dir.path(), &["--database-url", url, "status"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let all = text(&out);
    assert!(all.contains("routing (DATABASE_URL, SYNTHLAB_ROUTE_*)"), "{all}");
    assert!(all.contains("experiment_documents   sqlite"), "{all}");
    let out = synthlab(dir.path(), &["--database-url", url, "status", "--format", "json"], &[]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["routing"]["routes"].as_array().map(Vec::len), Some(15), "{doc}");
    assert_eq!(doc["routing"]["routes"][0]["mode"], "sqlite");
}

#[cfg(feature = "parity")]
mod with_postgres {
    use std::time::Duration;

    use synthlab_db::cutover::{CounterRow, RoutingConfig};
    use synthlab_db::model::{ExperimentChanges, NewExperiment};
    use synthlab_db::{BackendKind, ConnectOptions, DatabaseConfig, ErrorKind, Store};

    use super::harness::{self, TestDb};
    use super::snapshot::{self, Columns, Snapshot};
    use super::workload;

    /// A SQLite file and a PostgreSQL schema, both migrated and empty.
    struct Pair {
        sqlite: TestDb,
        postgres: TestDb,
        columns: Columns,
    }

    impl Pair {
        async fn new() -> Pair {
            let sqlite = harness::sqlite_db().await;
            let postgres = harness::postgres_db().await;
            let columns = snapshot::columns(postgres.pg_config.as_ref().expect("pg")).await;
            Pair {
                sqlite,
                postgres,
                columns,
            }
        }

        fn sqlite_config(&self) -> DatabaseConfig {
            DatabaseConfig::sqlite_file(self.sqlite.sqlite_path.as_ref().expect("path"))
        }

        fn pg(&self) -> &synthlab_db::config::PostgresConfig {
            self.postgres.pg_config.as_ref().expect("pg config")
        }

        /// A store as a service would get it from `DATABASE_URL` = the SQLite file and these
        /// variables, with `SYNTHLAB_POSTGRES_URL` = the test schema.
        async fn store(&self, vars: &[(&str, &str)]) -> Store {
            let mut routing =
                RoutingConfig::from_vars(&self.sqlite_config(), vars.iter().copied()).expect("valid routing");
            routing.postgres = Some(DatabaseConfig::Postgres(self.pg().clone()));
            Store::connect_routed(&routing, ConnectOptions::default())
                .await
                .expect("routed store connects")
        }

        async fn snapshots(&self) -> (Snapshot, Snapshot) {
            let sqlite = snapshot::sqlite_snapshot(self.sqlite.sqlite_path.as_ref().expect("path"), &self.columns);
            let postgres = snapshot::postgres_snapshot(self.pg(), &self.columns).await;
            (sqlite, postgres)
        }

        /// Both checks: the row-by-row snapshot comparison and `synthlab-db verify`'s
        /// checksums (the library call the CLI makes).
        async fn assert_identical(&self, what: &str) -> usize {
            let (sqlite, postgres) = self.snapshots().await;
            snapshot::assert_identical(what, &sqlite, &postgres);
            let options = synthlab_db::copy::VerifyOptions::new(
                self.sqlite.sqlite_path.as_ref().expect("path"),
                self.pg().clone(),
            );
            let report = synthlab_db::copy::verify(&options, &synthlab_db::copy::Silent)
                .await
                .expect("verify runs");
            assert!(report.equal, "{what}: verify found differences: {:#?}", report.tables);
            snapshot::rows(&sqlite)
        }

        async fn finish(self) {
            harness::drop_schema(&self.postgres).await;
        }
    }

    fn total(counters: &[CounterRow], field: impl Fn(&CounterRow) -> u64) -> u64 {
        counters.iter().map(field).sum()
    }

    fn row<'a>(counters: &'a [CounterRow], repository: &str, method: &str) -> &'a CounterRow {
        counters
            .iter()
            .find(|r| r.repository == repository && r.method == method)
            .unwrap_or_else(|| panic!("no counter row {repository}.{method} in {counters:#?}"))
    }

    const BUDGET: (&str, &str) = ("SYNTHLAB_SHADOW_BUDGET_MS", "10000");

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mode_walk_keeps_both_stores_identical() {
        let pair = Pair::new().await;

        // 1. Legacy only: the PostgreSQL schema stays empty.
        let store = pair.store(&[]).await;
        assert!(
            store.backend_store(BackendKind::Postgres).is_none(),
            "no second store connected"
        );
        let report = workload::run(&store, 1).await.expect("phase 1 on sqlite");
        assert!(report.writes > 40 && report.reads > 30, "{report}");
        assert!(store.cutover_counters().is_empty());
        drop(store);
        let (sqlite, postgres) = pair.snapshots().await;
        assert!(
            snapshot::rows(&sqlite) > 30,
            "phase 1 wrote rows: {}",
            snapshot::rows(&sqlite)
        );
        assert_eq!(snapshot::rows(&postgres), 1, "only the default group on PostgreSQL");

        // 2. Initial copy with `synthlab-db copy` (the library call), then verify.
        let options =
            synthlab_db::copy::CopyOptions::new(pair.sqlite.sqlite_path.as_ref().expect("path"), pair.pg().clone());
        let copy = synthlab_db::copy::copy(&options, &synthlab_db::copy::Silent)
            .await
            .expect("copy runs");
        assert_eq!(copy.quarantined(), 0, "{copy:#?}");
        assert_eq!(copy.unresolved_differences(), 0, "{copy:#?}");
        let copied = pair.assert_identical("after the copy").await;

        // 3. Dual writes, SQLite primary.
        let store = pair.store(&[("SYNTHLAB_ROUTE_DEFAULT", "dual")]).await;
        workload::run(&store, 2).await.expect("phase 2, dual");
        let counters = store.cutover_counters();
        assert_eq!(total(&counters, CounterRow::problems), 0, "{counters:#?}");
        assert!(total(&counters, |r| r.dual_writes) >= report.writes, "{counters:#?}");
        assert_eq!(
            total(&counters, |r| r.shadow_reads),
            0,
            "dual mode reads the primary only"
        );
        drop(store);
        let after_dual = pair.assert_identical("after dual writes").await;
        assert!(after_dual > copied);

        // 4. Shadow reads (and dual writes), SQLite primary.
        let store = pair.store(&[("SYNTHLAB_ROUTE_DEFAULT", "shadow"), BUDGET]).await;
        let report = workload::run(&store, 3).await.expect("phase 3, shadow");
        let counters = store.cutover_counters();
        assert_eq!(total(&counters, CounterRow::problems), 0, "{counters:#?}");
        assert_eq!(total(&counters, |r| r.shadow_timeouts), 0, "{counters:#?}");
        assert_eq!(
            total(&counters, |r| r.shadow_reads),
            report.reads,
            "every read compared"
        );
        drop(store);
        pair.assert_identical("after shadow reads").await;

        // 5. Switch reads: PostgreSQL primary, SQLite still written and compared (the way back).
        let store = pair
            .store(&[("SYNTHLAB_ROUTE_DEFAULT", "shadow:postgres"), BUDGET])
            .await;
        let report = workload::run(&store, 4).await.expect("phase 4, shadow:postgres");
        let counters = store.cutover_counters();
        assert_eq!(total(&counters, CounterRow::problems), 0, "{counters:#?}");
        assert_eq!(total(&counters, |r| r.shadow_reads), report.reads);
        drop(store);
        let (sqlite_before, _) = pair.snapshots().await;
        pair.assert_identical("after shadow:postgres").await;

        // 6. Switch writes: PostgreSQL only; the legacy file is no longer touched.
        let store = pair.store(&[("SYNTHLAB_ROUTE_DEFAULT", "postgres")]).await;
        workload::run(&store, 5).await.expect("phase 5, postgres");
        assert!(store.cutover_counters().is_empty(), "no dual or shadow routes");
        drop(store);
        let (sqlite_after, postgres_after) = pair.snapshots().await;
        assert_eq!(sqlite_after, sqlite_before, "postgres mode writes nothing to SQLite");
        assert!(snapshot::rows(&postgres_after) > snapshot::rows(&sqlite_after));
        pair.finish().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn shadow_reads_report_an_injected_divergence_and_answer_from_the_primary() {
        let pair = Pair::new().await;
        let store = pair.store(&[("SYNTHLAB_ROUTE_EXPERIMENTS", "shadow"), BUDGET]).await;
        let mut new = NewExperiment::new("Original", "Hypothesis");
        new.id = "exp_shadow0001".to_owned();
        store.experiments().create(&new).await.expect("dual write");
        pair.assert_identical("before the divergence").await;
        let got = store.experiments().get(&new.id).await.expect("read").expect("found");
        assert_eq!(got.name, "Original");
        assert_eq!(
            row(&store.cutover_counters(), "experiments", "get").shadow_mismatches,
            0
        );

        // Modify the row in the secondary beneath the repositories.
        snapshot::postgres_sql(
            pair.pg(),
            "UPDATE experiments SET name = 'Diverged' WHERE id = 'exp_shadow0001'",
        )
        .await;
        let (sqlite, postgres) = pair.snapshots().await;
        assert_ne!(
            sqlite["experiments"], postgres["experiments"],
            "the comparison sees the divergence"
        );
        let got = store.experiments().get(&new.id).await.expect("read").expect("found");
        assert_eq!(got.name, "Original", "the caller gets the primary's answer");
        let page = store
            .experiments()
            .list(synthlab_db::model::PageRequest::first(10).expect("page"))
            .await
            .expect("list");
        assert_eq!(page.items[0].name, "Original");
        let counters = store.cutover_counters();
        assert_eq!(
            row(&counters, "experiments", "get").shadow_mismatches,
            1,
            "{counters:#?}"
        );
        assert_eq!(row(&counters, "experiments", "get").shadow_reads, 2);
        assert_eq!(
            row(&counters, "experiments", "list").shadow_mismatches,
            1,
            "{counters:#?}"
        );
        assert_eq!(total(&counters, |r| r.dual_write_failures), 0);

        // The same mechanism the way back: PostgreSQL primary answers "Diverged".
        let back = pair
            .store(&[("SYNTHLAB_ROUTE_EXPERIMENTS", "shadow:postgres"), BUDGET])
            .await;
        let got = back.experiments().get(&new.id).await.expect("read").expect("found");
        assert_eq!(got.name, "Diverged");
        assert_eq!(row(&back.cutover_counters(), "experiments", "get").shadow_mismatches, 1);
        pair.finish().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dual_writes_count_secondary_failures_and_strict_mode_fails_the_call() {
        let pair = Pair::new().await;
        let path = pair.sqlite.sqlite_path.clone().expect("path");
        // Rows that exist in one store only, planted beneath the repositories.
        let insert = |id: &str| {
            format!(
                "INSERT INTO experiments (id, name, hypothesis, status, created_at) \
                 VALUES ('{id}', 'planted', 'h', 'active', '2025-01-01T00:00:00.000000+00:00')"
            )
        };
        snapshot::postgres_sql(pair.pg(), &insert("exp_only_in_pg")).await;
        snapshot::postgres_sql(pair.pg(), &insert("exp_strict_pg")).await;
        snapshot::sqlite_sql(&path, &insert("exp_only_in_sql"));

        let lenient = pair.store(&[("SYNTHLAB_ROUTE_EXPERIMENTS", "dual")]).await;
        let mut new = NewExperiment::new("Mine", "h");
        new.id = "exp_only_in_pg".to_owned();
        let created = lenient.experiments().create(&new).await.expect("the primary's result");
        assert_eq!(created.name, "Mine");
        let counters = lenient.cutover_counters();
        assert_eq!(
            row(&counters, "experiments", "create").dual_write_failures,
            1,
            "{counters:#?}"
        );

        // A primary failure is the answer, and the secondary is not written.
        new.id = "exp_only_in_sql".to_owned();
        let err = lenient.experiments().create(&new).await.expect_err("primary conflict");
        assert_eq!(err.kind(), ErrorKind::Conflict);
        let pg_store = lenient.backend_store(BackendKind::Postgres).expect("second store");
        assert!(
            pg_store
                .experiments()
                .get("exp_only_in_sql")
                .await
                .expect("read")
                .is_none()
        );
        assert_eq!(row(&lenient.cutover_counters(), "experiments", "create").dual_writes, 1);

        // Updates of a row missing on the secondary: counted, primary answer returned.
        let changes = ExperimentChanges {
            name: Some("renamed".to_owned()),
            ..ExperimentChanges::default()
        };
        let updated = lenient
            .experiments()
            .update("exp_only_in_sql", &changes)
            .await
            .expect("primary");
        assert_eq!(updated.name, "renamed");
        assert_eq!(
            row(&lenient.cutover_counters(), "experiments", "update").dual_write_failures,
            1
        );

        let strict = pair
            .store(&[("SYNTHLAB_ROUTE_EXPERIMENTS", "dual"), ("SYNTHLAB_DUAL_STRICT", "1")])
            .await;
        new.id = "exp_strict_pg".to_owned();
        let err = strict.experiments().create(&new).await.expect_err("strict");
        assert_eq!(err.kind(), ErrorKind::Other);
        assert!(err.to_string().contains("stays written"), "{err}");
        let sqlite_store = strict.backend_store(BackendKind::Sqlite).expect("default store");
        let kept = sqlite_store.experiments().get("exp_strict_pg").await.expect("read");
        assert_eq!(
            kept.map(|e| e.name).as_deref(),
            Some("Mine"),
            "the primary's write stays"
        );
        assert_eq!(
            row(&strict.cutover_counters(), "experiments", "create").dual_write_failures,
            1
        );
        pair.finish().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_slow_secondary_read_is_abandoned_after_the_budget_and_counted() {
        // The budget is the configured one; the blocked secondary (a lock) makes the wait
        // deterministic, and the bounds come from the budget: the call returns no sooner than
        // the budget and long before the lock is released.
        const BUDGET_MS: u64 = 300;
        let budget = BUDGET_MS.to_string();
        let pair = Pair::new().await;
        let store = pair
            .store(&[
                ("SYNTHLAB_ROUTE_EXPERIMENTS", "shadow"),
                ("SYNTHLAB_SHADOW_BUDGET_MS", budget.as_str()),
            ])
            .await;
        let mut new = NewExperiment::new("Slow", "h");
        new.id = "exp_slow0001".to_owned();
        store.experiments().create(&new).await.expect("create");
        // Hold a lock that blocks every read of the table on PostgreSQL (the secondary).
        let lock = snapshot::lock_table(pair.pg(), "experiments").await;
        // If the call waited for the secondary it could only return after the lock is
        // released, which happens after it returns: bound the wait to fail instead of hanging.
        let started = std::time::Instant::now();
        let got = tokio::time::timeout(Duration::from_secs(60), store.experiments().get(&new.id))
            .await
            .expect("the call does not wait for the blocked secondary")
            .expect("read")
            .expect("found");
        let waited = started.elapsed();
        assert_eq!(got.name, "Slow");
        assert!(
            waited >= Duration::from_millis(BUDGET_MS),
            "the caller got the answer after {waited:?}, before the {BUDGET_MS} ms budget ran out"
        );
        let counters = store.cutover_counters();
        let get = row(&counters, "experiments", "get");
        assert_eq!(
            (get.shadow_reads, get.shadow_timeouts, get.problems()),
            (1, 1, 0),
            "{counters:#?}"
        );
        snapshot::release(lock).await;
        // Afterwards reads compare again. On a loaded machine one read may still outlast the
        // budget (counted as a timeout, compared nothing): read until one is compared.
        let mut compared = false;
        for _ in 0..20 {
            store.experiments().get(&new.id).await.expect("read");
            let get = row(&store.cutover_counters(), "experiments", "get").clone();
            assert_eq!(get.problems(), 0, "{get:?}");
            if get.shadow_reads > get.shadow_timeouts {
                compared = true;
                break;
            }
        }
        assert!(compared, "no read of 20 was compared after the lock was released");
        pair.finish().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dual_write_dropped_by_its_caller_after_the_primary_is_counted() {
        let pair = Pair::new().await;
        let store = pair.store(&[("SYNTHLAB_ROUTE_EXPERIMENTS", "dual")]).await;
        let lock = snapshot::lock_table(pair.pg(), "experiments").await;
        let mut new = NewExperiment::new("Dropped", "h");
        new.id = "exp_dropped01".to_owned();
        // The secondary (PostgreSQL) blocks on the lock; the caller gives up meanwhile.
        let outcome = tokio::time::timeout(Duration::from_secs(5), store.experiments().create(&new)).await;
        assert!(outcome.is_err(), "the call was still waiting for the secondary");
        let sqlite_store = store.backend_store(BackendKind::Sqlite).expect("default store");
        assert!(
            sqlite_store.experiments().get(&new.id).await.expect("read").is_some(),
            "primary written"
        );
        let counters = store.cutover_counters();
        assert_eq!(
            row(&counters, "experiments", "create").dual_write_failures,
            1,
            "{counters:#?}"
        );
        snapshot::release(lock).await;
        pair.finish().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn units_of_work_span_both_stores() {
        let pair = Pair::new().await;
        let store = pair.store(&[("SYNTHLAB_ROUTE_DEFAULT", "shadow"), BUDGET]).await;
        store
            .transaction(async |tx| {
                let mut new = NewExperiment::new("In a unit", "h");
                new.id = "exp_unit0001".to_owned();
                tx.experiments().create(&new).await?;
                tx.interview_guides().create(&new.id, &Default::default()).await?;
                assert!(tx.in_transaction());
                Ok(())
            })
            .await
            .expect("unit commits");
        let rows = pair.assert_identical("after a committed unit").await;
        let counters = store.cutover_counters();
        assert_eq!(row(&counters, "(unit of work)", "commit").dual_writes, 1);
        assert_eq!(row(&counters, "interview_guides", "create").dual_writes, 1);

        let failed: synthlab_db::Result<()> = store
            .transaction(async |tx| {
                let mut new = NewExperiment::new("Rolled back", "h");
                new.id = "exp_unit0002".to_owned();
                tx.experiments().create(&new).await?;
                Err(synthlab_db::Error::other("the caller gives up"))
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(
            pair.assert_identical("after a rolled-back unit").await,
            rows,
            "nothing kept"
        );

        let nested = store
            .transaction(async |tx| tx.transaction(async |_| Ok(())).await)
            .await;
        assert_eq!(nested.expect_err("nested").kind(), ErrorKind::InvalidInput);

        let mixed = pair
            .store(&[
                ("SYNTHLAB_ROUTE_EXPERIMENTS", "dual:sqlite"),
                ("SYNTHLAB_ROUTE_SYNTHS", "dual:postgres"),
            ])
            .await;
        let err = mixed.transaction(async |_| Ok(())).await.expect_err("refused");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("one primary store"), "{err}");
        pair.finish().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn status_prints_both_stores_and_their_counts() {
        let pair = Pair::new().await;
        let store = pair.store(&[("SYNTHLAB_ROUTE_DEFAULT", "dual")]).await;
        workload::run(&store, 1).await.expect("workload");
        let table = store.routing_table();
        assert_eq!(table.stores.len(), 2);
        assert!(table.routes.iter().all(|r| r.secondary == Some(BackendKind::Postgres)));
        let text = table.to_string();
        assert!(
            text.contains("synth_outcomes         dual:sqlite      sqlite    postgres"),
            "{text}"
        );
        assert!(
            !text.contains(&format!("{:?}", pair.pg())),
            "no driver config in the table"
        );
        pair.finish().await;
    }

    /// Inputs are checked (refused or normalised) before either store of a dual write sees
    /// them: a refused value writes nothing anywhere and counts no dual write; a normalised
    /// one (-0.0, integral floats ≥ 1e16, sub-microsecond time) lands identically in both.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dual_writes_check_inputs_before_either_store() {
        let pair = Pair::new().await;
        for route in ["shadow", "shadow:postgres"] {
            let store = pair.store(&[("SYNTHLAB_ROUTE_DEFAULT", route), BUDGET]).await;
            let (sqlite_before, postgres_before) = pair.snapshots().await;
            let bad = NewExperiment::new("nul\u{0}name", "Hypothesis");
            let err = store.experiments().create(&bad).await.expect_err("refused");
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{route}: {err}");
            let err = store.experiments().get("exp\u{0}").await.expect_err("refused");
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{route}: {err}");
            let (sqlite_after, postgres_after) = pair.snapshots().await;
            assert_eq!(sqlite_after, sqlite_before, "{route}: nothing written to SQLite");
            assert_eq!(
                postgres_after, postgres_before,
                "{route}: nothing written to PostgreSQL"
            );
            let counters = store.cutover_counters();
            assert_eq!(total(&counters, |r| r.dual_writes), 0, "{route}: {counters:#?}");
            assert_eq!(total(&counters, CounterRow::problems), 0, "{route}: {counters:#?}");

            let mut new = NewExperiment::new("Normalised", "Hypothesis");
            new.scorecard_data = Some(serde_json::json!({"neg_zero": -0.0, "big": 1e16, "third": 1.0 / 3.0}));
            new.created_at = Some(
                chrono::DateTime::parse_from_rfc3339("2025-12-01T10:00:00.123456789Z")
                    .expect("time")
                    .to_utc(),
            );
            let created = store.experiments().create(&new).await.expect("dual write");
            assert_eq!(
                created.scorecard_data,
                Some(serde_json::json!({"neg_zero": 0.0, "big": 10000000000000000u64, "third": 1.0 / 3.0}))
            );
            assert_eq!(created.created_at.timestamp_subsec_nanos(), 123_456_000);
            let read = store
                .experiments()
                .get(&created.id)
                .await
                .expect("read")
                .expect("found");
            assert_eq!(read, created, "{route}");
            let counters = store.cutover_counters();
            assert_eq!(total(&counters, |r| r.dual_writes), 1, "{route}: {counters:#?}");
            assert_eq!(total(&counters, CounterRow::problems), 0, "{route}: {counters:#?}");
            drop(store);
            pair.assert_identical(route).await;
        }
        pair.finish().await;
    }
}
