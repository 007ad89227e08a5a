//! AnalysisCacheRepository parity cases (including the legacy key conventions).

use serde_json::json;
use synthlab_db::ErrorKind;
use synthlab_db::model::NewCacheEntry;

use crate::analyses::{assert_tricky_json, seed_analysis, tricky_json};
use crate::support::ts;

fn entry(analysis_id: &str, key: &str, data: serde_json::Value, computed_at: &str) -> NewCacheEntry {
    NewCacheEntry {
        analysis_id: analysis_id.to_owned(),
        cache_key: key.to_owned(),
        data,
        params: None,
        computed_at: Some(ts(computed_at)),
    }
}

parity!(analysis_cache_save_then_get_round_trips, |db| {
    seed_analysis(db, "ana_exp", "ana_1", "2025-01-01 00:00:00").await?;
    let mut new = entry("ana_1", "pdp_chart", tricky_json(), "2025-03-01T08:00:00.000123+00:00");
    new.params = Some(json!({"feature": "idade", "bins": 20, "range": [0.0, 1.5]}));
    let saved = db.analysis_cache().save(&new).await?;
    assert_eq!(
        (saved.analysis_id.as_str(), saved.cache_key.as_str()),
        ("ana_1", "pdp_chart")
    );
    assert_tricky_json(&saved.data);
    assert_eq!(saved.params, new.params);
    assert_eq!(saved.computed_at, ts("2025-03-01T08:00:00.000123+00:00"));
    let read = db.analysis_cache().get("ana_1", "pdp_chart").await?.expect("exists");
    assert_eq!(read, saved);
    Ok(())
});

parity!(analysis_cache_get_missing_is_none, |db| {
    seed_analysis(db, "ana_exp", "ana_1", "2025-01-01 00:00:00").await?;
    db.analysis_cache()
        .save(&entry("ana_1", "a", json!(1), "2025-01-01 00:00:00"))
        .await?;
    assert!(db.analysis_cache().get("ana_1", "b").await?.is_none());
    assert!(db.analysis_cache().get("ana_2", "a").await?.is_none());
    assert!(db.analysis_cache().list("ana_2").await?.is_empty());
    Ok(())
});

parity!(analysis_cache_save_replaces_data_params_and_time, |db| {
    seed_analysis(db, "ana_exp", "ana_1", "2025-01-01 00:00:00").await?;
    let mut first = entry("ana_1", "k", json!({"v": 1, "old": true}), "2025-01-01 00:00:00");
    first.params = Some(json!({"p": 1}));
    db.analysis_cache().save(&first).await?;
    let second = entry("ana_1", "k", json!([2.5, "new"]), "2025-02-01T00:00:00.5+00:00");
    let saved = db.analysis_cache().save(&second).await?;
    assert_eq!(saved.data, json!([2.5, "new"]));
    assert_eq!(saved.params, None, "params are replaced too");
    assert_eq!(saved.computed_at, ts("2025-02-01T00:00:00.5Z"));
    assert_eq!(db.analysis_cache().list("ana_1").await?, vec![saved]);
    Ok(())
});

parity!(analysis_cache_computed_at_defaults_to_now, |db| {
    seed_analysis(db, "ana_exp", "ana_1", "2025-01-01 00:00:00").await?;
    let before = synthlab_db::model::now();
    let saved = db
        .analysis_cache()
        .save(&NewCacheEntry::new("ana_1", "k", json!(null)))
        .await?;
    assert!(saved.computed_at >= before);
    assert_eq!(saved.computed_at.timestamp_subsec_nanos() % 1000, 0);
    assert_eq!(saved.data, json!(null));
    assert_eq!(db.analysis_cache().get("ana_1", "k").await?, Some(saved));
    Ok(())
});

parity!(analysis_cache_missing_analysis_is_foreign_key, |db| {
    let err = db
        .analysis_cache()
        .save(&NewCacheEntry::new("ana_missing", "k", json!(1)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKey, "{err}");
    Ok(())
});

parity!(analysis_cache_list_orders_by_key_bytes, |db| {
    seed_analysis(db, "ana_exp", "ana_1", "2025-01-01 00:00:00").await?;
    seed_analysis(db, "ana_exp2", "ana_2", "2025-01-01 00:00:00").await?;
    for key in ["é", "insight_b", "B", "a", "insight_A", "_x"] {
        db.analysis_cache()
            .save(&entry("ana_1", key, json!(key), "2025-01-01 00:00:00"))
            .await?;
    }
    db.analysis_cache()
        .save(&entry("ana_2", "A", json!(0), "2025-01-01 00:00:00"))
        .await?;
    let keys: Vec<_> = db
        .analysis_cache()
        .list("ana_1")
        .await?
        .into_iter()
        .map(|e| e.cache_key)
        .collect();
    assert_eq!(keys, ["B", "_x", "a", "insight_A", "insight_b", "é"]);
    Ok(())
});

parity!(analysis_cache_save_many_upserts_and_last_duplicate_wins, |db| {
    seed_analysis(db, "ana_exp", "ana_1", "2025-01-01 00:00:00").await?;
    seed_analysis(db, "ana_exp2", "ana_2", "2025-01-01 00:00:00").await?;
    db.analysis_cache()
        .save(&entry("ana_1", "existing", json!("old"), "2025-01-01 00:00:00"))
        .await?;
    let mut with_params = entry("ana_2", "c", json!({"b": 2, "a": 1}), "2025-01-03 00:00:00");
    with_params.params = Some(json!({"n": 9007199254740993_u64}));
    let batch = [
        entry("ana_1", "existing", json!("new"), "2025-01-02 00:00:00"),
        entry("ana_1", "dup", json!(1), "2025-01-02 00:00:00"),
        with_params.clone(),
        entry("ana_1", "dup", json!(2), "2025-01-04 00:00:00"),
    ];
    assert_eq!(db.analysis_cache().save_many(&batch).await?, 3);
    let existing = db.analysis_cache().get("ana_1", "existing").await?.expect("exists");
    assert_eq!(
        (existing.data, existing.computed_at),
        (json!("new"), ts("2025-01-02 00:00:00"))
    );
    let dup = db.analysis_cache().get("ana_1", "dup").await?.expect("exists");
    assert_eq!((dup.data, dup.computed_at), (json!(2), ts("2025-01-04 00:00:00")));
    let c = db.analysis_cache().get("ana_2", "c").await?.expect("exists");
    assert_eq!((c.data, c.params), (with_params.data, with_params.params));
    assert_eq!(db.analysis_cache().save_many(&[]).await?, 0);
    Ok(())
});

parity!(analysis_cache_save_many_is_all_or_nothing, |db| {
    seed_analysis(db, "ana_exp", "ana_1", "2025-01-01 00:00:00").await?;
    db.analysis_cache()
        .save(&entry("ana_1", "keep", json!("old"), "2025-01-01 00:00:00"))
        .await?;
    let batch = [
        entry("ana_1", "keep", json!("new"), "2025-01-02 00:00:00"),
        entry("ana_1", "fresh", json!(1), "2025-01-02 00:00:00"),
        entry("ana_missing", "k", json!(1), "2025-01-02 00:00:00"),
    ];
    let err = db.analysis_cache().save_many(&batch).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKey, "{err}");
    let nul = [
        entry("ana_1", "fresh", json!(1), "2025-01-02 00:00:00"),
        entry("ana_1", "bad", json!({"k": "\u{0}"}), "2025-01-02 00:00:00"),
    ];
    assert_eq!(
        db.analysis_cache().save_many(&nul).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let entries = db.analysis_cache().list("ana_1").await?;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].data, json!("old"));
    Ok(())
});

parity!(analysis_cache_delete_one_and_all, |db| {
    seed_analysis(db, "ana_exp", "ana_1", "2025-01-01 00:00:00").await?;
    seed_analysis(db, "ana_exp2", "ana_2", "2025-01-01 00:00:00").await?;
    let batch: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|k| entry("ana_1", k, json!(k), "2025-01-01 00:00:00"))
        .chain([entry("ana_2", "a", json!(0), "2025-01-01 00:00:00")])
        .collect();
    db.analysis_cache().save_many(&batch).await?;
    let cache = db.analysis_cache();
    assert!(cache.delete("ana_1", "b").await?);
    assert!(!cache.delete("ana_1", "b").await?);
    assert!(!cache.delete("ana_missing", "a").await?);
    assert_eq!(cache.delete_all("ana_1").await?, 2);
    assert_eq!(cache.delete_all("ana_1").await?, 0);
    assert!(cache.list("ana_1").await?.is_empty());
    assert_eq!(cache.list("ana_2").await?.len(), 1);
    Ok(())
});

parity!(analysis_cache_executive_summary_helpers, |db| {
    seed_analysis(db, "ana_exp", "ana_1", "2025-01-01 00:00:00").await?;
    let cache = db.analysis_cache();
    assert_eq!(cache.get_executive_summary("ana_1").await?, None);
    let summary = json!({"title": "Resumo executivo", "findings": ["ação", 0.1 + 0.2], "score": 1.5});
    let saved = cache.save_executive_summary("ana_1", &summary).await?;
    assert_eq!(saved.cache_key, "executive_summary");
    assert_eq!(cache.get_executive_summary("ana_1").await?, Some(summary.clone()));
    let raw = cache
        .get("ana_1", "executive_summary")
        .await?
        .expect("stored under the legacy key");
    assert_eq!(raw.data, summary);
    cache.save_executive_summary("ana_1", &json!("replaced")).await?;
    assert_eq!(cache.get_executive_summary("ana_1").await?, Some(json!("replaced")));
    let err = cache.save_executive_summary("ana_missing", &summary).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKey);
    Ok(())
});

parity!(analysis_cache_chart_insight_helpers, |db| {
    seed_analysis(db, "ana_exp", "ana_1", "2025-01-01 00:00:00").await?;
    let cache = db.analysis_cache();
    assert_eq!(cache.get_chart_insight("ana_1", "pdp").await?, None);
    cache.save_chart_insight("ana_1", "shap", &json!({"text": "b"})).await?;
    let saved = cache.save_chart_insight("ana_1", "pdp", &json!({"text": "a"})).await?;
    assert_eq!(saved.cache_key, "insight_pdp");
    cache.save_chart_insight("ana_1", "Box", &json!({"text": "c"})).await?;
    cache.save_executive_summary("ana_1", &json!("not an insight")).await?;
    cache
        .save(&NewCacheEntry::new("ana_1", "pdp_chart", json!([1, 2])))
        .await?;
    assert_eq!(
        cache.get_chart_insight("ana_1", "pdp").await?,
        Some(json!({"text": "a"}))
    );
    let all = cache.list_chart_insights("ana_1").await?;
    assert_eq!(
        all,
        vec![
            ("Box".to_owned(), json!({"text": "c"})),
            ("pdp".to_owned(), json!({"text": "a"})),
            ("shap".to_owned(), json!({"text": "b"})),
        ]
    );
    cache.save_chart_insight("ana_1", "pdp", &json!({"text": "a2"})).await?;
    assert_eq!(
        cache.get_chart_insight("ana_1", "pdp").await?,
        Some(json!({"text": "a2"}))
    );
    assert_eq!(cache.list("ana_1").await?.len(), 5);
    Ok(())
});

parity!(analysis_cache_reads_rows_with_the_schema_default_time, |db| {
    seed_analysis(db, "ana_exp", "ana_1", "2025-01-01 00:00:00").await?;
    let before = synthlab_db::model::now() - chrono::Duration::seconds(2);
    // The legacy application let the schema fill computed_at: SQLite's datetime('now') shape.
    db.raw(
        "INSERT INTO analysis_cache (analysis_id, cache_key, data) VALUES ('ana_1', 'legacy', '{\"b\":1,\"a\":1.50}');",
        "INSERT INTO analysis_cache (analysis_id, cache_key, data) VALUES ('ana_1', 'legacy', '{\"b\":1,\"a\":1.50}');",
    )
    .await?;
    let read = db.analysis_cache().get("ana_1", "legacy").await?.expect("exists");
    assert_eq!(read.data, json!({"a": 1.5, "b": 1}));
    assert!(read.computed_at >= before && read.computed_at <= synthlab_db::model::now());
    Ok(())
});
