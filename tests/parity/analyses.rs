//! AnalysisRepository parity cases (plus fixtures shared by the analysis-area files).

use serde_json::{Value, json};
use synthlab_db::ErrorKind;
use synthlab_db::model::{
    AnalysisRun, AnalysisStatusUpdate, NewAnalysisRun, NewCacheEntry, NewSynthOutcome, RunStatus,
};

use crate::harness::TestDb;
use crate::support::{experiment, ts};

/// Creates experiment `experiment_id` and its analysis `analysis_id` started at `started_at`.
pub async fn seed_analysis(
    db: &TestDb,
    experiment_id: &str,
    analysis_id: &str,
    started_at: &str,
) -> anyhow::Result<AnalysisRun> {
    db.experiments()
        .create(&experiment(experiment_id, "E", "2025-01-01 00:00:00"))
        .await?;
    let mut new = NewAnalysisRun::new(experiment_id, json!({"n": 1}));
    new.id = analysis_id.to_owned();
    new.started_at = Some(ts(started_at));
    Ok(db.analyses().create(&new).await?)
}

/// A JSON value holding the traps: nesting, unicode and escapes, 1.5, 0.1 + 0.2, extreme
/// floats, 64-bit integer limits, integer vs float, a float ≥ 1e16, -0.0.
pub fn tricky_json() -> Value {
    json!({
        "zeta": 1,
        "alpha": {"nested": [1.5, {"deep": [null, true, "ção 🚀 日本 é"]}]},
        "sum": 0.1 + 0.2,
        "tiny": 1e-300,
        "max": f64::MAX,
        "min_positive": 5e-324,
        "huge": 1.5e300,
        "u64_max": u64::MAX,
        "i64_min": i64::MIN,
        "int_and_float": [1, 1.0, -7, 2.5e-7],
        "big_float": 1e16,
        "negative_zero": -0.0,
        "escapes": "quote \" backslash \\ tab \t newline \n control \u{1} slash /",
        "": "empty key",
    })
}

/// Checks that `value` is [`tricky_json`] as both backends give it back (integral floats
/// ≥ 1e16 become integers, -0.0 becomes 0.0, every other number keeps its exact bits and
/// its integer/float kind).
pub fn assert_tricky_json(value: &Value) {
    let mut expected = tricky_json();
    expected["big_float"] = json!(10_000_000_000_000_000_u64);
    assert_eq!(value, &expected);
    for key in ["sum", "tiny", "max", "min_positive", "huge"] {
        assert_eq!(
            value[key].as_f64().map(f64::to_bits),
            expected[key].as_f64().map(f64::to_bits),
            "{key}"
        );
    }
    assert_eq!(value["max"].as_f64(), Some(f64::MAX));
    assert_eq!(value["sum"].as_f64(), Some(0.1 + 0.2));
    assert!(value["int_and_float"][0].is_u64() && value["int_and_float"][1].is_f64());
    assert!(value["int_and_float"][2].is_i64() && value["u64_max"].is_u64());
    assert!(value["big_float"].is_u64());
    assert_eq!(
        value["negative_zero"].as_f64().map(f64::to_bits),
        Some(0.0f64.to_bits())
    );
    // 1.50 in JSON text is the number 1.5; key order never matters.
    let reparsed: Value = serde_json::from_str(r#"{"b": 1.50, "a": [1.5]}"#).expect("json");
    assert_eq!(reparsed, json!({"a": [1.5], "b": 1.5}));
}

fn completed_update() -> AnalysisStatusUpdate {
    AnalysisStatusUpdate {
        status: RunStatus::Completed,
        completed_at: Some(ts("2025-02-01T10:00:00.654321+00:00")),
        total_synths: Some(9_007_199_254_740_993),
        aggregated_outcomes: Some(json!({"success_rate": 0.1 + 0.2, "by_group": {"b": 1, "a": [0.5]}})),
        execution_time_seconds: Some(0.1 + 0.2),
    }
}

parity!(analysis_create_then_get_round_trips, |db| {
    db.experiments()
        .create(&experiment("exp_1", "E", "2025-01-01 00:00:00"))
        .await?;
    let new = NewAnalysisRun {
        id: "ana_1".into(),
        experiment_id: "exp_1".into(),
        scenario_id: "cenário-β".into(),
        config: json!({"n_synths": 500, "seed": 42, "weights": {"b": 0.25, "a": 1.5}}),
        status: RunStatus::Running,
        started_at: Some(ts("2025-12-01T10:00:00.123456+00:00")),
    };
    let created = db.analyses().create(&new).await?;
    assert_eq!(created.id, "ana_1");
    assert_eq!(created.scenario_id, "cenário-β");
    assert_eq!(created.config, new.config);
    assert_eq!(created.status, RunStatus::Running);
    assert_eq!(created.started_at, ts("2025-12-01T10:00:00.123456+00:00"));
    assert_eq!(
        (
            created.completed_at,
            created.total_synths,
            &created.aggregated_outcomes,
            created.execution_time_seconds
        ),
        (None, Some(0), &None, None)
    );
    assert_eq!(db.analyses().get("ana_1").await?, Some(created));
    Ok(())
});

parity!(analysis_new_defaults_and_generated_id, |db| {
    db.experiments()
        .create(&experiment("exp_1", "E", "2025-01-01 00:00:00"))
        .await?;
    let before = synthlab_db::model::now();
    let created = db.analyses().create(&NewAnalysisRun::new("exp_1", json!({}))).await?;
    assert!(
        created.id.starts_with("ana_") && created.id.len() == 16,
        "{}",
        created.id
    );
    assert_eq!(created.scenario_id, "baseline");
    assert_eq!(created.status, RunStatus::Pending);
    assert!(created.started_at >= before);
    assert_eq!(created.started_at.timestamp_subsec_nanos() % 1000, 0);
    assert_eq!(db.analyses().get(&created.id).await?, Some(created));
    Ok(())
});

parity!(analysis_get_missing_is_none, |db| {
    assert!(db.analyses().get("nope").await?.is_none());
    assert!(db.analyses().get_by_experiment("nope").await?.is_none());
    assert!(db.analyses().latest_completed_id("nope").await?.is_none());
    Ok(())
});

parity!(analysis_second_run_of_experiment_or_same_id_is_conflict, |db| {
    seed_analysis(db, "exp_1", "ana_1", "2025-01-01 00:00:00").await?;
    let mut second = NewAnalysisRun::new("exp_1", json!({}));
    second.id = "ana_2".into();
    let err = db.analyses().create(&second).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    db.experiments()
        .create(&experiment("exp_2", "F", "2025-01-01 00:00:00"))
        .await?;
    let mut same_id = NewAnalysisRun::new("exp_2", json!({}));
    same_id.id = "ana_1".into();
    let err = db.analyses().create(&same_id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(db.analyses().get_by_experiment("exp_2").await?.is_none());
    Ok(())
});

parity!(analysis_missing_experiment_is_foreign_key, |db| {
    let err = db
        .analyses()
        .create(&NewAnalysisRun::new("exp_missing", json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKey, "{err}");
    Ok(())
});

parity!(analysis_get_by_experiment_finds_its_run, |db| {
    let one = seed_analysis(db, "exp_1", "ana_1", "2025-01-01 00:00:00").await?;
    let two = seed_analysis(db, "exp_2", "ana_2", "2025-01-02 00:00:00").await?;
    assert_eq!(db.analyses().get_by_experiment("exp_1").await?, Some(one));
    assert_eq!(db.analyses().get_by_experiment("exp_2").await?, Some(two));
    Ok(())
});

parity!(analysis_update_status_sets_given_fields_and_keeps_the_rest, |db| {
    seed_analysis(db, "exp_1", "ana_1", "2025-01-01 00:00:00").await?;
    let update = completed_update();
    let done = db.analyses().update_status("ana_1", &update).await?;
    assert_eq!(done.status, RunStatus::Completed);
    assert_eq!(done.completed_at, update.completed_at);
    assert_eq!(done.total_synths, Some(9_007_199_254_740_993));
    assert_eq!(done.aggregated_outcomes, update.aggregated_outcomes);
    assert_eq!(
        done.execution_time_seconds.map(f64::to_bits),
        Some((0.1f64 + 0.2).to_bits())
    );
    assert_eq!(db.analyses().get("ana_1").await?, Some(done.clone()));
    // Status alone: every other field keeps its value.
    let failed = db
        .analyses()
        .update_status("ana_1", &AnalysisStatusUpdate::new(RunStatus::Failed))
        .await?;
    assert_eq!(failed.status, RunStatus::Failed);
    assert_eq!(
        (
            failed.completed_at,
            failed.total_synths,
            &failed.aggregated_outcomes,
            failed.execution_time_seconds
        ),
        (
            done.completed_at,
            done.total_synths,
            &done.aggregated_outcomes,
            done.execution_time_seconds
        )
    );
    assert_eq!(failed.started_at, ts("2025-01-01 00:00:00"));
    Ok(())
});

parity!(analysis_update_status_missing_is_not_found, |db| {
    let err = db
        .analyses()
        .update_status("nope", &AnalysisStatusUpdate::new(RunStatus::Running))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    Ok(())
});

parity!(analysis_update_status_refuses_non_finite_time, |db| {
    seed_analysis(db, "exp_1", "ana_1", "2025-01-01 00:00:00").await?;
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut update = AnalysisStatusUpdate::new(RunStatus::Completed);
        update.execution_time_seconds = Some(bad);
        let err = db.analyses().update_status("ana_1", &update).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}: {err}");
    }
    let run = db.analyses().get("ana_1").await?.expect("exists");
    assert_eq!((run.status, run.execution_time_seconds), (RunStatus::Pending, None));
    // Extremes and -0.0 (stored as 0.0 on both backends) come back bit for bit.
    for (given, stored) in [
        (f64::MAX, f64::MAX),
        (5e-324, 5e-324),
        (1e-300, 1e-300),
        (-0.0, 0.0),
        (3.0, 3.0),
    ] {
        let mut update = AnalysisStatusUpdate::new(RunStatus::Completed);
        update.execution_time_seconds = Some(given);
        let run = db.analyses().update_status("ana_1", &update).await?;
        assert_eq!(
            run.execution_time_seconds.map(f64::to_bits),
            Some(stored.to_bits()),
            "{given:e}"
        );
        let read = db.analyses().get("ana_1").await?.expect("exists");
        assert_eq!(
            read.execution_time_seconds.map(f64::to_bits),
            Some(stored.to_bits()),
            "{given:e}"
        );
    }
    Ok(())
});

parity!(analysis_json_values_round_trip_exactly, |db| {
    db.experiments()
        .create(&experiment("exp_1", "E", "2025-01-01 00:00:00"))
        .await?;
    let mut new = NewAnalysisRun::new("exp_1", tricky_json());
    new.id = "ana_1".into();
    let created = db.analyses().create(&new).await?;
    assert_tricky_json(&created.config);
    let mut update = AnalysisStatusUpdate::new(RunStatus::Completed);
    update.aggregated_outcomes = Some(tricky_json());
    let updated = db.analyses().update_status("ana_1", &update).await?;
    assert_tricky_json(updated.aggregated_outcomes.as_ref().expect("set"));
    let read = db.analyses().get("ana_1").await?.expect("exists");
    assert_tricky_json(&read.config);
    assert_tricky_json(read.aggregated_outcomes.as_ref().expect("set"));
    Ok(())
});

parity!(analysis_nul_character_is_invalid_input, |db| {
    db.experiments()
        .create(&experiment("exp_1", "E", "2025-01-01 00:00:00"))
        .await?;
    let err = db
        .analyses()
        .create(&NewAnalysisRun::new("exp_1", json!({"note": "a\u{0}b"})))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let mut new = NewAnalysisRun::new("exp_1", json!({}));
    new.scenario_id = "x\u{0}".into();
    assert_eq!(
        db.analyses().create(&new).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert!(db.analyses().get_by_experiment("exp_1").await?.is_none());
    Ok(())
});

parity!(analysis_delete_cascades_to_outcomes_and_cache, |db| {
    seed_analysis(db, "exp_1", "ana_1", "2025-01-01 00:00:00").await?;
    db.synth_outcomes()
        .create(&NewSynthOutcome::new("ana_1", "syn_1", 0.1, 0.2, 0.7))
        .await?;
    db.analysis_cache()
        .save(&NewCacheEntry::new("ana_1", "chart", json!([1])))
        .await?;
    assert!(db.analyses().delete("ana_1").await?);
    assert!(db.analyses().get("ana_1").await?.is_none());
    assert_eq!(db.synth_outcomes().count_by_analysis("ana_1").await?, 0);
    assert!(db.analysis_cache().list("ana_1").await?.is_empty());
    assert!(!db.analyses().delete("ana_1").await?);
    assert!(db.experiments().get("exp_1").await?.is_some(), "the experiment stays");
    Ok(())
});

parity!(analysis_delete_by_experiment_reports_whether_one_existed, |db| {
    seed_analysis(db, "exp_1", "ana_1", "2025-01-01 00:00:00").await?;
    seed_analysis(db, "exp_2", "ana_2", "2025-01-01 00:00:00").await?;
    assert!(db.analyses().delete_by_experiment("exp_1").await?);
    assert!(!db.analyses().delete_by_experiment("exp_1").await?);
    assert!(!db.analyses().delete_by_experiment("exp_missing").await?);
    assert!(db.analyses().get("ana_1").await?.is_none());
    assert!(db.analyses().get("ana_2").await?.is_some());
    Ok(())
});

parity!(analysis_delete_with_exploration_is_foreign_key, |db| {
    seed_analysis(db, "exp_1", "ana_1", "2025-01-01 00:00:00").await?;
    db.raw(
        "INSERT INTO explorations (id, experiment_id, baseline_analysis_id, goal, config, started_at)
         VALUES ('expl_0000000a', 'exp_1', 'ana_1', '{}', '{}', '2025-01-01T00:00:00.000000+00:00');",
        "INSERT INTO explorations (id, experiment_id, baseline_analysis_id, goal, config, started_at)
         VALUES ('expl_0000000a', 'exp_1', 'ana_1', '{}', '{}', '2025-01-01T00:00:00+00');",
    )
    .await?;
    let err = db.analyses().delete("ana_1").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKey, "{err}");
    let err = db.analyses().delete_by_experiment("exp_1").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKey, "{err}");
    assert!(db.analyses().get("ana_1").await?.is_some());
    Ok(())
});

parity!(analysis_latest_completed_id_only_for_a_completed_run, |db| {
    seed_analysis(db, "exp_1", "ana_1", "2025-01-01 00:00:00").await?;
    assert_eq!(db.analyses().latest_completed_id("exp_1").await?, None);
    db.analyses()
        .update_status("ana_1", &AnalysisStatusUpdate::new(RunStatus::Running))
        .await?;
    assert_eq!(db.analyses().latest_completed_id("exp_1").await?, None);
    db.analyses().update_status("ana_1", &completed_update()).await?;
    assert_eq!(
        db.analyses().latest_completed_id("exp_1").await?.as_deref(),
        Some("ana_1")
    );
    seed_analysis(db, "exp_2", "ana_2", "2025-01-01 00:00:00").await?;
    assert_eq!(db.analyses().latest_completed_id("exp_2").await?, None);
    Ok(())
});

parity!(analysis_deleting_the_experiment_row_cascades, |db| {
    seed_analysis(db, "exp_1", "ana_1", "2025-01-01 00:00:00").await?;
    db.synth_outcomes()
        .create(&NewSynthOutcome::new("ana_1", "syn_1", 0.1, 0.2, 0.7))
        .await?;
    db.raw(
        "DELETE FROM experiments WHERE id = 'exp_1';",
        "DELETE FROM experiments WHERE id = 'exp_1';",
    )
    .await?;
    assert!(db.analyses().get("ana_1").await?.is_none());
    assert_eq!(db.synth_outcomes().count_by_analysis("ana_1").await?, 0);
    Ok(())
});

parity!(analysis_reads_legacy_timestamp_shapes, |db| {
    db.experiments()
        .create(&experiment("exp_1", "E", "2025-01-01 00:00:00"))
        .await?;
    db.raw(
        "INSERT INTO analysis_runs (id, experiment_id, config, status, started_at, completed_at, total_synths)
         VALUES ('ana_1', 'exp_1', '{\"a\": 1}', 'completed', '2025-12-01 10:00:00', '2025-12-01T12:30:00.5+02:00', '12');",
        "INSERT INTO analysis_runs (id, experiment_id, config, status, started_at, completed_at, total_synths)
         VALUES ('ana_1', 'exp_1', '{\"a\": 1}', 'completed', '2025-12-01 10:00:00+00', '2025-12-01T10:30:00.5+00', 12);",
    )
    .await?;
    let run = db.analyses().get("ana_1").await?.expect("exists");
    assert_eq!(run.scenario_id, "baseline", "schema default");
    assert_eq!(run.started_at, ts("2025-12-01T10:00:00Z"));
    assert_eq!(run.completed_at, Some(ts("2025-12-01T10:30:00.500Z")));
    assert_eq!(run.total_synths, Some(12));
    assert_eq!(
        db.analyses().latest_completed_id("exp_1").await?.as_deref(),
        Some("ana_1")
    );
    Ok(())
});
