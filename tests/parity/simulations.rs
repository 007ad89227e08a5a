//! SimulationRepository parity cases (legacy `simulation_runs`).

use serde_json::json;
use synthlab_db::ErrorKind;
use synthlab_db::model::{NewSimulation, PageRequest, RunStatus, SimulationStatusUpdate};

use crate::harness::TestDb;
use crate::scorecards::scorecard;
use crate::support::ts;

/// A completed-looking simulation with a fixed id and start time.
pub fn simulation(id: &str, scorecard_id: &str, started_at: &str) -> NewSimulation {
    NewSimulation {
        id: id.to_owned(),
        scorecard_id: scorecard_id.to_owned(),
        scenario_id: "baseline".to_owned(),
        config: json!({"n_synths": 500, "seed": 42}),
        status: RunStatus::Running,
        started_at: Some(ts(started_at)),
        completed_at: None,
        total_synths: Some(500),
        aggregated_outcomes: None,
        execution_time_seconds: None,
    }
}

/// Creates scorecard `sc_<simulation_id>` and the simulation `simulation_id` under it.
pub async fn seed_simulation(db: &TestDb, simulation_id: &str) -> anyhow::Result<()> {
    let scorecard_id = format!("sc_{simulation_id}");
    db.scorecards()
        .create(&scorecard(&scorecard_id, "2025-01-01 00:00:00"))
        .await?;
    db.simulations()
        .create(&simulation(simulation_id, &scorecard_id, "2025-01-01 00:00:00"))
        .await?;
    Ok(())
}

/// The floats whose bits must survive a round trip (-0.0 is stored as 0.0, see below).
pub const EDGE_FLOATS: [f64; 6] = [0.1 + 0.2, 1e-300, f64::MAX, f64::MIN_POSITIVE, -1.5, 5e-324];

fn ids(items: &[synthlab_db::model::SimulationRun]) -> Vec<&str> {
    items.iter().map(|s| s.id.as_str()).collect()
}

parity!(simulation_create_then_get_round_trips, |db| {
    db.scorecards()
        .create(&scorecard("sc_1", "2025-01-01 00:00:00"))
        .await?;
    let mut new = simulation("sim_1", "sc_1", "2025-12-01T10:00:00.123456+00:00");
    new.status = RunStatus::Completed;
    new.completed_at = Some(ts("2025-12-01T10:05:00.654321+00:00"));
    new.total_synths = Some(i64::MAX);
    new.aggregated_outcomes =
        Some(json!({"success": 0.25, "failed": 0.5, "did_not_try": 0.25, "by": {"grupo": "ção"}}));
    new.execution_time_seconds = Some(12.345678);
    let created = db.simulations().create(&new).await?;
    let fetched = db.simulations().get("sim_1").await?.expect("exists");
    assert_eq!(created, fetched);
    assert_eq!(fetched.scorecard_id, "sc_1");
    assert_eq!(fetched.scenario_id, "baseline");
    assert_eq!(fetched.config, json!({"n_synths": 500, "seed": 42}));
    assert_eq!(fetched.status, RunStatus::Completed);
    assert_eq!(fetched.started_at, ts("2025-12-01T10:00:00.123456+00:00"));
    assert_eq!(fetched.completed_at, Some(ts("2025-12-01T10:05:00.654321+00:00")));
    assert_eq!(fetched.total_synths, Some(i64::MAX));
    assert_eq!(fetched.aggregated_outcomes, new.aggregated_outcomes);
    assert_eq!(
        fetched.execution_time_seconds.map(f64::to_bits),
        Some(12.345678_f64.to_bits())
    );
    Ok(())
});

parity!(simulation_new_defaults_pending_zero_synths_and_now, |db| {
    db.scorecards()
        .create(&scorecard("sc_1", "2025-01-01 00:00:00"))
        .await?;
    let before = synthlab_db::model::now();
    let created = db
        .simulations()
        .create(&NewSimulation::new("sc_1", "scn_x", json!({"k": [1, 2]})))
        .await?;
    assert!(created.id.starts_with("sim_"));
    assert_eq!(created.id.len(), "sim_".len() + 12);
    assert_eq!(created.status, RunStatus::Pending);
    assert_eq!(created.total_synths, Some(0), "column default");
    assert_eq!(created.completed_at, None);
    assert_eq!(created.aggregated_outcomes, None);
    assert_eq!(created.execution_time_seconds, None);
    assert!(created.started_at >= before);
    assert_eq!(created.started_at.timestamp_subsec_nanos() % 1000, 0);
    assert_eq!(db.simulations().get(&created.id).await?.expect("exists"), created);
    Ok(())
});

parity!(simulation_get_missing_is_none, |db| {
    assert!(db.simulations().get("nope").await?.is_none());
    assert!(db.simulations().summary("nope").await?.is_none());
    Ok(())
});

parity!(simulation_duplicate_id_is_conflict, |db| {
    seed_simulation(db, "sim_1").await?;
    let err = db
        .simulations()
        .create(&simulation("sim_1", "sc_sim_1", "2025-02-01 00:00:00"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    let kept = db.simulations().get("sim_1").await?.expect("kept");
    assert_eq!(kept.started_at, ts("2025-01-01 00:00:00"));
    Ok(())
});

parity!(simulation_missing_scorecard_is_foreign_key, |db| {
    let err = db
        .simulations()
        .create(&simulation("sim_1", "sc_missing", "2025-01-01 00:00:00"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKey, "{err}");
    assert!(db.simulations().get("sim_1").await?.is_none());
    Ok(())
});

parity!(simulation_execution_time_float_bits_round_trip, |db| {
    db.scorecards()
        .create(&scorecard("sc_1", "2025-01-01 00:00:00"))
        .await?;
    for (i, value) in EDGE_FLOATS.iter().enumerate() {
        let mut new = simulation(&format!("sim_{i}"), "sc_1", "2025-01-01 00:00:00");
        new.execution_time_seconds = Some(*value);
        let created = db.simulations().create(&new).await?;
        let fetched = db.simulations().get(&new.id).await?.expect("exists");
        assert_eq!(created.execution_time_seconds.map(f64::to_bits), Some(value.to_bits()));
        assert_eq!(
            fetched.execution_time_seconds.map(f64::to_bits),
            Some(value.to_bits()),
            "{value:e}"
        );
    }
    // SQLite's REAL storage drops the sign of -0.0 and PostgreSQL keeps it: both store 0.0.
    let mut negative_zero = simulation("sim_nz", "sc_1", "2025-01-01 00:00:00");
    negative_zero.execution_time_seconds = Some(-0.0);
    db.simulations().create(&negative_zero).await?;
    let fetched = db.simulations().get("sim_nz").await?.expect("exists");
    assert_eq!(
        fetched.execution_time_seconds.map(f64::to_bits),
        Some(0.0_f64.to_bits())
    );
    let mut update = SimulationStatusUpdate::new(RunStatus::Completed);
    update.execution_time_seconds = Some(-0.0);
    let updated = db.simulations().update_status("sim_0", &update).await?;
    assert_eq!(
        updated.execution_time_seconds.map(f64::to_bits),
        Some(0.0_f64.to_bits())
    );
    Ok(())
});

parity!(simulation_non_finite_execution_time_is_invalid_input, |db| {
    db.scorecards()
        .create(&scorecard("sc_1", "2025-01-01 00:00:00"))
        .await?;
    for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut new = simulation("sim_bad", "sc_1", "2025-01-01 00:00:00");
        new.execution_time_seconds = Some(value);
        let err = db.simulations().create(&new).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{value}: {err}");
    }
    assert!(db.simulations().get("sim_bad").await?.is_none());
    db.simulations()
        .create(&simulation("sim_1", "sc_1", "2025-01-01 00:00:00"))
        .await?;
    let mut update = SimulationStatusUpdate::new(RunStatus::Failed);
    update.execution_time_seconds = Some(f64::NAN);
    let err = db.simulations().update_status("sim_1", &update).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(
        db.simulations().get("sim_1").await?.expect("exists").status,
        RunStatus::Running
    );
    Ok(())
});

parity!(simulation_aggregated_outcomes_json_numbers_round_trip, |db| {
    // jsonb keeps numbers as numeric and prints them without exponent; SQLite keeps the
    // text serde_json wrote. Both must read back the same values, bit for bit.
    db.scorecards()
        .create(&scorecard("sc_1", "2025-01-01 00:00:00"))
        .await?;
    let outcomes = json!({
        "sum": 0.1 + 0.2,
        "tiny": 1e-300,
        "max": f64::MAX,
        "min_positive": f64::MIN_POSITIVE,
        "subnormal": 5e-324,
        "half": 1.5,
        "big": 9007199254740993_i64,
        "min_i64": i64::MIN,
        "max_u64": u64::MAX,
        "nested": [{"ç": [0.3, -2.5e-10, {"deep": 1e300}]}],
    });
    let mut new = simulation("sim_1", "sc_1", "2025-01-01 00:00:00");
    new.aggregated_outcomes = Some(outcomes.clone());
    db.simulations().create(&new).await?;
    let fetched = db.simulations().get("sim_1").await?.expect("exists");
    let got = fetched.aggregated_outcomes.expect("set");
    assert_eq!(got, outcomes);
    for key in ["sum", "tiny", "max", "min_positive", "subnormal", "half"] {
        assert_eq!(
            got[key].as_f64().map(f64::to_bits),
            outcomes[key].as_f64().map(f64::to_bits),
            "{key}"
        );
    }
    assert_eq!(got["big"].as_i64(), Some(9007199254740993));
    assert_eq!(got["min_i64"].as_i64(), Some(i64::MIN));
    assert_eq!(got["max_u64"].as_u64(), Some(u64::MAX));
    assert_eq!(got["nested"][0]["ç"][2]["deep"].as_f64(), Some(1e300));
    Ok(())
});

parity!(simulation_list_by_scorecard_latest_first_with_id_ties, |db| {
    db.scorecards()
        .create(&scorecard("sc_1", "2025-01-01 00:00:00"))
        .await?;
    db.scorecards()
        .create(&scorecard("sc_2", "2025-01-01 00:00:00"))
        .await?;
    for (id, sc, at) in [
        ("sim_a", "sc_1", "2025-01-01T00:00:00.000000+00:00"),
        ("sim_c", "sc_1", "2025-03-01T00:00:00.000000+00:00"),
        ("sim_b", "sc_1", "2025-03-01T00:00:00.000000+00:00"),
        ("sim_B", "sc_1", "2025-03-01T00:00:00.000000+00:00"),
        ("sim_d", "sc_1", "2025-03-01T00:00:00.000001+00:00"),
        ("sim_other", "sc_2", "2025-06-01T00:00:00.000000+00:00"),
    ] {
        db.simulations().create(&simulation(id, sc, at)).await?;
    }
    let runs = db.simulations().list_by_scorecard("sc_1").await?;
    assert_eq!(ids(&runs), ["sim_d", "sim_c", "sim_b", "sim_B", "sim_a"]);
    assert!(db.simulations().list_by_scorecard("sc_none").await?.is_empty());
    Ok(())
});

parity!(simulation_legacy_started_at_shapes_sort_by_instant, |db| {
    db.scorecards()
        .create(&scorecard("sc_1", "2025-01-01 00:00:00"))
        .await?;
    // Text order would put "2025-06-01 12:00:00" before "2025-06-01T09:00:00…".
    db.raw(
        "INSERT INTO simulation_runs (id, scorecard_id, scenario_id, config, status, started_at, completed_at) VALUES
           ('sim_space', 'sc_1', 's', '{}', 'completed', '2025-06-01 12:00:00', '2025-06-01 12:30:00'),
           ('sim_iso', 'sc_1', 's', '{}', 'pending', '2025-06-01T09:00:00.000000+00:00', NULL),
           ('sim_offset', 'sc_1', 's', '{}', 'failed', '2025-06-01T13:00:00+02:00', NULL);",
        "INSERT INTO simulation_runs (id, scorecard_id, scenario_id, config, status, started_at, completed_at) VALUES
           ('sim_space', 'sc_1', 's', '{}', 'completed', '2025-06-01 12:00:00+00', '2025-06-01 12:30:00+00'),
           ('sim_iso', 'sc_1', 's', '{}', 'pending', '2025-06-01T09:00:00+00', NULL),
           ('sim_offset', 'sc_1', 's', '{}', 'failed', '2025-06-01T11:00:00+00', NULL);",
    )
    .await?;
    let expected = ["sim_space", "sim_offset", "sim_iso"];
    let by_scorecard = db.simulations().list_by_scorecard("sc_1").await?;
    assert_eq!(ids(&by_scorecard), expected);
    let page = db.simulations().list(PageRequest::first(10)?).await?;
    assert_eq!(ids(&page.items), expected);
    assert_eq!(page.items[0].completed_at, Some(ts("2025-06-01T12:30:00Z")));
    assert_eq!(page.items[1].started_at, ts("2025-06-01T11:00:00Z"));
    // Planted rows without total_synths get the column default on both backends.
    assert_eq!(page.items[2].total_synths, Some(0));
    Ok(())
});

parity!(simulation_list_paginates_with_total_and_has_next, |db| {
    db.scorecards()
        .create(&scorecard("sc_1", "2025-01-01 00:00:00"))
        .await?;
    db.scorecards()
        .create(&scorecard("sc_2", "2025-01-01 00:00:00"))
        .await?;
    for i in 0..5 {
        let sc = if i % 2 == 0 { "sc_1" } else { "sc_2" };
        db.simulations()
            .create(&simulation(
                &format!("sim_{i}"),
                sc,
                &format!("2025-01-0{} 00:00:00", i + 1),
            ))
            .await?;
    }
    let first = db.simulations().list(PageRequest::new(2, 0)?).await?;
    assert_eq!(ids(&first.items), ["sim_4", "sim_3"]);
    assert_eq!((first.total, first.has_next), (5, true));
    let last = db.simulations().list(PageRequest::new(2, 4)?).await?;
    assert_eq!(ids(&last.items), ["sim_0"]);
    assert_eq!((last.total, last.has_next), (5, false));
    let past = db.simulations().list(PageRequest::new(2, 9)?).await?;
    assert_eq!((past.items.len(), past.total, past.has_next), (0, 5, false));
    for (limit, offset) in [(0, 0), (201, 0), (1, -1)] {
        let err = db.simulations().list(PageRequest { limit, offset }).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
    Ok(())
});

parity!(simulation_list_empty_has_zero_total, |db| {
    let page = db.simulations().list(PageRequest::first(10)?).await?;
    assert_eq!((page.items.len(), page.total, page.has_next), (0, 0, false));
    Ok(())
});

parity!(simulation_update_status_writes_all_fields_and_clears, |db| {
    db.scorecards()
        .create(&scorecard("sc_1", "2025-01-01 00:00:00"))
        .await?;
    let mut new = simulation("sim_1", "sc_1", "2025-01-01 00:00:00");
    new.aggregated_outcomes = Some(json!({"old": true}));
    new.execution_time_seconds = Some(1.0);
    db.simulations().create(&new).await?;
    let update = SimulationStatusUpdate {
        status: RunStatus::Completed,
        completed_at: Some(ts("2025-01-01T00:10:00.000001+00:00")),
        total_synths: Some(1234),
        aggregated_outcomes: Some(json!({"success": 0.1 + 0.2, "list": [1, "two", null]})),
        execution_time_seconds: Some(f64::MIN_POSITIVE),
    };
    let updated = db.simulations().update_status("sim_1", &update).await?;
    assert_eq!(updated.status, RunStatus::Completed);
    assert_eq!(updated.completed_at, update.completed_at);
    assert_eq!(updated.total_synths, Some(1234));
    assert_eq!(updated.aggregated_outcomes, update.aggregated_outcomes);
    assert_eq!(
        updated.execution_time_seconds.map(f64::to_bits),
        Some(f64::MIN_POSITIVE.to_bits())
    );
    // Untouched fields stay.
    assert_eq!(updated.started_at, ts("2025-01-01 00:00:00"));
    assert_eq!(updated.config, new.config);
    assert_eq!(db.simulations().get("sim_1").await?.expect("exists"), updated);
    // None clears.
    let cleared = db
        .simulations()
        .update_status("sim_1", &SimulationStatusUpdate::new(RunStatus::Failed))
        .await?;
    assert_eq!(cleared.status, RunStatus::Failed);
    assert_eq!(
        (
            cleared.completed_at,
            cleared.total_synths,
            cleared.aggregated_outcomes,
            cleared.execution_time_seconds
        ),
        (None, None, None, None)
    );
    Ok(())
});

parity!(simulation_update_status_missing_is_not_found, |db| {
    let err = db
        .simulations()
        .update_status("nope", &SimulationStatusUpdate::new(RunStatus::Completed))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    Ok(())
});

parity!(simulation_delete_reports_existence, |db| {
    seed_simulation(db, "sim_1").await?;
    assert!(db.simulations().delete("sim_1").await?);
    assert!(db.simulations().get("sim_1").await?.is_none());
    assert!(!db.simulations().delete("sim_1").await?);
    assert!(!db.simulations().delete("never").await?);
    Ok(())
});

parity!(simulation_delete_with_regions_or_sensitivity_is_foreign_key, |db| {
    seed_simulation(db, "sim_r").await?;
    seed_simulation(db, "sim_s").await?;
    db.regions()
        .save(&synthlab_db::model::NewRegionAnalysis::new("sim_r", json!([]), "all"))
        .await?;
    db.sensitivity()
        .save(&synthlab_db::model::NewSensitivityResult::new(
            "sim_s",
            json!([0.05]),
            0.5,
            "complexity",
            json!([]),
        ))
        .await?;
    for id in ["sim_r", "sim_s"] {
        let err = db.simulations().delete(id).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ForeignKey, "{id}: {err}");
        assert!(db.simulations().get(id).await?.is_some(), "{id} kept");
    }
    assert_eq!(db.regions().delete_by_simulation("sim_r").await?, 1);
    assert!(db.simulations().delete("sim_r").await?);
    Ok(())
});

parity!(simulation_summary_counts_children_in_sql, |db| {
    seed_simulation(db, "sim_1").await?;
    seed_simulation(db, "sim_2").await?;
    for i in 0..3 {
        let mut region = synthlab_db::model::NewRegionAnalysis::new("sim_1", json!([]), format!("rule {i}"));
        region.id = format!("reg_{i}");
        db.regions().save(&region).await?;
    }
    let mut sens = synthlab_db::model::NewSensitivityResult::new("sim_1", json!([]), 0.5, "d", json!([]));
    sens.id = "sens_1".into();
    db.sensitivity().save(&sens).await?;
    let one = db.simulations().summary("sim_1").await?.expect("exists");
    assert_eq!(one.simulation, db.simulations().get("sim_1").await?.expect("exists"));
    assert_eq!((one.region_count, one.sensitivity_count), (3, 1));
    let two = db.simulations().summary("sim_2").await?.expect("exists");
    assert_eq!((two.region_count, two.sensitivity_count), (0, 0));
    Ok(())
});
