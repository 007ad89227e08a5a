//! RegionRepository parity cases (legacy `region_analyses`).

use serde_json::json;
use synthlab_db::ErrorKind;
use synthlab_db::model::{NewRegionAnalysis, RegionAnalysis};

use crate::simulations::{EDGE_FLOATS, seed_simulation};

/// A region with a fixed id and failure delta.
fn region(id: &str, simulation_id: &str, failure_delta: f64) -> NewRegionAnalysis {
    NewRegionAnalysis {
        id: id.to_owned(),
        simulation_id: simulation_id.to_owned(),
        rules: json!([{"attribute": "capability_mean", "operator": "<=", "threshold": 0.48}]),
        rule_text: "capability_mean <= 0.48".to_owned(),
        synth_count: 50,
        synth_percentage: 10.0,
        did_not_try_rate: 0.1,
        failed_rate: 0.65,
        success_rate: 0.25,
        failure_delta,
    }
}

fn ids(items: &[RegionAnalysis]) -> Vec<&str> {
    items.iter().map(|r| r.id.as_str()).collect()
}

fn same_bits(a: &RegionAnalysis, b: &NewRegionAnalysis) {
    let pairs = [
        (a.synth_percentage, b.synth_percentage),
        (a.did_not_try_rate, b.did_not_try_rate),
        (a.failed_rate, b.failed_rate),
        (a.success_rate, b.success_rate),
        (a.failure_delta, b.failure_delta),
    ];
    for (got, want) in pairs {
        assert_eq!(got.to_bits(), want.to_bits(), "{got:e} vs {want:e}");
    }
}

parity!(region_save_then_get_round_trips, |db| {
    seed_simulation(db, "sim_1").await?;
    let mut new = region("reg_1", "sim_1", 0.15);
    new.rules = json!([
        {"attribute": "trust_mean", "operator": ">", "threshold": 0.4, "label": "confiança ✓"},
        {"attribute": "x", "operator": "<=", "threshold": -1e-7, "extra": {"nested": [1, 2, {"k": null}]}}
    ]);
    new.rule_text = "trust_mean > 0.4 AND x <= -1e-7 — ção".to_owned();
    new.synth_count = i64::MAX;
    let saved = db.regions().save(&new).await?;
    let fetched = db.regions().get("reg_1").await?.expect("exists");
    assert_eq!(saved, fetched);
    assert_eq!(fetched.simulation_id, "sim_1");
    assert_eq!(fetched.rules, new.rules);
    assert_eq!(fetched.rule_text, new.rule_text);
    assert_eq!(fetched.synth_count, i64::MAX);
    same_bits(&fetched, &new);
    Ok(())
});

parity!(region_get_missing_is_none, |db| {
    assert!(db.regions().get("nope").await?.is_none());
    assert!(db.regions().list_by_simulation("nope").await?.is_empty());
    Ok(())
});

parity!(region_duplicate_id_is_conflict, |db| {
    seed_simulation(db, "sim_1").await?;
    db.regions().save(&region("reg_1", "sim_1", 0.1)).await?;
    let err = db.regions().save(&region("reg_1", "sim_1", 0.2)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert_eq!(db.regions().get("reg_1").await?.expect("kept").failure_delta, 0.1);
    Ok(())
});

parity!(region_missing_simulation_is_foreign_key, |db| {
    let err = db
        .regions()
        .save(&region("reg_1", "sim_missing", 0.1))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKey, "{err}");
    let err = db
        .regions()
        .save_many(&[region("reg_2", "sim_missing", 0.1)])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKey, "{err}");
    assert!(db.regions().get("reg_1").await?.is_none());
    assert!(db.regions().get("reg_2").await?.is_none());
    Ok(())
});

parity!(region_save_many_returns_input_order_and_persists, |db| {
    seed_simulation(db, "sim_1").await?;
    seed_simulation(db, "sim_2").await?;
    // Input order is neither id order nor failure_delta order.
    let batch = vec![
        region("reg_m", "sim_1", 0.2),
        region("reg_a", "sim_1", 0.5),
        region("reg_z", "sim_2", -0.3),
        region("reg_B", "sim_1", 0.2),
    ];
    let saved = db.regions().save_many(&batch).await?;
    assert_eq!(ids(&saved), ["reg_m", "reg_a", "reg_z", "reg_B"]);
    for (got, want) in saved.iter().zip(&batch) {
        assert_eq!(got.simulation_id, want.simulation_id);
        assert_eq!(got.rules, want.rules);
        same_bits(got, want);
        assert_eq!(db.regions().get(&want.id).await?.as_ref(), Some(got));
    }
    let listed = db.regions().list_by_simulation("sim_1").await?;
    assert_eq!(ids(&listed), ["reg_a", "reg_B", "reg_m"]);
    Ok(())
});

parity!(region_save_many_is_all_or_nothing, |db| {
    seed_simulation(db, "sim_1").await?;
    db.regions().save(&region("reg_taken", "sim_1", 0.0)).await?;
    // A conflict on the third row rolls back the first two.
    let batch = [
        region("reg_1", "sim_1", 0.1),
        region("reg_2", "sim_1", 0.2),
        region("reg_taken", "sim_1", 0.3),
    ];
    let err = db.regions().save_many(&batch).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    // A duplicate inside the batch is a conflict too.
    let twice = [region("reg_3", "sim_1", 0.1), region("reg_3", "sim_1", 0.2)];
    let err = db.regions().save_many(&twice).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    // A non-finite rate anywhere refuses the batch before it reaches the database.
    let mut bad = region("reg_4", "sim_1", 0.1);
    bad.success_rate = f64::NAN;
    let err = db
        .regions()
        .save_many(&[region("reg_5", "sim_1", 0.1), bad])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let listed = db.regions().list_by_simulation("sim_1").await?;
    assert_eq!(ids(&listed), ["reg_taken"]);
    Ok(())
});

parity!(region_save_many_empty_is_a_no_op, |db| {
    assert!(db.regions().save_many(&[]).await?.is_empty());
    Ok(())
});

parity!(region_list_orders_by_failure_delta_desc_then_id, |db| {
    seed_simulation(db, "sim_1").await?;
    seed_simulation(db, "sim_2").await?;
    let batch = [
        region("reg_c", "sim_1", 0.1 + 0.2),
        region("reg_b", "sim_1", 0.3),
        region("reg_a", "sim_1", 0.3),
        region("reg_neg", "sim_1", -0.5),
        region("reg_zero", "sim_1", 0.0),
        region("reg_nzero", "sim_1", -0.0),
        region("reg_tiny", "sim_1", 1e-300),
        region("reg_max", "sim_1", f64::MAX),
        region("reg_other", "sim_2", 10.0),
    ];
    db.regions().save_many(&batch).await?;
    let listed = db.regions().list_by_simulation("sim_1").await?;
    // 0.1 + 0.2 > 0.3 as doubles; 0.0 and -0.0 tie (both stored as 0.0), ties by id ascending.
    assert_eq!(
        ids(&listed),
        [
            "reg_max",
            "reg_c",
            "reg_a",
            "reg_b",
            "reg_tiny",
            "reg_nzero",
            "reg_zero",
            "reg_neg"
        ]
    );
    Ok(())
});

parity!(region_float_columns_are_bit_exact, |db| {
    seed_simulation(db, "sim_1").await?;
    for (i, value) in EDGE_FLOATS.iter().enumerate() {
        let mut new = region(&format!("reg_{i}"), "sim_1", *value);
        new.synth_percentage = *value;
        new.did_not_try_rate = -*value;
        new.failed_rate = *value / 3.0;
        new.success_rate = 1.0 - *value;
        db.regions().save(&new).await?;
        let fetched = db.regions().get(&new.id).await?.expect("exists");
        same_bits(&fetched, &new);
    }
    // -0.0 is stored as 0.0 on both backends (SQLite's REAL storage would drop the sign anyway).
    let mut negative_zero = region("reg_nz", "sim_1", -0.0);
    negative_zero.success_rate = -0.0;
    let saved = db.regions().save(&negative_zero).await?;
    assert_eq!(saved.failure_delta.to_bits(), 0.0_f64.to_bits());
    let fetched = db.regions().get("reg_nz").await?.expect("exists");
    assert_eq!(fetched.success_rate.to_bits(), 0.0_f64.to_bits());
    assert_eq!(fetched.failure_delta.to_bits(), 0.0_f64.to_bits());
    Ok(())
});

parity!(region_non_finite_rate_is_invalid_input, |db| {
    seed_simulation(db, "sim_1").await?;
    for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut new = region("reg_bad", "sim_1", 0.0);
        new.failure_delta = value;
        let err = db.regions().save(&new).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{value}: {err}");
    }
    assert!(db.regions().get("reg_bad").await?.is_none());
    Ok(())
});

parity!(region_delete_by_simulation_counts, |db| {
    seed_simulation(db, "sim_1").await?;
    seed_simulation(db, "sim_2").await?;
    db.regions()
        .save_many(&[
            region("reg_1", "sim_1", 0.1),
            region("reg_2", "sim_1", 0.2),
            region("reg_3", "sim_2", 0.3),
        ])
        .await?;
    assert_eq!(db.regions().delete_by_simulation("sim_1").await?, 2);
    assert!(db.regions().list_by_simulation("sim_1").await?.is_empty());
    assert_eq!(ids(&db.regions().list_by_simulation("sim_2").await?), ["reg_3"]);
    assert_eq!(db.regions().delete_by_simulation("sim_1").await?, 0);
    assert_eq!(db.regions().delete_by_simulation("never").await?, 0);
    Ok(())
});

parity!(region_generated_ids, |db| {
    seed_simulation(db, "sim_1").await?;
    let a = NewRegionAnalysis::new("sim_1", json!([]), "a");
    let b = NewRegionAnalysis::new("sim_1", json!([]), "b");
    assert_ne!(a.id, b.id);
    let saved = db.regions().save_many(&[a.clone(), b]).await?;
    assert!(
        saved
            .iter()
            .all(|r| r.id.starts_with("reg_") && r.id.len() == "reg_".len() + 12)
    );
    assert_eq!(saved[0].id, a.id);
    assert_eq!((saved[0].synth_count, saved[0].failure_delta), (0, 0.0));
    Ok(())
});
