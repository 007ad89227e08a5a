//! InterviewGuideRepository parity cases.

use synthlab_db::ErrorKind;
use synthlab_db::model::{InterviewGuideFields, now};

use crate::support::experiment;

fn fields(context: &str, questions: &str, examples: Option<&str>) -> InterviewGuideFields {
    InterviewGuideFields {
        context_definition: Some(context.to_owned()),
        questions: Some(questions.to_owned()),
        context_examples: examples.map(str::to_owned),
    }
}

parity!(interview_guide_create_get_exists_round_trip, |db| {
    db.experiments()
        .create(&experiment("exp_1", "A", "2025-01-01 00:00:00"))
        .await?;
    let repo = db.interview_guides();
    assert!(!repo.exists("exp_1").await?);
    assert!(repo.get("exp_1").await?.is_none());
    let before = now();
    let created = repo
        .create(
            "exp_1",
            &fields("Contexto: compra com cartão 💳", "1. Por quê?\n2. Como?", None),
        )
        .await?;
    assert_eq!(created.experiment_id, "exp_1");
    assert_eq!(
        created.context_definition.as_deref(),
        Some("Contexto: compra com cartão 💳")
    );
    assert_eq!(created.questions.as_deref(), Some("1. Por quê?\n2. Como?"));
    assert_eq!(created.context_examples, None);
    assert!(created.created_at >= before);
    assert_eq!(created.created_at.timestamp_subsec_nanos() % 1000, 0, "microseconds");
    assert_eq!(created.updated_at, None);
    assert_eq!(repo.get("exp_1").await?.expect("exists"), created);
    assert!(repo.exists("exp_1").await?);
    assert!(!repo.exists("exp_other").await?);
    Ok(())
});

parity!(interview_guide_second_create_is_conflict, |db| {
    db.experiments()
        .create(&experiment("exp_1", "A", "2025-01-01 00:00:00"))
        .await?;
    let repo = db.interview_guides();
    let first = repo.create("exp_1", &fields("c", "q", Some("e"))).await?;
    let err = repo.create("exp_1", &fields("c2", "q2", None)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert_eq!(repo.get("exp_1").await?.expect("kept"), first);
    Ok(())
});

parity!(interview_guide_create_for_missing_experiment_is_foreign_key, |db| {
    let repo = db.interview_guides();
    let err = repo.create("exp_missing", &fields("c", "q", None)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKey, "{err}");
    assert!(!repo.exists("exp_missing").await?);
    Ok(())
});

parity!(interview_guide_update_changes_only_given_fields, |db| {
    db.experiments()
        .create(&experiment("exp_1", "A", "2025-01-01 00:00:00"))
        .await?;
    let repo = db.interview_guides();
    let created = repo.create("exp_1", &fields("ctx", "q1", Some("ex"))).await?;
    let updated = repo
        .update(
            "exp_1",
            &InterviewGuideFields {
                questions: Some("q2 — revisadas".into()),
                ..Default::default()
            },
        )
        .await?;
    assert_eq!(updated.questions.as_deref(), Some("q2 — revisadas"));
    assert_eq!(updated.context_definition.as_deref(), Some("ctx"));
    assert_eq!(updated.context_examples.as_deref(), Some("ex"));
    assert_eq!(updated.created_at, created.created_at);
    let touched = updated.updated_at.expect("updated_at set");
    assert!(touched >= created.created_at);
    // Nothing given: values stay, updated_at moves on.
    let again = repo.update("exp_1", &InterviewGuideFields::default()).await?;
    assert_eq!(
        (&again.context_definition, &again.questions, &again.context_examples),
        (
            &updated.context_definition,
            &updated.questions,
            &updated.context_examples
        )
    );
    assert!(again.updated_at.expect("set") >= touched);
    assert_eq!(repo.get("exp_1").await?.expect("exists"), again);
    Ok(())
});

parity!(interview_guide_update_missing_is_not_found, |db| {
    db.experiments()
        .create(&experiment("exp_1", "A", "2025-01-01 00:00:00"))
        .await?;
    let repo = db.interview_guides();
    for id in ["exp_1", "exp_missing"] {
        let err = repo.update(id, &fields("c", "q", None)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{id}: {err}");
    }
    assert!(!repo.exists("exp_1").await?);
    Ok(())
});

parity!(interview_guide_delete_reports_whether_removed, |db| {
    db.experiments()
        .create(&experiment("exp_1", "A", "2025-01-01 00:00:00"))
        .await?;
    let repo = db.interview_guides();
    repo.create("exp_1", &fields("c", "q", None)).await?;
    assert!(repo.delete("exp_1").await?);
    assert!(!repo.exists("exp_1").await?);
    assert!(repo.get("exp_1").await?.is_none());
    assert!(!repo.delete("exp_1").await?);
    assert!(!repo.delete("exp_missing").await?);
    // The experiment itself is untouched.
    assert!(db.experiments().get("exp_1").await?.is_some());
    Ok(())
});

parity!(interview_guide_cascades_when_experiment_row_is_deleted, |db| {
    db.experiments()
        .create(&experiment("exp_1", "A", "2025-01-01 00:00:00"))
        .await?;
    db.experiments()
        .create(&experiment("exp_2", "B", "2025-01-01 00:00:00"))
        .await?;
    let repo = db.interview_guides();
    repo.create("exp_1", &fields("c", "q", None)).await?;
    repo.create("exp_2", &fields("c", "q", None)).await?;
    // Hard delete beneath the repositories: ON DELETE CASCADE must fire on both backends.
    db.raw(
        "DELETE FROM experiments WHERE id = 'exp_1';",
        "DELETE FROM experiments WHERE id = 'exp_1';",
    )
    .await?;
    assert!(!repo.exists("exp_1").await?);
    assert!(repo.exists("exp_2").await?);
    Ok(())
});
