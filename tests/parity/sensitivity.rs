//! SensitivityRepository parity cases (legacy `sensitivity_results`).

use serde_json::json;
use synthlab_db::ErrorKind;
use synthlab_db::model::{NewSensitivityResult, SensitivityResult};

use crate::simulations::{EDGE_FLOATS, seed_simulation};
use crate::support::ts;

/// A result with a fixed id, analysis time and creation time.
fn result(id: &str, simulation_id: &str, analyzed_at: &str) -> NewSensitivityResult {
    NewSensitivityResult {
        id: id.to_owned(),
        simulation_id: simulation_id.to_owned(),
        analyzed_at: ts(analyzed_at),
        deltas_used: json!([0.05, 0.1]),
        baseline_success: 0.5,
        most_sensitive_dimension: "complexity".to_owned(),
        dimensions: json!([{"dimension": "complexity", "sensitivity_index": 2.5, "rank": 1}]),
        created_at: Some(ts("2025-01-01 00:00:00")),
    }
}

fn ids(items: &[SensitivityResult]) -> Vec<&str> {
    items.iter().map(|r| r.id.as_str()).collect()
}

parity!(sensitivity_save_then_get_round_trips, |db| {
    seed_simulation(db, "sim_1").await?;
    let mut new = result("sens_1", "sim_1", "2025-12-01T10:00:00.123456+00:00");
    new.created_at = Some(ts("2025-12-01T10:00:01.000001+00:00"));
    new.deltas_used = json!([-0.1, -0.05, 0.05, 0.1, 0.1 + 0.2]);
    new.dimensions = json!([{
        "dimension": "complexidade ✓",
        "baseline_value": 0.5,
        "deltas_tested": [-0.1, 0.1],
        "outcomes_by_delta": {"0.1": {"success": 0.7, "failed": 0.2}, "-0.1": {"success": 0.3}},
        "sensitivity_index": 1e-300,
        "rank": 9007199254740993_i64
    }]);
    new.most_sensitive_dimension = "complexidade ✓".to_owned();
    let saved = db.sensitivity().save(&new).await?;
    let fetched = db.sensitivity().get("sens_1").await?.expect("exists");
    assert_eq!(saved, fetched);
    assert_eq!(fetched.simulation_id, "sim_1");
    assert_eq!(fetched.analyzed_at, ts("2025-12-01T10:00:00.123456+00:00"));
    assert_eq!(fetched.created_at, ts("2025-12-01T10:00:01.000001+00:00"));
    assert_eq!(fetched.deltas_used, new.deltas_used);
    assert_eq!(fetched.dimensions, new.dimensions);
    assert_eq!(fetched.dimensions[0]["rank"].as_i64(), Some(9007199254740993));
    assert_eq!(fetched.most_sensitive_dimension, "complexidade ✓");
    assert_eq!(fetched.baseline_success.to_bits(), 0.5_f64.to_bits());
    Ok(())
});

parity!(sensitivity_save_defaults_created_at_and_id, |db| {
    seed_simulation(db, "sim_1").await?;
    let before = synthlab_db::model::now();
    let new = NewSensitivityResult::new("sim_1", json!([0.05]), 0.25, "trust", json!([]));
    assert!(new.id.starts_with("sens_") && new.id.len() == "sens_".len() + 12);
    let saved = db.sensitivity().save(&new).await?;
    assert_eq!(saved.id, new.id);
    assert!(saved.created_at >= before);
    assert_eq!(saved.created_at.timestamp_subsec_nanos() % 1000, 0);
    assert_eq!(saved.analyzed_at.timestamp_subsec_nanos() % 1000, 0);
    assert_eq!(db.sensitivity().get(&new.id).await?.expect("exists"), saved);
    Ok(())
});

parity!(sensitivity_get_missing_is_none, |db| {
    assert!(db.sensitivity().get("nope").await?.is_none());
    assert!(db.sensitivity().list_by_simulation("nope").await?.is_empty());
    assert!(db.sensitivity().latest_by_simulation("nope").await?.is_none());
    Ok(())
});

parity!(sensitivity_duplicate_id_is_conflict, |db| {
    seed_simulation(db, "sim_1").await?;
    db.sensitivity()
        .save(&result("sens_1", "sim_1", "2025-01-01 00:00:00"))
        .await?;
    let err = db
        .sensitivity()
        .save(&result("sens_1", "sim_1", "2025-02-01 00:00:00"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    let kept = db.sensitivity().get("sens_1").await?.expect("kept");
    assert_eq!(kept.analyzed_at, ts("2025-01-01 00:00:00"));
    Ok(())
});

parity!(sensitivity_missing_simulation_is_foreign_key, |db| {
    let err = db
        .sensitivity()
        .save(&result("sens_1", "sim_missing", "2025-01-01 00:00:00"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKey, "{err}");
    assert!(db.sensitivity().get("sens_1").await?.is_none());
    Ok(())
});

parity!(sensitivity_list_latest_first_with_id_ties, |db| {
    seed_simulation(db, "sim_1").await?;
    seed_simulation(db, "sim_2").await?;
    for (id, sim, at) in [
        ("sens_a", "sim_1", "2025-01-01T00:00:00.000000+00:00"),
        ("sens_c", "sim_1", "2025-03-01T00:00:00.000000+00:00"),
        ("sens_b", "sim_1", "2025-03-01T00:00:00.000000+00:00"),
        ("sens_B", "sim_1", "2025-03-01T00:00:00.000000+00:00"),
        ("sens_d", "sim_1", "2025-03-01T00:00:00.000001+00:00"),
        ("sens_other", "sim_2", "2026-01-01T00:00:00.000000+00:00"),
    ] {
        db.sensitivity().save(&result(id, sim, at)).await?;
    }
    let listed = db.sensitivity().list_by_simulation("sim_1").await?;
    assert_eq!(ids(&listed), ["sens_d", "sens_c", "sens_b", "sens_B", "sens_a"]);
    let latest = db.sensitivity().latest_by_simulation("sim_1").await?.expect("some");
    assert_eq!(latest, listed[0]);
    Ok(())
});

parity!(sensitivity_legacy_analyzed_at_shapes_sort_by_instant, |db| {
    seed_simulation(db, "sim_1").await?;
    // Text order would put "2025-06-01 12:00:00" before "2025-06-01T09:00:00…"; SQLite's
    // created_at DEFAULT datetime('now') shape is read too.
    db.raw(
        "INSERT INTO sensitivity_results (id, simulation_id, analyzed_at, deltas_used, baseline_success,
                                          most_sensitive_dimension, dimensions, created_at) VALUES
           ('sens_space', 'sim_1', '2025-06-01 12:00:00', '[]', 0.5, 'd', '[]', '2025-06-02 00:00:00'),
           ('sens_iso', 'sim_1', '2025-06-01T09:00:00.000000+00:00', '[]', 0.5, 'd', '[]', '2025-06-02 00:00:00'),
           ('sens_offset', 'sim_1', '2025-06-01T13:00:00+02:00', '[]', 0.5, 'd', '[]', '2025-06-02 00:00:00');",
        "INSERT INTO sensitivity_results (id, simulation_id, analyzed_at, deltas_used, baseline_success,
                                          most_sensitive_dimension, dimensions, created_at) VALUES
           ('sens_space', 'sim_1', '2025-06-01 12:00:00+00', '[]', 0.5, 'd', '[]', '2025-06-02 00:00:00+00'),
           ('sens_iso', 'sim_1', '2025-06-01T09:00:00+00', '[]', 0.5, 'd', '[]', '2025-06-02 00:00:00+00'),
           ('sens_offset', 'sim_1', '2025-06-01T11:00:00+00', '[]', 0.5, 'd', '[]', '2025-06-02 00:00:00+00');",
    )
    .await?;
    let listed = db.sensitivity().list_by_simulation("sim_1").await?;
    assert_eq!(ids(&listed), ["sens_space", "sens_offset", "sens_iso"]);
    assert_eq!(listed[0].analyzed_at, ts("2025-06-01T12:00:00Z"));
    assert_eq!(listed[1].analyzed_at, ts("2025-06-01T11:00:00Z"));
    assert_eq!(listed[2].created_at, ts("2025-06-02T00:00:00Z"));
    let latest = db.sensitivity().latest_by_simulation("sim_1").await?.expect("some");
    assert_eq!(latest.id, "sens_space");
    Ok(())
});

parity!(sensitivity_baseline_float_bits_round_trip, |db| {
    seed_simulation(db, "sim_1").await?;
    for (i, value) in EDGE_FLOATS.iter().enumerate() {
        let mut new = result(&format!("sens_{i}"), "sim_1", "2025-01-01 00:00:00");
        new.baseline_success = *value;
        let saved = db.sensitivity().save(&new).await?;
        assert_eq!(saved.baseline_success.to_bits(), value.to_bits());
        let fetched = db.sensitivity().get(&new.id).await?.expect("exists");
        assert_eq!(fetched.baseline_success.to_bits(), value.to_bits(), "{value:e}");
    }
    let mut negative_zero = result("sens_nz", "sim_1", "2025-01-01 00:00:00");
    negative_zero.baseline_success = -0.0;
    db.sensitivity().save(&negative_zero).await?;
    let fetched = db.sensitivity().get("sens_nz").await?.expect("exists");
    assert_eq!(fetched.baseline_success.to_bits(), 0.0_f64.to_bits());
    let mut nan = result("sens_nan", "sim_1", "2025-01-01 00:00:00");
    nan.baseline_success = f64::NAN;
    assert_eq!(
        db.sensitivity().save(&nan).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    Ok(())
});

parity!(sensitivity_delete_by_simulation_counts, |db| {
    seed_simulation(db, "sim_1").await?;
    seed_simulation(db, "sim_2").await?;
    db.sensitivity()
        .save(&result("sens_1", "sim_1", "2025-01-01 00:00:00"))
        .await?;
    db.sensitivity()
        .save(&result("sens_2", "sim_1", "2025-01-02 00:00:00"))
        .await?;
    db.sensitivity()
        .save(&result("sens_3", "sim_2", "2025-01-03 00:00:00"))
        .await?;
    assert_eq!(db.sensitivity().delete_by_simulation("sim_1").await?, 2);
    assert!(db.sensitivity().list_by_simulation("sim_1").await?.is_empty());
    assert!(db.sensitivity().latest_by_simulation("sim_1").await?.is_none());
    assert_eq!(ids(&db.sensitivity().list_by_simulation("sim_2").await?), ["sens_3"]);
    assert_eq!(db.sensitivity().delete_by_simulation("sim_1").await?, 0);
    // With its results gone the simulation can be deleted.
    assert!(db.simulations().delete("sim_1").await?);
    Ok(())
});
