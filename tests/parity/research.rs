//! ResearchRepository parity cases.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;
use synthlab_db::ErrorKind;
use synthlab_db::model::{
    ExecutionChanges, ExecutionFilter, ExecutionStatus, NewResearchExecution, NewTranscript, PageRequest,
};

use crate::harness::TestDb;
use crate::support::{experiment, ts};

/// An execution with fixed id and start time.
fn execution(exec_id: &str, experiment_id: Option<&str>, started_at: &str) -> NewResearchExecution {
    let mut new = NewResearchExecution::new(format!("topic of {exec_id}"), 3);
    new.exec_id = exec_id.to_owned();
    new.experiment_id = experiment_id.map(str::to_owned);
    new.started_at = Some(ts(started_at));
    new
}

/// A transcript with fixed id and time.
fn transcript(id: &str, exec_id: &str, synth_id: &str, synth_name: &str, turns: Option<i64>) -> NewTranscript {
    let mut new = NewTranscript::new(exec_id, synth_id, synth_name);
    new.id = id.to_owned();
    new.turn_count = turns;
    new.timestamp = Some(ts("2025-03-01T10:00:00.000001+00:00"));
    new
}

fn ids(items: &[synthlab_db::model::ResearchExecution]) -> Vec<&str> {
    items.iter().map(|e| e.exec_id.as_str()).collect()
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Two experiments with executions: exp_1 (ex_a, ex_b), exp_2 (ex_c), and ex_d without experiment.
async fn seed(db: &TestDb) -> anyhow::Result<()> {
    db.experiments()
        .create(&experiment("exp_1", "One", "2025-01-01 00:00:00"))
        .await?;
    db.experiments()
        .create(&experiment("exp_2", "Two", "2025-01-01 00:00:00"))
        .await?;
    let repo = db.research();
    repo.create_execution(&execution("ex_a", Some("exp_1"), "2025-02-01 00:00:00"))
        .await?;
    repo.create_execution(&execution("ex_b", Some("exp_1"), "2025-02-03 00:00:00"))
        .await?;
    repo.create_execution(&execution("ex_c", Some("exp_2"), "2025-02-02 00:00:00"))
        .await?;
    repo.create_execution(&execution("ex_d", None, "2025-02-04 00:00:00"))
        .await?;
    Ok(())
}

parity!(research_create_execution_round_trips, |db| {
    db.experiments()
        .create(&experiment("exp_1", "One", "2025-01-01 00:00:00"))
        .await?;
    let mut new = execution("ex_1", Some("exp_1"), "2025-12-01T10:00:00.123456+00:00");
    new.status = ExecutionStatus::Running;
    new.synth_count = 12;
    new.model = Some("gpt-4o".into());
    new.max_turns = Some(9);
    new.additional_context = Some("Contexto com acentuação 🚀".into());
    let created = db.research().create_execution(&new).await?;
    assert_eq!(created.exec_id, "ex_1");
    assert_eq!(created.experiment_id.as_deref(), Some("exp_1"));
    assert_eq!(created.status, ExecutionStatus::Running);
    assert_eq!(created.synth_count, 12);
    assert_eq!((created.successful_count, created.failed_count), (Some(0), Some(0)));
    assert_eq!((created.model.as_deref(), created.max_turns), (Some("gpt-4o"), Some(9)));
    assert_eq!(created.started_at, ts("2025-12-01T10:00:00.123456+00:00"));
    assert_eq!(created.completed_at, None);
    assert_eq!(created.additional_context, new.additional_context);
    assert_eq!(db.research().get_execution("ex_1").await?, Some(created));
    Ok(())
});

parity!(research_create_execution_without_model_stores_null, |db| {
    let mut new = execution("ex_1", None, "2025-01-01 00:00:00");
    new.model = None;
    new.max_turns = None;
    let created = db.research().create_execution(&new).await?;
    assert_eq!(
        (created.model, created.max_turns, created.experiment_id),
        (None, None, None)
    );
    let fetched = db.research().get_execution("ex_1").await?.expect("exists");
    assert_eq!((fetched.model, fetched.max_turns), (None, None));
    Ok(())
});

parity!(research_generated_ids_and_now_timestamps, |db| {
    let before = synthlab_db::model::now();
    let created = db
        .research()
        .create_execution(&NewResearchExecution::new("Topic", 5))
        .await?;
    assert!(created.exec_id.starts_with("exec_"));
    assert!(created.started_at >= before);
    assert_eq!(created.started_at.timestamp_subsec_nanos() % 1000, 0);
    assert_eq!(
        (created.model.as_deref(), created.max_turns),
        (Some("gpt-4o-mini"), Some(6))
    );
    let t = db
        .research()
        .upsert_transcript(&NewTranscript::new(&created.exec_id, "syn_1", "Ana"))
        .await?;
    assert!(t.id.starts_with("trn_"));
    assert!(t.timestamp >= before);
    assert_eq!(
        (t.status.as_str(), t.turn_count, t.messages),
        ("pending", Some(0), None)
    );
    Ok(())
});

parity!(research_schema_defaults_read_back, |db| {
    db.raw(
        "INSERT INTO research_executions (exec_id, topic_name, started_at) VALUES ('ex_raw', 't', '2025-01-01 00:00:00');
         INSERT INTO transcripts (id, exec_id, synth_id, synth_name, timestamp) VALUES ('tr_raw', 'ex_raw', 's', 'n', '2025-01-01 00:00:00');",
        "INSERT INTO research_executions (exec_id, topic_name, started_at) VALUES ('ex_raw', 't', '2025-01-01 00:00:00+00');
         INSERT INTO transcripts (id, exec_id, synth_id, synth_name, timestamp) VALUES ('tr_raw', 'ex_raw', 's', 'n', '2025-01-01 00:00:00+00');",
    )
    .await?;
    let e = db.research().get_execution("ex_raw").await?.expect("exists");
    assert_eq!(e.status, ExecutionStatus::Pending);
    assert_eq!(
        (e.synth_count, e.successful_count, e.failed_count),
        (0, Some(0), Some(0))
    );
    assert_eq!((e.model.as_deref(), e.max_turns), (Some("gpt-4o-mini"), Some(6)));
    assert_eq!(e.started_at, ts("2025-01-01T00:00:00Z"));
    let t = db.research().get_transcript_by_id("tr_raw").await?.expect("exists");
    assert_eq!((t.status.as_str(), t.turn_count), ("pending", Some(0)));
    assert_eq!(t.timestamp, ts("2025-01-01T00:00:00Z"));
    Ok(())
});

parity!(research_create_duplicate_execution_is_conflict, |db| {
    db.research()
        .create_execution(&execution("ex_1", None, "2025-01-01 00:00:00"))
        .await?;
    let err = db
        .research()
        .create_execution(&execution("ex_1", None, "2025-01-02 00:00:00"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    Ok(())
});

parity!(research_create_execution_missing_experiment_is_foreign_key, |db| {
    let err = db
        .research()
        .create_execution(&execution("ex_1", Some("exp_missing"), "2025-01-01 00:00:00"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKey, "{err}");
    assert!(db.research().get_execution("ex_1").await?.is_none());
    Ok(())
});

parity!(research_missing_rows_read_as_none_or_empty, |db| {
    let repo = db.research();
    assert!(repo.get_execution("nope").await?.is_none());
    assert!(repo.get_execution_detail("nope").await?.is_none());
    assert!(repo.get_transcript("nope", "syn").await?.is_none());
    assert!(repo.get_transcript_by_id("nope").await?.is_none());
    assert!(repo.list_transcripts("nope").await?.is_empty());
    assert!(repo.executions_by_experiment("nope").await?.is_empty());
    assert!(repo.auto_interview("nope").await?.is_none());
    Ok(())
});

parity!(research_list_newest_first_ties_by_exec_id_desc, |db| {
    let repo = db.research();
    repo.create_execution(&execution("ex_a", None, "2025-01-01T00:00:00.000000+00:00"))
        .await?;
    repo.create_execution(&execution("ex_c", None, "2025-03-01T00:00:00.000000+00:00"))
        .await?;
    repo.create_execution(&execution("ex_b", None, "2025-03-01T00:00:00.000000+00:00"))
        .await?;
    repo.create_execution(&execution("ex_d", None, "2025-02-01T00:00:00.000001+00:00"))
        .await?;
    repo.create_execution(&execution("ex_e", None, "2025-02-01T00:00:00.000000+00:00"))
        .await?;
    let page = repo
        .list_executions(&ExecutionFilter::default(), PageRequest::first(10)?)
        .await?;
    assert_eq!(ids(&page.items), ["ex_c", "ex_b", "ex_d", "ex_e", "ex_a"]);
    assert_eq!((page.total, page.has_next), (5, false));
    Ok(())
});

parity!(research_list_filters_by_status_and_experiment, |db| {
    seed(db).await?;
    let repo = db.research();
    repo.update_execution(
        "ex_a",
        &ExecutionChanges {
            status: Some(ExecutionStatus::Completed),
            ..Default::default()
        },
    )
    .await?;
    repo.update_execution(
        "ex_d",
        &ExecutionChanges {
            status: Some(ExecutionStatus::Completed),
            ..Default::default()
        },
    )
    .await?;
    let page = PageRequest::first(10)?;
    let by_experiment = ExecutionFilter {
        experiment_id: Some("exp_1".into()),
        ..Default::default()
    };
    let got = repo.list_executions(&by_experiment, page).await?;
    assert_eq!((ids(&got.items), got.total), (vec!["ex_b", "ex_a"], 2));
    let by_status = ExecutionFilter {
        status: Some(ExecutionStatus::Completed),
        ..Default::default()
    };
    let got = repo.list_executions(&by_status, page).await?;
    assert_eq!((ids(&got.items), got.total), (vec!["ex_d", "ex_a"], 2));
    let both = ExecutionFilter {
        status: Some(ExecutionStatus::Pending),
        experiment_id: Some("exp_1".into()),
    };
    let got = repo.list_executions(&both, page).await?;
    assert_eq!((ids(&got.items), got.total), (vec!["ex_b"], 1));
    let none = ExecutionFilter {
        status: Some(ExecutionStatus::Failed),
        ..Default::default()
    };
    let got = repo.list_executions(&none, page).await?;
    assert_eq!((got.items.len(), got.total, got.has_next), (0, 0, false));
    Ok(())
});

parity!(research_list_paginates_with_total_and_has_next, |db| {
    seed(db).await?;
    let repo = db.research();
    let all = ExecutionFilter::default();
    let first = repo.list_executions(&all, PageRequest::new(3, 0)?).await?;
    assert_eq!(ids(&first.items), ["ex_d", "ex_b", "ex_c"]);
    assert_eq!((first.total, first.has_next), (4, true));
    let last = repo.list_executions(&all, PageRequest::new(3, 3)?).await?;
    assert_eq!((ids(&last.items), last.total, last.has_next), (vec!["ex_a"], 4, false));
    let past = repo.list_executions(&all, PageRequest::new(3, 40)?).await?;
    assert_eq!((past.items.len(), past.total, past.has_next), (0, 4, false));
    Ok(())
});

parity!(research_list_rejects_bad_pages, |db| {
    for (limit, offset) in [(0, 0), (201, 0), (10, -1)] {
        let err = db
            .research()
            .list_executions(&ExecutionFilter::default(), PageRequest { limit, offset })
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{limit}/{offset}");
    }
    Ok(())
});

parity!(research_legacy_started_at_shapes_sort_by_instant, |db| {
    // Text order would put "2025-06-01 12:00:00" before "2025-06-01T09:00:00…".
    db.raw(
        "INSERT INTO research_executions (exec_id, topic_name, started_at, completed_at) VALUES
           ('ex_space', 't', '2025-06-01 12:00:00', '2025-06-01 12:30:00'),
           ('ex_iso', 't', '2025-06-01T09:00:00.000000+00:00', NULL),
           ('ex_offset', 't', '2025-06-01T13:00:00+02:00', NULL);",
        "INSERT INTO research_executions (exec_id, topic_name, started_at, completed_at) VALUES
           ('ex_space', 't', '2025-06-01 12:00:00+00', '2025-06-01 12:30:00+00'),
           ('ex_iso', 't', '2025-06-01T09:00:00+00', NULL),
           ('ex_offset', 't', '2025-06-01T11:00:00+00', NULL);",
    )
    .await?;
    let page = db
        .research()
        .list_executions(&ExecutionFilter::default(), PageRequest::first(10)?)
        .await?;
    assert_eq!(ids(&page.items), ["ex_space", "ex_offset", "ex_iso"]);
    assert_eq!(page.items[0].started_at, ts("2025-06-01T12:00:00Z"));
    assert_eq!(page.items[0].completed_at, Some(ts("2025-06-01T12:30:00Z")));
    assert_eq!(page.items[1].started_at, ts("2025-06-01T11:00:00Z"));
    Ok(())
});

parity!(research_update_execution_sets_given_fields_only, |db| {
    seed(db).await?;
    let repo = db.research();
    let updated = repo
        .update_execution(
            "ex_a",
            &ExecutionChanges {
                status: Some(ExecutionStatus::GeneratingSummary),
                successful_count: Some(2),
                ..Default::default()
            },
        )
        .await?;
    assert_eq!(updated.status, ExecutionStatus::GeneratingSummary);
    assert_eq!((updated.successful_count, updated.failed_count), (Some(2), Some(0)));
    assert_eq!(updated.completed_at, None);
    let done = repo
        .update_execution(
            "ex_a",
            &ExecutionChanges {
                status: Some(ExecutionStatus::Completed),
                failed_count: Some(1),
                completed_at: Some(ts("2025-02-01T01:02:03.456789+00:00")),
                ..Default::default()
            },
        )
        .await?;
    assert_eq!(done.status, ExecutionStatus::Completed);
    assert_eq!((done.successful_count, done.failed_count), (Some(2), Some(1)));
    assert_eq!(done.completed_at, Some(ts("2025-02-01T01:02:03.456789+00:00")));
    assert_eq!(done.topic_name, "topic of ex_a");
    assert_eq!(repo.get_execution("ex_a").await?, Some(done));
    Ok(())
});

parity!(research_update_execution_missing_is_not_found, |db| {
    let err = db
        .research()
        .update_execution(
            "nope",
            &ExecutionChanges {
                status: Some(ExecutionStatus::Failed),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let err = db
        .research()
        .update_execution("nope", &ExecutionChanges::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    Ok(())
});

parity!(research_execution_detail_counts_in_sql, |db| {
    seed(db).await?;
    let repo = db.research();
    repo.upsert_transcript(&transcript("tr_1", "ex_a", "syn_1", "Ana", Some(4)))
        .await?;
    repo.upsert_transcript(&transcript("tr_2", "ex_a", "syn_2", "Bia", None))
        .await?;
    repo.upsert_transcript(&transcript("tr_3", "ex_a", "syn_3", "Caio", Some(7)))
        .await?;
    db.raw(
        "INSERT INTO experiment_documents (id, experiment_id, document_type, markdown_content, generated_at, status)
         VALUES ('doc_1', 'exp_1', 'summary', '# S', '2025-01-01 00:00:00', 'failed');",
        "INSERT INTO experiment_documents (id, experiment_id, document_type, markdown_content, generated_at, status)
         VALUES ('doc_1', 'exp_1', 'summary', '# S', '2025-01-01 00:00:00+00', 'failed');",
    )
    .await?;
    let detail = repo.get_execution_detail("ex_a").await?.expect("exists");
    assert_eq!(detail.execution, repo.get_execution("ex_a").await?.expect("exists"));
    assert_eq!((detail.transcript_count, detail.total_turns), (3, 11));
    assert_eq!((detail.has_summary, detail.has_prfaq), (true, false));
    let empty = repo.get_execution_detail("ex_d").await?.expect("exists");
    assert_eq!((empty.transcript_count, empty.total_turns), (0, 0));
    assert_eq!((empty.has_summary, empty.has_prfaq), (false, false));
    Ok(())
});

parity!(research_executions_by_experiment_and_auto_interview, |db| {
    seed(db).await?;
    let repo = db.research();
    repo.create_execution(&execution("ex_b2", Some("exp_1"), "2025-02-03 00:00:00"))
        .await?;
    let of_one = repo.executions_by_experiment("exp_1").await?;
    assert_eq!(ids(&of_one), ["ex_b2", "ex_b", "ex_a"]);
    let auto = repo.auto_interview("exp_1").await?.expect("has one");
    assert_eq!(auto.exec_id, "ex_b2");
    assert_eq!(auto, of_one[0]);
    assert_eq!(
        repo.auto_interview("exp_2").await?.map(|e| e.exec_id),
        Some("ex_c".into())
    );
    db.experiments()
        .create(&experiment("exp_3", "Three", "2025-01-01 00:00:00"))
        .await?;
    assert!(repo.auto_interview("exp_3").await?.is_none());
    assert!(repo.executions_by_experiment("exp_3").await?.is_empty());
    Ok(())
});

parity!(research_transcripts_in_byte_order_of_synth_name_then_id, |db| {
    seed(db).await?;
    let repo = db.research();
    for (id, synth, name) in [
        ("tr_5", "s5", "é"),
        ("tr_2", "s2", "a"),
        ("tr_1", "s1", "a"),
        ("tr_3", "s3", "B"),
        ("tr_4", "s4", "Z"),
        ("tr_6", "s6", "ab"),
    ] {
        repo.upsert_transcript(&transcript(id, "ex_a", synth, name, Some(1)))
            .await?;
    }
    repo.upsert_transcript(&transcript("tr_other", "ex_b", "s1", "A", Some(1)))
        .await?;
    let listed: Vec<_> = repo.list_transcripts("ex_a").await?.into_iter().map(|t| t.id).collect();
    assert_eq!(listed, ["tr_3", "tr_4", "tr_1", "tr_2", "tr_6", "tr_5"]);
    Ok(())
});

parity!(research_transcript_json_messages_round_trip, |db| {
    seed(db).await?;
    let messages = json!([
        {"role": "interviewer", "content": "Olá, ção? 🚀", "n": 1.5},
        {"role": "synth", "content": "", "meta": {"big": 9007199254740993_i64, "max": u64::MAX, "neg": -0.0001,
         "nested": [[], {}, null, true]}}
    ]);
    let mut new = transcript("tr_1", "ex_a", "syn_1", "Ana", Some(2));
    new.messages = Some(messages.clone());
    new.status = "completed".into();
    let saved = db.research().upsert_transcript(&new).await?;
    assert_eq!(saved.messages.as_ref(), Some(&messages));
    assert_eq!(saved.timestamp, ts("2025-03-01T10:00:00.000001+00:00"));
    let by_synth = db.research().get_transcript("ex_a", "syn_1").await?.expect("exists");
    let by_id = db.research().get_transcript_by_id("tr_1").await?.expect("exists");
    assert_eq!(by_synth, saved);
    assert_eq!(by_id, saved);
    assert!(db.research().get_transcript("ex_b", "syn_1").await?.is_none());
    // A JSON null is a value, not SQL NULL, on both backends.
    let mut null_messages = transcript("tr_2", "ex_a", "syn_2", "Bia", Some(0));
    null_messages.messages = Some(serde_json::Value::Null);
    let saved = db.research().upsert_transcript(&null_messages).await?;
    assert_eq!(saved.messages, Some(serde_json::Value::Null));
    let fetched = db.research().get_transcript_by_id("tr_2").await?.expect("exists");
    assert_eq!(fetched.messages, Some(serde_json::Value::Null));
    Ok(())
});

parity!(research_upsert_transcript_replaces_and_keeps_id, |db| {
    seed(db).await?;
    let repo = db.research();
    let mut first = transcript("tr_1", "ex_a", "syn_1", "Ana", Some(1));
    first.messages = Some(json!([{"a": 1}]));
    repo.upsert_transcript(&first).await?;
    let mut second = transcript("tr_new", "ex_a", "syn_1", "Ana Maria", Some(5));
    second.status = "completed".into();
    second.timestamp = Some(ts("2025-04-01 00:00:00"));
    second.messages = None;
    let replaced = repo.upsert_transcript(&second).await?;
    assert_eq!(replaced.id, "tr_1", "the existing row keeps its id");
    assert_eq!(
        (
            replaced.synth_name.as_str(),
            replaced.status.as_str(),
            replaced.turn_count
        ),
        ("Ana Maria", "completed", Some(5))
    );
    assert_eq!(replaced.timestamp, ts("2025-04-01T00:00:00Z"));
    assert_eq!(replaced.messages, None);
    assert!(repo.get_transcript_by_id("tr_new").await?.is_none());
    assert_eq!(repo.list_transcripts("ex_a").await?, vec![replaced]);
    // The same synth in another execution is another transcript.
    repo.upsert_transcript(&transcript("tr_2", "ex_b", "syn_1", "Ana", Some(1)))
        .await?;
    assert_eq!(repo.list_transcripts("ex_b").await?.len(), 1);
    Ok(())
});

parity!(research_upsert_transcript_missing_execution_is_foreign_key, |db| {
    let err = db
        .research()
        .upsert_transcript(&transcript("tr_1", "ex_missing", "syn_1", "Ana", Some(1)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKey, "{err}");
    Ok(())
});

parity!(research_upsert_transcript_id_of_other_synth_is_conflict, |db| {
    seed(db).await?;
    let repo = db.research();
    repo.upsert_transcript(&transcript("tr_1", "ex_a", "syn_1", "Ana", Some(1)))
        .await?;
    let err = repo
        .upsert_transcript(&transcript("tr_1", "ex_a", "syn_2", "Bia", Some(1)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(repo.get_transcript("ex_a", "syn_2").await?.is_none());
    Ok(())
});

parity!(research_batch_summary_and_prfaq_lookups, |db| {
    seed(db).await?;
    db.raw(
        "INSERT INTO experiment_documents (id, experiment_id, document_type, markdown_content, generated_at) VALUES
           ('doc_1', 'exp_1', 'summary', '# S', '2025-01-01 00:00:00'),
           ('doc_2', 'exp_2', 'prfaq', '# P', '2025-01-01 00:00:00'),
           ('doc_3', 'exp_2', 'executive_summary', '# E', '2025-01-01 00:00:00');",
        "INSERT INTO experiment_documents (id, experiment_id, document_type, markdown_content, generated_at) VALUES
           ('doc_1', 'exp_1', 'summary', '# S', '2025-01-01 00:00:00+00'),
           ('doc_2', 'exp_2', 'prfaq', '# P', '2025-01-01 00:00:00+00'),
           ('doc_3', 'exp_2', 'executive_summary', '# E', '2025-01-01 00:00:00+00');",
    )
    .await?;
    let repo = db.research();
    let asked = strings(&["ex_a", "ex_b", "ex_c", "ex_d", "ex_unknown", "ex_a"]);
    let summary = repo.with_summary(&asked).await?;
    assert_eq!(summary, BTreeSet::from(["ex_a".to_owned(), "ex_b".to_owned()]));
    let prfaq = repo.with_prfaq(&asked).await?;
    assert_eq!(prfaq, BTreeSet::from(["ex_c".to_owned()]));
    assert!(repo.with_summary(&strings(&["ex_c", "ex_d"])).await?.is_empty());
    assert!(repo.with_summary(&[]).await?.is_empty());
    assert!(repo.with_prfaq(&[]).await?.is_empty());
    Ok(())
});

parity!(research_batch_additional_context_lookups, |db| {
    let repo = db.research();
    for (id, context) in [
        ("ex_null", None),
        ("ex_empty", Some("")),
        ("ex_text", Some("Foco em preço — ção")),
        ("ex_space", Some(" ")),
    ] {
        let mut new = execution(id, None, "2025-01-01 00:00:00");
        new.additional_context = context.map(str::to_owned);
        repo.create_execution(&new).await?;
    }
    let asked = strings(&["ex_null", "ex_empty", "ex_text", "ex_space", "ex_unknown"]);
    let with = repo.with_additional_context(&asked).await?;
    assert_eq!(with, BTreeSet::from(["ex_space".to_owned(), "ex_text".to_owned()]));
    let contexts = repo.additional_contexts(&asked).await?;
    let expected = BTreeMap::from([
        ("ex_empty".to_owned(), Some(String::new())),
        ("ex_null".to_owned(), None),
        ("ex_space".to_owned(), Some(" ".to_owned())),
        ("ex_text".to_owned(), Some("Foco em preço — ção".to_owned())),
    ]);
    assert_eq!(contexts, expected);
    assert!(repo.additional_contexts(&[]).await?.is_empty());
    assert!(repo.with_additional_context(&[]).await?.is_empty());
    Ok(())
});

parity!(research_batch_total_turns_sums_in_sql, |db| {
    seed(db).await?;
    let repo = db.research();
    repo.upsert_transcript(&transcript("tr_1", "ex_a", "s1", "A", Some(4)))
        .await?;
    repo.upsert_transcript(&transcript("tr_2", "ex_a", "s2", "B", Some(6)))
        .await?;
    repo.upsert_transcript(&transcript("tr_3", "ex_a", "s3", "C", None))
        .await?;
    repo.upsert_transcript(&transcript("tr_4", "ex_b", "s1", "A", None))
        .await?;
    repo.upsert_transcript(&transcript("tr_5", "ex_c", "s1", "A", Some(3_000_000_000)))
        .await?;
    let totals = repo
        .total_turns(&strings(&["ex_a", "ex_b", "ex_c", "ex_d", "ex_unknown", "ex_a"]))
        .await?;
    let expected = BTreeMap::from([
        ("ex_a".to_owned(), 10),
        ("ex_b".to_owned(), 0),
        ("ex_c".to_owned(), 3_000_000_000),
        ("ex_d".to_owned(), 0),
    ]);
    assert_eq!(totals, expected);
    assert!(repo.total_turns(&[]).await?.is_empty());
    Ok(())
});

parity!(research_deleting_experiment_sets_execution_experiment_null, |db| {
    seed(db).await?;
    db.raw(
        "DELETE FROM experiments WHERE id = 'exp_1';",
        "DELETE FROM experiments WHERE id = 'exp_1';",
    )
    .await?;
    let repo = db.research();
    let a = repo.get_execution("ex_a").await?.expect("execution survives");
    assert_eq!(a.experiment_id, None);
    assert_eq!(repo.get_execution("ex_b").await?.expect("survives").experiment_id, None);
    assert_eq!(
        repo.get_execution("ex_c")
            .await?
            .expect("untouched")
            .experiment_id
            .as_deref(),
        Some("exp_2")
    );
    assert!(repo.executions_by_experiment("exp_1").await?.is_empty());
    assert!(repo.auto_interview("exp_1").await?.is_none());
    let page = repo
        .list_executions(&ExecutionFilter::default(), PageRequest::first(10)?)
        .await?;
    assert_eq!(page.total, 4);
    Ok(())
});

parity!(research_deleting_execution_cascades_to_transcripts, |db| {
    seed(db).await?;
    let repo = db.research();
    repo.upsert_transcript(&transcript("tr_1", "ex_a", "s1", "A", Some(1)))
        .await?;
    repo.upsert_transcript(&transcript("tr_2", "ex_a", "s2", "B", Some(1)))
        .await?;
    repo.upsert_transcript(&transcript("tr_3", "ex_b", "s1", "A", Some(1)))
        .await?;
    db.raw(
        "DELETE FROM research_executions WHERE exec_id = 'ex_a';",
        "DELETE FROM research_executions WHERE exec_id = 'ex_a';",
    )
    .await?;
    assert!(repo.get_transcript_by_id("tr_1").await?.is_none());
    assert!(repo.get_transcript_by_id("tr_2").await?.is_none());
    assert!(repo.list_transcripts("ex_a").await?.is_empty());
    assert!(repo.get_transcript_by_id("tr_3").await?.is_some());
    Ok(())
});

parity!(research_legacy_transcript_timestamps_read_as_instants, |db| {
    seed(db).await?;
    db.raw(
        "INSERT INTO transcripts (id, exec_id, synth_id, synth_name, timestamp, turn_count) VALUES
           ('tr_space', 'ex_a', 's1', 'A', '2025-06-01 12:00:00', 2),
           ('tr_zulu', 'ex_a', 's2', 'B', '2025-06-01T12:00:00.5Z', 3),
           ('tr_offset', 'ex_a', 's3', 'C', '2025-06-01T14:00:00.123456+02:00', 4);",
        "INSERT INTO transcripts (id, exec_id, synth_id, synth_name, timestamp, turn_count) VALUES
           ('tr_space', 'ex_a', 's1', 'A', '2025-06-01 12:00:00+00', 2),
           ('tr_zulu', 'ex_a', 's2', 'B', '2025-06-01T12:00:00.5Z', 3),
           ('tr_offset', 'ex_a', 's3', 'C', '2025-06-01T14:00:00.123456+02:00', 4);",
    )
    .await?;
    let listed = db.research().list_transcripts("ex_a").await?;
    let times: Vec<_> = listed.iter().map(|t| t.timestamp).collect();
    assert_eq!(
        times,
        [
            ts("2025-06-01T12:00:00Z"),
            ts("2025-06-01T12:00:00.500000Z"),
            ts("2025-06-01T12:00:00.123456Z")
        ]
    );
    let totals = db.research().total_turns(&strings(&["ex_a"])).await?;
    assert_eq!(totals.get("ex_a"), Some(&9));
    Ok(())
});

parity!(research_sqlite_writes_legacy_readable_text, |db| {
    seed(db).await?;
    let mut new = transcript("tr_1", "ex_a", "s1", "A", Some(1));
    new.messages = Some(json!([{"k": "v"}]));
    db.research().upsert_transcript(&new).await?;
    if let Some(path) = &db.sqlite_path {
        let conn = rusqlite::Connection::open(path)?;
        let (started, stamp, messages): (String, String, String) = conn.query_row(
            "SELECT e.started_at, t.timestamp, t.messages FROM transcripts t
             JOIN research_executions e ON e.exec_id = t.exec_id WHERE t.id = 'tr_1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        assert_eq!(started, "2025-02-01T00:00:00.000000+00:00");
        assert_eq!(stamp, "2025-03-01T10:00:00.000001+00:00");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&messages)?,
            json!([{"k": "v"}])
        );
    }
    Ok(())
});

parity!(research_nul_is_refused_and_json_numbers_read_back_alike, |db| {
    let mut bad = execution("ex_bad", None, "2025-01-01 00:00:00");
    bad.topic_name = "topic\u{0}".into();
    let err = db.research().create_execution(&bad).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(db.research().get_execution("ex_bad").await?.is_none());
    db.research()
        .create_execution(&execution("ex_1", None, "2025-01-01 00:00:00"))
        .await?;
    let mut new = transcript("tr_1", "ex_1", "s1", "Ana", Some(2));
    new.messages = Some(json!([{"role": "user", "score": -0.0, "big": 1e16, "third": 1.0 / 3.0}]));
    let stored = db.research().upsert_transcript(&new).await?;
    let read = db.research().get_transcript("ex_1", "s1").await?.expect("exists");
    assert_eq!(read, stored);
    assert_eq!(read.messages.as_ref().map(|m| m[0]["big"].as_f64()), Some(Some(1e16)));
    Ok(())
});

parity!(research_lookups_with_nul_in_an_id_are_invalid_input, |db| {
    // Batch lookups check every id of the list, pair lookups every key.
    let err = db
        .research()
        .with_summary(&["ex_1".to_owned(), "ex\u{0}".to_owned()])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = db.research().get_transcript("ex_1", "syn\u{0}").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = db
        .research()
        .list_executions(
            &ExecutionFilter {
                status: None,
                experiment_id: Some("e\u{0}".into()),
            },
            PageRequest::first(10)?,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    Ok(())
});
