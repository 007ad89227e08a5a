//! SynthOutcomeRepository parity cases.

use serde_json::json;
use synthlab_db::ErrorKind;
use synthlab_db::model::{NewSynthOutcome, PageRequest, outcome_statistics};

use crate::analyses::{assert_tricky_json, seed_analysis, tricky_json};
use crate::harness::TestDb;
use crate::support::experiment;

fn outcome(id: &str, analysis_id: &str, synth_id: &str, rates: [f64; 3]) -> NewSynthOutcome {
    NewSynthOutcome {
        id: id.to_owned(),
        analysis_id: analysis_id.to_owned(),
        synth_id: synth_id.to_owned(),
        did_not_try_rate: rates[0],
        failed_rate: rates[1],
        success_rate: rates[2],
        synth_attributes: None,
    }
}

/// Deterministic pseudo-random rates in [0, 1).
fn rates(n: usize) -> Vec<[f64; 3]> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n).map(|_| [next(), next(), next()]).collect()
}

/// Plants analysis runs with legacy `started_at` shapes (SQLite) or the same instants
/// (PostgreSQL), one experiment each, and an outcome of `syn_1` in each.
async fn plant_runs(db: &TestDb, runs: &[(&str, &str, &str)]) -> anyhow::Result<()> {
    let (mut sqlite, mut pg) = (String::new(), String::new());
    for (id, sqlite_started, pg_started) in runs {
        db.experiments()
            .create(&experiment(&format!("exp_{id}"), "E", "2025-01-01 00:00:00"))
            .await?;
        sqlite.push_str(&format!(
            "INSERT INTO analysis_runs (id, experiment_id, config, status, started_at)
             VALUES ('{id}', 'exp_{id}', '{{}}', 'completed', '{sqlite_started}');"
        ));
        pg.push_str(&format!(
            "INSERT INTO analysis_runs (id, experiment_id, config, status, started_at)
             VALUES ('{id}', 'exp_{id}', '{{}}', 'completed', '{pg_started}');"
        ));
    }
    db.raw(&sqlite, &pg).await?;
    for (id, _, _) in runs {
        db.synth_outcomes()
            .create(&outcome(&format!("out_{id}"), id, "syn_1", [0.1, 0.2, 0.7]))
            .await?;
    }
    Ok(())
}

parity!(synth_outcome_create_then_get_round_trips, |db| {
    seed_analysis(db, "exp_1", "ana_1", "2025-01-01 00:00:00").await?;
    let mut new = outcome("out_1", "ana_1", "syn_1", [0.25, 0.125, 0.625]);
    new.synth_attributes = Some(json!({"idade": 34, "região": "Nordeste", "traits": {"b": [1.5], "a": null}}));
    let created = db.synth_outcomes().create(&new).await?;
    assert_eq!(
        (
            created.id.as_str(),
            created.analysis_id.as_str(),
            created.synth_id.as_str()
        ),
        ("out_1", "ana_1", "syn_1")
    );
    assert_eq!(
        (created.did_not_try_rate, created.failed_rate, created.success_rate),
        (0.25, 0.125, 0.625)
    );
    assert_eq!(created.synth_attributes, new.synth_attributes);
    assert_eq!(db.synth_outcomes().get("out_1").await?, Some(created));
    assert!(db.synth_outcomes().get("out_missing").await?.is_none());
    Ok(())
});

parity!(synth_outcome_new_generates_an_id, |db| {
    seed_analysis(db, "exp_1", "ana_1", "2025-01-01 00:00:00").await?;
    let created = db
        .synth_outcomes()
        .create(&NewSynthOutcome::new("ana_1", "syn_1", 0.0, 1.0, 0.0))
        .await?;
    assert!(
        created.id.starts_with("out_") && created.id.len() == 16,
        "{}",
        created.id
    );
    assert_eq!(created.synth_attributes, None);
    assert_eq!(db.synth_outcomes().get(&created.id).await?, Some(created));
    Ok(())
});

parity!(synth_outcome_float_rates_are_bit_exact, |db| {
    seed_analysis(db, "exp_1", "ana_1", "2025-01-01 00:00:00").await?;
    let cases = [
        (0.1 + 0.2, 1e-300, f64::MAX),
        (5e-324, f64::MIN_POSITIVE, 1.0 - f64::EPSILON),
        (1.0 / 3.0, 2.0 / 3.0, 123_456_789.123_456_79),
        (-0.0, 3.0, -1e-7),
    ];
    for (i, (a, b, c)) in cases.into_iter().enumerate() {
        let id = format!("out_{i}");
        let created = db
            .synth_outcomes()
            .create(&outcome(&id, "ana_1", &format!("syn_{i}"), [a, b, c]))
            .await?;
        let read = db.synth_outcomes().get(&id).await?.expect("exists");
        // -0.0 is stored as 0.0 on both backends (SQLite cannot keep its sign).
        let expected = [if a == 0.0 { 0.0 } else { a }, b, c].map(f64::to_bits);
        for got in [&created, &read] {
            assert_eq!(
                [got.did_not_try_rate, got.failed_rate, got.success_rate].map(f64::to_bits),
                expected,
                "case {i}"
            );
        }
    }
    let batch = [outcome("out_b", "ana_1", "syn_b", [f64::MAX, 0.1 + 0.2, 5e-324])];
    db.synth_outcomes().create_batch(&batch).await?;
    let read = db.synth_outcomes().get("out_b").await?.expect("exists");
    assert_eq!(read.did_not_try_rate, f64::MAX);
    assert_eq!(read.failed_rate.to_bits(), (0.1f64 + 0.2).to_bits());
    assert_eq!(read.success_rate.to_bits(), 5e-324f64.to_bits());
    Ok(())
});

parity!(synth_outcome_non_finite_rate_is_invalid_input, |db| {
    seed_analysis(db, "exp_1", "ana_1", "2025-01-01 00:00:00").await?;
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = db
            .synth_outcomes()
            .create(&outcome("out_1", "ana_1", "syn_1", [0.1, bad, 0.2]))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}: {err}");
    }
    let batch = [
        outcome("out_1", "ana_1", "syn_1", [0.1, 0.2, 0.7]),
        outcome("out_2", "ana_1", "syn_2", [f64::NAN, 0.2, 0.7]),
    ];
    let err = db.synth_outcomes().create_batch(&batch).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(db.synth_outcomes().count_by_analysis("ana_1").await?, 0);
    Ok(())
});

parity!(synth_outcome_duplicate_synth_or_id_is_conflict, |db| {
    seed_analysis(db, "exp_1", "ana_1", "2025-01-01 00:00:00").await?;
    seed_analysis(db, "exp_2", "ana_2", "2025-01-01 00:00:00").await?;
    db.synth_outcomes()
        .create(&outcome("out_1", "ana_1", "syn_1", [0.1, 0.2, 0.7]))
        .await?;
    let err = db
        .synth_outcomes()
        .create(&outcome("out_2", "ana_1", "syn_1", [0.1, 0.2, 0.7]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    let err = db
        .synth_outcomes()
        .create(&outcome("out_1", "ana_2", "syn_9", [0.1, 0.2, 0.7]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    // The same synth in another analysis is fine.
    db.synth_outcomes()
        .create(&outcome("out_3", "ana_2", "syn_1", [0.1, 0.2, 0.7]))
        .await?;
    Ok(())
});

parity!(synth_outcome_missing_analysis_is_foreign_key, |db| {
    let err = db
        .synth_outcomes()
        .create(&outcome("out_1", "ana_missing", "syn_1", [0.1, 0.2, 0.7]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKey, "{err}");
    Ok(())
});

parity!(synth_outcome_create_batch_stores_every_row, |db| {
    seed_analysis(db, "exp_1", "ana_1", "2025-01-01 00:00:00").await?;
    let batch: Vec<_> = rates(300)
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let mut o = outcome(&format!("out_{i:04}"), "ana_1", &format!("syn_{i:04}"), r);
            if i % 3 == 0 {
                o.synth_attributes = Some(json!({"i": i, "tag": format!("ü{i}")}));
            }
            o
        })
        .collect();
    assert_eq!(db.synth_outcomes().create_batch(&batch).await?, 300);
    assert_eq!(db.synth_outcomes().count_by_analysis("ana_1").await?, 300);
    let page = db
        .synth_outcomes()
        .list_by_analysis("ana_1", PageRequest::first(200)?)
        .await?;
    assert_eq!((page.items.len(), page.total, page.has_next), (200, 300, true));
    for (got, want) in page.items.iter().zip(&batch) {
        assert_eq!(got.id, want.id);
        assert_eq!(got.success_rate.to_bits(), want.success_rate.to_bits());
        assert_eq!(got.synth_attributes, want.synth_attributes);
    }
    assert_eq!(db.synth_outcomes().create_batch(&[]).await?, 0);
    Ok(())
});

parity!(synth_outcome_create_batch_is_all_or_nothing, |db| {
    seed_analysis(db, "exp_1", "ana_1", "2025-01-01 00:00:00").await?;
    // Two outcomes of one synth inside the batch.
    let duplicate = [
        outcome("out_1", "ana_1", "syn_1", [0.1, 0.2, 0.7]),
        outcome("out_2", "ana_1", "syn_2", [0.1, 0.2, 0.7]),
        outcome("out_3", "ana_1", "syn_1", [0.1, 0.2, 0.7]),
    ];
    let err = db.synth_outcomes().create_batch(&duplicate).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    // One outcome of a missing analysis.
    let orphan = [
        outcome("out_1", "ana_1", "syn_1", [0.1, 0.2, 0.7]),
        outcome("out_2", "ana_missing", "syn_2", [0.1, 0.2, 0.7]),
    ];
    let err = db.synth_outcomes().create_batch(&orphan).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKey, "{err}");
    // A row that collides with a stored one.
    db.synth_outcomes()
        .create(&outcome("out_0", "ana_1", "syn_0", [0.1, 0.2, 0.7]))
        .await?;
    let collides = [
        outcome("out_1", "ana_1", "syn_1", [0.1, 0.2, 0.7]),
        outcome("out_0", "ana_1", "syn_9", [0.1, 0.2, 0.7]),
    ];
    let err = db.synth_outcomes().create_batch(&collides).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert_eq!(db.synth_outcomes().count_by_analysis("ana_1").await?, 1);
    assert!(db.synth_outcomes().get("out_1").await?.is_none());
    Ok(())
});

parity!(synth_outcome_list_orders_by_synth_id_bytes_then_pages, |db| {
    seed_analysis(db, "exp_1", "ana_1", "2025-01-01 00:00:00").await?;
    seed_analysis(db, "exp_2", "ana_2", "2025-01-01 00:00:00").await?;
    for (id, synth) in [
        ("out_1", "é"),
        ("out_2", "a"),
        ("out_3", "B"),
        ("out_4", "Z"),
        ("out_5", "b"),
    ] {
        db.synth_outcomes()
            .create(&outcome(id, "ana_1", synth, [0.1, 0.2, 0.7]))
            .await?;
    }
    db.synth_outcomes()
        .create(&outcome("out_6", "ana_2", "A", [0.1, 0.2, 0.7]))
        .await?;
    let repo = db.synth_outcomes();
    let all = repo.list_by_analysis("ana_1", PageRequest::first(10)?).await?;
    let synths: Vec<_> = all.items.iter().map(|o| o.synth_id.as_str()).collect();
    assert_eq!(synths, ["B", "Z", "a", "b", "é"]);
    assert_eq!((all.total, all.has_next), (5, false));
    let second = repo.list_by_analysis("ana_1", PageRequest::new(2, 2)?).await?;
    let synths: Vec<_> = second.items.iter().map(|o| o.synth_id.as_str()).collect();
    assert_eq!(synths, ["a", "b"]);
    assert_eq!((second.total, second.has_next), (5, true));
    let past = repo.list_by_analysis("ana_1", PageRequest::new(2, 10)?).await?;
    assert_eq!((past.items.len(), past.total, past.has_next), (0, 5, false));
    let none = repo.list_by_analysis("ana_missing", PageRequest::first(10)?).await?;
    assert_eq!((none.items.len(), none.total), (0, 0));
    Ok(())
});

parity!(synth_outcome_list_rejects_bad_pages, |db| {
    for (limit, offset) in [(0, 0), (201, 0), (10, -1)] {
        let err = db
            .synth_outcomes()
            .list_by_analysis("ana_1", PageRequest { limit, offset })
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{limit}/{offset}");
    }
    Ok(())
});

parity!(synth_outcome_count_and_delete_by_analysis, |db| {
    seed_analysis(db, "exp_1", "ana_1", "2025-01-01 00:00:00").await?;
    seed_analysis(db, "exp_2", "ana_2", "2025-01-01 00:00:00").await?;
    let batch: Vec<_> = (0..7)
        .map(|i| outcome(&format!("out_{i}"), "ana_1", &format!("syn_{i}"), [0.1, 0.2, 0.7]))
        .chain([outcome("out_x", "ana_2", "syn_0", [0.1, 0.2, 0.7])])
        .collect();
    db.synth_outcomes().create_batch(&batch).await?;
    let repo = db.synth_outcomes();
    assert_eq!(repo.count_by_analysis("ana_1").await?, 7);
    assert_eq!(repo.count_by_analysis("ana_missing").await?, 0);
    assert_eq!(repo.delete_by_analysis("ana_1").await?, 7);
    assert_eq!(repo.delete_by_analysis("ana_1").await?, 0);
    assert_eq!(repo.count_by_analysis("ana_1").await?, 0);
    assert_eq!(repo.count_by_analysis("ana_2").await?, 1);
    Ok(())
});

parity!(synth_outcome_get_by_synth_and_analysis, |db| {
    seed_analysis(db, "exp_1", "ana_1", "2025-01-01 00:00:00").await?;
    seed_analysis(db, "exp_2", "ana_2", "2025-01-01 00:00:00").await?;
    let one = db
        .synth_outcomes()
        .create(&outcome("out_1", "ana_1", "syn_1", [0.1, 0.2, 0.7]))
        .await?;
    let two = db
        .synth_outcomes()
        .create(&outcome("out_2", "ana_2", "syn_1", [0.3, 0.3, 0.4]))
        .await?;
    assert_eq!(db.synth_outcomes().get_by_synth("ana_1", "syn_1").await?, Some(one));
    assert_eq!(db.synth_outcomes().get_by_synth("ana_2", "syn_1").await?, Some(two));
    assert!(db.synth_outcomes().get_by_synth("ana_1", "syn_2").await?.is_none());
    assert!(db.synth_outcomes().get_by_synth("ana_3", "syn_1").await?.is_none());
    Ok(())
});

parity!(synth_outcome_latest_for_synth_is_by_instant_not_text, |db| {
    // Text order would pick ana_c ('2025-06-01T13…' > '2025-06-01 12…'); by instant ana_d
    // (one microsecond after ana_a, below julianday's resolution) is the newest.
    plant_runs(
        db,
        &[
            ("ana_a", "2025-06-01 12:00:00", "2025-06-01 12:00:00+00"),
            ("ana_b", "2025-06-01T09:00:00.000000+00:00", "2025-06-01 09:00:00+00"),
            ("ana_c", "2025-06-01T13:00:00+02:00", "2025-06-01 11:00:00+00"),
            (
                "ana_d",
                "2025-06-01T12:00:00.000001+00:00",
                "2025-06-01 12:00:00.000001+00",
            ),
        ],
    )
    .await?;
    let latest = db.synth_outcomes().latest_for_synth("syn_1").await?.expect("exists");
    assert_eq!(
        (latest.id.as_str(), latest.analysis_id.as_str()),
        ("out_ana_d", "ana_d")
    );
    db.analyses().delete("ana_d").await?;
    let latest = db.synth_outcomes().latest_for_synth("syn_1").await?.expect("exists");
    assert_eq!(latest.analysis_id, "ana_a");
    Ok(())
});

parity!(synth_outcome_latest_for_synth_ties_by_analysis_id_desc, |db| {
    // One instant in three shapes: the highest analysis id wins, whatever the text says.
    plant_runs(
        db,
        &[
            ("ana_x", "2025-07-01T02:00:00+02:00", "2025-07-01 00:00:00+00"),
            ("ana_y", "2025-07-01T00:00:00.000000+00:00", "2025-07-01 00:00:00+00"),
            ("ana_z", "2025-07-01 00:00:00", "2025-07-01 00:00:00+00"),
            ("ana_0", "2025-06-30 23:59:59.999999", "2025-06-30 23:59:59.999999+00"),
        ],
    )
    .await?;
    let latest = db.synth_outcomes().latest_for_synth("syn_1").await?.expect("exists");
    assert_eq!(latest.analysis_id, "ana_z");
    assert!(db.synth_outcomes().latest_for_synth("syn_other").await?.is_none());
    Ok(())
});

parity!(synth_outcome_statistics_match_reference_and_each_other, |db| {
    seed_analysis(db, "exp_1", "ana_1", "2025-01-01 00:00:00").await?;
    // Small hand-checked set, inserted out of id order.
    for (id, r) in [
        ("out_3", [0.3, 0.0, 0.7]),
        ("out_1", [0.1, 0.5, 0.4]),
        ("out_4", [0.4, 0.25, 0.35]),
        ("out_2", [0.2, 0.25, 0.55]),
    ] {
        db.synth_outcomes()
            .create(&outcome(id, "ana_1", &format!("syn_{id}"), r))
            .await?;
    }
    let stats = db.synth_outcomes().statistics("ana_1").await?;
    assert_eq!(stats.count, 4);
    let dnt = stats.did_not_try_rate.expect("rows");
    let close = |got: f64, want: f64| ((got - want) / want).abs() <= 1e-12;
    assert!(close(dnt.mean, 0.25), "{}", dnt.mean);
    assert_eq!((dnt.min, dnt.max), (0.1, 0.4));
    // Sample standard deviation (n − 1): sqrt(0.05 / 3).
    assert!(close(dnt.stddev.expect("n > 1"), (0.05f64 / 3.0).sqrt()));
    let failed = stats.failed_rate.expect("rows");
    assert!(close(failed.mean, 0.25) && failed.min == 0.0 && failed.max == 0.5);
    assert!(close(failed.stddev.expect("n > 1"), (0.125f64 / 3.0).sqrt()));
    let success = stats.success_rate.expect("rows");
    assert!(close(success.mean, 0.5) && success.min == 0.35 && success.max == 0.7);
    // Same bits as the shared function over the rates in id order.
    let by_id = [[0.1, 0.5, 0.4], [0.2, 0.25, 0.55], [0.3, 0.0, 0.7], [0.4, 0.25, 0.35]];
    assert_eq!(stats, outcome_statistics(&by_id));
    Ok(())
});

parity!(synth_outcome_statistics_of_many_rows_are_identical, |db| {
    seed_analysis(db, "exp_1", "ana_1", "2025-01-01 00:00:00").await?;
    let values = rates(1000);
    // Ids in reverse of insertion order, so that id order is not insertion order.
    let batch: Vec<_> = values
        .iter()
        .enumerate()
        .map(|(i, r)| outcome(&format!("out_{:04}", 999 - i), "ana_1", &format!("syn_{i:04}"), *r))
        .collect();
    db.synth_outcomes().create_batch(&batch).await?;
    let stats = db.synth_outcomes().statistics("ana_1").await?;
    assert_eq!(stats.count, 1000);
    let by_id: Vec<[f64; 3]> = values.iter().rev().copied().collect();
    assert_eq!(
        stats,
        outcome_statistics(&by_id),
        "bit-identical to the shared function"
    );
    // Independent naive reference, to 1e-12 relative.
    for (k, got) in [stats.did_not_try_rate, stats.failed_rate, stats.success_rate]
        .into_iter()
        .enumerate()
    {
        let got = got.expect("rows");
        let column: Vec<f64> = values.iter().map(|r| r[k]).collect();
        let mean = column.iter().sum::<f64>() / 1000.0;
        let var = column.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 999.0;
        assert!(((got.mean - mean) / mean).abs() <= 1e-12, "mean {k}");
        assert!(
            ((got.stddev.expect("n > 1") - var.sqrt()) / var.sqrt()).abs() <= 1e-12,
            "stddev {k}"
        );
        assert_eq!(got.min, column.iter().copied().fold(f64::INFINITY, f64::min));
        assert_eq!(got.max, column.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    }
    Ok(())
});

parity!(synth_outcome_statistics_of_zero_and_one_rows, |db| {
    seed_analysis(db, "exp_1", "ana_1", "2025-01-01 00:00:00").await?;
    let empty = db.synth_outcomes().statistics("ana_1").await?;
    assert_eq!(empty.count, 0);
    assert!(empty.did_not_try_rate.is_none() && empty.failed_rate.is_none() && empty.success_rate.is_none());
    db.synth_outcomes()
        .create(&outcome("out_1", "ana_1", "syn_1", [0.1 + 0.2, 0.0, 0.7]))
        .await?;
    let one = db.synth_outcomes().statistics("ana_1").await?;
    assert_eq!(one.count, 1);
    let dnt = one.did_not_try_rate.expect("one row");
    assert_eq!(
        (dnt.mean, dnt.min, dnt.max, dnt.stddev),
        (0.1 + 0.2, 0.1 + 0.2, 0.1 + 0.2, None)
    );
    Ok(())
});

parity!(synth_outcome_attributes_json_round_trip, |db| {
    seed_analysis(db, "exp_1", "ana_1", "2025-01-01 00:00:00").await?;
    let mut new = outcome("out_1", "ana_1", "syn_1", [0.1, 0.2, 0.7]);
    new.synth_attributes = Some(tricky_json());
    let created = db.synth_outcomes().create(&new).await?;
    assert_tricky_json(created.synth_attributes.as_ref().expect("set"));
    let mut batched = outcome("out_2", "ana_1", "syn_2", [0.1, 0.2, 0.7]);
    batched.synth_attributes = Some(tricky_json());
    db.synth_outcomes().create_batch(&[batched]).await?;
    for id in ["out_1", "out_2"] {
        let read = db.synth_outcomes().get(id).await?.expect("exists");
        assert_tricky_json(read.synth_attributes.as_ref().expect("set"));
    }
    let mut nul = outcome("out_3", "ana_1", "syn_3", [0.1, 0.2, 0.7]);
    nul.synth_attributes = Some(json!(["\u{0}"]));
    assert_eq!(
        db.synth_outcomes().create(&nul).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    Ok(())
});
