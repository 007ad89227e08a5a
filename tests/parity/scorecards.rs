//! ScorecardRepository parity cases (legacy `feature_scorecards`).

use serde_json::json;
use synthlab_db::ErrorKind;
use synthlab_db::model::{NewScorecard, NewSimulation, PageRequest, RunStatus};

use crate::support::{experiment, ts};

/// A scorecard with a fixed id and creation time, not linked to an experiment.
pub fn scorecard(id: &str, created_at: &str) -> NewScorecard {
    NewScorecard {
        id: id.to_owned(),
        experiment_id: None,
        data: json!({"feature": id}),
        created_at: Some(ts(created_at)),
    }
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    items.iter().map(|i| id(i).to_owned()).collect()
}

parity!(scorecard_create_then_get_round_trips, |db| {
    db.experiments()
        .create(&experiment("exp_1", "Checkout", "2025-01-01 00:00:00"))
        .await?;
    let mut new = scorecard("sc_1", "2025-12-01T10:00:00.123456+00:00");
    new.experiment_id = Some("exp_1".into());
    new.data = json!({
        "identification": {"feature_name": "Pagamento com Pix ção 🚀", "use_scenario": "首次使用"},
        "complexity": {"score": 0.4, "rules": ["a", "B", "é"]},
        "big": 9007199254740993_i64,
        "max_u64": u64::MAX,
        "neg": -42,
        "nothing": null,
        "z": 1, "a": 2
    });
    let created = db.scorecards().create(&new).await?;
    let fetched = db.scorecards().get("sc_1").await?.expect("exists");
    assert_eq!(created, fetched);
    assert_eq!(fetched.experiment_id.as_deref(), Some("exp_1"));
    assert_eq!(fetched.data, new.data);
    assert_eq!(fetched.data["big"].as_i64(), Some(9007199254740993));
    assert_eq!(fetched.data["max_u64"].as_u64(), Some(u64::MAX));
    assert_eq!(fetched.created_at, ts("2025-12-01T10:00:00.123456+00:00"));
    assert_eq!(fetched.updated_at, None);
    // Keys come back in one (sorted) order on both backends, whatever jsonb does to them.
    let keys: Vec<&str> = fetched
        .data
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "a",
            "big",
            "complexity",
            "identification",
            "max_u64",
            "neg",
            "nothing",
            "z"
        ]
    );
    Ok(())
});

parity!(scorecard_get_missing_is_none, |db| {
    assert!(db.scorecards().get("nope").await?.is_none());
    Ok(())
});

parity!(scorecard_duplicate_id_is_conflict, |db| {
    db.scorecards()
        .create(&scorecard("sc_1", "2025-01-01 00:00:00"))
        .await?;
    let err = db
        .scorecards()
        .create(&scorecard("sc_1", "2025-01-02 00:00:00"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    let kept = db.scorecards().get("sc_1").await?.expect("first one kept");
    assert_eq!(kept.created_at, ts("2025-01-01 00:00:00"));
    Ok(())
});

parity!(scorecard_missing_experiment_is_foreign_key, |db| {
    let mut new = scorecard("sc_1", "2025-01-01 00:00:00");
    new.experiment_id = Some("exp_missing".into());
    let err = db.scorecards().create(&new).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKey, "{err}");
    assert!(db.scorecards().get("sc_1").await?.is_none());
    Ok(())
});

parity!(scorecard_list_is_newest_first_with_id_tiebreak, |db| {
    let repo = db.scorecards();
    repo.create(&scorecard("sc_a", "2025-01-01T00:00:00.000000+00:00"))
        .await?;
    repo.create(&scorecard("sc_c", "2025-03-01T00:00:00.000000+00:00"))
        .await?;
    repo.create(&scorecard("sc_b", "2025-03-01T00:00:00.000000+00:00"))
        .await?;
    repo.create(&scorecard("sc_B", "2025-03-01T00:00:00.000000+00:00"))
        .await?;
    repo.create(&scorecard("sc_d", "2025-02-01T00:00:00.000001+00:00"))
        .await?;
    let page = repo.list(PageRequest::first(10)?).await?;
    // Ties by id descending, in byte order ("B" < "b").
    assert_eq!(ids(&page.items, |s| &s.id), ["sc_c", "sc_b", "sc_B", "sc_d", "sc_a"]);
    assert_eq!((page.total, page.has_next), (5, false));
    Ok(())
});

parity!(scorecard_list_paginates_and_rejects_bad_pages, |db| {
    let repo = db.scorecards();
    for i in 0..5 {
        repo.create(&scorecard(&format!("sc_{i}"), &format!("2025-01-0{} 00:00:00", i + 1)))
            .await?;
    }
    let first = repo.list(PageRequest::new(2, 0)?).await?;
    assert_eq!((first.items.len(), first.total, first.has_next), (2, 5, true));
    assert_eq!(ids(&first.items, |s| &s.id), ["sc_4", "sc_3"]);
    let last = repo.list(PageRequest::new(2, 4)?).await?;
    assert_eq!((last.items.len(), last.total, last.has_next), (1, 5, false));
    assert_eq!(last.items[0].id, "sc_0");
    let past = repo.list(PageRequest::new(2, 50)?).await?;
    assert_eq!((past.items.len(), past.total, past.has_next), (0, 5, false));
    for (limit, offset) in [(0, 0), (201, 0), (10, -1)] {
        let bad = PageRequest { limit, offset };
        assert_eq!(repo.list(bad).await.unwrap_err().kind(), ErrorKind::InvalidInput);
        assert_eq!(
            repo.list_by_experiment("exp_1", bad).await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
    Ok(())
});

parity!(scorecard_list_legacy_timestamp_shapes_sort_by_instant, |db| {
    // Text order would put "2025-06-01 12:00:00" before "2025-06-01T09:00:00…".
    db.raw(
        "INSERT INTO feature_scorecards (id, data, created_at) VALUES
           ('sc_space', '{}', '2025-06-01 12:00:00'),
           ('sc_iso', '{}', '2025-06-01T09:00:00.000000+00:00'),
           ('sc_offset', '{}', '2025-06-01T13:00:00+02:00');",
        "INSERT INTO feature_scorecards (id, data, created_at) VALUES
           ('sc_space', '{}', '2025-06-01 12:00:00+00'),
           ('sc_iso', '{}', '2025-06-01T09:00:00+00'),
           ('sc_offset', '{}', '2025-06-01T11:00:00+00');",
    )
    .await?;
    let page = db.scorecards().list(PageRequest::first(10)?).await?;
    assert_eq!(ids(&page.items, |s| &s.id), ["sc_space", "sc_offset", "sc_iso"]);
    assert_eq!(page.items[0].created_at, ts("2025-06-01T12:00:00Z"));
    assert_eq!(page.items[1].created_at, ts("2025-06-01T11:00:00Z"));
    Ok(())
});

parity!(scorecard_list_by_experiment_filters_and_paginates, |db| {
    db.experiments()
        .create(&experiment("exp_1", "One", "2025-01-01 00:00:00"))
        .await?;
    db.experiments()
        .create(&experiment("exp_2", "Two", "2025-01-01 00:00:00"))
        .await?;
    for (id, exp, at) in [
        ("sc_1", Some("exp_1"), "2025-01-01 00:00:00"),
        ("sc_2", Some("exp_2"), "2025-01-02 00:00:00"),
        ("sc_3", Some("exp_1"), "2025-01-03 00:00:00"),
        ("sc_4", None, "2025-01-04 00:00:00"),
        ("sc_5", Some("exp_1"), "2025-01-03 00:00:00"),
    ] {
        let mut new = scorecard(id, at);
        new.experiment_id = exp.map(str::to_owned);
        db.scorecards().create(&new).await?;
    }
    let page = db
        .scorecards()
        .list_by_experiment("exp_1", PageRequest::first(10)?)
        .await?;
    assert_eq!(ids(&page.items, |s| &s.id), ["sc_5", "sc_3", "sc_1"]);
    assert_eq!((page.total, page.has_next), (3, false));
    let second = db
        .scorecards()
        .list_by_experiment("exp_1", PageRequest::new(1, 1)?)
        .await?;
    assert_eq!(ids(&second.items, |s| &s.id), ["sc_3"]);
    assert_eq!((second.total, second.has_next), (3, true));
    let none = db
        .scorecards()
        .list_by_experiment("exp_none", PageRequest::first(10)?)
        .await?;
    assert_eq!((none.items.len(), none.total, none.has_next), (0, 0, false));
    Ok(())
});

parity!(scorecard_update_data_sets_updated_at_and_replaces_json, |db| {
    let before = synthlab_db::model::now();
    db.scorecards()
        .create(&scorecard("sc_1", "2025-01-01 00:00:00"))
        .await?;
    let data = json!({"zeta": [1, 2.5, -0.0001], "alpha": {"nested": {"deep": "ü"}}, "big": -9007199254740993_i64});
    let updated = db.scorecards().update_data("sc_1", &data).await?;
    assert_eq!(updated.data, data);
    assert_eq!(updated.created_at, ts("2025-01-01 00:00:00"));
    let updated_at = updated.updated_at.expect("set");
    assert!(updated_at >= before);
    assert_eq!(updated_at.timestamp_subsec_nanos() % 1000, 0, "microsecond precision");
    assert_eq!(db.scorecards().get("sc_1").await?.expect("exists"), updated);
    Ok(())
});

parity!(scorecard_update_data_missing_is_not_found, |db| {
    let err = db.scorecards().update_data("nope", &json!({})).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    Ok(())
});

parity!(scorecard_delete_reports_existence, |db| {
    db.scorecards()
        .create(&scorecard("sc_1", "2025-01-01 00:00:00"))
        .await?;
    assert!(db.scorecards().delete("sc_1").await?);
    assert!(db.scorecards().get("sc_1").await?.is_none());
    assert!(!db.scorecards().delete("sc_1").await?);
    assert!(!db.scorecards().delete("never").await?);
    Ok(())
});

parity!(scorecard_delete_with_simulations_is_foreign_key, |db| {
    db.scorecards()
        .create(&scorecard("sc_1", "2025-01-01 00:00:00"))
        .await?;
    let mut sim = NewSimulation::new("sc_1", "baseline", json!({}));
    sim.status = RunStatus::Completed;
    db.simulations().create(&sim).await?;
    let err = db.scorecards().delete("sc_1").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKey, "{err}");
    assert!(db.scorecards().get("sc_1").await?.is_some());
    // Once the simulation is gone the scorecard can go.
    assert!(db.simulations().delete(&sim.id).await?);
    assert!(db.scorecards().delete("sc_1").await?);
    Ok(())
});

parity!(scorecard_generated_ids_and_now_timestamps, |db| {
    let before = synthlab_db::model::now();
    let created = db.scorecards().create(&NewScorecard::new(json!({"k": "v"}))).await?;
    assert!(created.id.starts_with("sc_"));
    assert_eq!(created.id.len(), "sc_".len() + 12);
    assert!(created.created_at >= before);
    assert_eq!(created.created_at.timestamp_subsec_nanos() % 1000, 0);
    assert_eq!(db.scorecards().get(&created.id).await?.expect("exists"), created);
    Ok(())
});

parity!(scorecard_legacy_duplicate_json_keys_keep_the_last, |db| {
    // json_valid accepts duplicate keys; jsonb keeps the last one. Reads agree.
    db.raw(
        r#"INSERT INTO feature_scorecards (id, data, created_at)
           VALUES ('sc_dup', '{"a": 1, "b": {"x": 1, "x": 2}, "a": 3}', '2025-01-01 00:00:00');"#,
        r#"INSERT INTO feature_scorecards (id, data, created_at)
           VALUES ('sc_dup', '{"a": 1, "b": {"x": 1, "x": 2}, "a": 3}', '2025-01-01 00:00:00+00');"#,
    )
    .await?;
    let fetched = db.scorecards().get("sc_dup").await?.expect("exists");
    assert_eq!(fetched.data, json!({"a": 3, "b": {"x": 2}}));
    assert_eq!(fetched.created_at, ts("2025-01-01T00:00:00Z"));
    Ok(())
});

parity!(scorecard_and_simulation_json_edge_numbers_and_nul_behave_alike, |db| {
    // Integral floats ≥ 1e16 and -0.0 inside JSON read back identically on both backends;
    // a NUL character (PostgreSQL cannot store it) is refused on both.
    let data = json!({"big": 1e16, "neg_zero": -0.0, "third": 1.0 / 3.0, "nested": [1e17, {"x": -0.0}]});
    let card = db.scorecards().create(&NewScorecard::new(data)).await?;
    let read = db.scorecards().get(&card.id).await?.expect("exists");
    assert_eq!(read, card);
    assert_eq!(read.data["big"].as_f64(), Some(1e16));
    assert_eq!(read.data["neg_zero"].as_f64().map(f64::to_bits), Some(0.0f64.to_bits()));
    let sim = db
        .simulations()
        .create(&NewSimulation::new(&card.id, "baseline", json!({"k": 1e20})))
        .await?;
    assert_eq!(db.simulations().get(&sim.id).await?.expect("exists").config, sim.config);
    let err = db
        .scorecards()
        .create(&NewScorecard::new(json!({"t": "a\u{0}b"})))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = db
        .scorecards()
        .update_data(&card.id, &json!({"t": "a\u{0}b"}))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    Ok(())
});
