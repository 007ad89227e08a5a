//! ExperimentDocumentRepository parity cases.

use serde_json::json;
use synthlab_db::ErrorKind;
use synthlab_db::model::{DocumentStatus, DocumentStatusUpdate, DocumentType, NewExperimentDocument};

use crate::analyses::{assert_tricky_json, tricky_json};
use crate::harness::TestDb;
use crate::support::{experiment, ts};

fn document(id: &str, experiment_id: &str, kind: DocumentType, markdown: &str, at: &str) -> NewExperimentDocument {
    NewExperimentDocument {
        id: id.to_owned(),
        experiment_id: experiment_id.to_owned(),
        document_type: kind,
        markdown_content: markdown.to_owned(),
        metadata: None,
        generated_at: Some(ts(at)),
        model: Some("gpt-4o-mini".to_owned()),
        status: DocumentStatus::Completed,
        error_message: None,
    }
}

async fn seed_experiment(db: &TestDb, id: &str) -> anyhow::Result<()> {
    db.experiments()
        .create(&experiment(id, "E", "2025-01-01 00:00:00"))
        .await?;
    Ok(())
}

parity!(document_save_then_get_by_id_and_type, |db| {
    seed_experiment(db, "exp_1").await?;
    let mut new = document(
        "doc_1",
        "exp_1",
        DocumentType::Prfaq,
        "# PR/FAQ\n\nAção — “quotes” 🚀\n\n| a | b |",
        "2025-05-01T10:00:00.999999+00:00",
    );
    new.metadata = Some(tricky_json());
    new.status = DocumentStatus::Partial;
    new.error_message = Some("section 3 timed out".into());
    let saved = db.experiment_documents().save(&new).await?;
    assert_eq!((saved.id.as_str(), saved.experiment_id.as_str()), ("doc_1", "exp_1"));
    assert_eq!(saved.document_type, DocumentType::Prfaq);
    assert_eq!(saved.markdown_content, new.markdown_content);
    assert_tricky_json(saved.metadata.as_ref().expect("set"));
    assert_eq!(saved.generated_at, ts("2025-05-01T10:00:00.999999+00:00"));
    assert_eq!(saved.model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(saved.status, DocumentStatus::Partial);
    assert_eq!(saved.error_message.as_deref(), Some("section 3 timed out"));
    assert_eq!(db.experiment_documents().get("doc_1").await?, Some(saved.clone()));
    assert_eq!(
        db.experiment_documents()
            .get_by_type("exp_1", DocumentType::Prfaq)
            .await?,
        Some(saved)
    );
    Ok(())
});

parity!(document_new_defaults_and_generated_id, |db| {
    seed_experiment(db, "exp_1").await?;
    let before = synthlab_db::model::now();
    let saved = db
        .experiment_documents()
        .save(&NewExperimentDocument::new("exp_1", DocumentType::Summary, "text"))
        .await?;
    assert!(saved.id.starts_with("doc_") && saved.id.len() == 16, "{}", saved.id);
    assert_eq!(
        (saved.status, saved.model.as_deref(), saved.metadata.as_ref()),
        (DocumentStatus::Completed, None, None)
    );
    assert!(saved.generated_at >= before);
    assert_eq!(db.experiment_documents().get(&saved.id).await?, Some(saved));
    Ok(())
});

parity!(document_reads_of_missing_are_none, |db| {
    seed_experiment(db, "exp_1").await?;
    db.experiment_documents()
        .save(&document(
            "doc_1",
            "exp_1",
            DocumentType::Summary,
            "s",
            "2025-01-01 00:00:00",
        ))
        .await?;
    let repo = db.experiment_documents();
    assert!(repo.get("doc_missing").await?.is_none());
    assert!(repo.get_by_type("exp_1", DocumentType::Prfaq).await?.is_none());
    assert!(repo.get_by_type("exp_2", DocumentType::Summary).await?.is_none());
    assert!(repo.get_markdown("exp_1", DocumentType::Prfaq).await?.is_none());
    assert!(repo.status("exp_1", DocumentType::ExecutiveSummary).await?.is_none());
    assert!(repo.list_summaries("exp_2").await?.is_empty());
    assert!(repo.existing_types("exp_2").await?.is_empty());
    Ok(())
});

parity!(document_save_again_replaces_fields_and_keeps_id, |db| {
    seed_experiment(db, "exp_1").await?;
    let mut first = document("doc_1", "exp_1", DocumentType::Summary, "v1", "2025-01-01 00:00:00");
    first.metadata = Some(json!({"tokens": 10}));
    first.error_message = Some("old".into());
    db.experiment_documents().save(&first).await?;
    let mut second = document("doc_2", "exp_1", DocumentType::Summary, "v2", "2025-01-02 00:00:00");
    second.model = None;
    second.status = DocumentStatus::Failed;
    let saved = db.experiment_documents().save(&second).await?;
    assert_eq!(saved.id, "doc_1", "the first id stays");
    assert_eq!(
        (
            saved.markdown_content.as_str(),
            saved.metadata.as_ref(),
            saved.model.as_deref()
        ),
        ("v2", None, None)
    );
    assert_eq!(
        (saved.status, saved.error_message.as_deref()),
        (DocumentStatus::Failed, None)
    );
    assert_eq!(saved.generated_at, ts("2025-01-02 00:00:00"));
    assert!(db.experiment_documents().get("doc_2").await?.is_none());
    assert_eq!(db.experiment_documents().list_summaries("exp_1").await?.len(), 1);
    Ok(())
});

parity!(document_missing_experiment_is_foreign_key, |db| {
    let err = db
        .experiment_documents()
        .save(&document(
            "doc_1",
            "exp_missing",
            DocumentType::Summary,
            "s",
            "2025-01-01 00:00:00",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKey, "{err}");
    let err = db
        .experiment_documents()
        .create_pending("exp_missing", DocumentType::Prfaq, None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKey, "{err}");
    Ok(())
});

parity!(document_id_taken_by_another_document_is_conflict, |db| {
    seed_experiment(db, "exp_1").await?;
    seed_experiment(db, "exp_2").await?;
    db.experiment_documents()
        .save(&document(
            "doc_1",
            "exp_1",
            DocumentType::Summary,
            "s",
            "2025-01-01 00:00:00",
        ))
        .await?;
    let err = db
        .experiment_documents()
        .save(&document(
            "doc_1",
            "exp_2",
            DocumentType::Summary,
            "s",
            "2025-01-01 00:00:00",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    Ok(())
});

parity!(document_summaries_and_types_in_byte_order_without_text, |db| {
    seed_experiment(db, "exp_1").await?;
    seed_experiment(db, "exp_2").await?;
    for (id, kind) in [
        ("doc_c", DocumentType::Summary),
        ("doc_a", DocumentType::Prfaq),
        ("doc_b", DocumentType::ExecutiveSummary),
    ] {
        let mut new = document(id, "exp_1", kind, "long markdown", "2025-01-01 00:00:00");
        new.metadata = Some(json!({"kind": kind.as_str()}));
        db.experiment_documents().save(&new).await?;
    }
    db.experiment_documents()
        .save(&document(
            "doc_z",
            "exp_2",
            DocumentType::Prfaq,
            "other",
            "2025-01-01 00:00:00",
        ))
        .await?;
    let summaries = db.experiment_documents().list_summaries("exp_1").await?;
    let listed: Vec<_> = summaries.iter().map(|s| (s.document_type, s.id.as_str())).collect();
    assert_eq!(
        listed,
        [
            (DocumentType::ExecutiveSummary, "doc_b"),
            (DocumentType::Prfaq, "doc_a"),
            (DocumentType::Summary, "doc_c"),
        ]
    );
    assert_eq!(summaries[1].metadata, Some(json!({"kind": "prfaq"})));
    assert_eq!(summaries[1].generated_at, ts("2025-01-01 00:00:00"));
    assert_eq!(summaries[1].model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(
        db.experiment_documents().existing_types("exp_1").await?,
        vec![
            DocumentType::ExecutiveSummary,
            DocumentType::Prfaq,
            DocumentType::Summary
        ]
    );
    assert_eq!(
        db.experiment_documents().existing_types("exp_2").await?,
        vec![DocumentType::Prfaq]
    );
    Ok(())
});

parity!(document_get_markdown_and_status, |db| {
    seed_experiment(db, "exp_1").await?;
    let text = "# Título\n\nLinha com \\ barra, 'aspas' e \"duplas\"\n\t• item";
    let mut new = document(
        "doc_1",
        "exp_1",
        DocumentType::ExecutiveSummary,
        text,
        "2025-01-01 00:00:00",
    );
    new.status = DocumentStatus::Generating;
    db.experiment_documents().save(&new).await?;
    assert_eq!(
        db.experiment_documents()
            .get_markdown("exp_1", DocumentType::ExecutiveSummary)
            .await?
            .as_deref(),
        Some(text)
    );
    assert_eq!(
        db.experiment_documents()
            .status("exp_1", DocumentType::ExecutiveSummary)
            .await?,
        Some(DocumentStatus::Generating)
    );
    Ok(())
});

parity!(document_create_pending_then_reset, |db| {
    seed_experiment(db, "exp_1").await?;
    let before = synthlab_db::model::now();
    let pending = db
        .experiment_documents()
        .create_pending("exp_1", DocumentType::Prfaq, Some("gpt-4o"))
        .await?;
    assert!(pending.id.starts_with("doc_"));
    assert_eq!(
        (
            pending.status,
            pending.markdown_content.as_str(),
            pending.model.as_deref()
        ),
        (DocumentStatus::Pending, "", Some("gpt-4o"))
    );
    assert!(pending.generated_at >= before && pending.metadata.is_none() && pending.error_message.is_none());
    // A finished document of that type is reset to pending, keeping its id.
    let mut done = document(
        "doc_x",
        "exp_1",
        DocumentType::Prfaq,
        "final text",
        "2025-01-01 00:00:00",
    );
    done.metadata = Some(json!({"a": 1}));
    done.error_message = Some("warning".into());
    db.experiment_documents().save(&done).await?;
    let reset = db
        .experiment_documents()
        .create_pending("exp_1", DocumentType::Prfaq, None)
        .await?;
    assert_eq!(reset.id, pending.id);
    assert_eq!(
        (reset.status, reset.markdown_content.as_str(), reset.model.as_deref()),
        (DocumentStatus::Pending, "", None)
    );
    assert!(reset.metadata.is_none() && reset.error_message.is_none());
    assert!(reset.generated_at > ts("2025-01-01 00:00:00"));
    assert_eq!(db.experiment_documents().get(&pending.id).await?, Some(reset));
    let err = db
        .experiment_documents()
        .create_pending("exp_1", DocumentType::Summary, Some("m\u{0}"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    Ok(())
});

parity!(document_update_status_sets_error_text_and_metadata, |db| {
    seed_experiment(db, "exp_1").await?;
    let mut new = document("doc_1", "exp_1", DocumentType::Summary, "draft", "2025-01-01 00:00:00");
    new.metadata = Some(json!({"v": 1}));
    new.status = DocumentStatus::Generating;
    db.experiment_documents().save(&new).await?;
    let repo = db.experiment_documents();
    // Failure: error message set, text, metadata and time kept.
    let mut failed = DocumentStatusUpdate::new(DocumentStatus::Failed);
    failed.error_message = Some("LLM timeout".into());
    let doc = repo.update_status("exp_1", DocumentType::Summary, &failed).await?;
    assert_eq!(
        (doc.status, doc.error_message.as_deref()),
        (DocumentStatus::Failed, Some("LLM timeout"))
    );
    assert_eq!(
        (doc.markdown_content.as_str(), doc.metadata.clone()),
        ("draft", Some(json!({"v": 1})))
    );
    assert_eq!(doc.generated_at, ts("2025-01-01 00:00:00"));
    // Completion: new text (and generated_at), new metadata, error cleared.
    let update = DocumentStatusUpdate {
        status: DocumentStatus::Completed,
        error_message: None,
        markdown_content: Some("# Final".into()),
        metadata: Some(json!({"v": 2, "tokens": 9_007_199_254_740_993_u64, "cost": 0.1 + 0.2})),
    };
    let doc = repo.update_status("exp_1", DocumentType::Summary, &update).await?;
    assert_eq!(
        (doc.status, doc.error_message.as_deref()),
        (DocumentStatus::Completed, None)
    );
    assert_eq!(
        (doc.markdown_content.as_str(), doc.metadata.as_ref()),
        ("# Final", update.metadata.as_ref())
    );
    assert!(doc.generated_at > ts("2025-01-01 00:00:00"));
    assert_eq!(repo.get("doc_1").await?, Some(doc));
    Ok(())
});

parity!(document_update_status_of_missing_is_not_found, |db| {
    seed_experiment(db, "exp_1").await?;
    let update = DocumentStatusUpdate::new(DocumentStatus::Completed);
    let err = db
        .experiment_documents()
        .update_status("exp_1", DocumentType::Prfaq, &update)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let err = db
        .experiment_documents()
        .update_status("exp_missing", DocumentType::Prfaq, &update)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    Ok(())
});

parity!(document_delete_reports_whether_it_existed, |db| {
    seed_experiment(db, "exp_1").await?;
    for (id, kind) in [("doc_1", DocumentType::Summary), ("doc_2", DocumentType::Prfaq)] {
        db.experiment_documents()
            .save(&document(id, "exp_1", kind, "t", "2025-01-01 00:00:00"))
            .await?;
    }
    assert!(db.experiment_documents().delete("exp_1", DocumentType::Summary).await?);
    assert!(!db.experiment_documents().delete("exp_1", DocumentType::Summary).await?);
    assert!(!db.experiment_documents().delete("exp_9", DocumentType::Prfaq).await?);
    assert_eq!(
        db.experiment_documents().existing_types("exp_1").await?,
        vec![DocumentType::Prfaq]
    );
    Ok(())
});

parity!(document_deleting_the_experiment_row_cascades, |db| {
    seed_experiment(db, "exp_1").await?;
    seed_experiment(db, "exp_2").await?;
    for (id, exp, kind) in [
        ("doc_1", "exp_1", DocumentType::Summary),
        ("doc_2", "exp_1", DocumentType::Prfaq),
        ("doc_3", "exp_2", DocumentType::Summary),
    ] {
        db.experiment_documents()
            .save(&document(id, exp, kind, "t", "2025-01-01 00:00:00"))
            .await?;
    }
    db.raw(
        "DELETE FROM experiments WHERE id = 'exp_1';",
        "DELETE FROM experiments WHERE id = 'exp_1';",
    )
    .await?;
    assert!(db.experiment_documents().get("doc_1").await?.is_none());
    assert!(db.experiment_documents().get("doc_2").await?.is_none());
    assert!(db.experiment_documents().list_summaries("exp_1").await?.is_empty());
    assert!(db.experiment_documents().get("doc_3").await?.is_some());
    Ok(())
});

parity!(document_soft_deleted_experiment_keeps_its_documents, |db| {
    seed_experiment(db, "exp_1").await?;
    db.experiment_documents()
        .save(&document(
            "doc_1",
            "exp_1",
            DocumentType::Summary,
            "t",
            "2025-01-01 00:00:00",
        ))
        .await?;
    db.experiments().soft_delete("exp_1").await?;
    assert!(db.experiment_documents().get("doc_1").await?.is_some());
    Ok(())
});

parity!(document_nul_character_is_invalid_input, |db| {
    seed_experiment(db, "exp_1").await?;
    let bad = document(
        "doc_1",
        "exp_1",
        DocumentType::Summary,
        "a\u{0}b",
        "2025-01-01 00:00:00",
    );
    let err = db.experiment_documents().save(&bad).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    db.experiment_documents()
        .save(&document(
            "doc_1",
            "exp_1",
            DocumentType::Summary,
            "ok",
            "2025-01-01 00:00:00",
        ))
        .await?;
    let mut update = DocumentStatusUpdate::new(DocumentStatus::Failed);
    update.error_message = Some("\u{0}".into());
    let err = db
        .experiment_documents()
        .update_status("exp_1", DocumentType::Summary, &update)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(
        db.experiment_documents().status("exp_1", DocumentType::Summary).await?,
        Some(DocumentStatus::Completed)
    );
    Ok(())
});

parity!(document_reads_legacy_rows, |db| {
    seed_experiment(db, "exp_1").await?;
    // Legacy rows: schema defaults for model and status, SQLite's datetime('now') shape.
    db.raw(
        "INSERT INTO experiment_documents (id, experiment_id, document_type, markdown_content, generated_at)
         VALUES ('doc_legacy', 'exp_1', 'summary', '# Old', '2025-02-03 04:05:06');",
        "INSERT INTO experiment_documents (id, experiment_id, document_type, markdown_content, generated_at)
         VALUES ('doc_legacy', 'exp_1', 'summary', '# Old', '2025-02-03 04:05:06+00');",
    )
    .await?;
    let doc = db.experiment_documents().get("doc_legacy").await?.expect("exists");
    assert_eq!(doc.generated_at, ts("2025-02-03T04:05:06Z"));
    assert_eq!(
        (doc.model.as_deref(), doc.status),
        (Some("gpt-4o-mini"), DocumentStatus::Completed)
    );
    assert_eq!(doc.metadata, None);
    Ok(())
});
