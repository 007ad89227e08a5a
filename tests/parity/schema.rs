//! The schema lifecycle on both backends: up / down / up, atomic failures, concurrent
//! migrators, history problems, drift check, and the two dialects describing one schema.

use synthlab_db::schema::{AppliedState, DownTarget, MigrationScript, MigrationSet, SchemaModel, TIMESTAMP_COLUMNS};
use synthlab_db::{BackendKind, DatabaseConfig, ErrorKind, Store};

use crate::harness::TestDb;

/// The newest version this build embeds (the cases' stores start there); the ad-hoc
/// migrations of the cases are numbered after it, so a new real migration changes no case.
fn latest() -> i64 {
    synthlab_db::schema::latest_version()
}

/// The embedded migrations plus the given extra scripts, in the case's dialect.
fn set_with(db: &TestDb, extra: Vec<MigrationScript>) -> MigrationSet {
    let mut scripts = MigrationSet::embedded(db.kind()).scripts().to_vec();
    scripts.extend(extra);
    MigrationSet::new(db.kind(), scripts).expect("valid set")
}

/// An ad-hoc migration numbered `step` after the newest embedded one.
fn script(step: i64, name: &str, up: &str, down: Option<&str>) -> MigrationScript {
    MigrationScript::new(&format!("V{}__{name}", latest() + step), up, down).expect("valid script")
}

/// The versions from `from` down to `to`, newest first.
fn down_from(from: i64, to: i64) -> Vec<i64> {
    (to..=from).rev().collect()
}

/// The next migration (latest + 1), adding a table with a row, in the case's dialect.
fn tags_v2(db: &TestDb, broken: bool) -> MigrationScript {
    let tail = if broken {
        "INSERT INTO no_such_table VALUES (1);"
    } else {
        ""
    };
    let up = match db.kind() {
        BackendKind::Sqlite => format!(
            "CREATE TABLE tags (id TEXT PRIMARY KEY, label TEXT NOT NULL CHECK (length(label) <= 40),
               experiment_id TEXT REFERENCES experiments (id) ON DELETE CASCADE);
             CREATE INDEX idx_tags_label ON tags (label);
             INSERT INTO tags (id, label) VALUES ('t1', 'first');
             ALTER TABLE synths ADD COLUMN tag TEXT;
             {tail}"
        ),
        BackendKind::Postgres => format!(
            "CREATE TABLE tags (id text COLLATE \"C\" PRIMARY KEY,
               label text COLLATE \"C\" NOT NULL CHECK (char_length(label) <= 40),
               experiment_id text COLLATE \"C\" REFERENCES experiments (id) ON DELETE CASCADE);
             CREATE INDEX idx_tags_label ON tags (label);
             INSERT INTO tags (id, label) VALUES ('t1', 'first');
             ALTER TABLE synths ADD COLUMN tag text COLLATE \"C\";
             {tail}"
        ),
    };
    let down = "ALTER TABLE synths DROP COLUMN tag; DROP TABLE tags;";
    script(1, "tags", &up, Some(down))
}

/// The one after (latest + 2), taking a moment (so that concurrent migrators overlap).
fn slow_v3(db: &TestDb) -> MigrationScript {
    let up = match db.kind() {
        BackendKind::Sqlite => {
            "CREATE TABLE bulk (n INTEGER PRIMARY KEY);
             WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 100000)
             INSERT INTO bulk SELECT n FROM c;"
        }
        BackendKind::Postgres => {
            "CREATE TABLE bulk (n bigint PRIMARY KEY);
             INSERT INTO bulk SELECT generate_series(1, 100000);
             SELECT pg_sleep(0.3);"
        }
    };
    script(2, "bulk", up, Some("DROP TABLE bulk;"))
}

/// The history as (version, name, checksum): what must survive a down / up cycle.
async fn history_keys(store: &Store, set: &MigrationSet) -> anyhow::Result<Vec<(i64, String, String)>> {
    let history = store.migrator().with_set(set.clone())?.history().await?;
    Ok(history
        .applied
        .iter()
        .map(|a| (a.row.version, a.row.name.clone(), a.row.checksum.clone()))
        .collect())
}

/// A second store on the case's database.
async fn another_store(db: &TestDb) -> anyhow::Result<Store> {
    let config = match db.kind() {
        BackendKind::Sqlite => DatabaseConfig::sqlite_file(db.sqlite_path.clone().expect("path")),
        BackendKind::Postgres => DatabaseConfig::Postgres(db.pg_config.clone().expect("pg config")),
    };
    let options = synthlab_db::ConnectOptions {
        migrate: false,
        ..Default::default()
    };
    Ok(Store::connect_with(&config, options).await?)
}

parity!(schema_up_down_up_leaves_identical_schema_and_history, |db| {
    let set = set_with(db, vec![tags_v2(db, false)]);
    let migrator = db.migrator().with_set(set.clone())?;
    let applied = migrator.up(None).await?;
    assert_eq!(
        applied.iter().map(|m| m.version).collect::<Vec<_>>(),
        vec![latest() + 1]
    );
    let schema_before = migrator.introspect().await?;
    let history_before = history_keys(db, &set).await?;
    assert_eq!(history_before.len() as i64, latest() + 1);

    let reverted = migrator.down(DownTarget::To(0)).await?;
    assert_eq!(
        reverted.iter().map(|m| m.version).collect::<Vec<_>>(),
        down_from(latest() + 1, 1)
    );
    assert_eq!(
        migrator.introspect().await?,
        SchemaModel::default(),
        "down --to 0 leaves no table"
    );
    assert!(history_keys(db, &set).await?.is_empty());
    assert_eq!(migrator.history().await?.current_version, 0);

    let applied = migrator.up(None).await?;
    assert_eq!(
        applied.iter().map(|m| m.version).collect::<Vec<_>>(),
        (1..=latest() + 1).collect::<Vec<_>>()
    );
    assert_eq!(migrator.introspect().await?, schema_before);
    assert_eq!(history_keys(db, &set).await?, history_before);
    assert!(migrator.check().await?.1.is_empty());

    // One step down, then up again: also identical.
    assert_eq!(migrator.down(DownTarget::Steps(1)).await?.len(), 1);
    assert_eq!(migrator.history().await?.current_version, latest());
    assert_eq!(migrator.introspect().await?, db.migrator().expected(latest()).await?);
    migrator.up(Some(latest() + 1)).await?;
    assert_eq!(migrator.introspect().await?, schema_before);
    Ok(())
});

parity!(schema_failing_migration_leaves_no_trace_and_the_fix_applies, |db| {
    let before = db.migrator().introspect().await?;
    let broken = set_with(db, vec![tags_v2(db, true)]);
    let err = db.migrator().with_set(broken.clone())?.up(None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Other, "{err}");
    assert!(err.to_string().contains("nothing was applied"), "{err}");
    assert_eq!(
        db.migrator().introspect().await?,
        before,
        "no table, column or index of the failed migration remains"
    );
    let history = db.migrator().with_set(broken).unwrap().history().await?;
    assert_eq!(history.current_version, latest());
    assert_eq!(history.pending.len(), 1);

    // A run of several migrations failing in the last one keeps none of them.
    let two = set_with(
        db,
        vec![tags_v2(db, false), {
            let up = "CREATE TABLE half (n INTEGER); SELECT * FROM no_such_table;";
            script(2, "half", up, None)
        }],
    );
    assert!(db.migrator().with_set(two.clone())?.up(None).await.is_err());
    assert_eq!(db.migrator().introspect().await?, before);
    assert_eq!(db.migrator().with_set(two)?.history().await?.current_version, latest());

    let fixed = set_with(db, vec![tags_v2(db, false)]);
    let applied = db.migrator().with_set(fixed.clone())?.up(None).await?;
    assert_eq!(applied.len(), 1);
    let after = db.migrator().introspect().await?;
    assert!(after.tables.contains_key("tags"));
    assert!(after.tables["synths"].columns.iter().any(|c| c.name == "tag"));
    assert!(db.migrator().with_set(fixed)?.check().await?.1.is_empty());
    Ok(())
});

parity!(schema_two_migrators_at_once_apply_once, |db| {
    let set = set_with(db, vec![tags_v2(db, false), slow_v3(db)]);
    db.migrator().with_set(set.clone())?.down(DownTarget::To(0)).await?;
    let (first, second) = (another_store(db).await?, another_store(db).await?);
    let (a, b) = tokio::join!(
        async { first.migrator().with_set(set.clone())?.up(None).await },
        async { second.migrator().with_set(set.clone())?.up(None).await },
    );
    let (a, b) = (a?, b?);
    let mut counts = [a.len(), b.len()];
    counts.sort_unstable();
    assert_eq!(
        counts,
        [0, latest() as usize + 2],
        "one applies them all, the other finds nothing: {a:?} {b:?}"
    );
    let history = history_keys(db, &set).await?;
    assert_eq!(
        history.iter().map(|h| h.0).collect::<Vec<_>>(),
        (1..=latest() + 2).collect::<Vec<_>>()
    );
    assert!(db.migrator().with_set(set)?.check().await?.1.is_empty());
    Ok(())
});

parity!(schema_modified_applied_migration_is_reported_and_refused, |db| {
    let original = set_with(db, vec![tags_v2(db, false)]);
    db.migrator().with_set(original)?.up(None).await?;
    let mut edited_up = tags_v2(db, false).up_sql().to_owned();
    edited_up.push_str("\n-- edited after it was applied\n");
    let edited = set_with(
        db,
        vec![script(1, "tags", &edited_up, Some("DROP TABLE tags;")), slow_v3(db)],
    );
    let migrator = db.migrator().with_set(edited)?;
    let history = migrator.history().await?;
    let tags = format!("V{}__tags was modified", latest() + 1);
    assert!(
        matches!(history.applied[latest() as usize].state, AppliedState::Divergent { .. }),
        "{history:?}"
    );
    assert!(history.problems()[0].contains(&tags), "{:?}", history.problems());
    let err = migrator.up(None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(err.to_string().contains(&tags), "{err}");
    let err = migrator.down(DownTarget::Steps(1)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(
        !migrator.introspect().await?.tables.contains_key("bulk"),
        "the migration after it was not applied"
    );
    Ok(())
});

parity!(schema_unknown_applied_version_is_reported_and_refused, |db| {
    // A database migrated by a newer build: a version after ours is in the history.
    let future = latest() + 6;
    let insert = format!(
        "INSERT INTO refinery_schema_history (version, name, applied_on, checksum)
         VALUES ({future}, 'from_the_future', '2030-01-01T00:00:00Z', '42');"
    );
    db.raw(&insert, &insert).await?;
    let history = db.migrator().history().await?;
    assert_eq!(history.current_version, future);
    assert!(matches!(
        history.applied.last().map(|a| &a.state),
        Some(AppliedState::Unknown)
    ));
    assert!(
        history
            .problems()
            .iter()
            .any(|p| p.contains(&format!("V{future}__from_the_future is applied but unknown")))
    );
    let err = db.migrate().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    let err = db.migrator().down(DownTarget::To(0)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert_eq!(
        db.migrator().introspect().await?.tables.len(),
        17,
        "nothing rolled back"
    );
    let err = db.migrator().check().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    Ok(())
});

parity!(schema_down_without_a_down_script_refuses_and_changes_nothing, |db| {
    let up = "CREATE TABLE notes (id TEXT PRIMARY KEY);";
    let set = set_with(db, vec![script(1, "notes", up, None)]);
    let migrator = db.migrator().with_set(set)?;
    migrator.up(None).await?;
    let before = migrator.introspect().await?;
    let err = migrator.down(DownTarget::To(0)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let notes = format!("V{}__notes has no down script", latest() + 1);
    assert!(err.to_string().contains(&notes), "{err}");
    assert_eq!(migrator.introspect().await?, before);
    assert_eq!(migrator.history().await?.current_version, latest() + 1);
    let err = migrator.down(DownTarget::To(latest() + 4)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = migrator.up(Some(latest())).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "up to a lower version: {err}");
    Ok(())
});

parity!(schema_check_names_each_drift, |db| {
    let (version, diff) = db.migrator().check().await?;
    assert_eq!(version, latest());
    assert!(diff.is_empty(), "{diff}");
    db.raw(
        "DROP INDEX idx_experiments_status;
         ALTER TABLE synths ADD COLUMN extra TEXT;
         CREATE TABLE new_interview_guide (
           experiment_id TEXT PRIMARY KEY REFERENCES experiments (id) ON DELETE CASCADE,
           context_definition TEXT, questions TEXT, context_examples TEXT,
           created_at TEXT NOT NULL, updated_at TEXT DEFAULT 'never');
         DROP TABLE interview_guide;
         ALTER TABLE new_interview_guide RENAME TO interview_guide;",
        "DROP INDEX idx_experiments_status;
         ALTER TABLE synths ADD COLUMN extra text;
         ALTER TABLE interview_guide ALTER COLUMN updated_at SET DEFAULT '2000-01-01T00:00:00Z';",
    )
    .await?;
    let (_, diff) = db.migrator().check().await?;
    let text = diff.to_string();
    assert!(text.contains("index idx_experiments_status missing"), "{text}");
    assert!(text.contains("column synths.extra unexpected"), "{text}");
    assert!(
        text.contains("default of interview_guide.updated_at: expected none, found"),
        "{text}"
    );
    assert_eq!(diff.differences.len(), 3, "{text}");
    Ok(())
});

parity!(
    schema_timestamp_columns_are_the_timestamp_columns_of_the_catalog,
    |db| {
        let schema = db.migrator().introspect().await?;
        let mut found: Vec<(String, String)> = Vec::new();
        for (table, model) in &schema.tables {
            for column in &model.columns {
                let is_timestamp = match db.kind() {
                    BackendKind::Postgres => column.data_type == "timestamp with time zone",
                    // SQLite says TEXT: the same columns must at least exist and be TEXT.
                    BackendKind::Sqlite => {
                        synthlab_db::schema::is_timestamp_column(table, &column.name) && column.data_type == "TEXT"
                    }
                };
                if is_timestamp {
                    found.push((table.clone(), column.name.clone()));
                }
            }
        }
        found.sort();
        let mut expected: Vec<(String, String)> = TIMESTAMP_COLUMNS
            .iter()
            .map(|(t, c)| ((*t).to_owned(), (*c).to_owned()))
            .collect();
        expected.sort();
        assert_eq!(found, expected);
        Ok(())
    }
);

/// Both dialects' migrations, read back from their catalogs and mapped to dialect-neutral
/// terms (types, casts, JSON checks), describe one schema.
#[cfg(feature = "parity")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_sqlite_and_postgres_describe_the_same_logical_schema() {
    let sqlite = crate::harness::sqlite_db().await;
    let postgres = crate::harness::postgres_db().await;
    let sqlite_model = sqlite.migrator().introspect().await.expect("sqlite catalog");
    let postgres_model = postgres.migrator().introspect().await.expect("postgres catalog");
    assert_eq!(sqlite_model.tables.len(), 17);
    let a = sqlite_model.logical(BackendKind::Sqlite);
    let b = postgres_model.logical(BackendKind::Postgres);
    for (table, left) in &a.tables {
        let right = b
            .tables
            .get(table)
            .unwrap_or_else(|| panic!("table {table} missing on PostgreSQL"));
        assert_eq!(left.columns, right.columns, "columns of {table}");
        assert_eq!(left.primary_key, right.primary_key, "primary key of {table}");
        assert_eq!(left.unique, right.unique, "unique constraints of {table}");
        assert_eq!(left.foreign_keys, right.foreign_keys, "foreign keys of {table}");
        assert_eq!(left.checks, right.checks, "checks of {table}");
        assert_eq!(left.indexes, right.indexes, "indexes of {table}");
    }
    assert_eq!(a, b);
    // Not vacuous: the mapping saw JSON, timestamps, enumerations and cascades.
    let experiments = &a.tables["experiments"];
    assert!(experiments.checks.iter().any(|c| c.strings == ["active", "deleted"]));
    assert!(
        a.tables["analysis_runs"]
            .foreign_keys
            .iter()
            .any(|f| f.on_delete == "CASCADE")
    );
    assert!(
        a.tables["research_executions"]
            .foreign_keys
            .iter()
            .any(|f| f.on_delete == "SET NULL")
    );
    crate::harness::drop_schema(&postgres).await;
}

parity!(schema_migration_and_its_history_row_commit_together, |db| {
    // The migration succeeds but makes the history insert that follows it fail: if the two were
    // not in one transaction, its table would remain without a history row.
    let before = db.migrator().introspect().await?;
    let up = "CREATE TABLE orphaned_by_history (n INTEGER); DROP TABLE refinery_schema_history;";
    let set = set_with(db, vec![script(1, "sabotage", up, None)]);
    let err = db.migrator().with_set(set.clone())?.up(None).await.unwrap_err();
    assert!(err.to_string().contains("nothing was applied"), "{err}");
    assert_eq!(
        db.migrator().introspect().await?,
        before,
        "its table went with its history row"
    );
    let history = db.migrator().with_set(set)?.history().await?;
    assert!(history.managed, "the history table is back");
    assert_eq!(history.current_version, latest());
    Ok(())
});

parity!(schema_down_refuses_to_destroy_data_unless_forced, |db| {
    let set = set_with(db, vec![tags_v2(db, false)]);
    let migrator = db.migrator().with_set(set.clone())?;
    migrator.up(None).await?;
    db.experiments()
        .create(&crate::support::experiment("exp_1", "Kept", "2025-01-01 00:00:00"))
        .await?;
    db.synths().create(&synthlab_db::model::NewSynth::new("Ana")).await?;
    db.raw("UPDATE synths SET tag = 'x'", "UPDATE synths SET tag = 'x'")
        .await?;

    // V2's down drops synths.tag (holding a value) and tags (holding only V2's own seed row).
    let err = migrator.down(DownTarget::Steps(1)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    let message = err.to_string();
    assert!(
        message.contains("synths: 1 value(s) in dropped column(s) tag"),
        "{message}"
    );
    assert!(!message.contains("tags:"), "a seed row is not data: {message}");
    assert_eq!(migrator.history().await?.current_version, 2, "nothing rolled back");

    // All the way down: every table holding data is named with its rows.
    let err = migrator.down(DownTarget::To(0)).await.unwrap_err();
    let message = err.to_string();
    for line in [
        "experiments: 1 row(s), table dropped",
        "synths: 1 row(s), table dropped",
    ] {
        assert!(message.contains(line), "{line}: {message}");
    }
    assert!(!message.contains("synth_groups"), "only the default group: {message}");
    match db.kind() {
        BackendKind::Sqlite => assert!(
            message.contains("--force") && message.contains("VACUUM INTO"),
            "{message}"
        ),
        BackendKind::Postgres => assert!(
            message.contains("pg_dump --host=") && message.contains("--schema=") && message.contains("--force"),
            "{message}"
        ),
    }
    assert!(db.experiments().get("exp_1").await?.is_some(), "still there");

    let report = migrator.down_with(DownTarget::To(0), true).await?;
    assert_eq!(report.reverted.len(), 2);
    let destroyed: Vec<&str> = report.destroyed.iter().map(|d| d.table.as_str()).collect();
    assert!(
        destroyed.contains(&"experiments") && destroyed.contains(&"synths"),
        "{destroyed:?}"
    );
    assert_eq!(migrator.introspect().await?, SchemaModel::default());
    match (db.kind(), &report.backup) {
        (BackendKind::Sqlite, Some(backup)) => {
            let saved = Store::connect_with(
                &DatabaseConfig::sqlite_file(backup),
                synthlab_db::ConnectOptions::read_only_inspection(),
            )
            .await?;
            assert!(
                saved.experiments().get("exp_1").await?.is_some(),
                "the backup keeps the data"
            );
            std::fs::remove_file(backup)?;
        }
        (BackendKind::Postgres, None) => {}
        (kind, backup) => panic!("{kind}: unexpected backup {backup:?}"),
    }
    Ok(())
});
