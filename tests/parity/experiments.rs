//! ExperimentRepository parity cases.

use serde_json::json;
use synthlab_db::ErrorKind;
use synthlab_db::model::{ExperimentChanges, ExperimentStatus, NewExperiment, PageRequest};

use crate::support::{experiment, ts};

parity!(experiment_create_then_get_round_trips, |db| {
    let mut new = experiment("exp_1", "Checkout", "2025-12-01T10:00:00.123456+00:00");
    new.description = Some("Descrição com acentuação e emoji 🚀".into());
    new.scorecard_data = Some(json!({"b": 1, "a": [1.5, "x", null], "nested": {"z": true}}));
    let created = db.experiments().create(&new).await?;
    let fetched = db.experiments().get("exp_1").await?.expect("exists");
    assert_eq!(created, fetched);
    assert_eq!(fetched.status, ExperimentStatus::Active);
    assert_eq!(fetched.created_at, ts("2025-12-01T10:00:00.123456+00:00"));
    assert_eq!(fetched.scorecard_data, new.scorecard_data);
    assert_eq!(fetched.updated_at, None);
    Ok(())
});

parity!(experiment_get_missing_is_none, |db| {
    assert!(db.experiments().get("nope").await?.is_none());
    Ok(())
});

parity!(experiment_duplicate_id_is_conflict, |db| {
    db.experiments()
        .create(&experiment("exp_1", "A", "2025-01-01 00:00:00"))
        .await?;
    let err = db
        .experiments()
        .create(&experiment("exp_1", "B", "2025-01-02 00:00:00"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    Ok(())
});

parity!(experiment_name_too_long_is_rejected, |db| {
    let err = db
        .experiments()
        .create(&experiment("exp_1", &"n".repeat(101), "2025-01-01 00:00:00"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Check, "{err}");
    // Lengths count characters, not bytes: 100 multi-byte characters are fine.
    db.experiments()
        .create(&experiment("exp_2", &"é".repeat(100), "2025-01-01 00:00:00"))
        .await?;
    let mut long_hypothesis = experiment("exp_3", "ok", "2025-01-01 00:00:00");
    long_hypothesis.hypothesis = "h".repeat(501);
    assert_eq!(
        db.experiments().create(&long_hypothesis).await.unwrap_err().kind(),
        ErrorKind::Check
    );
    let mut long_description = experiment("exp_4", "ok", "2025-01-01 00:00:00");
    long_description.description = Some("d".repeat(2001));
    assert_eq!(
        db.experiments().create(&long_description).await.unwrap_err().kind(),
        ErrorKind::Check
    );
    Ok(())
});

parity!(experiment_list_is_newest_first_with_id_tiebreak, |db| {
    let repo = db.experiments();
    repo.create(&experiment("exp_a", "A", "2025-01-01T00:00:00.000000+00:00"))
        .await?;
    repo.create(&experiment("exp_c", "C", "2025-03-01T00:00:00.000000+00:00"))
        .await?;
    repo.create(&experiment("exp_b", "B", "2025-03-01T00:00:00.000000+00:00"))
        .await?;
    repo.create(&experiment("exp_d", "D", "2025-02-01T00:00:00.000001+00:00"))
        .await?;
    let page = repo.list(PageRequest::first(10)?).await?;
    let ids: Vec<_> = page.items.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["exp_c", "exp_b", "exp_d", "exp_a"]);
    assert_eq!(page.total, 4);
    assert!(!page.has_next);
    Ok(())
});

parity!(experiment_list_paginates_with_total_and_has_next, |db| {
    let repo = db.experiments();
    for i in 0..5 {
        repo.create(&experiment(
            &format!("exp_{i}"),
            "E",
            &format!("2025-01-0{} 00:00:00", i + 1),
        ))
        .await?;
    }
    let first = repo.list(PageRequest::new(2, 0)?).await?;
    assert_eq!((first.items.len(), first.total, first.has_next), (2, 5, true));
    assert_eq!(first.items[0].id, "exp_4");
    let last = repo.list(PageRequest::new(2, 4)?).await?;
    assert_eq!((last.items.len(), last.total, last.has_next), (1, 5, false));
    assert_eq!(last.items[0].id, "exp_0");
    let past = repo.list(PageRequest::new(2, 50)?).await?;
    assert_eq!((past.items.len(), past.total, past.has_next), (0, 5, false));
    Ok(())
});

parity!(experiment_list_rejects_bad_pages, |db| {
    for (limit, offset) in [(0, 0), (201, 0), (-1, 0), (10, -1)] {
        let page = synthlab_db::model::PageRequest { limit, offset };
        let err = db.experiments().list(page).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{limit}/{offset}");
    }
    assert!(PageRequest::new(200, 0).is_ok());
    Ok(())
});

parity!(experiment_list_summary_flags_and_counts, |db| {
    let repo = db.experiments();
    repo.create(&experiment("exp_plain", "Plain", "2025-01-01 00:00:00"))
        .await?;
    let mut rich = experiment("exp_rich", "Rich", "2025-01-02 00:00:00");
    rich.scorecard_data = Some(json!({"score": 1}));
    repo.create(&rich).await?;
    db.raw(
        "INSERT INTO interview_guide (experiment_id, created_at) VALUES ('exp_rich', '2025-01-02T00:00:00.000000+00:00');
         INSERT INTO analysis_runs (id, experiment_id, config, started_at) VALUES ('ana_1', 'exp_rich', '{}', '2025-01-02T00:00:00.000000+00:00');
         INSERT INTO research_executions (exec_id, experiment_id, topic_name, started_at) VALUES
           ('ex_1', 'exp_rich', 't', '2025-01-02T00:00:00.000000+00:00'),
           ('ex_2', 'exp_rich', 't', '2025-01-02T00:00:00.000000+00:00');",
        "INSERT INTO interview_guide (experiment_id, created_at) VALUES ('exp_rich', '2025-01-02T00:00:00Z');
         INSERT INTO analysis_runs (id, experiment_id, config, started_at) VALUES ('ana_1', 'exp_rich', '{}', '2025-01-02T00:00:00Z');
         INSERT INTO research_executions (exec_id, experiment_id, topic_name, started_at) VALUES
           ('ex_1', 'exp_rich', 't', '2025-01-02T00:00:00Z'),
           ('ex_2', 'exp_rich', 't', '2025-01-02T00:00:00Z');",
    )
    .await?;
    let page = repo.list(PageRequest::first(10)?).await?;
    let rich = &page.items[0];
    assert_eq!(rich.id, "exp_rich");
    assert!(rich.has_scorecard && rich.has_analysis && rich.has_interview_guide);
    assert_eq!(rich.interview_count, 2);
    let plain = &page.items[1];
    assert!(!plain.has_scorecard && !plain.has_analysis && !plain.has_interview_guide);
    assert_eq!(plain.interview_count, 0);
    Ok(())
});

parity!(experiment_update_touches_updated_at_and_keeps_unset_fields, |db| {
    let repo = db.experiments();
    let mut new = experiment("exp_1", "Old", "2025-01-01 00:00:00");
    new.description = Some("keep me".into());
    repo.create(&new).await?;
    let changes = ExperimentChanges {
        name: Some("New".into()),
        ..Default::default()
    };
    let updated = repo.update("exp_1", &changes).await?;
    assert_eq!(updated.name, "New");
    assert_eq!(updated.hypothesis, new.hypothesis);
    assert_eq!(updated.description.as_deref(), Some("keep me"));
    assert!(updated.updated_at.is_some());
    let cleared = repo
        .update(
            "exp_1",
            &ExperimentChanges {
                description: Some(None),
                ..Default::default()
            },
        )
        .await?;
    assert_eq!(cleared.description, None);
    assert_eq!(repo.get("exp_1").await?.expect("exists"), cleared);
    Ok(())
});

parity!(experiment_update_missing_or_deleted_is_not_found, |db| {
    let repo = db.experiments();
    let changes = ExperimentChanges {
        name: Some("x".into()),
        ..Default::default()
    };
    assert_eq!(
        repo.update("nope", &changes).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    repo.create(&experiment("exp_1", "A", "2025-01-01 00:00:00")).await?;
    repo.soft_delete("exp_1").await?;
    assert_eq!(
        repo.update("exp_1", &changes).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        repo.update_scorecard("exp_1", &json!({})).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    Ok(())
});

parity!(experiment_update_too_long_is_check, |db| {
    let repo = db.experiments();
    repo.create(&experiment("exp_1", "A", "2025-01-01 00:00:00")).await?;
    let changes = ExperimentChanges {
        name: Some("x".repeat(101)),
        ..Default::default()
    };
    assert_eq!(
        repo.update("exp_1", &changes).await.unwrap_err().kind(),
        ErrorKind::Check
    );
    assert_eq!(repo.get("exp_1").await?.expect("unchanged").name, "A");
    Ok(())
});

parity!(experiment_update_scorecard_stores_json_values, |db| {
    let repo = db.experiments();
    repo.create(&experiment("exp_1", "A", "2025-01-01 00:00:00")).await?;
    let scorecard = json!({"zeta": 1, "alpha": {"b": [1, 2.5, -0.0001]}, "big": 9007199254740993_i64, "s": "ção"});
    let updated = repo.update_scorecard("exp_1", &scorecard).await?;
    assert_eq!(updated.scorecard_data.as_ref(), Some(&scorecard));
    assert!(updated.updated_at.is_some());
    assert_eq!(
        repo.get("exp_1").await?.expect("exists").scorecard_data,
        Some(scorecard)
    );
    Ok(())
});

parity!(experiment_soft_delete_hides_from_reads, |db| {
    let repo = db.experiments();
    repo.create(&experiment("exp_1", "A", "2025-01-01 00:00:00")).await?;
    repo.create(&experiment("exp_2", "B", "2025-01-02 00:00:00")).await?;
    repo.soft_delete("exp_1").await?;
    assert!(repo.get("exp_1").await?.is_none());
    let page = repo.list(PageRequest::first(10)?).await?;
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].id, "exp_2");
    assert_eq!(repo.soft_delete("exp_1").await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(
        repo.soft_delete("missing").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    Ok(())
});

parity!(experiment_generated_ids_and_now_timestamps, |db| {
    let before = synthlab_db::model::now();
    let created = db.experiments().create(&NewExperiment::new("Gen", "H")).await?;
    assert!(created.id.starts_with("exp_"));
    assert!(created.created_at >= before);
    assert_eq!(
        created.created_at.timestamp_subsec_nanos() % 1000,
        0,
        "microsecond precision"
    );
    assert_eq!(db.experiments().get(&created.id).await?.expect("exists"), created);
    Ok(())
});

parity!(experiment_legacy_timestamp_shapes_sort_by_instant, |db| {
    // SQLite's datetime('now') shape (space, no offset) mixed with the canonical shape:
    // text order would put "2025-06-01 12:00:00" before "2025-06-01T09:00:00…".
    db.raw(
        "INSERT INTO experiments (id, name, hypothesis, status, created_at) VALUES
           ('exp_space', 'S', 'h', 'active', '2025-06-01 12:00:00'),
           ('exp_iso', 'I', 'h', 'active', '2025-06-01T09:00:00.000000+00:00'),
           ('exp_offset', 'O', 'h', 'active', '2025-06-01T13:00:00+02:00');",
        "INSERT INTO experiments (id, name, hypothesis, status, created_at) VALUES
           ('exp_space', 'S', 'h', 'active', '2025-06-01 12:00:00+00'),
           ('exp_iso', 'I', 'h', 'active', '2025-06-01T09:00:00+00'),
           ('exp_offset', 'O', 'h', 'active', '2025-06-01T11:00:00+00');",
    )
    .await?;
    let page = db.experiments().list(PageRequest::first(10)?).await?;
    let ids: Vec<_> = page.items.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["exp_space", "exp_offset", "exp_iso"]);
    assert_eq!(page.items[0].created_at, ts("2025-06-01T12:00:00Z"));
    assert_eq!(page.items[1].created_at, ts("2025-06-01T11:00:00Z"));
    Ok(())
});

parity!(experiment_sqlite_writes_legacy_readable_text, |db| {
    // What the SQLite backend writes must stay readable by the legacy Python application.
    let mut new = experiment("exp_1", "A", "2025-12-01T10:00:00.123456+00:00");
    new.scorecard_data = Some(json!({"k": "v"}));
    db.experiments().create(&new).await?;
    if let Some(path) = &db.sqlite_path {
        let conn = rusqlite::Connection::open(path)?;
        let (created, scorecard, status, kind): (String, String, String, String) = conn.query_row(
            "SELECT created_at, scorecard_data, status, typeof(scorecard_data) FROM experiments WHERE id = 'exp_1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        assert_eq!(created, "2025-12-01T10:00:00.123456+00:00");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&scorecard)?,
            json!({"k": "v"})
        );
        assert_eq!((status.as_str(), kind.as_str()), ("active", "text"));
    }
    Ok(())
});

parity!(experiment_key_with_nul_is_invalid_input_on_reads_and_writes, |db| {
    // Every argument passes the same check before either backend sees it: a NUL character
    // in a key is InvalidInput on both (PostgreSQL cannot bind it; SQLite used to answer None).
    db.experiments()
        .create(&experiment("exp_1", "A", "2025-01-01 00:00:00"))
        .await?;
    let err = db.experiments().get("exp_1\u{0}").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = db.experiments().soft_delete("exp_1\u{0}").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = db
        .experiments()
        .update_scorecard("exp_1\u{0}", &json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(db.experiments().get("exp_1").await?.is_some());
    Ok(())
});
