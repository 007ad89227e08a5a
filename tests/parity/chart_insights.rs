//! ChartInsightRepository parity cases.

use serde_json::json;
use synthlab_db::ErrorKind;
use synthlab_db::model::NewChartInsight;

use crate::analyses::{assert_tricky_json, tricky_json};
use crate::support::ts;

fn insight(
    id: &str,
    simulation_id: &str,
    insight_type: &str,
    response: serde_json::Value,
    at: &str,
) -> NewChartInsight {
    NewChartInsight {
        id: id.to_owned(),
        simulation_id: simulation_id.to_owned(),
        insight_type: insight_type.to_owned(),
        response_json: response,
        saved_at: Some(ts(at)),
    }
}

parity!(chart_insight_save_then_get_round_trips, |db| {
    let new = insight(
        "ins_1",
        "sim_1",
        "pdp",
        tricky_json(),
        "2025-04-01T10:00:00.000001+00:00",
    );
    let saved = db.chart_insights().save(&new).await?;
    assert_eq!(
        (
            saved.id.as_str(),
            saved.simulation_id.as_str(),
            saved.insight_type.as_str()
        ),
        ("ins_1", "sim_1", "pdp")
    );
    assert_tricky_json(&saved.response_json);
    assert_eq!(saved.created_at, ts("2025-04-01T10:00:00.000001+00:00"));
    assert_eq!(saved.updated_at, saved.created_at);
    assert_eq!(db.chart_insights().get("sim_1", "pdp").await?, Some(saved));
    Ok(())
});

parity!(chart_insight_new_generates_id_and_times, |db| {
    let before = synthlab_db::model::now();
    let saved = db
        .chart_insights()
        .save(&NewChartInsight::new("sim_1", "shap", json!({"ok": true})))
        .await?;
    assert!(saved.id.starts_with("ins_") && saved.id.len() == 16, "{}", saved.id);
    assert!(saved.created_at >= before && saved.updated_at == saved.created_at);
    assert_eq!(db.chart_insights().get("sim_1", "shap").await?, Some(saved));
    Ok(())
});

parity!(chart_insight_get_missing_is_none, |db| {
    db.chart_insights()
        .save(&insight("ins_1", "sim_1", "pdp", json!(1), "2025-01-01 00:00:00"))
        .await?;
    assert!(db.chart_insights().get("sim_1", "PDP").await?.is_none());
    assert!(db.chart_insights().get("sim_2", "pdp").await?.is_none());
    assert!(db.chart_insights().list_by_simulation("sim_2").await?.is_empty());
    Ok(())
});

parity!(chart_insight_save_again_keeps_id_and_created_at, |db| {
    db.chart_insights()
        .save(&insight(
            "ins_1",
            "sim_1",
            "pdp",
            json!({"v": 1}),
            "2025-01-01 00:00:00",
        ))
        .await?;
    let again = db
        .chart_insights()
        .save(&insight(
            "ins_2",
            "sim_1",
            "pdp",
            json!({"v": 2, "extra": [1.5]}),
            "2025-01-05T12:00:00.25+00:00",
        ))
        .await?;
    assert_eq!(again.id, "ins_1", "the first id stays");
    assert_eq!(again.response_json, json!({"v": 2, "extra": [1.5]}));
    assert_eq!(again.created_at, ts("2025-01-01 00:00:00"));
    assert_eq!(again.updated_at, ts("2025-01-05T12:00:00.25Z"));
    assert_eq!(db.chart_insights().list_by_simulation("sim_1").await?, vec![again]);
    Ok(())
});

parity!(chart_insight_id_of_another_pair_is_conflict, |db| {
    db.chart_insights()
        .save(&insight("ins_1", "sim_1", "pdp", json!(1), "2025-01-01 00:00:00"))
        .await?;
    let err = db
        .chart_insights()
        .save(&insight("ins_1", "sim_1", "shap", json!(2), "2025-01-01 00:00:00"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(db.chart_insights().get("sim_1", "shap").await?.is_none());
    Ok(())
});

parity!(chart_insight_list_orders_by_type_bytes, |db| {
    for (i, kind) in ["shap", "Box", "é_chart", "pdp", "_tree"].iter().enumerate() {
        db.chart_insights()
            .save(&insight(
                &format!("ins_{i}"),
                "sim_1",
                kind,
                json!(i),
                "2025-01-01 00:00:00",
            ))
            .await?;
    }
    db.chart_insights()
        .save(&insight("ins_x", "sim_2", "A", json!(0), "2025-01-01 00:00:00"))
        .await?;
    let kinds: Vec<_> = db
        .chart_insights()
        .list_by_simulation("sim_1")
        .await?
        .into_iter()
        .map(|i| i.insight_type)
        .collect();
    assert_eq!(kinds, ["Box", "_tree", "pdp", "shap", "é_chart"]);
    Ok(())
});

parity!(chart_insight_delete_one_and_by_simulation, |db| {
    for (i, (sim, kind)) in [("sim_1", "a"), ("sim_1", "b"), ("sim_1", "c"), ("sim_2", "a")]
        .iter()
        .enumerate()
    {
        db.chart_insights()
            .save(&insight(
                &format!("ins_{i}"),
                sim,
                kind,
                json!(i),
                "2025-01-01 00:00:00",
            ))
            .await?;
    }
    let repo = db.chart_insights();
    assert!(repo.delete("sim_1", "b").await?);
    assert!(!repo.delete("sim_1", "b").await?);
    assert!(!repo.delete("sim_9", "a").await?);
    assert_eq!(repo.delete_by_simulation("sim_1").await?, 2);
    assert_eq!(repo.delete_by_simulation("sim_1").await?, 0);
    assert_eq!(repo.list_by_simulation("sim_2").await?.len(), 1);
    Ok(())
});

parity!(chart_insight_legacy_rows_read_and_upsert, |db| {
    // Legacy rows took both times from the schema default (SQLite: '2025-… …' shape).
    db.raw(
        "INSERT INTO chart_insights (id, simulation_id, insight_type, response_json, created_at, updated_at)
         VALUES ('legacy_1', 'sim_1', 'pdp', '{\"z\":1,\"a\":[1.50,2]}', '2024-11-30 23:59:59', '2024-12-01T01:00:00+01:00');",
        "INSERT INTO chart_insights (id, simulation_id, insight_type, response_json, created_at, updated_at)
         VALUES ('legacy_1', 'sim_1', 'pdp', '{\"z\":1,\"a\":[1.50,2]}', '2024-11-30 23:59:59+00', '2024-12-01 00:00:00+00');",
    )
    .await?;
    let read = db.chart_insights().get("sim_1", "pdp").await?.expect("exists");
    assert_eq!(read.response_json, json!({"a": [1.5, 2], "z": 1}));
    assert_eq!(read.created_at, ts("2024-11-30T23:59:59Z"));
    assert_eq!(read.updated_at, ts("2024-12-01T00:00:00Z"));
    let saved = db
        .chart_insights()
        .save(&insight("ins_new", "sim_1", "pdp", json!("v2"), "2025-01-01 00:00:00"))
        .await?;
    assert_eq!(
        (saved.id.as_str(), saved.created_at),
        ("legacy_1", ts("2024-11-30T23:59:59Z"))
    );
    assert_eq!(saved.updated_at, ts("2025-01-01 00:00:00"));
    Ok(())
});

parity!(chart_insight_nul_character_is_invalid_input, |db| {
    let err = db
        .chart_insights()
        .save(&insight(
            "ins_1",
            "sim_1",
            "pdp",
            json!({"t": "a\u{0}"}),
            "2025-01-01 00:00:00",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = db
        .chart_insights()
        .save(&insight("ins_1", "sim_1", "p\u{0}dp", json!(1), "2025-01-01 00:00:00"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(db.chart_insights().list_by_simulation("sim_1").await?.is_empty());
    Ok(())
});
