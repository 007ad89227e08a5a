//! Units of work: several repository calls in one transaction, on either backend.

use synthlab_db::model::{ExperimentChanges, PageRequest};
use synthlab_db::{ErrorKind, Store};

use crate::support::experiment;

parity!(uow_commits_all_writes_on_success, |db| {
    let created = db
        .transaction(async |tx| {
            tx.experiments()
                .create(&experiment("exp_1", "A", "2025-01-01 00:00:00"))
                .await?;
            tx.experiments()
                .create(&experiment("exp_2", "B", "2025-01-02 00:00:00"))
                .await?;
            // Reads inside the unit see its own writes.
            let seen = tx.experiments().get("exp_1").await?.is_some();
            Ok(seen)
        })
        .await?;
    assert!(created);
    assert_eq!(db.experiments().list(PageRequest::first(10)?).await?.total, 2);
    Ok(())
});

parity!(uow_third_write_failing_leaves_nothing, |db| {
    db.experiments()
        .create(&experiment("exp_0", "Existing", "2025-01-01 00:00:00"))
        .await?;
    let err = db
        .transaction(async |tx| {
            tx.experiments()
                .create(&experiment("exp_1", "A", "2025-01-02 00:00:00"))
                .await?;
            tx.experiments()
                .update(
                    "exp_0",
                    &ExperimentChanges {
                        name: Some("Renamed".into()),
                        ..Default::default()
                    },
                )
                .await?;
            tx.experiments()
                .create(&experiment("exp_0", "Duplicate", "2025-01-03 00:00:00"))
                .await?;
            Ok(())
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(db.experiments().get("exp_1").await?.is_none());
    assert_eq!(db.experiments().get("exp_0").await?.expect("kept").name, "Existing");
    Ok(())
});

parity!(uow_swallowed_error_still_rolls_back, |db| {
    let err = db
        .transaction(async |tx| {
            tx.experiments()
                .create(&experiment("exp_1", "A", "2025-01-02 00:00:00"))
                .await?;
            let failed = tx
                .experiments()
                .create(&experiment("exp_1", "again", "2025-01-02 00:00:00"))
                .await;
            assert_eq!(failed.unwrap_err().kind(), ErrorKind::Conflict);
            // The unit is aborted: later calls fail alike on both backends.
            let after = tx.experiments().get("exp_1").await;
            assert!(after.is_err());
            Ok(())
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Other, "{err}");
    assert!(db.experiments().get("exp_1").await?.is_none());
    Ok(())
});

parity!(uow_nested_is_refused, |db| {
    let err = db
        .transaction(async |tx| {
            tx.transaction(async |_inner| Ok(())).await?;
            Ok(())
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(!db.in_transaction());
    Ok(())
});

parity!(uow_store_is_usable_after_rollback, |db| {
    let _ = db
        .transaction(async |tx| {
            tx.experiments()
                .create(&experiment("exp_1", "A", "2025-01-02 00:00:00"))
                .await?;
            Err::<(), _>(synthlab_db::Error::invalid_input("caller changed its mind"))
        })
        .await;
    db.experiments()
        .create(&experiment("exp_2", "B", "2025-01-02 00:00:00"))
        .await?;
    let page = db.experiments().list(PageRequest::first(10)?).await?;
    assert_eq!(page.items.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["exp_2"]);
    Ok(())
});

parity!(uow_experiment_guide_analysis_atomic_third_fails_on_foreign_key, |db| {
    use synthlab_db::model::{InterviewGuideFields, NewAnalysisRun};
    let err = db
        .transaction(async |tx| {
            tx.experiments()
                .create(&experiment("exp_1", "A", "2025-01-02 00:00:00"))
                .await?;
            let guide = InterviewGuideFields {
                questions: Some("Q1?".into()),
                ..Default::default()
            };
            tx.interview_guides().create("exp_1", &guide).await?;
            // The third write names an experiment that does not exist.
            tx.analyses()
                .create(&NewAnalysisRun::new("exp_missing", serde_json::json!({})))
                .await?;
            Ok(())
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKey, "{err}");
    assert!(db.experiments().get("exp_1").await?.is_none());
    assert!(!db.interview_guides().exists("exp_1").await?);
    assert_eq!(
        db.table_counts().await?.iter().map(|(_, n)| n).sum::<i64>(),
        1,
        "only the default group remains"
    );
    Ok(())
});

parity!(uow_experiment_guide_analysis_commit_together, |db| {
    use synthlab_db::model::{InterviewGuideFields, NewAnalysisRun};
    let analysis_id = db
        .transaction(async |tx| {
            tx.experiments()
                .create(&experiment("exp_1", "A", "2025-01-02 00:00:00"))
                .await?;
            tx.interview_guides()
                .create("exp_1", &InterviewGuideFields::default())
                .await?;
            let run = tx
                .analyses()
                .create(&NewAnalysisRun::new("exp_1", serde_json::json!({"n": 1})))
                .await?;
            Ok(run.id)
        })
        .await?;
    let summary = db.experiments().list(PageRequest::first(10)?).await?.items.remove(0);
    assert!(summary.has_analysis && summary.has_interview_guide);
    assert_eq!(
        db.analyses().get_by_experiment("exp_1").await?.map(|a| a.id),
        Some(analysis_id)
    );
    Ok(())
});

/// After a unit that ended badly, the next one runs and commits.
async fn next_unit_commits(db: &Store) -> synthlab_db::Result<()> {
    db.transaction(async |tx| {
        tx.experiments()
            .create(&experiment("exp_2", "B", "2025-01-03 00:00:00"))
            .await?;
        Ok(())
    })
    .await?;
    assert!(db.experiments().get("exp_2").await?.is_some(), "the next unit commits");
    Ok(())
}

parity!(uow_panic_inside_commits_nothing_and_the_next_unit_works, |db| {
    use futures_util::FutureExt;
    let unit = db.transaction(async |tx| {
        let created = tx
            .experiments()
            .create(&experiment("exp_1", "A", "2025-01-02 00:00:00"))
            .await?;
        if created.id == "exp_1" {
            panic!("the work panics after its first write");
        }
        Ok(())
    });
    let outcome = std::panic::AssertUnwindSafe(unit).catch_unwind().await;
    assert!(outcome.is_err(), "the panic reaches the caller");
    assert!(!db.in_transaction());
    assert!(db.experiments().get("exp_1").await?.is_none(), "nothing committed");
    next_unit_commits(db).await?;
    Ok(())
});

parity!(uow_dropped_mid_way_commits_nothing_and_the_next_unit_works, |db| {
    let (reached, parked) = tokio::sync::oneshot::channel::<()>();
    let unit = db.transaction(async |tx| {
        tx.experiments()
            .create(&experiment("exp_1", "A", "2025-01-02 00:00:00"))
            .await?;
        let _ = reached.send(());
        std::future::pending::<()>().await;
        Ok(())
    });
    tokio::select! {
        _ = unit => panic!("the unit cannot finish: it waits forever after its first write"),
        // The unit future is dropped here, parked after its first write.
        _ = parked => {}
    }
    assert!(db.experiments().get("exp_1").await?.is_none(), "nothing committed");
    next_unit_commits(db).await?;
    assert!(db.experiments().get("exp_1").await?.is_none());
    Ok(())
});
