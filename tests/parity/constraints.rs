//! A refused write names the constraint that refused it, by the same name on both backends
//! (PostgreSQL's: `<table>_pkey`, `<table>_<columns>_key`, `<table>_<columns>_fkey`,
//! `<table>_<column>_check`).

use serde_json::json;
use synthlab_db::model::{ExplorationChanges, NewAnalysisRun, NewExploration, NewSynth, NewSynthGroup};
use synthlab_db::{Error, ErrorKind};

use crate::support::experiment;

fn named(err: &Error) -> (ErrorKind, Option<&str>) {
    (err.kind(), err.constraint())
}

parity!(constraint_violations_name_the_same_constraint_on_both_backends, |db| {
    let exp = experiment("exp_1", "A", "2025-01-01 00:00:00");
    db.experiments().create(&exp).await?;
    let err = db.experiments().create(&exp).await.unwrap_err();
    assert_eq!(named(&err), (ErrorKind::Conflict, Some("experiments_pkey")), "{err}");

    let analysis = db.analyses().create(&NewAnalysisRun::new("exp_1", json!({}))).await?;
    let err = db
        .analyses()
        .create(&NewAnalysisRun::new("exp_1", json!({})))
        .await
        .unwrap_err();
    assert_eq!(
        named(&err),
        (ErrorKind::Conflict, Some("analysis_runs_experiment_id_key")),
        "{err}"
    );

    let err = db
        .experiments()
        .create(&experiment("exp_2", &"n".repeat(101), "2025-01-01 00:00:00"))
        .await
        .unwrap_err();
    assert_eq!(named(&err), (ErrorKind::Check, Some("experiments_name_check")), "{err}");

    // A table with two foreign keys: each failure names its own.
    let no_analysis = NewExploration::new("exp_1", "ana_missing", json!({}), json!({}));
    let err = db.explorations().create(&no_analysis).await.unwrap_err();
    assert_eq!(
        named(&err),
        (ErrorKind::ForeignKey, Some("explorations_baseline_analysis_id_fkey")),
        "{err}"
    );
    let no_experiment = NewExploration::new("exp_missing", &analysis.id, json!({}), json!({}));
    let err = db.explorations().create(&no_experiment).await.unwrap_err();
    assert_eq!(
        named(&err),
        (ErrorKind::ForeignKey, Some("explorations_experiment_id_fkey")),
        "{err}"
    );

    // The parent side: deleting a group its synths still reference.
    let group = db.synth_groups().create(&NewSynthGroup::new("G")).await?;
    let mut synth = NewSynth::new("Ana");
    synth.synth_group_id = Some(group.id.clone());
    db.synths().create(&synth).await?;
    let err = db.synth_groups().delete(&group.id).await.unwrap_err();
    assert_eq!(
        named(&err),
        (ErrorKind::ForeignKey, Some("synths_synth_group_id_fkey")),
        "{err}"
    );

    // A CHECK broken by an update, and inside a unit of work.
    let exploration = db
        .explorations()
        .create(&NewExploration::new("exp_1", &analysis.id, json!({}), json!({})))
        .await?;
    let changes = ExplorationChanges {
        best_success_rate: Some(1.5),
        ..Default::default()
    };
    let err = db.explorations().update(&exploration.id, &changes).await.unwrap_err();
    assert_eq!(
        named(&err),
        (ErrorKind::Check, Some("explorations_best_success_rate_check")),
        "{err}"
    );
    let err = db
        .transaction(async |tx| tx.experiments().create(&exp).await.map(|_| ()))
        .await
        .unwrap_err();
    assert_eq!(named(&err), (ErrorKind::Conflict, Some("experiments_pkey")), "{err}");
    Ok(())
});
